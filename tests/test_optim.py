"""adam_course.optim: bad input, purity, reprs, batching, minimize, and closed forms.

Independent references: closed forms (constant gradients, geometric sums), single runs for the
batched ones, and eval of the repr; tests/test_optim_torch.py compares with torch.optim.
"""

import functools
import inspect
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference import iterates as run

from adam_course import catalog, optim

ALL = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "amsgrad", "adamw", "adamax",
       "nadam", "lion"]
FACTORIES = {name: getattr(optim, name)
             for name in ("sgd", "adagrad", "rmsprop", "adam", "adamw", "adamax", "nadam", "lion")}


def factory(name):
    return catalog.CATALOG[name].factory




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
        (lambda: optim.adam(betas=(0.9,)), "Invalid betas: (0.9,) (must be a pair (beta1, beta2))"),
        (lambda: optim.adam(betas=0.9), "Invalid betas: 0.9 (must be a pair"),
        (lambda: optim.adam(eps=-1e-8), "Invalid epsilon value (eps): -1e-08"),
        (lambda: optim.sgd(momentum=-0.5), "Invalid momentum value (momentum): -0.5"),
        (lambda: optim.sgd(lr=0.1, nesterov=True),
         "Invalid nesterov: True with momentum=0.0 and dampening=0.0 (must be used with a "
         "momentum > 0 and zero dampening)"),
        (lambda: optim.sgd(momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
        (lambda: optim.sgd(momentum=[0.9, 0.0], nesterov=True), "Invalid nesterov: True"),
        (lambda: optim.sgd(nesterov=1), "Invalid nesterov: 1 (must be True or False)"),
        (lambda: optim.adam(amsgrad="yes"), "Invalid amsgrad: 'yes' (must be True or False)"),
        (lambda: optim.rmsprop(alpha=1.5), "Invalid alpha value (alpha): 1.5"),
        (lambda: optim.rmsprop(alpha=[[0.9], [1.1]]), "Invalid alpha value (alpha): 1.1 at run 1"),
        (lambda: optim.adagrad(lr_decay=-1), "Invalid lr_decay value (lr_decay): -1.0"),
        (lambda: optim.adamw(weight_decay=-0.01),
         "Invalid weight_decay value (weight_decay): -0.01"),
        (lambda: optim.nadam(momentum_decay=-1), "Invalid momentum_decay value"),
        (lambda: optim.lion(betas=(0.9, 1.0)), "Invalid beta parameter at index 1 (betas[1]): 1.0"),
        (lambda: optim.lion(lr=-1e-4), "Invalid learning rate (lr): -0.0001"),
        (lambda: optim.lion(weight_decay=-0.1), "Invalid weight_decay value (weight_decay): -0.1"),
        (lambda: optim.rmsprop(eps_root=-1e-7), "Invalid eps_root: -1e-07"),
        (lambda: optim.adagrad(eps_root=float("inf")), "Invalid eps_root: inf"),
        (lambda: optim.adam(lr=np.array([0.1, -0.2])),
         "Invalid learning rate (lr): -0.2 at run 1 (must be a finite number >= 0)"),
        (lambda: optim.adam(lr=np.zeros((2, 3))),
         "Invalid learning rate (lr): shape (2, 3) (must be a number, or an array with one"),
    ],
)
def test_bad_hyperparameters_raise_naming_argument_and_value(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_grads_of_wrong_shape_raise():
    opt = optim.adam()
    state = opt.init(np.zeros(3))
    message = "Invalid grads: shape (2,) (must be the shape of params, (3,))"
    with pytest.raises(ValueError, match=re.escape(message)):
        opt.step(np.zeros(3), np.zeros(2), state)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ALL)
def test_non_finite_grads_and_params_raise_naming_the_entry(name, bad):
    """A step checks only its result, once; a bad input must still be found and named, at any
    step, whatever the step size (lr = 0 too), for every optimizer."""
    for lr in (0.1, 0.0):
        opt = factory(name)(lr=lr)
        params = np.ones((2, 3))
        state = opt.step(params, np.full((2, 3), 0.5), opt.init(params))[1]  # mid-run
        grads = np.full((2, 3), 0.5)
        grads[1, 2] = bad
        message = (r"Invalid grads: non-finite value .* at index \(1, 2\) \(must be finite; .*"
                   r"divergence_threshold")
        with pytest.raises(ValueError, match=message), np.errstate(all="ignore"):
            opt.step(params, grads, state)
        params[0, 1] = bad
        message = r"Invalid params: non-finite value .* at index \(0, 1\)"
        with pytest.raises(ValueError, match=message), np.errstate(all="ignore"):
            opt.step(params, np.full((2, 3), 0.5), state)
    with pytest.raises(ValueError, match=r"Invalid params: non-finite value"):
        opt.init(np.array([bad]))


