"""Hyperparameter sweeps: a whole grid of runs in one batched array, and its heat map.

Chapter 5. Every point of a grid of hyperparameters becomes one run on the leading "runs"
axis of ``optim.minimize``, and the optimizer gets each hyperparameter as an array with one
value per run: a grid of hundreds of runs costs one loop of ``steps`` steps over arrays::

    losses = sweeps.grid_sweep(lambda lr, beta1: optim.adam(lr=lr, betas=(beta1, 0.999)),
                               landscapes.beale(), steps=300,
                               beta1=[0.5, 0.9, 0.99], lr=np.geomspace(1e-3, 1, 13))
    losses.shape                                   # (3, 13): one final loss per grid point
    sweeps.heatmap(losses, x=np.geomspace(1e-3, 1, 13), y=[0.5, 0.9, 0.99])
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

from adam_course import checks, landscapes, optim, plotting

__all__ = ["grid_sweep", "heatmap"]

HEATMAP_CMAP = "cividis"
"""Heat maps use cividis: perceptually uniform and readable with every colour-vision type."""


def _axis_values(name, values):
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        checks.fail(name, values, "a non-empty 1-D sequence of finite numbers")
    return values


def grid_sweep(make_optimizer, landscape, steps, *, x0=None, divergence_threshold=1e4, **axes):
    r"""The final loss gap :math:`f(\theta_T) - f^\star` at every point of a hyperparameter grid.

    Chapter 5. ``axes`` maps a hyperparameter name to its 1-D values (``lr=[...]``,
    ``beta1=[...]``); the result has shape ``(len(first axis), len(second axis), ...)`` in the
    order given. All grid points run at once: ``make_optimizer`` is called once, with each
    name bound to an array of R values (R = the number of grid points), and
    ``optim.minimize`` runs R copies of ``x0`` (default ``landscape.start``) for ``steps``
    steps. A run that leaves ``|x| <= divergence_threshold`` (or stops being finite) gives
    ``nan``.
    """
    if not isinstance(landscape, landscapes.Landscape):
        checks.fail("landscape", landscape, "a Landscape, e.g. landscapes.beale()")
    if not axes:
        checks.fail("axes", checks.described("none given"), "at least one, e.g. lr=[0.01, 0.1]")
    values = {name: _axis_values(name, v) for name, v in axes.items()}
    mesh = np.meshgrid(*values.values(), indexing="ij")
    shape = mesh[0].shape
    flat = {name: m.ravel() for name, m in zip(values, mesh, strict=True)}
    start = landscape.start if x0 is None else np.asarray(x0, dtype=float)
    if start.shape != (landscape.dim,):
        checks.fail("x0", checks.described(f"shape {start.shape}"),
                    f"({landscape.dim},), one starting point shared by every run")
    runs = np.tile(start, (mesh[0].size, 1))
    opt = make_optimizer(**flat)
    trajectory = optim.minimize(opt, landscape.grad, runs, steps,
                                divergence_threshold=divergence_threshold)
    gap = landscape.f(trajectory[-1]) - landscape.min_value
    return gap.reshape(shape)


def _ticks(ax, which, values, max_ticks):
    every = max(1, -(-len(values) // max_ticks))
    positions = np.arange(0, len(values), every)
    labels = [f"{values[i]:.3g}" for i in positions]
    if which == "x":
        ax.set_xticks(positions, labels, rotation=45 if len(labels) > 6 else 0)
    else:
        ax.set_yticks(positions, labels)


def heatmap(values, x, y, ax=None, xlabel="lr", ylabel=None, title=None,
            colorbar_label=r"final loss gap $f(\theta_T) - f^\star$", floor=1e-16, max_xticks=9,
            max_yticks=16, mark_best=True):
    """Draw a grid of (positive) final losses as a heat map on a log colour scale.

    Chapter 5. ``values`` has shape ``(len(y), len(x))``, as :func:`grid_sweep` returns it for
    ``grid_sweep(..., y_name=y, x_name=x)``. Cells are evenly spaced and labelled with their
    values (so a log grid of learning rates reads naturally; at most ``max_xticks`` and
    ``max_yticks`` labels). Values below ``floor`` (a run that reached round-off) are drawn
    as ``floor``; ``nan`` cells (diverged runs) are light grey with a cross; the best cell
    gets a white star. Colours: cividis (:data:`HEATMAP_CMAP`). Returns the Axes.
    """
    values = np.asarray(values, dtype=float)
    x, y = _axis_values("x", x), _axis_values("y", y)
    if values.shape != (len(y), len(x)):
        checks.fail("values", checks.described(f"shape {values.shape}"),
                    f"(len(y), len(x)) = ({len(y)}, {len(x)})")
    floor = checks.number(floor, "floor", lo=0, lo_open=True)
    diverged = np.isnan(values)
    if diverged.all():
        checks.fail("values", checks.described("all nan (every run diverged)"),
                    "a grid with a finite value to draw")
    if np.any(values[~diverged] < 0):
        checks.fail("values", checks.described("negative entries"),
                    "gaps >= 0 for a log colour scale")
    shown = np.ma.masked_invalid(np.maximum(values, floor))
    with plotting.book_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(7.0, 4.0))
        cmap = plt.get_cmap(HEATMAP_CMAP).with_extremes(bad="#e6e6e6")
        norm = LogNorm(vmin=shown.min(), vmax=max(shown.max(), shown.min() * 10))
        mesh = ax.pcolormesh(np.arange(len(x) + 1) - 0.5, np.arange(len(y) + 1) - 0.5, shown,
                             cmap=cmap, norm=norm, shading="flat")
        ax.figure.colorbar(mesh, ax=ax, label=colorbar_label)
        rows, cols = np.nonzero(diverged)
        ax.plot(cols, rows, linestyle="none", marker="x", markersize=5, color="#555555",
                label="diverged" if len(rows) else "_diverged")
        if mark_best:
            best = np.unravel_index(int(np.nanargmin(values)), values.shape)
            ax.plot(best[1], best[0], linestyle="none", marker="*", markersize=14,
                    color="white", markeredgecolor="#222222", markeredgewidth=0.9,
                    label="best")
        _ticks(ax, "x", x, max_xticks)
        _ticks(ax, "y", y, max_yticks)
        ax.set(xlim=(-0.5, len(x) - 0.5), ylim=(-0.5, len(y) - 0.5), xlabel=xlabel,
               ylabel=ylabel or "")
        ax.grid(False)
        if title:
            ax.set_title(title)
        if any(not h.get_label().startswith("_") for h in ax.get_lines()):
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False,
                      borderaxespad=0.1)
    return ax
