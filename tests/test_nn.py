"""The MLP of chapter 7: backprop against finite differences (and torch's autograd), the loss
against its closed form at a uniform prediction, training that learns, deterministically, and
R networks at once giving what R single networks give (tests/test_nn_torch.py trains it
against torch.optim)."""

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch  # test dependency (requirements-test.txt): missing torch fails, never skips
from reference import central_differences

from adam_course import nn, optim
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


def test_the_hidden_units_tanh_is_numpys_to_round_off_and_saturates_exactly():
    """nn computes tanh from exp (twice as fast); against np.tanh on 0, tiny, moderate and
    huge inputs, where e^(2a) underflows to 0 or overflows to inf without a warning."""
    a = np.concatenate([[0.0, 1e-300, -1e-300, 354.0, -354.0, 356.0, -356.0, 1e308, -1e308],
                        np.linspace(-20, 20, 4001)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = nn._tanh(a.copy())
    np.testing.assert_allclose(got, np.tanh(a), rtol=0, atol=5e-16)
    assert np.array_equal(got[5:9], [1.0, -1.0, 1.0, -1.0])
    assert np.all(np.abs(got) <= 1.0)


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
    assert set(history) == {"train_loss", "train_accuracy", "test_loss", "test_accuracy",
                            "minibatch_loss"}
    assert all(v.shape == (8,) for v in history.values())
    assert history["train_loss"][-1] < 0.2 * start
    assert history["train_loss"][-1] == pytest.approx(model.loss(params, X, y), rel=1e-12)
    assert history["train_accuracy"][-1] == model.accuracy(params, X, y)
    assert history["test_loss"][-1] == pytest.approx(model.loss(params, X_test, y_test),
                                                     rel=1e-12)
    assert history["test_accuracy"][-1] > 0.8  # chance is 0.1


def test_training_is_deterministic_under_the_seed(small_digits):
    X, y, _, _ = small_digits
    model = MLP((64, 8, 10), seed=1)

    def run(seed):
        return train(optim.sgd(lr=0.1, momentum=0.9), model, model.init(), X, y, epochs=2,
                     batch_size=50, seed=seed)

    (a, history_a), (b, history_b), (c, _) = run(0), run(0), run(1)
    np.testing.assert_array_equal(a, b)
    for key in history_a:
        np.testing.assert_array_equal(history_a[key], history_b[key])
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
    np.testing.assert_array_equal(history["train_loss"][:2], two_epochs["train_loss"])
    assert np.all(np.isfinite(two_epochs["train_loss"]))
    assert np.all(np.isnan(history["train_loss"][2:]))


def test_minibatch_loss_is_the_epochs_mean_loss_per_image_when_it_was_used(small_digits):
    """Against the loop written out by hand: each minibatch's mean loss, weighted by its size
    (the last minibatch of 300 images holds 12 of them), before the step it gives."""
    X, y, _, _ = small_digits
    model, sgd = MLP((64, 8, 10)), optim.sgd(lr=0.1, momentum=0.9)
    _, history = train(sgd, model, model.init(), X, y, epochs=2, batch_size=32, seed=5)
    params, state, rng = model.init(), sgd.init(model.init()), np.random.default_rng(5)
    for epoch in range(2):
        order, total = rng.permutation(len(X)), 0.0
        for start in range(0, len(X), 32):
            batch = order[start:start + 32]
            loss, grad = model.loss_and_grad(params, X[batch], y[batch])
            total += loss * len(batch)
            params, state = sgd.step(params, grad, state)
        assert history["minibatch_loss"][epoch] == pytest.approx(total / len(X), rel=1e-12)
    assert len(batch) == 12
    # not the training loss after the epoch: the weights moved while the epoch ran
    assert history["minibatch_loss"][0] > 1.2 * history["train_loss"][0]


def test_curves_chooses_the_data_sets_evaluated_after_every_epoch(digits_split):
    """curves=("val",): val after every epoch, the training set only after the last, with the
    same numbers as the default; the weights do not depend on it."""
    X, y, X_val, y_val = digits_split
    model, adam = MLP((64, 8, 10)), optim.adam(lr=np.array([0.01, 0.03]))
    args = dict(epochs=3, batch_size=40, seed=[0, 1], X_val=X_val, y_val=y_val)
    every, history = train(adam, model, model.init(seed=[0, 1]), X, y, **args)
    some, only_val = train(adam, model, model.init(seed=[0, 1]), X, y, curves=("val",), **args)
    np.testing.assert_array_equal(some, every)
    for key in ("val_loss", "val_accuracy", "minibatch_loss"):
        np.testing.assert_array_equal(only_val[key], history[key])
    for key in ("train_loss", "train_accuracy"):
        assert np.all(np.isnan(only_val[key][:, :2]))
        np.testing.assert_array_equal(only_val[key][:, 2], history[key][:, 2])
    _, at_the_end = train(adam, model, model.init(seed=[0, 1]), X, y, curves=(), **args)
    assert np.all(np.isnan(at_the_end["val_loss"][:, :2]))
    np.testing.assert_array_equal(at_the_end["val_loss"][:, 2], history["val_loss"][:, 2])


@pytest.mark.parametrize("curves", ["val", ("valid",), 3])
def test_bad_curves_raise_a_value_error_naming_them(digits_split, curves):
    X, y, _, _ = digits_split
    model = MLP((64, 4, 10))
    with pytest.raises(ValueError, match="curves"):
        train(optim.sgd(lr=0.1), model, model.init(), X, y, epochs=1, batch_size=40,
              curves=curves)


@pytest.mark.parametrize("sizes", [(), (64,), (64, 0, 10), (64, 2.5, 10), (True, 3), "ab", 5],
                         ids=str)
def test_bad_sizes_raise_a_value_error(sizes):
    with pytest.raises(ValueError, match="Invalid sizes"):
        MLP(sizes)


@pytest.mark.parametrize("call, match", [
    (lambda m, p: m.loss(p[:-1], np.zeros((2, 5)), [0, 1]),
     r"Invalid params: shape \(38,\) \(must be \(39,\) for one network or \(R, 39\) for R\)"),
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


@pytest.mark.parametrize("call, match", [
    (lambda m, p: m.loss(np.stack([p, p]), np.zeros((3, 2, 5)), np.zeros((3, 2), int)),
     r"Invalid X: shape \(3, 2, 5\) \(must be \(N, 5\) or \(2, N, 5\), one batch per network\)"),
    (lambda m, p: m.loss(p, np.zeros((2, 2, 5)), np.zeros((2, 2), int)),
     r"Invalid X: shape \(2, 2, 5\) \(must be \(N, 5\)\)"),
    (lambda m, p: m.loss(np.stack([p, p]), np.zeros((2, 5)), np.zeros((2, 2), int)),
     r"Invalid y: shape \(2, 2\), dtype int64 \(must be .* shape \(2,\)\)"),
    (lambda m, p: m.loss(np.stack([p, p]), np.zeros((2, 3, 5)), [[0, 1, 2], [0, 7, 1]]),
     r"Invalid y: label 7 at index \(1, 1\)"),
    (lambda m, p: m.loss(p[None, None], np.zeros((2, 5)), [0, 1]), r"Invalid params: shape"),
    (lambda m, p: train(optim.adam(), m, np.stack([p, p]), np.zeros((4, 5)), [0] * 4, epochs=1,
                        batch_size=2, seed=[0, 1, 2]),
     r"Invalid seed: 3 seeds \(must be an integer, or one integer per run .*\(R = 2\)\)"),
    (lambda m, p: train(optim.adam(), m, p, np.zeros((4, 5)), [0] * 4, epochs=1, batch_size=2,
                        seed=[0]), r"Invalid seed: 1 seeds"),
    (lambda m, p: train(optim.adam(), m, np.stack([p, p]), np.zeros((4, 5)), [0] * 4, epochs=1,
                        batch_size=2, seed=[0, -1]), r"Invalid seed\[1\]: -1"),
    (lambda m, p: train(optim.adam(), m, np.stack([p, p]), np.zeros((2, 4, 5)),
                        np.zeros((2, 4), int), epochs=1, batch_size=2),
     r"Invalid X: shape \(2, 4, 5\) \(must be \(N, 5\)\)"),
    (lambda m, p: train(optim.adam(), m, p, np.zeros((4, 5)), [0] * 4, epochs=1, batch_size=2,
                        X_val=np.zeros((3, 4)), y_val=[0] * 3), r"Invalid X: shape \(3, 4\)"),
    (lambda m, p: m.init(scale=-1.0), r"Invalid scale: -1.0"),
])
def test_bad_batched_arguments_raise_a_value_error_naming_them(call, match):
    model = MLP((5, 4, 3))
    with pytest.raises(ValueError, match=match):
        call(model, model.init())


# --- R networks at once ------------------------------------------------------------------------


def test_init_with_seeds_stacks_the_single_initialisations():
    model = MLP((6, 5, 3), seed=9)
    many = model.init(scale=0.5, seed=[4, 0, 4])
    assert many.shape == (3, model.n_params)
    for row, seed in zip(many, [4, 0, 4], strict=True):
        np.testing.assert_array_equal(row, MLP((6, 5, 3), seed=seed).init(scale=0.5))
    np.testing.assert_array_equal(model.init(), model.init(seed=9))


def test_unflatten_of_many_networks_gives_views_of_each_row():
    model = MLP((3, 2, 2))
    params = np.arange(3 * model.n_params, dtype=float).reshape(3, model.n_params)
    layers = model.unflatten(params)
    assert [W.shape for W, _ in layers] == [(3, 3, 2), (3, 2, 2)]
    for r in range(3):
        for (W, b), (W1, b1) in zip(layers, model.unflatten(params[r]), strict=True):
            np.testing.assert_array_equal(W[r], W1)
            np.testing.assert_array_equal(b[r], b1)
    layers[1][0][2, 1, 0] = -1.0
    assert params[2, 3 * 2 + 2 + 2] == -1.0


@pytest.mark.parametrize("one_batch_each", [False, True], ids=["shared batch", "a batch each"])
@pytest.mark.parametrize("sizes", [(5, 3), (5, 4, 3), (5, 4, 3, 3)], ids=str)
def test_many_networks_give_what_each_network_gives_alone(sizes, one_batch_each):
    """Loss, gradient, logits and accuracy of R = 4 networks against a loop over them (the
    batched products may round differently from single ones: 1e-13)."""
    model, _, X, y = tiny_problem(sizes, n=9)
    rng = np.random.default_rng(5)
    params = rng.normal(0.0, 0.7, (4, model.n_params))
    if one_batch_each:
        X = rng.standard_normal((4, 9, sizes[0]))
        y = rng.integers(0, sizes[-1], (4, 9))
    loss, grad = model.loss_and_grad(params, X, y)
    assert loss.shape == (4,) and grad.shape == params.shape
    for r in range(4):
        X_r, y_r = (X[r], y[r]) if one_batch_each else (X, y)
        loss_r, grad_r = model.loss_and_grad(params[r], X_r, y_r)
        assert loss[r] == pytest.approx(loss_r, rel=1e-13)
        np.testing.assert_allclose(grad[r], grad_r, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(model.logits(params, X)[r], model.logits(params[r], X_r),
                                   rtol=1e-13)
        assert model.accuracy(params, X, y)[r] == model.accuracy(params[r], X_r, y_r)
    np.testing.assert_allclose(model.loss(params, X, y), loss, rtol=1e-14)


def test_backprop_of_many_networks_matches_finite_differences():
    model, _, _, _ = tiny_problem((4, 3, 3))
    rng = np.random.default_rng(6)
    params = rng.normal(0.0, 0.7, (2, model.n_params))
    X, y = rng.standard_normal((2, 6, 4)), rng.integers(0, 3, (2, 6))
    _, grad = model.loss_and_grad(params, X, y)
    numeric = central_differences(lambda p: model.loss(p, X, y), params, h=1e-5)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.fixture(scope="module")
def digits_split():
    d = load_digits()
    return d.X_train[:240], d.y_train[:240], d.X_val[:80], d.y_val[:80]


@pytest.mark.parametrize("make", [
    lambda lr: optim.sgd(lr=lr, momentum=0.9),
    lambda lr: optim.rmsprop(lr=lr / 10),
    lambda lr: optim.adam(lr=lr / 10, betas=(0.9, 0.99)),
], ids=["momentum", "rmsprop", "adam"])
def test_training_many_networks_is_training_each_alone(digits_split, make):
    """Six networks, each its own init seed, shuffle seed and step size, trained in one call:
    each ends where training it alone ends, epoch by epoch."""
    X, y, X_val, y_val = digits_split
    model = MLP((64, 8, 10))
    seeds, lrs = [0, 1, 2, 0, 1, 2], np.array([0.02, 0.02, 0.02, 0.1, 0.1, 0.1])
    params, history = train(make(lrs), model, model.init(seed=seeds), X, y, epochs=3,
                            batch_size=25, seed=seeds, X_val=X_val, y_val=y_val)
    assert params.shape == (6, model.n_params)
    assert set(history) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy",
                            "minibatch_loss"}
    for r, (seed, lr) in enumerate(zip(seeds, lrs, strict=True)):
        alone, history_alone = train(make(lr), model, model.init(seed=seed), X, y, epochs=3,
                                     batch_size=25, seed=seed, X_val=X_val, y_val=y_val)
        np.testing.assert_allclose(params[r], alone, rtol=1e-10, atol=1e-12)
        for key, values in history.items():
            np.testing.assert_allclose(values[r], history_alone[key], rtol=1e-10)
    assert not np.allclose(params[0], params[3])  # the step size matters ...
    assert not np.allclose(params[0], params[1])  # ... and so does the seed


def test_one_seed_shares_every_minibatch(digits_split):
    X, y, _, _ = digits_split
    model, seen = MLP((64, 4, 10)), []
    opt = optim.sgd(lr=np.array([0.1, 0.2]))
    many, _ = train(opt, model, model.init(seed=[3, 3]), X, y, epochs=2, batch_size=40, seed=7,
                    on_step=lambda t, before, after, g, s: seen.append(g))
    one, _ = train(optim.sgd(lr=0.2), model, model.init(seed=3), X, y, epochs=2, batch_size=40,
                   seed=7)
    np.testing.assert_allclose(many[1], one, rtol=1e-12, atol=1e-14)
    # the first step of two identical networks on one shared batch: identical gradients
    np.testing.assert_array_equal(seen[0][0], seen[0][1])


def test_a_schedule_gives_each_step_its_step_size(digits_split):
    """lr_schedule(t) against the same SGD written out by hand over the same minibatches."""
    X, y, _, _ = digits_split
    model = MLP((64, 6, 10))
    schedule = [0.0, 0.05, 0.3, 0.01, 0.2, 0.1]
    got, _ = train(optim.sgd(lr=123.0), model, model.init(), X, y, epochs=1, batch_size=40,
                   seed=4, lr_schedule=lambda t: schedule[t - 1])
    params, order = model.init(), np.random.default_rng(4).permutation(len(X))
    for t in range(6):
        batch = order[40 * t:40 * t + 40]
        params = params - schedule[t] * model.loss_and_grad(params, X[batch], y[batch])[1]
    np.testing.assert_allclose(got, params, rtol=1e-12, atol=1e-15)


def test_on_step_sees_every_step_before_and_after(digits_split):
    X, y, _, _ = digits_split
    model, calls = MLP((64, 4, 10)), []
    final, _ = train(optim.adam(lr=np.array([0.01, 0.02])), model, model.init(seed=[0, 1]), X,
                     y, epochs=2, batch_size=60, seed=[0, 1],
                     on_step=lambda t, before, after, g, s: calls.append((t, before, after, s)))
    assert [c[0] for c in calls] == list(range(1, 9)) and calls[-1][3].t == 8
    np.testing.assert_array_equal(calls[0][1], model.init(seed=[0, 1]))
    for previous, current in zip(calls, calls[1:], strict=False):
        np.testing.assert_array_equal(previous[2], current[1])
    np.testing.assert_array_equal(calls[-1][2], final)


def test_a_diverging_network_does_not_stop_the_others(digits_split):
    """Run 1 blows up on step 5: it records nan from epoch 1 on and keeps its last finite
    params; runs 0 and 2 end exactly as they do without it."""
    X, y, X_val, y_val = digits_split
    model, adam, steps = MLP((64, 8, 10)), optim.adam(lr=np.array([0.01, 0.02, 0.03])), []

    def step(params, grad, state):
        steps.append(params.copy())
        params, state = adam.step(params, grad, state)
        if len(steps) == 5:
            params = params.copy()
            params[1] = np.inf
        return params, state

    exploding = SimpleNamespace(init=adam.init, step=step)
    params, history = train(exploding, model, model.init(seed=[0, 1, 2]), X, y, epochs=3,
                            batch_size=30, seed=[0, 1, 2], X_val=X_val, y_val=y_val)
    assert len(steps) == 3 * 8  # every step still taken, for the live runs
    np.testing.assert_array_equal(params[1], steps[4][1])  # frozen before its bad step
    for key, values in history.items():
        assert np.all(np.isnan(values[1])), key
        assert np.all(np.isfinite(values[[0, 2]])), key
    healthy, history_healthy = train(optim.adam(lr=np.array([0.01, 0.03])), model,
                                     model.init(seed=[0, 2]), X, y, epochs=3, batch_size=30,
                                     seed=[0, 2], X_val=X_val, y_val=y_val)
    np.testing.assert_allclose(params[[0, 2]], healthy, rtol=1e-12, atol=1e-15)
    for key, values in history.items():
        np.testing.assert_allclose(values[[0, 2]], history_healthy[key], rtol=1e-12)
