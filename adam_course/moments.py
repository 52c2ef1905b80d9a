"""The moments of one gradient stream, raw and bias-corrected: a live explorer, an animation.

:func:`gradient_stream` is the seeded stream, :func:`averages` its raw and corrected ``m_t`` and
``v_t``, :func:`explorer` moves beta1 and beta2 with sliders (needs a kernel) and
:func:`static_explorer` is its counterpart for the published book, one frame per pair.
"""

from __future__ import annotations

import functools
import html

import ipywidgets as widgets
import numpy as np
from matplotlib.ticker import NullLocator

from adam_course import checks, optim, picture, plotting, web

__all__ = ["gradient_stream", "averages", "MomentsPicture", "Explorer", "explorer",
           "static_explorer", "BETA1_VALUES", "BETA2_VALUES"]

MAX_STEPS = 10_000
BETA1_VALUES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)
BETA2_VALUES = (0.9, 0.99, 0.995, 0.999, 0.9995, 0.9999)
MU_VALUES = (-2.0, -1.0, -0.5, 0.0, 0.1, 0.5, 1.0, 2.0, 5.0)
SIGMA_VALUES = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)
"""The sliders' values; a value given in code joins its slider."""


def _beta(name, value):
    return checks.number(value, name, lo=0, hi=1, hi_open=True)


def _stream_args(steps, mu, sigma):
    return (checks.integer(steps, "steps", lo=1, hi=MAX_STEPS), checks.number(mu, "mu"),
            checks.number(sigma, "sigma", lo=0, lo_open=True))


def gradient_stream(steps=1000, mu=1.0, sigma=1.0, seed=6):
    """One seeded stream of noisy gradients ``g_t ~ N(mu, sigma^2)``, t = 1..steps. Chapter 6.

    It is ``mu + sigma * z`` with ``z = np.random.default_rng(seed).standard_normal(steps)``:
    with the defaults, the first of chapter 6's 5,000 streams (row 0 of its seed-6 array).
    """
    steps, mu, sigma = _stream_args(steps, mu, sigma)
    return mu + sigma * np.random.default_rng(seed).standard_normal(steps)


def averages(stream, beta1=0.9, beta2=0.999):
    """The rows ``m_t, m_hat_t, v_t, v_hat_t`` (shape (4, T)) of a gradient stream. Chapter 6.

    ``m_t = ema(m_{t-1}, g_t, beta1)`` and ``v_t = ema(v_{t-1}, g_t^2, beta2)`` from
    ``m_0 = v_0 = 0``; ``m_hat_t = m_t / bias_correction(beta1, t)``, the same for ``v``.
    """
    beta1, beta2 = _beta("beta1", beta1), _beta("beta2", beta2)
    stream = np.asarray(stream, dtype=float)
    if stream.ndim != 1 or not np.all(np.isfinite(stream)):
        checks.fail("stream", checks.described(f"shape {stream.shape}"),
                    "a 1-D array of finite gradients")
    out = np.zeros((4, len(stream)))
    m = v = 0.0
    for i, g in enumerate(stream.tolist()):  # python floats: faster than numpy scalars here
        m, v = optim.ema(m, g, beta1), optim.ema(v, g * g, beta2)
        out[0, i], out[2, i] = m, v
    t = np.arange(1, len(stream) + 1)
    out[1] = out[0] / optim.bias_correction(beta1, t)
    out[3] = out[2] / optim.bias_correction(beta2, t)
    return out


