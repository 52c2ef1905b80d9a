"""make portable: every notebook, top to bottom in a fresh kernel, under numerical environments
that round differently, the way readers' machines do.

    python tools/portable.py [--envs NAME,...] [--jobs 2] [--status FILE] [NOTEBOOK ...]
    python tools/portable.py probe [--envs NAME,...]   # what each environment does here
    python tools/portable.py env NAME                  # its variables
    python tools/portable.py check NAME                # exit 1 unless NAME takes effect here
    python tools/portable.py run NAME -- COMMAND ...   # check, then COMMAND under NAME

A reader's laptop picks another OpenBLAS kernel (its CPU), another thread count (its cores),
and other SIMD loops in numpy (its CPU again); every one of them changes the last bits of a
matrix product, a tanh or an exp. The environments below reproduce those differences on this
machine. Each sets its variables before the kernel starts (and ENVIRONMENTS says what it
stands for), and each is checked before any notebook runs, in a fresh Python with the same
variables (``probe``):

- the setting took effect: OpenBLAS reports the forced core and the thread count asked for,
  numpy reports the disabled SIMD group off, and numpy printed no warning that it ignored
  the variable (numpy 2.4 ignores the names "AVX2 FMA3 F16C AVX", with an ImportWarning
  nobody sees: it dispatches whole groups, X86_V3, X86_V4, ...);
- it rounds differently: a fingerprint of the products the notebooks compute (matrix
  products of the digits network's shapes, tanh, exp, log, sums, linear algebra) differs
  from every environment before it. An environment that rounds exactly like another one is
  reported ("same round-off as default") and not run again: on this machine OpenBLAS's Zen
  core is its Haswell core, and two threads are the default.

Then every notebook runs in every remaining environment, JOBS kernels at a time, all cells
(a failing cell does not stop the notebook). After the last cell the kernel runs the probe
again and must report the same settings and fingerprint: the kernel saw the environment.
For each environment and notebook it prints pass, or every failing cell: its number (as
nbval counts code cells, and as the notebook counts all cells), the statement that failed
(the whole assert), the error, and for a failed assert the values of its operands as the
kernel had them. It also counts the code cells that print something different from the
default environment: the environment changed numbers the notebook shows. Exit status 1 if
any environment fails.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "portable"
CELL_TIMEOUT = int(os.environ.get("CELL_TIMEOUT", "120"))
MAX_FAILURES = 12  # per notebook and environment; the rest are counted


@dataclass(frozen=True)
class Environment:
    name: str
    what: str                       # the reader's machine it stands for
    variables: dict = field(default_factory=dict)
    blas_threads: int | None = None  # set inside the kernel at start (threadpoolctl)
    # names OpenBLAS may report for a forced core: this build (DYNAMIC_ARCH with a list of
    # kernels) reports an alias for some, e.g. "Katmai" for its Prescott kernel
    cores: tuple = ()
    # False: run even when it rounds exactly like an environment before it (what it varies
    # is not round-off)
    dedup: bool = True
    # False: only when asked for by name (ENVS=...)
    in_matrix: bool = True


# PYTHONHASHSEED differs between environments (set and dict-of-set orders of strings change
# with it on every reader's run; fixed here so that a failure can be reproduced).
ENVIRONMENTS = [
    Environment("default", "this machine as the book build sees it", dedup=False),
    Environment("prescott", "an old x86 CPU: OpenBLAS's SSE3 kernel",
                {"OPENBLAS_CORETYPE": "Prescott"}, cores=("Prescott", "Katmai")),
    Environment("nehalem", "OpenBLAS's SSE4.2 kernel (also what it picks for Atom, Barcelona)",
                {"OPENBLAS_CORETYPE": "Nehalem"}, cores=("Nehalem",)),
    Environment("sandybridge", "an AVX CPU without FMA: OpenBLAS's Sandybridge kernel "
                "(also Bulldozer ... Excavator)",
                {"OPENBLAS_CORETYPE": "Sandybridge"}, cores=("Sandybridge",)),
    Environment("haswell", "an AVX2/FMA CPU: OpenBLAS's Haswell kernel",
                {"OPENBLAS_CORETYPE": "Haswell"}, cores=("Haswell",)),
    Environment("zen", "an AMD Zen CPU", {"OPENBLAS_CORETYPE": "Zen"},
                cores=("Zen", "Haswell")),
    Environment("threads-1", "one BLAS thread (a 1-core VM, or OPENBLAS_NUM_THREADS=1)",
                {"OPENBLAS_NUM_THREADS": "1"}),
    Environment("threads-2", "a 2-core machine", {"OPENBLAS_NUM_THREADS": "2"}),
    # OpenBLAS caps OPENBLAS_NUM_THREADS at the number of cores; openblas_set_num_threads does
    # not, so a 4-core laptop's thread count is set inside the kernel, before any cell
    # Not in the matrix: on this machine it printed exactly what default prints (adam_course.nn
    # trains on one BLAS thread; the other products are too small to be split), and four
    # threads on two cores made every notebook 1.5-2 times slower. ENVS=threads-4 runs it.
    Environment("threads-4", "a 4-core laptop (4 BLAS threads)", blas_threads=4,
                in_matrix=False),
    Environment("numpy-x86-v2", "a CPU without AVX2/FMA3 for numpy's own loops (tanh, exp, "
                "sums): numpy's SIMD dispatch narrowed to its x86-64-v2 baseline",
                {"NPY_DISABLE_CPU_FEATURES": "X86_V3"}),
    # Not in the matrix: it changed no printed line of any chapter (every environment of the
    # matrix has its own PYTHONHASHSEED anyway). ENVS=hashseed runs it.
    Environment("hashseed", "this machine with another PYTHONHASHSEED: the order in which a "
                "set of strings is iterated", dedup=False, in_matrix=False),
    Environment("oldest", "all of it at once: Prescott kernel, one thread, numpy without "
                "AVX2 (make test's nbval run)",
                {"OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_NUM_THREADS": "1",
                 "NPY_DISABLE_CPU_FEATURES": "X86_V3"}, cores=("Prescott", "Katmai")),
]
BY_NAME = {e.name: e for e in ENVIRONMENTS}


def hash_seed(env: Environment) -> str:
    return str(ENVIRONMENTS.index(env)) if env in ENVIRONMENTS else "101"


def variables(env: Environment) -> dict:
    """The variables the kernel starts with: the environment's own, a fixed PYTHONHASHSEED,
    MPLBACKEND=Agg (figures are not rendered: nothing here looks at them)."""
    return {"PYTHONHASHSEED": hash_seed(env), "MPLBACKEND": "Agg", **env.variables,
            **({"PORTABLE_BLAS_THREADS": str(env.blas_threads)} if env.blas_threads else {})}


def kernel_environ(env: Environment) -> dict:
    """os.environ without any variable of the matrix, plus the environment's."""
    base = {k: v for k, v in os.environ.items()
            if k not in {"OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS",
                         "OMP_NUM_THREADS", "NPY_DISABLE_CPU_FEATURES",
                         "NPY_ENABLE_CPU_FEATURES", "PYTHONHASHSEED", "PORTABLE_BLAS_THREADS"}}
    return {**base, **variables(env)}


