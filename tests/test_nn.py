"""The MLP of chapter 7: backprop against finite differences (and torch's autograd), the loss
against its closed form at a uniform prediction, and training that learns, deterministically."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch  # test dependency (requirements-test.txt): missing torch fails, never skips

from adam_course import optim
from adam_course.data import load_digits
from adam_course.nn import MLP, train


def tiny_problem(sizes=(5, 4, 3, 3), n=7, seed=0):
    rng = np.random.default_rng(seed)
    model = MLP(sizes, seed=seed)
    params = rng.normal(0.0, 0.7, model.n_params)  # nonzero biases too
    return model, params, rng.standard_normal((n, sizes[0])), rng.integers(0, sizes[-1], n)


@pytest.mark.parametrize("sizes", [(5, 3), (5, 4, 3), (5, 4, 3, 3)], ids=str)
def test_backprop_matches_central_finite_differences(sizes):
    model, params, X, y = tiny_problem(sizes)
    loss, grad = model.loss_and_grad(params, X, y)
    assert loss == model.loss(params, X, y)
    h = 1e-5
    numeric = np.empty_like(params)
    for i in range(len(params)):
        e = np.zeros_like(params)
        e[i] = h
        numeric[i] = (model.loss(params + e, X, y) - model.loss(params - e, X, y)) / (2 * h)
    relative = np.linalg.norm(grad - numeric) / np.linalg.norm(numeric)
    assert relative < 1e-6


def test_loss_and_grad_match_torch_autograd():
    model, params, X, y = tiny_problem()
    loss, grad = model.loss_and_grad(params, X, y)
    tensors = [tuple(torch.tensor(a.copy(), requires_grad=True) for a in layer)
               for layer in model.unflatten(params)]
    h = torch.tensor(X)
    for i, (W, b) in enumerate(tensors):
        h = h @ W + b
        h = torch.tanh(h) if i < len(tensors) - 1 else h
    reference = torch.nn.functional.cross_entropy(h, torch.tensor(y))
    reference.backward()
    assert loss == pytest.approx(reference.item(), rel=1e-13)
    torch_grad = np.concatenate([np.concatenate([W.grad.numpy().ravel(), b.grad.numpy()])
                                 for W, b in tensors])
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-12, atol=1e-15)


def test_loss_at_a_small_init_is_ln_10():
    model = MLP((64, 32, 10), seed=0)
    X = np.random.default_rng(1).standard_normal((50, 64))
    y = np.arange(50) % 10
    assert model.loss(model.init(scale=1e-4), X, y) == pytest.approx(math.log(10), abs=1e-4)


def test_loss_is_stable_for_huge_logits():
    model, params, X, y = tiny_problem()
    loss, grad = model.loss_and_grad(1e4 * params, X, y)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))


def test_init_is_seeded_glorot_with_zero_biases():
    model = MLP((64, 32, 10), seed=3)
    params = model.init()
    np.testing.assert_array_equal(params, MLP((64, 32, 10), seed=3).init())
    assert not np.array_equal(params, MLP((64, 32, 10), seed=4).init())
    (W1, b1), (W2, b2) = model.unflatten(params)
    assert W1.shape == (64, 32) and b1.shape == (32,) and W2.shape == (32, 10)
    assert model.n_params == 64 * 32 + 32 + 32 * 10 + 10 == params.size
    assert np.all(b1 == 0) and np.all(b2 == 0)
    assert W1.std() == pytest.approx(math.sqrt(2 / (64 + 32)), rel=0.05)


def test_unflatten_gives_views_into_the_flat_vector():
    model = MLP((3, 2, 2))
    params = np.zeros(model.n_params)
    W, b = model.unflatten(params)[1]
    W[1, 0], b[1] = 5.0, 7.0
    assert params[3 * 2 + 2 + 2] == 5.0 and params[-1] == 7.0


def test_predict_and_accuracy():
    model, params, X, _ = tiny_problem()
    predicted = model.predict(params, X)
    np.testing.assert_array_equal(predicted, np.argmax(model.logits(params, X), axis=1))
    assert model.accuracy(params, X, predicted) == 1.0
    assert model.accuracy(params, X, (predicted + 1) % 3) == 0.0


@pytest.fixture(scope="module")
def small_digits():
    d = load_digits()
    return d.X_train[:300], d.y_train[:300], d.X_test[:100], d.y_test[:100]


def test_adam_training_reduces_the_loss_and_learns(small_digits):
    X, y, X_test, y_test = small_digits
    model = MLP((64, 16, 10), seed=0)
    params = model.init()
    start = model.loss(params, X, y)
    params, history = train(optim.adam(lr=1e-2), model, params, X, y, epochs=8, batch_size=32,
                            X_test=X_test, y_test=y_test)
    assert set(history) == {"train_loss", "test_loss", "test_accuracy"}
    assert all(len(v) == 8 for v in history.values())
    assert history["train_loss"][-1] < 0.2 * start
    assert history["train_loss"][-1] == pytest.approx(model.loss(params, X, y))
    assert history["test_accuracy"][-1] > 0.8  # chance is 0.1


def test_training_is_deterministic_under_the_seed(small_digits):
    X, y, _, _ = small_digits
    model = MLP((64, 8, 10), seed=1)

    def run(seed):
        return train(optim.sgd(lr=0.1, momentum=0.9), model, model.init(), X, y, epochs=2,
                     batch_size=50, seed=seed)

    (a, history_a), (b, history_b), (c, _) = run(0), run(0), run(1)
    np.testing.assert_array_equal(a, b)
    assert history_a == history_b
    assert not np.array_equal(a, c)  # another seed, another shuffling


def test_train_takes_one_optimizer_step_per_minibatch_and_never_mutates(small_digits):
    X, y, _, _ = small_digits
    model = MLP((64, 4, 10))
    seen = []
    recorder = SimpleNamespace(init=lambda p: 0,
                               step=lambda p, g, s: (seen.append(g.shape) or p - 0.0, s + 1))
    params = model.init()
    before = params.copy()
    train(recorder, model, params, X, y, epochs=3, batch_size=64)
    assert len(seen) == 3 * math.ceil(300 / 64) and set(seen) == {(model.n_params,)}
    np.testing.assert_array_equal(params, before)


def test_a_run_that_stops_being_finite_records_nan_and_does_not_raise(small_digits):
    X, y, _, _ = small_digits
    model, sgd, steps = MLP((64, 8, 10)), optim.sgd(lr=0.1), []

    def step(params, grad, state):  # sgd that blows up on its 5th step
        steps.append(1)
        params, state = sgd.step(params, grad, state)
        return (params * np.inf if len(steps) == 5 else params), state

    exploding = SimpleNamespace(init=sgd.init, step=step)
    _, history = train(exploding, model, model.init(), X, y, epochs=4, batch_size=30)
    assert len(steps) == 5  # optim would refuse the non-finite gradient of step 6
    assert len(history["train_loss"]) == 4 and np.all(np.isnan(history["train_loss"]))


def test_a_run_that_diverges_later_keeps_its_earlier_epochs(small_digits):
    """Blows up in epoch 3 (step 25, with 10 steps an epoch): epochs 1-2 are what a run of 2
    epochs records on its own, epochs 3-5 are nan."""
    X, y, _, _ = small_digits
    model, sgd, steps = MLP((64, 8, 10)), optim.sgd(lr=0.1), []

    def step(params, grad, state):
        steps.append(1)
        params, state = sgd.step(params, grad, state)
        return (params * np.inf if len(steps) == 25 else params), state

    exploding = SimpleNamespace(init=sgd.init, step=step)
    _, history = train(exploding, model, model.init(), X, y, epochs=5, batch_size=30)
    _, two_epochs = train(sgd, model, model.init(), X, y, epochs=2, batch_size=30)
    assert len(history["train_loss"]) == 5
    assert history["train_loss"][:2] == two_epochs["train_loss"]
    assert np.all(np.isfinite(two_epochs["train_loss"]))
    assert np.all(np.isnan(history["train_loss"][2:]))


@pytest.mark.parametrize("sizes", [(), (64,), (64, 0, 10), (64, 2.5, 10), (True, 3), "ab", 5],
                         ids=str)
def test_bad_sizes_raise_a_value_error(sizes):
    with pytest.raises(ValueError, match="Invalid sizes"):
        MLP(sizes)


@pytest.mark.parametrize("call, match", [
    (lambda m, p: m.loss(p[:-1], np.zeros((2, 5)), [0, 1]),
     r"Invalid params: shape \(38,\) \(must be \(39,\)\)"),
    (lambda m, p: m.loss(p, np.zeros((2, 4)), [0, 1]), r"Invalid X: shape \(2, 4\)"),
    (lambda m, p: m.loss(p, np.zeros((2, 5)), [0, 3]), r"Invalid y"),
    (lambda m, p: m.loss(p, np.zeros((2, 5)), [0.0, 1.0]), r"Invalid y"),
    (lambda m, p: train(optim.adam(), m, p, np.zeros((4, 5)), [0] * 4, epochs=0, batch_size=2),
     r"Invalid epochs: 0"),
    (lambda m, p: train(optim.adam(), m, p, np.zeros((4, 5)), [0] * 4, epochs=1, batch_size=5),
     r"Invalid batch_size: 5"),
])
def test_bad_arguments_raise_a_value_error_naming_them(call, match):
    model = MLP((5, 4, 3))
    with pytest.raises(ValueError, match=match):
        call(model, model.init())
