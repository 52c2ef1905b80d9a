"""Chapter 5's checker of the Adam step, and the bound on Adam's step."""

from __future__ import annotations

import itertools

import numpy as np

from adam_course import optim
from adam_course.exercises.engine import Feedback, check_steps, stepping_cases

__all__ = ["check_adam_step", "adam_step_bound"]


def check_adam_step(fn) -> Feedback:
    """Check ``fn(x, m, v, grad, t, lr, beta1, beta2, eps) -> (new_x, new_m, new_v)``. Chapter 5.

    Kingma & Ba's Algorithm 1 as torch computes it, ``t = 1`` on the first step, ``m = v = 0``
    before it, ε outside the square root::

        m = beta1 * m + (1 - beta1) * grad;   v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**t);           v_hat = v / (1 - beta2**t)
        x = x - lr * m_hat / (sqrt(v_hat) + eps)

    The new ``m`` and ``v`` are compared before ``x``, so a wrong state is reported as such.
    ε inside the square root (and Keras's ε̂) cannot be told apart in general (for gradients
    much larger than sqrt(ε) the forms agree to round-off); the case with tiny gradients and
    the one with a large ε catch them.
    """
    def adam_step(shift=0, sign=1, inside=False, correct="both"):
        """optim.adam_update's step, with t shifted, lr's sign flipped, eps inside the root
        (its ``eps_root``) or the bias correction left out (its ``correct``)."""
        def step(x, m, v, grad, t, lr, beta1, beta2, eps):
            state = optim.AdamState(t=t - 1 + shift, m=m, v=v, v_max=None)
            betas = (np.float64(beta1), np.float64(beta2))  # 1 - beta**0 = 0 then divides as
            # the learner's numpy code does (to inf), not with a ZeroDivisionError
            x, state = optim.adam_update(x, grad, state, lr=sign * lr, betas=betas,
                                         eps=0.0 if inside else eps,
                                         eps_root=eps if inside else 0.0, correct=correct)
            return x, state.m, state.v
        return step

    def written(m_rule=None, v_rule=None, m_hat=None, v_hat=None, denominator=None,
                returned=None, new_state_in_x=True):
        """Adam as a learner writes it, with any of its lines replaced by a slip."""
        def step(x, m, v, grad, t, lr, beta1, beta2, eps):
            b1, b2 = np.float64(beta1), np.float64(beta2)
            old_m, old_v = m, v
            m = (m_rule or (lambda m, g, b1, b2: b1 * m + (1 - b1) * g))(m, grad, b1, b2)
            v = (v_rule or (lambda v, g, b1, b2: b2 * v + (1 - b2) * g**2))(v, grad, b1, b2)
            mm, vv = (m, v) if new_state_in_x else (old_m, old_v)
            mh = (m_hat or (lambda m, t, b1, b2: m / (1 - b1**t)))(mm, t, b1, b2)
            vh = (v_hat or (lambda v, t, b1, b2: v / (1 - b2**t)))(vv, t, b1, b2)
            new_x = x - (denominator or (lambda mh, vh, eps, lr, t, b1, b2:
                                         lr * mh / (np.sqrt(vh) + eps)))(mh, vh, eps, lr, t,
                                                                          b1, b2)
            return (returned or (lambda x, m, v, mh, vh: (x, m, v)))(new_x, m, v, mh, vh)
        return step

    def keras(mh, vh, eps, lr, t, b1, b2):
        """Keras's form (c): raw m and v, lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)."""
        m, v = mh * (1 - b1**t), vh * (1 - b2**t)
        return lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)

    reference = adam_step()

    settings = [((1,), 1.0, {"lr": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
                ((3,), 1.0, {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8}),
                ((2, 3), 1e-6, {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
                ((4,), 3.0, {"lr": 0.5, "beta1": 0.5, "beta2": 0.9, "eps": 0.1})]
    sum_m = "`m = beta1 * m + grad`, a sum (chapter 3's heavy-ball buffer), not an average"
    sum_v = "`v = beta2 * v + grad**2`, a sum, not an average"
    mistakes = [
        (adam_step(inside=True), "ε inside the square root, `sqrt(v_hat + eps)`; Kingma & Ba "
         "and PyTorch put it outside: `sqrt(v_hat) + eps`"),
        (written(denominator=keras), "Keras's form (c), `lr_t * m / (sqrt(v) + eps)` with "
         "`lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)`: the same as Algorithm 1 with a "
         "time-varying ε, so it differs where the gradients are near ε; this exercise asks "
         "for Algorithm 1, `lr * m_hat / (sqrt(v_hat) + eps)`"),
        (written(denominator=lambda mh, vh, eps, lr, *_: lr * mh / np.sqrt(vh)),
         "a denominator without ε: add it outside the root, `sqrt(v_hat) + eps`"),
        (written(denominator=lambda mh, vh, eps, lr, *_: lr * mh / (vh + eps)),
         "dividing by v_hat itself: divide by its square root, `sqrt(v_hat) + eps`"),
        (written(denominator=lambda mh, vh, eps, lr, t, b1, b2:
                 lr * mh / (np.sqrt(vh * (1 - b2**t)) / (1 - b2**t) + eps)),
         "v's correction outside the square root, `sqrt(v) / (1 - beta2**t)`: the correction "
         "belongs to v, `v_hat = v / (1 - beta2**t)`, and the root is taken of v_hat, "
         "`sqrt(v_hat) + eps`"),
        (written(m_hat=lambda m, t, b1, b2: m / (1 - (1 - b1)**t),
                 v_hat=lambda v, t, b1, b2: v / (1 - (1 - b2)**t)),
         "corrections with `(1 - beta)**t`: the weights of an EMA sum to `1 - beta**t`, so "
         "divide m by `1 - beta1**t` and v by `1 - beta2**t`"),
        (written(m_hat=lambda m, t, b1, b2: m / (1 - (1 - b1)**t)),
         "m's correction with `(1 - beta1)**t`: divide m by `1 - beta1**t`"),
        (written(v_hat=lambda v, t, b1, b2: v / (1 - (1 - b2)**t)),
         "v's correction with `(1 - beta2)**t`: divide v by `1 - beta2**t`"),
        (adam_step(correct="neither"), "Adam without bias correction: divide m by "
         "`1 - beta1**t` and v by `1 - beta2**t`"),
        (adam_step(correct="v"), "v corrected but not m: divide m by `1 - beta1**t` too"),
        (adam_step(correct="m"), "m corrected but not v: divide v by `1 - beta2**t` too"),
        (adam_step(shift=+1), "bias correction with t + 1: t is already 1 on the first step, so "
         "use `1 - beta1**t`"),
        (adam_step(shift=-1), "bias correction with t - 1, which divides by zero on the first "
         "step: use `1 - beta1**t`, with t = 1 on the first step"),
        (written(m_hat=lambda m, t, b1, b2: m / 1 - b1**t,
                 v_hat=lambda v, t, b1, b2: v / 1 - b2**t),
         "`m / 1 - beta1**t`, which Python reads as `(m / 1) - beta1**t`: write "
         "`m / (1 - beta1**t)` (and the same for v)"),
        (written(m_hat=lambda m, t, b1, b2: m / 1 - b1**t),
         "`m / 1 - beta1**t`, which Python reads as `(m / 1) - beta1**t`: write "
         "`m / (1 - beta1**t)`"),
        (written(v_hat=lambda v, t, b1, b2: v / 1 - b2**t),
         "`v / 1 - beta2**t`, which Python reads as `(v / 1) - beta2**t`: write "
         "`v / (1 - beta2**t)`"),
        (written(returned=lambda x, m, v, mh, vh: (x, mh, vh)),
         "returning m_hat and v_hat as the new state: return the raw `m` and `v`, which the "
         "next step averages further; the corrected ones are only for this step's update"),
        (written(returned=lambda x, m, v, mh, vh: (x, mh, v)),
         "returning m_hat as the new m: return the raw `m`, which the next step averages "
         "further; m_hat is only for this step's update"),
        (written(returned=lambda x, m, v, mh, vh: (x, m, vh)),
         "returning v_hat as the new v: return the raw `v`, which the next step averages "
         "further; v_hat is only for this step's update"),
        (written(m_rule=lambda m, g, b1, b2: b1 * m + g, v_rule=lambda v, g, b1, b2: b2 * v + g**2),
         f"{sum_m}; and {sum_v}: multiply the new term by `1 - beta`"),
        (written(m_rule=lambda m, g, b1, b2: b1 * m + g), f"{sum_m}: multiply grad by `1 - beta1`"),
        (written(v_rule=lambda v, g, b1, b2: b2 * v + g**2),
         f"{sum_v}: multiply grad**2 by `1 - beta2`"),
        (written(v_rule=lambda v, g, b1, b2: b1 * v + (1 - b1) * g**2),
         "beta1 in v's average: v uses beta2, `v = beta2 * v + (1 - beta2) * grad**2`"),
        (written(v_rule=lambda v, g, b1, b2: b1 * v + (1 - b1) * g**2,
                 v_hat=lambda v, t, b1, b2: v / (1 - b1**t)),
         "beta1 in v's average and its correction: v uses beta2, `v = beta2 * v + (1 - beta2) "
         "* grad**2` and `v / (1 - beta2**t)`"),
        (written(v_hat=lambda v, t, b1, b2: v / (1 - b1**t)),
         "beta1 in v's correction: divide v by `1 - beta2**t`"),
        (written(m_rule=lambda m, g, b1, b2: b2 * m + (1 - b2) * g,
                 v_rule=lambda v, g, b1, b2: b1 * v + (1 - b1) * g**2,
                 m_hat=lambda m, t, b1, b2: m / (1 - b2**t),
                 v_hat=lambda v, t, b1, b2: v / (1 - b1**t)),
         "beta1 and beta2 swapped: m, the average of grad, uses beta1; v uses beta2"),
        (written(new_state_in_x=False), "a step with the old m and v: update m and v first, "
         "then step with the new ones"),
        (adam_step(sign=-1), "a step uphill: subtract, `x - lr * m_hat / (sqrt(v_hat) + eps)`"),
        (written(v_rule=lambda v, g, b1, b2: b2 * v + (1 - b2) * g),
         "v as an average of grad, not of its square: use `grad**2`"),
    ]
    names = ("x", "m", "v")
    for order in itertools.permutations(range(3)):
        if order != (0, 1, 2):
            shown = ", ".join(f"new_{names[i]}" for i in order)
            mistakes.append((lambda *a, order=order: tuple(reference(*a)[i] for i in order),
                             f"the outputs in the order `({shown})`: return `(new_x, new_m, "
                             f"new_v)`"))
    return check_steps(fn, reference, stepping_cases(("x", "m", "v", "grad", "t", "lr", "beta1",
                                                       "beta2", "eps"), settings, seed=5),
                       what="Adam step", outputs=names, order=("m", "v", "x"),
                       mistakes=mistakes)


def adam_step_bound(beta1, beta2):
    """The largest ``|m_hat| / sqrt(v_hat)`` any gradient stream can give (for ``beta1**2 <
    beta2``), ``(1 - beta1) / sqrt((1 - beta2) (1 - beta1**2 / beta2))``: 7.27 for the defaults.
    Chapter 5 states it; chapter 6 derives it."""
    return (1 - beta1) / np.sqrt((1 - beta2) * (1 - beta1**2 / beta2))