# Runs at kernel start (exec_lines) and at the start of the probe: the in-kernel thread count.
SET_THREADS = ("import os as _o, numpy as _n, threadpoolctl as _t\n"
               "if _o.environ.get('PORTABLE_BLAS_THREADS'): "
               "_t.threadpool_limits(int(_o.environ['PORTABLE_BLAS_THREADS']), user_api='blas')\n"
               "del _o, _n, _t")

# Prints one line of JSON: what numpy and OpenBLAS report, and a digest of each kind of
# product the notebooks compute. Runs in a fresh Python (probe) and at the end of every
# notebook, in its kernel. Nothing it defines stays behind.
PROBE = r'''
def _portable_probe():
    import hashlib, json, os, sys, warnings
    import numpy as np, threadpoolctl
    from numpy._core._multiarray_umath import __cpu_features__ as features, __cpu_dispatch__
    blas = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    rng = np.random.default_rng(20240611)
    def digest(*arrays):
        h = hashlib.sha1()
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()[:10]
    X = rng.standard_normal((1437, 64))
    W1, W2 = rng.standard_normal((64, 32)) / 8, rng.standard_normal((32, 10)) / 6
    H = np.tanh(X @ W1)
    Z = H @ W2
    runs = rng.standard_normal((64, 8 * 32))
    A = rng.standard_normal((256, 256))
    x = rng.standard_normal(100_003)
    small = rng.standard_normal((2, 2))
    fp = {
        "matmul": digest(X @ W1, Z, H.T @ Z, X @ runs, A @ A, small @ small),
        "matvec": digest(A @ x[:256], X @ W1[:, 0], x[:256] @ A[0]),
        "tanh/exp/log": digest(np.tanh(x), np.exp(x), np.log(np.abs(x)), np.sqrt(np.abs(x)),
                               np.abs(x) ** 0.37, np.exp(x.astype(np.float32))),
        "sum": digest(x.sum(), x.astype(np.float32).sum(), Z.sum(axis=1),
                      np.linalg.norm(A, axis=1)),
        "linalg": digest(np.linalg.solve(A, x[:256]), np.linalg.eigvalsh(A + A.T)),
    }
    return {
        "python": sys.executable,
        "core": blas[0]["architecture"] if blas else None,
        "threads": blas[0]["num_threads"] if blas else None,
        "pools": sorted(f'{i["internal_api"]}:{i["num_threads"]}'
                        for i in threadpoolctl.threadpool_info()),
        "features_off": sorted(k for k, v in features.items() if not v),
        "simd": [g for g in __cpu_dispatch__ if features.get(g)],
        "hashseed": os.environ.get("PYTHONHASHSEED"),
        "fingerprint": fp,
    }
print("PORTABLE-PROBE " + __import__("json").dumps(_portable_probe()))
del _portable_probe
'''