def test_one_value_per_run_needs_matching_runs_axis():
    message = ("Invalid lr: 2 values (must be one value per run: params of shape (3, 2) hold 3 "
               "runs on their leading axis)")
    with pytest.raises(ValueError, match=re.escape(message)):
        optim.adam(lr=np.array([0.1, 0.2])).init(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=re.escape("Invalid betas[0]: 2 values")):
        optim.adam(betas=([0.9, 0.8], 0.999)).step(np.zeros(3), np.zeros(3), None)


@pytest.mark.parametrize("steps", [-1, 2.5, True])
def test_minimize_rejects_bad_arguments(steps):
    with pytest.raises(ValueError, match="Invalid steps"):
        optim.minimize(optim.sgd(), lambda x: x, np.ones(2), steps)
    with pytest.raises(ValueError, match=re.escape("Invalid optimizer: 'adam' (must be an")):
        optim.minimize("adam", lambda x: x, np.ones(2), 3)


# ------------------------------------------------------------------ purity and state

@pytest.mark.parametrize("name", ALL)
def test_step_is_pure_and_state_is_printable(name):
    """step returns new arrays: it changes none of its inputs and shares no memory with them."""
    opt = factory(name)(lr=0.1, weight_decay=0.1)
    params = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
    state = opt.init(params)
    for k in range(3):
        grads = np.array([[0.5, -1.0, 2.0], [1.0, 1.0, -3.0]]) * (k + 1)
        inputs = [params, grads, *(a for a in state if isinstance(a, np.ndarray))]
        before = [a.copy() for a in inputs]
        new_params, new_state = opt.step(params, grads, state)
        assert all(np.array_equal(a, b) for a, b in zip(inputs, before, strict=True))
        outputs = [new_params, *(a for a in new_state if isinstance(a, np.ndarray))]
        assert not any(np.shares_memory(a, b) for a in outputs for b in inputs)
        assert not np.array_equal(new_params, params)
        params, state = new_params, new_state
    assert state.t == 3
    assert repr(state).startswith(type(state).__name__ + "(t=3")
    assert opt.name == name


@pytest.mark.parametrize("state_type", [optim.SGDState, optim.AdaGradState,
                                        optim.RMSPropState, optim.AdamState,
                                        optim.AdamaxState, optim.NAdamState, optim.LionState])
def test_each_state_says_what_its_fields_are_in_torchs_names(state_type):
    torch_names = {"momentum_buffer": "momentum_buffer", "sum": "sum",
                   "square_avg": "square_avg", "grad_avg": "grad_avg", "m": "exp_avg",
                   "v": "exp_avg_sq", "v_max": "max_exp_avg_sq", "u": "exp_inf",
                   "mu_product": "mu_product"}
    doc = state_type.__doc__
    for field in state_type._fields[1:]:
        assert f"``{field}``" in doc and f"``{torch_names[field]}``" in doc, field
    if state_type is optim.RMSPropState:
        assert "alpha" in doc and "not a step size" in doc


def test_adam_state_holds_the_moving_averages():
    g = np.array([2.0, -4.0])
    _, state = optim.adam(lr=0.1).step(np.zeros(2), g, optim.adam().init(np.zeros(2)))
    # m_1 = (1 - beta1) g and v_1 = (1 - beta2) g^2 (chapter 6's worked first step)
    assert np.allclose(state.m, 0.1 * g) and np.allclose(state.v, 0.001 * g**2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ALL)
def test_dtype_and_any_shape_preserved(name, dtype):
    opt = factory(name)(lr=0.01)
    params = np.ones((2, 3, 4), dtype=dtype)
    new, state = opt.step(params, np.full(params.shape, 0.5, dtype=dtype), opt.init(params))
    assert new.dtype == dtype and new.shape == (2, 3, 4)
    assert all(a.dtype == dtype for a in state if isinstance(a, np.ndarray))


