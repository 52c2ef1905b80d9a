"""Publish the built site: `python tools/publish.py _build/html --remote origin`.

Pushes the site to the gh-pages branch of the remote with ghp-import (its own commit on that
branch; your working tree and branches are not touched), with a .nojekyll file so that
GitHub Pages serves the _static/ folder. Fails in one line when there is no built site or no
such remote. `make publish` runs it (REMOTE=name-or-url to publish elsewhere).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def fail(message: str) -> int:
    print(f"publish: {message}")
    return 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--remote", default="origin")
    parser.add_argument("--branch", default="gh-pages")
    args = parser.parse_args(argv)

    if not (args.site / "index.html").is_file():
        return fail(f"no built site in {args.site}: run 'make book' first")
    remotes = subprocess.run(["git", "remote"], capture_output=True, text=True).stdout.split()
    if args.remote not in remotes:
        probe = subprocess.run(["git", "ls-remote", "--exit-code", "--heads", args.remote],
                               capture_output=True, text=True)
        if probe.returncode not in (0, 2):  # 2: a reachable repository without branches
            return fail(f"no git remote {args.remote!r} (git remote add {args.remote} URL, "
                        "or REMOTE=name-or-url)")
    message = "Publish the book: " + subprocess.run(
        ["git", "log", "-1", "--format=%h %s"], capture_output=True, text=True).stdout.strip()
    command = [sys.executable, "-m", "ghp_import", "--no-jekyll", "--push", "--force",
               "--remote", args.remote, "--branch", args.branch, "--message", message,
               str(args.site)]
    result = subprocess.run(command)
    if result.returncode != 0:
        return fail(f"ghp-import could not push to {args.remote} (exit {result.returncode})")
    print(f"publish: {args.site} is on the {args.branch} branch of {args.remote}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
