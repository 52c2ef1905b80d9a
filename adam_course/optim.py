"""The optimizers of the book, built from small pieces.

Every optimizer here is a pair of pure functions, as in optax::

    opt = adam(lr=0.1)
    state = opt.init(params)                        # AdamState(t=0, m=..., v=..., v_max=None)
    params, state = opt.step(params, grads, state)  # nothing is modified in place

and gives the same numbers as ``torch.optim`` for the same arguments (checked in
``tests/test_optim_torch.py`` to 1e-12 in float64). Arguments keep torch's names and defaults.

Arrays may have any shape. A leading axis can hold independent runs: params of shape
``(R, d)`` are R runs, and any hyperparameter may be an array of shape ``(R,)`` (one learning
rate per run, say), which is broadcast against that axis.

The pieces, in the order the book meets them:

- ``ema(avg, x, beta)``: the exponential moving average of chapter 3 (momentum's direction);
  applied to ``g * g`` it is RMSProp's per-coordinate scale (chapter 4).
- ``bias_correction(beta, t)``: the weight ``1 - beta**t`` an EMA started at zero has
  gathered after t steps (chapter 6).

Adam (chapter 5) is literally these pieces put together; see :func:`adam`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "ema", "bias_correction", "Optimizer", "minimize",
    "sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "OPTIMIZERS",
    "SGDState", "AdaGradState", "RMSPropState", "AdamState", "AdamaxState", "NAdamState",
]


# --------------------------------------------------------------------------------------------
# The pieces
# --------------------------------------------------------------------------------------------

def ema(avg, x, beta):
    """One step of an exponential moving average: ``beta * avg + (1 - beta) * x``.

    Chapter 3. Unrolled from ``avg = 0`` it weights the t-th most recent ``x`` by
    ``(1 - beta) * beta**t``; its effective window is about ``1 / (1 - beta)`` steps.
    """
    return beta * avg + (1 - beta) * x


def bias_correction(beta, t):
    """The total weight ``1 - beta**t`` that an EMA started at zero has after ``t`` steps.

    Chapter 6. Dividing the EMA by it makes the average unbiased when the inputs have a
    constant mean (``m_hat = m / bias_correction(beta1, t)``).
    """
    return 1 - beta**t


# --------------------------------------------------------------------------------------------
# Checking arguments, torch.optim style
# --------------------------------------------------------------------------------------------

def _check_range(value, what, *, lo=0.0, hi=None, hi_open=True):
    """Raise ``ValueError("Invalid <what>: <value> ...")`` unless lo <= value (< or <=) hi."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim > 1:
        raise ValueError(f"Invalid {what}: {value!r} (a number, or a 1-D array with one per run)")
    bad = ~np.isfinite(arr) | (arr < lo)
    if hi is not None:
        bad |= (arr >= hi) if hi_open else (arr > hi)
    if bad.any():
        shown = float(arr.flat[int(np.argmax(bad.ravel()))])
        where = f" at run {int(np.argmax(bad.ravel()))}" if arr.ndim == 1 else ""
        rule = f">= {lo:g}" if hi is None else f"in [{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise ValueError(f"Invalid {what}: {shown!r}{where} (must be a finite number {rule})")


def _check_betas(betas):
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (must be a pair (beta1, beta2))")
    for i, beta in enumerate(betas):
        _check_range(beta, f"beta parameter at index {i} (betas[{i}])", lo=0.0, hi=1.0)


def _check_runs(params, hyper):
    """Array hyperparameters need one value per run on the leading axis of params."""
    for name, value in hyper.items():
        if np.ndim(value) == 1 and (params.ndim == 0 or params.shape[0] != len(value)):
            runs = params.shape[0] if params.ndim else "no"
            raise ValueError(
                f"Invalid {name}: an array of {len(value)} values needs params with {len(value)} "
                f"runs on the leading axis, but params has shape {params.shape} ({runs} runs)"
            )


