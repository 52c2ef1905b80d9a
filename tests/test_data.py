"""Data sets: gradients against finite differences, minimisers against independent solvers,
the minibatch gradient's mean and variance against simulation, the digits split against sklearn."""

import itertools
import subprocess
import sys

import numpy as np
import pytest
from reference import central_differences
from sklearn.datasets import load_digits as sklearn_digits
from sklearn.linear_model import LogisticRegression as SklearnLogistic
from sklearn.metrics import log_loss

from adam_course.data import (
    LinearRegression,
    LogisticRegression,
    digits_description,
    load_digits,
    stratified_split,
)

PROBLEMS = {
    "linear": lambda: LinearRegression(n=200, dim=3, noise=0.5, seed=1),
    "linear-scaled": lambda: LinearRegression(n=100, dim=2, seed=2, scales=(1.0, 10.0)),
    "logistic": lambda: LogisticRegression(n=150, dim=4, seed=3),
    "logistic-l2": lambda: LogisticRegression(n=150, dim=4, seed=4, l2=0.1),
}



@pytest.mark.parametrize("make", PROBLEMS.values(), ids=PROBLEMS.keys())
@pytest.mark.parametrize("shape", [(), (5,)], ids=["one run", "five runs"])
def test_gradient_matches_finite_differences(make, shape):
    problem = make()
    w = np.random.default_rng(0).standard_normal(shape + (problem.dim,))
    np.testing.assert_allclose(problem.grad(w), central_differences(problem.loss, w),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("make", PROBLEMS.values(), ids=PROBLEMS.keys())
def test_runs_axis_gives_each_run_its_own_answer(make):
    problem = make()
    w = np.random.default_rng(1).standard_normal((4, problem.dim))
    np.testing.assert_allclose(problem.loss(w), [problem.loss(row) for row in w], rtol=1e-14)
    np.testing.assert_allclose(problem.grad(w), [problem.grad(row) for row in w], rtol=1e-14)


def test_linear_loss_is_half_the_mean_squared_residual():
    p = LinearRegression(n=50, dim=3, seed=5)
    w = np.array([0.3, -1.0, 2.0])
    assert p.loss(w) == pytest.approx(sum((p.X @ w - p.y) ** 2) / (2 * 50), rel=1e-13)


def test_w_star_solves_the_normal_equations_and_zeroes_the_gradient():
    p = LinearRegression(n=300, dim=4, noise=0.3, seed=6, scales=(1, 2, 3, 4))
    normal = np.linalg.solve(p.X.T @ p.X, p.X.T @ p.y)
    np.testing.assert_allclose(p.w_star, normal, rtol=1e-10)
    np.testing.assert_allclose(p.grad(p.w_star), 0.0, atol=1e-12)
    assert p.loss(p.w_star) < p.loss(p.w_true)  # least squares beats the truth on its own data


def test_noiseless_data_recover_w_true():
    p = LinearRegression(n=20, dim=3, noise=0.0, seed=7)
    np.testing.assert_allclose(p.w_star, p.w_true, rtol=1e-12)
    assert p.loss(p.w_true) < 1e-28


def test_logistic_loss_matches_sklearn_log_loss():
    p = LogisticRegression(n=200, dim=5, seed=8)
    w = np.random.default_rng(2).standard_normal(5)
    probability = 1 / (1 + np.exp(-(p.X @ w)))
    assert p.loss(w) == pytest.approx(log_loss(p.y, probability), rel=1e-10)


def test_logistic_loss_is_stable_for_huge_margins():
    p = LogisticRegression(n=100, dim=3, seed=9)
    w = 1e4 * p.w_true
    assert np.isfinite(p.loss(w)) and np.all(np.isfinite(p.grad(w)))


@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_logistic_w_star_matches_sklearn(l2):
    p = LogisticRegression(n=400, dim=5, seed=10, l2=l2)
    # sklearn minimises C * sum(log-loss) + ||w||^2 / 2, i.e. ours with l2 = 1 / (C n)
    C = 1 / (l2 * p.n) if l2 else np.inf
    ref = SklearnLogistic(C=C, fit_intercept=False, tol=1e-12, max_iter=10_000).fit(p.X, p.y)
    np.testing.assert_allclose(p.w_star, ref.coef_[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p.grad(p.w_star), 0.0, atol=1e-10)


def test_logistic_labels_are_binary_and_mostly_follow_w_true():
    p = LogisticRegression(n=500, dim=10, seed=0)
    assert set(np.unique(p.y)) == {0, 1}
    agreement = np.mean((p.X @ p.w_true > 0) == (p.y == 1))
    assert 0.75 < agreement < 1.0  # "separable-ish": mostly, not exactly, separable


@pytest.mark.parametrize("make", PROBLEMS.values(), ids=PROBLEMS.keys())
def test_minibatch_gradient_is_unbiased(make):
    problem = make()
    w = problem.w_true + 1.0  # away from the minimum, where the batch gradients vary
    rng = np.random.default_rng(11)
    samples = problem.minibatch_grad(np.broadcast_to(w, (4000, problem.dim)), 10, rng)
    standard_error = samples.std(axis=0, ddof=1) / np.sqrt(len(samples))
    assert np.all(np.abs(samples.mean(axis=0) - problem.grad(w)) < 4.5 * standard_error)


def test_each_run_draws_its_own_minibatch():
    p = LinearRegression(n=100, dim=2, seed=12)
    g = p.minibatch_grad(np.zeros((3, 2)), 5, np.random.default_rng(0))
    assert not np.allclose(g[0], g[1]) and not np.allclose(g[1], g[2])


def test_a_full_batch_without_replacement_is_the_full_gradient():
    p = LinearRegression(n=40, dim=2, seed=13)
    w = np.array([1.0, -2.0])
    np.testing.assert_allclose(p.minibatch_grad(w, 40, np.random.default_rng(0)), p.grad(w),
                               rtol=1e-12)
    assert p.grad_variance(w, 40) == 0.0


@pytest.mark.parametrize("batch_size", [1, 8, 50])
def test_grad_variance_matches_simulation_with_and_without_replacement(batch_size):
    p = LinearRegression(n=100, dim=2, seed=14)
    w = np.array([2.0, -1.0])
    rng = np.random.default_rng(15)
    runs = 20_000
    without = p.minibatch_grad(np.broadcast_to(w, (runs, 2)), batch_size, rng)
    rows = rng.integers(0, p.n, size=(runs, batch_size))  # with replacement, sampled here
    with_ = np.einsum("rb,rbd->rd", p.X[rows] @ w - p.y[rows], p.X[rows]) / batch_size
    for samples, replace in [(without, False), (with_, True)]:
        empirical = np.mean(np.sum((samples - p.grad(w)) ** 2, axis=1))
        # the relative standard error of a mean of 20k squared norms is ~1-3% here
        assert empirical == pytest.approx(p.grad_variance(w, batch_size, replace=replace),
                                          rel=0.08)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 6])