@pytest.mark.parametrize("name", ALL)
def test_a_number_as_params_steps_like_a_one_element_array(name):
    """Chapter 1's first examples are 1-D: minimize from x0 = 3.0 (a 0-d array) must give the
    numbers of x0 = [3.0], with trajectory shape (steps + 1,)."""
    opt = factory(name)(lr=0.1, weight_decay=0.1)
    scalar = optim.minimize(opt, lambda x: 2 * x - 1, 3.0, 6)
    array = optim.minimize(opt, lambda x: 2 * x - 1, np.array([3.0]), 6)
    assert scalar.shape == (7,)
    np.testing.assert_array_equal(scalar, array[:, 0])
    new, _ = opt.step(np.float32(1.0), np.float32(0.5), opt.init(np.float32(1.0)))
    assert new.shape == () and new.dtype == np.float32
    with pytest.raises(ValueError, match=r"Invalid params: non-finite value nan at index \(\)"):
        opt.step(np.nan, 1.0, opt.init(1.0))


def test_integer_params_become_float():
    traj = optim.minimize(optim.sgd(lr=0.25), lambda x: 2 * x, np.array([4]), 2)
    assert traj.dtype == np.float64 and np.allclose(traj[:, 0], [4.0, 2.0, 1.0])


# ------------------------------------------------------------------ reprs that can be typed back

REPR_CASES = [
    ("sgd", {}), ("momentum", {}), ("nesterov", {"lr": 0.5}), ("sgd", {"lr": [0.1, 0.2]}),
    ("momentum", {"momentum": [[0.0], [0.9]], "dampening": 0.5}), ("adagrad", {}),
    ("adagrad", {"initial_accumulator_value": [0.1, 1.0], "lr_decay": 0.01}), ("rmsprop", {}),
    ("rmsprop", {"alpha": 0.9, "centered": True, "momentum": 0.5}), ("adam", {}),
    ("adam", {"betas": ([0.5, 0.9], 0.999), "maximize": True}), ("amsgrad", {}),
    ("adam", {"correct": "m", "eps_root": 1e-8}), ("adamw", {"weight_decay": 0.1}),
    ("adamax", {}), ("nadam", {"momentum_decay": 0.01}), ("lion", {}),
    ("lion", {"betas": (0.95, [0.98, 0.99]), "weight_decay": 0.1}),
    ("rmsprop", {"eps": 0.0, "eps_root": 1e-7}), ("adagrad", {"eps_root": [1e-7, 1e-3]}),
]


@pytest.mark.parametrize("name, kwargs", REPR_CASES, ids=[f"{n}-{k}" for n, k in REPR_CASES])
def test_repr_is_a_call_that_builds_the_same_optimizer(name, kwargs):
    opt = factory(name)(**kwargs)
    again = eval(repr(opt), {"__builtins__": {}}, dict(FACTORIES))
    assert again == opt and repr(again) == repr(opt) and again.name == opt.name
    grads = np.random.default_rng(0).normal(size=(4, 2, 3))
    assert np.array_equal(run(again, grads, np.ones((2, 3))), run(opt, grads, np.ones((2, 3))))


def test_reprs_use_torchs_arguments_and_the_real_function():
    assert repr(optim.adam()) == ("adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, "
                                  "weight_decay=0.0, amsgrad=False, maximize=False)")
    assert repr(factory("momentum")(lr=0.1)) == ("sgd(lr=0.1, momentum=0.9, dampening=0.0, "
                                                 "weight_decay=0.0, nesterov=False, "
                                                 "maximize=False)")
    assert repr(factory("amsgrad")()).startswith("adam(") and "amsgrad=True" in repr(
        factory("amsgrad")())
    assert repr(optim.adam(decoupled_weight_decay=True)).startswith("adamw(")
    assert repr(optim.adam(lr=[0.1, 0.2])).startswith("adam(lr=[0.1, 0.2], ")
    assert optim.adam(lr=0.1) != optim.adam(lr=0.2) and optim.adam() != optim.adamw()
    assert repr(optim.lion()) == ("lion(lr=0.0001, betas=(0.9, 0.99), weight_decay=0.0, "
                                  "maximize=False)")
    assert repr(optim.rmsprop(eps_root=0.0)) == repr(optim.rmsprop())  # torch's call when unset


