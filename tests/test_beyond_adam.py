"""Chapter 8's additions to adam_course.optim: Lion, and an epsilon inside the root for RMSProp
and AdaGrad (the form Keras and optax use).

Independent references: Chen et al. (2023)'s Algorithm 2 written out literally, one scalar at a
time; the closed form of a constant gradient; and the update steps of Keras 3 transcribed line
by line from its sources (keras-team/keras at commit 3422977a5e38, files
keras/src/optimizers/rmsprop.py, adagrad.py and nadam.py). torch has no Lion and no epsilon
inside the root, so tests/test_optim_torch.py cannot check these.
"""

import math

import numpy as np
import pytest
from reference import iterates as run

from adam_course import optim


def sign(x):
    return float(x > 0) - float(x < 0)


# ------------------------------------------------------------------ Lion

def lion_as_in_the_paper(theta0, grads, lr, beta1, beta2, weight_decay):
    """Chen et al. (2023), Algorithm 2 ("Lion"), for every coordinate on its own:

        c_t <- beta1 m_{t-1} + (1 - beta1) g_t
        theta_t <- theta_{t-1} - eta_t (sign(c_t) + lambda theta_{t-1})
        m_t <- beta2 m_{t-1} + (1 - beta2) g_t
    """
    out = [np.array(theta0, dtype=float)]
    theta, m = [float(x) for x in theta0], [0.0] * len(theta0)
    for g in grads:
        for i, g_i in enumerate(g.tolist()):
            c = beta1 * m[i] + (1 - beta1) * g_i
            theta[i] = theta[i] - lr * (sign(c) + weight_decay * theta[i])
            m[i] = beta2 * m[i] + (1 - beta2) * g_i
        out.append(np.array(theta))
    return np.array(out)


@pytest.mark.parametrize("betas, weight_decay", [((0.9, 0.99), 0.0), ((0.9, 0.99), 0.5),
                                                 ((0.5, 0.9), 0.1), ((0.95, 0.98), 0.0)])
def test_lion_is_the_papers_algorithm_2(betas, weight_decay):
    rng = np.random.default_rng(7)
    # a drifting mean makes the interpolation c_t and the momentum m_t disagree in sign often
    grads = rng.normal(size=(200, 5)) + np.sin(np.arange(200) / 7)[:, None]
    theta0 = rng.normal(size=5)
    ours = run(optim.lion(lr=0.01, betas=betas, weight_decay=weight_decay), grads, theta0)
    paper = lion_as_in_the_paper(theta0, grads, 0.01, *betas, weight_decay)
    np.testing.assert_allclose(ours, paper, rtol=1e-13, atol=1e-15)


def test_lion_interpolates_with_the_old_momentum_and_updates_it_after_the_step():
    """Two steps by hand: g = (1, -3). c_1 = (1 - b1) g_1, m_1 = (1 - b2) g_1; then
    c_2 = b1 m_1 + (1 - b1) g_2 = 0.9 * 0.01 + 0.1 * (-3) < 0: the second step goes back."""
    opt = optim.lion(lr=0.1, betas=(0.9, 0.99))
    x, state = opt.step(np.zeros(1), np.array([1.0]), opt.init(np.zeros(1)))
    assert x[0] == -0.1 and np.isclose(state.m[0], 0.01, rtol=1e-15)
    x, state = opt.step(x, np.array([-3.0]), state)
    assert x[0] == 0.0 and np.isclose(state.m[0], 0.99 * 0.01 + 0.01 * -3.0, rtol=1e-15)
    assert state.t == 2


@pytest.mark.parametrize("weight_decay", [0.0, 0.2])
def test_lion_under_a_constant_gradient_matches_the_closed_form(weight_decay):
    """g_t = g: every c_t has the sign of g, so theta_t = q theta_{t-1} - lr sign(g) with
    q = 1 - lr * weight_decay: theta_t = q^t theta_0 - lr sign(g) (1 + q + ... + q^(t-1))."""
    g, lr, steps = np.array([0.3, -2.0, 5e-9]), 0.05, 40
    theta0 = np.array([1.0, -0.5, 2.0])
    q, t = 1 - lr * weight_decay, np.arange(steps + 1)[:, None]
    geometric = t if weight_decay == 0 else (1 - q**t) / (1 - q)
    expected = q**t * theta0 - lr * np.sign(g) * geometric
    ours = run(optim.lion(lr=lr, weight_decay=weight_decay), np.broadcast_to(g, (steps, 3)),
               theta0)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


def test_lion_moves_every_coordinate_by_exactly_lr_whatever_the_gradient_scale():
    rng = np.random.default_rng(3)
    grads = rng.normal(size=(50, 4)) * np.array([1e-6, 1.0, 1e3, 1e9])
    steps = np.diff(run(optim.lion(lr=0.01), grads, np.zeros(4)), axis=0)
    np.testing.assert_allclose(np.abs(steps), 0.01, rtol=1e-12)


