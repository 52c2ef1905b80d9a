"""The playground: an optimizer's trajectory on a 2-D landscape, redrawn as its knobs move.

:func:`explorer` (needs a kernel) has menus for the landscape and the optimizer and sliders for
``lr``, ``steps``, ``beta1``, ``beta2`` and ``eps``; every move recomputes the trajectory and
redraws it on the landscape's kept contours. :func:`static_explorer` is its counterpart for the
published book: an animation with one frame per value of one knob, computed in advance.

``beta1`` is momentum's coefficient for the heavy ball (momentum, Nesterov) and ``beta2`` is
RMSProp's ``alpha``, as in :mod:`adam_course.catalog`.
"""

from __future__ import annotations

import functools
import html
import json

import ipywidgets as widgets
import numpy as np

from adam_course import catalog, checks, landscapes, picture, plotting, web

__all__ = ["LANDSCAPES", "OPTIMIZERS", "DEFAULT_LR", "LR_VALUES", "BETA1_VALUES",
           "BETA2_VALUES", "EPS_VALUES", "default_lr", "LandscapePicture", "Explorer",
           "explorer", "static_explorer"]

LANDSCAPES = ("bowl", "rosenbrock", "beale", "saddle")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "adamax",
              "nadam", "lion")

DEFAULT_LR = {  # per landscape: plain GD, the heavy ball (momentum, Nesterov), adaptive methods
    "bowl": {"sgd": 0.1, "momentum": 0.03, "adaptive": 0.3},
    "rosenbrock": {"sgd": 1e-3, "momentum": 1e-3, "adaptive": 0.1},
    "beale": {"sgd": 0.01, "momentum": 1e-3, "adaptive": 0.1},
    "saddle": {"sgd": 0.1, "momentum": 0.03, "adaptive": 0.1},
}
"""A learning rate that gives a clear picture in 50 steps, per landscape and family."""

FAMILY = {"sgd": "sgd", "momentum": "momentum", "nesterov": "momentum"}
"""The family of :data:`DEFAULT_LR` an optimizer takes its lr from (else ``"adaptive"``)."""

LR_VALUES = tuple(float(f"{m}e{k}") for k in range(-4, 2) for m in (1, 2, 3, 5))
BETA1_VALUES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 0.995, 0.999)
BETA2_VALUES = (0.5, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999)
EPS_VALUES = tuple(float(f"1e{k}") for k in range(-12, 3))
"""The sliders' values; a value given in code joins its slider. ε reaches 100 and lr 50: an ε
above the gradients turns Adam into momentum with step lr/ε, so lr must grow with it (chapter 5:
ε = 10 needs lr ≈ 3 on the bowl, whose first gradient is 10)."""

MAX_STEPS = 300
_DIVERGED = 1e4  # a run with |x| above this is frozen and shown as diverged


def default_lr(landscape, optimizer):
    """The explorer's lr for a landscape name and an optimizer name (see :data:`DEFAULT_LR`)."""
    return DEFAULT_LR.get(landscape, DEFAULT_LR["bowl"])[FAMILY.get(optimizer, "adaptive")]


def _knob(optimizer, key):
    """How the book writes a knob: beta1 is "momentum" for the heavy ball, beta2 RMSProp's α."""
    argument = catalog.entry(optimizer).knobs.get(key)
    return {"momentum": "momentum", "alpha": "α"}.get(argument) or {
        "beta1": "β1", "beta2": "β2", "eps": "ε"}.get(key, key)


def _title(optimizer, settings):
    """``"Adam, lr = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e-8"``: the knobs ``optimizer`` uses."""
    knobs = ("lr", *catalog.entry(optimizer).knobs)
    return ", ".join([catalog.entry(optimizer).label,
                      *(f"{_knob(optimizer, k)} = {picture.readout(settings[k])}"
                        for k in knobs)])


def _trajectory(landscape, optimizer, steps, x0=None):
    start = landscape.start if x0 is None else np.asarray(x0, dtype=float)
    return picture.run(optimizer, lambda: landscape.grad, start, steps, _DIVERGED)


