"""Noisy gradients on the hump: many runs at once, a live explorer and its static twin.

Chapter 2 (and chapter 3, with ``momentum``). The picture has two panels: on the left the
hump ``f(x) = (x^2 - 1)^2 - tilt x`` with the point where every run ended; on the right
``x_t`` against ``t`` for every run, with the nearer (worse) minimum, the top of the hump
and the lower minimum marked. :func:`hump_runs` does the computing, :func:`hump_explorer`
moves it with sliders (needs a kernel) and :func:`static_hump_explorer` is the kernel-free
animation for the published book, one frame per value of one setting.
"""

from __future__ import annotations

import numbers

import ipywidgets as widgets
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from adam_course import landscapes, optim, plotting
from adam_course.widgets import CachedPicture, animation_html, check_settings, connect

__all__ = ["hump_runs", "HumpPicture", "HumpExplorer", "hump_explorer", "static_hump_explorer"]

_MAX_STEPS = 2000
_SLIDER_MAX_STEPS = 400  # the live explorer's limit: 40 runs x 400 steps redraw in < 100 ms
_MAX_RUNS = 200
_MAX_FRAMES = 30
_DIVERGED = 1e3  # a run with |x| above this is frozen and recorded as nan


def _count(name, value, top):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= top:
        raise ValueError(f"Invalid {name}: {value!r} (must be an integer in [1, {top}])")
    return int(value)


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            np.isfinite(value) and value > 0):
        raise ValueError(f"Invalid {name}: {value!r} (must be a positive finite number)")
    return float(value)


def hump_runs(lr=0.05, noise=1.0, steps=300, runs=40, momentum=0.0, seed=0, tilt=0.3):
    """``runs`` independent runs of SGD on the noisy hump; returns ``x_t``, shape (steps + 1, runs).

    Chapter 2. Every run starts at the hump's default start ``x_0 = -1.6`` and takes
    ``x_t = x_{t-1} - lr * (f'(x_{t-1}) + noise * z_t)`` with ``z_t ~ N(0, 1)`` drawn from
    ``landscapes.stochastic(hump(tilt), noise, seed)``, so the same seed gives the same ``z``
    for every ``noise`` and ``lr``. With ``momentum > 0`` it is torch's heavy-ball SGD
    (chapter 3). A run whose ``|x|`` passes 1000 is recorded as nan from then on.
    """
    lr = _positive("lr", lr)
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not (
            0 <= momentum < 1):
        raise ValueError(f"Invalid momentum: {momentum!r} (must be a number in [0, 1))")
    steps, runs = _count("steps", steps, _MAX_STEPS), _count("runs", runs, _MAX_RUNS)
    landscape = landscapes.stochastic(landscapes.hump(tilt), noise=noise, seed=seed)
    x0 = np.full((runs, 1), landscape.start[0])
    trajectory = optim.minimize(optim.sgd(lr=lr, momentum=momentum), landscape.grad, x0, steps,
                                divergence_threshold=_DIVERGED)
    return trajectory[:, :, 0]