class MomentsPicture(picture.Picture):
    """Raw and corrected ``m_t`` (left) and ``v_t`` (right) against t.

    ``show(rows, beta1, beta2)`` puts the four rows of :func:`averages` on it. The true moments
    ``mu`` and ``mu^2 + sigma^2`` (dotted), the axes, legends and labels are drawn once; with
    ``titled`` the panels' titles give beta1 and beta2 (the live explorer shows them on its
    sliders and in a caption instead: text is slow to draw).
    """

    def __init__(self, steps=1000, mu=1.0, sigma=1.0, figsize=(8.5, 3.2), dpi=72, titled=False,
                 web=False):
        steps, mu, sigma = _stream_args(steps, mu, sigma)
        t = np.arange(1, steps + 1)
        self.titled = titled
        with plotting.book_style():
            super().__init__(figsize, dpi)
            self.axes = self.figure.subplots(1, 2)
            self.lines = []  # m_t, m_hat_t, v_t, v_hat_t: the rows of averages()
            panels = [(self.axes[0], mu, "m", (mu - 2 * sigma, mu + 2 * sigma), "first moment"),
                      (self.axes[1], mu**2 + sigma**2, "v", (0.0, 3 * (mu**2 + sigma**2)),
                       "second moment")]
            self.truths = []
            for ax, truth, name, ylim, text in panels:
                self.truths.append(ax.axhline(truth, color="black", linestyle=":", linewidth=1,
                                              label="true moment"))
                self.lines += ax.plot(t, np.zeros(steps), color="0.55", linewidth=2,
                                      label=f"raw ${name}_t$")
                self.lines += ax.plot(t, np.zeros(steps), color=plotting.color("adam"),
                                      linewidth=1.2, label=rf"corrected $\hat {name}_t$")
                ax.set(xscale="log", xlabel="step $t$", ylim=ylim,
                       xticks=10 ** np.arange(int(np.log10(steps)) + 1))
                ax.xaxis.set_minor_locator(NullLocator())
                ax.set_title(text + (", β1 = 0.00" if titled else ""), y=1.0)  # a fixed y
            # one legend below the panels, where no line can cover it
            self.figure.legend(handles=self.axes[0].get_lines(), labels=[
                "true moment", r"raw $m_t$, $v_t$", r"corrected $\hat m_t$, $\hat v_t$"],
                loc="outside lower center", ncols=3)
            titles = (self.axes[0].title, self.axes[1].title) if titled else ()
            if web:  # the browser draws the y axes (mu and sigma move them) and the truths
                for ax in self.axes:
                    ax.tick_params(axis="y", labelcolor="none", length=0)
                    ax.yaxis.grid(False)
                titles += tuple(self.truths)
            self.cache(*self.lines, *titles)

    def show(self, rows, beta1, beta2):
        """Put the rows ``m_t, m_hat_t, v_t, v_hat_t`` (and, if titled, the betas) on it."""
        for line, values in zip(self.lines, rows, strict=True):
            line.set_ydata(values)
        if self.titled:
            self.axes[0].title.set_text(f"first moment, β1 = {picture.readout(beta1)}")
            self.axes[1].title.set_text(f"second moment, β2 = {picture.readout(beta2)}")


class Explorer(widgets.VBox):
    """Sliders for beta1 and beta2 over a :class:`MomentsPicture` of one stream.

    ``update(**values)`` (what each slider calls) recomputes :func:`averages` of
    ``stream`` (the seeded :func:`gradient_stream`) and redraws; it returns the four rows.
    """

    def __init__(self, beta1=0.9, beta2=0.999, steps=1000, mu=1.0, sigma=1.0, seed=6, dpi=72):
        super().__init__()
        self.settings = {"beta1": _beta("beta1", beta1), "beta2": _beta("beta2", beta2)}
        self.stream = gradient_stream(steps, mu, sigma, seed)
        self.picture = MomentsPicture(steps, mu, sigma, dpi=dpi)
        self.controls = {"beta1": picture.slider("β1", BETA1_VALUES, self.settings["beta1"]),
                         "beta2": picture.slider("β2", BETA2_VALUES, self.settings["beta2"])}
        picture.connect(self.controls, self.update)
        self.caption = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%",
                                                                       height="auto"))
        self.children = [picture.control_grid(self.controls.values()), self.caption,
                         self.image]
        self.rows = None
        self.update()

    def update(self, **values):
        """Change beta1 and/or beta2, recompute the averages and redraw; returns the rows."""
        picture.check_settings(values, self.settings)
        new = {**self.settings, **{k: _beta(k, v) for k, v in values.items()}}
        if new == self.settings and self.rows is not None:
            return self.rows  # nothing changed: nothing to send
        self.rows = averages(self.stream, new["beta1"], new["beta2"])
        self.settings = new
        for key, control in self.controls.items():
            picture.set_value(control, new[key])
        self.picture.show(self.rows, new["beta1"], new["beta2"])
        self.caption.value = html.escape(f"β1 = {picture.readout(new['beta1'])}, "
                                         f"β2 = {picture.readout(new['beta2'])}")
        self.image.value = self.picture.png()
        return self.rows