def test_lion_without_momentum_is_sign_descent_and_stands_still_on_a_zero_gradient():
    """betas = (0, anything): c_t = g_t, the step is -lr sign(g_t) (signSGD); sign(0) = 0."""
    grads = np.array([[2.0, -1e-12, 0.0], [-3.0, 4.0, 0.0]])
    ours = run(optim.lion(lr=0.5, betas=(0.0, 0.7)), grads, np.ones(3))
    np.testing.assert_array_equal(ours[1:], 1 - 0.5 * np.cumsum(np.sign(grads), axis=0))


def test_lion_keeps_half_of_adams_memory():
    params = np.zeros((3, 4))
    lion_state, adam_state = optim.lion().init(params), optim.adam().init(params)
    arrays = [a for a in lion_state if isinstance(a, np.ndarray)]
    assert len(arrays) == 1 and 2 * len(arrays) == sum(
        isinstance(a, np.ndarray) for a in adam_state)


# ------------------------------------------------------------------ epsilon inside the root

def keras_rmsprop(theta0, grads, learning_rate, rho, momentum, epsilon, centered):
    """keras/src/optimizers/rmsprop.py, RMSprop.update_step, transcribed:

        velocity = rho * velocity + (1 - rho) * g^2
        average_grad = rho * average_grad + (1 - rho) * g                     (centered)
        denominator = velocity - average_grad^2 + epsilon   (centered) or velocity + epsilon
        increment = lr * g / sqrt(denominator)
        momentum_buf = momentum * momentum_buf + increment; variable -= momentum_buf  (momentum>0)
        variable -= increment                                                   (otherwise)
    """
    theta, velocity = theta0.copy(), np.zeros_like(theta0)
    average_grad, buf, out = np.zeros_like(theta0), np.zeros_like(theta0), [theta0.copy()]
    for g in grads:
        velocity = rho * velocity + (1 - rho) * g**2
        if centered:
            average_grad = rho * average_grad + (1 - rho) * g
            denominator = velocity - average_grad**2 + epsilon
        else:
            denominator = velocity + epsilon
        increment = learning_rate * g / np.sqrt(denominator)
        if momentum > 0:
            buf = momentum * buf + increment
            theta = theta - buf
        else:
            theta = theta - increment
        out.append(theta)
    return np.array(out)


def keras_adagrad(theta0, grads, learning_rate, initial_accumulator_value, epsilon):
    """keras/src/optimizers/adagrad.py, Adagrad.update_step, transcribed:
    accumulator += g^2; variable -= lr * g / sqrt(accumulator + epsilon)."""
    theta, accumulator, out = theta0.copy(), np.full_like(theta0, initial_accumulator_value), []
    out.append(theta0.copy())
    for g in grads:
        accumulator = accumulator + g**2
        theta = theta - learning_rate * g / np.sqrt(accumulator + epsilon)
        out.append(theta)
    return np.array(out)


def keras_nadam(theta0, grads, learning_rate, beta_1, beta_2, epsilon):
    """keras/src/optimizers/nadam.py, transcribed: u_t = beta_1 (1 - 0.5 * 0.96^t), the product
    of the u's so far, and m_hat = u_{t+1} m / (1 - prod_{t+1}) + (1 - u_t) g / (1 - prod_t),
    v_hat = v / (1 - beta_2^t), variable -= lr m_hat / (sqrt(v_hat) + epsilon)."""
    theta, m, v, product, out = theta0.copy(), 0 * theta0, 0 * theta0, 1.0, [theta0.copy()]
    for t, g in enumerate(grads, start=1):
        product *= beta_1 * (1.0 - 0.5 * 0.96**t)       # _backend_update_step, before the step
        u_t = beta_1 * (1.0 - 0.5 * 0.96**t)
        u_next = beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        m_hat = u_next * m / (1 - product * u_next) + (1 - u_t) * g / (1 - product)
        v_hat = v / (1 - beta_2**t)
        theta = theta - m_hat * learning_rate / (np.sqrt(v_hat) + epsilon)
        out.append(theta)
    return np.array(out)


def small_gradients(seed=0, steps=150, scale=3e-4):
    """Gradients near sqrt(1e-7) ~ 3e-4, where an epsilon inside the root changes every step."""
    rng = np.random.default_rng(seed)
    return scale * (rng.normal(size=(steps, 4)) + 0.5)


@pytest.mark.parametrize("momentum, centered", [(0.0, False), (0.9, False), (0.0, True),
                                                (0.5, True)])