class HumpPicture(CachedPicture):
    """The two-panel picture of :func:`hump_runs`, on its own Agg canvas. Chapter 2.

    ``show(xs, name, title)`` puts the runs ``xs`` (shape (steps + 1, runs)) on it, drawn in
    the colour of optimizer ``name``; ``png()`` renders it. The curve, axes and labels are
    drawn once and cached; a redraw only blits the runs and the title on top (fast).
    """

    def __init__(self, tilt=0.3, figsize=(7.0, 3.0), dpi=72):
        self.landscape = ls = landscapes.hump(tilt)
        (lo, hi), = ls.window
        with plotting.book_style():
            self.figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
            FigureCanvasAgg(self.figure)
            self.curve_ax, self.time_ax = self.figure.subplots(1, 2, width_ratios=(1, 1.4))
            xs = np.linspace(lo, hi, 300)[:, None]
            self.curve_ax.plot(xs[:, 0], ls.f(xs), color="#555555", linewidth=1.5)
            self.curve_ax.axvline(ls.hump_top[0], color="0.6", linestyle=":", linewidth=1)
            self.ends, = self.curve_ax.plot([], [], "o", markersize=5, alpha=0.5, zorder=3)
            self.curve_ax.plot(ls.local_minimum[0], ls.local_min_value, "o", markersize=8,
                               color="white", markeredgecolor="#222222", zorder=4)
            self.curve_ax.plot(ls.minimum[0], ls.min_value, "*", markersize=13, color="white",
                               markeredgecolor="#222222", zorder=4)
            self.curve_ax.set(xlim=(lo, hi), xlabel="$x$", ylabel="$f(x)$",
                              title="where the runs end")
            for y, text in ((ls.local_minimum[0], "worse\nminimum"),
                            (ls.hump_top[0], "top of\nthe hump"),
                            (ls.minimum[0], "lower\nminimum")):
                self.time_ax.axhline(y, color="0.45", linestyle=":" if "top" in text else "--",
                                     linewidth=1)
                self.time_ax.annotate(text, (1.0, y), xycoords=("axes fraction", "data"),
                                      xytext=(4, 0), textcoords="offset points", ha="left",
                                      va="center", fontsize=8, color="0.3")
            self.paths, = self.time_ax.plot([], [], linewidth=0.7, alpha=0.35)
            self.time_ax.set(xlim=(0, 1000), ylim=(lo - 0.2, hi + 0.2), xlabel="step $t$",
                             ylabel="$x_t$",
                             title="every run, step by step")
            self.title = self.figure.suptitle("Ag", fontsize=11)
            self.live = (self.paths, self.ends, self.title)
            self._cache()

    def show(self, xs, name="sgd", title=None):
        """Draw the runs ``xs`` of shape (steps + 1, runs); nan rows are a diverged run."""
        xs = np.asarray(xs, dtype=float)
        steps = xs.shape[0] - 1
        if self.time_ax.get_xlim() != (0, max(steps, 1)):  # new ticks: redraw the background
            self.time_ax.set_xlim(0, max(steps, 1))
            self.figure.canvas.draw()
            self.background = self.figure.canvas.copy_from_bbox(self.figure.bbox)
        color = plotting.color(name)
        gap = np.full((1, xs.shape[1]), np.nan)  # one line, runs separated by nan
        t = np.arange(steps + 1, dtype=float)[:, None] * np.ones(xs.shape[1])
        self.paths.set_data(np.vstack([t, gap]).T.ravel(), np.vstack([xs, gap]).T.ravel())
        self.paths.set_color(color)
        last = xs[-1][np.isfinite(xs[-1])][:, None]
        self.ends.set_data(last[:, 0], self.landscape.f(last))
        self.ends.set_color(color)
        if title is not None:
            self.title.set_text(title)


def _title(xs, landscape, lr, noise, momentum):
    name = "momentum" if momentum > 0 else "sgd"
    last = xs[-1]
    past = int(np.sum(last > landscape.hump_top[0]))
    lost = int(np.sum(~np.isfinite(last)))
    knobs = f"lr = {lr:g}, noise = {noise:g}" + (f", momentum = {momentum:g}" if momentum else "")
    text = f"{plotting.label(name)}, {knobs}: {past} of {xs.shape[1]} runs end past the hump"
    return name, text + (f", {lost} diverged" if lost else "")


