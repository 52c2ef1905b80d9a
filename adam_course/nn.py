"""A small multilayer perceptron in numpy, with backpropagation written out by hand.

The parameters theta live in ONE flat float64 vector, so every optimizer of
:mod:`adam_course.optim` trains the network unchanged: ``theta, state = opt.step(theta, g, state)``.
:meth:`MLP.unflatten` shows the same memory as a list of layers ``(W_l, b_l)``.

Notation. A batch of N inputs h_0 = X (N x sizes[0]) goes through L layers:

    a_l = h_{l-1} W_l + b_l,    h_l = tanh(a_l)  for l < L,    logits a_L,

and the loss is the mean softmax cross-entropy

    L(theta) = (1/N) sum_n [logsumexp(a_L[n]) - a_L[n, y_n]].

Hidden units use tanh, not ReLU (micrograd's choice): tanh is smooth, so the finite-difference
check of the backward pass is exact to round-off (ReLU's kink at 0 makes such checks flaky), and
the network is small enough that ReLU's advantages on deep nets do not matter.
"""

from __future__ import annotations

import numbers

import numpy as np

from adam_course import checks

__all__ = ["MLP", "train"]


class MLP:
    """A tanh multilayer perceptron with a softmax cross-entropy output.

    ``sizes = (64, 32, 10)`` means 64 inputs, one hidden layer of 32 units and 10 classes.
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
        """The layers ``[(W_1, b_1), ..., (W_L, b_L)]`` as views into the flat vector."""
        params = self._check_params(params)
        layers, start = [], 0
        for m, k in self.shapes:
            W = params[start:start + m * k].reshape(m, k)
            b = params[start + m * k:start + m * k + k]
            layers.append((W, b))
            start += m * k + k
        return layers

    def init(self, scale: float = 1.0) -> np.ndarray:
        """Seeded Glorot initialisation, W_l ~ N(0, 2/(fan_in + fan_out)), b_l = 0; flat vector.

        Glorot's scale keeps tanh units away from saturation. ``scale`` multiplies every weight
        (``scale`` near 0 gives uniform predictions, a loss of ln K).
        """
        rng = np.random.default_rng(self.seed)
        params = np.zeros(self.n_params)
        for W, _ in self.unflatten(params):
            fan_in, fan_out = W.shape
            W[...] = scale * rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), W.shape)
        return params

    def logits(self, params, X) -> np.ndarray:
        """The output a_L for each row of X, before the softmax."""
        return self._forward(self.unflatten(params), self._check_X(X))[-1]

    def predict(self, params, X) -> np.ndarray:
        """The most likely class for each row of X."""
        return np.argmax(self.logits(params, X), axis=1)

    def accuracy(self, params, X, y) -> float:
        """The fraction of rows of X whose predicted class is y."""
        return float(np.mean(self.predict(params, X) == self._check_y(y, len(X))))

    def loss(self, params, X, y) -> float:
        """The mean softmax cross-entropy L(theta) on the batch (X, y)."""
        logits = self.logits(params, X)
        return _cross_entropy(logits, self._check_y(y, len(logits)))

    def loss_and_grad(self, params, X, y) -> tuple[float, np.ndarray]:
        """L(theta) and its gradient g (a flat vector like theta), by backpropagation.

        With delta_l = dL/da_l:
            delta_L = (softmax(a_L) - onehot(y)) / N
            dL/dW_l = h_{l-1}^T delta_l,   dL/db_l = sum over the batch of delta_l
            delta_{l-1} = (delta_l W_l^T) * (1 - h_{l-1}^2)      (tanh' = 1 - tanh^2)
        """
        layers = self.unflatten(params)
        X = self._check_X(X)
        y = self._check_y(y, len(X))
        hs = self._forward(layers, X)
        logits = hs[-1]
        loss = _cross_entropy(logits, y)
        delta = _softmax(logits)
        delta[np.arange(len(y)), y] -= 1.0
        delta /= len(y)
        grad = np.zeros(self.n_params)
        for (W, _), (gW, gb), h in zip(
            layers[::-1], self.unflatten(grad)[::-1], hs[-2::-1], strict=True
        ):
            gW[...] = h.T @ delta  # h = h_{l-1}, the input of layer l
            gb[...] = delta.sum(axis=0)
            delta = (delta @ W.T) * (1.0 - h**2)  # delta_{l-1} (unused after the first layer)
        return loss, grad

    # --- internals ----------------------------------------------------------------------------

    @staticmethod
    def _forward(layers, X) -> list[np.ndarray]:
        """[h_0, h_1, ..., h_{L-1}, a_L]: the input, the hidden activations and the logits."""
        hs = [X]
        for W, b in layers[:-1]:
            hs.append(np.tanh(hs[-1] @ W + b))
        W, b = layers[-1]
        hs.append(hs[-1] @ W + b)
        return hs

    def _check_params(self, params) -> np.ndarray:
        params = np.asarray(params)
        if params.shape != (self.n_params,):
            checks.fail("params", checks.described(f"shape {params.shape}"), f"({self.n_params},)")
        return params

    def _check_X(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            checks.fail("X", checks.described(f"shape {X.shape}"), f"(N, {self.sizes[0]})")
        return X

    def _check_y(self, y, n: int) -> np.ndarray:
        y, classes = np.asarray(y), self.sizes[-1]
        rule = f"{n} integer labels in [0, {classes})"
        if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
            checks.fail("y", checks.described(f"shape {y.shape}, dtype {y.dtype}"), rule)
        outside = (y < 0) | (y >= classes)
        if outside.any():
            i = int(np.argmax(outside))
            checks.fail("y", checks.described(f"label {y[i]} at index {i}"), rule)
        return y


def _log_softmax(logits) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)  # no overflow in exp
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def _softmax(logits) -> np.ndarray:
    return np.exp(_log_softmax(logits))


def _cross_entropy(logits, y) -> float:
    return float(-np.mean(_log_softmax(logits)[np.arange(len(y)), y]))


def train(optimizer, model: MLP, params, X, y, *, epochs: int, batch_size: int, seed: int = 0,
          X_test=None, y_test=None):
    """Minibatch training: each epoch visits the shuffled training set once.

    Every minibatch gives one ``params, state = optimizer.step(params, g, state)``. After
    each epoch ``history`` records ``train_loss`` (on the full training set) and, when test
    data are given, ``test_loss`` and ``test_accuracy``. A run that diverges (a step size too
    large: the gradient or the loss stops being finite) stops there; from that epoch on its
    history is nan, so a sweep over step sizes survives its diverging members.
    Returns ``(params, history)``; deterministic for a given ``seed``.
    """
    epochs = checks.integer(epochs, "epochs", lo=1)
    X, y = model._check_X(X), model._check_y(y, len(X))
    batch_size = checks.integer(batch_size, "batch_size", lo=1, hi=len(X))
    testing = X_test is not None and y_test is not None
    history = {"train_loss": []} | ({"test_loss": [], "test_accuracy": []} if testing else {})
    rng = np.random.default_rng(seed)
    state = optimizer.init(params)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, len(X), batch_size):
                batch = order[start:start + batch_size]
                _, grad = model.loss_and_grad(params, X[batch], y[batch])
                if not np.all(np.isfinite(grad)):
                    break  # diverged: the optimizers refuse non-finite gradients
                params, state = optimizer.step(params, grad, state)
            history["train_loss"].append(model.loss(params, X, y))
            if testing:
                history["test_loss"].append(model.loss(params, X_test, y_test))
                history["test_accuracy"].append(model.accuracy(params, X_test, y_test))
        if not np.all(np.isfinite(grad)) or not np.isfinite(history["train_loss"][-1]):
            for values in history.values():
                values[-1:] = [np.nan] * (epochs - len(values) + 1)
            break
    return params, history
