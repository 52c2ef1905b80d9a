"""The optimizers of the book, built from small pieces.

Every optimizer is a pure update function made into an :class:`Optimizer`, as in optax::

    opt = adam(lr=0.1)          # repr: adam(lr=0.1, betas=(0.9, 0.999), eps=1e-08, ...)
    state = opt.init(params)                        # AdamState(t=0, m=..., v=..., v_max=None)
    params, state = opt.step(params, grads, state)  # new arrays; nothing is modified in place

and gives the same numbers as ``torch.optim`` for the same arguments (checked in
``tests/test_optim_torch.py`` to 1e-12 in float64). Arguments keep torch's names and defaults,
and ``repr(opt)`` is the call that builds it again.

Arrays may have any shape. A leading axis can hold independent runs: params of shape
``(R, d)`` are R runs, and any hyperparameter may be an array with one value per run, of
shape ``(R,)`` or ``(R, 1)`` (broadcast against the runs axis, as numpy would).

The module, in the order the book meets it:

- the pieces: :func:`ema`, the exponential moving average of chapter 3 (momentum's
  direction; applied to ``g * g`` it is RMSProp's scale, chapter 4), and
  :func:`bias_correction`, the weight ``1 - beta**t`` an EMA started at zero has gathered
  after t steps (chapter 6);
- each optimizer's arithmetic, once, as a pure function
  ``update(params, g, state, **hyperparameters) -> (params, state)`` with its state a
  NamedTuple: :func:`sgd_update`, :func:`adagrad_update`, :func:`rmsprop_update`,
  :func:`adam_update` (the pieces put together; its flags give chapter 6's variants),
  :func:`adamw_update`, :func:`adamax_update`, :func:`nadam_update`, :func:`lion_update`;
- :func:`from_update`, which makes an :class:`Optimizer` of an ``init`` and an ``update``
  (argument checks, ``maximize``, L2 ``weight_decay``, the runs axis, a schedule's ``lr``);
- the factories, with torch's arguments: :func:`sgd`, :func:`adagrad`, :func:`rmsprop`,
  :func:`adam`, :func:`adamw`, :func:`adamax`, :func:`nadam`; and :func:`lion`, which torch
  does not have (its arguments are named as torch would name them);
- :func:`minimize`, which runs an optimizer and returns the trajectory.

Speed: a step allocates its results and as few temporaries as it can, updates them in
place, and checks finiteness once, on the new params (``benchmarks/steps.py`` times it
against torch.optim).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from adam_course import checks

__all__ = [
    "ema", "bias_correction",
    "SGDState", "sgd_update", "AdaGradState", "adagrad_update", "RMSPropState",
    "rmsprop_update", "CORRECTIONS", "AdamState", "adam_update", "adamw_update", "AdamaxState",
    "adamax_update", "NAdamState", "nadam_update", "LionState", "lion_update",
    "Optimizer", "from_update",
    "sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "lion",
    "minimize",
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
# SGD, with heavy-ball or Nesterov momentum (chapters 1 and 3)
# --------------------------------------------------------------------------------------------

class SGDState(NamedTuple):
    """SGD's state: the step count ``t`` and torch's ``momentum_buffer`` (``b`` in
    :func:`sgd_update`; None without momentum)."""

    t: int
    momentum_buffer: np.ndarray | None


def sgd_update(params, g, state, *, lr, momentum=0.0, dampening=0.0, nesterov=False):
    r"""One step of :func:`sgd`: gradient descent (chapter 1), with torch's heavy-ball or
    Nesterov momentum (chapter 3). With the gradient ``g_t``::

        b_t = momentum * b_{t-1} + (1 - dampening) * g_t      (b_1 = g_1)
        theta_t = theta_{t-1} - lr * b_t                       (heavy ball)
        theta_t = theta_{t-1} - lr * (g_t + momentum * b_t)    (nesterov=True)

    and ``theta_t = theta_{t-1} - lr * g_t`` when ``state.momentum_buffer`` is None. A run
    whose momentum is 0 ignores ``dampening``, as torch does (it keeps no buffer).
    """
    b = state.momentum_buffer
    if b is None:
        direction = g
    else:
        if state.t == 0:
            b = g.copy()                                   # b_1 = g_1
        else:
            b = b * momentum                               # momentum * b_{t-1}
            b += g if _is_zero(dampening) else _undamped(momentum, dampening) * g
        direction = g + momentum * b if nesterov else b
    new = np.multiply(direction, lr)
    return np.subtract(params, new, out=new), SGDState(t=state.t + 1, momentum_buffer=b)


def _undamped(momentum, dampening):
    """``1 - dampening``, but 1 for a run whose momentum is 0 (torch keeps no buffer there)."""
    if np.ndim(momentum) == 0:
        return 1 - dampening
    return np.where(momentum == 0, 1.0, 1 - dampening).astype(np.result_type(momentum))


def _is_zero(value):
    """True for 0 (a number) or an array of zeros; cheap for a python float."""
    return value == 0 if isinstance(value, float | int) else not np.any(value)


# --------------------------------------------------------------------------------------------
# AdaGrad and RMSProp: a step size per coordinate (chapter 4)
# --------------------------------------------------------------------------------------------

class AdaGradState(NamedTuple):
    """AdaGrad's state: the step count ``t`` and torch's ``sum`` of squared gradients
    (``s`` in :func:`adagrad_update`)."""

    t: int
    sum: np.ndarray


def adagrad_update(params, g, state, *, lr, lr_decay=0.0, eps=1e-10, eps_root=0.0):
    r"""One step of :func:`adagrad` (chapter 4): divide by the root of the *sum* of squares::

        s_t = s_{t-1} + g_t^2                                  (s_0 = initial_accumulator_value)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        theta_t = theta_{t-1} - lr_t * g_t / (sqrt(s_t + eps_root) + eps)

    ``eps`` is outside the root, as in torch; ``eps_root`` puts one inside, as Keras and optax
    do (``eps=0, eps_root=1e-7`` is their form).
    """
    t = state.t + 1
    s = g * g
    s += state.sum                                         # s_t
    lr_t = lr / (1 + (t - 1) * lr_decay)
    new = np.sqrt(s + eps_root) if not _is_zero(eps_root) else np.sqrt(s)
    new += eps
    np.divide(g, new, out=new)
    new *= lr_t
    return np.subtract(params, new, out=new), AdaGradState(t=t, sum=s)


class RMSPropState(NamedTuple):
    """RMSProp's state: the step count ``t``; torch's ``square_avg`` (``v``, the EMA of g^2),
    ``grad_avg`` (``mbar``, the EMA of g; only if centered) and ``momentum_buffer`` (``b``;
    only with momentum). RMSProp's ``alpha`` is the decay of these averages (the book's
    ``beta2``), not a step size: the step size is ``lr``."""

    t: int
    square_avg: np.ndarray
    grad_avg: np.ndarray | None
    momentum_buffer: np.ndarray | None


def rmsprop_update(params, g, state, *, lr, alpha=0.99, eps=1e-8, momentum=0.0, centered=False,
                   eps_root=0.0):
    r"""One step of :func:`rmsprop` (chapter 4): divide by the root of an EMA of g^2.

    ``alpha`` is the decay of the average (the book's ``beta2``), not a step size::

        v_t = ema(v_{t-1}, g_t^2, alpha)
        d_t = sqrt(v_t - mbar_t^2 + eps_root) + eps
                                with mbar_t = ema(mbar_{t-1}, g_t, alpha)      (centered)
        d_t = sqrt(v_t + eps_root) + eps                                       (otherwise)
        theta_t = theta_{t-1} - lr * g_t / d_t                            (no momentum buffer)
        b_t = momentum * b_{t-1} + g_t / d_t;  theta_t = theta_{t-1} - lr * b_t   (with one)

    There is no bias correction: v_0 = 0 makes the first steps larger than later ones. ``eps``
    is outside the root, as in torch; ``eps_root`` puts one inside, as Keras and optax do
    (``eps=0, eps_root=1e-7`` is Keras's form).
    """
    v = ema(state.square_avg, g * g, alpha)
    mbar = ema(state.grad_avg, g, alpha) if centered else None
    d = v - mbar * mbar if centered else v.copy()
    if not _is_zero(eps_root):
        d += eps_root
    d = np.sqrt(d, out=d)
    d += eps
    step = np.divide(g, d, out=d)                          # g_t / d_t
    b = state.momentum_buffer
    if b is not None:
        b = b * momentum
        b += step                                          # b_t
        step = np.multiply(b, lr, out=step)
    else:
        step *= lr
    return np.subtract(params, step, out=step), RMSPropState(
        t=state.t + 1, square_avg=v, grad_avg=mbar, momentum_buffer=b)


# --------------------------------------------------------------------------------------------
# Adam and its family (chapters 5 and 6)
# --------------------------------------------------------------------------------------------

CORRECTIONS = ("both", "m", "v", "neither")
"""The values of :func:`adam`'s ``correct``: which moments are divided by ``1 - beta**t``."""


class AdamState(NamedTuple):
    """Adam's state: the step count ``t``; ``m`` (torch's ``exp_avg``, the EMA of g),
    ``v`` (torch's ``exp_avg_sq``, the EMA of g^2) and ``v_max`` (torch's
    ``max_exp_avg_sq``, the running maximum of v; only with amsgrad)."""

    t: int
    m: np.ndarray
    v: np.ndarray
    v_max: np.ndarray | None


def adam_update(params, g, state, *, lr, betas, eps, amsgrad=False, correct="both",
                eps_root=0.0):
    r"""One step of :func:`adam` (Kingma & Ba, 2015, Algorithm 1; chapter 5): momentum +
    RMSProp + bias correction (chapter 6, which also leaves it out with ``correct``)::

        m_t = ema(m_{t-1}, g_t, beta1)               momentum's direction
        v_t = ema(v_{t-1}, g_t^2, beta2)             RMSProp's scale
        m_hat_t = m_t / bias_correction(beta1, t)    (unless correct is "v" or "neither")
        v_hat_t = v_t / bias_correction(beta2, t)    (unless correct is "m" or "neither")
        theta_t = theta_{t-1} - lr * m_hat_t / (sqrt(v_hat_t + eps_root) + eps)

    ε is outside the square root, as in the paper and in PyTorch; ``eps_root`` (optax's name)
    puts one inside (``eps=0, eps_root=1e-8`` is the "ε inside the root" form). With
    ``amsgrad`` the raw v_t is replaced by its running maximum v_max_t *before* the bias
    correction, as torch does.
    """
    beta1, beta2 = betas
    t = state.t + 1
    m = ema(state.m, g, beta1)
    v = ema(state.v, g * g, beta2)
    v_max = np.maximum(state.v_max, v) if amsgrad else None
    m_hat = m / bias_correction(beta1, t) if correct in ("both", "m") else m
    v_hat = (v_max if amsgrad else v) / (bias_correction(beta2, t)
                                         if correct in ("both", "v") else 1)
    if not _is_zero(eps_root):
        v_hat += eps_root
    # theta - lr * m_hat / (sqrt(v_hat) + eps), computed in v_hat's new array
    denom = np.sqrt(v_hat, out=v_hat)
    denom += eps
    new = np.divide(lr * m_hat, denom, out=denom)
    return np.subtract(params, new, out=new), AdamState(t=t, m=m, v=v, v_max=v_max)


def adamw_update(params, g, state, *, lr, betas, eps, weight_decay, amsgrad=False,
                 correct="both", eps_root=0.0):
    r"""One step of :func:`adamw`: decay theta, then :func:`adam_update`.

    ``theta <- theta * (1 - lr * weight_decay)`` before the Adam step: the decay never passes
    through m and v, so it is not rescaled by ``1 / sqrt(v_hat)`` as an L2 term would be.
    """
    return adam_update(params * (1 - lr * weight_decay), g, state, lr=lr, betas=betas, eps=eps,
                       amsgrad=amsgrad, correct=correct, eps_root=eps_root)


class AdamaxState(NamedTuple):
    """AdaMax's state: the step count ``t``; ``m`` (torch's ``exp_avg``) and ``u`` (torch's
    ``exp_inf``, the decaying maximum of |g|)."""

    t: int
    m: np.ndarray
    u: np.ndarray


def adamax_update(params, g, state, *, lr, betas, eps):
    r"""One step of :func:`adamax`: Adam with the infinity norm in place of v.

    As torch computes it (ε inside the max)::

        m_t = ema(m_{t-1}, g_t, beta1);   u_t = max(beta2 * u_{t-1}, |g_t| + eps)
        theta_t = theta_{t-1} - lr / (1 - beta1^t) * m_t / u_t
    """
    beta1, beta2 = betas
    t = state.t + 1
    m = ema(state.m, g, beta1)
    u = np.abs(g)
    u += eps
    np.maximum(beta2 * state.u, u, out=u)
    new = m / u
    new *= lr / bias_correction(beta1, t)
    return np.subtract(params, new, out=new), AdamaxState(t=t, m=m, u=u)


class NAdamState(NamedTuple):
    """NAdam's state: the step count ``t``; ``m`` (torch's ``exp_avg``), ``v`` (torch's
    ``exp_avg_sq``) and ``mu_product`` (torch's ``mu_product``, P_t = mu_1 ... mu_t).
    Chapter 8."""

    t: int
    m: np.ndarray
    v: np.ndarray
    mu_product: Any


def nadam_update(params, g, state, *, lr, betas, eps, momentum_decay=4e-3):
    r"""One step of :func:`nadam`: Adam with Nesterov's look-ahead on m, as torch does it.

    With the momentum schedule ``mu_t = beta1 * (1 - 0.96^(t psi) / 2)``
    (``psi = momentum_decay``) and ``P_t = mu_1 ... mu_t``::

        m_t = ema(m_{t-1}, g_t, beta1);   v_t = ema(v_{t-1}, g_t^2, beta2)
        d_t = sqrt(v_t / (1 - beta2^t)) + eps
        theta_t = theta_{t-1} - lr (1 - mu_t) / (1 - P_t) * g_t / d_t
                              - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m_t / d_t
    """
    beta1, beta2 = betas
    psi = momentum_decay
    t = state.t + 1
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
    mu_product = state.mu_product * mu
    m = ema(state.m, g, beta1)
    v = ema(state.v, g * g, beta2)
    d = np.sqrt(v / bias_correction(beta2, t)) + eps
    params = (params - lr * (1 - mu) / (1 - mu_product) * g / d
              - lr * mu_next / (1 - mu_product * mu_next) * m / d)
    return params, NAdamState(t=t, m=m, v=v, mu_product=mu_product)


# --------------------------------------------------------------------------------------------
# Lion: the sign of an interpolated momentum (chapter 8)
# --------------------------------------------------------------------------------------------

class LionState(NamedTuple):
    """Lion's state: the step count ``t`` and ``m`` (``exp_avg`` in the usual PyTorch ports;
    torch itself has no Lion), the EMA of g with decay ``beta2``. Lion keeps no second
    moment: half of Adam's optimizer state. Chapter 8."""

    t: int
    m: np.ndarray


def lion_update(params, g, state, *, lr, betas, weight_decay=0.0):
    r"""One step of :func:`lion` (Chen et al., 2023, Algorithm 2), line by line. Chapter 8::

        c_t = beta1 * m_{t-1} + (1 - beta1) * g_t          interpolate (beta1)
        theta_t = theta_{t-1} - lr * (sign(c_t) + weight_decay * theta_{t-1})
        m_t = beta2 * m_{t-1} + (1 - beta2) * g_t          the momentum (beta2)

    Every coordinate moves by exactly ``lr`` (plus the decay; 0 where ``c_t`` is 0): the size of
    the gradient is thrown away, only its sign (after averaging) is kept. ``c_t`` uses the *old*
    momentum, and m is updated only after the step. The weight decay is decoupled, as in AdamW:
    ``theta * (1 - lr * weight_decay)``.
    """
    beta1, beta2 = betas
    c = ema(state.m, g, beta1)                             # c_t, from m_{t-1}
    new = np.sign(c)
    c *= 0.0      # 0, or nan where an inf in g made c infinite: sign(inf) = 1 would hide it
    new += c      # from the step's check of the new params, and poison m silently
    if not _is_zero(weight_decay):
        new += weight_decay * params
    new *= lr
    m = ema(state.m, g, beta2)                             # m_t
    return np.subtract(params, new, out=new), LionState(t=state.t + 1, m=m)


# --------------------------------------------------------------------------------------------
# From an update to an optimizer
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False, repr=False)
class Optimizer:
    """An optimizer: a name, its hyperparameters, and the pure pair ``init`` / ``step``.

    What every factory returns (chapter 1 runs one with :func:`minimize`).
    ``state = opt.init(params)``; ``params, state = opt.step(params, grads, state)``.
    ``opt.step(params, grads, state, lr=0.01)`` overrides the step size for that one step
    (chapter 2's schedules); the state does not depend on it. ``name`` is what the book calls
    it (``"momentum"`` for ``sgd(momentum=0.9)``: its colour and label in figures),
    ``update`` the pure function it steps with. Made by :func:`from_update`; ``repr`` is the
    call that builds it again, and two optimizers built by the same call are equal.
    """

    name: str
    hyperparams: Mapping[str, Any]
    init: Callable
    step: Callable
    update: Callable
    factory: str | None = None

    def __repr__(self):
        args = ", ".join(f"{k}={_shown(v)}" for k, v in self.hyperparams.items())
        if self.factory is None:  # not a call that can be typed back
            update = getattr(self.update, "__qualname__", repr(self.update))
            return f"<Optimizer {self.name!r}: {update} with {args}>"
        return f"{self.factory}({args})"

    def __eq__(self, other):
        return (isinstance(other, Optimizer) and self.update is other.update
                and (self.name, self.factory, repr(self)) == (other.name, other.factory,
                                                              repr(other)))

    def __hash__(self):
        return hash((self.name, self.factory, repr(self)))


def _shown(value):
    """How repr shows a hyperparameter: an array as a list, a tuple element by element."""
    if isinstance(value, np.ndarray):
        return repr(value.tolist())
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_shown, value)) + ")"
    return repr(value)


