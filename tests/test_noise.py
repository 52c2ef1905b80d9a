"""The noisy hump: the runs are SGD with the right noise, and the explorers show them."""

import re

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from IPython.display import HTML  # noqa: E402

from adam_course import noise, plotting  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
TILT = 0.3


def hump_grad(x):
    """f'(x) for f(x) = (x^2 - 1)^2 - tilt x, written out independently of landscapes."""
    return 4 * x**3 - 4 * x - TILT


def roots():
    """The local minimum, the top of the hump and the global minimum: roots of f'."""
    return np.sort(np.roots([4.0, 0.0, -4.0, -TILT]).real)


def test_runs_are_sgd_with_seeded_gaussian_gradient_noise():
    xs = noise.hump_runs(lr=0.03, noise=1.5, steps=20, runs=5, seed=7)
    rng = np.random.default_rng(7)  # the stochastic landscape's own generator
    x = np.full((5, 1), -1.6)
    expected = [x[:, 0]]
    for _ in range(20):
        x = x - 0.03 * (hump_grad(x) + 1.5 * rng.standard_normal((5, 1)))
        expected.append(x[:, 0])
    assert xs.shape == (21, 5)
    np.testing.assert_allclose(xs, np.array(expected), rtol=1e-12)


def test_heavy_ball_momentum_is_torchs_form():
    xs = noise.hump_runs(lr=0.01, noise=0.0, steps=30, runs=2, momentum=0.9)
    x, buf = -1.6, None
    for _ in range(30):  # b = mu b + g (b_1 = g_1), x -= lr b
        g = hump_grad(x)
        buf = g if buf is None else 0.9 * buf + g
        x = x - 0.01 * buf
    np.testing.assert_allclose(xs[-1], [x, x], rtol=1e-12)


def test_without_noise_a_small_step_settles_in_the_nearer_worse_minimum():
    left, top, right = roots()
    xs = noise.hump_runs(lr=0.01, noise=0.0, steps=1000, runs=3)
    np.testing.assert_allclose(xs[-1], left, atol=1e-9)
    assert np.all(xs < top)  # never crossed the hump


def test_stationary_spread_around_the_minimum_matches_the_linearised_prediction():
    # Near a minimum with curvature c, x_t - x* ~ AR(1) with factor 1 - lr c and noise lr sigma:
    # stationary variance lr sigma^2 / (c (2 - lr c)).
    left, _, _ = roots()
    curvature = 12 * left**2 - 4
    lr, sigma = 0.01, 0.5
    xs = noise.hump_runs(lr=lr, noise=sigma, steps=1500, runs=200, seed=3)
    measured = np.var(xs[500:] - left)
    predicted = lr * sigma**2 / (curvature * (2 - lr * curvature))
    assert measured == pytest.approx(predicted, rel=0.1)
    assert np.all(xs[500:] < roots()[1])  # far too little noise to cross the hump


def test_a_diverging_run_becomes_nan_instead_of_raising():
    xs = noise.hump_runs(lr=1.0, noise=0.0, steps=30, runs=2)
    assert np.all(np.isnan(xs[-1]))
    assert np.isfinite(xs[0]).all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lr": 0.0}, "Invalid lr: 0.0"),
    ({"lr": -0.1}, "Invalid lr: -0.1"),
    ({"noise": -1.0}, "Invalid noise: -1.0"),
    ({"steps": 0}, "Invalid steps: 0"),
    ({"runs": 1.5}, "Invalid runs: 1.5"),
    ({"momentum": 1.0}, "Invalid momentum: 1.0"),
])
def test_bad_arguments_raise_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        noise.hump_runs(**kwargs)


@pytest.fixture(scope="module")
def explorer():
    return noise.hump_explorer(lr=0.05, noise=1.0, steps=100, runs=10)


def test_explorer_is_a_widget_showing_the_runs_of_its_settings(explorer):
    assert isinstance(explorer, ipywidgets.VBox)
    assert set(explorer.controls) == {"lr", "noise", "steps"}  # momentum only when asked
    explorer.controls["noise"].value = 2.0  # what dragging the slider does
    np.testing.assert_array_equal(explorer.xs, noise.hump_runs(0.05, 2.0, 100, 10))
    assert bytes(explorer.image.value).startswith(PNG)
    t, x = explorer.picture.paths.get_data()
    finite = np.isfinite(x)
    np.testing.assert_array_equal(np.sort(x[finite]), np.sort(explorer.xs.ravel()))
    assert explorer.picture.paths.get_color() == plotting.color("sgd")
    past = int(np.sum(explorer.xs[-1] > roots()[1]))
    assert f"noise = 2: {past} of 10 runs end past the hump" in explorer.picture.title.get_text()


def test_explorer_with_momentum_draws_in_momentums_colour():
    e = noise.hump_explorer(steps=50, runs=4, momentum=0.5)
    assert "momentum" in e.controls
    assert e.picture.paths.get_color() == plotting.color("momentum")
    assert "momentum = 0.5" in e.picture.title.get_text()


def test_a_bad_update_changes_nothing(explorer):
    # (redraw speed is measured by benchmarks/run.py, not asserted in a test)
    before = dict(explorer.settings)
    with pytest.raises(ValueError, match="Invalid setting: 'beta'"):
        explorer.update(beta=0.9)
    with pytest.raises(ValueError, match="Invalid lr"):
        explorer.update(lr=-1.0)
    assert explorer.settings == before


def frames(page):
    return re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]*)"', page)


def test_static_explorer_is_an_offline_animation_with_one_frame_per_value():
    html = noise.static_hump_explorer("noise", [0.0, 2.0, 4.0], steps=60, runs=8,
                                      alt="Runs on the hump.")
    assert isinstance(html, HTML)
    page = html.data
    assert len(frames(page)) == 3 and len(set(frames(page))) == 3
    assert 'alt="Runs on the hump."' in page
    assert "http://" not in page and "https://" not in page
    again = noise.static_hump_explorer("noise", [0.0, 2.0, 4.0], steps=60, runs=8,
                                       alt="Runs on the hump.")
    assert again.data == page  # reproducible, so the built site does not change for nothing


def test_static_explorer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Invalid param: 'beta'"):
        noise.static_hump_explorer("beta", [0.1])
    with pytest.raises(ValueError, match="Invalid values: 0 values"):
        noise.static_hump_explorer("noise", [])


def test_live_explorer_caps_steps_but_hump_runs_takes_longer_runs():
    with pytest.raises(ValueError, match=r"Invalid steps: 2000 \(must be an integer in \[1, 400"):
        noise.hump_explorer(steps=2000)
    assert noise.hump_runs(steps=1000, runs=2).shape == (1001, 2)