def test_grad_variance_is_the_exact_mean_over_every_possible_minibatch(batch_size):
    """Enumerate all C(n, B) minibatches (without replacement) and all n^B draws (with): the
    mean of |g_B - g|^2 over them is grad_variance, exactly (here n = 6)."""
    p = LinearRegression(n=6, dim=2, seed=17)
    w = np.array([0.5, -1.5])
    g = p.grad(w)

    def mean_square_error(batches):
        batches = np.array(list(batches))
        return np.mean([np.sum((p.batch_grad(w, p.X[b], p.y[b]) - g) ** 2) for b in batches])

    without = mean_square_error(itertools.combinations(range(6), batch_size))
    with_ = mean_square_error(itertools.product(range(6), repeat=batch_size))
    np.testing.assert_allclose(p.grad_variance(w, batch_size), without, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(p.grad_variance(w, batch_size, replace=True), with_, rtol=1e-12)


def test_grad_variance_follows_the_one_over_b_law_with_replacement():
    p = LinearRegression(n=500, dim=3, seed=16)
    w = np.zeros(3)
    variances = [p.grad_variance(w, b, replace=True) for b in (1, 2, 4, 8)]
    np.testing.assert_allclose(np.array(variances) * [1, 2, 4, 8], variances[0], rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: LinearRegression(n=0), r"Invalid n: 0"),
    (lambda: LinearRegression(n=10.5), r"Invalid n: 10.5"),
    (lambda: LinearRegression(n=True), r"Invalid n: True"),
    (lambda: LinearRegression(dim=-2), r"Invalid dim: -2"),
    (lambda: LinearRegression(noise=-0.1), r"Invalid noise: -0.1"),
    (lambda: LinearRegression(noise=np.nan), r"Invalid noise: nan"),
    (lambda: LinearRegression(dim=2, scales=(1.0, 0.0)), r"Invalid scales"),
    (lambda: LinearRegression(dim=2, scales=(1.0,)), r"Invalid scales"),
    (lambda: LogisticRegression(n=-1), r"Invalid n: -1"),
    (lambda: LogisticRegression(l2=-1.0), r"Invalid l2: -1.0"),
    (lambda: LinearRegression(n=10).minibatch_grad(np.zeros(2), 0, np.random.default_rng()),
     r"Invalid batch_size: 0"),
    (lambda: LinearRegression(n=10).minibatch_grad(np.zeros(2), 11, np.random.default_rng()),
     r"Invalid batch_size: 11"),
    (lambda: LinearRegression(n=10).grad_variance(np.zeros(2), 2.0), r"Invalid batch_size: 2.0"),
    (lambda: LinearRegression(dim=2).grad(np.zeros(3)), r"Invalid w: shape \(3,\)"),
])
def test_bad_arguments_raise_a_value_error_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- the digits (chapter 7) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_split_sizes_and_types(digits):
    sizes = [len(digits.X_train), len(digits.X_val), len(digits.X_test)]
    assert sizes == [1077, 360, 360] and sum(sizes) == 1797  # ceil(0.2 * 1797) = 360 twice
    for X, y in [(digits.X_train, digits.y_train), (digits.X_val, digits.y_val),
                 (digits.X_test, digits.y_test)]:
        assert X.shape == (len(y), 64) and X.dtype == np.float64
        assert np.issubdtype(y.dtype, np.integer) and set(np.unique(y)) == set(range(10))