_NOT_FINITE_HINT = ("a nan or inf would silently poison every later step; if a run diverged, "
                    "lower lr or pass divergence_threshold= to minimize")


def from_update(name, init, update, hyperparams, *, factory=None) -> Optimizer:
    """An :class:`Optimizer` made of ``init(params) -> state`` and a pure ``update``.

    Chapter 5. ``update(params, g, state, **kwargs) -> (params, state)`` is called with the
    hyperparameters it takes by name. Two that every torch optimizer has are applied to the
    gradient by ``step`` when ``update`` does not take them: ``maximize`` (``g = -grads``) and
    ``weight_decay`` (L2: ``g = g + weight_decay * params``). The others only ``init`` and the
    repr use (AdaGrad's ``initial_accumulator_value``). ``step`` also

    - converts params to a float array and checks that grads has its shape;
    - broadcasts each hyperparameter array (one value per run) against the runs axis;
    - takes ``lr=`` for one step (a schedule's) in place of ``hyperparams["lr"]``;
    - raises a ValueError naming the first nan or inf if params or grads hold one.

    ``factory`` names the function whose call with ``hyperparams`` builds the optimizer again
    (then ``repr`` shows that call).
    """
    hyperparams = MappingProxyType(dict(hyperparams))
    args = {k: v for k, v in hyperparams.items() if k in _taken(update, hyperparams)}
    maximize = "maximize" not in args and hyperparams.get("maximize", False)
    weight_decay = 0.0 if "weight_decay" in args else hyperparams.get("weight_decay", 0.0)
    per_run = _has_arrays(hyperparams)
    ready = {}  # (update's arguments, weight_decay) for params of one (runs, ndim, dtype)

    def prepare(params):
        if not per_run:
            return args, weight_decay
        key = (params.shape[:1], params.ndim, params.dtype)
        if key not in ready:
            ready[key] = ({k: _against(v, params, k) for k, v in args.items()},
                          _against(weight_decay, params, "weight_decay"))
        return ready[key]

    def init_state(params):
        params = _float_array(params)
        checks.finite(params, "params", _NOT_FINITE_HINT)
        prepare(params)  # checks that every array has one value per run
        return init(params)

    def step(params, grads, state, *, lr=None):
        params, g = _float_array(params), np.asarray(grads)
        if g.shape != params.shape:
            checks.fail("grads", checks.described(f"shape {g.shape}"),
                        f"the shape of params, {params.shape}")
        if g.dtype != params.dtype:
            g = g.astype(params.dtype)
        scalar = params.ndim == 0
        if scalar:  # the updates write in place (out=), which a numpy scalar result cannot take
            params, g = params.reshape(1), g.reshape(1)
        if maximize:
            g = -g
        kwargs, decay = prepare(params)
        if not _is_zero(decay):
            g = g + decay * params  # L2: the gradient of weight_decay / 2 * |theta|^2
        if lr is not None:
            lr = checks.per_run(lr, "learning rate (lr)", lo=0)
            kwargs = {**kwargs, "lr": _against(lr, params, "lr")}
        new_params, new_state = update(params, g, state, **kwargs)
        # one pass instead of two: a nan or inf in params or grads makes the sum of squares of
        # the result nan or inf
        if not math.isfinite(np.vdot(new_params, new_params)):
            checks.finite(params.reshape(()) if scalar else params, "params", _NOT_FINITE_HINT)
            checks.finite(grads, "grads", _NOT_FINITE_HINT)
        return (new_params.reshape(()) if scalar else new_params), new_state

    return Optimizer(name, hyperparams, init_state, step, update, factory)


