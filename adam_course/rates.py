"""Convergence rates on a quadratic bowl, and counting steps to a tolerance.

Chapter 3. On ``f(x) = 1/2 x^T A x`` each eigen-direction of ``A`` (curvature ``lam``) evolves on
its own, and for gradient descent, heavy-ball and Nesterov momentum it follows the linear
recursion ``x_t = a x_{t-1} - b x_{t-2}`` with

    heavy ball (torch's sgd(momentum=beta)):  a = 1 + beta - lr lam,        b = beta
    Nesterov   (sgd(..., nesterov=True)):     a = (1 + beta)(1 - lr lam),   b = beta (1 - lr lam)

(``beta = 0`` is plain gradient descent, ``x_t = (1 - lr lam) x_{t-1}``; as in the book, ``mu``
is the smallest curvature, never the momentum). The error shrinks like
``rho^t``, where the **rate** ``rho`` is the largest root modulus of ``z^2 - a z + b`` over
the curvatures. :func:`quadratic_rate` computes it; :func:`gd_optimal` and
:func:`heavy_ball_optimal` give the best fixed parameters for curvatures in ``[mu, L]``; and
:func:`steps_to_tolerance` reads the number of steps off trajectories from ``optim.minimize``.
"""

from __future__ import annotations

import numpy as np

from adam_course import checks

__all__ = ["gd_optimal", "heavy_ball_optimal", "quadratic_rate", "steps_to_tolerance"]


def _curvature_range(L, mu):
    L, mu = np.asarray(L, dtype=float), np.asarray(mu, dtype=float)
    for name, value in (("mu", mu), ("L", L)):
        bad = ~np.isfinite(value) | (value <= 0)
        if bad.any():
            checks.fail(name, float(value[bad].flat[0]), "a finite curvature > 0")
    if np.any(mu > L):
        checks.fail("mu", checks.described(f"{mu} with L = {L}"), "a curvature <= L")
    return L, mu


def gd_optimal(L, mu):
    """The best fixed step of gradient descent for curvatures in ``[mu, L]`` and its rate.

    Chapter 3 (derived in chapter 1): ``lr = 2 / (L + mu)``, ``rate = (kappa - 1) / (kappa + 1)``
    with ``kappa = L / mu``. Returns ``(lr, rate)``; arrays broadcast.
    """
    L, mu = _curvature_range(L, mu)
    return 2 / (L + mu), (L - mu) / (L + mu)


def heavy_ball_optimal(L, mu):
    """Polyak's best heavy-ball parameters for curvatures in ``[mu, L]``, and their rate.

    Chapter 3. ``lr = 4 / (sqrt(L) + sqrt(mu))^2`` and
    ``momentum = ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2`` in torch's heavy-ball form
    ``b = momentum * b + g; x = x - lr * b``; the rate is
    ``sqrt(momentum) = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)``. Returns
    ``(lr, momentum, rate)``; arrays broadcast.
    """
    L, mu = _curvature_range(L, mu)
    root_kappa = np.sqrt(L / mu)
    rate = (root_kappa - 1) / (root_kappa + 1)
    return 4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, rate**2, rate


def quadratic_rate(lr, momentum, curvatures, nesterov=False):
    """The asymptotic rate of (momentum) gradient descent on a quadratic with these curvatures.

    Chapter 3. The largest modulus of the roots of ``z^2 - a z + b`` (see the module docstring),
    maximised over ``curvatures`` (the eigenvalues of A). Below 1 the method converges, and the
    error shrinks by about this factor per step in the long run; above 1 it diverges. ``lr``
    and ``momentum`` may be arrays of shape ``(R,)`` (one per run): the result has shape
    ``(R,)``. ``momentum = 0`` gives gradient descent's ``max |1 - lr lam|``.
    """
    lr = np.asarray(lr, dtype=float)
    momentum = np.asarray(momentum, dtype=float)
    lam = np.asarray(curvatures, dtype=float)
    for name, value in (("lr", lr), ("momentum", momentum)):
        bad = ~np.isfinite(value) | (value < 0)
        if bad.any():
            checks.fail(name, float(value[bad].flat[0]), checks.interval(lo=0))
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        checks.fail("curvatures", curvatures, "a 1-D array of finite curvatures > 0")
    step = lr[..., None] * lam  # lr * lam, shape (..., n_curvatures)
    mu = momentum[..., None]
    if nesterov:
        a, b = (1 + mu) * (1 - step), mu * (1 - step)
    else:
        a, b = 1 + mu - step, mu + 0 * step
    root = np.sqrt((a * a - 4 * b).astype(complex))
    rho = np.maximum(np.abs(a + root), np.abs(a - root)) / 2
    return rho.max(axis=-1)


def steps_to_tolerance(trajectory, tol=1e-6, minimum=None):
    """The first step after which the distance to ``minimum`` stays within ``tol`` of its start.

    Chapter 3. ``trajectory`` is what ``optim.minimize`` returns: shape ``(steps + 1, d)`` for
    one run or ``(steps + 1, R, d)`` for R runs (the norm is taken over the remaining axes).
    The distance counts as "within" when ``|x_t - minimum| <= tol * |x_0 - minimum|`` for that
    step and every later one (momentum may dip below and come back). Returns an int (one run)
    or an int array of shape ``(R,)``; ``-1`` marks a run that has not settled by the last step
    (or diverged: nan).
    """
    path = np.asarray(trajectory, dtype=float)
    if path.ndim < 2 or path.shape[0] < 1:
        checks.fail("trajectory", checks.described(f"shape {path.shape}"),
                    "(steps + 1, d) or (steps + 1, runs, d), as optim.minimize returns")
    tol = checks.number(tol, "tol", lo=0, lo_open=True)
    error = path - (0.0 if minimum is None else np.asarray(minimum, dtype=float))
    axes = tuple(range(2, error.ndim)) if path.ndim >= 3 else (1,)
    distance = np.sqrt(np.sum(error * error, axis=axes))  # (steps + 1,) or (steps + 1, R)
    with np.errstate(invalid="ignore"):
        inside = distance <= tol * distance[0]  # nan compares False: never inside
    # the last step that is still outside; +1 is the first step from which all are inside
    outside_after = np.flip(~inside, axis=0)
    last_outside = len(distance) - 1 - np.argmax(outside_after, axis=0)
    steps = np.where(outside_after.any(axis=0), last_outside + 1, 0)
    steps = np.where(inside[-1], steps, -1)
    return int(steps) if steps.ndim == 0 else steps.astype(int)
