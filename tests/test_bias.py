"""adam_course.bias: Adam with each bias correction switched on or off (chapter 6).

References: optim.adam (itself checked against torch.optim) for correct="both"; the closed
form of a constant gradient, and the unrolled EMA sums computed as a matrix product, for the
other variants.
"""

import re

import numpy as np
import pytest

from adam_course import bias, optim


def run(opt, grads, x0):
    """Feed a fixed gradient sequence (shape (T, *x0.shape)); return the iterates 1..T."""
    x, state, out = x0, opt.init(x0), []
    for g in grads:
        x, state = opt.step(x, g, state)
        out.append(x)
    return np.array(out)


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.99), (0.0, 0.9)])
def test_both_is_adam_step_for_step(betas):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((2, 3))
    grads = 1.0 + rng.standard_normal((25, 2, 3))
    ours = run(bias.adam_variant(lr=0.05, betas=betas, correct="both"), grads, x0)
    adam = run(optim.adam(lr=0.05, betas=betas), grads, x0)
    np.testing.assert_allclose(ours, adam, rtol=0, atol=1e-15)


def test_both_is_adam_with_one_lr_and_beta2_per_run():
    rng = np.random.default_rng(1)
    lr, beta2 = np.array([1e-3, 0.1, 1.0]), np.array([0.99, 0.999, 0.9999])
    x0, grads = rng.standard_normal((3, 4)), rng.standard_normal((10, 3, 4))
    ours = run(bias.adam_variant(lr=lr, betas=(0.9, beta2)), grads, x0)
    adam = run(optim.adam(lr=lr, betas=(0.9, beta2)), grads, x0)
    np.testing.assert_allclose(ours, adam, rtol=0, atol=1e-15)
    one = run(optim.adam(lr=0.1, betas=(0.9, 0.999)), grads[:, 1], x0[1])  # run 1 on its own
    np.testing.assert_allclose(ours[:, 1], one, rtol=0, atol=1e-15)


@pytest.mark.parametrize("correct", bias.CORRECTIONS)
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
    ours = run(bias.adam_variant(lr=lr, betas=(beta1, beta2), eps=eps, correct=correct),
               np.broadcast_to(g, (steps, 3)), np.zeros(3))
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


@pytest.mark.parametrize("correct, first_step", [
    ("both", 1.0), ("v", 0.1), ("m", 1 / np.sqrt(0.001)), ("neither", 0.1 / np.sqrt(0.001)),
])
def test_first_step_of_each_variant(correct, first_step):
    """Kingma & Ba §6.4 in one number: without correcting v the first step is lr/sqrt(1-b2)."""
    opt = bias.adam_variant(lr=1.0, betas=(0.9, 0.999), eps=0.0, correct=correct)
    x, _ = opt.step(np.zeros(2), np.array([3.0, -7.0]), opt.init(np.zeros(2)))
    np.testing.assert_allclose(x, [-first_step, first_step], rtol=1e-12)


@pytest.mark.parametrize("correct", bias.CORRECTIONS)
def test_random_gradients_match_the_unrolled_sums(correct):
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
    expected = -np.cumsum(lr * m / (np.sqrt(v) + eps), axis=0)
    ours = run(bias.adam_variant(lr=lr, betas=(beta1, beta2), eps=eps, correct=correct),
               grads, np.zeros(5))
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-13)


def test_step_is_pure():
    opt = bias.adam_variant(lr=0.1, correct="neither")
    x, g = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    state = opt.init(x)
    x_copy, g_copy = x.copy(), g.copy()
    new_x, new_state = opt.step(x, g, state)
    assert np.array_equal(x, x_copy) and np.array_equal(g, g_copy)
    assert state.t == 0 and np.all(state.m == 0) and new_state.t == 1
    assert not np.array_equal(new_x, x)


@pytest.mark.parametrize("make, message", [
    (lambda: bias.adam_variant(correct="m_hat"), "Invalid correct: 'm_hat' (must be one of"),
    (lambda: bias.adam_variant(correct=None), "Invalid correct: None"),
    (lambda: bias.adam_variant(lr=-1.0), "Invalid learning rate (lr): -1.0"),
    (lambda: bias.adam_variant(betas=(0.9, 1.0)),
     "Invalid beta parameter at index 1 (betas[1]): 1.0"),
    (lambda: bias.adam_variant(eps=-1.0), "Invalid epsilon value (eps): -1.0"),
])
def test_bad_arguments_raise_naming_them(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_variant_works_with_minimize_and_takes_adams_colour():
    opt = bias.adam_variant(lr=0.1, correct="neither")
    assert opt.name == "adam" and opt.hyperparams["correct"] == "neither"
    traj = optim.minimize(opt, lambda x: 2 * x, np.array([1.0, -1.0]), 5)
    assert traj.shape == (6, 2) and np.all(np.abs(traj[-1]) < 1.0)
