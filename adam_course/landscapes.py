"""Loss landscapes: small test functions with exact gradients.

Every landscape is a :class:`Landscape`: a name, a dimension ``dim``, the function ``f`` and its
gradient ``grad``, the (global) ``minimum`` and ``min_value``, a plotting ``window`` and a sensible
``start``. Points keep their coordinates on the LAST axis, so one call evaluates a whole batch::

    bowl = landscapes.bowl(curvatures=(1.0, 10.0))
    bowl.f(np.array([1.0, 1.0]))            # 5.5
    bowl.grad(np.zeros((8, 2))).shape       # (8, 2): eight runs at once

Each gradient is checked against central finite differences in ``tests/test_landscapes.py``.
"""

from __future__ import annotations

import numbers

import numpy as np

from adam_course import checks

__all__ = ["Landscape", "bowl", "rosenbrock", "beale", "saddle", "hump", "stochastic",
           "LANDSCAPES"]


class Landscape:
    """A function ``f`` on points of shape ``(..., dim)`` with its exact gradient.

    Chapter 2 (every landscape is one; chapter 2 makes its own). ``f(x)`` has shape
    ``x.shape[:-1]``; ``grad(x)`` has shape ``x.shape``.
    Extra facts about a landscape (a bowl's ``L`` and ``kappa``, the hump's ``hump_top``) are
    plain attributes.
    """

    def __init__(self, name, dim, f, grad, minimum, min_value, window, start, **facts):
        self.name = name
        self.dim = int(dim)
        self._f = f
        self._grad = grad
        self.minimum = np.asarray(minimum, dtype=float).reshape(self.dim)
        self.min_value = float(min_value)
        self.window = tuple(tuple(float(v) for v in pair) for pair in window)
        self.start = np.asarray(start, dtype=float).reshape(self.dim)
        self.__dict__.update(facts)

    def _point(self, x):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(float)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            checks.fail("x", checks.described(f"shape {x.shape}"),
                        f"(..., {self.dim}): the {self.name} landscape's {self.dim} coordinates "
                        "on the last axis")
        return x

    def f(self, x):
        """The loss at the point(s) ``x`` of shape ``(..., dim)``; returns shape ``(...)``."""
        return self._f(self._point(x))

    def grad(self, x):
        """The exact gradient at ``x`` of shape ``(..., dim)``; returns the same shape."""
        return self._grad(self._point(x))

    def __call__(self, x):
        return self.f(x)

    def __repr__(self):
        def fmt(a):
            return "(" + ", ".join(f"{v:.4g}" for v in np.ravel(a)) + ")"

        window = ", ".join(f"{lo:g}..{hi:g}" for lo, hi in self.window)
        return (f"Landscape({self.name!r}, dim={self.dim}, minimum={fmt(self.minimum)}, "
                f"min_value={self.min_value:.4g}, start={fmt(self.start)}, window=[{window}])")


# --------------------------------------------------------------------------------------------
# The quadratic bowl (chapter 1)
# --------------------------------------------------------------------------------------------

def bowl(curvatures=(1.0, 10.0), angle=0.0):
    r"""The quadratic bowl ``f(x) = 1/2 x^T A x`` with ``A = R diag(curvatures) R^T``.

    Chapter 1. Any dimension; in 2-D the axes are rotated by ``angle`` radians. Facts:
    ``A``, ``L`` (largest curvature; GD is stable for lr < 2/L), ``mu`` (smallest curvature) and
    the condition number ``kappa = L / mu``. ``bowl(curvatures=(2.0,))`` is ``f(x) = x^2``.
    """
    curv = np.asarray(curvatures, dtype=float)
    if curv.ndim != 1 or curv.size == 0 or not np.all(np.isfinite(curv)) or np.any(curv <= 0):
        checks.fail("curvatures", curvatures, "a 1-D sequence of finite numbers > 0")
    angle = checks.number(angle, "angle")
    dim = curv.size
    if dim != 2 and angle != 0.0:
        checks.fail("angle", angle, f"0 for a {dim}-D bowl (a rotation needs a 2-D bowl)")
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, -s], [s, c]]) if dim == 2 else np.eye(dim)
    A = rotation @ np.diag(curv) @ rotation.T
    A = (A + A.T) / 2

    # Start at (-4, 1, 1, ...) in the bowl's own axes (x = 1 in 1-D); the window holds the
    # whole level set through the start, so a zig-zag that does not diverge stays inside.
    start_axes = np.ones(dim)
    if dim > 1:
        start_axes[0] = -4.0
    start = rotation @ start_axes
    level = start @ A @ start
    half = np.ceil(1.1 * np.sqrt(level * np.diag(np.linalg.inv(A))) * 2) / 2

    def f(x):
        return 0.5 * np.einsum("...i,ij,...j->...", x, A, x)

    def grad(x):
        return x @ A

    name = "bowl" if dim == 2 else f"{dim}-D bowl"
    return Landscape(name, dim, f, grad, np.zeros(dim), 0.0, [(-h, h) for h in half], start,
                     A=A, curvatures=curv, angle=angle, L=float(curv.max()),
                     mu=float(curv.min()), kappa=float(curv.max() / curv.min()))


# --------------------------------------------------------------------------------------------
# Classic 2-D test functions (chapter 5)
# --------------------------------------------------------------------------------------------