def explorer(beta1=0.9, beta2=0.999, steps=1000, mu=1.0, sigma=1.0, seed=6):
    """The live explorer of raw and corrected m_t and v_t (needs a kernel). Chapter 6.

    See :class:`Explorer`; the defaults show the first of chapter 6's 5,000 streams.
    """
    return Explorer(beta1=beta1, beta2=beta2, steps=steps, mu=mu, sigma=sigma, seed=seed)


def static_explorer(pairs, steps=1000, mu=1.0, sigma=1.0, seed=6, alt=None, fps=1, dpi=72):
    """The moments explorer without a kernel, live in the reader's browser. Chapter 6.

    A :class:`~adam_course.web.LiveExplorer` with the knobs β1, β2 and the stream's mean and
    noise (mu, sigma), computed by the browser from numpy's draws of :func:`gradient_stream`
    ``(steps, 0, 1, seed)``, shipped in the page. It starts at the first (beta1, beta2) pair;
    its Play button goes through ``pairs``, and the PDF prints those frames. ``alt`` describes
    them (a generic description if None).
    """
    pairs = picture.check_frames(pairs, "pairs")
    for pair in pairs:
        if np.ndim(pair) != 1 or len(pair) != 2:
            checks.fail("pairs", pair, "pairs (beta1, beta2)")
    pairs = [(_beta("beta1", b1), _beta("beta2", b2)) for b1, b2 in pairs]
    stream = gradient_stream(steps, mu, sigma, seed)
    frames = [(averages(stream, b1, b2), b1, b2) for b1, b2 in pairs]
    labels = [f"β1 = {picture.readout(b1)}, β2 = {picture.readout(b2)}" for b1, b2 in pairs]
    if alt is None:
        alt = (f"Animation: the raw and bias-corrected averages m_t and v_t of one gradient "
               f"stream, one frame per (beta1, beta2) from ({pairs[0][0]:g}, {pairs[0][1]:g}) "
               f"to ({pairs[-1][0]:g}, {pairs[-1][1]:g}).")
    drawing = MomentsPicture(steps, mu, sigma, dpi=dpi, titled=True)
    animation = picture.animate(drawing, frames, labels, alt, name="(β1, β2)", fps=fps)
    text = "(β1, β2) through " + ", ".join(
        f"({picture.readout(b1)}, {picture.readout(b2)})" for b1, b2 in pairs)
    tour = web.tour(text, [{"beta1": b1, "beta2": b2} for b1, b2 in pairs], fps)
    spec = web_spec(*pairs[0], steps=steps, mu=mu, sigma=sigma, seed=seed, tour=tour)
    return web.LiveExplorer(animation.images, animation.labels, alt, "(β1, β2)", spec, fps=fps)


@functools.cache
def _web_picture(steps):
    drawing = MomentsPicture(steps, dpi=web.WEB_DPI, web=True)
    return {"background": web.background(drawing),
            "axes": [web.axes_box(ax, drawing) for ax in drawing.axes],
            "truth": web.line_style(drawing.truths[0]), "raw": web.line_style(drawing.lines[0]),
            "corrected": web.line_style(drawing.lines[1]),
            "grid": {"color": plotting.BOOK_RC["grid.color"],
                     "width": plotting.BOOK_RC["grid.linewidth"]},
            **web.figure_spec(drawing)}


def web_spec(beta1=0.9, beta2=0.999, steps=1000, mu=1.0, sigma=1.0, seed=6, tour=None,
             ident="explorer-moments"):
    """The moments explorer for ``explorers.js``: the background, the knobs, and numpy's
    standard normals ``z`` of the stream ``mu + sigma * z`` (:func:`gradient_stream`)."""
    steps, mu, sigma = _stream_args(steps, mu, sigma)
    return {
        "kind": "moments", "id": ident, "name": "moments explorer", **_web_picture(steps),
        "knobs": [
            web.values_knob("beta1", "β1", BETA1_VALUES, _beta("beta1", beta1), 0.0, 0.9999),
            web.values_knob("beta2", "β2", BETA2_VALUES, _beta("beta2", beta2), 0.0, 0.99999),
            web.values_knob("mu", "mean μ", MU_VALUES, mu, -100.0, 100.0),
            web.values_knob("sigma", "noise σ", SIGMA_VALUES, sigma, 1e-6, 100.0),
        ],
        "draws": web.encode(gradient_stream(steps, 0.0, 1.0, seed)), "tour": tour,
    }
