"""Independent references shared by the tests."""

import numpy as np


def central_differences(f, x, h=1e-6):
    """Reference gradient, every run at once: (f(x + h e_i) - f(x - h e_i)) / 2h, last axis."""
    grad = np.empty_like(x)
    for i in range(x.shape[-1]):
        e = np.zeros(x.shape[-1])
        e[i] = h
        grad[..., i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


def iterates(opt, grads, x0):
    """Feed an optimizer a fixed gradient sequence (shape (T, *x0.shape)); its iterates 0..T."""
    x, state, out = x0, opt.init(x0), [x0]
    for g in grads:
        x, state = opt.step(x, g, state)
        out.append(x)
    return np.array(out)
