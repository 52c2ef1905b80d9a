"""Benchmarks for the book's speed budgets (a script, not a test).

    MPLBACKEND=Agg .venv/bin/python benchmarks/run.py [--skip-notebooks] [--repeats 20]

Prints small tables:

1. the explorer's redraw (what a slider change costs: ``optim.minimize`` + blit + PNG),
   median and max over ``--repeats`` different learning rates, per landscape; budget 100 ms;
   then the same for the other live explorers (``noise.hump_explorer``,
   ``bias.moments_explorer``), over ``--repeats`` values of one slider;
2. the static explorer's build time and HTML size;
3. step throughput of each optimizer, one run and a batch of 1000 runs;
4. if torch is installed: one step of adam, sgd (momentum) and rmsprop against torch.optim's
   default and fused steps, at 2 to 1,000,000 elements (``benchmarks/steps.py``);
5. if ``notebooks/`` holds ``.ipynb`` files: each one executed top to bottom in a fresh
   kernel (cwd = notebooks/), with the slowest marked.

Exits with status 1 if a notebook fails to execute; timings are reported, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

from adam_course import bias, catalog, landscapes, noise, optim, widgets  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REDRAW_BUDGET_MS = 100.0


def table(title, header, rows):
    """Print rows as a fixed-width table under a title."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for k, row in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) if k and i else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if k == 0:
            print("  " + "  ".join("-" * w for w in widths))


def ms(seconds):
    return f"{1e3 * seconds:.1f}"


def bench_explorer(repeats):
    rows = []
    for name in widgets.EXPLORER_LANDSCAPES:
        for optimizer, steps in (("adam", 50), ("momentum", 50), ("adam", 300)):
            explorer = widgets.explorer(landscape=name, optimizer=optimizer, steps=steps)
            base = explorer.settings["lr"]
            lrs = base * np.geomspace(0.3, 3.0, repeats)
            rows.append([name, optimizer, steps,
                         *time_redraws(explorer, "lr", lrs, explorer.render)])
    table(f"Explorer redraw (compute + render), {repeats} lr values each "
          f"(budget {REDRAW_BUDGET_MS:.0f} ms)",
          ["landscape", "optimizer", "steps", "render ms", "median ms", "max ms", ""], rows)


def time_redraws(explorer, slider, values, render):
    """Move one slider through ``values``: [render ms, median ms, max ms, verdict]."""
    totals, renders = [], []
    for value in values:
        start = time.perf_counter()
        explorer.update(**{slider: float(value)})  # what a slider change does: compute + render
        totals.append(time.perf_counter() - start)
        start = time.perf_counter()
        render()
        renders.append(time.perf_counter() - start)
    median = statistics.median(totals)
    verdict = "ok" if median * 1e3 < REDRAW_BUDGET_MS else "SLOW"
    return [ms(statistics.median(renders)), ms(median), ms(max(totals)), verdict]


def bench_other_explorers(repeats):
    cases = [  # explorer, the slider moved, its values, how the explorer was made
        ("noise.hump_explorer", noise.hump_explorer, {}, "noise",
         np.linspace(0.0, 4.0, repeats), "steps=300, runs=40"),
        ("noise.hump_explorer", noise.hump_explorer, {"steps": 400}, "lr",
         np.geomspace(0.01, 0.2, repeats), "steps=400 (max), runs=40"),
        ("noise.hump_explorer", noise.hump_explorer, {"momentum": 0.9}, "momentum",
         np.linspace(0.0, 0.95, repeats), "steps=300, runs=40"),
        ("bias.moments_explorer", bias.moments_explorer, {}, "beta1",
         np.linspace(0.0, 0.99, repeats), "steps=1000"),
        ("bias.moments_explorer", bias.moments_explorer, {}, "beta2",
         np.resize([0.9, 0.99, 0.995, 0.999, 0.9995, 0.9999], repeats), "steps=1000"),
    ]
    rows = []
    for name, make, kwargs, slider, values, setting in cases:
        explorer = make(**kwargs)
        rows.append([name, slider, setting,
                     *time_redraws(explorer, slider, values, explorer.picture.png)])
    table(f"Other explorers' redraw (compute + render), {repeats} values of one slider each "
          f"(budget {REDRAW_BUDGET_MS:.0f} ms)",
          ["explorer", "slider", "setting", "render ms", "median ms", "max ms", ""], rows)


def bench_static():
    rows = []
    for name, optimizer, frames in (("bowl", "sgd", 10), ("rosenbrock", "adam", 15)):
        lr = widgets.DEFAULT_LR[name]["sgd" if optimizer == "sgd" else "adaptive"]
        start = time.perf_counter()
        page = widgets.static_explorer(name, optimizer, steps=50,
                                       values=lr * np.geomspace(0.1, 2, frames)).data
        rows.append([name, optimizer, frames, ms(time.perf_counter() - start),
                     f"{len(page.encode()) / 1024:.0f}"])
    table("Static explorer (jshtml animation)", ["landscape", "optimizer", "frames", "build ms",
                                                 "HTML KB"], rows)


def bench_steps():
    rows = []
    bowl = landscapes.bowl()
    for name, entry in catalog.CATALOG.items():
        if name == "gd":  # the same method as sgd
            continue
        opt = entry.factory(lr=1e-3)
        cells = [name]
        for runs in (None, 1000):
            x = bowl.start if runs is None else np.tile(bowl.start, (runs, 1))
            steps = 1000 if runs is None else 200
            start = time.perf_counter()
            optim.minimize(opt, bowl.grad, x, steps)
            cells.append(f"{1e6 * (time.perf_counter() - start) / steps:.0f}")
        rows.append(cells)
    table("Optimizer steps on the bowl (minimize, grad included)",
          ["optimizer", "µs/step (1 run)", "µs/step (1000 runs)"], rows)


def bench_against_torch():
    try:
        import torch  # noqa: F401  (a test requirement, not a reader's)
    except ImportError:
        print("\nSteps against torch.optim: torch is not installed, skipped")
        return
    import steps

    steps.report(table, rounds=5)


def bench_notebooks():
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print("\nNotebooks: none in notebooks/, skipped")
        return True
    import nbformat
    from nbclient import NotebookClient

    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the kernel's own backend
    rows, ok = [], True
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        try:
            client.execute(env=env)
            status = "ok"
        except Exception as error:  # report and go on to the next notebook
            status = f"FAILED: {type(error).__name__}"
            ok = False
        rows.append([path.name, f"{time.perf_counter() - start:.1f}", status])
    slowest = max(rows, key=lambda row: float(row[1]))
    slowest[2] += "  <- slowest"
    table("Notebooks, each in a fresh kernel (cwd = notebooks/)", ["notebook", "seconds", ""],
          rows)
    return ok


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="lr values per explorer row")
    parser.add_argument("--skip-notebooks", action="store_true", help="do not run notebooks")
    args = parser.parse_args(argv)
    bench_explorer(args.repeats)
    bench_other_explorers(args.repeats)
    bench_static()
    bench_steps()
    bench_against_torch()
    ok = True if args.skip_notebooks else bench_notebooks()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
