"""Data sets: the digits (chapter 7) and two small synthetic problems (chapters 2, 4 and 6).

Weights ``w`` may carry a leading "runs" axis: ``w`` of shape ``(R, dim)`` is R independent
points, and ``loss``, ``grad`` and ``minibatch_grad`` answer for each (each run draws its own
minibatch).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import NamedTuple

import numpy as np

from adam_course import checks

__all__ = ["Digits", "load_digits", "digits_description", "stratified_split", "LinearRegression",
           "LogisticRegression"]


# --- the digits (for a network) -----------------------------------------------------------


class Digits(NamedTuple):
    """The digits split three ways: standardised float64 features and integer labels 0-9.

    What :func:`load_digits` returns (chapter 7). Train on the first pair, choose
    hyperparameters on the validation pair, and report on the test pair once."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_digits(validation_fraction: float = 0.2, test_fraction: float = 0.2,
                seed: int = 0) -> Digits:
    """The 1797 8x8 handwritten digits bundled with scikit-learn (no download). Chapter 7.

    A stratified, seeded split into training, validation and test sets: the test set gets
    ``ceil(test_fraction * 1797)`` images, the validation set ``ceil(validation_fraction *
    1797)`` (``validation_fraction=0`` leaves it empty), and each class is represented in
    every part in proportion to its size (:func:`stratified_split`). Each of the 64 pixel
    features is standardised with the mean and standard deviation of the *training* set (a
    pixel that is constant on the training set is only centred), so nothing about the
    validation or test images leaks into training.

    The images are read from scikit-learn's data file, the one ``sklearn.datasets.load_digits``
    reads, without importing scikit-learn (which takes seconds).
    """
    validation_fraction = checks.number(validation_fraction, "validation_fraction", lo=0, hi=1,
                                        hi_open=True)
    test_fraction = checks.number(test_fraction, "test_fraction", lo=0, hi=1, lo_open=True,
                                  hi_open=True)
    if validation_fraction + test_fraction >= 1:
        checks.fail("validation_fraction", validation_fraction,
                    f"a finite number < 1 - test_fraction = {1 - test_fraction:g}, so that "
                    "some images are left for training")
    seed = checks.integer(seed, "seed", lo=0)
    X, y = _digits_file()
    n_test, n_val = (int(np.ceil(f * len(y))) for f in (test_fraction, validation_fraction))
    rng = np.random.default_rng(seed)
    rest, test = stratified_split(y, n_test, rng)
    train, val = (rest[i] for i in stratified_split(y[rest], n_val, rng))
    mean = X[train].mean(axis=0)
    std = X[train].std(axis=0)
    std[std == 0] = 1.0
    return Digits(*((X[part] - mean) / std if k == 0 else y[part]
                    for part in (train, val, test) for k in (0, 1)))


def stratified_split(y, n_take, rng):
    """Indices ``(kept, taken)`` of labels ``y``: ``n_take`` of them taken at random, each class
    in proportion to its size (what :func:`load_digits` splits with).

    Class c of size n_c gets ``floor(n_take * n_c / n)`` places, and the places left over go to
    the classes with the largest remainders (ties to the smaller label); within a class the
    images are drawn without replacement by ``rng``. Both index arrays are sorted.
    """
    y = np.asarray(y)
    classes, sizes = np.unique(y, return_counts=True)
    quota = n_take * sizes / len(y)
    places = np.floor(quota).astype(int)
    left_over = n_take - places.sum()
    places[np.argsort(-(quota - places), kind="stable")[:left_over]] += 1
    taken = np.concatenate([rng.choice(np.flatnonzero(y == c), size=k, replace=False)
                            for c, k in zip(classes, places, strict=True)])
    mask = np.zeros(len(y), dtype=bool)
    mask[taken] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def digits_description() -> str:
    """scikit-learn's description of the digits (``load_digits().DESCR``), read from the same
    installation without importing it. Chapter 7: it says who wrote the 1,797 images."""
    return (_sklearn_datasets() / "descr" / "digits.rst").read_text(encoding="utf-8")


