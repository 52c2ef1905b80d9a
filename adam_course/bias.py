"""Chapter 6's explorer of the two moments of one gradient stream.

:func:`gradient_stream` (the seeded stream), :func:`moments` (raw and corrected ``m_t`` and
``v_t``), :func:`moments_explorer` (sliders for beta1 and beta2, needs a kernel) and
:func:`static_moments_explorer` (the kernel-free animation for the published book). Speed: the
axes, legends and labels are drawn once into a cached Agg canvas; a slider change recomputes
the four averages and blits the four lines and two titles on top (see ``benchmarks/run.py``).
"""

from __future__ import annotations

import numbers

import ipywidgets as widgets
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from adam_course import optim, plotting
from adam_course.widgets import CachedPicture, animation_html, check_settings, connect

__all__ = ["gradient_stream", "moments", "MomentsPicture",
           "MomentsExplorer", "moments_explorer", "static_moments_explorer"]

# --------------------------------------------------------------------------------------------
# The moments of one gradient stream: a live explorer and its static twin
# --------------------------------------------------------------------------------------------

_MAX_STEPS = 10_000
_MAX_FRAMES = 30
_BETA2_CHOICES = (0.9, 0.99, 0.995, 0.999, 0.9995, 0.9999)


def _beta(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"Invalid {name}: {value!r} (must be a number in [0, 1))")
    return float(value)


def _stream_args(steps, mu, sigma):
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or not (
            1 <= steps <= _MAX_STEPS):
        raise ValueError(f"Invalid steps: {steps!r} (must be an integer in [1, {_MAX_STEPS}])")
    if isinstance(mu, bool) or not isinstance(mu, numbers.Real) or not np.isfinite(mu):
        raise ValueError(f"Invalid mu: {mu!r} (must be a finite number)")
    if isinstance(sigma, bool) or not isinstance(sigma, numbers.Real) or not (
            np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"Invalid sigma: {sigma!r} (must be a positive finite number)")
    return int(steps), float(mu), float(sigma)


def gradient_stream(steps=1000, mu=1.0, sigma=1.0, seed=6):
    """One seeded stream of noisy gradients ``g_t ~ N(mu, sigma^2)``, t = 1..steps. Chapter 6.

    It is ``mu + sigma * z`` with ``z = np.random.default_rng(seed).standard_normal(steps)``:
    with the defaults, the first of chapter 6's 5,000 streams (row 0 of its seed-6 array).
    """
    steps, mu, sigma = _stream_args(steps, mu, sigma)
    return mu + sigma * np.random.default_rng(seed).standard_normal(steps)


def moments(stream, beta1=0.9, beta2=0.999):
    """The rows ``m_t, m_hat_t, v_t, v_hat_t`` (shape (4, T)) of a gradient stream. Chapter 6.

    ``m_t = ema(m_{t-1}, g_t, beta1)`` and ``v_t = ema(v_{t-1}, g_t^2, beta2)`` from
    ``m_0 = v_0 = 0``; ``m_hat_t = m_t / bias_correction(beta1, t)``, the same for ``v``.
    """
    beta1, beta2 = _beta("beta1", beta1), _beta("beta2", beta2)
    stream = np.asarray(stream, dtype=float)
    if stream.ndim != 1 or not np.all(np.isfinite(stream)):
        raise ValueError(f"Invalid stream: shape {stream.shape} (must be a 1-D array of finite "
                         "gradients)")
    out = np.zeros((4, len(stream)))
    m = v = 0.0
    for i, g in enumerate(stream.tolist()):  # python floats: faster than numpy scalars here
        m, v = optim.ema(m, g, beta1), optim.ema(v, g * g, beta2)
        out[0, i], out[2, i] = m, v
    t = np.arange(1, len(stream) + 1)
    out[1] = out[0] / optim.bias_correction(beta1, t)
    out[3] = out[2] / optim.bias_correction(beta2, t)
    return out


class MomentsPicture(CachedPicture):
    """Raw and corrected ``m_t`` (left) and ``v_t`` (right) against t, on an Agg canvas.

    Chapter 6. ``show(rows, beta1, beta2)`` puts the four rows of :func:`moments` on it;
    ``png()`` renders it. The true moments ``mu`` and ``mu^2 + sigma^2`` (dotted), the axes,
    legends and labels are drawn once and cached; a redraw only blits the four lines and the
    two titles on top (fast).
    """

    def __init__(self, steps=1000, mu=1.0, sigma=1.0, figsize=(8.5, 3.2), dpi=72):
        steps, mu, sigma = _stream_args(steps, mu, sigma)
        t = np.arange(1, steps + 1)
        with plotting.book_style():
            self.figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
            FigureCanvasAgg(self.figure)
            self.axes = self.figure.subplots(1, 2)
            self.lines = []  # m_t, m_hat_t, v_t, v_hat_t: the rows of moments()
            panels = [(self.axes[0], mu, "m", (mu - 2 * sigma, mu + 2 * sigma), "lower right"),
                      (self.axes[1], mu**2 + sigma**2, "v", (0.0, 3 * (mu**2 + sigma**2)),
                       "upper right")]
            for ax, truth, name, ylim, where in panels:
                ax.axhline(truth, color="black", linestyle=":", linewidth=1, label="true moment")
                self.lines += ax.plot(t, np.zeros(steps), color="0.55", linewidth=2,
                                      label=f"raw ${name}_t$")
                self.lines += ax.plot(t, np.zeros(steps), color=plotting.color("adam"),
                                      linewidth=1.2, label=rf"corrected $\hat {name}_t$")
                ax.set(xscale="log", xlabel="step $t$", ylim=ylim,
                       xticks=10 ** np.arange(int(np.log10(steps)) + 1))
                ax.xaxis.set_minor_locator(NullLocator())
                ax.legend(loc=where)
                ax.set_title("first moment, β1 = 0.00", y=1.0)  # room; a fixed y stays put
            self.live = (*self.lines, self.axes[0].title, self.axes[1].title)
            self._cache()

    def show(self, rows, beta1, beta2):
        """Put the rows ``m_t, m_hat_t, v_t, v_hat_t`` and the two betas on the picture."""
        for line, values in zip(self.lines, rows, strict=True):
            line.set_ydata(values)
        self.axes[0].title.set_text(f"first moment, β1 = {beta1:g}")
        self.axes[1].title.set_text(f"second moment, β2 = {beta2:g}")