# --- the probe in a fresh Python --------------------------------------------------------------

def probe(env: Environment) -> dict:
    """Run PROBE in a fresh Python with env's variables; also returns numpy's warnings."""
    code = SET_THREADS + "\n" + PROBE
    done = subprocess.run([sys.executable, "-W", "always::ImportWarning", "-c", code],
                          env=kernel_environ(env), capture_output=True, text=True, timeout=120)
    line = [s for s in done.stdout.splitlines() if s.startswith("PORTABLE-PROBE ")]
    if done.returncode or not line:
        raise RuntimeError(f"{env.name}: the probe failed (exit {done.returncode}): "
                           f"{done.stderr.strip()[-500:]}")
    state = json.loads(line[0].split(" ", 1)[1])
    state["warnings"] = [s for s in done.stderr.splitlines() if "NPY_" in s or "CPU feature" in s]
    return state


def problems(env: Environment, state: dict) -> list[str]:
    """Why env did not take effect here, judged from its probe (empty: it did)."""
    found = []
    if state["warnings"]:
        found.append("numpy ignored a variable: " + " ".join(state["warnings"]))
    core = env.variables.get("OPENBLAS_CORETYPE")
    if core and state["core"] not in env.cores:
        found.append(f"OPENBLAS_CORETYPE={core}, but OpenBLAS runs its {state['core']} kernel")
    threads = env.blas_threads or env.variables.get("OPENBLAS_NUM_THREADS")
    if threads and state["threads"] != int(threads):
        found.append(f"{threads} BLAS threads asked for, OpenBLAS uses {state['threads']}")
    for group in env.variables.get("NPY_DISABLE_CPU_FEATURES", "").split():
        if group not in state["features_off"]:
            found.append(f"NPY_DISABLE_CPU_FEATURES={group}, but numpy still uses {group}")
    if state["hashseed"] != variables(env)["PYTHONHASHSEED"]:
        found.append(f"PYTHONHASHSEED is {state['hashseed']}")
    return found


@dataclass
class Plan:
    env: Environment
    state: dict
    same_as: str | None = None   # the environment it rounds exactly like (not run again)


