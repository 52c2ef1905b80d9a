"""Adam with the bias correction switched on or off, for chapter 6's experiments.

Kingma & Ba (2015, §6.4) compare Adam with and without its bias correction. Here the two
divisions can be switched separately, so that the book can show what each one does::

    opt = bias.adam_variant(lr=0.01, betas=(0.9, 0.999), correct="m")  # m_hat, but raw v
    state = opt.init(params)
    params, state = opt.step(params, grads, state)

``correct`` is one of :data:`CORRECTIONS`: ``"both"`` (this is Adam, equal to
:func:`adam_course.optim.adam`), ``"m"``, ``"v"`` or ``"neither"`` (RMSProp with an EMA
momentum). The optimizer is built from the same pieces as Adam, ``optim.ema`` and
``optim.bias_correction``, and takes the same arguments, checks and runs axis.
"""

from __future__ import annotations

import numpy as np

from adam_course import optim
from adam_course.optim import AdamState, _check_betas, _check_range, _hyper, _optimizer

__all__ = ["CORRECTIONS", "adam_variant"]

CORRECTIONS = ("both", "m", "v", "neither")
"""Which moments ``adam_variant`` divides by ``1 - beta**t``: both, only m, only v, neither."""


def _check_correct(correct):
    if correct not in CORRECTIONS:
        raise ValueError(f"Invalid correct: {correct!r} (must be one of "
                         f"{', '.join(map(repr, CORRECTIONS))})")
    return correct in ("both", "m"), correct in ("both", "v")


def adam_variant(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, correct="both"):
    r"""Adam whose bias correction of m and of v can each be left out. Chapter 6.

    ::

        m_t = ema(m_{t-1}, g_t, beta1);   v_t = ema(v_{t-1}, g_t^2, beta2)
        m_hat_t = m_t / (1 - beta1^t)  if m is corrected, else m_t
        v_hat_t = v_t / (1 - beta2^t)  if v is corrected, else v_t
        theta_t = theta_{t-1} - lr * m_hat_t / (sqrt(v_hat_t) + eps)

    ``correct="both"`` is :func:`adam_course.optim.adam`; ``"neither"`` is Kingma & Ba's
    "without bias correction" of §6.4. ε is outside the square root. ``lr`` and ``betas`` may
    be arrays with one value per run, as in :mod:`adam_course.optim`.
    """
    correct_m, correct_v = _check_correct(correct)
    _check_range(lr, "learning rate (lr)")
    _check_range(eps, "epsilon value (eps)")
    _check_betas(betas)
    hyper = _hyper(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps, maximize=False)
    hyper["correct"] = correct

    def init_state(params):
        return AdamState(t=0, m=np.zeros_like(params), v=np.zeros_like(params), v_max=None)

    def update(params, g, state, h):
        t = state.t + 1
        m = optim.ema(state.m, g, h["beta1"])
        v = optim.ema(state.v, g * g, h["beta2"])
        m_hat = m / optim.bias_correction(h["beta1"], t) if correct_m else m
        v_hat = v / optim.bias_correction(h["beta2"], t) if correct_v else v
        params = params - h["lr"] * m_hat / (np.sqrt(v_hat) + h["eps"])
        return params, AdamState(t=t, m=m, v=v, v_max=None)

    return _optimizer("adam", hyper, init_state, update)
