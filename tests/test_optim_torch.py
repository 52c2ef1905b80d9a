"""Every optimizer gives the same trajectory as torch.optim 2.13.0, the independent reference.

250 steps of noisy gradients of a quadratic, in float64, must agree to 1e-12 relative; a shorter
float32 run to float32 round-off. torch is a test-only dependency (requirements-test.txt).
"""

import numpy as np
import pytest
import torch  # a test dependency: a missing torch is a failure, not a skip

from adam_course import optim

assert torch.__version__.startswith("2.13."), torch.__version__

STEPS = 250
CURVATURE = np.array([[0.5, 1.0, 2.0, 4.0]])  # per-coordinate curvature of the quadratic


def noisy_gradient(sign=1.0, seed=0, shape=(3, 4)):
    """g_k(x) = sign * (c * x) + noise_k: the same sequence for both implementations."""
    noise = np.random.default_rng(seed).normal(scale=0.3, size=(STEPS, *shape))

    def grad(x, k):
        return sign * CURVATURE * x + noise[k]

    return grad


def run_ours(factory, kwargs, grad, x0, steps):
    opt = factory(**kwargs)
    x, state = x0.copy(), opt.init(x0)
    out = [x]
    for k in range(steps):
        x, state = opt.step(x, grad(x, k), state)
        out.append(x)
    return np.array(out)


def run_torch(cls, kwargs, grad, x0, steps):
    p = torch.nn.Parameter(torch.tensor(x0.copy()))
    opt = cls([p], foreach=False, **kwargs)
    out = [x0.copy()]
    for k in range(steps):
        g = grad(p.detach().numpy().copy(), k)
        p.grad = torch.tensor(g, dtype=p.dtype)
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