def plan(envs: list[Environment]) -> list[Plan]:
    """Probe every environment (a fresh Python each); raise if one does not take effect."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:
        states = list(pool.map(probe, envs))
    plans, bad = [], []
    for env, state in zip(envs, states, strict=True):
        found = problems(env, state)
        if found:
            bad.append(f"{env.name} ({describe(env)}): " + "; ".join(found))
        same = next((p.env.name for p in plans
                     if p.same_as is None and p.state["fingerprint"] == state["fingerprint"]),
                    None)
        plans.append(Plan(env, state, same if env.dedup and env.name != "default" else None))
    if bad:
        raise SystemExit("These environments do not take effect on this machine, so a run "
                         "under them could not fail:\n  " + "\n  ".join(bad))
    return plans


def describe(env: Environment) -> str:
    parts = [f"{k}={v}" for k, v in env.variables.items()]
    if env.blas_threads:
        parts.append(f"{env.blas_threads} BLAS threads set in the kernel")
    if not parts and env.name != "default":
        parts.append(f"PYTHONHASHSEED={hash_seed(env)}")
    return " ".join(parts) or "no variable set"


def show_plan(plans: list[Plan], default: dict | None = None) -> str:
    default = default or next((p.state for p in plans if p.env.name == "default"), None)
    lines = []
    for p in plans:
        s = p.state
        seen = (f"OpenBLAS {s['core']}, {s['threads']} thread(s); numpy dispatches to "
                + (" ".join(s["simd"]) or "its baseline only")
                + f"; PYTHONHASHSEED={s['hashseed']}")
        if p.same_as:
            verdict = f"same round-off as {p.same_as}: not run again"
        elif default is not None and p.env.name != "default":
            differ = [k for k, v in s["fingerprint"].items() if default["fingerprint"][k] != v]
            verdict = ("rounds differently from default in " + ", ".join(differ)) if differ \
                else "rounds like default"
        else:
            verdict = "the reference"
        lines.append(f"  {p.env.name:<13} {describe(p.env)}\n  {'':<13} -> {seen}; {verdict}")
    return "\n".join(lines)


# --- running notebooks -----------------------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# a cell that measures time prints another number on every run: its output is not compared
TIMING = re.compile(r"\btime\.(perf_counter|time|monotonic|process_time)\b|^%%?time", re.M)
SAFE_CALLS = {"abs", "all", "any", "bool", "float", "int", "len", "list", "max", "min",
              "round", "sorted", "sum", "tuple", "set", "repr", "str"}
SAFE_METHODS = {"all", "any", "argmax", "argmin", "astype", "copy", "item", "items", "keys",
                "max", "mean", "min", "ravel", "round", "std", "sum", "tolist", "values", "var",
                "get"}
SAFE_MODULES = {"np", "numpy", "math"}


@dataclass
class Failure:
    cell: int          # index among all cells
    code_cell: int     # index among code cells (nbval's "Cell N")
    statement: str     # the failing statement of the cell, or the cell's first line
    error: str         # "AssertionError: message"
    values: dict = field(default_factory=dict)  # operand -> repr, for a failed assert

    def lines(self) -> list[str]:
        out = [f"code cell {self.code_cell} (cell {self.cell}): {self.error}"]
        out += ["    " + s for s in self.statement.splitlines()]
        out += [f"    where {k} = {v}" for k, v in self.values.items()]
        return out


@dataclass
class Result:
    env: str
    notebook: str
    failures: list = field(default_factory=list)
    more: int = 0                       # failures beyond MAX_FAILURES
    outputs: list = field(default_factory=list)  # text each code cell printed
    cells: list = field(default_factory=list)    # the cell index of each of outputs
    timed: set = field(default_factory=set)      # code cells that print a time: not compared
    kernel: dict | None = None          # the probe, run in the kernel after the last cell
    broken: str | None = None           # kernel died, a cell timed out, probe mismatch
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.failures and not self.broken


def _source(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _python(source: str) -> str:
    """The cell as Python (magics and ! commands transformed), line numbers kept."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def failing_line(traceback: list[str], execution_count) -> int | None:
    """The cell's line number in an IPython traceback (its first frame in this cell)."""
    text = ANSI.sub("", "\n".join(traceback))
    for m in re.finditer(r"Cell In\s*\[(\d*)\], line (\d+)", text):
        if execution_count is None or m.group(1) in ("", str(execution_count)):
            return int(m.group(2))
    m = re.search(r'File "<[^>]*>", line (\d+)', text)  # a SyntaxError's own report
    return int(m.group(1)) if m else None