def test_rmsprop_with_eps_root_is_keras_rmsprop(momentum, centered):
    grads, theta0 = small_gradients(1), np.array([1.0, -1.0, 0.5, 2.0])
    ours = run(optim.rmsprop(lr=1e-3, alpha=0.9, eps=0.0, eps_root=1e-7, momentum=momentum,
                             centered=centered), grads, theta0)
    keras = keras_rmsprop(theta0, grads, 1e-3, 0.9, momentum, 1e-7, centered)
    np.testing.assert_allclose(ours, keras, rtol=1e-13)
    # and with these gradients the placement matters: eps outside the root is another method
    outside = run(optim.rmsprop(lr=1e-3, alpha=0.9, eps=1e-7, momentum=momentum,
                                centered=centered), grads, theta0)
    assert np.abs(outside - keras).max() > 1e-2 * np.abs(keras - theta0).max()


def test_adagrad_with_eps_root_is_keras_adagrad():
    grads, theta0 = small_gradients(2, scale=0.3), np.zeros(4)
    ours = run(optim.adagrad(lr=1e-3, initial_accumulator_value=0.1, eps=0.0, eps_root=1e-7),
               grads, theta0)
    np.testing.assert_allclose(ours, keras_adagrad(theta0, grads, 1e-3, 0.1, 1e-7), rtol=1e-13)


def test_eps_root_puts_eps_inside_the_root_of_the_first_step():
    """First step of RMSProp from v_0 = 0: lr g / (sqrt((1 - alpha) g^2 + eps_root) + eps)."""
    g, lr, alpha, eps_root = np.array([1e-4, -2.0]), 0.1, 0.9, 1e-6
    opt = optim.rmsprop(lr=lr, alpha=alpha, eps=1e-8, eps_root=eps_root)
    x, _ = opt.step(np.zeros(2), g, opt.init(np.zeros(2)))
    expected = -lr * g / (np.sqrt((1 - alpha) * g**2 + eps_root) + 1e-8)
    np.testing.assert_allclose(x, expected, rtol=1e-14)
    assert math.isclose(abs(x[0]), lr * 1e-4 / math.sqrt(1e-9 + 1e-6), rel_tol=1e-4)


def test_keras_nadam_is_nadam_with_momentum_decay_one():
    """Keras's momentum schedule uses 0.96^t where torch uses 0.96^(t * momentum_decay)."""
    rng = np.random.default_rng(5)
    grads, theta0 = rng.normal(size=(120, 3)), rng.normal(size=3)
    keras = keras_nadam(theta0, grads, 0.01, 0.9, 0.999, 1e-7)
    ours = run(optim.nadam(lr=0.01, eps=1e-7, momentum_decay=1.0), grads, theta0)
    np.testing.assert_allclose(ours, keras, rtol=1e-12)
    torch_default = run(optim.nadam(lr=0.01, eps=1e-7), grads, theta0)
    assert np.abs(torch_default - keras).max() > 1e-3


def optax_nadam(theta0, grads, lr, b1, b2, eps):
    """optax.nadam = optax.adam(nesterov=True), transcribed from optax/_src/transform.py
    (scale_by_adam, nesterov branch) at commit 2edbcbe2390d of google-deepmind/optax:

        mu_hat = b1 * bias_correction(mu, b1, count + 1) + (1 - b1) * bias_correction(g, b1, count)
        nu_hat = bias_correction(nu, b2, count);   update = -lr * mu_hat / (sqrt(nu_hat) + eps)

    where bias_correction(x, b, n) = x / (1 - b^n) and count is the step number t."""
    theta, mu, nu, out = theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0), [theta0]
    for t, g in enumerate(grads, start=1):
        mu = b1 * mu + (1 - b1) * g
        nu = b2 * nu + (1 - b2) * g * g
        mu_hat = b1 * mu / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
        theta = theta - lr * mu_hat / (np.sqrt(nu / (1 - b2**t)) + eps)
        out.append(theta)
    return np.array(out)


def test_optax_nadam_is_nadam_with_a_constant_momentum():
    """optax's nadam keeps mu_t = beta1 from the first step: torch's schedule with a huge
    momentum_decay (0.96^(t psi) = 0), where torch's default keeps mu_t near beta1 / 2."""
    rng = np.random.default_rng(6)
    grads, theta0 = rng.normal(size=(120, 3)), rng.normal(size=3)
    optax = optax_nadam(theta0, grads, 0.01, 0.9, 0.999, 1e-8)
    ours = run(optim.nadam(lr=0.01, momentum_decay=1e4), grads, theta0)
    np.testing.assert_allclose(ours, optax, rtol=1e-12)
    torch_default = run(optim.nadam(lr=0.01), grads, theta0)
    assert np.abs(torch_default - optax).max() > 1e-3
