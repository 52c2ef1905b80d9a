"""Chapter 3's checkers: the heavy-ball momentum step and torch's Nesterov step."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from adam_course import optim
from adam_course.exercises.engine import Feedback, check_steps, stepping_cases

__all__ = ["check_momentum_step", "check_nesterov_step"]


def check_momentum_step(fn) -> Feedback:
    """Check ``fn(x, buf, grad, lr, momentum) -> (new_x, new_buf)``. Chapter 3.

    Torch's heavy-ball form, starting from ``buf = 0``::

        buf = momentum * buf + grad
        x = x - lr * buf
    """
    def momentum_step(sign=1, ema_form=False):
        """optim.sgd_update's step (t > 1: buf is not replaced by the first gradient)."""
        def step(x, buf, grad, lr, momentum):
            x, state = optim.sgd_update(x, grad, optim.SGDState(t=1, momentum_buffer=buf),
                                        lr=sign * lr, momentum=momentum,
                                        dampening=momentum if ema_form else 0.0)
            return x, state.momentum_buffer
        return step

    reference = momentum_step()

    settings = [((1,), 1.0, {"lr": 0.1, "momentum": 0.9}),
                ((3,), 1.0, {"lr": 0.05, "momentum": 0.5}),
                ((2, 3), 3.0, {"lr": 0.01, "momentum": 0.99}),
                ((4,), 0.1, {"lr": 1.0, "momentum": 0.8})]
    mistakes = [
        (momentum_step(ema_form=True),  # dampening = momentum: the EMA form
         "the EMA form `buf = momentum * buf + (1 - momentum) * grad`; this exercise uses torch's "
         "heavy-ball form `buf = momentum * buf + grad`"),
        (momentum_step(sign=-1), "a step uphill: subtract, `x - lr * buf`"),
        (lambda x, buf, grad, lr, mu: (x - lr * grad, mu * buf + grad),
         "a plain gradient step: x should move along the new buffer, `x - lr * buf`"),
        (lambda x, buf, grad, lr, mu: (x - lr * buf, mu * buf + grad),
         "a step along the old buffer: update `buf` first, then `x - lr * buf`"),
        (lambda x, buf, grad, lr, mu: (mu * buf + grad, x - lr * (mu * buf + grad)),
         "`(new_buf, new_x)`, the two outputs in the wrong order: return `(new_x, new_buf)`"),
        (lambda x, buf, grad, lr, mu: (x - (mu * buf + lr * grad), mu * buf + lr * grad),
         "the learning rate inside the buffer, `buf = momentum * buf + lr * grad`; torch keeps "
         "`buf = momentum * buf + grad` and multiplies by lr when it steps (the two agree only "
         "while lr stays constant)"),
        (lambda x, buf, grad, lr, mu: (x + (mu * buf - lr * grad), mu * buf - lr * grad),
         "Sutskever's (and Keras's) velocity `buf = momentum * buf - lr * grad`, `x + buf`; "
         "torch's buffer is `momentum * buf + grad`, and the step is `x - lr * buf`"),
        (lambda x, buf, grad, lr, mu: (x - lr * (grad + mu * (mu * buf + grad)), mu * buf + grad),
         "Nesterov's step `x - lr * (grad + momentum * buf)`; the heavy ball steps along the "
         "buffer itself, `x - lr * buf`"),
    ]
    return check_steps(fn, reference, stepping_cases(("x", "buf", "grad", "lr", "momentum"),
                                                      settings, seed=3),
                       what="momentum step", outputs=("x", "buf"), mistakes=mistakes)


