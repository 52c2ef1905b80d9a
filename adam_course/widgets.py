"""The interactive explorers, thin over optim, landscapes and plotting.

- :func:`explorer` (chapter 5's playground): pick a landscape and an optimizer, move lr, beta1,
  beta2, eps and steps, and see the trajectory redrawn at once (< 100 ms; see
  ``benchmarks/run.py``). It needs a live kernel.
- :func:`static_explorer`: the same idea with no kernel, for the published book: a
  pre-computed animation whose frames are values of one hyperparameter, with a slider.

Speed: each landscape's contours are drawn once into a cached Agg canvas; a change only
recomputes the trajectory, blits the path onto the cached background and encodes a PNG.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re

import ipywidgets as widgets
import matplotlib
import numpy as np
from IPython.display import HTML
from matplotlib.animation import FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from adam_course import landscapes as _landscapes
from adam_course import optim, plotting

__all__ = ["EXPLORER_LANDSCAPES", "EXPLORER_OPTIMIZERS", "DEFAULT_LR", "make_optimizer",
           "Explorer", "explorer", "static_explorer", "animation_html", "CachedPicture",
           "connect", "check_settings"]

EXPLORER_LANDSCAPES = ("bowl", "rosenbrock", "beale", "saddle")

# name -> (factory of (lr, beta1, beta2, eps), the sliders it listens to)
_BUILDERS = {
    "sgd": (lambda lr, b1, b2, eps: optim.sgd(lr=lr), ()),
    "momentum": (lambda lr, b1, b2, eps: optim.sgd(lr=lr, momentum=b1), ("beta1",)),
    "nesterov": (lambda lr, b1, b2, eps: optim.sgd(lr=lr, momentum=b1, nesterov=True),
                 ("beta1",)),
    "adagrad": (lambda lr, b1, b2, eps: optim.adagrad(lr=lr, eps=eps), ("eps",)),
    "rmsprop": (lambda lr, b1, b2, eps: optim.rmsprop(lr=lr, alpha=b2, eps=eps),
                ("beta2", "eps")),
    "adam": (lambda lr, b1, b2, eps: optim.adam(lr=lr, betas=(b1, b2), eps=eps),
             ("beta1", "beta2", "eps")),
    "amsgrad": (lambda lr, b1, b2, eps: optim.adam(lr=lr, betas=(b1, b2), eps=eps, amsgrad=True),
                ("beta1", "beta2", "eps")),
    "adamax": (lambda lr, b1, b2, eps: optim.adamax(lr=lr, betas=(b1, b2), eps=eps),
               ("beta1", "beta2", "eps")),
    "nadam": (lambda lr, b1, b2, eps: optim.nadam(lr=lr, betas=(b1, b2), eps=eps),
              ("beta1", "beta2", "eps")),
}
EXPLORER_OPTIMIZERS = tuple(_BUILDERS)

DEFAULT_LR = {  # per landscape: plain GD, heavy ball (momentum, nesterov), adaptive methods
    "bowl": {"sgd": 0.1, "momentum": 0.03, "adaptive": 0.3},
    "rosenbrock": {"sgd": 1e-3, "momentum": 1e-3, "adaptive": 0.1},
    "beale": {"sgd": 0.01, "momentum": 1e-3, "adaptive": 0.1},
    "saddle": {"sgd": 0.1, "momentum": 0.03, "adaptive": 0.1},
}
"""A learning rate that gives a clear picture in 50 steps, per landscape and family."""

_BETA2_CHOICES = (0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999)
_MAX_STEPS = 300
_DIVERGED = 1e4  # a run with |x| above this is frozen and shown as diverged


def make_optimizer(name, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Build optimizer ``name`` with the explorer's four knobs. Chapter 5.

    ``beta1`` is momentum's coefficient for ``momentum``/``nesterov`` (torch's heavy-ball form)
    and ``beta2`` is RMSProp's ``alpha``; a knob an optimizer does not have is ignored.
    """
    if name not in _BUILDERS:
        raise ValueError(f"Invalid optimizer: {name!r} (must be one of {', '.join(_BUILDERS)})")
    return _BUILDERS[name][0](lr, beta1, beta2, eps)