def test_digits_split_is_stratified(digits):
    overall = np.bincount(sklearn_digits(return_X_y=True)[1], minlength=10)
    for part in (digits.y_val, digits.y_test):
        assert np.all(np.abs(np.bincount(part, minlength=10) - overall * 360 / 1797) <= 1)
    labels = np.concatenate([digits.y_train, digits.y_val, digits.y_test])
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), overall)


def test_digits_are_sklearns_images_split_and_standardised_on_the_training_part(digits):
    """Against scikit-learn's own loader (the same images, read independently), split by
    stratified_split as documented (test part first, then validation from the rest, one rng),
    and standardised with the raw training mean and standard deviation."""
    X, y = sklearn_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    rest, test = stratified_split(y, 360, rng)
    train, val = (rest[i] for i in stratified_split(y[rest], 360, rng))
    assert len(np.unique(np.concatenate([train, val, test]))) == 1797  # a partition
    scale = np.where(X[train].std(axis=0) > 0, X[train].std(axis=0), 1.0)
    for part, ours, labels in [(train, digits.X_train, digits.y_train),
                               (val, digits.X_val, digits.y_val),
                               (test, digits.X_test, digits.y_test)]:
        np.testing.assert_allclose(ours, (X[part] - X[train].mean(axis=0)) / scale, atol=1e-12)
        np.testing.assert_array_equal(labels, y[part])
    std = digits.X_train.std(axis=0)
    np.testing.assert_allclose(digits.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(std[std > 0], 1.0, rtol=1e-12)
    assert abs(digits.X_val.mean()) > 1e-3  # not standardised on its own statistics


def test_digits_description_is_scikit_learns_descr():
    """The text chapter 7 quotes: the 1,797 images were written by 13 people (the UCI test set)."""
    text = digits_description()
    assert text == sklearn_digits().DESCR
    assert "1797" in text and "different 13" in text


def test_load_digits_does_not_import_scikit_learn():
    code = ("import sys; from adam_course.data import load_digits, digits_description; "
            "load_digits(); digits_description(); "
            "assert 'sklearn' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_stratified_split_takes_each_class_in_proportion():
    y = sklearn_digits(return_X_y=True)[1]
    kept, taken = stratified_split(y, 500, np.random.default_rng(3))
    assert len(taken) == 500 and len(kept) == 1297
    assert np.all(np.diff(kept) > 0) and np.all(np.diff(taken) > 0)
    assert np.array_equal(np.union1d(kept, taken), np.arange(1797))
    sizes = np.bincount(y, minlength=10)
    assert np.all(np.abs(np.bincount(y[taken], minlength=10) - 500 * sizes / 1797) < 1)


def test_stratified_split_gives_left_over_places_to_the_largest_remainders():
    y = np.array([0] * 5 + [1] * 3 + [2] * 2)  # quotas 2.5, 1.5, 1.0 for 5 places
    _, taken = stratified_split(y, 5, np.random.default_rng(0))
    assert list(np.bincount(y[taken], minlength=3)) == [3, 1, 1]  # the tie goes to label 0
    y = np.array([2] * 7 + [0] * 2 + [1] * 1)  # quotas 2.1, 0.6, 0.3 for 3 places
    _, taken = stratified_split(y, 3, np.random.default_rng(0))
    assert list(np.bincount(y[taken], minlength=3)) == [1, 0, 2]


def test_stratified_split_draws_every_image_of_a_class_equally_often():
    y = np.array([0] * 6 + [1] * 4)
    counts = np.zeros(10)
    rng = np.random.default_rng(4)
    for _ in range(4000):
        counts[stratified_split(y, 5, rng)[1]] += 1  # 3 of class 0, 2 of class 1 each time
    expected = np.r_[np.full(6, 4000 * 3 / 6), np.full(4, 4000 * 2 / 4)]
    # binomial standard deviation at most sqrt(4000 / 4) ~ 32: allow 4.5 of them
    assert np.all(np.abs(counts - expected) < 4.5 * np.sqrt(4000 * 0.25))


def test_digits_fractions_and_an_empty_validation_set():
    d = load_digits(validation_fraction=0.0, test_fraction=0.25)
    assert (len(d.X_train), len(d.X_val), len(d.X_test)) == (1347, 0, 450)
    assert d.X_val.shape == (0, 64) and d.y_val.shape == (0,)
    d = load_digits(validation_fraction=0.1, test_fraction=0.3)
    assert (len(d.X_val), len(d.X_test)) == (180, 540)


def test_digits_are_deterministic_under_the_seed(digits):
    again, other = load_digits(seed=0), load_digits(seed=1)
    for a, b in zip(digits, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(digits.y_test, other.y_test)
    assert not np.array_equal(digits.y_val, other.y_val)


@pytest.mark.parametrize("kwargs, match", [
    (dict(test_fraction=1.0), r"Invalid test_fraction: 1.0"),
    (dict(test_fraction=0.0), r"Invalid test_fraction: 0.0"),
    (dict(validation_fraction=-0.1), r"Invalid validation_fraction: -0.1"),
    (dict(validation_fraction=0.5, test_fraction=0.5),
     r"Invalid validation_fraction: 0.5 \(must be a finite number < 1 - test_fraction = 0.5"),
    (dict(seed=-1), r"Invalid seed: -1"),
    (dict(seed=1.5), r"Invalid seed: 1.5"),
])
def test_bad_digits_arguments_raise_a_value_error_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_digits(**kwargs)
