"""Noisy gradients on the hump: many runs of SGD at once, a live explorer and its animation.

The picture has two panels: on the left the hump ``f(x) = (x^2 - 1)^2 - tilt x`` with the
points where the runs ended; on the right ``x_t`` against ``t`` for every run, with the
nearer (worse) minimum, the top of the hump and the lower minimum marked. :func:`sgd_runs`
does the computing, :func:`explorer` moves it with sliders (needs a kernel) and
:func:`static_explorer` is its counterpart for the published book, one frame per value of one
setting.
"""

from __future__ import annotations

import functools
import html

import ipywidgets as widgets
import numpy as np

from adam_course import checks, landscapes, optim, picture, plotting, web

__all__ = ["sgd_runs", "describe", "HumpPicture", "Explorer", "explorer", "static_explorer",
           "LR_VALUES", "NOISE_VALUES", "MOMENTUM_VALUES"]

MAX_STEPS = 2000
SLIDER_MAX_STEPS = 400  # the live explorer's limit (and its time axis)
MAX_RUNS = 200
_DIVERGED = 1e3  # a run with |x| above this is frozen and recorded as nan

LR_VALUES = tuple(float(f"{m}e{k}") for k in range(-3, 0) for m in (1, 2, 3, 5))
NOISE_VALUES = tuple(k / 2 for k in range(21))
MOMENTUM_VALUES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)
RUNS_VALUES = (1, 2, 5, 10, 20, 40, 100, 200)
"""The sliders' values; a value given in code joins its slider."""


def sgd_runs(lr=0.05, noise=1.0, steps=300, runs=40, momentum=0.0, seed=0, tilt=0.3):
    """``runs`` runs of SGD on the noisy hump at once; returns ``x_t``, shape (steps + 1, runs).

    Chapter 2. Every run starts at the hump's start ``x_0 = -1.6`` and takes
    ``x_t = x_{t-1} - lr * (f'(x_{t-1}) + noise * z_t)`` with ``z_t ~ N(0, 1)`` drawn by
    ``landscapes.stochastic(hump(tilt), noise, seed)``, so the same seed gives the same ``z``
    for every ``noise`` and ``lr``. With ``momentum > 0`` it is torch's heavy-ball SGD.
    A run whose ``|x|`` passes 1000 is recorded as nan from then on.
    """
    lr = checks.number(lr, "lr", lo=0, lo_open=True)
    noise = checks.number(noise, "noise", lo=0)
    momentum = checks.number(momentum, "momentum", lo=0, hi=1, hi_open=True)
    steps = checks.integer(steps, "steps", lo=1, hi=MAX_STEPS)
    count = checks.integer(runs, "runs", lo=1, hi=MAX_RUNS)
    hump = landscapes.hump(tilt)
    x0 = np.full((count, 1), hump.start[0])
    xs = picture.run(optim.sgd(lr=lr, momentum=momentum),
             lambda: landscapes.stochastic(hump, noise=noise, seed=seed).grad, x0, steps,
             _DIVERGED)
    return xs[:, :, 0]


def describe(xs, hump, lr, noise, momentum=None):
    """The colour name and the title of a picture of ``xs``: how many runs end past the hump.

    ``momentum=None`` leaves momentum out of the title (plain SGD).
    """
    name = "momentum" if momentum else "sgd"
    last = xs[-1]
    past = int(np.sum(last > hump.hump_top[0]))
    lost = int(np.sum(~np.isfinite(last)))
    knobs = [f"lr = {picture.readout(lr)}", f"noise = {picture.readout(noise)}"]
    if momentum is not None:
        knobs.append(f"momentum = {picture.readout(momentum)}")
    knobs.append(f"{xs.shape[0] - 1} steps")
    text = (f"{plotting.label(name)}, {', '.join(knobs)}: {past} of {xs.shape[1]} runs end "
            "past the hump")
    return name, text + (f", {lost} diverged" if lost else "")