def test_an_optimizer_from_a_notebooks_update_says_it_cannot_be_typed_back():
    def update(params, g, state, *, lr):
        return params - lr * g, state

    opt = optim.from_update("sgd", lambda p: None, update, {"lr": 0.1})
    assert repr(opt) == f"<Optimizer 'sgd': {update.__qualname__} with lr=0.1>"
    assert "test_an_optimizer_from_a_notebooks_update" in repr(opt)  # the function's own name
    assert opt == opt and opt != optim.from_update("sgd", lambda p: None, update, {"lr": 0.2})
    partial = functools.partial(update)  # a callable without a __qualname__: its repr
    opt = optim.from_update("sgd", lambda p: None, partial, {"lr": 0.1})
    assert repr(opt) == f"<Optimizer 'sgd': {partial!r} with lr=0.1>"


# ------------------------------------------------------------------ from_update

def test_from_update_applies_maximize_weight_decay_and_a_schedules_lr():
    """The update sees g = -grads + weight_decay * params: a custom update needs no code for it."""
    def update(params, g, state, *, lr):
        return params - lr * g, state

    opt = optim.from_update("sgd", lambda p: None, update,
                            {"lr": 0.1, "weight_decay": 0.5, "maximize": True})
    x, g = np.array([1.0, -2.0]), np.array([3.0, 4.0])
    new, _ = opt.step(x, g, opt.init(x))
    np.testing.assert_allclose(new, x - 0.1 * (-g + 0.5 * x), rtol=1e-15)
    new, _ = opt.step(x, g, None, lr=0.01)
    np.testing.assert_allclose(new, x - 0.01 * (-g + 0.5 * x), rtol=1e-15)


def test_from_update_passes_what_update_takes_and_names_what_is_missing():
    seen = {}

    def update(params, g, state, *, lr, weight_decay, beta=0.5):
        seen.update(lr=lr, weight_decay=weight_decay, beta=beta)
        return params - lr * g, state

    opt = optim.from_update("sgd", lambda p: None, update,
                            {"lr": 0.1, "weight_decay": 0.5, "extra": 1})
    x = np.array([1.0])
    new, _ = opt.step(x, np.array([2.0]), None)
    assert seen == {"lr": 0.1, "weight_decay": 0.5, "beta": 0.5}
    np.testing.assert_allclose(new, [0.8])  # weight_decay went to update, not into the gradient
    with pytest.raises(ValueError, match=r"Invalid hyperparams: .*\(must be a dict with the "
                                         r"arguments that update needs \(lr missing\)\)"):
        optim.from_update("sgd", lambda p: None, update, {"weight_decay": 0.5})


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


@pytest.mark.parametrize("nesterov", [False, True])
def test_the_first_momentum_step_is_a_plain_gradient_step(nesterov):
    """torch starts the buffer at b_1 = g_1, undamped: the first heavy-ball step is lr g_1 and
    the first Nesterov step (1 + momentum) lr g_1, whatever the dampening."""
    g, lr, mu = np.array([2.0, -1.0]), 0.1, 0.9
    for dampening in ([0.0] if nesterov else [0.0, 0.5]):
        opt = optim.sgd(lr=lr, momentum=mu, dampening=dampening, nesterov=nesterov)
        x, state = opt.step(np.zeros(2), g, opt.init(np.zeros(2)))
        np.testing.assert_allclose(x, -lr * g * ((1 + mu) if nesterov else 1), rtol=1e-15)
        np.testing.assert_allclose(state.momentum_buffer, g, rtol=0)