def _default_lr(landscape, optimizer):
    family = optimizer if optimizer in ("sgd", "momentum") else "adaptive"
    family = "momentum" if optimizer == "nesterov" else family
    return DEFAULT_LR.get(landscape, DEFAULT_LR["bowl"])[family]


def _landscape(landscape, allowed=None):
    if isinstance(landscape, _landscapes.Landscape):
        return landscape
    names = allowed or tuple(_landscapes.LANDSCAPES)
    if landscape not in names:
        raise ValueError(f"Invalid landscape: {landscape!r} (must be one of {', '.join(names)})")
    return _landscapes.LANDSCAPES[landscape]()


def _run(landscape, optimizer, steps, x0=None):
    """The trajectory, with a diverged run frozen and recorded as nan.

    The unguarded ``minimize`` is about 1.5x faster; its result is kept only when it stays
    within the divergence threshold, where the guarded one would give the same numbers.
    """
    start = landscape.start if x0 is None else np.asarray(x0, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            trajectory = optim.minimize(optimizer, landscape.grad, start, steps)
            if np.all(np.abs(trajectory) <= _DIVERGED):
                return trajectory
        except ValueError:  # a non-finite step: fall through to the guarded run
            pass
    return optim.minimize(optimizer, landscape.grad, start, steps,
                          divergence_threshold=_DIVERGED)


# --------------------------------------------------------------------------------------------
# A cached picture: contours drawn once, the path blitted on top
# --------------------------------------------------------------------------------------------

class _Panel:
    """One landscape's figure on an Agg canvas, with its drawn background cached."""

    def __init__(self, landscape, figsize=(6.0, 4.0), dpi=72, title=True):
        with plotting.book_style():
            self.figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
            FigureCanvasAgg(self.figure)
            self.ax = self.figure.add_subplot()
            plotting.contour(landscape, ax=self.ax)
            if title:  # text is the slowest thing to draw: the live explorer has none
                self.ax.set_title("Ag β", y=1.0)  # reserve the title's room; fixed y is faster
            self.star = [line for line in self.ax.get_lines() if line.get_label() == "_minimum"]
            self.path, = self.ax.plot([], [], markersize=3.5, linewidth=1.4)
            self.start, = self.ax.plot([], [], marker="o", markersize=6, markerfacecolor="white",
                                       linestyle="none")
            self.cross, = self.ax.plot([], [], marker="X", markersize=8, linestyle="none",
                                       markeredgecolor="black")
            self.live = [self.path, self.start, self.cross, *self.star]
            if title:
                self.live.append(self.ax.title)
            for artist in self.live:
                artist.set_animated(True)  # left out of the cached background
            self.figure.canvas.draw()
            self.figure.set_layout_engine("none")  # freeze the layout: the background is final
        self.landscape = landscape
        self.background = self.figure.canvas.copy_from_bbox(self.figure.bbox)

    def show(self, trajectory, name, title=None):
        """Put a trajectory (nan rows = diverged) and maybe a title on the panel."""
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
        if title is not None:
            self.ax.title.set_text(title)

    def blit(self):
        """Restore the cached background and draw only the changing artists on it."""
        self.figure.canvas.restore_region(self.background)
        for artist in self.live:
            self.ax.draw_artist(artist)

    def png(self):
        """The panel as PNG bytes (after :meth:`blit`)."""
        canvas = self.figure.canvas
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def flatten(self):
        """Replace the contours, axes and labels by a picture of them, for fast full redraws."""
        pixels = np.asarray(self.figure.canvas.buffer_rgba()).copy()
        for artist in self.ax.collections:
            artist.set_visible(False)
        self.ax.set_axis_off()
        self.figure.figimage(pixels, zorder=-1)
        for artist in self.live:
            artist.set_animated(False)


def connect(controls, update):
    """Make each control call ``update(name=new_value)`` when it moves. Chapter 1."""
    for key, control in controls.items():
        control.observe(lambda change, key=key: update(**{key: change["new"]}), names="value")


def check_settings(values, settings):
    """Raise ``ValueError`` naming the first of ``values`` that is not one of ``settings``."""
    unknown = set(values) - set(settings)
    if unknown:
        raise ValueError(f"Invalid setting: {sorted(unknown)[0]!r} "
                         f"(must be one of {', '.join(settings)})")


class CachedPicture:
    """A figure whose background is drawn once; only the ``live`` artists are redrawn.

    Chapter 1 (the explorers). A subclass builds ``self.figure`` on an Agg canvas, lists the
    artists that change in ``self.live`` and calls :meth:`_cache`. :meth:`png` then costs a
    few milliseconds, and :meth:`flatten` prepares the figure for an animation, whose every
    frame is a full redraw.
    """

    def _cache(self):
        for artist in self.live:
            artist.set_animated(True)  # left out of the cached background
        self.figure.canvas.draw()
        self.figure.set_layout_engine("none")  # freeze the layout: the background is final
        self.background = self.figure.canvas.copy_from_bbox(self.figure.bbox)

    def png(self):
        """The picture as PNG bytes: the cached background with the live artists on it."""
        canvas = self.figure.canvas
        canvas.restore_region(self.background)
        for artist in self.live:
            self.figure.draw_artist(artist)
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
        buffer = io.BytesIO()
        image.save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def flatten(self):
        """Replace everything but the live artists by a picture of it (fast full redraws)."""
        self.figure.canvas.draw()
        pixels = np.asarray(self.figure.canvas.buffer_rgba()).copy()
        for ax in self.figure.axes:
            for artist in ax.get_children():
                if artist not in self.live:
                    artist.set_visible(False)
        self.figure.figimage(pixels, zorder=-1)
        for artist in self.live:
            artist.set_animated(False)


def _knob(optimizer, key):
    """How the book writes a knob: beta1 is "momentum" for heavy ball, beta2 is RMSProp's α."""
    if key == "beta1" and optimizer in ("momentum", "nesterov"):
        return "momentum"
    if key == "beta2" and optimizer == "rmsprop":
        return "α"
    return {"beta1": "β1", "beta2": "β2", "eps": "ε"}.get(key, key)


def _title(optimizer, settings):
    knobs = ("lr", *_BUILDERS[optimizer][1])
    parts = [f"{_knob(optimizer, k)} = {settings[k]:g}" for k in knobs]
    return plotting.label(optimizer) + ", " + ", ".join(parts)


# --------------------------------------------------------------------------------------------
# The live explorer
# --------------------------------------------------------------------------------------------

class Explorer(widgets.VBox):
    """Chapter 5's playground: a landscape, an optimizer, its hyperparameters, the trajectory.

    Chapter 5. ``landscape`` is a name (bowl, rosenbrock, beale, saddle) or a 2-D
    :class:`~adam_course.landscapes.Landscape` (a chapter's own bowl, say), which joins the
    menu as its first entry. It is an ipywidgets ``VBox``; ``update(**values)``, what every
    control calls, recomputes the trajectory with ``optim.minimize`` and redraws, and
    ``render()`` returns the PNG bytes. Changing the landscape or optimizer resets ``lr`` to
    :data:`DEFAULT_LR` unless a new ``lr`` is given too. ``beta1`` is momentum's coefficient
    for momentum and Nesterov, and ``beta2`` is RMSProp's ``alpha``.
    """

    def __init__(self, landscape="bowl", optimizer="adam", steps=50, lr=None, beta1=0.9,
                 beta2=0.999, eps=1e-8, dpi=72):
        super().__init__()
        self._choices = dict.fromkeys(EXPLORER_LANDSCAPES)  # menu entry -> Landscape (or None)
        if isinstance(landscape, _landscapes.Landscape):
            if landscape.dim != 2:
                raise ValueError(f"Invalid landscape: {landscape.name!r} (the explorer needs a "
                                 "2-D one)")
            label = f"{landscape.name} (this chapter)"
            self._choices = {label: landscape, **self._choices}
            landscape = label
        self._check(landscape=landscape, optimizer=optimizer, steps=steps)
        self.settings = {"landscape": landscape, "optimizer": optimizer, "steps": steps,
                         "lr": self._default_lr(landscape, optimizer) if lr is None else lr,
                         "beta1": beta1, "beta2": beta2, "eps": eps}
        make_optimizer(optimizer, self.settings["lr"], beta1, beta2, eps)  # check the numbers
        self.dpi = dpi
        self._panels = {}
        self._syncing = False
        self.controls = self._make_controls()
        self.caption = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=f"{6 * dpi}px"))
        self.status = widgets.HTML()
        c = self.controls
        self.children = [
            widgets.HBox([c["landscape"], c["optimizer"]]),
            widgets.HBox([c["lr"], c["steps"]]),
            widgets.HBox([c["beta1"], c["beta2"], c["eps"]]),
            self.caption,
            self.image,
            self.status,
        ]
        self.trajectory = None
        self.update()

    def _check(self, landscape=None, optimizer=None, steps=None):
        if landscape is not None and landscape not in self._choices:
            raise ValueError(f"Invalid landscape: {landscape!r} "
                             f"(must be one of {', '.join(self._choices)})")
        if optimizer is not None and optimizer not in _BUILDERS:
            raise ValueError(f"Invalid optimizer: {optimizer!r} "
                             f"(must be one of {', '.join(_BUILDERS)})")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int | np.integer)
                                  or not 1 <= steps <= _MAX_STEPS):
            raise ValueError(f"Invalid steps: {steps!r} (must be an integer in [1, {_MAX_STEPS}])")

    def _make_controls(self):
        s = self.settings
        short = {"style": {"description_width": "48px"}}
        controls = {
            "landscape": widgets.Dropdown(options=tuple(self._choices), value=s["landscape"],
                                          description="landscape", **short),
            "optimizer": widgets.Dropdown(options=EXPLORER_OPTIMIZERS, value=s["optimizer"],
                                          description="optimizer", **short),
            "lr": widgets.FloatLogSlider(value=s["lr"], base=10, min=-4, max=1, step=0.05,
                                         readout_format=".2g", description="lr", **short),
            "steps": widgets.IntSlider(value=s["steps"], min=1, max=_MAX_STEPS,
                                       description="steps", **short),
            "beta1": widgets.FloatSlider(value=s["beta1"], min=0.0, max=0.999, step=0.001,
                                         readout_format=".3f", description="β1", **short),
            "beta2": widgets.SelectionSlider(options=self._beta2_options(s["beta2"]),
                                             value=s["beta2"], description="β2", **short),
            "eps": widgets.FloatLogSlider(value=s["eps"], base=10, min=-12, max=0, step=1,
                                          readout_format=".0e", description="ε", **short),
        }
        for key, control in controls.items():
            control.observe(lambda change, key=key: self._on_change(key, change["new"]),
                            names="value")
        return controls

    @staticmethod
    def _beta2_options(beta2):
        return tuple(sorted({*_BETA2_CHOICES, float(beta2)}))

    def _on_change(self, key, value):
        if not self._syncing:
            self.update(**{key: value})

    def _sync_controls(self):
        """Show the settings on the controls without triggering another update."""
        self._syncing = True
        try:
            c, s = self.controls, self.settings
            if s["beta2"] not in c["beta2"].options:
                c["beta2"].options = self._beta2_options(s["beta2"])
            for key in ("lr", "eps"):  # widen a log slider to show a value beyond its range
                if s[key] > 0:
                    exponent = np.log10(s[key])
                    c[key].min = min(c[key].min, np.floor(exponent))
                    c[key].max = max(c[key].max, np.ceil(exponent))
            for key, control in c.items():
                if control.value != s[key]:
                    control.value = s[key]
            uses = _BUILDERS[s["optimizer"]][1]
            for key in ("beta1", "beta2", "eps"):
                c[key].disabled = key not in uses
            c["beta1"].description = "momentum" if s["optimizer"] in ("momentum",
                                                                     "nesterov") else "β1"
            c["beta2"].description = "α" if s["optimizer"] == "rmsprop" else "β2"
        finally:
            self._syncing = False

    def update(self, **values):
        """Change some settings, recompute the trajectory and redraw; returns the trajectory."""
        check_settings(values, self.settings)
        self._check(landscape=values.get("landscape"), optimizer=values.get("optimizer"),
                    steps=values.get("steps"))
        new = {**self.settings, **values}
        if ("landscape" in values or "optimizer" in values) and "lr" not in values:
            new["lr"] = self._default_lr(new["landscape"], new["optimizer"])
        optimizer = make_optimizer(new["optimizer"], new["lr"], new["beta1"], new["beta2"],
                                   new["eps"])  # raises ValueError on a bad number
        self.settings = new
        self._sync_controls()
        self.trajectory = _run(self.landscape, optimizer, int(new["steps"]))
        self.caption.value = f"<b>{html.escape(_title(new['optimizer'], new))}</b>"
        self.image.value = self.render()
        self.status.value = self._status()
        return self.trajectory

    @property
    def landscape(self):
        """The current Landscape."""
        return self._panel().landscape

    def _default_lr(self, choice, optimizer):
        given = self._choices.get(choice)
        return _default_lr(given.name if given is not None else choice, optimizer)

    def _panel(self):
        name = self.settings["landscape"]
        if name not in self._panels:
            given = self._choices[name]
            ls = given if given is not None else _landscapes.LANDSCAPES[name]()
            self._panels[name] = _Panel(ls, dpi=self.dpi, title=False)
        return self._panels[name]

    def render(self):
        """Draw the current trajectory on the cached landscape; returns PNG bytes."""
        panel = self._panel()
        panel.show(self.trajectory, self.settings["optimizer"])
        panel.blit()
        return panel.png()

    def _status(self):
        finite = np.all(np.isfinite(self.trajectory), axis=1)
        if not finite.all():
            return f"diverged at step {int(np.argmin(finite))}: try a smaller lr"
        gap = float(self.landscape.f(self.trajectory[-1])) - self.landscape.min_value
        return f"after {len(self.trajectory) - 1} steps: f(x) − f* = {gap:.3g}"


