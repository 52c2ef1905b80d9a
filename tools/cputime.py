"""`python3 tools/cputime.py OUT COMMAND ...`: run COMMAND, then write "WALL USER SYS" (seconds)
to the file OUT, counting the CPU time of every process COMMAND started.

The shell's `time` counts only the processes their parents waited for: Chromium's helper
processes are not (a page of the site check used 12 s of CPU in them, of which `time` saw 4).
Here this process becomes the "child subreaper" of everything COMMAND starts (Linux
prctl(PR_SET_CHILD_SUBREAPER)): a process whose parent is gone is handed to it instead of to
init, and it reaps them all, so that their CPU time adds up in its RUSAGE_CHILDREN. Exit status:
COMMAND's. Processes still running GRACE seconds after COMMAND ended are left alone (and
reported): a check should not leave any behind.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
GRACE = 10.0


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    out, command = argv[0], argv[1:]
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    start = time.monotonic()
    code = subprocess.call(command)
    wall = time.monotonic() - start
    deadline = time.monotonic() + GRACE
    left = 0
    while True:  # the orphans handed to us
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if time.monotonic() > deadline:
                left = sum(1 for p in os.listdir("/proc")
                           if p.isdigit() and _parent(p) == os.getpid())
                break
            time.sleep(0.05)
    if left:
        print(f"cputime: {left} process(es) still running {GRACE:.0f} s after the command "
              "ended; their CPU time is not counted", file=sys.stderr)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        f.write(f"{wall:.1f} {usage.ru_utime:.1f} {usage.ru_stime:.1f}\n")
    return code


def _parent(pid: str) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