@pytest.mark.parametrize("mu, dampening", [(0.9, 0.0), (0.9, 0.3), (0.5, 0.9), (0.0, 0.5)])
def test_dampened_heavy_ball_under_a_constant_gradient_matches_the_geometric_sum(mu, dampening):
    """g_t = g: b_1 = g, b_t = mu b_{t-1} + (1 - d) g, so
    b_t = mu^(t-1) g + (1 - d) g (1 + mu + ... + mu^(t-2)); momentum 0 ignores d (torch)."""
    g, lr, steps = np.array([1.0, -2.0]), 0.1, 25
    t = np.arange(1, steps + 1)[:, None]
    geometric = np.array([sum(mu**k for k in range(int(s) - 1)) for s in t[:, 0]])[:, None]
    b = mu ** (t - 1) * g + (1 - dampening) * g * geometric if mu else g * np.ones_like(t)
    expected = np.vstack([np.zeros(2), -lr * np.cumsum(b, axis=0)])
    ours = run(optim.sgd(lr=lr, momentum=mu, dampening=dampening),
               np.broadcast_to(g, (steps, 2)), np.zeros(2))
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)


def test_adagrad_lr_decay_under_a_constant_gradient_matches_the_closed_form():
    """g_t = g, s_0 = a: s_t = a + t g^2, and step t is lr_t g / (sqrt(s_t) + eps) with
    lr_t = lr / (1 + (t - 1) lr_decay)."""
    g, lr, decay, a, eps, steps = np.array([0.5, -3.0]), 0.2, 0.1, 0.25, 1e-10, 30
    t = np.arange(1, steps + 1)[:, None]
    steps_taken = lr / (1 + (t - 1) * decay) * g / (np.sqrt(a + t * g**2) + eps)
    expected = np.vstack([np.zeros(2), -np.cumsum(steps_taken, axis=0)])
    ours = run(optim.adagrad(lr=lr, lr_decay=decay, initial_accumulator_value=a, eps=eps),
               np.broadcast_to(g, (steps, 2)), np.zeros(2))
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


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
    base = run(factory(name)(lr=0.01), grads, np.zeros(3))
    scaled = run(factory(name)(lr=0.01), scale * grads, np.zeros(3))
    # |c g| >= 1e-3 and eps <= 1e-8: each step changes by at most ~1e-4 of its size
    assert np.abs(base - scaled).max() <= 1e-4 * np.abs(base).max()


def test_rescaling_the_loss_does_change_plain_gradient_descent():
    grads = np.ones((3, 2))
    runs = [optim.minimize(optim.sgd(lr=0.01), lambda x, c=c: c * grads[0], np.zeros(2), 3)
            for c in (1.0, 1000.0)]
    assert np.allclose(runs[1], 1000 * runs[0])


# ------------------------------------------------------------------ one value per run

PER_RUN = [  # (catalog name, hyperparameter, values for 3 runs, fixed arguments)
    ("sgd", "lr", [0.001, 0.05, 0.2], {}),
    ("sgd", "weight_decay", [0.0, 0.1, 1.0], {}),
    ("momentum", "momentum", [0.0, 0.5, 0.9], {"dampening": 0.3}),  # momentum 0: no dampening
    ("momentum", "momentum", [0.0, 0.5, 0.9], {}),
    ("momentum", "dampening", [0.0, 0.3, 0.9], {}),
    ("nesterov", "momentum", [0.1, 0.5, 0.9], {}),
    ("adagrad", "lr", [0.01, 0.1, 1.0], {}),
    ("adagrad", "lr_decay", [0.0, 0.01, 0.5], {}),
    ("adagrad", "weight_decay", [0.0, 0.1, 1.0], {}),
    ("adagrad", "initial_accumulator_value", [0.0, 0.1, 2.0], {}),
    ("adagrad", "eps", [1e-10, 1e-3, 1.0], {}),
    ("rmsprop", "lr", [0.001, 0.01, 0.1], {}),
    ("rmsprop", "alpha", [0.0, 0.9, 0.99], {"centered": True}),
    ("rmsprop", "eps", [1e-8, 1e-3, 1.0], {}),
    ("rmsprop", "weight_decay", [0.0, 0.1, 1.0], {}),
    ("rmsprop", "momentum", [0.0, 0.5, 0.9], {}),
    ("adam", "lr", [0.001, 0.05, 0.2], {}),
    ("adam", "betas[0]", [0.0, 0.5, 0.9], {}),
    ("adam", "betas[1]", [0.5, 0.99, 0.999], {}),
    ("adam", "eps", [1e-8, 1e-3, 1.0], {}),
    ("adam", "weight_decay", [0.0, 0.1, 1.0], {}),
    ("adam", "eps_root", [0.0, 1e-3, 1.0], {"eps": 0.0}),
    ("amsgrad", "betas[1]", [0.5, 0.99, 0.999], {}),
    ("adamw", "weight_decay", [0.0, 0.1, 1.0], {}),
    ("adamw", "lr", [0.001, 0.05, 0.2], {}),
    ("adamax", "betas[0]", [0.0, 0.5, 0.9], {}),
    ("adamax", "betas[1]", [0.5, 0.99, 0.999], {}),
    ("adamax", "eps", [1e-8, 1e-3, 1.0], {}),
    ("adamax", "weight_decay", [0.0, 0.1, 1.0], {}),
    ("nadam", "betas[0]", [0.0, 0.5, 0.9], {}),
    ("nadam", "betas[1]", [0.5, 0.99, 0.999], {}),
    ("nadam", "momentum_decay", [0.0, 4e-3, 0.1], {}),
    ("nadam", "eps", [1e-8, 1e-3, 1.0], {}),
    ("nadam", "weight_decay", [0.0, 0.1, 1.0], {}),
    ("rmsprop", "eps_root", [0.0, 1e-3, 1.0], {"eps": 0.0}),
    ("adagrad", "eps_root", [0.0, 1e-3, 1.0], {"eps": 0.0}),
    ("lion", "lr", [0.001, 0.05, 0.2], {}),
    ("lion", "betas[0]", [0.0, 0.5, 0.9], {}),
    ("lion", "betas[1]", [0.5, 0.99, 0.999], {}),
    ("lion", "weight_decay", [0.0, 0.1, 1.0], {}),
]


