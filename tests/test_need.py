"""tools/need: a missing system package installs itself (root + apt-get) or one line says how."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

NEED = Path(__file__).resolve().parents[1] / "tools" / "need"


def need(*things, env=None, path_prefix=None):
    environ = {**os.environ, **(env or {})}
    if path_prefix:
        environ["PATH"] = f"{path_prefix}:{environ['PATH']}"
    return subprocess.run([str(NEED), *things], capture_output=True, text=True, env=environ)


def test_a_present_package_is_silent():
    result = need("chromium", env={"CHROMIUM": "/bin/sh"})  # any executable will do
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def test_a_wrong_chromium_path_is_one_line():
    result = need("chromium", env={"CHROMIUM": "/nonexistent/chrome"})
    assert result.returncode == 1 and not result.stderr
    assert result.stdout.count("\n") == 1 and "CHROMIUM=/nonexistent/chrome" in result.stdout


def fake_path(tmp_path, uid):
    """A PATH with only a fake `id` (and `apt-get`): no poppler, no node, no TeX on it."""
    fake = tmp_path / "bin"
    fake.mkdir()
    for name, body in (("id", f"echo {uid}"), ("apt-get", "echo apt-get $* >> apt.log")):
        (fake / name).write_text(f"#!/bin/bash\n{body}\n")
        (fake / name).chmod(0o755)
    return str(fake)


def test_missing_and_not_root_says_what_to_install_in_one_line(tmp_path):
    result = subprocess.run(["/bin/bash", str(NEED), "poppler", "npm"], capture_output=True,
                            text=True, env={"PATH": fake_path(tmp_path, 1000)}, cwd=tmp_path)
    assert result.returncode == 1 and not result.stderr
    assert result.stdout.splitlines() == [
        "tools/need: poppler is missing: run 'sudo apt-get install -y poppler-utils' "
        "(Debian/Ubuntu), then try again.",
        "tools/need: npm is missing: run 'sudo apt-get install -y nodejs npm' "
        "(Debian/Ubuntu), then try again."]
    assert not (tmp_path / "apt.log").exists()


def test_missing_as_root_installs_with_apt_get(tmp_path):
    result = subprocess.run(["/bin/bash", str(NEED), "poppler"], capture_output=True,
                            text=True, env={"PATH": fake_path(tmp_path, 0)}, cwd=tmp_path)
    # the fake apt-get installs nothing, so the package is still missing afterwards
    assert result.returncode == 1 and not result.stderr
    assert "installing Debian package(s): poppler-utils" in result.stdout
    assert "could not install poppler-utils" in result.stdout
    log = (tmp_path / "apt.log").read_text()
    assert "install -y -q --no-install-recommends poppler-utils" in log


def test_never_installs_when_told_not_to():
    result = need("chromium", env={"CHROMIUM": "", "NEED_INSTALL": "0"},
                  path_prefix="/nonexistent")
    if Path("/usr/bin/chromium").exists():
        assert result.returncode == 0
    else:
        assert result.returncode == 1 and "sudo apt-get install -y chromium" in result.stdout


def test_an_unknown_thing_is_an_error():
    result = need("photoshop")
    assert result.returncode == 2 and "unknown thing 'photoshop'" in result.stderr