def _taken(update, hyperparams):
    """The hyperparameters ``update`` takes by name; all of them if it takes ``**kwargs``."""
    parameters = list(inspect.signature(update).parameters.values())[3:]
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return set(hyperparams) - {"maximize", "weight_decay"}
    missing = [p.name for p in parameters if p.default is p.empty and p.name not in hyperparams]
    if missing:
        checks.fail("hyperparams", dict(hyperparams),
                    f"a dict with the arguments that update needs ({', '.join(missing)} missing)")
    return {p.name for p in parameters}


def _float_array(params):
    params = np.asarray(params)
    if params.dtype.kind != "f":
        params = params.astype(np.float64)
    return params


def _has_arrays(hyperparams):
    return any(isinstance(v, np.ndarray) or isinstance(v, tuple)
               and any(isinstance(x, np.ndarray) for x in v) for v in hyperparams.values())


def _against(value, params, what):
    """A hyperparameter for these params: an array of R values (one per run, shape (R,) or
    (R, 1, ...)) becomes shape (R, 1, ..., 1) in params' dtype; anything else is kept."""
    if isinstance(value, tuple):
        return tuple(_against(v, params, f"{what}[{i}]") for i, v in enumerate(value))
    if not isinstance(value, np.ndarray):
        return value
    runs = params.shape[0] if params.ndim else 1
    if value.size not in (1, runs):
        checks.fail(what, checks.described(f"{value.size} values"),
                    f"one value per run: params of shape {params.shape} hold {runs} runs on "
                    "their leading axis")
    shape = (value.size,) + (1,) * (params.ndim - 1) if params.ndim else ()
    return value.reshape(shape).astype(params.dtype)


