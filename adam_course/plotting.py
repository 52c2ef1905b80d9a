"""One look for the whole book: a colour, line style and marker per optimizer.

Each optimizer's look is its record in :mod:`adam_course.catalog` (colour-blind-safe colours,
and line styles and markers that differ too, so figures still read in greyscale). A run is
named by its optimizer, with anything after the first word kept as a note: ``"adam, lr=0.1"`` is
drawn in Adam's colour and labelled ``"Adam, lr=0.1"``. Several runs of one optimizer in one
figure get a dark-to-light ramp of its colour.

Every function returns its Axes (or Figure) and never calls ``plt.show()``.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import matplotlib as mpl
import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.colors import BoundaryNorm, LinearSegmentedColormap, to_hex, to_rgb

from adam_course import checks
from adam_course.catalog import CATALOG

__all__ = ["CMAP", "BOOK_RC", "color", "label", "style", "book_style", "apply_book_style",
           "contour", "trajectories", "curve_1d", "loss_curves", "compare"]

CMAP = LinearSegmentedColormap.from_list("book", ["#c3d1e0", "#e2e8ef", "#fafafa"])
"""The landscape colormap: pale blue-grey (low) to near-white (high); no optimizer colour."""
_CONTOUR_LINE = "#7d8a99"

BOOK_RC = {
    "figure.figsize": (6.0, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=list(dict.fromkeys(e.color for e in CATALOG.values()))),
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "none",
    "lines.linewidth": 1.6,
    "lines.markersize": 4,
    "contour.negative_linestyle": "solid",
}
"""The book's matplotlib settings (see :func:`book_style`)."""


# --------------------------------------------------------------------------------------------
# Names, colours and labels
# --------------------------------------------------------------------------------------------

def _split(name):
    """``"Adam, lr=0.1"`` -> ``(the catalog's adam, ", lr=0.1")``; unknown names raise."""
    match = re.match(r"\s*([A-Za-z0-9]+)(.*)", str(name), flags=re.DOTALL)
    key = match.group(1).lower() if match else ""
    if key not in CATALOG:
        checks.fail("optimizer name", name, "a name whose first word is one of "
                    + ", ".join(CATALOG))
    return CATALOG[key], match.group(2)


def color(name):
    """The book's colour for an optimizer; ``name`` may carry a note (``"adam, lr=0.1"``).

    Chapter 1.
    """
    return _split(name)[0].color


def label(name):
    """The legend label: ``"adam, lr=0.1"`` -> ``"Adam, lr=0.1"``; ``"gd"`` -> ``"GD"``.

    Chapter 2.
    """
    entry, note = _split(name)
    return entry.label + note


def style(name):
    """Keyword arguments for ``ax.plot``: colour, line style, marker and label. Chapter 3."""
    entry, note = _split(name)
    kwargs = {"color": entry.color, "linestyle": entry.linestyle, "marker": entry.marker,
              "label": entry.label + note}
    if entry.outline:
        kwargs["markeredgecolor"] = entry.outline
        kwargs["path_effects"] = [pe.Stroke(linewidth=2.6, foreground=entry.outline),
                                  pe.Normal()]
    return kwargs


def _shade(hex_color, amount):
    """Mix a colour with white (amount > 0) or black (amount < 0)."""
    rgb = np.array(to_rgb(hex_color))
    target = np.ones(3) if amount > 0 else np.zeros(3)
    return to_hex(rgb + abs(amount) * (target - rgb))


def _styles(names):
    """One style per run. n > 1 runs of one optimizer get a dark-to-light ramp of its colour
    (in the order given) and different line styles and markers."""
    keys = [_split(name)[0].name for name in names]
    seen, styles = {}, []
    for name, key in zip(names, keys, strict=True):
        n, k = keys.count(key), seen.get(key, 0)
        seen[key] = k + 1
        s = style(name)
        if n > 1:
            dark = to_rgb(s["color"]) == (0.0, 0.0, 0.0)
            ramp = np.linspace(0.0, 0.7, n) if dark else np.linspace(-0.45, 0.55, n)
            s["color"] = _shade(s["color"], ramp[k])
            s["linestyle"] = ["-", "--", ":", "-."][k % 4]
            s["marker"] = "os^vDP"[k % 6]
        styles.append(s)
    return styles


# --------------------------------------------------------------------------------------------
# Style
# --------------------------------------------------------------------------------------------

@contextmanager
def book_style():
    """Use the book's matplotlib settings inside a ``with`` block (every figure here does)."""
    with mpl.rc_context(BOOK_RC):
        yield


def apply_book_style():
    """Use the book's matplotlib settings from now on (for a notebook's first cell). Chapter 1."""
    mpl.rcParams.update(BOOK_RC)


