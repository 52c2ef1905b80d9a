"""Mutation testing of adam_course: `python tools/mutate.py [--jobs N] [--report] [MODULE ...]`.

`make mutate` runs it (`make mutate MODULES=adam_course/optim.py` for one module). For each
module (default: DEFAULT_MODULES) it runs mutmut (pinned in requirements-test.txt; its settings
are `[tool.mutmut]` in pyproject.toml): every mutant is one small bug planted in one function --
an operator swapped, a number off by one, an argument dropped or made None, a string changed --
and the unit tests that call that function (mutmut records which, once) run against it. A mutant
the tests fail on is killed; one they pass on survived: a bug the tests would not see.

It then prints, per module, every survivor (file:line, the line before and after the mutation)
and a summary: mutants, killed, survived, timeouts, and the wall time of the module's run.
Survivors come in three kinds:

- unexplained: listed; each needs a test that kills it, or a note;
- noted: the same mutation is explained in tests/MUTATION_NOTES.md (an equivalent mutant, or
  one no test can see); counted, listed with --all;
- wording: only the text of an error message changed (a string literal inside a
  ``checks.fail(...)``, a ``raise`` or a checker's ``Stop(...)``); a test could only pin it by
  copying it (tests/MUTATION_NOTES.md); counted, listed with --all.

A note that matches no mutant of a module just run, or matches one that was killed, is reported
as stale. The exit status is 1 if any survivor is unexplained or a note is stale.

The mutants live in mutants/ (git-ignored): mutants/<module>.log is the last run's output.
`--report` prints the report of the last run without running anything.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "tests" / "MUTATION_NOTES.md"
EXERCISES = [  # the package adam_course.exercises: its engine and one module per chapter
    "adam_course/exercises/engine.py", "adam_course/exercises/ch1_gradient_descent.py",
    "adam_course/exercises/ch2_sgd.py", "adam_course/exercises/ch3_momentum.py",
    "adam_course/exercises/ch4_adagrad_rmsprop.py", "adam_course/exercises/ch5_adam.py",
    "adam_course/exercises/ch6_bias_correction.py",
    "adam_course/exercises/ch7_adam_on_a_network.py", "adam_course/exercises/ch8_beyond_adam.py",
]
DEFAULT_MODULES = [
    "adam_course/optim.py", *EXERCISES, "adam_course/checks.py",
    "adam_course/rates.py", "adam_course/sweeps.py", "adam_course/hump.py",
    "adam_course/moments.py", "adam_course/playground.py", "adam_course/landscapes.py",
    "adam_course/data.py", "adam_course/nn.py", "adam_course/catalog.py",
    "adam_course/picture.py", "adam_course/plotting.py",
]
KILLED = {1, 3}
TIMEOUT = {-24, 24, 152, 255, 36}
# calls whose string arguments are the text of an error message
MESSAGE_CALLS = {"Stop", "ValueError", "TypeError", "warn"}


@dataclass
class Mutant:
    name: str
    module: str
    function: str
    status: str
    line: int = 0
    col: int = 0
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    kind: str = ""  # for a survivor: unexplained, noted or wording


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="e.g. adam_course/optim.py (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run side by side")
    parser.add_argument("--report", action="store_true", help="report the last run only")
    parser.add_argument("--all", action="store_true", help="also list noted and wording ones")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    allowed = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    modules = args.modules or DEFAULT_MODULES
    for module in modules:
        if module not in allowed:
            sys.exit(f"mutate: {module} is not in [tool.mutmut] only_mutate of pyproject.toml")
    walls = {}
    if not args.report:
        for module in modules:
            walls[module] = run(module, args.jobs)
    return report(modules, walls, show_all=args.all)


# --------------------------------------------------------------------------------------------
# Running mutmut
# --------------------------------------------------------------------------------------------

def run(module, jobs):
    """Run mutmut on every mutant of ``module``; return the wall time in seconds."""
    pattern = module.removesuffix(".py").replace("/", ".") + ".*"
    log = Path("mutants") / (Path(module).stem + ".log")
    log.parent.mkdir(exist_ok=True)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    print(f"==> mutmut run {pattern} (log: {log})", flush=True)
    start = time.monotonic()
    with open(log, "w") as out:
        mutmut = Path(sys.executable).parent / "mutmut"  # not -m mutmut: mutmut warns
        proc = subprocess.Popen([mutmut, "run", "--max-children", str(jobs), pattern],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        last, shown = start, None
        for raw in iter(lambda: proc.stdout.readline(), b""):
            for line in raw.decode(errors="replace").split("\r"):
                text = line.strip().lstrip("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
                if text == shown:  # mutmut's spinner redraws the same line
                    continue
                shown = text
                out.write(text + "\n")
                if re.match(r"\d+/\d+ ", text):  # progress: once a minute
                    if time.monotonic() - last > 60:
                        print(f"    {text}", flush=True)
                        last = time.monotonic()
                elif text.startswith(("Running", "done", "failed", "Failed", "Stopping")):
                    print(f"    {text}", flush=True)
        proc.wait()
    wall = time.monotonic() - start
    if proc.returncode != 0:
        print(f"mutate: mutmut failed on {module} (exit {proc.returncode}); see {log}")
        sys.exit(1)
    return wall


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------

def status_of(exit_code):
    if exit_code in KILLED:
        return "killed"
    if exit_code == 0:
        return "survived"
    if exit_code in TIMEOUT:
        return "timeout"
    return {None: "not run", 33: "no tests", 5: "no tests", 34: "skipped"}.get(
        exit_code, "suspicious")


def load(module):
    meta = Path("mutants") / (module + ".meta")
    if not meta.exists():
        return None
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    prefix = module.removesuffix(".py").replace("/", ".") + "."
    mutants = []
    for name, code in codes.items():
        local = name[len(prefix):].rsplit("__mutmut_", 1)[0]     # x_f or xǁClassǁmethod
        function = local[2:].replace("ǁ", ".") if local.startswith("x_") else \
            ".".join(p for p in local[1:].split("ǁ") if p)
        mutants.append(Mutant(name, module, function, status_of(code)))
    return mutants


def locate(mutant, tree, source_lines):
    """Fill in mutant.line, before and after from mutmut's copy of the function."""
    from mutmut.mutation.diff_apply import read_functions_from_index

    functions = read_functions_from_index(mutant.name, mutant.module)
    if functions is None:
        return
    import libcst as cst

    orig, new = (cst.Module(body=[f.with_changes(leading_lines=[])]).code.splitlines()
                 for f in functions)
    node = _function_node(tree, mutant.function)
    def_index = next(i for i, text in enumerate(orig) if text.lstrip().startswith(
        ("def ", "async def ")))
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=orig, b=new, autojunk=False) \
            .get_opcodes():
        if tag != "equal":
            mutant.before = [t.strip() for t in orig[i1:i2]]
            mutant.after = [t.strip() for t in new[j1:j2]]
            mutant.line = (node.lineno + i1 - def_index) if node else 0
            if mutant.line and i1 < len(orig) and j1 < len(new):
                old, changed = orig[i1], new[j1]
                common = len(os.path.commonprefix([old, changed]))
                indent = len(old) - len(old.lstrip())
                in_source = source_lines[mutant.line - 1]
                mutant.col = (len(in_source) - len(in_source.lstrip())) + common - indent
            break


