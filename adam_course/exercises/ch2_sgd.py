"""Chapter 2's checkers: a minibatch gradient, and SGD's mean-square stability limit."""

from __future__ import annotations

from math import comb

import numpy as np

from adam_course.data import LinearRegression
from adam_course.exercises.engine import Case, Feedback, check_steps

__all__ = ["check_minibatch_gradient", "check_mean_square_limit"]


def check_minibatch_gradient(fn) -> Feedback:
    """Check ``fn(w, X, y) -> gradient of 1/(2B) ||X w - y||^2`` on minibatches. Chapter 2.

    ``X`` and ``y`` hold one minibatch of ``B = len(y)`` rows of ``d`` features. The reference
    is :meth:`adam_course.data.LinearRegression.batch_grad`, ``X^T (X w - y) / B``.
    """
    rng = np.random.default_rng(2)
    cases = []
    for n, dim, batch in [(50, 1, 5), (100, 3, 10), (30, 2, 30), (200, 5, 1), (80, 4, 16)]:
        problem = LinearRegression(n=n, dim=dim, seed=n)
        rows = rng.choice(n, size=batch, replace=False)
        w = rng.standard_normal(dim)
        cases.append(Case({"w": w, "X": problem.X[rows], "y": problem.y[rows]},
                          about=f"B = {batch} rows of d = {dim} feature"
                                + ("s" if dim > 1 else "") + f": X of shape ({batch}, {dim})"))

    reference = problem.batch_grad  # X^T (X w - y) / B for the (X, y) it is given

    mistakes = [
        (lambda w, X, y: X.T @ (y - X @ w) / len(y),
         "the gradient with the wrong sign: the residual is `X @ w - y`"),
        (lambda w, X, y: X.T @ (X @ w - y),
         "the gradient of the sum: divide by the batch size `B = len(y)`"),
        (lambda w, X, y: X.T @ (X @ w - y) / X.shape[1],
         "a division by the number of features d = X.shape[1] (`len(w)`): the average is over "
         "the B = len(y) examples of the batch, the rows of X"),
        (lambda w, X, y: 2 * X.T @ (X @ w - y) / len(y),
         "twice the gradient: the 1/2 in 1/(2B) cancels the 2 from the square"),
    ]
    return check_steps(fn, reference, cases, what="minibatch gradient", outputs=("grad",),
                       steps=1, mistakes=mistakes)


def check_mean_square_limit(fn) -> Feedback:
    """Check ``fn(x, B) -> limit``: SGD's mean-square stability limit on a one-feature least-
    squares problem. Chapter 2.

    The loss is ``1/(2n) sum_i (x_i w - y_i)^2`` and each step uses a minibatch of ``B`` of the
    ``n`` examples, drawn without replacement. The batch curvature ``h_B``, the mean of
    ``x_i^2`` over the batch, has mean ``lam = mean(x**2)`` and variance
    ``var(x**2) / B * (n - B) / (n - 1)``; the second moment of ``w_t - w*`` stays bounded iff
    ``E[(1 - lr h_B)^2] < 1``, that is ``lr < 2 lam / E[h_B^2]`` with
    ``E[h_B^2] = lam^2 + var(h_B)``. The cases have n = 8 to 1000 numbers: too many batches to
    enumerate in the largest (a time-out there says so).
    """
    def limit(x, B, spread=None, fpc="exact", ddof=0, per_batch=True, numerator=True,
              factor=2.0, mean_square=True):
        h = x**2
        lam = h.mean()
        var = np.var(x if spread == "x" else h, ddof=ddof)
        var_B = var / B if per_batch else var
        n = len(x)
        if fpc == "exact" and n > 1:
            var_B = var_B * (n - B) / (n - 1)
        elif fpc == "floor" and n > 1:
            var_B = var_B * ((n - B) // (n - 1))
        second = lam**2 + var_B if mean_square else var_B
        return factor * (lam if numerator else 1.0) / second

    def mistake(**how):
        return lambda x, B: limit(x, B, **how)

    rng = np.random.default_rng(12)
    cases = []
    for x, B in [(rng.standard_normal(8), 3), (2.0 * rng.standard_normal(20), 5),
                 (rng.exponential(size=50), 1),
                 (rng.standard_normal(12), 12),  # B = n: the full gradient, 2/lam
                 (rng.standard_normal(1000), 10)]:
        batches = comb(len(x), B)
        notes = {} if batches < 1e6 else {"too_long": (
            f"enumerating every batch would take C({len(x)}, {B}) = {batches:.2g} of them: use "
            f"the formula for the variance of h_B instead")}
        cases.append(Case({"x": x, "B": B}, about=f"n = {len(x)} numbers, B = {B}",
                          notes=notes))
    mistakes = [
        (lambda x, B: 2 / np.mean(x**2), "2/lam, gradient descent's limit, which only keeps the "
         "mean stable: the second moment needs E[(1 - lr h_B)^2] < 1, and h_B changes from batch "
         "to batch"),
        (mistake(fpc="none"), "the variance of h_B for batches drawn with replacement: without "
         "replacement it is smaller by the finite-population factor (n - B)/(n - 1)"),
        (mistake(fpc="floor"), "a finite-population factor computed with integer division, "
         "`(n - B) // (n - 1)`, which is 0 whenever 1 < B < n: write `(n - B) / (n - 1)`"),
        (mistake(spread="x"), "the variance of x: the batch curvature h_B is a mean of x_i^2, "
         "so use the variance of `x**2`"),
        (mistake(ddof=1), "the sample variance (ddof=1): the finite-population formula uses the "
         "population variance, `np.var(x**2)`"),
        (mistake(per_batch=False), "the variance of a single x_i^2: the variance of the mean of B "
         "of them is B times smaller (before the finite-population factor)"),
        (mistake(per_batch=False, fpc="none"), "2 lam / mean(x**4), the limit for one example per "
         "step, whatever B: the batch curvature h_B is the mean of B of the x_i^2, so its variance "
         "is var(x**2)/B times (n - B)/(n - 1)"),
        (lambda x, B: 2 * np.mean(x**2) / (np.mean(x**4) / B), "E[h_B^2] = mean(x**4)/B, which "
         "leaves out the cross terms x_i^2 x_j^2 (i ≠ j) of the square of the batch mean: "
         "E[h_B^2] = lam^2 + Var(h_B)"),
        (lambda x, B: 1 / np.mean(x**2), "1/lam, the step that would land the mean on w* in one "
         "step: the limit is the step size where E[(1 - lr h_B)^2] reaches 1"),
        (mistake(numerator=False), "2/E[h_B^2]: 1 - 2 lr lam + lr^2 E[h_B^2] < 1 gives "
         "lr < 2 lam / E[h_B^2]"),
        (mistake(factor=1.0), "half the limit: 1 - 2 lr lam + lr^2 E[h_B^2] < 1 gives "
         "lr < 2 lam / E[h_B^2]"),
        (mistake(mean_square=False), "a limit with Var(h_B) in place of E[h_B^2]: the second "
         "moment is the variance plus the square of the mean, lam^2 + Var(h_B)"),
    ]
    return check_steps(fn, limit, cases, what="mean-square stability limit",
                       outputs=("limit",), steps=1, mistakes=mistakes)
