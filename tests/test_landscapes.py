"""Landscapes: exact gradients against finite differences, minima against closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import central_differences

from adam_course import landscapes

CASES = {
    "bowl": landscapes.bowl(),
    "rotated bowl": landscapes.bowl(curvatures=(0.5, 20.0), angle=0.7),
    "x^2": landscapes.bowl(curvatures=(2.0,)),
    "3-D bowl": landscapes.bowl(curvatures=(1.0, 3.0, 9.0)),
    "rosenbrock": landscapes.rosenbrock(),
    "rosenbrock(2, 5)": landscapes.rosenbrock(a=2.0, b=5.0),
    "beale": landscapes.beale(),
    "saddle": landscapes.saddle(),
    "hump": landscapes.hump(),
    "steep hump": landscapes.hump(tilt=1.2),
}



def points_in_window(landscape, shape, seed):
    rng = np.random.default_rng(seed)
    lo, hi = np.array(landscape.window).T
    return lo + (hi - lo) * rng.random((*shape, landscape.dim))


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_finite_differences_on_a_batch(name):
    landscape = CASES[name]
    x = points_in_window(landscape, (4, 3), seed=1)  # a (4, 3) batch of points
    g = landscape.grad(x)
    assert g.shape == x.shape
    assert landscape.f(x).shape == (4, 3)
    reference = central_differences(landscape.f, x)
    np.testing.assert_allclose(g, reference, rtol=1e-6, atol=1e-6 * (1 + np.abs(reference).max()))


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(CASES)), u=st.lists(st.floats(0, 1), min_size=3, max_size=3))
def test_gradient_matches_finite_differences_anywhere_in_the_window(name, u):
    landscape = CASES[name]
    lo, hi = np.array(landscape.window).T
    x = lo + (hi - lo) * np.array(u[: landscape.dim])
    reference = central_differences(landscape.f, x)
    np.testing.assert_allclose(landscape.grad(x), reference, rtol=1e-5,
                               atol=1e-6 * (1 + np.abs(reference).max()))


def test_a_batch_gives_the_same_numbers_as_one_point_at_a_time():
    landscape = CASES["beale"]
    x = points_in_window(landscape, (5,), seed=2)
    for i in range(5):
        assert landscape.f(x)[i] == pytest.approx(float(landscape.f(x[i])), rel=1e-14)
        np.testing.assert_allclose(landscape.grad(x)[i], landscape.grad(x[i]), rtol=1e-14)


# The minima from closed forms (the reference is the formula, not the code).
KNOWN_MINIMA = [
    (landscapes.bowl(), [0.0, 0.0], 0.0),
    (landscapes.rosenbrock(), [1.0, 1.0], 0.0),
    (landscapes.rosenbrock(a=2.0, b=5.0), [2.0, 4.0], 0.0),
    (landscapes.beale(), [3.0, 0.5], 0.0),
    (landscapes.saddle(), [0.0, 1.0], -0.25),
]


@pytest.mark.parametrize(("landscape", "point", "value"), KNOWN_MINIMA,
                         ids=[case[0].name for case in KNOWN_MINIMA])
def test_minimum_is_the_known_point_with_the_known_value(landscape, point, value):
    np.testing.assert_allclose(landscape.minimum, point, atol=1e-12)
    assert landscape.min_value == pytest.approx(value, abs=1e-12)
    assert float(landscape.f(landscape.minimum)) == pytest.approx(value, abs=1e-12)
    np.testing.assert_allclose(landscape.grad(landscape.minimum), 0.0, atol=1e-12)
    # a minimum, not just a stationary point: every small step goes uphill
    steps = 1e-3 * np.random.default_rng(0).standard_normal((50, landscape.dim))
    assert np.all(landscape.f(landscape.minimum + steps) > value)


def test_saddle_has_a_saddle_point_at_the_origin_and_two_minima():
    s = landscapes.saddle()
    np.testing.assert_allclose(s.grad(np.zeros(2)), 0.0)
    assert s.f(np.array([0.1, 0.0])) > 0 > s.f(np.array([0.0, 0.1]))  # up along x, down along y
    for m in s.minima:
        assert float(s.f(m)) == pytest.approx(-0.25)
        np.testing.assert_allclose(s.grad(m), 0.0, atol=1e-15)
    assert abs(s.start[1]) < 0.1 < abs(s.start[0])  # starts near the stable manifold y = 0


@pytest.mark.parametrize("tilt", [0.3, 0.05, 1.2])
def test_hump_points_match_a_brute_force_search(tilt):
    h = landscapes.hump(tilt=tilt)
    x = np.linspace(-1.8, 1.8, 360_001)[:, None]
    fx = h.f(x)
    top = h.hump_top[0]
    left = x[:, 0] < top
    assert h.local_minimum[0] == pytest.approx(x[left][np.argmin(fx[left])][0], abs=2e-5)
    assert h.minimum[0] == pytest.approx(x[np.argmin(fx)][0], abs=2e-5)
    between = (x[:, 0] > h.local_minimum[0]) & (x[:, 0] < h.minimum[0])
    assert top == pytest.approx(x[between][np.argmax(fx[between])][0], abs=2e-5)
    assert h.min_value == pytest.approx(fx.min(), abs=1e-9)
    for point in (h.local_minimum, h.hump_top, h.minimum):
        np.testing.assert_allclose(h.grad(point), 0.0, atol=1e-9)


def test_hump_local_minimum_is_worse_and_nearer_to_the_start():
    h = landscapes.hump()
    assert h.local_minimum[0] < -0.9 and h.minimum[0] > 0.9 and -0.5 < h.hump_top[0] < 0.5
    assert h.f(h.local_minimum) > h.f(h.minimum)
    assert h.f(h.hump_top) > h.f(h.local_minimum)
    assert h.start[0] < h.local_minimum[0]  # left of the worse minimum
    assert h.local_min_value == pytest.approx(float(h.f(h.local_minimum)))
    # (x^2 - 1)^2 - 0.3 x by hand at x = 0.5
    assert float(h.f(np.array([0.5]))) == pytest.approx(0.5625 - 0.15)


@pytest.mark.parametrize(("curvatures", "angle"),
                         [((1.0, 10.0), 0.0), ((0.5, 20.0), 0.7), ((3.0, 1.0, 9.0, 2.0), 0.0)])
def test_bowl_constants_match_the_eigenvalues_of_A(curvatures, angle):
    b = landscapes.bowl(curvatures=curvatures, angle=angle)
    eig = np.linalg.eigvalsh(b.A)
    np.testing.assert_allclose(b.A, b.A.T)
    np.testing.assert_allclose(eig, sorted(curvatures), rtol=1e-12)
    assert b.L == pytest.approx(eig.max())
    assert b.mu == pytest.approx(eig.min())
    assert b.kappa == pytest.approx(eig.max() / eig.min())


def test_rotated_bowl_has_its_curvatures_along_the_rotated_axes():
    theta = 0.7
    b = landscapes.bowl(curvatures=(0.5, 20.0), angle=theta)
    e1 = np.array([np.cos(theta), np.sin(theta)])
    e2 = np.array([-np.sin(theta), np.cos(theta)])
    for e, c in ((e1, 0.5), (e2, 20.0)):
        assert float(b.f(3 * e)) == pytest.approx(0.5 * c * 9)
        np.testing.assert_allclose(b.grad(3 * e), 3 * c * e, atol=1e-12)


def test_one_dimensional_bowl_is_x_squared():
    b = landscapes.bowl(curvatures=(2.0,))
    x = np.array([[-1.5], [0.3], [2.0]])
    np.testing.assert_allclose(b.f(x), x[:, 0] ** 2)
    np.testing.assert_allclose(b.grad(x), 2 * x)
    assert b.L == 2.0


@pytest.mark.parametrize("name", CASES)
def test_start_and_minimum_are_inside_the_window(name):
    landscape = CASES[name]
    lo, hi = np.array(landscape.window).T
    assert np.all(lo < landscape.start) and np.all(landscape.start < hi)
    assert np.all(lo < landscape.minimum) and np.all(landscape.minimum < hi)
    assert landscape.name in repr(landscape)


def test_bowl_window_holds_the_level_set_through_the_start():
    b = landscapes.bowl(curvatures=(1.0, 10.0), angle=0.4)
    t = np.linspace(0, 2 * np.pi, 400)
    circle = np.stack([np.cos(t), np.sin(t)], axis=-1)
    # scale each direction onto the level set f(x) = f(start)
    level = circle * np.sqrt(b.f(b.start) / b.f(circle))[:, None]
    lo, hi = np.array(b.window).T
    assert np.all((lo <= level) & (level <= hi))


def test_integer_points_are_accepted():
    b = landscapes.bowl()
    assert float(b.f(np.array([1, 1]))) == pytest.approx(5.5)
    assert b(np.array([1, 1])) == b.f(np.array([1.0, 1.0]))


def test_noisy_gradient_has_the_requested_mean_and_std():
    noisy = landscapes.stochastic(landscapes.bowl(), noise=0.3, seed=4)
    x = np.array([1.0, -2.0])
    draws = np.array([noisy.grad(x) for _ in range(4000)])  # a fresh draw per call
    exact = np.array([1.0, -20.0])  # A x with A = diag(1, 10)
    np.testing.assert_allclose(draws.mean(axis=0), exact, atol=4 * 0.3 / np.sqrt(4000))
    np.testing.assert_allclose(draws.std(axis=0), 0.3, rtol=0.05)
    # a batch gets independent noise per run
    batch = noisy.grad(np.tile(x, (4000, 1)))
    np.testing.assert_allclose(batch.std(axis=0), 0.3, rtol=0.05)


def test_noisy_gradient_is_reproducible_from_the_seed():
    def stream(seed):
        noisy = landscapes.stochastic(landscapes.rosenbrock(), noise=0.1, seed=seed)
        return np.array([noisy.grad(np.zeros(2)) for _ in range(3)])

    np.testing.assert_array_equal(stream(7), stream(7))
    assert not np.allclose(stream(7), stream(8))
    assert not np.allclose(stream(7)[0], stream(7)[1])  # successive calls differ


def test_noisy_landscape_keeps_f_and_exposes_the_exact_one():
    exact = landscapes.bowl()
    noisy = landscapes.stochastic(exact, noise=0.5)
    x = np.array([0.3, 0.4])
    assert noisy.exact is exact
    assert noisy.f(x) == exact.f(x)
    assert noisy.name == "noisy bowl" and noisy.kappa == exact.kappa
    np.testing.assert_array_equal(landscapes.stochastic(exact, noise=0.0).grad(x), exact.grad(x))


@pytest.mark.parametrize(("make", "argument"), [
    (lambda: landscapes.bowl(curvatures=(0.0, 1.0)), "curvatures"),
    (lambda: landscapes.bowl(curvatures=(-1.0, 1.0)), "curvatures"),
    (lambda: landscapes.bowl(curvatures=(np.nan, 1.0)), "curvatures"),
    (lambda: landscapes.bowl(curvatures=()), "curvatures"),
    (lambda: landscapes.bowl(curvatures=(1.0, 2.0, 3.0), angle=0.1), "angle"),
    (lambda: landscapes.rosenbrock(b=0.0), "b"),
    (lambda: landscapes.hump(tilt=0.0), "tilt"),
    (lambda: landscapes.hump(tilt=2.0), "tilt"),
    (lambda: landscapes.stochastic(landscapes.bowl(), noise=-0.1), "noise"),
    (lambda: landscapes.stochastic(landscapes.bowl(), noise=np.inf), "noise"),
    (lambda: landscapes.stochastic("bowl"), "landscape"),
    (lambda: landscapes.bowl().f(np.zeros(3)), "x"),
    (lambda: landscapes.bowl().grad(np.zeros((5, 1))), "x"),
    (lambda: landscapes.hump().grad(0.5), "x"),
])
def test_bad_arguments_raise_a_value_error_naming_them(make, argument):
    with pytest.raises(ValueError, match=rf"Invalid {argument}: "):
        make()


def test_every_factory_gives_its_default_landscape():
    assert set(landscapes.LANDSCAPES) == {"bowl", "rosenbrock", "beale", "saddle", "hump"}
    for name, factory in landscapes.LANDSCAPES.items():
        assert factory().name == name