def with_value(name, hyper, value, fixed):
    """Keyword arguments setting ``hyper`` (``betas[i]`` sets one of the pair) to ``value``."""
    kwargs = {"lr": 0.05, **fixed}
    if hyper.startswith("betas["):
        betas = [0.9, 0.99 if name == "lion" else 0.999]
        betas[int(hyper[6])] = value
        kwargs["betas"] = tuple(betas)
    else:
        kwargs[hyper] = value
    return kwargs


@pytest.mark.parametrize("params", [(3, 2, 2), (3,)], ids=["params(R,2,2)", "params(R,)"])
@pytest.mark.parametrize("shape", [(3,), (3, 1)], ids=["(R,)", "(R, 1)"])
@pytest.mark.parametrize("name, hyper, values, fixed", PER_RUN,
                         ids=[f"{n}-{h}-{f}" for n, h, _, f in PER_RUN])
def test_one_value_per_run_is_each_run_on_its_own(name, hyper, values, fixed, shape, params):
    """R runs with one value each, batched on the leading axis, equal R single runs (a run of
    params (R,) is one number)."""
    rng = np.random.default_rng(0)
    x0, grads = rng.normal(size=params), rng.normal(size=(20, *params))
    batched = run(factory(name)(**with_value(name, hyper, np.reshape(values, shape), fixed)),
                  grads, x0)
    for r, value in enumerate(values):
        single = run(factory(name)(**with_value(name, hyper, value, fixed)), grads[:, r], x0[r])
        np.testing.assert_allclose(batched[:, r], single, rtol=1e-13, atol=1e-15)


@given(seed=st.integers(0, 2**16), name=st.sampled_from(ALL))
def test_batched_run_equals_runs_one_by_one(seed, name):
    rng = np.random.default_rng(seed)
    runs = 3
    lrs = rng.uniform(0.001, 0.1, size=runs)
    x0 = rng.normal(size=(runs, 2))
    curv = np.array([1.0, 10.0])

    def grad(x):
        return curv * x

    batched = optim.minimize(factory(name)(lr=lrs), grad, x0, 15)
    for r in range(runs):
        single = optim.minimize(factory(name)(lr=lrs[r]), grad, x0[r], 15)
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


@pytest.mark.parametrize("shape", [(3, 2), (3, 2, 2)])
def test_one_runs_nan_gradient_freezes_only_that_run(shape):
    """The guard works per run: run 1's gradient turns nan at step 5; runs 0 and 2 go on
    exactly as on their own, run 1 is recorded until step 4 and nan afterwards."""
    calls = []

    def grad(x):
        calls.append(1)
        g = 2 * x
        if len(calls) == 5 and x.ndim == len(shape):
            g[1] = np.nan
        return g

    x0 = np.arange(1, np.prod(shape) + 1, dtype=float).reshape(shape) / 10
    traj = optim.minimize(optim.adam(lr=0.1), grad, x0, 12, divergence_threshold=1e3)
    for r in (0, 2):
        single = optim.minimize(optim.adam(lr=0.1), lambda x: 2 * x, x0[r], 12)
        np.testing.assert_allclose(traj[:, r], single, rtol=1e-14)
    assert np.all(np.isfinite(traj[:5, 1])) and np.all(np.isnan(traj[5:, 1]))