class HumpPicture(picture.Picture):
    """The two panels of :func:`sgd_runs`: where the runs end, and each run against ``t``.

    ``show(xs, name, text)`` puts the runs ``xs`` (shape (steps + 1, runs)) on it in the colour
    of optimizer ``name``; the time axis goes to ``steps``; with ``titled`` the picture
    carries ``text`` as its title (the live explorer shows it as a caption instead).
    """

    def __init__(self, tilt=0.3, steps=SLIDER_MAX_STEPS, figsize=(7.0, 3.0), dpi=72,
                 titled=False):
        self.hump = hump = landscapes.hump(tilt)
        (lo, hi), = hump.window
        with plotting.book_style():
            super().__init__(figsize, dpi)
            curve_ax, time_ax = self.figure.subplots(1, 2, width_ratios=(1, 1.4))
            xs = np.linspace(lo, hi, 300)[:, None]
            curve_ax.plot(xs[:, 0], hump.f(xs), color="#555555", linewidth=1.5)
            curve_ax.axvline(hump.hump_top[0], color="0.6", linestyle=":", linewidth=1)
            self.ends, = curve_ax.plot([], [], "o", markersize=5, alpha=0.5, zorder=3)
            curve_ax.plot(hump.local_minimum[0], hump.local_min_value, "o", markersize=8,
                          color="white", markeredgecolor="#222222", zorder=4)
            curve_ax.plot(hump.minimum[0], hump.min_value, "*", markersize=13, color="white",
                          markeredgecolor="#222222", zorder=4)
            curve_ax.set(xlim=(lo, hi), xlabel="$x$", ylabel="$f(x)$",
                         title="where the runs end")
            for y, text in ((hump.local_minimum[0], "worse\nminimum"),
                            (hump.hump_top[0], "top of\nthe hump"),
                            (hump.minimum[0], "lower\nminimum")):
                time_ax.axhline(y, color="0.45", linestyle=":" if "top" in text else "--",
                                linewidth=1)
                time_ax.annotate(text, (1.0, y), xycoords=("axes fraction", "data"),
                                 xytext=(4, 0), textcoords="offset points", ha="left",
                                 va="center", fontsize=8, color="0.3")
            self.paths, = time_ax.plot([], [], linewidth=0.7, alpha=0.35,
                                       solid_joinstyle="miter")  # round joins: 15% slower
            time_ax.set(xlim=(0, steps), ylim=(lo - 0.2, hi + 0.2), xlabel="step $t$",
                        ylabel="$x_t$", title="every run, step by step")
            self.curve_ax, self.time_ax = curve_ax, time_ax
            titles = (self.figure.suptitle("Ag", fontsize=11),) if titled else ()
            self.title = titles[0] if titled else None
            self.cache(self.paths, self.ends, *titles)

    def show(self, xs, name="sgd", text=None):
        """Draw the runs ``xs`` of shape (steps + 1, runs); nan rows are a diverged run."""
        xs = np.asarray(xs, dtype=float)
        color = plotting.color(name)
        gap = np.full((1, xs.shape[1]), np.nan)  # one line, the runs separated by nan
        t = np.arange(len(xs), dtype=float)[:, None] * np.ones(xs.shape[1])
        self.paths.set_data(np.vstack([t, gap]).T.ravel(), np.vstack([xs, gap]).T.ravel())
        self.paths.set_color(color)
        last = xs[-1][np.isfinite(xs[-1])][:, None]
        self.ends.set_data(last[:, 0], self.hump.f(last))
        self.ends.set_color(color)
        if text is not None and self.title is not None:
            self.title.set_text(text)


class Explorer(widgets.VBox):
    """Sliders for lr, noise, steps (and momentum) over a :class:`HumpPicture`.

    ``update(**values)`` (what every slider calls) recomputes the runs and redraws; the
    title above the picture gives the settings exactly as the sliders' readouts write them.
    """

    def __init__(self, lr=0.05, noise=1.0, steps=300, runs=40, momentum=None, seed=0):
        super().__init__()
        self.runs = checks.integer(runs, "runs", lo=1, hi=MAX_RUNS)
        self.seed, self.xs = seed, None
        self.settings = {"lr": lr, "noise": noise, "steps": steps,
                         "momentum": 0.0 if momentum is None else momentum}
        sgd_runs(lr, noise, 1, 1, self.settings["momentum"])  # checks the numbers
        checks.integer(steps, "steps", lo=1, hi=SLIDER_MAX_STEPS)
        self.picture = HumpPicture()
        self.controls = {
            "lr": picture.slider("lr", LR_VALUES, lr),
            "noise": picture.slider("noise", NOISE_VALUES, noise),
            "steps": widgets.IntSlider(value=steps, min=min(10, steps), max=SLIDER_MAX_STEPS,
                                       step=10, description="steps",
                                       style={"description_width": "initial"},
                                       layout=widgets.Layout(width="auto")),
        }
        if momentum is not None:
            self.controls["momentum"] = picture.slider("momentum", MOMENTUM_VALUES, momentum)
        picture.connect(self.controls, self.update)
        self.caption = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%",
                                                                       height="auto"))
        self.children = [picture.control_grid(self.controls.values()), self.caption,
                         self.image]
        self.update()

    def update(self, **values):
        """Change some settings, recompute the runs and redraw; returns ``x_t``."""
        picture.check_settings(values, self.settings)
        new = {**self.settings, **values}
        if new == self.settings and self.xs is not None:
            return self.xs  # nothing changed: nothing to send
        if "steps" in values:
            checks.integer(values["steps"], "steps", lo=1, hi=SLIDER_MAX_STEPS)
        self.xs = sgd_runs(new["lr"], new["noise"], new["steps"], self.runs, new["momentum"],
                       self.seed)
        self.settings = new
        for key, control in self.controls.items():
            picture.set_value(control, new[key])
        momentum = new["momentum"] if "momentum" in self.controls else None
        name, text = describe(self.xs, self.picture.hump, new["lr"], new["noise"], momentum)
        self.picture.show(self.xs, name)
        self.caption.value = f"<b>{html.escape(text)}</b>"
        self.image.value = self.picture.png()
        return self.xs