def explorer(landscape="bowl", optimizer="adam", steps=50, lr=None, beta1=0.9, beta2=0.999,
             eps=1e-8):
    """The interactive playground of chapter 5 (needs a kernel): see :class:`Explorer`.

    Chapter 5. Landscapes: bowl, rosenbrock, beale, saddle, or a 2-D Landscape object (it
    joins the menu). Optimizers: sgd, momentum,
    nesterov, adagrad, rmsprop, adam, amsgrad, adamax, nadam.
    """
    return Explorer(landscape=landscape, optimizer=optimizer, steps=steps, lr=lr, beta1=beta1,
                    beta2=beta2, eps=eps)


# --------------------------------------------------------------------------------------------
# The static explorer: an animation whose frames are hyperparameter values
# --------------------------------------------------------------------------------------------

_ICONS = {  # font-awesome icons of matplotlib's player -> plain characters (no CDN)
    "fa fa-minus": "−", "fa fa-plus": "+", "fa fa-pause": "❚❚",
    "fa fa-play": "▶\ufe0e", "fa fa-play fa-flip-horizontal": "◀\ufe0e",
    "fa fa-fast-backward": "|◀\ufe0e", "fa fa-fast-forward": "▶\ufe0e|",
    "fa fa-step-backward": "‹", "fa fa-step-forward": "›",
}
_MAX_FRAMES = 30


