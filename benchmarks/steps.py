"""One optimizer step of adam_course against torch.optim (a script, not a test).

    .venv/bin/python benchmarks/steps.py [--rounds 7] [--quick]

For adam, sgd (momentum 0.9) and rmsprop, on one parameter array of 2, 1,000, 100,000 and
1,000,000 elements, prints the time of one step of

- adam_course: ``params, state = opt.step(params, grads, state)``, pure (new arrays);
- torch.optim's default step (on CPU that is the single-tensor, in-place implementation;
  torch's ``foreach`` kernels are for GPUs) and its ``foreach=True`` step;
- torch.optim's ``fused=True`` step: one multi-threaded kernel, the limit to aim at;

with torch set to 2 threads, and the ratio adam_course / torch default against the target
(at most 0.25 for 2 and 1,000 elements, at most 1.0 for 100,000 and 1,000,000). Each time is
the minimum over ``--rounds`` rounds; a round times a batch of steps of each implementation
in turn. A busy machine still distorts the ratios (torch's two threads wait for a core, and
its times balloon), so the table ends with how many cores other processes used meanwhile;
trust it when that is near 0. Timings are reported, never asserted. Run by
``benchmarks/run.py`` (``make bench``) when torch is installed.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from adam_course import optim

CASES = [(2, np.float32), (2, np.float64), (1_000, np.float32), (1_000, np.float64),
         (100_000, np.float32), (1_000_000, np.float32)]
OPTIMIZERS = {  # name: (adam_course factory, torch class name, torch keyword arguments)
    "adam": (lambda: optim.adam(lr=1e-3), "Adam", {"lr": 1e-3}),
    "sgd (momentum)": (lambda: optim.sgd(lr=1e-3, momentum=0.9), "SGD",
                       {"lr": 1e-3, "momentum": 0.9}),
    "rmsprop": (lambda: optim.rmsprop(lr=1e-3), "RMSprop", {"lr": 1e-3}),
}


def target(size):
    """The issue's target for adam_course / torch default at this size."""
    return 0.25 if size <= 1_000 else 1.0


def ours(make, x, g):
    """A function doing one pure step of adam_course (its state carried from call to call)."""
    opt = make()
    box = [x.copy(), opt.init(x)]

    def step():
        box[0], box[1] = opt.step(box[0], g, box[1])

    return step


def theirs(torch, name, kwargs, x, g, **impl):
    """torch's step function, or None if this implementation does not exist (fused RMSprop)."""
    p = torch.nn.Parameter(torch.from_numpy(x.copy()))
    p.grad = torch.from_numpy(g.copy())
    try:
        return getattr(torch.optim, name)([p], **kwargs, **impl).step
    except TypeError:
        return None


def per_call(fn, n):
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def measure(fns, rounds, budget=0.05):
    """Minimum seconds per call of each function, over rounds of interleaved batches, and the
    page faults per call (minor faults: first touches of freshly mapped memory)."""
    fns = [fn for fn in fns if fn is not None]
    for fn in fns:  # warm up (state, allocator, threads)
        for _ in range(3):
            fn()
    batch = [max(1, int(budget / max(per_call(fn, 1), 1e-7))) for fn in fns]
    best, faults = [float("inf")] * len(fns), [0] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            best[i] = min(best[i], per_call(fn, batch[i]))
            faults[i] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return best, [f / (rounds * n) for f, n in zip(faults, batch, strict=True)]


def cpu_seconds():
    """(CPU seconds used by the whole machine, by this process), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            jiffies = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    busy = sum(jiffies) - jiffies[3] - jiffies[4]  # all but idle and iowait
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return busy / os.sysconf("SC_CLK_TCK"), usage.ru_utime + usage.ru_stime


def others_busy(start, wall):
    """Cores that other processes kept busy on average since ``start = cpu_seconds()``."""
    end = cpu_seconds()
    if start is None or end is None:
        return None
    return max(0.0, (end[0] - start[0]) - (end[1] - start[1])) / wall


def rows(rounds, cases=CASES):
    import torch

    torch.set_num_threads(2)
    out = []
    for name, (make, torch_name, kwargs) in OPTIMIZERS.items():
        for size, dtype in cases:
            rng = np.random.default_rng(0)
            x = rng.standard_normal(size).astype(dtype)
            g = rng.standard_normal(size).astype(dtype)
            fns = [ours(make, x, g), theirs(torch, torch_name, kwargs, x, g),
                   theirs(torch, torch_name, kwargs, x, g, foreach=True),
                   theirs(torch, torch_name, kwargs, x, g, fused=True)]
            times, faults = measure(fns, rounds)
            times = iter(times)
            a, b, c, d = (next(times) if fn is not None else None for fn in fns)
            ratio = a / b
            verdict = "ok" if ratio <= target(size) else "MISSED"
            out.append([name, f"{size:,}", np.dtype(dtype).name, f"{1e6 * a:.1f}",
                        f"{1e6 * b:.1f}", f"{1e6 * c:.1f}", "-" if d is None else f"{1e6 * d:.1f}",
                        f"{ratio:.2f}", f"<= {target(size):g}", verdict,
                        "-" if d is None else f"{a / d:.2f}", f"{faults[0]:.0f}",
                        f"{faults[1]:.0f}"])
    return out


TITLE = ("One step against torch.optim with 2 threads (min over rounds; torch's default on CPU "
         "is its single-tensor step)")
HEADER = ["optimizer", "elements", "dtype", "ours µs", "torch µs", "foreach µs", "fused µs",
          "ours/torch", "target", "", "ours/fused", "ours faults", "torch faults"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    args = parser.parse_args(argv)
    from run import table  # the shared table printer of benchmarks/run.py

    report(table, 3 if args.quick else args.rounds)


def report(table, rounds):
    """Print the table, and how busy the rest of the machine was meanwhile."""
    start, wall = cpu_seconds(), time.perf_counter()
    table(TITLE, HEADER, rows(rounds))
    busy = others_busy(start, time.perf_counter() - wall)
    if busy is not None:
        verdict = "quiet enough to trust" if busy < 0.2 else "BUSY: the ratios are not reliable"
        print(f"  other processes kept {busy:.2f} of {os.cpu_count()} cores busy: {verdict}")


if __name__ == "__main__":
    main()