def _per_run(value, params):
    """A python scalar stays a scalar; an array of R values becomes shape (R, 1, ..., 1)."""
    if np.ndim(value) == 0:
        return float(value)
    value = np.asarray(value, dtype=params.dtype)
    return value.reshape(value.shape + (1,) * (params.ndim - 1))


def _as_params(params, name="params"):
    params = np.asarray(params)
    if not np.issubdtype(params.dtype, np.floating):
        params = params.astype(np.float64)
    _check_finite(params, name)
    return params


def _check_finite(array, name):
    finite = np.isfinite(array)
    if not finite.all():
        index = tuple(int(i) for i in np.unravel_index(int(np.argmin(finite.ravel())), array.shape))
        raise ValueError(
            f"Invalid {name}: non-finite value {float(array[index])!r} at index {index} "
            f"(a nan or inf would silently poison every later step; if a run diverged, lower lr "
            f"or pass divergence_threshold= to minimize)"
        )


def _gradient(params, grads, weight_decay, maximize):
    """Check params and grads, then apply torch's ``maximize`` and L2 ``weight_decay``."""
    params = _as_params(params)
    grads = np.asarray(grads)
    if grads.shape != params.shape:
        raise ValueError(f"Invalid grads: shape {grads.shape} does not match params {params.shape}")
    _check_finite(grads, "grads")
    g = grads.astype(params.dtype, copy=False)
    if maximize:
        g = -g
    if np.any(weight_decay != 0):
        g = g + _per_run(weight_decay, params) * params
    return params, g


# --------------------------------------------------------------------------------------------
# The optimizer record
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Optimizer:
    """An optimizer: its name, its hyperparameters, and the pure pair ``init`` / ``step``.

    Chapter 1. ``state = opt.init(params)``; ``params, state = opt.step(params, grads, state)``.
    ``opt.step(params, grads, state, lr=0.01)`` overrides the step size for that one step
    (chapter 2's schedules); the state does not depend on it.
    """

    name: str
    hyperparams: dict[str, Any]
    init: Callable = field(repr=False, compare=False)
    step: Callable = field(repr=False, compare=False)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparams.items())
        return f"{self.name}({args})"


def _optimizer(name, hyper, init_state, update, *, l2=True):
    """Wrap ``init_state(params)`` and ``update(params, g, state, h)`` as an Optimizer.

    ``step`` checks its inputs, applies ``maximize`` and (if ``l2``) L2 weight decay to the
    gradient, broadcasts array hyperparameters against the runs axis, then calls ``update``.
    """

    def init(params):
        params = _as_params(params)
        _check_runs(params, hyper)
        return init_state(params)

    resolved = {}  # hyperparameters broadcast for params of a given (ndim, dtype)

    def broadcast(params):
        key = (params.ndim, params.dtype)
        if key not in resolved:
            resolved[key] = {k: _per_run(v, params) if isinstance(v, np.ndarray) else v
                             for k, v in hyper.items()}
        return resolved[key]

    def step(params, grads, state, *, lr=None):
        weight_decay = hyper.get("weight_decay", 0.0) if l2 else 0.0
        params, g = _gradient(params, grads, weight_decay, hyper["maximize"])
        h = broadcast(params)
        if lr is not None:
            h = dict(h)  # a schedule's lr for this step, as torch's lr_scheduler sets it
            _check_range(lr, "learning rate (lr)")
            h["lr"] = _per_run(lr, params)
        return update(params, g, state, h)

    return Optimizer(name, dict(hyper), init, step)


def _hyper(**kwargs):
    """Store hyperparameters: python numbers as floats, sequences as float arrays."""
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, bool) or value is None:
            out[key] = value
        elif np.ndim(value) == 0:
            out[key] = float(value)
        else:
            out[key] = np.asarray(value, dtype=float)
    return out


def _zeros(params):
    return np.zeros_like(params)


# --------------------------------------------------------------------------------------------
# SGD, with heavy-ball or Nesterov momentum (chapters 1-3)
# --------------------------------------------------------------------------------------------