CASES = [
    (optim.sgd, "SGD", dict(lr=0.05)),
    (optim.sgd, "SGD", dict(lr=0.02, momentum=0.9)),
    (optim.sgd, "SGD", dict(lr=0.02, momentum=0.9, dampening=0.3)),
    (optim.sgd, "SGD", dict(lr=0.02, momentum=0.8, nesterov=True)),
    (optim.sgd, "SGD", dict(lr=0.02, momentum=0.5, weight_decay=0.1)),
    (optim.sgd, "SGD", dict(lr=0.05, maximize=True)),
    (optim.adagrad, "Adagrad", dict(lr=0.1)),
    (optim.adagrad, "Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    (optim.adagrad, "Adagrad", dict(lr=0.1, weight_decay=0.05, eps=1e-6, maximize=True)),
    (optim.rmsprop, "RMSprop", dict(lr=0.01)),
    (optim.rmsprop, "RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    (optim.rmsprop, "RMSprop", dict(lr=0.005, momentum=0.9)),
    (optim.rmsprop, "RMSprop", dict(lr=0.005, momentum=0.5, centered=True, weight_decay=0.1)),
    (optim.rmsprop, "RMSprop", dict(lr=0.01, eps=1e-3, maximize=True)),
    (optim.adam, "Adam", dict(lr=0.05)),
    (optim.adam, "Adam", dict(lr=0.05, betas=(0.5, 0.99), eps=1e-3)),
    (optim.adam, "Adam", dict(lr=0.05, weight_decay=0.1)),
    (optim.adam, "Adam", dict(lr=0.05, amsgrad=True)),
    (optim.adam, "Adam", dict(lr=0.05, betas=(0.0, 0.9), amsgrad=True, weight_decay=0.05)),
    (optim.adam, "Adam", dict(lr=0.05, maximize=True)),
    (optim.adamw, "AdamW", dict(lr=0.05)),
    (optim.adamw, "AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    (optim.adamax, "Adamax", dict(lr=0.05)),
    (optim.adamax, "Adamax", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1)),
    (optim.adamax, "Adamax", dict(lr=0.05, maximize=True)),
    (optim.nadam, "NAdam", dict(lr=0.05)),
    (optim.nadam, "NAdam", dict(lr=0.05, momentum_decay=1e-2, betas=(0.8, 0.99))),
    (optim.nadam, "NAdam", dict(lr=0.05, weight_decay=0.1, eps=1e-4, maximize=True)),
]


def _id(case):
    factory, _, kwargs = case
    return factory.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.fixture
def float64_default():
    """torch keeps step counters and NAdam's mu_product in the default dtype: make it float64."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def max_relative_error(ours, theirs):
    return np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs))


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_same_trajectory_as_torch_float64(case, float64_default):
    factory, torch_name, kwargs = case
    sign = -1.0 if kwargs.get("maximize") else 1.0
    grad = noisy_gradient(sign)
    x0 = np.random.default_rng(1).normal(size=(3, 4))
    ours = run_ours(factory, kwargs, grad, x0, STEPS)
    theirs = run_torch(getattr(torch.optim, torch_name), kwargs, grad, x0, STEPS)
    assert np.abs(theirs[-1] - theirs[0]).max() > 1e-3, "the run must actually move"
    assert max_relative_error(ours, theirs) <= 1e-12


@pytest.mark.parametrize("case", CASES[::3], ids=[_id(c) for c in CASES[::3]])
def test_same_trajectory_as_torch_float32(case):
    factory, torch_name, kwargs = case
    sign = -1.0 if kwargs.get("maximize") else 1.0
    grad64 = noisy_gradient(sign)

    def grad(x, k):
        return grad64(x, k).astype(np.float32)

    x0 = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    ours = run_ours(factory, kwargs, grad, x0, 50)
    theirs = run_torch(getattr(torch.optim, torch_name), kwargs, grad, x0, 50)
    assert ours.dtype == np.float32
    assert max_relative_error(ours, theirs) <= 1e-5


def test_batched_runs_match_torch_run_by_run(float64_default):
    """One lr and one beta1 per run on the leading axis == separate torch runs."""
    lrs, beta1s = np.array([0.01, 0.05, 0.2]), np.array([0.0, 0.9, 0.99])
    grad = noisy_gradient(shape=(3, 4))
    x0 = np.random.default_rng(2).normal(size=(3, 4))
    batched = run_ours(optim.adam, dict(lr=lrs, betas=(beta1s, 0.999)), grad, x0, 100)
    for r in range(3):
        def grad_r(x, k, r=r):
            return grad(np.broadcast_to(x, (3, 4)), k)[r]

        theirs = run_torch(torch.optim.Adam, dict(lr=lrs[r], betas=(beta1s[r], 0.999)),
                           grad_r, x0[r], 100)
        assert max_relative_error(batched[:, r], theirs) <= 1e-12


PER_RUN = [  # (factory, torch class, hyperparameter, values, fixed arguments)
    (optim.sgd, "SGD", "momentum", [0.0, 0.5, 0.9], dict(lr=0.02, dampening=0.3)),
    (optim.sgd, "SGD", "dampening", [0.0, 0.3, 0.9], dict(lr=0.02, momentum=0.9)),
    (optim.sgd, "SGD", "weight_decay", [0.0, 0.1, 1.0], dict(lr=0.02, momentum=0.5)),
    (optim.adagrad, "Adagrad", "lr_decay", [0.0, 0.01, 0.5], dict(lr=0.1)),
    (optim.adagrad, "Adagrad", "initial_accumulator_value", [0.0, 0.1, 2.0], dict(lr=0.1)),
    (optim.adagrad, "Adagrad", "eps", [1e-10, 1e-3, 1.0], dict(lr=0.1)),
    (optim.rmsprop, "RMSprop", "alpha", [0.5, 0.9, 0.99], dict(lr=0.01, centered=True)),
    (optim.rmsprop, "RMSprop", "momentum", [0.0, 0.5, 0.9], dict(lr=0.005)),
    (optim.rmsprop, "RMSprop", "eps", [1e-8, 1e-3, 1.0], dict(lr=0.01)),
    (optim.adam, "Adam", "betas", [(0.0, 0.5), (0.5, 0.99), (0.9, 0.999)], dict(lr=0.05)),
    (optim.adam, "Adam", "eps", [1e-8, 1e-3, 1.0], dict(lr=0.05, amsgrad=True)),
    (optim.adam, "Adam", "weight_decay", [0.0, 0.1, 1.0], dict(lr=0.05)),
    (optim.adamw, "AdamW", "weight_decay", [0.0, 0.1, 1.0], dict(lr=0.05)),
    (optim.adamax, "Adamax", "betas", [(0.0, 0.5), (0.5, 0.99), (0.9, 0.999)], dict(lr=0.05)),
    (optim.nadam, "NAdam", "momentum_decay", [0.0, 4e-3, 0.1], dict(lr=0.05)),
    (optim.nadam, "NAdam", "betas", [(0.0, 0.5), (0.5, 0.99), (0.9, 0.999)], dict(lr=0.05)),
]


@pytest.mark.parametrize("factory, torch_name, hyper, values, fixed", PER_RUN,
                         ids=[f"{c[1]}-{c[2]}" for c in PER_RUN])
def test_one_value_per_run_matches_torch_run_by_run(factory, torch_name, hyper, values, fixed,
                                                    float64_default):
    """Three runs with one value each on the leading axis == three separate torch runs."""
    if hyper == "betas":
        batched_value = tuple(np.array(column) for column in zip(*values, strict=True))
    else:
        batched_value = np.array(values)
    grad = noisy_gradient(shape=(3, 4))
    x0 = np.random.default_rng(3).normal(size=(3, 4))
    batched = run_ours(factory, {**fixed, hyper: batched_value}, grad, x0, 100)
    for r, value in enumerate(values):
        def grad_r(x, k, r=r):
            return grad(np.broadcast_to(x, (3, 4)), k)[r]

        theirs = run_torch(getattr(torch.optim, torch_name), {**fixed, hyper: value}, grad_r,
                           x0[r], 100)
        assert max_relative_error(batched[:, r], theirs) <= 1e-12, (hyper, value)


# ------------------------------------------------------------------ torch's defaults and words

TORCH_CLASS = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam",
               "adamw": "AdamW", "adamax": "Adamax", "nadam": "NAdam"}


def torch_optimizer(name, **kwargs):
    return getattr(torch.optim, TORCH_CLASS[name])([torch.nn.Parameter(torch.zeros(1))],
                                                   **kwargs)


@pytest.mark.parametrize("name", TORCH_CLASS)
def test_defaults_are_torchs(name):
    ours = getattr(optim, name)().hyperparams
    theirs = torch_optimizer(name).defaults
    shared = sorted(set(ours) & set(theirs))
    assert {"lr", "weight_decay", "maximize"} <= set(shared)
    assert [ours[k] for k in shared] == [theirs[k] for k in shared], shared


# every (optimizer, argument) that torch refuses when negative
REFUSED = [(name, hyper) for name, hypers in {
    "sgd": ["lr", "momentum", "weight_decay"],
    "adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"],
    "rmsprop": ["lr", "alpha", "eps", "weight_decay", "momentum"],
    "adam": ["lr", "eps", "weight_decay"], "adamw": ["lr", "eps", "weight_decay"],
    "adamax": ["lr", "eps", "weight_decay"],
    "nadam": ["lr", "eps", "weight_decay", "momentum_decay"],
}.items() for hyper in hypers]


@pytest.mark.parametrize("name, hyper", REFUSED, ids=[f"{n}-{h}" for n, h in REFUSED])
def test_a_negative_value_is_refused_in_torchs_words_and_names_the_argument(name, hyper):
    """torch says "Invalid learning rate: -1.0"; we say the same and name the argument:
    "Invalid learning rate (lr): -1.0 (must be ...)"."""
    with pytest.raises(ValueError) as theirs:
        torch_optimizer(name, **{hyper: -1.0})
    what = str(theirs.value).split(": ")[0]
    with pytest.raises(ValueError) as ours:
        getattr(optim, name)(**{hyper: -1.0})
    assert str(ours.value).startswith(f"{what} ({hyper}): -1.0 (must be ")
