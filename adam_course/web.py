"""The explorers in the reader's browser: what Python hands to ``explorers.js``.

The published book has no kernel, so each explorer runs there as JavaScript
(``adam_course/explorers.js``, one implementation for the three explorers): the browser
computes the optimizers, landscapes and gradients in double precision with the operations of
this package, and draws the changing lines on a canvas over a background that matplotlib drew
(axes, contours, labels, legends: the book's look). Python describes each explorer in a JSON
block: its knobs and their values, the background PNG and where its axes are, the look of every
line (exported from the matplotlib artists), the catalog's optimizers and the landscapes'
parameters, and numpy's random draws (so the browser's noisy runs are the kernel's).

:class:`LiveExplorer` is what ``playground.static_explorer``, ``hump.static_explorer`` and
``moments.static_explorer`` return: an :class:`~adam_course.picture.Animation` (its frames are
the sheet the PDF prints, and what a reader without JavaScript sees) whose HTML is the live
explorer. The script travels inside the HTML so that the output works wherever it is shown
(JupyterLab runs it in a trusted output); the book's Sphinx extension ``book/_ext/explorers.py``
replaces those copies by one file, loaded only on the pages that have an explorer.
"""

from __future__ import annotations

import base64
import functools
import html
from pathlib import Path

import numpy as np
from matplotlib.colors import to_hex
from matplotlib.markers import MarkerStyle

from adam_course import catalog, checks, picture

__all__ = ["SCRIPT", "script", "encode", "line_style", "axes_box", "landscape_spec",
           "optimizer_spec", "LiveExplorer", "CSS_DPI", "WEB_DPI"]

SCRIPT = Path(__file__).with_name("explorers.js")
"""The browser's half of the explorers."""

CSS_DPI = 100
"""Figure inches to CSS pixels, as the book's matplotlib figures (``figure.dpi`` 100)."""
WEB_DPI = 150
"""The backgrounds' resolution: 1.5 pixels per CSS pixel, sharp on most screens."""


@functools.cache
def script():
    """The text of ``explorers.js``."""
    return SCRIPT.read_text(encoding="utf-8")


def encode(values):
    """Float64 values as base64 (little-endian), as ``explorers.js`` decodes them."""
    return base64.b64encode(np.asarray(values, dtype="<f8").tobytes()).decode("ascii")


def _color(value):
    if value is None or (isinstance(value, str) and value == "none"):
        return "none"
    return to_hex(value, keep_alpha=True)


def _marker(line):
    """The marker of a Line2D as the browser draws it: "circle", a polygon (in units of the
    marker size, y up) or None."""
    marker = line.get_marker()
    if marker in (None, "None", "none", "", " "):
        return None
    if marker == "o":
        return "circle"
    style = MarkerStyle(marker)
    path = style.get_path().transformed(style.get_transform())
    polygon = path.to_polygons(closed_only=False)[0]
    if len(polygon) > 1 and np.allclose(polygon[0], polygon[-1]):
        polygon = polygon[:-1]
    return np.round(polygon, 6).tolist()


def line_style(line):
    """The look of a matplotlib Line2D for ``explorers.js``: colour, width and dashes in
    points, marker, its size, face, edge and edge width, alpha."""
    offset, dashes = line._dash_pattern  # scaled by the line width, as matplotlib draws it
    style = {"color": _color(line.get_color()), "width": line.get_linewidth(),
             "dashes": [] if dashes is None or line.get_linestyle() in ("-", "None")
             else [round(float(d), 4) for d in dashes],
             "marker": _marker(line), "markersize": line.get_markersize(),
             "face": _color(line.get_markerfacecolor()),
             "edge": _color(line.get_markeredgecolor()),
             "edgewidth": line.get_markeredgewidth(),
             "alpha": line.get_alpha(), "join": line.get_solid_joinstyle()}
    effects = line.get_path_effects()
    if effects:  # a dark outline under a light colour (catalog.Entry.outline)
        stroke = effects[0]
        style["outline"] = {"color": _color(stroke._gc["foreground"]),
                            "width": stroke._gc["linewidth"]}
    return style


def axes_box(ax, drawing):
    """Where an axes of ``drawing`` (a cached :class:`~adam_course.picture.Picture`) is, in CSS
    pixels from the figure's top left corner, with its limits and scales."""
    scale = drawing.figure.dpi / CSS_DPI
    (x0, y0), (x1, y1) = ax.bbox.get_points()
    height = drawing.figure.bbox.height
    return {"left": x0 / scale, "top": (height - y1) / scale, "width": (x1 - x0) / scale,
            "height": (y1 - y0) / scale, "xlim": list(ax.get_xlim()), "ylim": list(ax.get_ylim()),
            "xscale": ax.get_xscale(), "yscale": ax.get_yscale()}


