"""tools/portable.py (make portable): that each environment of the matrix takes effect and is
seen by the kernel, and that a failing assert is reported with its environment, its statement
and its values. Two tests start kernels (a tiny notebook, two environments at once)."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import portable  # noqa: E402

PRESCOTT = portable.BY_NAME["prescott"]
DEFAULT = portable.BY_NAME["default"]

# A sum of products whose last bits depend on the BLAS kernel: the planted "claim" of the
# tiny notebook is that it equals its value under the default environment, to the last bit.
PRODUCT = ("import numpy as np\n"
           "rng = np.random.default_rng(7)\n"
           "A, B = rng.standard_normal((300, 64)), rng.standard_normal((64, 40))\n"
           "total = float((A @ B).sum())\n")


def reference_total() -> str:
    """The planted claim's value, computed in a fresh Python under the default environment
    (the test process itself may run under any of them)."""
    done = subprocess.run([sys.executable, "-c", PRODUCT + "print(total.hex())"],
                          env=portable.kernel_environ(DEFAULT), capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def tiny_notebook(path: Path, reference_hex: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A tiny chapter"),
        nbformat.v4.new_code_cell(PRODUCT),
        nbformat.v4.new_code_cell("print(f'total = {total:.6f}')"),
        nbformat.v4.new_code_cell(f"claimed = float.fromhex({reference_hex!r})\n"
                                  "# the planted bug: a claim to the last bit\n"
                                  "assert total == claimed, 'round-off decides this'"),
        nbformat.v4.new_code_cell("print('the cells after a failure still run')"),
    ]
    nbformat.write(nb, path)
    return path


def test_a_planted_roundoff_assert_fails_under_prescott_only(tmp_path):
    path = tiny_notebook(tmp_path / "tiny.ipynb", reference_total())
    # and a thread count set inside the kernel at its start, as threads-4 does
    one = portable.Environment("one-thread", "", blas_threads=1)
    plans = portable.plan([DEFAULT, PRESCOTT, one])
    assert plans[1].same_as is None  # Prescott rounds differently from this machine's default
    jobs = [(path, p) for p in plans]
    results = asyncio.run(portable.run_all(jobs, 2, tmp_path / "out", progress=lambda s: None))
    by_env = {r.env: r for r in results}
    assert by_env["one-thread"].kernel["threads"] == 1 and by_env["one-thread"].broken is None
    assert by_env["default"].passed, portable.report(plans, results)
    failed = by_env["prescott"]
    assert not failed.passed
    assert failed.broken is None  # the kernel saw Prescott: compare_kernel found no mismatch
    [failure] = failed.failures
    assert (failure.cell, failure.code_cell) == (3, 2)
    assert failure.error == "AssertionError: round-off decides this"
    assert failure.statement == "assert total == claimed, 'round-off decides this'"
    assert set(failure.values) == {"total", "claimed"}
    assert failure.values["total"] != failure.values["claimed"]
    # inside the kernel: the forced core, the environment's hash seed
    assert failed.kernel["core"] in PRESCOTT.cores
    assert failed.kernel["hashseed"] == portable.variables(PRESCOTT)["PYTHONHASHSEED"]
    assert failed.kernel["python"] == sys.executable
    # the cell after the failure ran, and the total it prints differs in a shown digit or not,
    # but the comparison with default counts the cells compared
    assert failed.outputs[-1] == "the cells after a failure still run\n"
    assert portable.differing_cells(results, "prescott")[1] == 4
    # the report names the environment, the notebook, the cell, the assert and its values
    text = portable.report(plans, results)
    assert "=== prescott: OPENBLAS_CORETYPE=Prescott: FAILED" in text
    assert "code cell 2 (cell 3): AssertionError: round-off decides this" in text
    assert "where total = " in text and "FAILED under: prescott" in text.replace(", one-thread", "")
    assert (tmp_path / "out" / "prescott" / "tiny.ipynb").is_file()


def test_more_threads_than_cores_are_set_in_python_not_by_the_variable():
    # OpenBLAS caps OPENBLAS_NUM_THREADS at the number of cores: a reader's 4-core laptop is
    # simulated by setting the count in the kernel at start (SET_THREADS; in-kernel above)
    threads = (os.cpu_count() or 1) + 1
    capped = portable.Environment("capped", "", {"OPENBLAS_NUM_THREADS": str(threads)})
    assert portable.probe(capped)["threads"] == os.cpu_count()
    more = portable.Environment("more", "", blas_threads=threads)
    assert portable.probe(more)["threads"] == threads
    assert portable.BY_NAME["threads-4"].blas_threads == 4


def test_the_matrix_and_its_opt_in_environments():
    matrix = [e.name for e in portable.choose(None)]
    assert matrix[0] == "default" and "threads-4" not in matrix and "hashseed" not in matrix
    assert {"prescott", "sandybridge", "haswell", "zen", "threads-1", "threads-2",
            "numpy-x86-v2", "oldest"} <= set(matrix)
    assert [e.name for e in portable.choose("threads-4")] == ["default", "threads-4"]
    with pytest.raises(SystemExit, match="no environment 'skylake'"):
        portable.choose("skylake")


def test_the_old_spelling_of_the_numpy_setting_is_refused():
    # numpy 2.4 dispatches whole groups (X86_V3, ...): it ignores these names, with only an
    # ImportWarning, and the run would be the default one under another name
    old = portable.Environment("old", "", {"NPY_DISABLE_CPU_FEATURES": "AVX2 FMA3 F16C AVX"})
    found = portable.problems(old, portable.probe(old))
    assert any("numpy ignored a variable" in f for f in found)
    assert any("still uses AVX2" in f for f in found)
    new = portable.BY_NAME["numpy-x86-v2"]
    assert portable.problems(new, portable.probe(new)) == []


def state(**changes):
    s = {"python": sys.executable, "core": "Haswell", "threads": 2, "features_off": [],
         "simd": ["X86_V3"], "hashseed": "0", "warnings": [],
         "fingerprint": {"matmul": "a", "tanh/exp/log": "b"}}
    return {**s, **changes}


def test_problems_name_each_setting_that_did_not_take():
    env = portable.Environment("e", "", {"OPENBLAS_CORETYPE": "Prescott",
                                         "OPENBLAS_NUM_THREADS": "1",
                                         "NPY_DISABLE_CPU_FEATURES": "X86_V3"},
                               cores=("Prescott", "Katmai"))
    seed = portable.variables(env)["PYTHONHASHSEED"]
    good = state(core="Katmai", threads=1, features_off=["X86_V3"], hashseed=seed)
    assert portable.problems(env, good) == []
    assert portable.problems(env, {**good, "core": "Haswell"}) == [
        "OPENBLAS_CORETYPE=Prescott, but OpenBLAS runs its Haswell kernel"]
    assert portable.problems(env, {**good, "threads": 2}) == [
        "1 BLAS threads asked for, OpenBLAS uses 2"]
    assert portable.problems(env, {**good, "features_off": []}) == [
        "NPY_DISABLE_CPU_FEATURES=X86_V3, but numpy still uses X86_V3"]
    assert portable.problems(env, {**good, "hashseed": None}) == ["PYTHONHASHSEED is None"]


def test_an_environment_that_rounds_like_another_is_not_run_again(monkeypatch):
    envs = [DEFAULT, portable.BY_NAME["zen"], PRESCOTT, portable.BY_NAME["oldest"]]
    seed = {e.name: portable.variables(e)["PYTHONHASHSEED"] for e in envs}
    states = {"default": state(), "zen": state(hashseed=seed["zen"]),
              "prescott": state(core="Katmai", hashseed=seed["prescott"],
                                fingerprint={"matmul": "c", "tanh/exp/log": "b"}),
              "oldest": state(core="Katmai", threads=1, features_off=["X86_V3"],
                              hashseed=seed["oldest"],
                              fingerprint={"matmul": "c", "tanh/exp/log": "b"})}
    monkeypatch.setattr(portable, "probe", lambda env: states[env.name])
    plans = portable.plan(envs)
    assert [p.same_as for p in plans] == [None, "default", None, "prescott"]
    shown = portable.show_plan(plans)
    assert "same round-off as default: not run again" in shown
    assert "rounds differently from default in matmul" in shown
    # a setting that does not take effect stops the run before any notebook
    states["prescott"] = state(hashseed=seed["prescott"])
    with pytest.raises(SystemExit, match="prescott .*runs its Haswell kernel"):
        portable.plan(envs)


def test_the_kernel_must_report_what_the_fresh_python_did():
    seen = portable.Result("prescott", "x.ipynb", kernel=state(core="Katmai"))
    portable.compare_kernel(seen, state(core="Katmai"))
    assert seen.passed
    wrong = portable.Result("prescott", "x.ipynb", kernel=state())
    portable.compare_kernel(wrong, state(core="Katmai"))
    assert not wrong.passed and "did not see the environment" in wrong.broken
    assert "core" in wrong.broken


TRACEBACK = [
    "\x1b[0;31m----------------------------------------------------------------\x1b[0m",
    "\x1b[0;31mAssertionError\x1b[0m                Traceback (most recent call last)",
    "Cell \x1b[0;32mIn[12], line 4\x1b[0m\n\x1b[1;32m      2\x1b[0m x = 1\n----> 4 assert x < 0",
    "File \x1b[0;32m/x/lib.py:9\x1b[0m, in \x1b[0;36mf\x1b[0;34m()\x1b[0m",
    "\x1b[0;31mAssertionError\x1b[0m: ",
]


def test_failing_line_is_the_cells_own_frame():
    assert portable.failing_line(TRACEBACK, 12) == 4
    assert portable.failing_line(TRACEBACK, None) == 4
    # a frame of another cell (a function defined there) is not this cell's line
    assert portable.failing_line(TRACEBACK[:2] + ["Cell In[3], line 7"] + TRACEBACK[2:], 12) == 4
    assert portable.failing_line(["no frame at all"], 1) is None


def test_statement_at_gives_the_whole_innermost_statement():
    source = ("%matplotlib inline\n"
              "for i in range(3):\n"
              "    assert (\n"
              "        i < 2\n"
              "    ), i\n"
              "print(i)\n")
    text, node = portable.statement_at(source, 4)
    assert text == "assert (\n    i < 2\n), i"
    assert isinstance(node, ast.Assert)
    text, node = portable.statement_at(source, 6)
    assert (text, type(node)) == ("print(i)", ast.Expr)
    assert portable.statement_at(source, None) == ("%matplotlib inline", None)


def test_operands_are_the_sides_of_the_claim_and_never_rerun_an_experiment():
    def ops(src):
        return portable.operands(ast.parse(src).body[0].test)

    assert ops("assert shifted[6] < 0.8") == ["shifted[6]"]
    assert ops('assert round(t["bowl", "nadam"][2], 1) == -7.8 and ok') == [
        "round(t['bowl', 'nadam'][2], 1)", "t['bowl', 'nadam'][2]", "ok"]
    assert ops("assert np.isclose(a.mean(), b, rtol=1e-3)") == ["a.mean()", "b"]
    assert ops("assert all(v < 1 for v in losses.values())") == ["losses.values()"]
    # a call that could run an experiment again (or change state) is not evaluated
    assert ops("assert train(model) < 0.5 and not done") == ["done"]
    assert ops("assert 1 < 2") == []


def test_env_prints_the_variables_make_test_uses():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "portable.py"), "env", "oldest"],
                          capture_output=True, text=True, check=True)
    pairs = dict(p.split("=", 1) for p in done.stdout.split())
    assert pairs["OPENBLAS_CORETYPE"] == "Prescott" and pairs["OPENBLAS_NUM_THREADS"] == "1"
    assert pairs["NPY_DISABLE_CPU_FEATURES"] == "X86_V3"
    assert json.dumps(pairs)  # one line of KEY=VALUE pairs