def _axes(ax, figsize=None):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _check_dim(landscape, dim, what):
    if landscape.dim != dim:
        checks.fail("landscape", checks.described(f"{landscape.name!r} with dim={landscape.dim}"),
                    f"a landscape with dim={dim} for {what}")


def _path(name, path, dim):
    path = np.asarray(path, dtype=float)
    if path.ndim != 2 or path.shape[1] != dim:
        checks.fail(f"runs[{name!r}]", checks.described(f"shape {path.shape}"),
                    f"(steps + 1, {dim})")
    finite = np.all(np.isfinite(path), axis=1)
    return path[finite], not finite.all()


# --------------------------------------------------------------------------------------------
# Landscapes and trajectories
# --------------------------------------------------------------------------------------------

def _grid(landscape, resolution):
    (x0, x1), (y0, y1) = landscape.window
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    X, Y = np.meshgrid(xs, ys)
    return X, Y, landscape.f(np.stack([X, Y], axis=-1))


def _levels(Z, base, n):
    """n levels above ``base``: log-spaced when a few walls dwarf the rest, else spaced like
    squares (so that a bowl gets evenly spaced rings)."""
    height = Z - base
    top, typical = height.max(), np.median(height)
    if top > 10 * typical:
        low = max(np.percentile(height, 0.5), top * 1e-6)
        return base + np.concatenate([[0.0], np.geomspace(low, top, n)])
    return base + top * np.linspace(0.0, 1.0, n + 1) ** 2


def contour(landscape, ax=None, levels=15, resolution=150, filled=True):
    """Draw a 2-D landscape on its window as quiet contours, with a star at the minimum.

    Under :func:`trajectories`. Levels are log-spaced above the minimum when the range is
    large (Rosenbrock, Beale); pass an array for explicit levels.
    """
    _check_dim(landscape, 2, "contour")
    with book_style():
        ax = _axes(ax)
        X, Y, Z = _grid(landscape, resolution)
        base = min(landscape.min_value, Z.min())
        lv = _levels(Z, base, levels) if np.ndim(levels) == 0 else np.asarray(levels)
        if filled:
            norm = BoundaryNorm(lv, CMAP.N, extend="both")  # one even colour step per band
            ax.contourf(X, Y, Z, levels=lv, cmap=CMAP, norm=norm, extend="both")
        ax.contour(X, Y, Z, levels=lv, colors=_CONTOUR_LINE, linewidths=0.5, alpha=0.6)
        minima = np.atleast_2d(getattr(landscape, "minima", landscape.minimum))
        ax.plot(minima[:, 0], minima[:, 1], linestyle="none", marker="*", markersize=13,
                color="white", markeredgecolor="#222222", markeredgewidth=0.9, zorder=5,
                label="_minimum")
        (x0, x1), (y0, y1) = landscape.window
        ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel=r"$\theta_1$", ylabel=r"$\theta_2$")
        ax.grid(False)
    return ax