# --------------------------------------------------------------------------------------------
# The factories, with torch's arguments
# --------------------------------------------------------------------------------------------

def _rate(value, what):
    """A hyperparameter >= 0: a number, or one per run."""
    return checks.per_run(value, what, lo=0)


def _betas(betas):
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        checks.fail("betas", betas, "a pair (beta1, beta2)")
    return tuple(checks.per_run(beta, f"beta parameter at index {i} (betas[{i}])", lo=0, hi=1,
                                hi_open=True) for i, beta in enumerate(betas))


def sgd(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    r"""Gradient descent, with torch's heavy-ball or Nesterov momentum: :func:`sgd_update`.

    Chapter 1 (plain), chapter 3 (momentum). This is the heavy-ball form; the EMA form
    ``m = beta m + (1 - beta) g`` of chapter 3 is the same method with ``lr`` multiplied by
    ``1 / (1 - beta)``. ``weight_decay`` adds ``weight_decay * theta`` to the gradient.
    """
    hyper = dict(lr=_rate(lr, "learning rate (lr)"),
                 momentum=_rate(momentum, "momentum value (momentum)"),
                 dampening=_rate(dampening, "dampening value (dampening)"),
                 weight_decay=_rate(weight_decay, "weight_decay value (weight_decay)"),
                 nesterov=checks.flag(nesterov, "nesterov"),
                 maximize=checks.flag(maximize, "maximize"))
    if nesterov and (np.any(hyper["momentum"] <= 0) or np.any(hyper["dampening"] != 0)):
        checks.fail("nesterov", checks.described(f"True with momentum={momentum!r} and "
                                                 f"dampening={dampening!r}"),
                    "used with a momentum > 0 and zero dampening")
    uses_momentum = bool(np.any(hyper["momentum"] != 0))
    name = "nesterov" if nesterov else ("momentum" if uses_momentum else "sgd")

    def init(params):
        return SGDState(t=0, momentum_buffer=np.zeros_like(params) if uses_momentum else None)

    return from_update(name, init, sgd_update, hyper, factory="sgd")


def adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
            maximize=False, *, eps_root=0.0):
    r"""AdaGrad (Duchi et al., 2011), :func:`adagrad_update`. Chapter 4.

    The sum of squares starts at ``initial_accumulator_value``; ``weight_decay`` adds
    ``weight_decay * theta`` to the gradient. ``eps_root`` (not in torch; shown by ``repr`` only
    when set) puts an ε inside the root, as Keras and optax do.
    """
    hyper = dict(lr=_rate(lr, "learning rate (lr)"),
                 lr_decay=_rate(lr_decay, "lr_decay value (lr_decay)"),
                 weight_decay=_rate(weight_decay, "weight_decay value (weight_decay)"),
                 initial_accumulator_value=_rate(
                     initial_accumulator_value,
                     "initial_accumulator_value value (initial_accumulator_value)"),
                 eps=_rate(eps, "epsilon value (eps)"),
                 maximize=checks.flag(maximize, "maximize"))
    _add_eps_root(hyper, eps_root)
    start = hyper["initial_accumulator_value"]

    def init(params):
        s0 = _against(start, params, "initial_accumulator_value")
        return AdaGradState(t=0, sum=np.zeros_like(params) + s0)

    return from_update("adagrad", init, adagrad_update, hyper, factory="adagrad")


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
            maximize=False, *, eps_root=0.0):
    r"""RMSProp (Tieleman & Hinton, 2012), :func:`rmsprop_update`. Chapter 4.

    ``alpha`` is the decay of the moving average of g^2 (the book's ``beta2``), not a step
    size; ``weight_decay`` adds ``weight_decay * theta`` to the gradient. ``eps_root`` (not in
    torch; shown by ``repr`` only when set) puts an ε inside the root, as Keras and optax do.
    """
    hyper = dict(lr=_rate(lr, "learning rate (lr)"),
                 alpha=checks.per_run(alpha, "alpha value (alpha)", lo=0, hi=1),
                 eps=_rate(eps, "epsilon value (eps)"),
                 weight_decay=_rate(weight_decay, "weight_decay value (weight_decay)"),
                 momentum=_rate(momentum, "momentum value (momentum)"),
                 centered=checks.flag(centered, "centered"),
                 maximize=checks.flag(maximize, "maximize"))
    _add_eps_root(hyper, eps_root)
    uses_momentum = bool(np.any(hyper["momentum"] != 0))

    def init(params):
        return RMSPropState(t=0, square_avg=np.zeros_like(params),
                            grad_avg=np.zeros_like(params) if centered else None,
                            momentum_buffer=np.zeros_like(params) if uses_momentum else None)

    return from_update("rmsprop", init, rmsprop_update, hyper, factory="rmsprop")