def statement_at(source: str, line: int | None):
    """(the statement of source that contains line, its ast node or None)."""
    lines = source.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return (lines[0] if lines else ""), None
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return lines[line - 1].strip(), None
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            # the innermost statement: an assert inside a loop, not the whole loop
            if best is None or (node.end_lineno - node.lineno) <= (best.end_lineno - best.lineno):
                best = node
    if best is None:
        return lines[line - 1].strip(), None
    text = "\n".join(lines[best.lineno - 1:best.end_lineno])
    indent = min((len(s) - len(s.lstrip()) for s in text.splitlines() if s.strip()), default=0)
    return "\n".join(s[indent:] for s in text.splitlines()), best


def _safe(node: ast.AST) -> bool:
    """Whether evaluating node again is cheap and changes nothing: no call but to builtins,
    numpy or math functions and array methods that only read."""
    for sub in ast.walk(node):
        if isinstance(sub, (ast.NamedExpr, ast.Lambda, ast.Await, ast.Yield)):
            return False
        if isinstance(sub, ast.Call):
            f = sub.func
            if isinstance(f, ast.Name) and f.id in SAFE_CALLS:
                continue
            if isinstance(f, ast.Attribute):
                base = f.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in SAFE_MODULES:
                    continue
                if f.attr in SAFE_METHODS:
                    continue
            return False
    return True


def operands(test: ast.expr) -> list[str]:
    """The sub-expressions of an assert's test worth showing: both sides of each comparison,
    each part of an and/or, the arguments of a call such as np.isclose(a, b) or round(x, 1)."""
    found: list[ast.expr] = []

    def visit(node):
        if isinstance(node, ast.BoolOp):
            for v in node.values:
                visit(v)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            visit(node.operand)
        elif isinstance(node, ast.Compare):
            for side in [node.left, *node.comparators]:
                if not isinstance(side, ast.Constant):
                    found.append(side)
                    if isinstance(side, ast.Call) and _safe(side):  # round(x, 1): x too
                        found.extend(a for a in side.args if not isinstance(a, ast.Constant))
        elif isinstance(node, ast.Call):
            args = [a for a in node.args if not isinstance(a, ast.Constant)]
            for a in args:
                if isinstance(a, (ast.GeneratorExp, ast.ListComp)):
                    found.extend(g.iter for g in a.generators)
                else:
                    found.append(a)
        elif not isinstance(node, ast.Constant):
            found.append(node)

    visit(test)
    def constant(node):
        try:
            ast.literal_eval(node)
            return True
        except ValueError:
            return False

    seen, out = set(), []
    for node in found:
        text = ast.unparse(node)
        if text not in seen and not constant(node) and _safe(node):
            seen.add(text)
            out.append(text)
    return out[:8]


VALUES = r'''
def _portable_values(exprs):
    import json
    import numpy as np
    ns = get_ipython().user_ns
    out = {}
    with np.printoptions(precision=6, threshold=24, edgeitems=4, linewidth=120):
        for e in exprs:
            try:
                v = eval(e, ns)
                if isinstance(v, np.generic):
                    v = v.item()
                out[e] = " ".join(repr(v).split())[:300]
            except Exception as err:
                out[e] = f"(not available here: {type(err).__name__})"
    print("PORTABLE-VALUES " + json.dumps(out))
_portable_values(%r)
del _portable_values
'''


def _text_outputs(cell) -> str:
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            parts.append(o.get("text", "") if isinstance(o.get("text"), str)
                         else "".join(o["text"]))
        elif o.get("output_type") in ("execute_result", "display_data"):
            t = o.get("data", {}).get("text/plain", "")
            if "<Figure size" not in str(t):
                parts.append("".join(t) if isinstance(t, list) else t)
    return re.sub(r"at 0x[0-9a-f]+", "at 0x...", "".join(parts))


def _marker(cell, marker: str) -> str | None:
    for o in cell.get("outputs", []):
        text = o.get("text", "")
        text = "".join(text) if isinstance(text, list) else text
        for line in text.splitlines():
            if line.startswith(marker + " "):
                return line.split(" ", 1)[1]
    return None


async def _run_extra(client, nb, source: str, marker: str) -> str | None:
    """Run source in the notebook's kernel as a cell of its own (appended, then removed:
    nbclient writes every cell it runs into the notebook) and return its marker line."""
    import nbformat

    cell = nbformat.v4.new_code_cell(source)
    nb.cells.append(cell)
    try:
        await client.async_execute_cell(cell, len(nb.cells) - 1)
    finally:
        nb.cells.pop()
    return _marker(cell, marker)