class SGDState(NamedTuple):
    t: int
    momentum_buffer: np.ndarray | None


def sgd(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    r"""Gradient descent, with torch's heavy-ball or Nesterov momentum.

    Chapter 1 (plain), chapter 3 (momentum). With ``g_t = \nabla f(\theta_{t-1})``::

        b_t = momentum * b_{t-1} + (1 - dampening) * g_t      (b_1 = g_1)
        theta_t = theta_{t-1} - lr * b_t                       (heavy ball)
        theta_t = theta_{t-1} - lr * (g_t + momentum * b_t)    (nesterov=True)

    This is the heavy-ball form; the EMA form ``m = beta m + (1 - beta) g`` of chapter 3 is
    the same method with ``lr`` multiplied by ``1 / (1 - beta)``.
    """
    _check_range(lr, "learning rate (lr)")
    _check_range(momentum, "momentum value (momentum)")
    _check_range(dampening, "dampening value (dampening)")
    _check_range(weight_decay, "weight_decay value (weight_decay)")
    if nesterov and (np.any(np.asarray(momentum) <= 0) or np.any(np.asarray(dampening) != 0)):
        raise ValueError(
            f"Nesterov momentum requires a momentum and zero dampening "
            f"(got momentum={momentum!r}, dampening={dampening!r})"
        )
    hyper = _hyper(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                   nesterov=nesterov, maximize=maximize)
    uses_momentum = bool(np.any(np.asarray(momentum) != 0))
    name = "nesterov" if nesterov else ("momentum" if uses_momentum else "sgd")

    def init_state(params):
        return SGDState(t=0, momentum_buffer=_zeros(params) if uses_momentum else None)

    def update(params, g, state, h):
        buf = state.momentum_buffer
        if uses_momentum:
            buf = g if state.t == 0 else h["momentum"] * buf + (1 - h["dampening"]) * g
            g = g + h["momentum"] * buf if nesterov else buf
        return params - h["lr"] * g, SGDState(t=state.t + 1, momentum_buffer=buf)

    return _optimizer(name, hyper, init_state, update)


# --------------------------------------------------------------------------------------------
# AdaGrad and RMSProp: a step size per coordinate (chapter 4)
# --------------------------------------------------------------------------------------------

class AdaGradState(NamedTuple):
    t: int
    sum: np.ndarray


def adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
            maximize=False):
    r"""AdaGrad (Duchi et al., 2011): divide by the root of the *sum* of squared gradients.

    Chapter 4::

        s_t = s_{t-1} + g_t^2                                  (s_0 = initial_accumulator_value)
        theta_t = theta_{t-1} - lr_t * g_t / (sqrt(s_t) + eps),  lr_t = lr / (1 + (t-1) lr_decay)
    """
    _check_range(lr, "learning rate (lr)")
    _check_range(lr_decay, "lr_decay value (lr_decay)")
    _check_range(weight_decay, "weight_decay value (weight_decay)")
    _check_range(initial_accumulator_value,
                 "initial_accumulator_value value (initial_accumulator_value)")
    _check_range(eps, "epsilon value (eps)")
    hyper = _hyper(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                   initial_accumulator_value=initial_accumulator_value, eps=eps,
                   maximize=maximize)

    def init_state(params):
        start = _per_run(hyper["initial_accumulator_value"], params)
        return AdaGradState(t=0, sum=np.zeros_like(params) + start)

    def update(params, g, state, h):
        t = state.t + 1
        lr_t = h["lr"] / (1 + (t - 1) * h["lr_decay"])
        total = state.sum + g * g
        params = params - lr_t * g / (np.sqrt(total) + h["eps"])
        return params, AdaGradState(t=t, sum=total)

    return _optimizer("adagrad", hyper, init_state, update)