def explorer(lr=0.05, noise=1.0, steps=300, runs=40, momentum=None, seed=0):
    """The live hump explorer (needs a kernel); ``momentum=None`` hides that slider. Chapter 2."""
    return Explorer(lr=lr, noise=noise, steps=steps, runs=runs, momentum=momentum, seed=seed)


def static_explorer(param="noise", values=(0.0, 1.0, 2.0, 3.0, 4.0), lr=0.05, noise=1.0,
                    steps=300, runs=40, momentum=0.0, seed=0, alt=None, fps=2, dpi=72):
    """The hump explorer without a kernel, live in the reader's browser. Chapter 2.

    A :class:`~adam_course.web.LiveExplorer` with the knobs lr, noise, momentum, steps and
    runs (up to ``runs``), computed by the browser from numpy's draws for ``seed`` (shipped in
    the page). It starts at the first of ``values`` of ``param`` (``"lr"``, ``"noise"`` or
    ``"momentum"``), the other settings as given; its Play button sweeps ``param`` through
    ``values``, and the PDF prints those frames. ``alt`` describes the sweep (a generic
    description if None).
    """
    checks.choice(param, "param", ("lr", "noise", "momentum"))
    checks.integer(steps, "steps", lo=1, hi=SLIDER_MAX_STEPS)
    values = [float(v) for v in picture.check_frames(values)]
    drawing = HumpPicture(steps=steps, dpi=dpi, titled=True)
    frames, labels = [], []
    for value in values:
        knobs = {"lr": lr, "noise": noise, "momentum": momentum, param: value}
        xs = sgd_runs(knobs["lr"], knobs["noise"], steps, runs, knobs["momentum"], seed)
        shown = knobs["momentum"] if param == "momentum" or knobs["momentum"] else None
        frames.append((xs, *describe(xs, drawing.hump, knobs["lr"], knobs["noise"], shown)))
        labels.append(f"{param} = {picture.readout(value)}")
    if alt is None:
        alt = (f"Animation: {runs} runs on the hump, one frame per value of {param} from "
               f"{picture.readout(values[0])} to {picture.readout(values[-1])}.")
    animation = picture.animate(drawing, frames, labels, alt, name=param, fps=fps)
    first = {"lr": lr, "noise": noise, "momentum": momentum, param: values[0]}
    spec = web_spec(steps=steps, runs=runs, seed=seed, tour=web.sweep(param, param, values, fps),
                    ident=f"explorer-hump-{param}", **{k: first[k] for k in first})
    return web.LiveExplorer(animation.images, animation.labels, alt, param, spec, fps=fps)


def noise_draws(runs, steps, seed=0):
    """The standard normals :func:`sgd_runs` adds to the gradients, in the order it draws them:
    step 1's ``runs`` draws, then step 2's, ... (``landscapes.stochastic``'s generator), so the
    first ``r * t`` of them serve any ``r`` runs of ``t`` steps."""
    return np.random.default_rng(seed).standard_normal(runs * steps)


@functools.cache
def _web_picture(tilt):
    drawing = HumpPicture(tilt, steps=SLIDER_MAX_STEPS, dpi=web.WEB_DPI)
    drawing.show(np.zeros((2, 1)), "sgd")
    return {"background": web.background(drawing),
            "axes": [web.axes_box(drawing.curve_ax, drawing), web.axes_box(drawing.time_ax,
                                                                            drawing)],
            "paths": web.line_style(drawing.paths), "ends": web.line_style(drawing.ends),
            **web.figure_spec(drawing)}


def web_spec(lr=0.05, noise=1.0, steps=300, runs=40, momentum=0.0, seed=0, tilt=0.3, tour=None,
             ident="explorer-hump"):
    """The hump explorer for ``explorers.js``: background, knobs, and numpy's draws for up to
    ``runs`` runs of :data:`SLIDER_MAX_STEPS` steps."""
    sgd_runs(lr, noise, 1, 1, momentum, seed, tilt)  # checks the numbers
    runs = checks.integer(runs, "runs", lo=1, hi=MAX_RUNS)
    hump = landscapes.hump(tilt)
    return {
        "kind": "hump", "id": ident, "name": "hump explorer", **_web_picture(tilt),
        "knobs": [
            web.values_knob("lr", "lr", LR_VALUES, lr, 1e-6, 10.0),
            web.values_knob("noise", "noise", NOISE_VALUES, noise, 0.0, 100.0),
            web.values_knob("momentum", "momentum", MOMENTUM_VALUES, momentum, 0.0, 0.999),
            web.int_knob("steps", "steps", steps, min(10, steps), SLIDER_MAX_STEPS, 10),
            web.values_knob("runs", "runs", [r for r in RUNS_VALUES if r <= runs], runs, 1,
                            runs),
        ],
        "tilt": hump.tilt, "start": float(hump.start[0]), "humpTop": float(hump.hump_top[0]),
        "threshold": _DIVERGED, "draws": web.encode(noise_draws(runs, SLIDER_MAX_STEPS, seed)),
        "colors": {name: plotting.color(name) for name in ("sgd", "momentum")},
        "labels": {name: plotting.label(name) for name in ("sgd", "momentum")},
        "tour": tour,
    }