async def run_notebook(path: Path, env: Environment, out_dir: Path | None = None,
                       timeout: int = CELL_TIMEOUT) -> Result:
    """Execute every cell of path in a fresh kernel started with env's variables."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    start = time.monotonic()
    result = Result(env.name, path.name)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=[f"--IPKernelApp.exec_lines={SET_THREADS}"])
    code_number = -1
    log = tempfile.TemporaryFile(mode="w+")  # the kernel's stderr: shown if it dies
    try:
        async with client.async_setup_kernel(env=kernel_environ(env), stderr=log):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                code_number += 1
                await client.async_execute_cell(cell, index)
                result.outputs.append(_text_outputs(cell))
                result.cells.append(index)
                if TIMING.search(_source(cell)):
                    result.timed.add(code_number)
                for o in cell.outputs:
                    if o.output_type != "error":
                        continue
                    if len(result.failures) >= MAX_FAILURES:
                        result.more += 1
                        continue
                    source = _source(cell)
                    line = failing_line(o.traceback, cell.execution_count)
                    statement, node = statement_at(source, line)
                    failure = Failure(index, code_number, statement,
                                      f"{o.ename}: {o.evalue}".rstrip(": ").strip())
                    if isinstance(node, ast.Assert):
                        exprs = operands(node.test)
                        if exprs:
                            values = await _run_extra(client, nb, VALUES % (exprs,),
                                                      "PORTABLE-VALUES")
                            failure.values = json.loads(values) if values else {}
                    result.failures.append(failure)
            seen = await _run_extra(client, nb, PROBE, "PORTABLE-PROBE")
            result.kernel = json.loads(seen) if seen else None
            if result.kernel is None:
                result.broken = "the probe did not run in the kernel"
    except CellTimeoutError:
        result.broken = f"code cell {code_number} ran longer than {timeout} s"
    except DeadKernelError as e:
        log.seek(0)
        said = " | ".join(log.read().strip().splitlines()[-3:])
        result.broken = f"the kernel died in code cell {code_number}: {e} {said}".strip()
    finally:
        log.close()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out_dir / path.name)
    result.seconds = time.monotonic() - start
    return result


def compare_kernel(result: Result, expected: dict) -> None:
    """The kernel must have reported what the fresh Python did: same settings, same round-off."""
    if result.broken or result.kernel is None:
        return
    k = result.kernel
    keys = ["core", "threads", "features_off", "hashseed", "fingerprint"]
    differ = [key for key in keys if k.get(key) != expected.get(key)]
    if k.get("python") != sys.executable:
        differ.append(f"python ({k.get('python')})")
    if differ:
        seen = ", ".join(f"{key} {k.get(key)}" for key in ("core", "threads", "simd", "hashseed"))
        result.broken = ("the kernel did not see the environment: it reports another "
                         + ", ".join(differ) + f" ({seen})")


async def run_all(jobs: list[tuple[Path, Plan]], parallel: int, out: Path | None,
                  progress=print) -> list[Result]:
    gate = asyncio.Semaphore(parallel)
    done = 0

    async def one(path, p):
        nonlocal done
        async with gate:
            r = await run_notebook(path, p.env, out / p.env.name if out else None)
        compare_kernel(r, p.state)
        done += 1
        state = ("passed" if r.passed
                 else r.broken or f"{len(r.failures) + r.more} failing cell(s)")
        progress(f"[{done}/{len(jobs)}] {p.env.name:<13} {path.name}: {state} ({r.seconds:.0f} s)")
        return r

    return await asyncio.gather(*(one(path, p) for path, p in jobs))


# --- the report ------------------------------------------------------------------------------

def differing_cells(results: list[Result], env: str, reference: str = "default") -> tuple[int, int]:
    """(code cells whose printed text differs from reference's, code cells compared); cells
    that print a time are not compared."""
    ref = {r.notebook: r.outputs for r in results if r.env == reference}
    changed = total = 0
    for r in results:
        if r.env != env or r.notebook not in ref:
            continue
        for k, (a, b) in enumerate(zip(r.outputs, ref[r.notebook], strict=False)):
            if k in r.timed:
                continue
            total += 1
            changed += a != b
    return changed, total


def printed_differences(results: list[Result], reference: str = "default", width: int = 150):
    """{notebook: {(code cell, cell): [(env or reference, line), ...]}}: the lines a cell
    prints that are not the same in every environment, as the reference printed them and as
    each other environment did."""
    ref = {r.notebook: r for r in results if r.env == reference}
    found: dict = {}
    for r in results:
        base = ref.get(r.notebook)
        if r.env == reference or base is None:
            continue
        for k, (a, b) in enumerate(zip(r.outputs, base.outputs, strict=False)):
            if a == b or k in r.timed:
                continue
            old, new = b.splitlines(), a.splitlines()
            gone = [x for x in old if x not in new]
            came = [x for x in new if x not in old]
            entry = found.setdefault(r.notebook, {}).setdefault((k, base.cells[k]), [])
            for line in gone:
                if (reference, line[:width]) not in entry:
                    entry.append((reference, line[:width]))
            entry.extend((r.env, line[:width]) for line in came)
    for cells in found.values():  # the reference's lines first
        for key, entry in cells.items():
            cells[key] = sorted(entry, key=lambda e: e[0] != reference)
    return found


def report(plans: list[Plan], results: list[Result], markdown: bool = False) -> str:
    out = []
    ran = [p for p in plans if not p.same_as]
    failed = [p.env.name for p in ran
              if any(not r.passed for r in results if r.env == p.env.name)]
    for p in ran:
        mine = [r for r in results if r.env == p.env.name]
        bad = [r for r in mine if not r.passed]
        head = f"{p.env.name}: {describe(p.env)}"
        changed, total = differing_cells(results, p.env.name)
        note = (f"; {changed} of {total} code cells print something else than under default"
                if p.env.name != "default" and total else "")
        status = "FAILED" if bad else "passed"
        out.append(f"\n## {head} -- {status}{note}\n" if markdown
                   else f"\n=== {head}: {status}{note}")
        for r in mine:
            if r.passed:
                out.append(f"- {r.notebook}: pass ({r.seconds:.0f} s)" if markdown
                           else f"  {r.notebook}: pass")
                continue
            out.append(f"- {r.notebook}: FAIL" if markdown else f"  {r.notebook}: FAIL")
            if r.broken:
                out.append(f"    {r.broken}")
            for f in r.failures:
                lines = f.lines()
                if markdown:
                    out.append(f"  - {lines[0]}\n\n    ```python")
                    out.extend("    " + s[4:] for s in lines[1:])
                    out.append("    ```")
                else:
                    out.extend("    " + s for s in lines)
            if r.more:
                out.append(f"    ... and {r.more} more failing cell(s)")
    skipped = [p for p in plans if p.same_as]
    for p in skipped:
        out.append(f"\n{p.env.name}: {describe(p.env)}: same round-off as {p.same_as} here "
                   f"(OpenBLAS {p.state['core']}, {p.state['threads']} thread(s)): not run again")
    out.append("")
    out.append(("FAILED under: " + ", ".join(failed)) if failed
               else f"All {len(ran)} environments passed.")
    return "\n".join(out)


def status_file(path: Path, plans, results, notebooks, seconds: float) -> None:
    from datetime import UTC, datetime
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    text = ["# make portable: status of the chapters under every environment",
            "",
            f"Written by `tools/portable.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"commit {commit} of {ROOT}, in {seconds / 60:.0f} min; notebooks: "
            + ", ".join(n.name for n in notebooks) + ".",
            "",
            "What each environment does here (probed in a fresh Python before the run, and again",
            "in each kernel after its last cell):",
            "",
            "```",
            show_plan(plans),
            "```",
            report(plans, results, markdown=True)]
    diffs = printed_differences(results)
    if diffs:
        text += ["", "## Printed lines that differ between environments", "",
                 "Each line a cell prints that is not the same under every environment: as "
                 "default printed it, then as each other environment did (a number quoted "
                 "in the prose from such a line holds only to the digits they share).", ""]
        for notebook, cells in sorted(diffs.items()):
            text.append(f"### {notebook}\n")
            for (code, cell), lines in sorted(cells.items()):
                text.append(f"- code cell {code} (cell {cell}):\n\n  ```")
                text.extend(f"  {env:<13} {line}" for env, line in lines)
                text.append("  ```")
            text.append("")
    path.write_text("\n".join(text) + "\n")


# --- command line ----------------------------------------------------------------------------

def choose(names: str | None) -> list[Environment]:
    if not names:
        return [e for e in ENVIRONMENTS if e.in_matrix]
    chosen = []
    for name in names.replace(",", " ").split():
        if name not in BY_NAME:
            raise SystemExit(f"no environment {name!r}; there are: {', '.join(BY_NAME)}")
        chosen.append(BY_NAME[name])
    if BY_NAME["default"] not in chosen:  # the reference of every comparison
        chosen.insert(0, BY_NAME["default"])
    return chosen


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["env"] and len(argv) == 2:
        env = BY_NAME[argv[1]]
        print(" ".join(f"{k}={v}" for k, v in variables(env).items()))
        return 0
    if argv[:1] in (["check"], ["run"]) and len(argv) >= 2:
        if argv[1] not in BY_NAME:
            raise SystemExit(f"no environment {argv[1]!r}; there are: {', '.join(BY_NAME)}")
        env = BY_NAME[argv[1]]
        state = probe(env)
        found = problems(env, state)
        if found:
            print(f"{env.name} ({describe(env)}) does not take effect here: " + "; ".join(found))
            return 1
        print(f"{env.name} ({describe(env)}): OpenBLAS {state['core']}, {state['threads']} "
              f"thread(s), numpy dispatches to {' '.join(state['simd']) or 'its baseline only'}, "
              f"PYTHONHASHSEED={state['hashseed']}", flush=True)
        if argv[0] == "run":  # run -- CMD ...: CMD under the environment
            command = argv[3:] if argv[2:3] == ["--"] else argv[2:]
            if not command:
                raise SystemExit("portable.py run NAME -- COMMAND ...")
            os.execvpe(command[0], command, kernel_environ(env))
        return 0
    if argv[:1] == ["probe"]:
        parser = argparse.ArgumentParser(prog="portable.py probe")
        parser.add_argument("--envs")
        args = parser.parse_args(argv[1:])
        plans = plan(choose(args.envs))
        print(show_plan(plans))
        return 0

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--envs", help="comma-separated names (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="kernels at once")
    parser.add_argument("--status", type=Path, help="also write the report here (markdown)")
    parser.add_argument("--keep", action="store_true",
                        help=f"write each executed notebook to {OUT.relative_to(ROOT)}/ENV/")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    start = time.monotonic()
    plans = plan(choose(args.envs))
    print("The environments, as a fresh Python sees them:")
    print(show_plan(plans), flush=True)
    ran = [p for p in plans if not p.same_as]
    # the slow notebooks first, so that two kernels stay busy to the end
    jobs = [(nb, p) for p in ran for nb in notebooks]
    jobs.sort(key=lambda j: -nb_weight(j[0]))
    print(f"\n{len(jobs)} notebook runs, {args.jobs} at a time:", flush=True)
    results = asyncio.run(run_all(jobs, args.jobs, OUT if args.keep else None,
                                  progress=lambda s: print(s, flush=True)))
    order = {p.env.name: i for i, p in enumerate(plans)}
    results.sort(key=lambda r: (order[r.env], r.notebook))
    print(report(plans, results))
    seconds = time.monotonic() - start
    print(f"make portable: {len(jobs)} notebook runs in {seconds:.0f} s")
    if args.status:
        status_file(args.status, plans, results, notebooks, seconds)
        print(f"status written to {args.status}")
    return 1 if any(not r.passed for r in results) else 0


def nb_weight(path: Path) -> float:
    """Roughly how long a notebook runs: its code's size (chapters 7 and 8 train networks)."""
    try:
        nb = json.loads(path.read_text())
        code = sum(len(_source(c)) for c in nb["cells"] if c["cell_type"] == "code")
    except (OSError, ValueError, KeyError):
        return 0.0
    return code * (3.0 if "train(" in path.read_text() else 1.0)


if __name__ == "__main__":
    sys.exit(main())