class RMSPropState(NamedTuple):
    t: int
    square_avg: np.ndarray
    grad_avg: np.ndarray | None
    momentum_buffer: np.ndarray | None


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            maximize=False):
    r"""RMSProp (Tieleman & Hinton, 2012): divide by the root of an EMA of squared gradients.

    Chapter 4. In torch's notation ``alpha`` is the book's ``beta2``::

        v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2             = ema(v, g*g, alpha)
        d_t = sqrt(v_t - mbar_t^2) + eps  if centered (mbar_t = ema(mbar, g, alpha))
              sqrt(v_t) + eps             otherwise
        theta_t = theta_{t-1} - lr * g_t / d_t                  (momentum = 0)
        b_t = momentum * b_{t-1} + g_t / d_t; theta_t = theta_{t-1} - lr * b_t  (momentum > 0)

    No bias correction: v_0 = 0 makes the first steps larger than later ones (chapter 6).
    """
    _check_range(lr, "learning rate (lr)")
    _check_range(alpha, "alpha value (alpha)", lo=0.0, hi=1.0, hi_open=False)
    _check_range(eps, "epsilon value (eps)")
    _check_range(weight_decay, "weight_decay value (weight_decay)")
    _check_range(momentum, "momentum value (momentum)")
    hyper = _hyper(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                   centered=centered, maximize=maximize)
    uses_momentum = bool(np.any(np.asarray(momentum) > 0))

    def init_state(params):
        return RMSPropState(t=0, square_avg=_zeros(params),
                            grad_avg=_zeros(params) if centered else None,
                            momentum_buffer=_zeros(params) if uses_momentum else None)

    def update(params, g, state, h):
        square_avg = ema(state.square_avg, g * g, h["alpha"])
        grad_avg = ema(state.grad_avg, g, h["alpha"]) if centered else None
        variance = square_avg - grad_avg**2 if centered else square_avg
        scaled = g / (np.sqrt(variance) + h["eps"])
        buf = h["momentum"] * state.momentum_buffer + scaled if uses_momentum else None
        params = params - h["lr"] * (buf if uses_momentum else scaled)
        return params, RMSPropState(t=state.t + 1, square_avg=square_avg, grad_avg=grad_avg,
                                    momentum_buffer=buf)

    return _optimizer("rmsprop", hyper, init_state, update)


# --------------------------------------------------------------------------------------------
# Adam and its family (chapters 5, 6 and 8)
# --------------------------------------------------------------------------------------------

class AdamState(NamedTuple):
    t: int
    m: np.ndarray
    v: np.ndarray
    v_max: np.ndarray | None


