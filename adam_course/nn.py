"""A small multilayer perceptron in numpy, with backpropagation written out by hand.

The parameters theta of one network live in ONE flat float64 vector, so every optimizer of
:mod:`adam_course.optim` trains the network unchanged: ``theta, state = opt.step(theta, g, state)``.
:meth:`MLP.unflatten` shows the same memory as a list of layers ``(W_l, b_l)``.

Many networks at once. Like the optimizers, the network takes a leading "runs" axis: params of
shape ``(R, P)`` are R networks (``model.init(seed=[0, 1, 2])`` gives each its own seeded
initialisation), ``loss`` and ``loss_and_grad`` answer for each (shape ``(R,)`` and
``(R, P)``), and the matrix products become batched ones. The R networks see either one shared
batch, X of shape ``(B, n_in)``, or each its own, X of shape ``(R, B, n_in)``. :func:`train`
trains them together with any optimizer, whose hyperparameters may be arrays with one value per
run (``optim.adam(lr=np.geomspace(1e-4, 1e-1, R))``): a whole learning-rate sweep is one call.

Notation. A batch of N inputs h_0 = X (N x sizes[0]) goes through L layers:

    a_l = h_{l-1} W_l + b_l,    h_l = tanh(a_l)  for l < L,    logits a_L,

and the loss is the mean softmax cross-entropy

    L(theta) = (1/N) sum_n [logsumexp(a_L[n]) - a_L[n, y_n]].

Hidden units use tanh, not ReLU (micrograd's choice): tanh is smooth, so the finite-difference
check of the backward pass is exact to round-off (ReLU's kink at 0 makes such checks flaky), and
the network is small enough that ReLU's advantages on deep nets do not matter.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from threadpoolctl import threadpool_limits

from adam_course import checks

__all__ = ["MLP", "train"]


class MLP:
    """A tanh multilayer perceptron with a softmax cross-entropy output. Chapter 7.

    ``sizes = (64, 32, 10)`` means 64 inputs, one hidden layer of 32 units and 10 classes.
    Every method takes one network's params, shape ``(P,)``, or R networks', shape ``(R, P)``.
    """

    def __init__(self, sizes=(64, 32, 10), seed: int = 0):
        layers = tuple(sizes) if np.iterable(sizes) else ()
        if len(layers) < 2 or any(
            isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in layers
        ):
            checks.fail("sizes", sizes, "at least two positive integers")
        self.sizes = tuple(int(s) for s in layers)
        self.seed = seed
        self.shapes = list(zip(self.sizes[:-1], self.sizes[1:], strict=True))  # W_l is m x k
        self.n_params = sum(m * k + k for m, k in self.shapes)

    def __repr__(self) -> str:
        return f"MLP(sizes={self.sizes}, seed={self.seed})  # {self.n_params} parameters"

    def unflatten(self, params) -> list[tuple[np.ndarray, np.ndarray]]:
        """The layers ``[(W_1, b_1), ..., (W_L, b_L)]`` as views into the flat vector. Chapter 7.

        For R networks, params of shape ``(R, P)``, each W_l has shape ``(R, m, k)``
        and each b_l shape ``(R, k)``.
        """
        params = self._check_params(params)
        runs = params.shape[:-1]
        layers, start = [], 0
        for m, k in self.shapes:
            W = params[..., start:start + m * k].reshape(runs + (m, k))
            b = params[..., start + m * k:start + m * k + k]
            layers.append((W, b))
            start += m * k + k
        return layers

    def init(self, scale: float = 1.0, seed=None) -> np.ndarray:
        """Seeded Glorot initialisation, W_l ~ N(0, 2/(fan_in + fan_out)), b_l = 0. Chapter 7.

        Glorot's scale keeps tanh units away from saturation. ``scale`` multiplies every weight
        (``scale`` near 0 gives uniform predictions, a loss of ln K). ``seed`` defaults to the
        model's; a sequence of R seeds gives R networks, shape ``(R, P)``, row r initialised
        exactly as ``init(seed=seeds[r])``.
        """
        scale = checks.number(scale, "scale", lo=0)
        seed = self.seed if seed is None else seed
        if np.ndim(seed) == 1:
            return np.stack([self.init(scale, int(s)) for s in seed])
        rng = np.random.default_rng(seed)
        params = np.zeros(self.n_params)
        for W, _ in self.unflatten(params):
            fan_in, fan_out = W.shape
            W[...] = scale * rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), W.shape)
        return params

    def logits(self, params, X) -> np.ndarray:
        """The output a_L for each row of X, before the softmax: shape ``(N, K)``, or
        ``(R, N, K)`` for R networks."""
        params = self._check_params(params)
        return self._forward(self.unflatten(params), self._check_X(X, params))[-1]

    def predict(self, params, X) -> np.ndarray:
        """The most likely class for each row of X. Chapter 7."""
        return np.argmax(self.logits(params, X), axis=-1)

    def accuracy(self, params, X, y):
        """The fraction of rows of X whose predicted class is y (one per network). Chapter 7."""
        params, X, y = self._batch(params, X, y)
        logits = self._forward(self.unflatten(params), X)[-1]
        return _scalar_or_runs(np.mean(np.argmax(logits, axis=-1) == y, axis=-1))

    def loss(self, params, X, y):
        """The mean softmax cross-entropy L(theta) on the batch (X, y), one per network.

        Chapter 7.
        """
        params, X, y = self._batch(params, X, y)
        logits = self._forward(self.unflatten(params), X)[-1]
        return _scalar_or_runs(_cross_entropy(_log_softmax(logits), _onehot(y, logits.shape[-1])))

    def loss_and_grad(self, params, X, y):
        """L(theta) and its gradient g (shaped like theta), by backpropagation. Chapter 7.

        With delta_l = dL/da_l:
            delta_L = (softmax(a_L) - onehot(y)) / N
            dL/dW_l = h_{l-1}^T delta_l,   dL/db_l = sum over the batch of delta_l
            delta_{l-1} = (delta_l W_l^T) * (1 - h_{l-1}^2)      (tanh' = 1 - tanh^2)

        For R networks every product is a batched one (numpy's ``@`` on stacks of matrices):
        the loss has shape ``(R,)`` and the gradient ``(R, P)``.
        """
        params, X, y = self._batch(params, X, y)
        layers = self.unflatten(params)
        hs = self._forward(layers, X)
        log_p, onehot = _log_softmax(hs[-1]), _onehot(y, self.sizes[-1])
        loss = _cross_entropy(log_p, onehot)
        delta = np.exp(log_p) - onehot  # softmax(a_L) - onehot(y)
        delta /= X.shape[-2]
        grad = np.empty(params.shape)
        for k, ((W, _), (gW, gb), h) in enumerate(
            zip(layers[::-1], self.unflatten(grad)[::-1], hs[-2::-1], strict=True)
        ):
            gW[...] = _times(np.swapaxes(h, -1, -2), delta)  # h = h_{l-1}, the input of layer l
            gb[...] = delta.sum(axis=-2)
            if k < len(layers) - 1:  # delta_{l-1}; none is needed for the input X
                delta = (delta @ np.swapaxes(W, -1, -2)) * (1.0 - h**2)
        return _scalar_or_runs(loss), grad

    # --- internals ----------------------------------------------------------------------------

    @staticmethod
    def _forward(layers, X) -> list[np.ndarray]:
        """[h_0, h_1, ..., h_{L-1}, a_L]: the input, the hidden activations and the logits."""
        hs = [X]
        for W, b in layers[:-1]:
            hs.append(_tanh(_times(hs[-1], W) + b[..., None, :]))
        W, b = layers[-1]
        hs.append(_times(hs[-1], W) + b[..., None, :])
        return hs

    def _check_params(self, params) -> np.ndarray:
        params = np.asarray(params)
        if params.ndim not in (1, 2) or params.shape[-1] != self.n_params:
            checks.fail("params", checks.described(f"shape {params.shape}"),
                        f"({self.n_params},) for one network or (R, {self.n_params}) for R")
        return params

    def _check_X(self, X, params) -> np.ndarray:
        """A batch shared by every network, (N, n_in), or for R networks one each, (R, N, n_in)."""
        X = np.asarray(X, dtype=np.float64)
        n_in, runs = self.sizes[0], params.shape[:-1]
        if X.ndim < 2 or X.shape[-1] != n_in or X.shape[:-2] not in ((), runs):
            one_each = f" or ({runs[0]}, N, {n_in}), one batch per network" if runs else ""
            checks.fail("X", checks.described(f"shape {X.shape}"), f"(N, {n_in}){one_each}")
        return X

    def _check_y(self, y, shape) -> np.ndarray:
        """Integer labels, one per row of X: shape X.shape[:-1]."""
        y, classes = np.asarray(y), self.sizes[-1]
        rule = f"integer labels in [0, {classes}), one per row of X: shape {shape}"
        if y.shape != tuple(shape) or not np.issubdtype(y.dtype, np.integer):
            checks.fail("y", checks.described(f"shape {y.shape}, dtype {y.dtype}"), rule)
        outside = (y < 0) | (y >= classes)
        if outside.any():
            i = tuple(int(k) for k in np.unravel_index(int(np.argmax(outside)), y.shape))
            i = i[0] if y.ndim == 1 else i
            checks.fail("y", checks.described(f"label {y[i]} at index {i}"), rule)
        return y

    def _batch(self, params, X, y):
        """params, X and y checked against each other."""
        params = self._check_params(params)
        X = self._check_X(X, params)
        return params, X, self._check_y(y, X.shape[:-1])


def _times(A, B):
    """The matrix product A @ B, also for a matrix A shared by a stack B of R matrices.

    numpy's ``@`` broadcasts a 2-D A against a 3-D B without BLAS (hundreds of times slower
    on a full data set), so that case is done as ONE product with the R matrices of B side
    by side: (n, m) @ (m, R k), then back to (R, n, k).
    """
    if A.ndim == 2 and B.ndim == 3:
        runs, m, k = B.shape
        wide = A @ B.transpose(1, 0, 2).reshape(m, runs * k)
        return wide.reshape(len(A), runs, k).transpose(1, 0, 2)
    return A @ B


def _tanh(a):
    """tanh(a) = 1 - 2 / (e^(2a) + 1), computed in a's own memory.

    Equal to ``np.tanh`` within 5e-16, and in half its time: numpy's ``exp`` is vectorised on
    common CPUs, its ``tanh`` is not, and tanh was a third of the cost of a training step. At
    ``|a| > 355`` the exponential is 0 or inf and the result exactly -1 or 1.
    """
    with np.errstate(over="ignore"):
        np.multiply(a, 2.0, out=a)
        np.exp(a, out=a)
    a += 1.0
    np.divide(-2.0, a, out=a)
    a += 1.0
    return a


def _scalar_or_runs(values):
    """A float for one network, the array of R values for R networks."""
    return float(values) if np.ndim(values) == 0 else values


def _log_softmax(logits) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)  # no overflow in exp
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _onehot(y, classes) -> np.ndarray:
    """1.0 where k == y_n, else 0.0: shape y.shape + (classes,)."""
    return (y[..., None] == np.arange(classes)).astype(np.float64)


def _cross_entropy(log_p, onehot) -> np.ndarray:
    """The mean over the batch (axis -2) of -log softmax(a_L)[y], from log_p = log softmax."""
    return -np.mean(np.sum(log_p * onehot, axis=-1), axis=-1)


def _seeds(seed, runs):
    """One seed for every run (a shared shuffle), or a sequence of R seeds (one each)."""
    if np.ndim(seed) == 0:
        return checks.integer(seed, "seed", lo=0)
    seeds = [checks.integer(s, f"seed[{i}]", lo=0) for i, s in enumerate(np.asarray(seed).tolist())]
    if runs is None or len(seeds) != runs:
        checks.fail("seed", checks.described(f"{len(seeds)} seeds"),
                    "an integer, or one integer per run for params of shape (R, P)"
                    + (f" (R = {runs})" if runs else ""))
    return seeds


_SETS = ("train", "val", "test")


def train(optimizer, model: MLP, params, X, y, *, epochs: int, batch_size: int, seed=0,
          X_val=None, y_val=None, X_test=None, y_test=None, lr_schedule=None, on_step=None,
          curves=_SETS):
    """Minibatch training: each epoch visits the shuffled training set once. Chapter 7.

    Every minibatch gives one ``params, state = optimizer.step(params, g, state)``. Params of
    shape ``(R, P)`` train R networks at once, each with the optimizer's per-run
    hyperparameters. ``seed`` fixes the shuffling: one integer shuffles the same way for every
    run (they share each minibatch), a sequence of R integers gives run r the shuffle of
    ``seed[r]``, so that it sees exactly the minibatches of a single network trained with
    ``seed=seed[r]``.

    ``lr_schedule(t)``, if given, is the step size of step t = 1, 2, ... (a number, or one per
    run): a warm-up or a decay. ``on_step(t, before, after, grads, state)``, if given, is
    called after each step with the params before and after it (to watch the steps).

    ``history`` records ``train_loss`` and ``train_accuracy`` on the full training set and,
    for data given, ``val_loss``, ``val_accuracy``, ``test_loss`` and ``test_accuracy``:
    arrays of shape ``(epochs,)``, or ``(R, epochs)`` for R networks. The data sets named in
    ``curves`` (all three by default) are evaluated after every epoch, the others only after
    the last (nan before it): evaluating the 1,077 training images costs about a third of an
    epoch of training, so a sweep that needs only final numbers passes ``curves=()``.
    ``minibatch_loss`` is free and always there: the epoch's mean minibatch loss, each image's
    loss taken when its minibatch was used (what Keras prints as the epoch's loss). A run that
    diverges (its gradient or its params stop being finite) is frozen there and records nan
    from that epoch on; the others go on, so a sweep over step sizes survives its diverging
    members. Returns ``(params, history)``; deterministic for a given ``seed``.
    """
    epochs = checks.integer(epochs, "epochs", lo=1)
    params = model._check_params(params)
    runs = params.shape[:-1]
    one = params[0] if runs else params  # every data set is shared by the runs: (N, n_in)
    _, X, y = model._batch(one, X, y)
    batch_size = checks.integer(batch_size, "batch_size", lo=1, hi=len(X))
    seeds = _seeds(seed, runs[0] if runs else None)
    sets = {"train": (X, y)}
    for name, (X_set, y_set) in {"val": (X_val, y_val), "test": (X_test, y_test)}.items():
        if X_set is not None and y_set is not None:
            sets[name] = model._batch(one, X_set, y_set)[1:]
    if isinstance(curves, str) or not np.iterable(curves) or not set(curves) <= set(_SETS):
        checks.fail("curves", curves, 'a collection of "train", "val" and "test", e.g. ("val",)')
    history = {f"{name}_{what}": np.full(runs + (epochs,), np.nan)
               for name in sets for what in ("loss", "accuracy")}
    history["minibatch_loss"] = np.full(runs + (epochs,), np.nan)

    shuffles = ([np.random.default_rng(s) for s in seeds] if isinstance(seeds, list)
                else np.random.default_rng(seeds))
    state = optimizer.init(params)
    alive = np.ones(runs, dtype=bool)
    t = 0
    # One BLAS thread: these products are small, and handing them to a second thread costs
    # more than it saves (on a busy 2-core machine, tens of times more).
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(over="ignore",
                                                                       invalid="ignore"):
        for epoch in range(epochs):
            order = (np.stack([rng.permutation(len(X)) for rng in shuffles])
                     if isinstance(shuffles, list) else shuffles.permutation(len(X)))
            seen = np.zeros(runs)  # the sum of the epoch's minibatch losses, times B
            for start in range(0, len(X), batch_size):
                batch = order[..., start:start + batch_size]
                loss, grad = model.loss_and_grad(params, X[batch], y[batch])
                seen += loss * batch.shape[-1]
                alive &= _finite_rows(grad)
                if not alive.any():
                    break
                t += 1
                kwargs = {} if lr_schedule is None else {"lr": lr_schedule(t)}
                if alive.all():
                    new, state = optimizer.step(params, grad, state, **kwargs)
                else:  # a diverged run steps on a zero gradient and is then put back
                    new, state = optimizer.step(params, np.where(alive[..., None], grad, 0.0),
                                                state, **kwargs)
                alive &= _finite_rows(new)
                if on_step is not None:
                    on_step(t, params, new, grad, state)
                params = new if alive.all() else np.where(alive[..., None], new, params)
                if not alive.any():
                    break
            history["minibatch_loss"][..., epoch] = np.where(alive, seen / len(X), np.nan)
            for name, (X_set, y_set) in sets.items():
                if name not in curves and epoch < epochs - 1:
                    continue
                loss, accuracy = _loss_and_accuracy(model, params, X_set, y_set)
                history[f"{name}_loss"][..., epoch] = np.where(alive, loss, np.nan)
                history[f"{name}_accuracy"][..., epoch] = np.where(alive, accuracy, np.nan)
            if not alive.any():
                break
    return params, history


def _finite_rows(a):
    """Whether each run's row of ``a`` is finite; one cheap sum when all of them are."""
    if math.isfinite(a.sum()):
        return np.ones(a.shape[:-1], dtype=bool)
    return np.all(np.isfinite(a), axis=-1)


def _loss_and_accuracy(model, params, X, y):
    """Loss and accuracy from one forward pass (what train records after each epoch)."""
    logits = model._forward(model.unflatten(params), X)[-1]
    loss = _cross_entropy(_log_softmax(logits), _onehot(y, logits.shape[-1]))
    return loss, np.mean(np.argmax(logits, axis=-1) == y, axis=-1)