def rosenbrock(a=1.0, b=100.0):
    r"""Rosenbrock's banana valley ``f(x, y) = (a - x)^2 + b (y - x^2)^2``.

    Chapter 5. Minimum ``(a, a^2)`` with value 0 at the end of a long, curved, flat valley.
    """
    a = checks.number(a, "a")
    b = checks.number(b, "b", lo=0, lo_open=True)

    def f(p):
        x, y = p[..., 0], p[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(p):
        x, y = p[..., 0], p[..., 1]
        return np.stack([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)], axis=-1)

    window = [(min(-2.0, a - 1.5), max(2.0, a + 1.0)), (min(-1.0, a * a - 2), max(3.0, a * a + 1))]
    return Landscape("rosenbrock", 2, f, grad, (a, a * a), 0.0, window, (-1.2, 1.0), a=a, b=b)


_BEALE_C = np.array([1.5, 2.25, 2.625])


def beale():
    r"""Beale's function ``f(x, y) = sum_i (c_i - x + x y^i)^2``, ``c = (1.5, 2.25, 2.625)``.

    Chapter 5. Minimum ``(3, 0.5)`` with value 0; flat plateaus and very steep walls.
    """

    def terms(p):
        x, y = p[..., 0, None], p[..., 1, None]
        i = np.arange(1, 4)
        return _BEALE_C - x + x * y**i, y, i

    def f(p):
        r, _, _ = terms(p)
        return np.sum(r * r, axis=-1)

    def grad(p):
        r, y, i = terms(p)
        x = p[..., 0, None]
        dx = np.sum(2 * r * (y**i - 1), axis=-1)
        dy = np.sum(2 * r * x * i * y ** (i - 1), axis=-1)
        return np.stack([dx, dy], axis=-1)

    return Landscape("beale", 2, f, grad, (3.0, 0.5), 0.0, [(-1.0, 4.5), (-1.5, 2.0)],
                     (1.0, 1.5))


def saddle():
    r"""A saddle ``f(x, y) = x^2/2 - y^2/2 + y^4/4`` between two minima.

    Chapter 5. The origin is a saddle point; the minima are ``(0, +1)`` and ``(0, -1)`` with
    value -1/4. The default start ``(1.5, 0.01)`` lies close to the saddle's stable manifold
    (the x-axis), so plain GD slides towards the saddle and lingers before it escapes to
    ``minimum = (0, 1)``. All minima: ``minima``; the saddle point: ``saddle_point``.
    """

    def f(p):
        x, y = p[..., 0], p[..., 1]
        return x**2 / 2 - y**2 / 2 + y**4 / 4

    def grad(p):
        x, y = p[..., 0], p[..., 1]
        return np.stack([x, -y + y**3], axis=-1)

    return Landscape("saddle", 2, f, grad, (0.0, 1.0), -0.25, [(-2.0, 2.0), (-1.5, 1.5)],
                     (1.5, 0.01), minima=np.array([[0.0, 1.0], [0.0, -1.0]]),
                     saddle_point=np.zeros(2))


# --------------------------------------------------------------------------------------------
# The hump: a 1-D landscape with a worse local minimum (chapters 2 and 3)
# --------------------------------------------------------------------------------------------

_MAX_TILT = 8 / (3 * np.sqrt(3))  # beyond it f'(x) = 4x^3 - 4x - tilt has one real root


def hump(tilt=0.3):
    r"""A tilted double well ``f(x) = (x^2 - 1)^2 - tilt * x`` in one dimension.

    Chapter 2. From the default start ``x = -1.6`` the nearer minimum, ``local_minimum`` (near
    -1), is worse than the global ``minimum`` (near +1); the ``hump_top`` (near 0) separates
    them. All three are the roots of ``f'(x) = 4x^3 - 4x - tilt``.
    """
    if isinstance(tilt, bool) or not isinstance(tilt, numbers.Real) or not 0 < tilt < _MAX_TILT:
        checks.fail("tilt", tilt, f"a number in (0, {_MAX_TILT:.4f}), so that there are two "
                    "minima")
    tilt = float(tilt)
    left, top, right = np.sort(np.roots([4.0, 0.0, -4.0, -tilt]).real)

    def f(p):
        x = p[..., 0]
        return (x**2 - 1) ** 2 - tilt * x

    def grad(p):
        return 4 * p**3 - 4 * p - tilt

    def value(x):
        return (x * x - 1) ** 2 - tilt * x

    return Landscape("hump", 1, f, grad, (right,), value(right), [(-1.8, 1.8)], (-1.6,),
                     tilt=tilt, local_minimum=np.array([left]), local_min_value=value(left),
                     hump_top=np.array([top]), hump_value=value(top))


# --------------------------------------------------------------------------------------------
# Noisy gradients (chapter 2)
# --------------------------------------------------------------------------------------------

def stochastic(landscape, noise=0.1, seed=0):
    r"""The same landscape, but ``grad`` returns ``grad f(x) + noise * z``, ``z ~ N(0, I)``.

    Chapter 2. Each call draws fresh noise from the landscape's own seeded generator, so a run
    is reproducible from ``seed``. ``f`` is exact; ``.exact`` is the noiseless landscape.
    """
    if not isinstance(landscape, Landscape):
        checks.fail("landscape", landscape, "a Landscape, e.g. bowl()")
    noise = checks.number(noise, "noise", lo=0)
    rng = np.random.default_rng(seed)

    def grad(x):
        g = landscape._grad(x)
        return g + noise * rng.standard_normal(g.shape)

    facts = {k: v for k, v in vars(landscape).items()
             if k not in ("name", "dim", "_f", "_grad", "minimum", "min_value", "window", "start")}
    facts.update(exact=landscape, noise=noise, seed=seed)
    return Landscape(f"noisy {landscape.name}", landscape.dim, landscape._f, grad,
                     landscape.minimum, landscape.min_value, landscape.window, landscape.start,
                     **facts)


LANDSCAPES = {
    "bowl": bowl,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "saddle": saddle,
    "hump": hump,
}
"""Name -> factory (called with no arguments it gives the book's default landscape)."""
