"""Switching to PyTorch (chapter 7): the MLP trained by torch and by adam_course ends with the
same weights.

Both start from the same initial weights and see the same minibatches, in float64. torch does
it the way a reader would write it after the book: ``torch.nn.Sequential`` of ``Linear`` and
``Tanh`` layers, ``cross_entropy``, autograd's ``backward()`` and ``torch.optim``'s
SGD with momentum, RMSprop and Adam. adam_course does it with ``nn.train``: backpropagation
written by hand and ``adam_course.optim``. After 57 steps the weights agree to 1e-10, for one
network and for three networks trained at once with a step size each.
"""

import numpy as np
import pytest
import torch  # test dependency (requirements-test.txt): missing torch fails, never skips

from adam_course import optim
from adam_course.data import load_digits
from adam_course.nn import MLP, train

EPOCHS, BATCH, N = 3, 16, 300
STEPS = EPOCHS * -(-N // BATCH)  # 3 epochs of 19 minibatches (the last one of 12 images)

OPTIMIZERS = {  # name: (adam_course factory, torch class, keyword arguments, step size)
    "momentum": (optim.sgd, torch.optim.SGD, dict(momentum=0.9), 0.05),
    "rmsprop": (optim.rmsprop, torch.optim.RMSprop, dict(alpha=0.99), 1e-3),
    "adam": (optim.adam, torch.optim.Adam, dict(betas=(0.9, 0.999)), 3e-3),
}


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return d.X_train[:N], d.y_train[:N]


def torch_network(model, params):
    """The MLP as torch.nn layers holding ``params`` (torch's Linear keeps W transposed)."""
    layers = []
    for W, b in model.unflatten(params):
        linear = torch.nn.Linear(*W.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b.copy()))
        layers += [linear, torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1])  # no tanh after the last layer: logits


def flat(network):
    """The torch network's weights as one flat vector in adam_course's layout."""
    linears = [m for m in network if isinstance(m, torch.nn.Linear)]
    return np.concatenate([np.concatenate([m.weight.detach().numpy().T.ravel(),
                                           m.bias.detach().numpy()]) for m in linears])


def train_in_torch(network, optimizer, X, y, seed, schedule=None):
    """The book's training loop in torch: the minibatches nn.train draws for this seed (and a
    torch.optim.lr_scheduler stepped after each step, if given)."""
    rng = np.random.default_rng(seed)
    X, y, steps = torch.from_numpy(X), torch.from_numpy(y), 0
    for _ in range(EPOCHS):
        order = torch.from_numpy(rng.permutation(len(X)))
        for start in range(0, len(X), BATCH):
            batch = order[start:start + BATCH]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(network(X[batch]), y[batch])
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            steps += 1
    return steps


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_one_network_trains_to_the_same_weights_as_in_torch(digits, name):
    X, y = digits
    ours, theirs, kwargs, lr = OPTIMIZERS[name]
    model = MLP((64, 16, 10), seed=3)
    start = model.init()
    params, _ = train(ours(lr=lr, **kwargs), model, start, X, y, epochs=EPOCHS,
                      batch_size=BATCH, seed=5)
    network = torch_network(model, start)
    steps = train_in_torch(network, theirs(network.parameters(), lr=lr, **kwargs), X, y, seed=5)
    assert steps == STEPS >= 50
    assert np.max(np.abs(params - flat(network))) < 1e-10
    assert np.max(np.abs(params - start)) > 0.05  # the weights did move


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_three_networks_at_once_train_to_the_weights_of_three_torch_networks(digits, name):
    """One batched call (a step size, an init seed and a shuffle seed per network) against
    three separate torch trainings."""
    X, y = digits
    ours, theirs, kwargs, lr = OPTIMIZERS[name]
    model = MLP((64, 16, 10))
    seeds, lrs = [0, 1, 2], lr * np.array([0.5, 1.0, 2.0])
    start = model.init(seed=seeds)
    params, _ = train(ours(lr=lrs, **kwargs), model, start, X, y, epochs=EPOCHS,
                      batch_size=BATCH, seed=seeds)
    for r in range(3):
        network = torch_network(model, start[r])
        train_in_torch(network, theirs(network.parameters(), lr=float(lrs[r]), **kwargs), X, y,
                       seed=seeds[r])
        assert np.max(np.abs(params[r] - flat(network))) < 1e-10, r


def test_the_comparison_sees_a_wrong_step_size(digits):
    """The tolerance can fail: Adam at 1.01 times the step size ends more than 1e-5 away."""
    X, y = digits
    model = MLP((64, 16, 10), seed=3)
    start = model.init()
    params, _ = train(optim.adam(lr=3e-3 * 1.01), model, start, X, y, epochs=EPOCHS,
                      batch_size=BATCH, seed=5)
    network = torch_network(model, start)
    train_in_torch(network, torch.optim.Adam(network.parameters(), lr=3e-3), X, y, seed=5)
    assert np.max(np.abs(params - flat(network))) > 1e-5


def test_a_schedule_through_lambdalr_trains_to_the_same_weights(digits):
    """Chapter 7's listing: torch's LambdaLR calls its function with k = 0 on the first step,
    the book's lr_schedule with t = 1; lambda k: f(k + 1) makes them the same schedule."""
    X, y = digits
    model = MLP((64, 16, 10), seed=3)
    start = model.init()

    def factor(t):  # a linear warm-up over 20 steps, then a cosine decay to 0 at STEPS
        return t / 20 if t <= 20 else 0.5 * (1 + np.cos(np.pi * (t - 20) / (STEPS - 20)))

    params, _ = train(optim.adam(lr=3e-3), model, start, X, y, epochs=EPOCHS, batch_size=BATCH,
                      seed=5, lr_schedule=lambda t: 3e-3 * factor(t))
    for shift, agree in [(1, True), (0, False)]:  # without the + 1: one step late
        network = torch_network(model, start)
        adam = torch.optim.Adam(network.parameters(), lr=3e-3)
        schedule = torch.optim.lr_scheduler.LambdaLR(adam, lambda k, s=shift: factor(k + s))
        train_in_torch(network, adam, X, y, seed=5, schedule=schedule)
        difference = np.max(np.abs(params - flat(network)))
        assert difference < 1e-10 if agree else difference > 1e-6


def test_the_chapters_cosine_is_torchs_cosine_annealing():
    """Chapter 7's cosine decay, alpha_t = alpha (1 + cos(pi (t - 1) / T)) / 2 for the steps
    t = 1 ... T, is CosineAnnealingLR(T_max=T) stepped after every optimizer step: the first
    step has the full step size, the last a small one, not 0."""
    steps, lr = 340, 0.01
    p = torch.nn.Parameter(torch.zeros(1))
    sgd = torch.optim.SGD([p], lr=lr)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max=steps)
    rates = []
    for _ in range(steps):
        rates.append(sgd.param_groups[0]["lr"])
        sgd.step()
        cosine.step()
    t = np.arange(1, steps + 1)
    np.testing.assert_allclose(rates, lr * 0.5 * (1 + np.cos(np.pi * (t - 1) / steps)),
                               rtol=1e-10, atol=1e-15)
    assert rates[0] == lr and 0 < rates[-1] < 1e-4 * lr