def _small_png(match):
    """Re-encode one embedded frame with a 128-colour palette: about 4x smaller."""
    data = base64.b64decode(match.group(2).replace("\\\n", ""))
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.quantize(colors=128, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    image.save(buffer, format="png", optimize=True)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'{match.group(1)}"data:image/png;base64,{encoded}"'


def animation_html(animation, alt, *, fps=2, dpi=72):
    """A matplotlib animation as offline HTML with a play slider, for the published book.

    Chapter 1. The frames are small PNGs inside the page; matplotlib's font-awesome CDN link is
    dropped (its icons become characters), the image gets ``alt`` text, and the element id
    depends on the content, so the same animation always gives the same page.
    """
    rc = {"savefig.dpi": dpi, "savefig.bbox": "standard", "animation.frame_format": "png"}
    with matplotlib.rc_context(rc):
        page = animation.to_jshtml(fps=fps, default_mode="once")
    return HTML(_offline(page, alt))


def _offline(page, alt):
    """Shrink the frames, drop the font-awesome CDN link, replace its icons, add alt text."""
    page = re.sub(r'(frames\[\d+\] = )"data:image/png;base64,([^"]*)"', _small_png, page)
    page = re.sub(r"<link[^>]*font-awesome[^>]*>", "", page)
    page = re.sub(r'<i class="(fa [^"]+)"></i>', lambda m: _ICONS.get(m.group(1), "?"), page)
    page = page.replace('<img id="_anim_img', f'<img alt="{html.escape(alt)}" id="_anim_img', 1)
    uid = re.search(r"_anim_img(\w+)", page).group(1)  # random; make it depend on the content
    return page.replace(uid, hashlib.sha1(page.replace(uid, "").encode()).hexdigest()[:16])


def _number(v):
    """A hyperparameter for a title, to 6 significant digits: 0.9999, 1000, 1e-8."""
    v = float(f"{float(v):.6g}")
    if v == 0 or 1e-3 <= abs(v) < 1e5:
        return np.format_float_positional(v, trim="-")
    return f"{v:g}".replace("e-0", "e-").replace("e+0", "e+")


def _fmt(value):
    if np.ndim(value) == 0:
        return _number(value)
    return "(" + ", ".join(_number(v) for v in value) + ")"


def _frames(ls, optimizer, name, param, values, steps, x0, fixed):
    """One run, colour name and title per value of ``param``."""
    runs, names, titles = [], [], []
    for value in values:
        if name is not None:
            knobs = {"lr": _default_lr(ls.name, name), "beta1": 0.9, "beta2": 0.999,
                     "eps": 1e-8, **fixed, param: value}
            opt = make_optimizer(name, **knobs)
        else:
            opt = optimizer(**fixed, **{param: value})
        runs.append(_run(ls, opt, steps, x0))
        # the requested name, not the built one: momentum = 0 builds plain SGD, but the frame
        # belongs to the momentum animation (same colour, same knob name in every frame)
        names.append(name or opt.name)
        knob = _knob(name, param) if name is not None else param
        titles.append(f"{plotting.label(names[-1])}, {knob} = {_fmt(value)}")
    return runs, names, titles


def static_explorer(landscape="bowl", optimizer="adam", param="lr", values=None, steps=50,
                    x0=None, alt=None, fps=2, dpi=72, **fixed):
    """A kernel-free explorer: one animation frame per value of the hyperparameter ``param``.

    Chapter 5. ``optimizer`` is a name (as in :func:`explorer`; ``param`` is then one of lr,
    beta1, beta2, eps and ``fixed`` sets the others) or a factory such as ``optim.adam``
    called as ``factory(**fixed, **{param: value})``. ``values`` defaults to nine learning
    rates around :data:`DEFAULT_LR`. ``alt`` describes the figure for screen readers (a
    generic description is made if it is None). Returns ``IPython.display.HTML`` with the
    frames embedded as PNG and no external resources.
    """
    ls = _landscape(landscape)
    if ls.dim != 2:
        raise ValueError(f"Invalid landscape: {ls.name!r} (static_explorer needs a 2-D one)")
    name = optimizer if isinstance(optimizer, str) else None
    if name is not None:
        make_optimizer(name, 0.1)  # checks the name
        for key in (param, *fixed):
            if key not in ("lr", "beta1", "beta2", "eps"):
                what = "param" if key == param else "keyword argument"
                raise ValueError(f"Invalid {what}: {key!r} (must be lr, beta1, beta2 or eps)")
    elif not callable(optimizer):
        raise ValueError(f"Invalid optimizer: {optimizer!r} (a name or a factory)")
    if values is None:
        if param != "lr":
            raise ValueError(f"Invalid values: None (give the values of {param!r} to show)")
        base = _default_lr(ls.name, name or "adam")
        values = base * np.geomspace(0.1, 3.0, 9)
    values = list(values)
    if not 1 <= len(values) <= _MAX_FRAMES:
        raise ValueError(f"Invalid values: {len(values)} values (must be 1 to {_MAX_FRAMES} "
                         "frames, to keep the page small)")

    runs, names, titles = _frames(ls, optimizer, name, param, values, steps, x0, fixed)
    if alt is None:
        alt = (f"Animation: {plotting.label(names[0])} on the {ls.name} landscape, "
               f"one frame per value of {param} from {_fmt(values[0])} to {_fmt(values[-1])}.")

    panel = _Panel(ls, figsize=(5.0, 3.4), dpi=dpi)
    panel.flatten()

    def frame(i):
        panel.show(runs[i], names[i], titles[i])
        return panel.path, panel.start, panel.cross, panel.ax.title

    animation = FuncAnimation(panel.figure, frame, frames=len(values), interval=1000 / fps)
    page = animation_html(animation, alt, fps=fps, dpi=dpi)
    panel.figure.clear()
    return page
