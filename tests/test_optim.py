"""adam_course.optim: bad input, purity, batching, minimize, and properties from closed forms."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adam_course import optim

ALL = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "adamw", "adamax",
       "nadam"]


# ------------------------------------------------------------------ bad input -> ValueError

@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: optim.sgd(lr=-0.1), "Invalid learning rate (lr): -0.1"),
        (lambda: optim.adam(lr=float("nan")), "Invalid learning rate (lr): nan"),
        (lambda: optim.adam(betas=(1.0, 0.999)),
         "Invalid beta parameter at index 0 (betas[0]): 1.0"),
        (lambda: optim.adam(betas=(0.9, -0.1)),
         "Invalid beta parameter at index 1 (betas[1]): -0.1"),
        (lambda: optim.adam(betas=(0.9,)), "Invalid betas: (0.9,)"),
        (lambda: optim.adam(eps=-1e-8), "Invalid epsilon value (eps): -1e-08"),
        (lambda: optim.sgd(momentum=-0.5), "Invalid momentum value (momentum): -0.5"),
        (lambda: optim.sgd(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
        (lambda: optim.sgd(momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
        (lambda: optim.rmsprop(alpha=1.5), "Invalid alpha value (alpha): 1.5"),
        (lambda: optim.adagrad(lr_decay=-1), "Invalid lr_decay value (lr_decay): -1.0"),
        (lambda: optim.adamw(weight_decay=-0.01),
         "Invalid weight_decay value (weight_decay): -0.01"),
        (lambda: optim.nadam(momentum_decay=-1), "Invalid momentum_decay value"),
        (lambda: optim.adam(lr=np.array([0.1, -0.2])), "Invalid learning rate (lr): -0.2 at run 1"),
    ],
)
def test_bad_hyperparameters_raise_naming_argument_and_value(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_grads_of_wrong_shape_raise():
    opt = optim.adam()
    state = opt.init(np.zeros(3))
    message = "Invalid grads: shape (2,) does not match params (3,)"
    with pytest.raises(ValueError, match=re.escape(message)):
        opt.step(np.zeros(3), np.zeros(2), state)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_grads_and_params_raise(bad):
    opt = optim.rmsprop()
    state = opt.init(np.zeros(3))
    with pytest.raises(ValueError, match=r"Invalid grads: non-finite value .* at index \(1,\)"):
        opt.step(np.zeros(3), np.array([0.0, bad, 0.0]), state)
    with pytest.raises(ValueError, match=r"Invalid params: non-finite value"):
        opt.init(np.array([bad]))


def test_one_value_per_run_needs_matching_runs_axis():
    opt = optim.adam(lr=np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="Invalid lr: an array of 2 values needs params with 2"):
        opt.init(np.zeros((3, 2)))


@pytest.mark.parametrize("steps", [-1, 2.5, True])
def test_minimize_rejects_bad_steps(steps):
    with pytest.raises(ValueError, match="Invalid steps"):
        optim.minimize(optim.sgd(), lambda x: x, np.ones(2), steps)


# ------------------------------------------------------------------ purity and state

@pytest.mark.parametrize("name", ALL)
def test_step_is_pure_and_state_is_printable(name):
    opt = optim.OPTIMIZERS[name](lr=0.1)
    params = np.array([1.0, -2.0, 3.0])
    state = opt.init(params)
    for k in range(3):
        grads = np.array([0.5, -1.0, 2.0]) * (k + 1)
        before = (params.copy(), grads.copy(), [np.copy(a) for a in state if a is not None])
        new_params, new_state = opt.step(params, grads, state)
        assert np.array_equal(params, before[0]) and np.array_equal(grads, before[1])
        after = [a for a in state if a is not None]
        assert all(np.array_equal(a, b) for a, b in zip(after, before[2], strict=True))
        assert not np.array_equal(new_params, params)
        params, state = new_params, new_state
    assert state.t == 3
    assert repr(state).startswith(type(state).__name__ + "(t=3")
    assert opt.name == name


def test_adam_state_holds_the_moving_averages():
    g = np.array([2.0, -4.0])
    _, state = optim.adam(lr=0.1).step(np.zeros(2), g, optim.adam().init(np.zeros(2)))
    # m_1 = (1 - beta1) g and v_1 = (1 - beta2) g^2 (chapter 6's worked first step)
    assert np.allclose(state.m, 0.1 * g) and np.allclose(state.v, 0.001 * g**2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ALL)
def test_dtype_and_any_shape_preserved(name, dtype):
    opt = optim.OPTIMIZERS[name](lr=0.01)
    params = np.ones((2, 3, 4), dtype=dtype)
    new, _ = opt.step(params, np.full(params.shape, 0.5, dtype=dtype), opt.init(params))
    assert new.dtype == dtype and new.shape == (2, 3, 4)


def test_integer_params_become_float():
    traj = optim.minimize(optim.sgd(lr=0.25), lambda x: 2 * x, np.array([4]), 2)
    assert traj.dtype == np.float64 and np.allclose(traj[:, 0], [4.0, 2.0, 1.0])


# ------------------------------------------------------------------ closed forms

def test_gradient_descent_on_parabola_matches_closed_form():
    """GD on f(x) = x^2 with step lr: x_t = (1 - 2 lr)^t x_0 (chapter 1)."""
    for lr in [0.1, 0.45, 0.9, 1.1]:
        traj = optim.minimize(optim.sgd(lr=lr), lambda x: 2 * x, np.array([3.0]), 20)
        assert np.allclose(traj[:, 0], 3.0 * (1 - 2 * lr) ** np.arange(21), rtol=1e-12)


def test_ema_unrolls_to_geometric_weights():
    rng = np.random.default_rng(0)
    xs, beta, avg = rng.normal(size=30), 0.8, 0.0
    for x in xs:
        avg = optim.ema(avg, x, beta)
    weights = (1 - beta) * beta ** np.arange(29, -1, -1)
    assert np.isclose(avg, weights @ xs, rtol=1e-12)
    assert np.isclose(weights.sum(), optim.bias_correction(beta, 30), rtol=1e-12)


def test_heavy_ball_equals_ema_form_with_lr_over_one_minus_beta():
    """Chapter 3: b = beta b + g with lr  ==  m = ema(m, g, beta) with lr / (1 - beta)."""
    beta, lr = 0.9, 0.01
    curv = np.array([1.0, 10.0])
    heavy = optim.minimize(optim.sgd(lr=lr, momentum=beta), lambda x: curv * x, np.ones(2), 60)
    x, m, ema_form = np.ones(2), np.zeros(2), [np.ones(2)]
    for _ in range(60):
        m = optim.ema(m, curv * x, beta)
        x = x - lr / (1 - beta) * m
        ema_form.append(x)
    assert np.allclose(heavy, ema_form, rtol=1e-12, atol=1e-14)
    assert np.abs(heavy[-1]).max() < 0.1  # and it did converge


# ------------------------------------------------------------------ properties (hypothesis)

finite = st.floats(min_value=1e-3, max_value=1e3)
signed = st.builds(lambda a, s: a * s, finite, st.sampled_from([-1.0, 1.0]))


@given(g=st.lists(signed, min_size=1, max_size=4), lr=st.floats(1e-4, 1.0),
       beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999), eps=st.floats(0.0, 1e-3))
def test_constant_gradient_gives_steps_of_lr_g_over_abs_g(g, lr, beta1, beta2, eps):
    """With g_t = g, m_hat = g and v_hat = g^2 exactly, so every step is -lr g / (|g| + eps)."""
    g = np.array(g)
    opt = optim.adam(lr=lr, betas=(beta1, beta2), eps=eps)
    traj = optim.minimize(opt, lambda x: g, np.zeros_like(g), 8)
    steps = np.diff(traj, axis=0)
    assert np.allclose(steps, -lr * g / (np.abs(g) + eps), rtol=1e-9, atol=1e-15)


@given(scale=st.floats(1e-2, 1e3), seed=st.integers(0, 2**16),
       name=st.sampled_from(["adam", "rmsprop", "amsgrad", "adamax", "nadam"]))
def test_rescaling_the_loss_barely_changes_adaptive_steps(scale, seed, name):
    """Multiplying f by c multiplies g by c; m/sqrt(v) is unchanged up to the effect of eps."""
    rng = np.random.default_rng(seed)
    grads = rng.uniform(0.1, 1.0, size=(10, 3)) * rng.choice([-1, 1], size=(10, 3))

    def run(c):
        opt = optim.OPTIMIZERS[name](lr=0.01)
        x, state, out = np.zeros(3), opt.init(np.zeros(3)), []
        for g in grads:
            x, state = opt.step(x, c * g, state)
            out.append(x)
        return np.array(out)

    base, scaled = run(1.0), run(scale)
    # |g| >= 1e-3 and eps <= 1e-8 (1e-8 relative to RMSProp's unbiased sqrt(v) ~ 0.1 |g|)
    assert np.allclose(base, scaled, rtol=1e-4, atol=1e-12)


def test_rescaling_the_loss_does_change_plain_gradient_descent():
    grads = np.ones((3, 2))
    runs = [optim.minimize(optim.sgd(lr=0.01), lambda x, c=c: c * grads[0], np.zeros(2), 3)
            for c in (1.0, 1000.0)]
    assert np.allclose(runs[1], 1000 * runs[0])


@given(seed=st.integers(0, 2**16), name=st.sampled_from(ALL))
def test_batched_run_equals_runs_one_by_one(seed, name):
    rng = np.random.default_rng(seed)
    runs = 3
    lrs = rng.uniform(0.001, 0.1, size=runs)
    x0 = rng.normal(size=(runs, 2))
    curv = np.array([1.0, 10.0])

    def grad(x):
        return curv * x

    batched = optim.minimize(optim.OPTIMIZERS[name](lr=lrs), grad, x0, 15)
    for r in range(runs):
        single = optim.minimize(optim.OPTIMIZERS[name](lr=lrs[r]), grad, x0[r], 15)
        assert np.allclose(batched[:, r], single, rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------------ minimize

def test_minimize_shape_and_first_row():
    x0 = np.array([[1.0, 2.0], [3.0, 4.0]])
    traj = optim.minimize(optim.adam(lr=0.1), lambda x: x, x0, 7)
    assert traj.shape == (8, 2, 2) and np.array_equal(traj[0], x0)


def test_minimize_freezes_diverged_runs_as_nan():
    """lr above the stability limit 2/L = 1 diverges on x^2; the stable run is untouched."""
    lrs = np.array([0.1, 1.5])
    traj = optim.minimize(optim.sgd(lr=lrs), lambda x: 2 * x, np.ones((2, 1)), 40,
                          divergence_threshold=1e3)
    assert np.allclose(traj[:, 0, 0], 0.8 ** np.arange(41))
    # (1 - 2 * 1.5)^t = (-2)^t passes 1e3 at t = 10: recorded until then, nan afterwards
    assert np.allclose(traj[:10, 1, 0], (-2.0) ** np.arange(10))
    assert np.isnan(traj[10:, 1, 0]).all()


def test_minimize_without_threshold_reports_divergence_clearly():
    with pytest.raises(ValueError, match="divergence_threshold"), np.errstate(over="ignore"):
        optim.minimize(optim.sgd(lr=1e150), lambda x: x**3, np.ones(1), 10)


def test_lr_schedule_sets_each_step_size():
    """GD on x^2 with lr_t = 0.1 / t: x_t = x_{t-1} (1 - 0.2 / t), the closed-form product."""
    traj = optim.minimize(optim.sgd(lr=123.0), lambda x: 2 * x, np.array([1.0]), 30,
                          lr_schedule=lambda t: 0.1 / t)
    expected = np.cumprod([1.0] + [1 - 0.2 / t for t in range(1, 31)])
    assert np.allclose(traj[:, 0], expected, rtol=1e-12)


def test_lr_override_keeps_adam_state_and_matches_a_fresh_optimizer():
    g = np.array([1.0, -3.0])
    fixed = optim.minimize(optim.adam(lr=0.05), lambda x: g, np.zeros(2), 5)
    overridden = optim.minimize(optim.adam(lr=9.0), lambda x: g, np.zeros(2), 5,
                                lr_schedule=lambda t: 0.05)
    assert np.array_equal(fixed, overridden)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.minimize(optim.adam(), lambda x: g, np.zeros(2), 2, lr_schedule=lambda t: -1.0)
