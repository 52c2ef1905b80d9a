"""Chapter 1's checkers: one gradient-descent step, and the best fixed step on a bowl."""

from __future__ import annotations

import numpy as np

from adam_course import optim, rates
from adam_course.exercises.engine import Case, Feedback, check_steps, stepping_cases

__all__ = ["check_gd_step", "check_best_step"]


def check_gd_step(fn) -> Feedback:
    """Check ``fn(x, grad, lr) -> new x``, one gradient-descent step x - lr * grad. Chapter 1."""
    def reference(x, grad, lr):
        opt = optim.sgd(lr=lr)
        return opt.step(x, grad, opt.init(x))[0]

    settings = [((1,), 1.0, {"lr": 0.1}), ((3,), 1.0, {"lr": 0.5}),
                ((2, 3), 10.0, {"lr": 0.01}), ((4,), 0.1, {"lr": 2.0})]
    mistakes = [
        (lambda x, grad, lr: x + lr * grad,
         "a step uphill: gradient descent subtracts, `x - lr * grad`"),
        (lambda x, grad, lr: x - grad, "a step without the step size: multiply grad by `lr`"),
        (lambda x, grad, lr: lr * grad, "the step `lr * grad` itself: return the new point, "
         "`x - lr * grad`"),
        (lambda x, grad, lr: -lr * grad, "the step `-lr * grad` itself: return the new point, "
         "x plus that step, `x - lr * grad`"),
    ]
    return check_steps(fn, reference, stepping_cases(("x", "grad", "lr"), settings, seed=1),
                       what="gradient-descent step", mistakes=mistakes)


def check_best_step(fn) -> Feedback:
    """Check ``fn(A) -> (lr, rate)``: the best fixed step of gradient descent on the bowl
    ``1/2 x^T A x`` (best in the worst case) and the factor ``rate`` such that each step then
    multiplies the distance to the minimum by at most ``rate`` (exactly, from the worst start).
    Chapter 1.

    With ``L`` and ``mu`` the largest and smallest eigenvalues of the symmetric positive
    definite ``A``: ``lr = 2 / (L + mu)``, ``rate = (L - mu) / (L + mu)``
    (:func:`adam_course.rates.gd_optimal`). The cases are bowls whose axes are not the
    coordinate axes, of sizes 1 to 5; each failing case is shown with its size and curvatures.
    """
    def eigen(A):
        curvatures = np.linalg.eigvalsh(A)
        return curvatures[-1], curvatures[0]

    def reference(A):
        return rates.gd_optimal(*eigen(A))

    def best(L, mu):
        return 2 / (L + mu), (L - mu) / (L + mu)

    def diagonal(A):
        return best(np.max(np.diag(A)), np.min(np.diag(A)))

    def one_over_L(A):
        L, mu = eigen(A)
        return 1 / L, 1 - mu / L

    def two_over_L(A):
        L, mu = eigen(A)
        return 2 / L, max(1 - 2 * mu / L, 1.0)

    def squared(A):
        lr, rate = best(*eigen(A))
        return lr, rate**2

    def swapped(A):
        lr, rate = best(*eigen(A))
        return rate, lr

    def second_largest(A):
        curvatures = np.linalg.eigvalsh(A)
        return best(curvatures[1], curvatures[0])  # raises on a 1 x 1 A, as the slip does

    rng = np.random.default_rng(11)
    cases = []
    for curvatures in [(1.0, 10.0), (0.5, 2.0, 8.0), (4.0,), (3.0, 1.0, 9.0, 2.0),
                       (0.01, 0.3, 0.5, 0.7, 1.0)]:
        q, _ = np.linalg.qr(rng.standard_normal((len(curvatures), len(curvatures))))
        if len(curvatures) == 2:  # the chapter's bowl: tilted by 30 degrees
            c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
            q = np.array([[c, -s], [s, c]])
        A = q @ np.diag(curvatures) @ q.T
        n = len(curvatures)
        shown = ", ".join(f"{c:g}" for c in sorted(curvatures))
        about = (f"A is {n} × {n}, with eigenvalues {shown}" if n > 1
                 else f"A is 1 × 1, [[{curvatures[0]:g}]]")
        cases.append(Case({"A": (A + A.T) / 2}, about=about))

    mistakes = [
        (diagonal, "the diagonal of A: those are the curvatures along the coordinate axes; the "
         "bowl's own curvatures are the eigenvalues of A (`np.linalg.eigvalsh(A)`)"),
        (one_over_L, "lr = 1/L, which solves the steepest direction in one step but leaves the "
         "flattest one shrinking by 1 - mu/L: balance |1 - lr mu| and |1 - lr L| instead"),
        (two_over_L, "lr = 2/L, the stability limit, where the steepest direction no longer "
         "converges (rate 1): the best step is well below it"),
        (squared, "the square of the rate, the factor for f - f*: the distance shrinks by "
         "(L - mu)/(L + mu) per step"),
        (swapped, "the two values swapped: return `(lr, rate)`"),
        (second_largest, "the two smallest eigenvalues: L is the largest, "
         "`np.linalg.eigvalsh(A)[-1]` (eigvalsh sorts them in increasing order)"),
    ]
    return check_steps(fn, reference, cases, what="best step and rate", outputs=("lr", "rate"),
                       steps=1, mistakes=mistakes, units={"rate": 1.0}, plural=True)