def test_a_run_exactly_at_the_threshold_is_kept():
    """"Exceeds T" freezes a run: |x| = T is kept. GD on x^2 with lr 1.5 gives (-2)^t, so with
    T = 2^10 step 10 is recorded and step 11 is nan."""
    traj = optim.minimize(optim.sgd(lr=1.5), lambda x: 2 * x, np.ones((1, 1)), 14,
                          divergence_threshold=2.0**10)
    np.testing.assert_array_equal(traj[:11, 0, 0], (-2.0) ** np.arange(11))
    assert np.isnan(traj[11:]).all()


def test_the_guard_keeps_a_schedules_step_sizes():
    """With a divergence_threshold, lr_schedule still sets each step: the closed form of GD on
    x^2 with lr_t = 0.1 / t, as without the guard."""
    for threshold in (None, 1e3):
        traj = optim.minimize(optim.sgd(lr=123.0), lambda x: 2 * x, np.ones((2, 1)), 30,
                              lr_schedule=lambda t: 0.1 / t, divergence_threshold=threshold)
        expected = np.cumprod([1.0] + [1 - 0.2 / t for t in range(1, 31)])
        np.testing.assert_allclose(traj[:, :, 0], np.column_stack([expected, expected]),
                                   rtol=1e-12)


def test_a_diverging_run_under_the_guard_raises_no_numpy_warning():
    """A run overflowing to inf in a sweep is expected: the guard makes it nan silently (a
    RuntimeWarning would print in the book, under the cell)."""
    lrs = np.array([0.1, 1e150])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = optim.minimize(optim.sgd(lr=lrs), lambda x: x**3, np.ones((2, 1)), 10,
                              divergence_threshold=1e300)
    assert np.isfinite(traj[:, 0]).all() and traj[1, 1] == 1 - 1e150
    assert np.isnan(traj[2:, 1]).all()  # its gradient (-1e150)^3 overflowed at step 2


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


def test_a_schedule_may_give_one_lr_per_run():
    lrs = np.array([0.01, 0.1])
    batched = optim.minimize(optim.sgd(lr=5.0), lambda x: 2 * x, np.ones((2, 3)), 6,
                             lr_schedule=lambda t: lrs[:, None] / t)
    for r, lr in enumerate(lrs):
        single = optim.minimize(optim.sgd(lr=5.0), lambda x: 2 * x, np.ones(3), 6,
                                lr_schedule=lambda t, lr=lr: lr / t)
        np.testing.assert_allclose(batched[:, r], single, rtol=1e-15)


# ------------------------------------------------------------------ arguments and defaults

FLAGS = [("sgd", "nesterov"), ("sgd", "maximize"), ("adagrad", "maximize"),
         ("rmsprop", "centered"), ("rmsprop", "maximize"), ("adam", "amsgrad"),
         ("adam", "maximize"), ("adam", "decoupled_weight_decay"), ("adamw", "amsgrad"),
         ("adamw", "maximize"), ("adamax", "maximize"), ("nadam", "maximize"),
         ("lion", "maximize")]


@pytest.mark.parametrize("name, flag", FLAGS, ids=[f"{n}-{f}" for n, f in FLAGS])
def test_a_flag_that_is_not_a_bool_is_refused_naming_it(name, flag):
    with pytest.raises(ValueError, match=re.escape(f"Invalid {flag}: 1 (must be True or False)")):
        FACTORIES[name](**{flag: 1})


def test_a_per_run_initial_accumulator_value_must_match_the_runs():
    with pytest.raises(ValueError, match=re.escape("Invalid initial_accumulator_value: 2 values")):
        optim.adagrad(initial_accumulator_value=[0.1, 0.2]).init(np.zeros((3, 2)))