def trajectories(landscape, runs, ax=None, title=None, legend=True, levels=15):
    """Contours of a 2-D landscape with one path per run.

    Chapter 1. ``runs`` maps a name (``"adam, lr=0.1"``) to a trajectory of shape
    ``(steps + 1, 2)``, e.g. from ``optim.minimize``. Rows of nan (a diverged run) are skipped,
    the last finite point gets a cross and the label says "(diverged)".
    """
    _check_dim(landscape, 2, "trajectories")
    with book_style():
        ax = contour(landscape, ax=ax, levels=levels)
        for (name, path), s in zip(runs.items(), _styles(runs), strict=True):
            points, diverged = _path(name, path, 2)
            if diverged:
                s["label"] += " (diverged)"
            every = max(1, len(points) // 25)
            ax.plot(points[:, 0], points[:, 1], markevery=every, markersize=3.5,
                    linewidth=1.4, zorder=3, **s)
            if len(points):
                ax.plot(*points[0], marker="o", markersize=6, color=s["color"],
                        markerfacecolor="white", zorder=4, label="_start")
            if diverged and len(points):
                ax.plot(*points[-1], marker="X", markersize=8, color=s["color"],
                        markeredgecolor="black", zorder=4, label="_diverged")
        if title:
            ax.set_title(title)
        if legend and runs:
            ax.legend(loc="best")
    return ax


def curve_1d(landscape, runs, ax=None, title=None, legend=True):
    """A 1-D landscape as a curve, with each run's iterates as points on it.

    Chapter 1. ``runs`` maps a name to a trajectory of shape ``(steps + 1, 1)``. The global
    minimum gets a star, a ``local_minimum`` (the hump's) an open circle. The x-range is the
    landscape's window, widened (up to 5 times) to show iterates that lie outside it.
    """
    _check_dim(landscape, 1, "curve_1d")
    with book_style():
        ax = _axes(ax)
        paths = {name: _path(name, path, 1) for name, path in runs.items()}
        (x0, x1), = landscape.window
        centre, half = (x0 + x1) / 2, (x1 - x0) / 2
        seen = np.concatenate([[x0, x1], *(points[:, 0] for points, _ in paths.values())])
        x0 = max(seen.min() - 0.05 * half, centre - 5 * half) if seen.min() < x0 else x0
        x1 = min(seen.max() + 0.05 * half, centre + 5 * half) if seen.max() > x1 else x1
        xs = np.linspace(x0, x1, 400)[:, None]
        fx = landscape.f(xs)
        ax.plot(xs[:, 0], fx, color="#555555", linewidth=1.5, zorder=1, label="_f")
        for (points, diverged), s in zip(paths.values(), _styles(runs), strict=True):
            if diverged:
                s["label"] += " (diverged)"
            s["linestyle"] = "-"
            ax.plot(points[:, 0], landscape.f(points), linewidth=0.7, markersize=5, alpha=0.85,
                    zorder=3, **s)
        ax.plot(landscape.minimum[0], landscape.min_value, marker="*", markersize=13,
                color="white", markeredgecolor="#222222", zorder=5, label="_minimum")
        if hasattr(landscape, "local_minimum"):
            ax.plot(landscape.local_minimum[0], landscape.f(landscape.local_minimum), marker="o",
                    markersize=7, color="white", markeredgecolor="#222222", zorder=5,
                    label="_local_minimum")
        margin = 0.06 * (fx.max() - fx.min())
        ax.set(xlim=(x0, x1), ylim=(fx.min() - margin, fx.max() + margin), xlabel="$x$",
               ylabel="$f(x)$")
        if title:
            ax.set_title(title)
        if legend and runs:
            ax.legend(loc="best")
    return ax


def loss_curves(curves, ax=None, log=True, xlabel="step", ylabel="loss", title=None):
    """Loss (or ``f(x_t) - f*``) against step, one curve per run, log scale by default.

    Chapter 1. ``curves`` maps a name to a 1-D array; non-finite and (on a log scale)
    non-positive values are left out.
    """
    with book_style():
        ax = _axes(ax)
        for (name, values), s in zip(curves.items(), _styles(curves), strict=True):
            values = np.asarray(values, dtype=float)
            if values.ndim != 1:
                checks.fail(f"curves[{name!r}]", checks.described(f"shape {values.shape}"),
                            "1-D")
            every = max(1, len(values) // 12)
            ax.plot(np.arange(len(values)), values, markevery=every, markersize=4, **s)
        if log:
            ax.set_yscale("log", nonpositive="mask")
        ax.set(xlabel=xlabel, ylabel=ylabel)
        if title:
            ax.set_title(title)
        if curves:
            ax.legend(loc="best")
    return ax


def compare(landscapes, runs_per_landscape, ncols=2, titles=None):
    """A grid of panels, one per landscape, with the runs on each and one shared legend.

    Chapter 5. ``runs_per_landscape`` is a list of run dicts in the order of ``landscapes``
    (or a dict keyed by landscape name). 2-D landscapes get :func:`trajectories`, 1-D ones
    :func:`curve_1d`. Returns the Figure.
    """
    landscapes = list(landscapes)
    if isinstance(runs_per_landscape, dict):
        runs_per_landscape = [runs_per_landscape[ls.name] for ls in landscapes]
    runs_per_landscape = list(runs_per_landscape)
    if len(runs_per_landscape) != len(landscapes):
        checks.fail("runs_per_landscape", checks.described(f"{len(runs_per_landscape)} run dicts"),
                    f"one run dict per landscape ({len(landscapes)})")
    ncols = checks.integer(ncols, "ncols", lo=1)
    ncols = min(ncols, max(len(landscapes), 1))
    nrows = -(-len(landscapes) // ncols)
    titles = titles or [ls.name for ls in landscapes]
    with book_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 2.9 * nrows + 0.5),
                                 squeeze=False)
        handles = {}
        for ax, ls, runs, title in zip(axes.flat, landscapes, runs_per_landscape, titles,
                                       strict=False):
            draw = trajectories if ls.dim == 2 else curve_1d
            draw(ls, runs, ax=ax, title=title, legend=False)
            for line in ax.get_lines():
                text = line.get_label().removesuffix(" (diverged)")
                if not text.startswith("_"):
                    handles.setdefault(text, line)
        for ax in axes.flat[len(landscapes):]:
            ax.remove()
        if handles:
            fig.legend(list(handles.values()), list(handles), loc="outside lower center",
                       ncols=min(len(handles), 5))
    return fig