def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
         maximize=False, *, decoupled_weight_decay=False, correct="both", eps_root=0.0):
    r"""Adam (Kingma & Ba, 2015), :func:`adam_update`: momentum + RMSProp + bias correction.

    Chapter 5. ``weight_decay`` adds ``weight_decay * theta`` to the gradient (L2), unless
    ``decoupled_weight_decay`` (then it is :func:`adamw`). The book's variants, flags of
    :func:`adam_update` (shown by ``repr`` only when set):

    - ``correct``: which moments are bias-corrected, one of :data:`CORRECTIONS`: ``"both"``
      (Adam), ``"m"`` or ``"v"`` (only that one), ``"neither"`` (chapter 6);
    - ``eps_root``: an ε inside the square root, ``sqrt(v_hat + eps_root) + eps`` (chapter 5).
    """
    if checks.flag(decoupled_weight_decay, "decoupled_weight_decay"):
        return adamw(lr, betas, eps, weight_decay, amsgrad, maximize, correct=correct,
                     eps_root=eps_root)
    hyper = _adam_hyper(lr, betas, eps, weight_decay, amsgrad, maximize, correct, eps_root)
    name = "amsgrad" if amsgrad else "adam"
    return from_update(name, _adam_init(amsgrad), adam_update, hyper, factory="adam")


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
          maximize=False, *, correct="both", eps_root=0.0):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, :func:`adamw_update`.

    Chapter 8. The same as ``adam(..., decoupled_weight_decay=True)``: the weights are
    multiplied by ``1 - lr * weight_decay`` before each step, so ``weight_decay`` is the paper's
    decay divided by the step size.
    """
    hyper = _adam_hyper(lr, betas, eps, weight_decay, amsgrad, maximize, correct, eps_root)
    return from_update("adamw", _adam_init(amsgrad), adamw_update, hyper, factory="adamw")


def _adam_hyper(lr, betas, eps, weight_decay, amsgrad, maximize, correct, eps_root):
    hyper = dict(lr=_rate(lr, "learning rate (lr)"), betas=_betas(betas),
                 eps=_rate(eps, "epsilon value (eps)"),
                 weight_decay=_rate(weight_decay, "weight_decay value (weight_decay)"),
                 amsgrad=checks.flag(amsgrad, "amsgrad"),
                 maximize=checks.flag(maximize, "maximize"))
    if checks.choice(correct, "correct", CORRECTIONS) != "both":
        hyper["correct"] = correct
    _add_eps_root(hyper, eps_root)
    return hyper


def _add_eps_root(hyper, eps_root):
    """Record an ε inside the root (optax's ``eps_root``) only when it is set, so that the
    repr of a torch-style optimizer stays torch's call."""
    eps_root = _rate(eps_root, "eps_root")
    if not _is_zero(eps_root):
        hyper["eps_root"] = eps_root


def _adam_init(amsgrad):
    def init(params):
        return AdamState(t=0, m=np.zeros_like(params), v=np.zeros_like(params),
                         v_max=np.zeros_like(params) if amsgrad else None)
    return init


def adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    r"""AdaMax (Kingma & Ba, 2015, §7.1), :func:`adamax_update`. Chapter 8.

    ``weight_decay`` adds ``weight_decay * theta`` to the gradient.
    """
    hyper = dict(lr=_rate(lr, "learning rate (lr)"), betas=_betas(betas),
                 eps=_rate(eps, "epsilon value (eps)"),
                 weight_decay=_rate(weight_decay, "weight_decay value (weight_decay)"),
                 maximize=checks.flag(maximize, "maximize"))

    def init(params):
        return AdamaxState(t=0, m=np.zeros_like(params), u=np.zeros_like(params))

    return from_update("adamax", init, adamax_update, hyper, factory="adamax")


def nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
          maximize=False):
    r"""NAdam (Dozat, 2016), :func:`nadam_update`. Chapter 8.

    ``weight_decay`` adds ``weight_decay * theta`` to the gradient.
    """
    hyper = dict(lr=_rate(lr, "learning rate (lr)"), betas=_betas(betas),
                 eps=_rate(eps, "epsilon value (eps)"),
                 weight_decay=_rate(weight_decay, "weight_decay value (weight_decay)"),
                 momentum_decay=_rate(momentum_decay, "momentum_decay value (momentum_decay)"),
                 maximize=checks.flag(maximize, "maximize"))

    def init(params):
        return NAdamState(t=0, m=np.zeros_like(params), v=np.zeros_like(params), mu_product=1.0)

    return from_update("nadam", init, nadam_update, hyper, factory="nadam")


