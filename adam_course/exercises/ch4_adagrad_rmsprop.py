"""Chapter 4's checkers: the RMSProp step, and the ε that makes torch's RMSProp step Keras's."""

from __future__ import annotations

import numpy as np

from adam_course import optim
from adam_course.exercises.engine import Case, Feedback, check_steps, stepping_cases

__all__ = ["check_rmsprop_step", "check_torch_eps"]


def check_rmsprop_step(fn) -> Feedback:
    """Check ``fn(x, square_avg, grad, lr, alpha, eps) -> (new_x, new_square_avg)``. Chapter 4.

    Starting from ``square_avg = 0``, as torch's RMSProp (ε outside the square root)::

        square_avg = alpha * square_avg + (1 - alpha) * grad**2
        x = x - lr * grad / (sqrt(square_avg) + eps)
    """
    def rmsprop_step(sign=1, swapped=False):
        """optim.rmsprop_update's step; ``swapped`` uses 1 - alpha as the decay."""
        def step(x, square_avg, grad, lr, alpha, eps):
            state = optim.RMSPropState(t=0, square_avg=square_avg, grad_avg=None,
                                       momentum_buffer=None)
            x, state = optim.rmsprop_update(x, grad, state, lr=sign * lr,
                                            alpha=1 - alpha if swapped else alpha, eps=eps)
            return x, state.square_avg
        return step

    reference = rmsprop_step()

    def rmsprop_with(avg, denominator):
        """A hand-written RMSProp step, for the mistakes that are not a setting of the update."""
        def step(x, s, g, lr, alpha, eps):
            s = avg(s, g, alpha)
            return x - lr * g / denominator(s, eps), s
        return step

    def ema_sq(s, g, a):
        return a * s + (1 - a) * g**2

    settings = [((1,), 1.0, {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}),
                ((3,), 1.0, {"lr": 0.1, "alpha": 0.9, "eps": 1e-8}),
                ((2, 3), 1e-6, {"lr": 0.001, "alpha": 0.99, "eps": 1e-8}),  # tiny grads: ε shows
                ((4,), 5.0, {"lr": 0.5, "alpha": 0.5, "eps": 0.1})]
    mistakes = [
        (rmsprop_with(ema_sq, lambda s, eps: np.sqrt(s + eps)),
         "ε inside the square root, `sqrt(square_avg + eps)`; torch puts it outside: "
         "`sqrt(square_avg) + eps`"),
        (rmsprop_step(sign=-1),
         "a step uphill: subtract, `x - lr * grad / (sqrt(square_avg) + eps)`"),
        (rmsprop_with(ema_sq, lambda s, eps: s + eps),
         "dividing by square_avg itself: divide by its square root"),
        (rmsprop_step(swapped=True),
         "alpha and 1 - alpha swapped: keep `alpha * square_avg`, add `(1 - alpha) * grad**2`"),
        (rmsprop_with(lambda s, g, a: a * s + (1 - a) * g, lambda s, eps: np.sqrt(s) + eps),
         "an average of grad, not of its square: use `grad**2`"),
        (lambda x, s, g, lr, alpha, eps: (x - lr * g / (np.sqrt(s) + eps), ema_sq(s, g, alpha)),
         "a step with the old average: update `square_avg` first, then divide by the root of "
         "the new one"),
        (lambda x, s, g, lr, alpha, eps: reference(x, s, g, lr, alpha, eps)[::-1],
         "`(new_square_avg, new_x)`, the two outputs in the wrong order: return "
         "`(new_x, new_square_avg)`"),
        (rmsprop_with(lambda s, g, a: s + g**2, lambda s, eps: np.sqrt(s) + eps),
         "AdaGrad's sum `square_avg + grad**2`; RMSProp keeps a moving average, "
         "`alpha * square_avg + (1 - alpha) * grad**2`"),
        (rmsprop_with(lambda s, g, a: a * s + g**2, lambda s, eps: np.sqrt(s) + eps),
         "`alpha * square_avg + grad**2`, without the factor `1 - alpha` on the new term: "
         "`alpha * square_avg + (1 - alpha) * grad**2`"),
        (rmsprop_with(ema_sq, lambda s, eps: np.sqrt(s)),
         "a denominator without ε: add it outside the root, `sqrt(square_avg) + eps`"),
    ]
    return check_steps(fn, reference, stepping_cases(("x", "square_avg", "grad", "lr", "alpha",
                                                       "eps"), settings, seed=4),
                       what="RMSProp step", outputs=("x", "square_avg"), mistakes=mistakes)


def check_torch_eps(fn) -> Feedback:
    """Check ``fn(v, eps) -> eps_torch``, torch's ε giving Keras's step at this ``v``. Chapter 4.

    Keras's RMSprop and Adagrad divide by ``sqrt(v + eps)``, torch by ``sqrt(v) + eps_torch``;
    the two steps agree at a given ``v >= 0`` exactly when::

        eps_torch = sqrt(v + eps) - sqrt(v)     (= eps / (sqrt(v + eps) + sqrt(v)))

    ``v`` is an array (any shape, zeros included); ``eps > 0`` a number. The answer is compared
    under the checkers' one policy (:data:`~adam_course.exercises.engine.RTOL`), so any exact
    form computed in float64 passes.
    """
    def reference(v, eps):
        return eps / (np.sqrt(v + eps) + np.sqrt(v))  # no cancellation for v >> eps

    rng = np.random.default_rng(8)
    cases = []
    for eps, shape in [(1e-7, (7,)), (1e-6, (3,)), (1e-3, (2, 3)), (0.1, (4,)), (1e-8, (1,))]:
        v = eps * np.geomspace(1e-3, 1e4, int(np.prod(shape))).reshape(shape)  # around eps
        v = rng.permutation(v.ravel()).reshape(shape)
        v.flat[0] = 0.0 if shape != (1,) else eps  # v = 0 in every case but the last
        values = ("v = [eps]" if shape == (1,) else f"v of shape {shape}: 0 first, then "
                  f"values from 1e-3 to 1e4 times eps")
        cases.append(Case({"v": v, "eps": eps}, about=f"{values}, eps = {eps:g}"))
    mistakes = [
        (lambda v, eps: np.sqrt(eps) + 0 * v, "`sqrt(eps)`, which gives Keras's step only at "
         "v = 0; at this v the two denominators `sqrt(v + eps)` and `sqrt(v) + eps_torch` must "
         "be equal"),
        (lambda v, eps: eps + 0 * v, "Keras's `eps` itself: torch adds its ε outside the root, "
         "so `sqrt(v) + eps` is not `sqrt(v + eps)`; solve for the ε that makes them equal"),
        (lambda v, eps: np.sqrt(v + eps), "Keras's whole denominator `sqrt(v + eps)`; torch "
         "adds its ε to `sqrt(v)`, so subtract `sqrt(v)`"),
        (lambda v, eps: eps / (2 * np.sqrt(v)), "the first-order approximation "
         "`eps / (2 sqrt(v))`, good only for v much larger than eps and infinite at v = 0; "
         "solve `sqrt(v) + eps_torch = sqrt(v + eps)` exactly"),
        (lambda v, eps: np.sqrt(v) - np.sqrt(v + eps), "`sqrt(v) - sqrt(v + eps)`, the right "
         "size with the wrong sign: `sqrt(v + eps) - sqrt(v)` is positive"),
    ]
    return check_steps(fn, reference, cases, what="torch ε", outputs=("eps_torch",), steps=1,
                       mistakes=mistakes)
