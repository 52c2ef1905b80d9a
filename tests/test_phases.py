"""tools/phases.sh and tools/cputime.py: the timed phases and lanes of make test and make
check-all, on a tiny Makefile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A process that leaves an orphan behind: the orphan burns CPU after its parent is gone, as
# Chromium's helper processes do, so that only a subreaper can count it.
ORPHAN = """
import os, sys, time
if os.fork() == 0:
    if os.fork() == 0:  # the grandchild: its parent exits at once
        t = time.process_time()
        while time.process_time() - t < 0.4:
            pass
        os._exit(0)
    os._exit(0)
os.wait()
"""


def test_cputime_counts_the_cpu_of_orphaned_grandchildren(tmp_path):
    out = tmp_path / "times"
    code = subprocess.call([sys.executable, str(ROOT / "tools" / "cputime.py"), str(out),
                            sys.executable, "-c", ORPHAN])
    assert code == 0
    wall, user, system = map(float, out.read_text().split())
    # the grandchild's 0.4 s, spent after the command itself ended (wall: the command's own)
    assert user + system >= 0.35  # bash's time would see ~0.05 s
    assert wall >= 0
    code = subprocess.call([sys.executable, str(ROOT / "tools" / "cputime.py"), str(out),
                            sys.executable, "-c", "raise SystemExit(3)"])
    assert code == 3


MAKEFILE = """SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PHASES = MAKE_CMD="$(MAKE) --no-print-directory -f {mk}"; source {root}/tools/phases.sh
all:
\t@$(PHASES); phase ok || fail all; lanes "ok second" "bad never" || fail all; echo not reached
good:
\t@$(PHASES); lanes "ok" "second" || fail good; echo "all good"
waits:
\t@$(PHASES); lanes "ok @slow after" "slow" || fail waits; echo "waited"
waits-in-vain:
\t@$(PHASES); lanes "ok @slow after" "bad slow" || fail waits-in-vain
slow:
\t@sleep 2; touch {mk}.slow; echo slow done
after:
\t@test -e {mk}.slow && echo after slow
ok:
\t@echo fine
second:
\t@echo second
bad:
\t@echo about to fail; false
never:
\t@echo never runs
"""


def make(tmp_path, target):
    mk = tmp_path / "test.mk"
    mk.write_text(MAKEFILE.format(mk=mk, root=ROOT))
    return subprocess.run(["make", "-s", "-f", str(mk), target], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)  # a lane waiting forever fails


def test_lanes_run_side_by_side_and_a_failing_lane_fails_the_target(tmp_path):
    done = make(tmp_path, "all")
    out = done.stdout
    assert done.returncode != 0
    assert "==> make ok: passed in" in out and "(CPU " in out
    assert "==> make second: passed" in out           # the other lane went on to the end
    assert "==> make bad: FAILED after" in out
    assert "never runs" not in out                    # a lane stops at its first failure
    assert "lane [ok second]: passed in" in out and "lane [bad never]: FAILED" in out
    assert "==> make all: FAILED" in out and "not reached" not in out
    # each lane's output comes in one piece, the first lane's first
    assert out.index("==> make second") < out.index("==> make bad")


def test_lanes_that_pass_let_the_target_go_on(tmp_path):
    done = make(tmp_path, "good")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all good" in done.stdout


def test_an_at_item_waits_for_the_other_lanes_phase(tmp_path):
    done = make(tmp_path, "waits")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "after slow" in done.stdout and "waited" in done.stdout
    assert "s for make slow in the other lane" in done.stdout
    # the phase waited for never passes: the waiting lane fails instead of hanging
    done = make(tmp_path, "waits-in-vain")
    assert done.returncode != 0
    assert "waited for make slow in the other lane: it did not pass" in done.stdout
    assert "after slow" not in done.stdout