def lion(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False):
    r"""Lion (Chen et al., 2023), :func:`lion_update`: the sign of an interpolated momentum.

    Chapter 8.
    torch.optim has no Lion; the arguments are named as torch names Adam's. The defaults are
    the paper's betas, and a step size a tenth of Adam's (Chen et al. advise 3-10 times smaller
    than AdamW's, since every coordinate moves by the full ``lr``). ``weight_decay`` is
    decoupled, as in :func:`adamw`: ``theta * (1 - lr * weight_decay)``.
    """
    hyper = dict(lr=_rate(lr, "learning rate (lr)"), betas=_betas(betas),
                 weight_decay=_rate(weight_decay, "weight_decay value (weight_decay)"),
                 maximize=checks.flag(maximize, "maximize"))

    def init(params):
        return LionState(t=0, m=np.zeros_like(params))

    return from_update("lion", init, lion_update, hyper, factory="lion")


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
        checks.fail("optimizer", optimizer, "an Optimizer, e.g. optim.adam(lr=0.1)")
    steps = checks.integer(steps, "steps", lo=0)
    if divergence_threshold is not None:
        checks.number(divergence_threshold, "divergence_threshold", lo=0)
    x = _float_array(x0)
    checks.finite(x, "x0", _NOT_FINITE_HINT)
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