def _sklearn_datasets() -> Path:
    package = importlib.util.find_spec("sklearn")
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("load_digits reads the digits that scikit-learn ships: "
                                  "pip install scikit-learn")
    return Path(package.submodule_search_locations[0]) / "datasets"


def _digits_file():
    """The digits as scikit-learn ships them: 64 pixel values (0-16) and a label per row."""
    data = np.loadtxt(_sklearn_datasets() / "data" / "digits.csv.gz", delimiter=",")
    return data[:, :-1], data[:, -1].astype(np.int64)


# --- synthetic problems (chapters 2, 4, 6) ----------------------------------------------------


class _Problem:
    """Shared machinery: a data set (X, y) and a loss that is a mean over its n examples."""

    X: np.ndarray
    y: np.ndarray

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def dim(self) -> int:
        return self.X.shape[1]

    def _check_w(self, w) -> np.ndarray:
        w = np.asarray(w, dtype=np.float64)
        if w.ndim == 0 or w.shape[-1] != self.dim:
            checks.fail("w", checks.described(f"shape {w.shape}"), f"(..., {self.dim})")
        return w

    def _check_batch_size(self, batch_size) -> int:
        return checks.integer(batch_size, "batch_size", lo=1, hi=self.n)

    def loss(self, w) -> np.ndarray:
        """The loss on the full data set; shape ``w.shape[:-1]``."""
        return self.batch_loss(self._check_w(w), self.X, self.y)

    def grad(self, w) -> np.ndarray:
        """The exact gradient of :meth:`loss`; shape ``w.shape``."""
        return self.batch_grad(self._check_w(w), self.X, self.y)

    def minibatch_grad(self, w, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """The gradient on B examples drawn without replacement, an unbiased estimate of grad(w).

        Chapter 2. Each run of a leading runs axis draws its own minibatch from ``rng``.
        """
        w = self._check_w(w)
        batch_size = self._check_batch_size(batch_size)
        every = np.broadcast_to(np.arange(self.n), w.shape[:-1] + (self.n,))
        idx = rng.permuted(every, axis=-1)[..., :batch_size]
        return self.batch_grad(w, self.X[idx], self.y[idx])


def _linear(w, X) -> np.ndarray:
    """X w for each run: X of shape (..., n, dim), w of shape (..., dim) -> (..., n)."""
    return np.einsum("...nd,...d->...n", X, w)


def _transpose_times(r, X) -> np.ndarray:
    """X^T r / n for each run: r of shape (..., n) -> (..., dim)."""
    return np.einsum("...n,...nd->...d", r, X) / X.shape[-2]


class LinearRegression(_Problem):
    """A synthetic least-squares problem, L(w) = 1/(2n) ||X w - y||^2. Chapter 2.

    ``X`` has seeded standard Gaussian features multiplied by ``scales`` (chapter 4 gives the
    features different scales), ``y = X w_true + noise * N(0, 1)``. ``w_star`` is the
    least-squares solution, where the gradient vanishes.
    """

    def __init__(self, n: int = 1000, dim: int = 2, noise: float = 0.5, seed: int = 0,
                 scales=None):
        n, dim = checks.integer(n, "n", lo=1), checks.integer(dim, "dim", lo=1)
        self.noise = checks.number(noise, "noise", lo=0)
        scales = np.ones(dim) if scales is None else np.asarray(scales, dtype=np.float64)
        if scales.shape != (dim,) or not np.all(np.isfinite(scales) & (scales > 0)):
            checks.fail("scales", scales, f"{dim} finite numbers > 0")
        rng = np.random.default_rng(seed)
        self.scales = scales
        self.X = rng.standard_normal((n, dim)) * scales
        self.w_true = rng.standard_normal(dim)
        self.y = self.X @ self.w_true + self.noise * rng.standard_normal(n)
        self.w_star = np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    def batch_loss(self, w, X, y):
        """1/(2B) ||X w - y||^2 on any B rows (X, y) of a data set, e.g. a minibatch."""
        return 0.5 * np.mean((_linear(w, X) - y) ** 2, axis=-1)

    def batch_grad(self, w, X, y):
        """X^T (X w - y) / B, the gradient of :meth:`batch_loss` (chapter 2's exercise)."""
        return _transpose_times(_linear(w, X) - y, X)

    def grad_variance(self, w, batch_size: int, replace: bool = False) -> np.ndarray:
        """E||g_B - g||^2, the total variance of a size-B minibatch gradient g_B. Chapter 2.

        With per-example gradients g_i = x_i (x_i^T w - y_i), their mean g and their
        covariance S = (1/n) sum_i (g_i - g)(g_i - g)^T, sampling B examples
        *with* replacement gives tr(S) / B (the 1/B law); *without* replacement (what
        :meth:`minibatch_grad` does) multiplies that by the finite-population correction
        (n - B) / (n - 1), which is 0 when B = n. Shape ``w.shape[:-1]``.
        """
        w = self._check_w(w)
        batch_size = self._check_batch_size(batch_size)
        per_example = (_linear(w, self.X) - self.y)[..., None] * self.X  # (..., n, dim)
        spread = per_example - per_example.mean(axis=-2, keepdims=True)
        total = np.sum(spread**2, axis=(-2, -1)) / self.n / batch_size
        if replace or self.n == 1:
            return total
        return total * (self.n - batch_size) / (self.n - 1)


def _sigmoid(z):
    """1 / (1 + e^{-z}), without overflow for large |z|."""
    return np.exp(-np.logaddexp(0.0, -z))


class LogisticRegression(_Problem):
    """A synthetic binary classification problem with the mean log-loss. Chapter 6.

    Features are seeded standard Gaussians; labels y in {0, 1} are drawn with probability
    sigmoid(x^T w_true), so the classes are nearly, but not exactly, separable and the loss
    has a finite minimiser ``w_star`` (found by Newton's method). The loss is
    L(w) = (1/n) sum_i log(1 + exp(-s_i x_i^T w)) + (l2/2) ||w||^2 with s_i = 2 y_i - 1,
    computed with ``np.logaddexp`` so it never overflows.
    """

    def __init__(self, n: int = 500, dim: int = 10, seed: int = 0, l2: float = 0.0):
        n, dim = checks.integer(n, "n", lo=1), checks.integer(dim, "dim", lo=1)
        self.l2 = checks.number(l2, "l2", lo=0)
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((n, dim))
        self.w_true = rng.standard_normal(dim)
        self.y = (rng.random(n) < _sigmoid(self.X @ self.w_true)).astype(np.int64)
        self.w_star = self._newton()

    def batch_loss(self, w, X, y):
        """The mean log-loss (plus the l2 term) on any rows (X, y), e.g. a minibatch."""
        margins = (2 * y - 1) * _linear(w, X)
        return np.mean(np.logaddexp(0.0, -margins), axis=-1) + 0.5 * self.l2 * np.sum(w**2, -1)

    def batch_grad(self, w, X, y):
        """X^T (sigmoid(X w) - y) / B + l2 w, the gradient of :meth:`batch_loss`."""
        return _transpose_times(_sigmoid(_linear(w, X)) - y, X) + self.l2 * w

    def _newton(self, iterations: int = 50) -> np.ndarray:
        """The minimiser of the loss, by Newton's method with step halving."""
        w = np.zeros(self.dim)
        for _ in range(iterations):
            g = self.grad(w)
            if np.linalg.norm(g) < 1e-13:
                break
            p = _sigmoid(self.X @ w)
            hessian = (self.X.T * (p * (1 - p))) @ self.X / self.n + self.l2 * np.eye(self.dim)
            step = np.linalg.solve(hessian, g)
            size = 1.0
            while self.loss(w - size * step) > self.loss(w) and size > 1e-10:
                size /= 2
            w = w - size * step
        return w