def background(drawing):
    """The kept background of a cached picture, as a data: URL of a PNG."""
    return "data:image/png;base64," + base64.b64encode(
        picture.png(drawing.background_image(), small=True)).decode("ascii")


def figure_spec(drawing):
    """Size (CSS px) and points-to-pixels of a picture drawn at :data:`WEB_DPI`."""
    width, height = drawing.figure.get_size_inches() * CSS_DPI
    return {"width": round(float(width), 3), "height": round(float(height), 3),
            "pt": CSS_DPI / 72}


def landscape_spec(landscape):
    """The formula of a 2-D or hump landscape as ``explorers.js`` knows it: its kind and
    parameters (a bowl's matrix, Rosenbrock's a and b, the hump's tilt)."""
    name = landscape.name
    if name == "bowl" and landscape.dim == 2:
        return {"kind": "bowl", "A": np.asarray(landscape.A, dtype=float).tolist()}
    if name == "rosenbrock":
        return {"kind": "rosenbrock", "a": float(landscape.a), "b": float(landscape.b)}
    if name in ("beale", "saddle"):
        return {"kind": name}
    if name == "hump":
        return {"kind": "hump", "tilt": float(landscape.tilt)}
    checks.fail("landscape", name, "a landscape the browser knows: a 2-D bowl, rosenbrock, "
                "beale, saddle or the hump")


def optimizer_spec(name):
    """Optimizer ``name`` of the catalog as ``explorers.js`` builds it: the factory, its preset
    arguments and which of the explorer's knobs feed which argument."""
    entry = catalog.entry(name)
    factory = entry.factory
    presets = dict(getattr(factory, "keywords", {}))
    function = getattr(factory, "func", factory)
    return {"label": entry.label, "factory": function.__name__, "presets": presets,
            "knobs": dict(entry.knobs)}


def values_knob(key, label, values, value, lo, hi):
    """A slider over ``values`` (``value`` joins them); a value from the URL must lie in
    [lo, hi]."""
    return {"key": key, "label": label, "type": "values",
            "values": sorted({*map(float, values), float(value)}), "value": float(value),
            "lo": lo, "hi": hi}


def int_knob(key, label, value, lo, hi, step=1):
    return {"key": key, "label": label, "type": "int", "min": lo, "max": hi, "step": step,
            "value": int(value)}


def menu_knob(key, label, options, value):
    return {"key": key, "label": label, "type": "menu", "options": [list(o) for o in options],
            "value": value}


_HTML = """<div class="adam-explorer" id="{id}">
<script type="application/json">{spec}</script>
<noscript><img src="data:image/png;base64,{sheet}" alt="{alt}"
 style="display:block;max-width:100%;height:auto"></noscript>
{script}</div>"""


class LiveExplorer(picture.Animation):
    """An explorer the reader's browser runs: its HTML is the live explorer, its frames (one
    per value of the knob the chapter sweeps) make the PDF's sheet and the page without
    JavaScript, and the explorer's Play button goes through those values.

    ``spec`` is the JSON description :mod:`explorers.js` reads: ``kind`` (playground, hump,
    moments), ``id`` (the anchor, and the key of the URL's hash), ``name``, ``knobs`` (each
    with its initial value), ``tour`` and the kind's own data.
    """

    def __init__(self, images, labels, alt, name, spec, fps=2):
        super().__init__(images, labels, alt, name, fps)
        self.spec = spec

    @property
    def html(self):
        """The live explorer, with ``explorers.js`` inside (the book's build loads it once)."""
        return self.page_html(inline_script=True)

    def page_html(self, inline_script=True):
        spec = {**self.spec, "alt": self.alt}
        code = (f"<script data-adam-explorers>\n{script()}\n</script>\n" if inline_script
                else "")
        return _HTML.format(id=html.escape(spec["id"]), spec=picture.script_json(spec),
                            sheet=base64.b64encode(self.sheet()).decode("ascii"),
                            alt=html.escape(self.alt), script=code)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": f"Live explorer ({self.spec['kind']}): {self.alt}",
                "text/html": self.html,
                "image/png": base64.b64encode(self.sheet()).decode("ascii")}


def tour(text, settings, fps):
    """The Play button: ``settings`` (dicts of knob values) one after the other, ``fps`` a
    second; ``text`` says what it plays ("β1 through 0, 0.5, 0.9")."""
    return {"text": text, "settings": [{k: float(v) for k, v in s.items()} for s in settings],
            "fps": fps}


def sweep(key, label, values, fps):
    """The Play button of a sweep of one knob through ``values``."""
    return tour(f"{label} through {', '.join(picture.readout(v) for v in values)}",
                [{key: v} for v in values], fps)
