"""Drawing an explorer: a picture that redraws in milliseconds, and its offline animation.

Every explorer of the book draws on a :class:`Picture`, a matplotlib figure on its own Agg
canvas whose background (axes, contours, labels, legends) is drawn once and kept; a change only
redraws the few ``live`` artists on top and encodes a small PNG (a few ms, see
``benchmarks/run.py``). :func:`animate` turns frames of one picture into an :class:`Animation`,
the static counterpart of a live explorer: in the published book a slider over the frames that
needs no kernel and loads nothing from outside the page, in the PDF a sheet of the frames.

The controls: :func:`slider` makes a slider whose readout is written exactly as the title writes
the value (:func:`readout`), :func:`connect` wires controls to an explorer's ``update``,
:func:`check_settings` rejects a setting an explorer does not have, and :func:`run` is
``optim.minimize`` with diverged runs frozen, at the unguarded speed when none diverges.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import io
import json

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from adam_course import checks, optim

__all__ = ["MAX_FRAMES", "Picture", "Animation", "animate", "check_frames", "script_json",
           "readout", "slider",
           "control_grid", "set_value", "connect", "check_settings", "run"]

MAX_FRAMES = 30
"""The most frames an animation may have: each is a PNG inside the page."""


# --------------------------------------------------------------------------------------------
# The picture
# --------------------------------------------------------------------------------------------

def png(image, small=False):
    """PNG bytes of a PIL image in at most 256 colours: about 3x smaller, and faster to write.

    ``small`` compresses harder (slower: for the frames of a page, not for a slider).
    """
    image = image.convert("RGB").quantize(colors=128 if small else 256,
                                          method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    image.save(buffer, format="png", **({"optimize": True} if small else {"compress_level": 1}))
    return buffer.getvalue()


class Picture:
    """A figure drawn once; only its ``live`` artists are redrawn.

    A subclass draws on ``self.figure`` (made by ``__init__``) and then calls :meth:`cache`
    with the artists that change; its ``show(...)`` method changes them. :meth:`png` then
    costs a few milliseconds: the kept background, the live artists drawn on it, encoded.
    """

    def __init__(self, figsize, dpi=72):
        self.figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        FigureCanvasAgg(self.figure)
        self.live = ()

    def cache(self, *live):
        """Draw everything but ``live`` once, freeze the layout and keep the pixels."""
        self.live = live
        for artist in live:
            artist.set_animated(True)  # left out of the kept background
        self.figure.canvas.draw()
        self.figure.set_layout_engine("none")  # the background is final
        self.background = self.figure.canvas.copy_from_bbox(self.figure.bbox)

    def background_image(self):
        """The kept background alone (no live artist), as a PIL image."""
        canvas = self.figure.canvas
        canvas.restore_region(self.background)
        return Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).copy()

    def image(self):
        """The picture as a PIL image: the kept background with the live artists on it."""
        canvas = self.figure.canvas
        canvas.restore_region(self.background)
        for artist in self.live:
            self.figure.draw_artist(artist)
        return Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())

    def png(self):
        """The picture as PNG bytes."""
        return png(self.image())


# --------------------------------------------------------------------------------------------
# The offline animation
# --------------------------------------------------------------------------------------------

def check_frames(values, what="values"):
    """``values`` as a list of 1 to :data:`MAX_FRAMES` items (one frame each)."""
    values = list(values)
    if not 1 <= len(values) <= MAX_FRAMES:
        checks.fail(what, checks.described(f"{len(values)} {what}"),
                    f"1 to {MAX_FRAMES} frames, to keep the page small")
    return values


def animate(picture, frames, labels, alt, name, fps=2):
    """An :class:`Animation` of ``picture``: ``picture.show(*frame)`` for each of ``frames``.

    ``labels`` (one per frame) are what the slider's readout says, e.g. ``"lr = 0.1"``;
    ``name`` says what the slider moves (its accessible label), ``alt`` describes the figure.
    """
    frames = check_frames(frames, "frames")
    images = []
    for frame in frames:
        picture.show(*frame)
        images.append(picture.image().convert("RGB"))
    return Animation(images, labels, alt, name, fps)


_PLAYER = """<div class="adam-course-animation" data-animation="{key}">
<img src="{first}" alt="{alt}" style="display:block;max-width:100%;height:auto">
<div style="display:flex;flex-wrap:wrap;align-items:center;gap:0.4em;margin-top:0.3em">
<button type="button" data-do="back" aria-label="Previous frame" title="Previous frame">
&lsaquo;</button>
<button type="button" data-do="play" aria-label="Play" title="Play">&#9654;&#xFE0E;</button>
<button type="button" data-do="next" aria-label="Next frame" title="Next frame">
&rsaquo;</button>
<input type="range" min="0" max="{last}" step="1" value="0"
 aria-label="{name}: frame 1 to {count}" aria-valuetext="{label}"
 style="flex:1 1 10em;min-width:8em">
