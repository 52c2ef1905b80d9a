"""Benchmarks for the book's speed budgets (a script, not a test).

    MPLBACKEND=Agg .venv/bin/python benchmarks/run.py [--skip-notebooks]

Prints small tables:

1. every live explorer (``playground``, ``hump``, ``moments``): what one slider move costs on
   the Python side (recompute + draw + PNG), each slider moved through all its values, median
   and max against the budget (40 ms median, 60 ms max; the reader's 100 ms also covers the
   browser round trip, measured by ``benchmarks/lab_explorers.py``), and the PNG's size;
2. each offline animation's build time, HTML size and PDF contact sheet size;
3. step throughput of each optimizer, one run and a batch of 1000 runs;
4. if torch is installed: one step of adam, sgd (momentum) and rmsprop against torch.optim's
   default and fused steps, at 2 to 1,000,000 elements (``benchmarks/steps.py``);
5. if the book is built (``_build/html``) and Chromium is there: every live explorer of the
   site in headless Chromium, every knob moved from the keyboard, the median and max time
   from the key press to the redrawn figure (budget: median 16 ms), as the site check
   measures it (``tests/site/check_site.py``);
6. if ``notebooks/`` holds ``.ipynb`` files: each one executed top to bottom in a fresh
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

from adam_course import catalog, hump, landscapes, moments, optim, playground  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


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


EXPLORER_BUDGET_MS = (40.0, 60.0)  # the Python side of one slider move: median, max


def time_moves(explorer, slider, values):
    """Move one control through ``values`` as a reader does (each value once, no cache hit).

    Returns [moves, median ms, max ms, median CPU ms, median KB sent, verdict]. A move's time
    is the whole Python side: recompute, draw, encode the PNG. The CPU time is what the move
    would take on an idle machine (wall time also counts other processes' turns).
    """
    control, walls, cpus, sizes = explorer.controls[slider], [], [], []
    for value in values:
        if value == control.value:
            continue
        wall, cpu = time.perf_counter(), time.process_time()
        control.value = value  # what the reader's key press or drag does
        walls.append(1e3 * (time.perf_counter() - wall))
        cpus.append(1e3 * (time.process_time() - cpu))
        sizes.append(len(explorer.image.value))
    median, top = statistics.median(walls), max(walls)
    verdict = "ok" if median <= EXPLORER_BUDGET_MS[0] and top <= EXPLORER_BUDGET_MS[1] else "SLOW"
    return [len(walls), f"{median:.1f}", f"{top:.1f}", f"{statistics.median(cpus):.1f}",
            f"{statistics.median(sizes) / 1024:.1f}", verdict]


def explorer_cases():
    """(explorer, how it was made, slider, values): every explorer at its defaults, every slider
    over its whole range."""
    for name in playground.LANDSCAPES:
        for optimizer, steps in (("adam", 50), ("momentum", 50), ("adam", 300)):
            yield (lambda n=name, o=optimizer, s=steps: playground.explorer(n, o, steps=s),
                   f"playground {name}, {optimizer}, {steps} steps", "lr", playground.LR_VALUES)
    def chapter_5():
        return playground.explorer("beale", "adam", steps=300, lr=0.3)

    for slider, values in (("beta1", playground.BETA1_VALUES), ("beta2", playground.BETA2_VALUES),
                           ("eps", playground.EPS_VALUES), ("steps", range(10, 301, 10)),
                           ("optimizer", playground.OPTIMIZERS),
                           ("landscape", playground.LANDSCAPES)):
        yield chapter_5, "playground beale, adam, 300 steps (ch. 5)", slider, values
    for slider, values in (("lr", hump.LR_VALUES), ("noise", hump.NOISE_VALUES),
                           ("steps", range(10, 401, 10))):
        yield hump.explorer, "hump, 40 runs (ch. 2)", slider, values
    yield (lambda: hump.explorer(momentum=0.9), "hump, 40 runs, momentum", "momentum",
           hump.MOMENTUM_VALUES)
    for slider, values in (("beta1", moments.BETA1_VALUES), ("beta2", moments.BETA2_VALUES)):
        yield moments.explorer, "moments, 1000 steps (ch. 6)", slider, values


def bench_explorers():
    rows = []
    for make, setting, slider, values in explorer_cases():
        rows.append([setting, slider, *time_moves(make(), slider, values)])
    table(f"Explorers: one slider move, Python side (update + draw + PNG), every value of the "
          f"slider once (budget median {EXPLORER_BUDGET_MS[0]:.0f} ms, max "
          f"{EXPLORER_BUDGET_MS[1]:.0f} ms)",
          ["explorer", "slider", "moves", "median ms", "max ms", "CPU ms", "KB sent", ""],
          rows)


def bench_static():
    rows = []
    cases = [
        ("playground bowl, sgd", lambda: playground.static_explorer(
            "bowl", "sgd", steps=50, values=0.1 * np.geomspace(0.1, 2, 10)), 10),
        ("playground rosenbrock, adam", lambda: playground.static_explorer(
            "rosenbrock", "adam", steps=50, values=0.1 * np.geomspace(0.1, 2, 15)), 15),
        ("hump, noise", lambda: hump.static_explorer(
            "noise", [0.0, 1.0, 2.0, 3.0, 4.0, 6.0], steps=300), 6),
        ("moments", lambda: moments.static_explorer(
            [(0.5, 0.9), (0.8, 0.99), (0.9, 0.999), (0.95, 0.9995), (0.99, 0.9999)]), 5),
    ]
    for name, make, frames in cases:
        start = time.perf_counter()
        animation = make()
        page = animation.html
        rows.append([name, frames, ms(time.perf_counter() - start),
                     f"{len(page.encode()) / 1024:.0f}", f"{len(animation.sheet()) / 1024:.0f}"])
    table("Static explorers (offline animations)",
          ["animation", "frames", "build ms", "HTML KB", "PDF sheet KB"], rows)


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


def bench_browser_explorers():
    site = ROOT / "_build" / "html"
    sys.path.insert(0, str(ROOT / "tests" / "site"))
    import check_site

    if not (site / "index.html").is_file() or not Path(check_site.CHROMIUM).is_file():
        print("\nExplorers in the browser: no built site (make book) or no Chromium, skipped")
        return
    rows = [[page, ident, moves, f"{median:.1f}", f"{top:.1f}",
             "ok" if median <= check_site.REDRAW_BUDGET_MS else "SLOW"]
            for page, ident, moves, median, top in check_site.explorer_timings(site, moves=3)]
    script = site / "_static" / check_site.EXPLORER_SCRIPT.split("/")[-1]
    table(f"Explorers in the browser (headless Chromium, the built site): key press to "
          f"redrawn figure, every knob 3 times (budget: median {check_site.REDRAW_BUDGET_MS:g} "
          f"ms); the script: {script.stat().st_size / 1024:.1f} KB",
          ["page", "explorer", "moves", "median ms", "max ms", ""], rows)


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
    parser.add_argument("--skip-notebooks", action="store_true", help="do not run notebooks")
    args = parser.parse_args(argv)
    bench_explorers()
    bench_static()
    bench_steps()
    bench_against_torch()
    bench_browser_explorers()
    ok = True if args.skip_notebooks else bench_notebooks()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
