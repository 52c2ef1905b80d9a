"""`make publish` (tools/publish.py): the site lands on gh-pages of a (local, bare) remote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUBLISH = [sys.executable, str(ROOT / "tools" / "publish.py")]


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
                               "PATH": "/usr/bin:/bin", "HOME": str(cwd)}).stdout


def project(tmp_path):
    work = tmp_path / "work"
    (work / "site" / "_static").mkdir(parents=True)
    (work / "site" / "index.html").write_text("<h1>From SGD to Adam</h1>")
    (work / "site" / "_static" / "book.css").write_text("body {}")
    git("init", "-q", "-b", "main", cwd=work)
    git("commit", "-q", "--allow-empty", "-m", "a book", cwd=work)
    bare = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=work)
    return work, bare


def run(args, cwd):
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(PUBLISH + args, cwd=cwd, capture_output=True, text=True, env=env)


def test_publish_pushes_the_site_with_nojekyll_to_gh_pages(tmp_path):
    work, bare = project(tmp_path)
    result = run(["site"], work)
    assert result.returncode == 0, result.stdout + result.stderr
    files = git("ls-tree", "-r", "--name-only", "gh-pages", cwd=bare).split()
    assert sorted(files) == [".nojekyll", "_static/book.css", "index.html"]
    assert "From SGD to Adam" in git("show", "gh-pages:index.html", cwd=bare)
    assert git("branch", "--list", cwd=bare).split() == ["gh-pages"]  # main was not pushed


def test_publish_to_another_remote_by_path(tmp_path):
    work, _ = project(tmp_path)
    other = tmp_path / "other.git"
    git("init", "-q", "--bare", str(other), cwd=tmp_path)
    assert run(["site", "--remote", str(other)], work).returncode == 0
    assert "index.html" in git("ls-tree", "--name-only", "gh-pages", cwd=other)


def test_publish_without_a_site_or_a_remote_fails_in_one_line(tmp_path):
    work, _ = project(tmp_path)
    no_site = run(["missing"], work)
    assert no_site.returncode == 1
    assert no_site.stdout.strip().splitlines() == [
        "publish: no built site in missing: run 'make book' first"]
    no_remote = run(["site", "--remote", "upstream"], work)
    assert no_remote.returncode == 1 and len(no_remote.stdout.strip().splitlines()) == 1
    assert "no git remote 'upstream'" in no_remote.stdout and not no_remote.stderr