<output style="min-width:10em">{label}</output>
</div>
<script>
(function () {{
  var root = document.querySelector('[data-animation="{key}"]:not([data-ready])');
  if (!root) return;
  root.setAttribute("data-ready", "");
  var frames = {frames}, labels = {labels}, fps = {fps}, timer = null, i = 0;
  var img = root.querySelector("img"), range = root.querySelector("input");
  var out = root.querySelector("output"), play = root.querySelector('[data-do="play"]');
  function show(k) {{
    i = Math.max(0, Math.min(frames.length - 1, k));
    img.src = frames[i]; range.value = i; out.textContent = labels[i];
    range.setAttribute("aria-valuetext", labels[i]);
  }}
  function button(icon, name) {{
    play.innerHTML = icon; play.title = name; play.setAttribute("aria-label", name);
  }}
  function stop() {{ clearInterval(timer); timer = null; button("&#9654;&#xFE0E;", "Play"); }}
  function on(what, event, act) {{ what.addEventListener(event, act); }}
  on(range, "input", function () {{ stop(); show(parseInt(range.value, 10)); }});
  on(root.querySelector('[data-do="back"]'), "click", function () {{ stop(); show(i - 1); }});
  on(root.querySelector('[data-do="next"]'), "click", function () {{ stop(); show(i + 1); }});
  on(play, "click", function () {{
    if (timer) {{ stop(); return; }}
    if (i === frames.length - 1) show(0);
    button("&#10074;&#10074;", "Pause");
    timer = setInterval(function () {{ show(i + 1); if (i === frames.length - 1) stop(); }},
                        1000 / fps);
  }});
}})();
</script>
</div>"""


def script_json(values):
    """JSON that is safe inside a <script> element."""
    return json.dumps(values).replace("</", "<\\/")


class Animation:
    """Frames of one picture with a slider; shown offline, with no kernel.

    In a notebook or on the site it is HTML: the first frame, buttons and a range slider with
    an accessible label, a readout of the frame's setting, and a small script; every frame is
    a PNG inside the page and nothing is loaded from elsewhere. The page depends only on the
    content (the same animation gives the same page). For the PDF (a LaTeX build picks
    ``image/png`` over ``text/html``) it is also a PNG: a sheet of up to six of the frames.
    """

    def __init__(self, images, labels, alt, name, fps=2):
        self.images, self.labels = list(images), [str(label) for label in labels]
        if len(self.labels) != len(self.images):
            checks.fail("labels", checks.described(f"{len(self.labels)} labels"),
                        f"one per frame ({len(self.images)})")
        self.alt, self.name, self.fps = str(alt), str(name), checks.number(fps, "fps", lo=0.1)

    @functools.cached_property
    def frames(self):
        """Each frame as PNG bytes (made when first asked for)."""
        return [png(image, small=True) for image in self.images]

    @property
    def html(self):
        """The HTML page fragment (what the site shows)."""
        urls = ["data:image/png;base64," + base64.b64encode(f).decode("ascii")
                for f in self.frames]
        key = hashlib.sha1("\n".join([*urls, *self.labels, self.alt, self.name,
                                      str(self.fps)]).encode()).hexdigest()[:16]
        return _PLAYER.format(key=key, first=urls[0], alt=html.escape(self.alt),
                              name=html.escape(self.name), last=len(urls) - 1,
                              count=len(urls), label=html.escape(self.labels[0]),
                              frames=script_json(urls), labels=script_json(self.labels),
                              fps=f"{self.fps:g}")

    def sheet(self, most=6):
        """PNG bytes of up to ``most`` frames, evenly spaced from the first to the last."""
        picks = np.unique(np.linspace(0, len(self.images) - 1, min(most, len(self.images)))
                          .round().astype(int))
        width, height = self.images[0].size
        columns = min(len(picks), 3 if width <= 480 else 2)
        rows, gap = -(-len(picks) // columns), 12
        sheet = Image.new("RGB", (columns * (width + gap) - gap, rows * (height + gap) - gap),
                          "white")
        for k, i in enumerate(picks):
            sheet.paste(self.images[i], ((k % columns) * (width + gap),
                                         (k // columns) * (height + gap)))
        return png(sheet, small=True)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": f"Animation of {len(self.frames)} frames: {self.alt}",
                "text/html": self.html,
                "image/png": base64.b64encode(self.sheet()).decode("ascii")}


# --------------------------------------------------------------------------------------------
# Controls
# --------------------------------------------------------------------------------------------

def readout(value):
    """A setting as the readouts and titles write it, exactly: 0.9999, 1000, 1e-8, 2e-4.

    The shortest text that reads back as the same float, so a slider's readout and a title
    show the value actually used (give the explorers round values: ``0.1 * 3`` is
    0.30000000000000004).
    """
    v = float(value)
    if v == 0 or 1e-3 <= abs(v) < 1e5:
        return np.format_float_positional(v, trim="-")
    return np.format_float_scientific(v, trim="-", exp_digits=1)


LABEL_STYLE = {"description_width": "initial"}
"""Slider labels as wide as their text: never cut to "lands…"."""


def slider(description, values, value):
    """A slider over ``values`` (and ``value``) whose readout is :func:`readout` of the value."""
    return set_value(widgets.SelectionSlider(options=[(readout(value), float(value))],
                                             description=description, style=LABEL_STYLE,
                                             layout=widgets.Layout(width="auto")),
                     value, values)


def control_grid(controls):
    """The controls in a grid that wraps on narrow screens, each label in full."""
    return widgets.GridBox(list(controls), layout=widgets.Layout(
        grid_template_columns="repeat(auto-fill, minmax(16em, 1fr))", grid_gap="2px 1em"))


def set_value(control, value, values=None):
    """Show ``value`` on ``control`` without calling what :func:`connect` wired to it.

    A slider made by :func:`slider` gains ``value`` as an option if it lacks it; with
    ``values``, its options become ``values`` and ``value``.
    """
    control.syncing = True  # (changing options selects option 0 on the way)
    try:
        if isinstance(control, widgets.SelectionSlider):
            value = float(value)
            old = [v for _, v in control.options] if values is None else list(map(float, values))
            if values is not None or value not in old:
                control.options = [(readout(v), v) for v in sorted({*old, value})]
        if control.value != value:
            control.value = value
    finally:
        control.syncing = False
    return control


def connect(controls, update):
    """Make each control call ``update(name=new_value)`` when the reader moves it."""
    def observer(key, control):
        def moved(change):
            if not getattr(control, "syncing", False):
                update(**{key: change["new"]})
        return moved

    for key, control in controls.items():
        control.observe(observer(key, control), names="value")


def check_settings(values, settings):
    """Raise ``ValueError`` naming the first of ``values`` that is not one of ``settings``."""
    for key in values:
        if key not in settings:
            checks.fail("setting", key, "one of " + ", ".join(map(repr, settings)))


class _Diverged(Exception):
    """A run passed the divergence threshold during the fast pass of :func:`run`."""


def run(optimizer, gradient, x0, steps, threshold):
    """``optim.minimize`` with a run frozen (and recorded as nan) once ``|x| > threshold``.

    ``gradient()`` makes the grad_fn afresh (a noisy landscape starts its draws again). The
    unguarded run is about 1.5x faster; it is kept when no run passes the threshold, where
    the guarded one gives the same numbers, and it stops as soon as one does.
    """
    grad_fn = gradient()

    def watched(x):
        if not (np.abs(x) <= threshold).all():  # (the method is twice as fast as np.all)
            raise _Diverged
        return grad_fn(x)

    with np.errstate(over="ignore", invalid="ignore"):
        try:
            trajectory = optim.minimize(optimizer, watched, x0, steps)
            if np.all(np.abs(trajectory[-1]) <= threshold):
                return trajectory
        except (_Diverged, ValueError):  # ValueError: a step that is not finite
            pass
    return optim.minimize(optimizer, gradient(), x0, steps, divergence_threshold=threshold)
