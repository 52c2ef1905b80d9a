"""The one Adam's flags: chapter 6's bias-correction variants and chapter 5's eps inside the root.

References: the closed form of a constant gradient, and the unrolled EMA sums computed as a
matrix product (independent of the recursion the optimizer runs). ``correct="both"`` with
``eps_root=0`` is the Adam that tests/test_optim_torch.py checks against torch.optim.
"""

import re

import numpy as np
import pytest

from adam_course import optim


def run(opt, grads, x0):
    """Feed a fixed gradient sequence (shape (T, *x0.shape)); return the iterates 1..T."""
    x, state, out = x0, opt.init(x0), []
    for g in grads:
        x, state = opt.step(x, g, state)
        out.append(x)
    return np.array(out)


@pytest.mark.parametrize("correct", optim.CORRECTIONS)
@pytest.mark.parametrize("beta2", [0.99, 0.999, 0.9999])
def test_constant_gradient_moves_by_the_closed_form(correct, beta2):
    """g_t = g: m_t = (1 - b1^t) g, v_t = (1 - b2^t) g^2, so step t is
    lr * c_m g / (sqrt(c_v) |g| + eps) with c = 1 where corrected."""
    beta1, lr, eps, steps = 0.9, 0.01, 1e-8, 40
    g = np.array([2.0, -0.5, 1e-3])
    t = np.arange(1, steps + 1)[:, None]
    ones = np.ones(t.shape)
    c_m = 1 - beta1**t if correct in ("v", "neither") else ones
    c_v = 1 - beta2**t if correct in ("m", "neither") else ones
    expected = -np.cumsum(lr * c_m * g / (np.sqrt(c_v) * np.abs(g) + eps), axis=0)
    ours = run(optim.adam(lr=lr, betas=(beta1, beta2), eps=eps, correct=correct),
               np.broadcast_to(g, (steps, 3)), np.zeros(3))
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


@pytest.mark.parametrize("correct, first_step", [
    ("both", 1.0), ("v", 0.1), ("m", 1 / np.sqrt(0.001)), ("neither", 0.1 / np.sqrt(0.001)),
])
def test_first_step_of_each_variant(correct, first_step):
    """Kingma & Ba §6.4 in one number: without correcting v the first step is lr/sqrt(1-b2)."""
    opt = optim.adam(lr=1.0, betas=(0.9, 0.999), eps=0.0, correct=correct)
    x, _ = opt.step(np.zeros(2), np.array([3.0, -7.0]), opt.init(np.zeros(2)))
    np.testing.assert_allclose(x, [-first_step, first_step], rtol=1e-12)


@pytest.mark.parametrize("eps_root", [0.0, 1e-4])
@pytest.mark.parametrize("correct", optim.CORRECTIONS)
def test_random_gradients_match_the_unrolled_sums(correct, eps_root):
    """m_t = (1 - b1) sum_i b1^(t-i) g_i, as a lower-triangular matrix times the gradients."""
    rng = np.random.default_rng(2)
    beta1, beta2, lr, eps, steps = 0.8, 0.95, 0.1, 1e-8, 30
    grads = rng.standard_normal((steps, 5))
    t, i = np.arange(1, steps + 1)[:, None], np.arange(1, steps + 1)[None, :]
    weights = np.where(i <= t, 1.0, 0.0)
    m = (1 - beta1) * (weights * beta1 ** np.clip(t - i, 0, None)) @ grads
    v = (1 - beta2) * (weights * beta2 ** np.clip(t - i, 0, None)) @ grads**2
    if correct in ("both", "m"):
        m = m / (1 - beta1**t)
    if correct in ("both", "v"):
        v = v / (1 - beta2**t)
    expected = -np.cumsum(lr * m / (np.sqrt(v + eps_root) + eps), axis=0)
    ours = run(optim.adam(lr=lr, betas=(beta1, beta2), eps=eps, correct=correct,
                          eps_root=eps_root), grads, np.zeros(5))
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-13)


def test_eps_inside_the_root_ignores_gradients_below_its_root():
    """Chapter 5: for a tiny g the first step is lr g / sqrt(eps_root), not lr g / eps."""
    g, lr = 1e-12, 0.1
    inside = optim.adam(lr=lr, eps=0.0, eps_root=1e-8)
    outside = optim.adam(lr=lr, eps=1e-8)
    step_in = inside.step(np.zeros(1), np.full(1, g), inside.init(np.zeros(1)))[0][0]
    step_out = outside.step(np.zeros(1), np.full(1, g), outside.init(np.zeros(1)))[0][0]
    np.testing.assert_allclose(-step_in, lr * g / np.sqrt(g * g + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(-step_out, lr * g / (g + 1e-8), rtol=1e-12)


def test_amsgrad_takes_the_running_maximum_before_the_correction():
    """A big gradient, then small ones: v_max keeps the big v, so steps shrink like 1/v_max."""
    beta1, beta2, lr = 0.0, 0.5, 1.0  # beta1 = 0: m_t = g_t, so a step is g_t / sqrt(v_hat)
    grads = np.array([[4.0], [1.0], [1.0]])
    ours = run(optim.adam(lr=lr, betas=(beta1, beta2), eps=0.0, amsgrad=True), grads,
               np.zeros(1))
    v = [0.5 * 16, 0.25 * 16 + 0.5 * 1, 0.125 * 16 + 0.25 + 0.5]  # 8, 4.5, 2.75: decreasing
    v_max = np.maximum.accumulate(v)                               # 8, 8, 8
    c2 = 1 - beta2 ** np.arange(1, 4)
    expected = -np.cumsum(grads[:, 0] / np.sqrt(v_max / c2))
    np.testing.assert_allclose(ours[:, 0], expected, rtol=1e-12)


def test_flags_are_shown_by_repr_only_when_set():
    assert repr(optim.adam()) == ("adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, "
                                  "weight_decay=0.0, amsgrad=False, maximize=False)")
    opt = optim.adam(lr=0.1, correct="neither", eps_root=1e-8)
    assert repr(opt).endswith("maximize=False, correct='neither', eps_root=1e-08)")
    assert opt.name == "adam" and opt.update is optim.adam_update


@pytest.mark.parametrize("make, message", [
    (lambda: optim.adam(correct="m_hat"), "Invalid correct: 'm_hat' (must be one of"),
    (lambda: optim.adam(correct=None), "Invalid correct: None"),
    (lambda: optim.adam(eps_root=-1.0), "Invalid eps_root: -1.0"),
])
def test_bad_flags_raise_naming_them(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()