def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
         maximize=False, decoupled_weight_decay=False):
    r"""Adam (Kingma & Ba, 2015, Algorithm 1): momentum + RMSProp + bias correction.

    Chapter 5 (bias correction: chapter 6; ``amsgrad``: chapter 8)::

        m_t = ema(m_{t-1}, g_t, beta1)               momentum's direction    (chapter 3)
        v_t = ema(v_{t-1}, g_t^2, beta2)             RMSProp's scale         (chapter 4)
        m_hat_t = m_t / (1 - beta1^t)                bias correction         (chapter 6)
        v_hat_t = v_t / (1 - beta2^t)
        theta_t = theta_{t-1} - lr * m_hat_t / (sqrt(v_hat_t) + eps)

    ε is outside the square root, as in the paper and in PyTorch. With ``amsgrad=True`` the
    raw ``v_t`` is replaced by its running maximum *before* bias correction (as torch does).
    ``weight_decay`` adds ``weight_decay * theta`` to the gradient (L2), unless
    ``decoupled_weight_decay`` (then it is AdamW, see :func:`adamw`).
    """
    _check_range(lr, "learning rate (lr)")
    _check_range(eps, "epsilon value (eps)")
    _check_betas(betas)
    _check_range(weight_decay, "weight_decay value (weight_decay)")
    hyper = _hyper(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps, weight_decay=weight_decay,
                   amsgrad=amsgrad, maximize=maximize)
    name = "adamw" if decoupled_weight_decay else ("amsgrad" if amsgrad else "adam")

    def init_state(params):
        return AdamState(t=0, m=_zeros(params), v=_zeros(params),
                         v_max=_zeros(params) if amsgrad else None)

    def update(params, g, state, h):
        lr, beta1, beta2 = h["lr"], h["beta1"], h["beta2"]
        if decoupled_weight_decay:
            params = params * (1 - lr * h["weight_decay"])
        t = state.t + 1
        m = ema(state.m, g, beta1)
        v = ema(state.v, g * g, beta2)
        v_max = np.maximum(state.v_max, v) if amsgrad else None
        m_hat = m / bias_correction(beta1, t)
        v_hat = (v_max if amsgrad else v) / bias_correction(beta2, t)
        params = params - lr * m_hat / (np.sqrt(v_hat) + h["eps"])
        return params, AdamState(t=t, m=m, v=v, v_max=v_max)

    return _optimizer(name, hyper, init_state, update, l2=not decoupled_weight_decay)


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
          maximize=False):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    Chapter 8. Before the Adam step, ``theta <- theta * (1 - lr * weight_decay)``; the decay
    never passes through m and v, so it is not rescaled by ``1 / sqrt(v_hat)`` as L2 would be.
    """
    return adam(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                maximize=maximize, decoupled_weight_decay=True)


class AdamaxState(NamedTuple):
    t: int
    m: np.ndarray
    u: np.ndarray


def adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    r"""AdaMax (Kingma & Ba, 2015, §7.1): Adam with the infinity norm in place of v.

    Chapter 8. As torch computes it (ε inside the max)::

        m_t = ema(m_{t-1}, g_t, beta1);   u_t = max(beta2 * u_{t-1}, |g_t| + eps)
        theta_t = theta_{t-1} - lr / (1 - beta1^t) * m_t / u_t
    """
    _check_range(lr, "learning rate (lr)")
    _check_range(eps, "epsilon value (eps)")
    _check_betas(betas)
    _check_range(weight_decay, "weight_decay value (weight_decay)")
    hyper = _hyper(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps, weight_decay=weight_decay,
                   maximize=maximize)

    def init_state(params):
        return AdamaxState(t=0, m=_zeros(params), u=_zeros(params))

    def update(params, g, state, h):
        t = state.t + 1
        m = ema(state.m, g, h["beta1"])
        u = np.maximum(h["beta2"] * state.u, np.abs(g) + h["eps"])
        params = params - h["lr"] / bias_correction(h["beta1"], t) * m / u
        return params, AdamaxState(t=t, m=m, u=u)

    return _optimizer("adamax", hyper, init_state, update)


class NAdamState(NamedTuple):
    t: int
    m: np.ndarray
    v: np.ndarray
    mu_product: Any


def nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
          maximize=False):
    r"""NAdam (Dozat, 2016): Adam with Nesterov's look-ahead on m, as torch computes it.

    Chapter 8. With the momentum schedule ``mu_t = beta1 * (1 - 0.96^(t psi) / 2)``
    (``psi = momentum_decay``) and ``P_t = mu_1 ... mu_t``::

        m_t = ema(m_{t-1}, g_t, beta1);   v_t = ema(v_{t-1}, g_t^2, beta2)
        d_t = sqrt(v_t / (1 - beta2^t)) + eps
        theta_t = theta_{t-1} - lr (1 - mu_t) / (1 - P_t) * g_t / d_t
                              - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m_t / d_t
    """
    _check_range(lr, "learning rate (lr)")
    _check_range(eps, "epsilon value (eps)")
    _check_betas(betas)
    _check_range(weight_decay, "weight_decay value (weight_decay)")
    _check_range(momentum_decay, "momentum_decay value (momentum_decay)")
    hyper = _hyper(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps, weight_decay=weight_decay,
                   momentum_decay=momentum_decay, maximize=maximize)

    def init_state(params):
        return NAdamState(t=0, m=_zeros(params), v=_zeros(params), mu_product=1.0)

    def update(params, g, state, h):
        lr, beta1, psi = h["lr"], h["beta1"], h["momentum_decay"]
        t = state.t + 1
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        mu_product = state.mu_product * mu
        m = ema(state.m, g, beta1)
        v = ema(state.v, g * g, h["beta2"])
        denom = np.sqrt(v / bias_correction(h["beta2"], t)) + h["eps"]
        params = (params - lr * (1 - mu) / (1 - mu_product) * g / denom
                  - lr * mu_next / (1 - mu_product * mu_next) * m / denom)
        return params, NAdamState(t=t, m=m, v=v, mu_product=mu_product)

    return _optimizer("nadam", hyper, init_state, update)


OPTIMIZERS = {
    "sgd": sgd,
    "momentum": lambda lr=1e-3, momentum=0.9, **kw: sgd(lr=lr, momentum=momentum, **kw),
    "nesterov": lambda lr=1e-3, momentum=0.9, **kw: sgd(lr=lr, momentum=momentum, nesterov=True,
                                                         **kw),
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "amsgrad": lambda **kw: adam(amsgrad=True, **kw),
    "adamw": adamw,
    "adamax": adamax,
    "nadam": nadam,
}
"""Name -> factory, for widgets and sweeps. ``momentum`` and ``nesterov`` are ``sgd`` presets."""


# --------------------------------------------------------------------------------------------
# Running an optimizer
# --------------------------------------------------------------------------------------------

def minimize(optimizer, grad_fn, x0, steps, *, lr_schedule=None, divergence_threshold=None):
    """Run ``steps`` steps from ``x0`` and return the trajectory, shape ``(steps + 1, *x0.shape)``.

    Chapter 1. ``grad_fn(x)`` is called once per step. With ``x0`` of shape ``(R, d)`` this is
    R independent runs at once. ``lr_schedule(t)`` (t = 1, 2, ...), if given, is the step size of
    step t (chapter 2). With ``divergence_threshold=T``, a run whose |x| exceeds T
    (or whose x or gradient stops being finite) is frozen and recorded as ``nan`` from then on,
    so a sweep over learning rates survives its diverging members.
    """
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"Invalid optimizer: {optimizer!r} (make one, e.g. optim.adam(lr=0.1))")
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"Invalid steps: {steps!r} (must be an integer >= 0)")
    if divergence_threshold is not None:
        _check_range(divergence_threshold, "divergence_threshold", lo=0.0)
    x = _as_params(x0, "x0")
    state = optimizer.init(x)
    trajectory = np.empty((steps + 1, *x.shape), dtype=x.dtype)
    trajectory[0] = x

    def lr(k):
        return None if lr_schedule is None else lr_schedule(k + 1)

    if divergence_threshold is None:
        for k in range(steps):
            x, state = optimizer.step(x, grad_fn(x), state, lr=lr(k))
            trajectory[k + 1] = x
        return trajectory
    return _minimize_guarded(optimizer, grad_fn, x, state, trajectory, divergence_threshold, lr)


def _minimize_guarded(optimizer, grad_fn, x, state, trajectory, threshold, lr):
    start = x.copy()
    per_run = x.ndim >= 2
    axes = tuple(range(1, x.ndim)) if per_run else None

    def healthy(a):
        with np.errstate(invalid="ignore", over="ignore"):
            return np.all(np.isfinite(a) & (np.abs(a) <= threshold), axis=axes)

    def mask(alive):
        return alive.reshape(alive.shape + (1,) * (x.ndim - 1)) if per_run else alive

    alive = healthy(x)
    with np.errstate(all="ignore"):
        for k in range(len(trajectory) - 1):
            g = np.asarray(grad_fn(x))
            alive = alive & np.all(np.isfinite(g), axis=axes)
            g = np.where(mask(alive), g, 0.0)
            x, state = optimizer.step(np.where(mask(alive), x, start), g, state, lr=lr(k))
            alive = alive & healthy(x)
            trajectory[k + 1] = np.where(mask(alive), x, np.nan)
            x = np.where(mask(alive), x, start)
    return trajectory