def _function_node(tree, dotted):
    *classes, name = dotted.split(".")
    body = tree.body
    for cls in classes:
        body = next((n.body for n in body if isinstance(n, ast.ClassDef) and n.name == cls), [])
    return next((n for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                 and n.name == name), None)


def message_spans(tree):
    """Where the wording of error messages is: ((line, col), (end_line, end_col)) spans.

    The rule of ``fail(what, value, rule)`` (its value and name are not wording: the message must
    show them), and every string literal inside ``Stop(...)``, ``ValueError(...)``, a ``raise``
    or a ``warn(...)``.
    """
    spans = []

    def add(node):
        spans.append(((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)))

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "fail":
                if len(node.args) >= 3:
                    add(node.args[2])
            elif name in MESSAGE_CALLS:
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                        add(inner)
        elif isinstance(node, ast.Raise) and node.exc is not None:
            for inner in ast.walk(node.exc):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    add(inner)
    return spans


def read_notes():
    """The mutations explained in tests/MUTATION_NOTES.md: {(module, function, -, +): title}.

    An entry is a heading ``### <module file> · <function>`` (``optim.py · sgd_update``,
    ``playground.py · Explorer.update``) followed by ```` ```diff ```` blocks, each with the
    line(s) before (``-``) and after (``+``) one mutation.
    """
    notes = {}
    if not NOTES.exists():
        return notes
    heading = None
    block = None
    for line in NOTES.read_text().splitlines():
        match = re.match(r"###\s+(\S+\.py)\s+·\s+(\S+)\s*$", line)
        if match:
            heading = ("adam_course/" + match.group(1), match.group(2))
        elif line.startswith("```diff"):
            block = ([], [])
        elif line.startswith("```") and block is not None:
            if heading:
                key = (*heading, tuple(block[0]), tuple(block[1]))
                notes[key] = f"{heading[0]} · {heading[1]}"
            block = None
        elif block is not None and line[:1] in "-+":
            block[0 if line[0] == "-" else 1].append(line[1:].strip())
    return notes