UPDATES = [(optim.sgd, optim.sgd_update), (optim.adagrad, optim.adagrad_update),
           (optim.rmsprop, optim.rmsprop_update), (optim.adam, optim.adam_update),
           (optim.adamw, optim.adamw_update), (optim.adamax, optim.adamax_update),
           (optim.nadam, optim.nadam_update), (optim.lion, optim.lion_update)]


@pytest.mark.parametrize("make, update", UPDATES, ids=[u.__name__ for _, u in UPDATES])
def test_an_update_given_only_its_required_arguments_uses_the_defaults(make, update):
    """The pure update's keyword defaults are the factory's (torch's: test_optim_torch.py): a
    notebook that calls ``adagrad_update(params, g, state, lr=0.1)`` gets torch's AdaGrad."""
    opt = make(lr=0.1)
    required = {p.name: opt.hyperparams[p.name]
                for p in inspect.signature(update).parameters.values()
                if p.kind is p.KEYWORD_ONLY and p.default is p.empty}
    x = np.array([1.0, -2.0, 0.5])
    ours, expected = (x, opt.init(x)), (x, opt.init(x))  # two states: neither run shares one
    for k in range(4):
        g = np.array([0.3, -1.0, 2.0]) * (k + 1)
        ours = update(ours[0], g, ours[1], **required)
        expected = opt.step(expected[0], g, expected[1])
        np.testing.assert_array_equal(ours[0], expected[0])


def test_sgd_update_without_momentum_arguments_is_a_plain_step_even_with_a_buffer():
    """momentum=0, dampening=0 by default: b = g, so the step is lr g whatever the buffer."""
    state = optim.SGDState(t=3, momentum_buffer=np.array([5.0, -5.0]))
    x, g = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    new, new_state = optim.sgd_update(x, g, state, lr=0.1)
    np.testing.assert_allclose(new, x - 0.1 * g, rtol=1e-15)
    np.testing.assert_array_equal(new_state.momentum_buffer, g)


@pytest.mark.parametrize("correct", optim.CORRECTIONS)
def test_adamw_without_decay_is_adam_with_the_same_flags(correct):
    """adamw passes correct and eps_root on: with weight_decay=0 it is that Adam variant."""
    grads = np.random.default_rng(4).normal(size=(6, 2, 3))
    for eps_root in (0.0, 1e-3):
        flags = dict(lr=0.1, correct=correct, eps_root=eps_root)
        np.testing.assert_array_equal(run(optim.adamw(weight_decay=0.0, **flags), grads,
                                          np.ones((2, 3))),
                                      run(optim.adam(**flags), grads, np.ones((2, 3))))


def test_per_run_momentum_with_dampening_keeps_a_float32_run_in_float32():
    """Runs in float32 (chapter 8's low precision) are computed in float32: with one momentum per
    run and a dampening, each step is the recurrence b = momentum b + (1 - dampening) g,
    theta = theta - lr b evaluated in numpy float32, bit for bit; a product taken in float64 and
    rounded back differs in the last bit."""
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=(2, 5)).astype(np.float32)
    grads = rng.normal(size=(30, 2, 5)).astype(np.float32)
    momentum = np.array([0.9, 0.5], dtype=np.float32)
    ours = run(optim.sgd(lr=0.1, momentum=momentum, dampening=0.1), grads, x0)
    f32 = np.float32
    x, b, m = x0.copy(), None, momentum[:, None]
    for g in grads:
        b = g.copy() if b is None else m * b + (f32(1) - f32(0.1)) * g
        x = x - f32(0.1) * b
    assert ours[-1].dtype == np.float32
    np.testing.assert_array_equal(ours[-1], x)


def test_equal_optimizers_hash_equal_and_different_ones_apart():
    """An optimizer can key a dict (a sweep's results): equal ones hash alike, and the hash
    tells different ones apart (a constant hash would make every lookup a linear search)."""
    assert hash(optim.adam(lr=0.1)) == hash(optim.adam(lr=0.1))
    hashes = {hash(opt) for opt in (optim.adam(lr=0.1), optim.adam(lr=0.2), optim.sgd(lr=0.1),
                                    optim.sgd(lr=0.1, momentum=0.9))}
    assert len(hashes) == 4
    assert {optim.adam(lr=0.1): "a"}[optim.adam(lr=0.1)] == "a"