class LandscapePicture(picture.Picture):
    """A landscape's contours, drawn once, with one trajectory (and a title) on top."""

    def __init__(self, landscape, figsize=(6.0, 4.0), dpi=72, titled=False):
        self.landscape = landscape
        with plotting.book_style():
            super().__init__(figsize, dpi)
            self.ax = ax = self.figure.add_subplot()
            plotting.contour(landscape, ax=ax)
            stars = [line for line in ax.get_lines() if line.get_label() == "_minimum"]
            self.path, = ax.plot([], [], markersize=3.5, linewidth=1.4)
            self.start, = ax.plot([], [], marker="o", markersize=6, markerfacecolor="white",
                                  linestyle="none")
            self.cross, = ax.plot([], [], marker="X", markersize=8, linestyle="none",
                                  markeredgecolor="black")
            titles = ()
            if titled:  # text is slow to draw: the live explorer's title is a caption instead
                ax.set_title("Ag β", y=1.0)  # reserve the title's room; a fixed y is faster
                titles = (ax.title,)
            self.stars = stars
            self.cache(self.path, self.start, self.cross, *stars, *titles)

    def show(self, trajectory, name, text=None):
        """Put a trajectory (nan rows: diverged) in the colour of optimizer ``name``."""
        s = plotting.style(name)
        finite = np.all(np.isfinite(trajectory), axis=1)
        points = trajectory[finite]
        self.path.set_data(points[:, 0], points[:, 1])
        self.path.set(color=s["color"], linestyle=s["linestyle"], marker=s["marker"],
                      markevery=max(1, len(points) // 25), path_effects=s.get("path_effects", []),
                      markeredgecolor=s.get("markeredgecolor", s["color"]))
        self.start.set_data(points[:1, 0], points[:1, 1])
        self.start.set_color(s["color"])
        tail = points[-1:] if not finite.all() else points[:0]
        self.cross.set_data(tail[:, 0], tail[:, 1])
        self.cross.set_color(s["color"])
        if text is not None:
            self.ax.title.set_text(text)


class Explorer(widgets.VBox):
    """The playground: a landscape, an optimizer, its knobs, and the trajectory they give.

    ``landscape`` is a name (bowl, rosenbrock, beale, saddle) or a 2-D
    :class:`~adam_course.landscapes.Landscape` (a chapter's own bowl, say), which joins the menu
    as its first entry. ``update(**values)``, what every control calls, recomputes the
    trajectory and redraws; changing the landscape or the optimizer resets ``lr`` to
    :func:`default_lr` unless a new ``lr`` is given too. ``render()`` gives the PNG bytes.
    """

    def __init__(self, landscape="bowl", optimizer="adam", steps=50, lr=None, beta1=0.9,
                 beta2=0.999, eps=1e-8, dpi=72):
        super().__init__()
        self._choices = dict.fromkeys(LANDSCAPES)  # menu entry -> a given Landscape, or None
        if isinstance(landscape, landscapes.Landscape):
            if landscape.dim != 2:
                checks.fail("landscape", landscape.name, "a 2-D landscape")
            label = f"{landscape.name} (this chapter)"
            self._choices = {label: landscape, **self._choices}
            landscape = label
        self._check(landscape=landscape, optimizer=optimizer, steps=steps)
        lr = self._default_lr(landscape, optimizer) if lr is None else lr
        catalog.build(optimizer, lr, beta1, beta2, eps)  # checks the numbers
        self.settings = {"landscape": landscape, "optimizer": optimizer, "steps": steps,
                         "lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps}
        self.dpi, self.trajectory = dpi, None
        self._pictures, self._runs = {}, {}
        menu = {"style": picture.LABEL_STYLE, "layout": widgets.Layout(width="auto")}
        self.controls = {
            "landscape": widgets.Dropdown(options=tuple(self._choices), value=landscape,
                                          description="landscape", **menu),
            "optimizer": widgets.Dropdown(options=OPTIMIZERS, value=optimizer,
                                          description="optimizer", **menu),
            "lr": picture.slider("lr", LR_VALUES, lr),
            "steps": widgets.IntSlider(value=steps, min=1, max=MAX_STEPS, description="steps",
                                       **menu),
            "beta1": picture.slider("β1", BETA1_VALUES, beta1),
            "beta2": picture.slider("β2", BETA2_VALUES, beta2),
            "eps": picture.slider("ε", EPS_VALUES, eps),
        }
        for key, control in self.controls.items():
            control.observe(lambda change, key=key: self._moved(key, change["new"]),
                            names="value")
        self.caption = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(
            width=f"{6 * dpi}px", max_width="100%", height="auto"))
        self.status = widgets.HTML()
        self.children = [picture.control_grid(self.controls.values()), self.caption,
                         self.image, self.status]
        self.update()

    def _check(self, landscape=None, optimizer=None, steps=None):
        if landscape is not None and landscape not in self._choices:
            checks.fail("landscape", landscape, "one of " + ", ".join(map(repr, self._choices)))
        if optimizer is not None and optimizer not in OPTIMIZERS:
            checks.fail("optimizer", optimizer, "one of " + ", ".join(map(repr, OPTIMIZERS)))
        if steps is not None:
            checks.integer(steps, "steps", lo=1, hi=MAX_STEPS)

    def _default_lr(self, choice, optimizer):
        given = self._choices.get(choice)
        return default_lr(given.name if given is not None else choice, optimizer)

    def _moved(self, key, value):
        """A control moved: update, or say why not and put the control back."""
        if getattr(self.controls[key], "syncing", False):
            return
        try:
            self.update(**{key: value})
        except ValueError as error:  # e.g. Nesterov with momentum 0
            self.status.value = html.escape(str(error))
            self._sync_controls()

    def update(self, **values):
        """Change some settings, recompute the trajectory and redraw; returns the trajectory."""
        picture.check_settings(values, self.settings)
        self._check(landscape=values.get("landscape"), optimizer=values.get("optimizer"),
                    steps=values.get("steps"))
        new = {**self.settings, **values}
        if ("landscape" in values or "optimizer" in values) and "lr" not in values:
            new["lr"] = self._default_lr(new["landscape"], new["optimizer"])
        optimizer = catalog.build(new["optimizer"], new["lr"], new["beta1"], new["beta2"],
                                  new["eps"])  # raises ValueError on a bad number
        if new == self.settings and self.trajectory is not None:
            return self.trajectory  # nothing changed: nothing to send
        self.settings = new
        self._sync_controls()
        key = tuple(new.values())
        if key not in self._runs:
            self._runs = dict(list(self._runs.items())[-255:])  # keep the last 256 runs
            self._runs[key] = _trajectory(self.landscape, optimizer, int(new["steps"]))
        self.trajectory = self._runs[key]
        self.caption.value = f"<b>{html.escape(_title(new['optimizer'], new))}</b>"
        self.image.value = self.render()
        self.status.value = self._status()
        return self.trajectory

    def _sync_controls(self):
        """Show the settings on the controls (without calling update again)."""
        c, s = self.controls, self.settings
        for key, control in c.items():
            picture.set_value(control, s[key])
        uses = catalog.entry(s["optimizer"]).knobs
        for key, symbol in (("beta1", "β1"), ("beta2", "β2"), ("eps", "ε")):
            c[key].disabled = key not in uses
            c[key].description = _knob(s["optimizer"], key) if key in uses else symbol

    @property
    def landscape(self):
        """The current Landscape."""
        return self._picture().landscape

    def _picture(self):
        name = self.settings["landscape"]
        if name not in self._pictures:
            given = self._choices[name]
            ls = given if given is not None else landscapes.LANDSCAPES[name]()
            self._pictures[name] = LandscapePicture(ls, dpi=self.dpi)
        return self._pictures[name]

    def render(self):
        """Draw the current trajectory on the kept landscape; returns PNG bytes."""
        drawing = self._picture()
        drawing.show(self.trajectory, self.settings["optimizer"])
        return drawing.png()

    def _status(self):
        finite = np.all(np.isfinite(self.trajectory), axis=1)
        if not finite.all():
            return f"diverged at step {int(np.argmin(finite))}: try a smaller lr"
        gap = float(self.landscape.f(self.trajectory[-1])) - self.landscape.min_value
        return f"after {len(self.trajectory) - 1} steps: f(x) − f* = {gap:.3g}"


def explorer(landscape="bowl", optimizer="adam", steps=50, lr=None, beta1=0.9, beta2=0.999,
             eps=1e-8):
    """The interactive playground (needs a kernel): see :class:`Explorer`. Chapter 5.

    Landscapes: bowl, rosenbrock, beale, saddle, or a 2-D Landscape object (it joins the menu).
    Optimizers: sgd, momentum, nesterov, adagrad, rmsprop, adam, amsgrad, adamax, nadam.
    """
    return Explorer(landscape=landscape, optimizer=optimizer, steps=steps, lr=lr, beta1=beta1,
                    beta2=beta2, eps=eps)


def _landscape(landscape):
    if not isinstance(landscape, landscapes.Landscape):
        checks.choice(landscape, "landscape", LANDSCAPES)
        landscape = landscapes.LANDSCAPES[landscape]()
    if landscape.dim != 2:
        checks.fail("landscape", landscape.name, "a 2-D landscape")
    return landscape


def static_explorer(landscape="bowl", optimizer="adam", param="lr", values=None, steps=50,
                    x0=None, alt=None, fps=2, dpi=72, **fixed):
    """The playground without a kernel, live in the reader's browser. Chapters 1, 3, 4, 5.

    A :class:`~adam_course.web.LiveExplorer` with every knob of :func:`explorer` (landscape,
    optimizer, lr, β1, β2, ε, steps, and the start point: a click on the landscape), computed
    by the browser. It starts at the first of ``values`` of the knob ``param`` (one of lr,
    beta1, beta2, eps); its Play button sweeps ``param`` through ``values``, and the PDF prints
    those frames. ``fixed`` sets the other knobs (unset ones are the explorer's defaults).
    ``values`` defaults to nine learning rates around :func:`default_lr`. ``alt`` describes the
    sweep for screen readers and readers without JavaScript (a generic description if None).
    """
    ls = _landscape(landscape)
    checks.choice(optimizer, "optimizer", OPTIMIZERS)
    checks.choice(param, "param", catalog.KNOBS)
    for key in fixed:
        checks.choice(key, "keyword argument", tuple(k for k in catalog.KNOBS if k != param))
    checks.integer(steps, "steps", lo=1, hi=MAX_STEPS)
    if values is None:
        if param != "lr":
            checks.fail("values", None, f"the values of {param!r} to show")
        values = [float(f"{v:.2g}")  # round values: the titles show them exactly
                  for v in default_lr(ls.name, optimizer) * np.geomspace(0.1, 3.0, 9)]
    values = picture.check_frames(values)
    knob = _knob(optimizer, param)
    frames, labels = [], []
    base = {"lr": default_lr(ls.name, optimizer), "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
            **fixed}
    for value in values:
        knobs = {**base, param: value}
        trajectory = _trajectory(ls, catalog.build(optimizer, **knobs), steps, x0)
        labels.append(f"{knob} = {picture.readout(value)}")
        frames.append((trajectory, optimizer, f"{catalog.entry(optimizer).label}, {labels[-1]}"))
    if alt is None:
        alt = (f"Animation: {catalog.entry(optimizer).label} on the {ls.name} landscape, one "
               f"frame per value of {param} from {picture.readout(values[0])} to "
               f"{picture.readout(values[-1])}.")
    drawing = LandscapePicture(ls, figsize=(5.0, 3.4), dpi=dpi, titled=True)
    animation = picture.animate(drawing, frames, labels, alt, name=knob, fps=fps)
    first = {**base, param: float(values[0])}
    spec = web_spec(landscape, optimizer, steps, first, x0,
                    web.sweep(param, knob, values, fps), f"explorer-{optimizer}-{param}")
    return web.LiveExplorer(animation.images, animation.labels, alt, knob, spec, fps=fps)


# --------------------------------------------------------------------------------------------
# The playground in the browser (adam_course/explorers.js)
# --------------------------------------------------------------------------------------------

def _menu(landscape):
    """The landscape menu: {entry: Landscape}, a chapter's own landscape first."""
    menu = {name: landscapes.LANDSCAPES[name]() for name in LANDSCAPES}
    if isinstance(landscape, landscapes.Landscape):
        return {f"{landscape.name} (this chapter)": landscape, **menu}, \
            f"{landscape.name} (this chapter)"
    return menu, landscape


def _web_key(landscape):
    return json.dumps([web.landscape_spec(landscape), landscape.window,
                       landscape.start.tolist(), landscape.minimum.tolist()])


@functools.lru_cache(maxsize=16)
def _web_landscape(keyed):
    """A landscape's background, axes and minima for the browser (kept: a page may show the
    playground several times)."""
    landscape = keyed.landscape
    drawing = LandscapePicture(landscape, figsize=(6.0, 4.0), dpi=web.WEB_DPI)
    return {"name": landscape.name, "spec": {**web.landscape_spec(landscape),
                                             "window": [list(w) for w in landscape.window]},
            "start": landscape.start.tolist(), "minValue": landscape.min_value,
            "background": web.background(drawing), "axes": web.axes_box(drawing.ax, drawing),
            "stars": [{"x": star.get_xdata().tolist(), "y": star.get_ydata().tolist(),
                       "style": web.line_style(star)} for star in drawing.stars],
            **web.figure_spec(drawing)}


class _Keyed:
    """A landscape hashable by its web key (for the cache above)."""

    def __init__(self, landscape):
        self.landscape, self.key = landscape, _web_key(landscape)

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return self.key == other.key


@functools.cache
def _web_styles():
    """How each optimizer of the menu draws: its path, start and cross, from matplotlib."""
    drawing = LandscapePicture(landscapes.bowl(), figsize=(6.0, 4.0), dpi=web.WEB_DPI)
    styles = {}
    for name in OPTIMIZERS:
        drawing.show(np.zeros((3, 2)), name)
        styles[name] = {"path": web.line_style(drawing.path),
                        "start": web.line_style(drawing.start),
                        "cross": web.line_style(drawing.cross)}
    return styles


def web_spec(landscape="bowl", optimizer="adam", steps=50, knobs=None, x0=None, tour=None,
             ident="explorer-playground"):
    """The playground for ``explorers.js``: the menu's landscapes (backgrounds, formulas), the
    optimizers, the knobs at ``knobs`` (lr, beta1, beta2, eps) and ``steps``."""
    menu, choice = _menu(landscape)
    knobs = {"lr": default_lr(menu[choice].name, optimizer), "beta1": 0.9, "beta2": 0.999,
             "eps": 1e-8, **(knobs or {})}
    catalog.build(optimizer, **knobs)  # checks the numbers
    entries = {}
    for key, ls in menu.items():
        entries[key] = {**_web_landscape(_Keyed(ls)), "label": key}
    if x0 is not None:
        entries[choice] = {**entries[choice], "start": np.asarray(x0, dtype=float).tolist()}
    figure = {k: entries[choice][k] for k in ("width", "height", "pt")}
    styles = _web_styles()
    optimizers = {}
    for name in OPTIMIZERS:
        spec = web.optimizer_spec(name)
        names = {key: _knob(name, key) for key in ("lr", "beta1", "beta2", "eps")}
        optimizers[name] = {**spec, "names": names, "style": styles[name]}
    return {
        "kind": "playground", "id": ident, "name": "playground", **figure,
        "knobs": [
            web.menu_knob("landscape", "landscape", [(k, k) for k in menu], choice),
            web.menu_knob("optimizer", "optimizer",
                          [(n, catalog.entry(n).label) for n in OPTIMIZERS], optimizer),
            web.values_knob("lr", "lr", LR_VALUES, knobs["lr"], 1e-6, 1e3),
            web.int_knob("steps", "steps", steps, 1, MAX_STEPS),
            web.values_knob("beta1", "β1", BETA1_VALUES, knobs["beta1"], 0.0, 0.9999),
            web.values_knob("beta2", "β2", BETA2_VALUES, knobs["beta2"], 0.0, 0.99999),
            web.values_knob("eps", "ε", EPS_VALUES, knobs["eps"], 0.0, 1e3),
        ],
        "landscapes": entries, "optimizers": optimizers,
        "defaultLr": {name: dict(family) for name, family in DEFAULT_LR.items()},
        "family": FAMILY, "threshold": _DIVERGED, "tour": tour,
    }