def report(modules, walls, show_all=False):
    notes = read_notes()
    used = {}
    rows, problems = [], 0
    for module in modules:
        mutants = load(module)
        if mutants is None:
            print(f"\n{module}: no results (run it first)")
            continue
        source = Path(module).read_text()
        tree = ast.parse(source)
        messages = message_spans(tree)
        for m in mutants:
            locate(m, tree, source.splitlines())
            key = (m.module, m.function, tuple(m.before), tuple(m.after))
            if key in notes:
                used[key] = m.status
            if m.status != "survived":
                continue
            if key in notes:
                m.kind = "noted"
            elif any(a <= (m.line, m.col) < b for a, b in messages):
                m.kind = "wording"
            else:
                m.kind = "unexplained"
        survivors = sorted((m for m in mutants if m.status == "survived"),
                           key=lambda m: (m.line, m.name))
        listed = [m for m in survivors if show_all or m.kind == "unexplained"]
        others = [m for m in mutants if m.status not in ("killed", "survived", "not run")]
        not_run = sum(m.status == "not run" for m in mutants)  # counted, not listed one by one
        print(f"\n{module}: {len(survivors)} survived"
              + (f", {len(listed)} listed" if listed != survivors else "")
              + (f", {not_run} not run (the run was interrupted?)" if not_run else ""))
        for m in listed + others:
            tag = m.kind if m.status == "survived" else m.status
            print(f"  {m.module}:{m.line} {m.function} [{tag}] ({m.name.rsplit('.', 1)[1]})")
            for text in m.before:
                print(f"      - {text}")
            for text in m.after:
                print(f"      + {text}")
        problems += sum(m.kind == "unexplained" for m in survivors)
        count = {s: sum(m.status == s for m in mutants)
                 for s in ("killed", "survived", "timeout")}
        count["other"] = len(mutants) - sum(count.values())
        kinds = {k: sum(m.kind == k for m in survivors) for k in ("noted", "wording")}
        rows.append((module, len(mutants), count, kinds, walls.get(module)))
    stale = [title + ": " + " / ".join(key[2]) for key, title in notes.items()
             if key[0] in modules and used.get(key) != "survived"
             and any(r[0] == key[0] for r in rows)]
    if stale:
        print("\nStale notes in tests/MUTATION_NOTES.md (no such surviving mutant any more):")
        for text in stale:
            print(f"  {text}")
    print("\nmodule                      mutants  killed  survived (noted, wording)  timeout"
          "  other    wall")
    total = [0, 0, 0, 0, 0, 0, 0.0]
    for module, n, count, kinds, wall in rows:
        print(f"{module:<27} {n:>8} {count['killed']:>7} {count['survived']:>9} "
              f"({kinds['noted']:>3}, {kinds['wording']:>3})      {count['timeout']:>7}"
              f" {count['other']:>6} {_minutes(wall):>7}")
        for i, v in enumerate((n, count["killed"], count["survived"], kinds["noted"],
                               kinds["wording"], count["timeout"])):
            total[i] += v
        total[6] += wall or 0
    print(f"{'total':<27} {total[0]:>8} {total[1]:>7} {total[2]:>9} ({total[3]:>3}, "
          f"{total[4]:>3})      {total[5]:>7} {'':>6} {_minutes(total[6] or None):>7}")
    unexplained = problems
    print(f"\n{unexplained} unexplained survivor(s), {len(stale)} stale note(s).")
    return 1 if unexplained or stale else 0


def _minutes(seconds):
    return "-" if seconds is None else f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


if __name__ == "__main__":
    sys.exit(main())