class MomentsExplorer(widgets.VBox):
    """Sliders for beta1 and beta2 over :class:`MomentsPicture` of one stream. Chapter 6.

    ``update(**values)`` (what each slider calls) recomputes :func:`moments` of ``stream``
    (the seeded :func:`gradient_stream`) and redraws; it returns the four rows.
    """

    def __init__(self, beta1=0.9, beta2=0.999, steps=1000, mu=1.0, sigma=1.0, seed=6, dpi=72):
        super().__init__()
        self.settings = {"beta1": _beta("beta1", beta1), "beta2": _beta("beta2", beta2)}
        self.stream = gradient_stream(steps, mu, sigma, seed)
        self.picture = MomentsPicture(steps, mu, sigma, dpi=dpi)
        self.controls = {
            "beta1": widgets.FloatSlider(value=beta1, min=0.0, max=0.99, step=0.01,
                                         description="β1"),
            "beta2": widgets.SelectionSlider(options=sorted({*_BETA2_CHOICES, float(beta2)}),
                                             value=float(beta2), description="β2"),
        }
        connect(self.controls, self.update)
        self.image = widgets.Image(format="png")
        self.children = [widgets.HBox(list(self.controls.values())), self.image]
        self.update()

    def update(self, **values):
        """Change beta1 and/or beta2, recompute the averages and redraw; returns the rows."""
        check_settings(values, self.settings)
        new = {**self.settings, **{k: _beta(k, v) for k, v in values.items()}}
        self.rows = moments(self.stream, new["beta1"], new["beta2"])
        self.settings = new
        self.picture.show(self.rows, new["beta1"], new["beta2"])
        self.image.value = self.picture.png()
        return self.rows


def moments_explorer(beta1=0.9, beta2=0.999, steps=1000, mu=1.0, sigma=1.0, seed=6):
    """The live explorer of raw and corrected m_t and v_t (needs a kernel). Chapter 6.

    See :class:`MomentsExplorer`; the defaults show the first of chapter 6's 5,000 streams.
    """
    return MomentsExplorer(beta1=beta1, beta2=beta2, steps=steps, mu=mu, sigma=sigma, seed=seed)


def static_moments_explorer(pairs, steps=1000, mu=1.0, sigma=1.0, seed=6, alt=None, fps=1,
                            dpi=72):
    """A kernel-free animation of :class:`MomentsPicture`, one frame per (beta1, beta2) pair.

    Chapter 6. The stream is :func:`gradient_stream` ``(steps, mu, sigma, seed)``, the same in
    every frame. Returns ``IPython.display.HTML`` with the frames embedded as PNG, no external
    resources, and ``alt`` (or a generated description) as the image's alt text.
    """
    pairs = list(pairs)
    if not 1 <= len(pairs) <= _MAX_FRAMES:
        raise ValueError(f"Invalid pairs: {len(pairs)} pairs (must be 1 to {_MAX_FRAMES})")
    for pair in pairs:
        if np.ndim(pair) != 1 or len(pair) != 2:
            raise ValueError(f"Invalid pairs: {pair!r} (each must be a pair (beta1, beta2))")
    pairs = [(_beta("beta1", b1), _beta("beta2", b2)) for b1, b2 in pairs]
    stream = gradient_stream(steps, mu, sigma, seed)
    frames = [(moments(stream, b1, b2), b1, b2) for b1, b2 in pairs]
    if alt is None:
        alt = (f"Animation: the raw and bias-corrected averages m_t and v_t of one gradient "
               f"stream, one frame per (beta1, beta2) from ({pairs[0][0]:g}, {pairs[0][1]:g}) "
               f"to ({pairs[-1][0]:g}, {pairs[-1][1]:g}).")
    picture = MomentsPicture(steps, mu, sigma, dpi=dpi)
    picture.flatten()

    def frame(i):
        picture.show(*frames[i])
        return picture.live

    animation = FuncAnimation(picture.figure, frame, frames=len(frames), interval=1000 / fps)
    page = animation_html(animation, alt, fps=fps, dpi=dpi)
    picture.figure.clear()
    return page