def check_nesterov_step(fn) -> Feedback:
    """Check ``fn(x, buf, grad, lr, momentum) -> (new_x, new_buf)``, torch's Nesterov. Chapter 3.

    ``x`` is torch's parameter, the look-ahead point of Sutskever's form, and ``grad`` the
    gradient there; ``buf`` is torch's buffer (zeros before a run's first step; the first
    three cases start mid-run)::

        buf = momentum * buf + grad
        x = x - lr * (grad + momentum * buf)
    """
    def reference(x, buf, grad, lr, momentum):
        opt = optim.sgd(lr=lr, momentum=momentum, nesterov=True)
        x, state = opt.step(x, grad, opt.init(x)._replace(t=1, momentum_buffer=buf))
        return x, state.momentum_buffer

    def new_buf(buf, grad, mu):
        return mu * buf + grad

    settings = [((1,), 1.0, {"lr": 0.1, "momentum": 0.9}),
                ((3,), 1.0, {"lr": 0.05, "momentum": 0.5}),
                ((2, 3), 3.0, {"lr": 0.01, "momentum": 0.99}),
                ((4,), 0.1, {"lr": 0.7, "momentum": 0.8})]
    mistakes = [
        (lambda x, buf, grad, lr, mu: (x - lr * new_buf(buf, grad, mu), new_buf(buf, grad, mu)),
         "the heavy ball, `x - lr * buf` (the same as `x - lr * (grad + momentum * old_buf)`): "
         "Nesterov's step adds `momentum` times the *new* buffer to the gradient"),
        (lambda x, buf, grad, lr, mu: (x - lr * (grad + mu * new_buf(buf, grad, mu)),
                                       mu * buf - lr * grad),
         "Sutskever's velocity `v = momentum * v - lr * grad` as the buffer; this exercise "
         "stores torch's `buf = momentum * buf + grad` (v = -lr * buf)"),
        (lambda x, buf, grad, lr, mu: (x + lr * (grad + mu * new_buf(buf, grad, mu)),
                                       new_buf(buf, grad, mu)),
         "a step uphill: subtract, `x - lr * (...)`"),
        (lambda x, buf, grad, lr, mu: (x - lr * (grad + new_buf(buf, grad, mu)),
                                       new_buf(buf, grad, mu)),
         "the look-ahead without its factor `momentum`: the point it leads to is "
         "`momentum * buf` further, not `buf`"),
        (lambda x, buf, grad, lr, mu: (x - lr * mu * new_buf(buf, grad, mu),
                                       new_buf(buf, grad, mu)),
         "a step along `momentum * buf` alone: the gradient at the look-ahead point enters the "
         "step too, `grad + momentum * buf`"),
        (lambda x, buf, grad, lr, mu: (x - lr * (grad - mu * new_buf(buf, grad, mu)),
                                       new_buf(buf, grad, mu)),
         "a minus sign on the momentum term, `grad - momentum * buf`: the look-ahead adds it, "
         "`x - lr * (grad + momentum * buf)`"),
        (lambda x, buf, grad, lr, mu: (new_buf(buf, grad, mu),
                                       x - lr * (grad + mu * new_buf(buf, grad, mu))),
         "`(new_buf, new_x)`, the two outputs in the wrong order: return `(new_x, new_buf)`"),
        (lambda x, buf, grad, lr, mu: (x - lr * (grad + mu * (mu * buf + (1 - mu) * grad)),
                                       mu * buf + (1 - mu) * grad),
         "the EMA buffer `buf = momentum * buf + (1 - momentum) * grad`; torch's buffer is the "
         "sum `momentum * buf + grad`"),
        (lambda x, buf, grad, lr, mu: (x + mu * (mu * buf - lr * grad) - lr * grad,
                                       mu * buf - lr * grad),
         "Keras's velocity form, `buf = momentum * buf - lr * grad` and "
         "`x + momentum * buf - lr * grad`; this exercise keeps torch's buffer "
         "`buf = momentum * buf + grad` and steps `x - lr * (grad + momentum * buf)`"),
    ]
    # Mid-run buffers in the first three cases, so that the slips differ from the first call
    # on (with buf = 0 several coincide); the last case starts a run, buf = 0.
    cases = stepping_cases(("x", "buf", "grad", "lr", "momentum"), settings, seed=7)
    rng = np.random.default_rng(9)
    for k, case in enumerate(cases[:3]):
        case.args["buf"] = rng.standard_normal(case.args["x"].shape)
        cases[k] = replace(case, about=case.about + ", buf from the middle of a run")
    return check_steps(fn, reference, cases, what="Nesterov step", outputs=("x", "buf"),
                       mistakes=mistakes)
