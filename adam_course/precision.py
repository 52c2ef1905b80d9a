"""16-bit arithmetic: rounding to bfloat16, and Adam with every stored number rounded. Chapter 8.

numpy has float16 (IEEE half precision: 5 exponent bits, 10 stored mantissa bits) but no
bfloat16 (8 exponent bits like float32, 7 stored mantissa bits). A bfloat16 number is the upper
half of a float32's bit pattern, so :func:`bfloat16` rounds float32 values to it by rounding
away the lower 16 bits: to nearest, ties to even, as hardware and ``torch.bfloat16`` do
(tests/test_precision.py compares it with torch on every kind of value).

:func:`adam_rounded` runs Adam with each number it stores rounded to a format after each
operation, in the order of ``torch.optim.Adam``'s single-tensor step::

    m = m + (1 - beta1) (g - m)                     (lerp_: one rounding)
    v = beta2 v;  v = v + (1 - beta2) g g            (mul_, addcmul_: two roundings)
    d = sqrt(v);  d = d / sqrt(1 - beta2^t);  d = d + eps       (three roundings)
    theta = theta - lr / (1 - beta1^t) * m / d       (addcdiv_: one rounding)

Weights, optimizer state (m, v, d) and gradients may each have their own format: all three in
float16 or bfloat16 is a pure 16-bit step; float32 weights and state with 16-bit gradients is
mixed-precision training.
"""

from __future__ import annotations

import numpy as np

from adam_course import checks

__all__ = ["FORMATS", "bfloat16", "adam_rounded"]


def bfloat16(x) -> np.ndarray:
    """Round to the nearest bfloat16 (ties to even); returned as float32 values. Chapter 8.

    Adding ``0x7FFF`` plus the lowest kept bit to the float32 bit pattern and clearing the lower
    16 bits rounds to nearest with ties to even (cutting the bits off would round towards zero).
    Infinities stay infinite, NaN stays NaN, and values beyond bfloat16's largest finite number
    (about 3.39e38) become infinite.
    """
    x = np.asarray(x, dtype=np.float32)
    bits = x.reshape(-1).view(np.uint32)  # 1-D, so that a wrapped-around nan does not warn
    rounded = ((bits + _HALF + ((bits >> 16) & 1)) & _UPPER).view(np.float32)
    return np.where(x == x, rounded.reshape(x.shape), x)


_HALF, _UPPER = np.uint32(0x7FFF), np.uint32(0xFFFF0000)


FORMATS = {
    "float64": lambda x: np.asarray(x, dtype=np.float64),
    "float32": lambda x: np.asarray(x, dtype=np.float32),
    "float16": lambda x: np.asarray(x, dtype=np.float16),
    "bfloat16": bfloat16,
}
"""Each format's rounding: a function from numbers to the nearest numbers of the format."""


def _format(name, what):
    return FORMATS[checks.choice(name, what, FORMATS)]


def adam_rounded(grad, theta0, steps: int, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 weights="float32", state="float32", grads=None):
    """Adam for ``steps`` steps with every stored number rounded to a format. Chapter 8.

    ``grad(theta)`` is the gradient at the float64 values of the weights; ``weights``,
    ``state`` and ``grads`` name the formats (keys of :data:`FORMATS`) of the weights, of the
    optimizer's numbers (m, v, the denominator, and eps itself) and of the gradients
    (``grads=None``: the weights' format). Every intermediate result is computed in float64
    and rounded once, in the order of ``torch.optim.Adam``'s step (module docstring).

    Returns ``(thetas, vs)``: the weights after each step, shape ``(steps + 1,) + shape of
    theta0`` (row 0 is theta0 rounded), and the second moment v after each step, shape
    ``(steps,) + shape``, both as float64. Overflow and division by zero give inf and nan
    silently, as in 16-bit hardware.
    """
    steps = checks.integer(steps, "steps", lo=1)
    lr = checks.number(lr, "lr", lo=0)
    if not isinstance(betas, tuple | list) or len(betas) != 2:
        checks.fail("betas", betas, "a pair (beta1, beta2)")
    beta1, beta2 = (checks.number(b, f"beta parameter at index {i}", lo=0, hi=1, hi_open=True)
                    for i, b in enumerate(betas))
    eps = checks.number(eps, "eps", lo=0)
    W, S = _format(weights, "weights"), _format(state, "state")
    G = W if grads is None else _format(grads, "grads")
    f64 = FORMATS["float64"]

    theta = W(theta0)
    m = S(np.zeros(theta.shape))
    v = S(np.zeros(theta.shape))
    e = f64(S(eps))
    thetas, vs = [f64(theta)], []
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            g = f64(G(grad(f64(theta))))
            m = S(f64(m) + (1 - beta1) * (g - f64(m)))
            v = S(beta2 * f64(v))
            v = S(f64(v) + (1 - beta2) * g * g)
            d = S(np.sqrt(f64(v)))
            d = S(f64(d) / np.sqrt(1 - beta2**t))
            d = S(f64(d) + e)
            theta = W(f64(theta) - lr / (1 - beta1**t) * f64(m) / f64(d))
            thetas.append(f64(theta))
            vs.append(f64(v))
    return np.array(thetas), np.array(vs)