class HumpExplorer(widgets.VBox):
    """Sliders for lr, noise, steps (and momentum) over :class:`HumpPicture`. Chapter 2.

    ``update(**values)`` (what every slider calls) recomputes the runs and redraws.
    """

    def __init__(self, lr=0.05, noise=1.0, steps=300, runs=40, momentum=None, seed=0):
        super().__init__()
        self.runs, self.seed = _count("runs", runs, _MAX_RUNS), seed
        self.settings = {"lr": lr, "noise": noise, "steps": steps,
                         "momentum": 0.0 if momentum is None else momentum}
        hump_runs(lr, noise, 1, 1, self.settings["momentum"])  # check the numbers
        _count("steps", steps, _SLIDER_MAX_STEPS)
        self.picture = HumpPicture()
        short = {"style": {"description_width": "70px"}}
        self.controls = {
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-3, max=-0.5, step=0.05,
                                         readout_format=".3g", description="lr", **short),
            "noise": widgets.FloatSlider(value=noise, min=0.0, max=10.0, step=0.25,
                                         description="noise", **short),
            "steps": widgets.IntSlider(value=steps, min=10, max=_SLIDER_MAX_STEPS, step=10,
                                       description="steps", **short),
        }
        if momentum is not None:
            self.controls["momentum"] = widgets.FloatSlider(
                value=momentum, min=0.0, max=0.99, step=0.01, description="momentum", **short)
        connect(self.controls, self.update)
        self.image = widgets.Image(format="png")
        self.children = [widgets.HBox(list(self.controls.values())[:2]),
                         widgets.HBox(list(self.controls.values())[2:]), self.image]
        self.update()

    def update(self, **values):
        """Change some settings, recompute the runs and redraw; returns ``x_t``."""
        check_settings(values, self.settings)
        new = {**self.settings, **values}
        self.xs = hump_runs(new["lr"], new["noise"], new["steps"], self.runs, new["momentum"],
                            self.seed)
        self.settings = new
        name, title = _title(self.xs, self.picture.landscape, new["lr"], new["noise"],
                             new["momentum"])
        self.picture.show(self.xs, name, title)
        self.image.value = self.picture.png()
        return self.xs


def hump_explorer(lr=0.05, noise=1.0, steps=300, runs=40, momentum=None, seed=0):
    """The live hump explorer (needs a kernel); ``momentum=None`` hides that slider. Chapter 2."""
    return HumpExplorer(lr=lr, noise=noise, steps=steps, runs=runs, momentum=momentum, seed=seed)


def static_hump_explorer(param="noise", values=(0.0, 1.0, 2.0, 3.0, 4.0), lr=0.05, noise=1.0,
                         steps=300, runs=40, momentum=0.0, seed=0, alt=None, fps=2, dpi=72):
    """A kernel-free animation of :class:`HumpPicture`, one frame per value of ``param``.

    Chapter 2. ``param`` is ``"lr"``, ``"noise"`` or ``"momentum"``; the other settings stay
    fixed. Returns ``IPython.display.HTML`` with the frames embedded as PNG, no external
    resources, and ``alt`` (or a generated description) as the image's alt text.
    """
    if param not in ("lr", "noise", "momentum"):
        raise ValueError(f"Invalid param: {param!r} (must be lr, noise or momentum)")
    values = [float(v) for v in values]
    if not 1 <= len(values) <= _MAX_FRAMES:
        raise ValueError(f"Invalid values: {len(values)} values (must be 1 to {_MAX_FRAMES})")
    picture = HumpPicture(dpi=dpi)
    picture.show(np.zeros((steps + 1, 1)))  # the time axis of every frame
    picture.flatten()
    frames = []
    for value in values:
        knobs = {"lr": lr, "noise": noise, "momentum": momentum, param: value}
        xs = hump_runs(knobs["lr"], knobs["noise"], steps, runs, knobs["momentum"], seed)
        frames.append((xs, *_title(xs, picture.landscape, **knobs)))
    if alt is None:
        alt = (f"Animation: {runs} runs on the hump, one frame per value of {param} from "
               f"{values[0]:g} to {values[-1]:g}.")

    def frame(i):
        xs, name, title = frames[i]
        picture.show(xs, name, title)
        return picture.paths, picture.ends, picture.title

    animation = FuncAnimation(picture.figure, frame, frames=len(values), interval=1000 / fps)
    page = animation_html(animation, alt, fps=fps, dpi=dpi)
    picture.figure.clear()
    return page
