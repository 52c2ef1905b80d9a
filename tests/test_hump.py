"""The noisy hump: the runs are SGD with the right noise, and the explorers show them.

References: the hump's derivative and its roots written out here, SGD and the heavy ball as
plain loops over the same seeded normal draws, and the linearised stationary spread.
"""

import re

import ipywidgets
import numpy as np
import pytest

from adam_course import catalog, hump, picture

PNG = b"\x89PNG\r\n\x1a\n"
TILT = 0.3


def hump_grad(x):
    """f'(x) for f(x) = (x^2 - 1)^2 - tilt x, written out independently of landscapes."""
    return 4 * x**3 - 4 * x - TILT


def roots():
    """The local minimum, the top of the hump and the global minimum: roots of f'."""
    return np.sort(np.roots([4.0, 0.0, -4.0, -TILT]).real)


def test_runs_are_sgd_with_seeded_gaussian_gradient_noise():
    xs = hump.sgd_runs(lr=0.03, noise=1.5, steps=20, runs=5, seed=7)
    rng = np.random.default_rng(7)  # the stochastic landscape's own generator
    x = np.full((5, 1), -1.6)
    expected = [x[:, 0]]
    for _ in range(20):
        x = x - 0.03 * (hump_grad(x) + 1.5 * rng.standard_normal((5, 1)))
        expected.append(x[:, 0])
    assert xs.shape == (21, 5)
    np.testing.assert_allclose(xs, np.array(expected), rtol=1e-12)


def test_heavy_ball_momentum_is_torchs_form():
    xs = hump.sgd_runs(lr=0.01, noise=0.0, steps=30, runs=2, momentum=0.9)
    x, buf = -1.6, None
    for _ in range(30):  # b = mu b + g (b_1 = g_1), x -= lr b
        g = hump_grad(x)
        buf = g if buf is None else 0.9 * buf + g
        x = x - 0.01 * buf
    np.testing.assert_allclose(xs[-1], [x, x], rtol=1e-12)


def test_without_noise_a_small_step_settles_in_the_nearer_worse_minimum():
    left, top, right = roots()
    xs = hump.sgd_runs(lr=0.01, noise=0.0, steps=1000, runs=3)
    np.testing.assert_allclose(xs[-1], left, atol=1e-9)
    assert np.all(xs < top)  # never crossed the hump


def test_stationary_spread_around_the_minimum_matches_the_linearised_prediction():
    # Near a minimum with curvature c, x_t - x* ~ AR(1) with factor 1 - lr c and noise lr sigma:
    # stationary variance lr sigma^2 / (c (2 - lr c)).
    left, _, _ = roots()
    curvature = 12 * left**2 - 4
    lr, sigma = 0.01, 0.5
    xs = hump.sgd_runs(lr=lr, noise=sigma, steps=1500, runs=200, seed=3)
    measured = np.var(xs[500:] - left)
    predicted = lr * sigma**2 / (curvature * (2 - lr * curvature))
    assert measured == pytest.approx(predicted, rel=0.1)
    assert np.all(xs[500:] < roots()[1])  # far too little noise to cross the hump


def test_a_diverging_run_becomes_nan_and_the_others_are_the_plain_loop():
    xs = hump.sgd_runs(lr=0.15, noise=4.0, steps=40, runs=6, seed=1)
    lost = ~np.isfinite(xs[-1])
    assert lost.any() and not lost.all()  # some runs pass |x| = 1000, not all
    rng, x = np.random.default_rng(1), np.full((6, 1), -1.6)
    for _ in range(40):  # the same draws, the same steps, for the runs that survive
        with np.errstate(over="ignore", invalid="ignore"):
            x = x - 0.15 * (hump_grad(x) + 4.0 * rng.standard_normal((6, 1)))
    np.testing.assert_allclose(xs[-1][~lost], x[~lost, 0], rtol=1e-12)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lr": 0.0}, "Invalid lr: 0.0 (must be a finite number > 0)"),
    ({"lr": -0.1}, "Invalid lr: -0.1"),
    ({"noise": -1.0}, "Invalid noise: -1.0 (must be a finite number >= 0)"),
    ({"steps": 0}, "Invalid steps: 0 (must be an integer in [1, 2000])"),
    ({"runs": 1.5}, "Invalid runs: 1.5"),
    ({"momentum": 1.0}, "Invalid momentum: 1.0 (must be a finite number in [0, 1))"),
])
def test_bad_arguments_raise_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        hump.sgd_runs(**kwargs)


@pytest.fixture(scope="module")
def explorer():
    return hump.explorer(lr=0.05, noise=1.0, steps=100, runs=10)


def test_explorer_is_a_widget_showing_the_runs_of_its_settings(explorer):
    assert isinstance(explorer, ipywidgets.VBox)
    assert set(explorer.controls) == {"lr", "noise", "steps"}  # momentum only when asked
    explorer.controls["noise"].value = 2.0  # what the reader's slider move does
    np.testing.assert_array_equal(explorer.xs, hump.sgd_runs(0.05, 2.0, 100, 10))
    assert bytes(explorer.image.value).startswith(PNG)
    t, x = explorer.picture.paths.get_data()
    finite = np.isfinite(x)
    np.testing.assert_array_equal(np.sort(x[finite]), np.sort(explorer.xs.ravel()))
    assert explorer.picture.paths.get_color() == catalog.entry("sgd").color
    past = int(np.sum(explorer.xs[-1] > roots()[1]))
    assert f"noise = 2, 100 steps: {past} of 10 runs end past the hump" in explorer.caption.value


def test_the_caption_names_the_step_count_so_a_longer_diverged_run_still_shows_the_move():
    # once every run has diverged, the picture of 150 steps equals that of 100: only the
    # caption tells the reader that the steps slider moved (the site's explorer does the same)
    e = hump.explorer(lr=0.4, noise=1.0, steps=100, runs=4)
    assert "4 diverged" in e.caption.value and "100 steps" in e.caption.value
    e.controls["steps"].value = 150
    assert "150 steps" in e.caption.value and "100 steps" not in e.caption.value


def test_every_readout_is_written_as_the_title_writes_the_value_used():
    e = hump.explorer(lr=0.0123, steps=50, runs=4, momentum=0.5)
    assert e.controls["lr"].label == "0.0123" and "lr = 0.0123," in e.caption.value
    for key in ("lr", "noise", "momentum"):
        for index in range(len(e.controls[key].options)):
            e.controls[key].index = index  # a key press on the slider
            assert f"{key} = {e.controls[key].label}" in e.caption.value
            assert float(e.controls[key].label) == e.settings[key]
    e.update(noise=0.3)  # a value set in code joins the slider
    assert e.controls["noise"].label == "0.3" and "noise = 0.3," in e.caption.value


def test_explorer_with_momentum_draws_in_momentums_colour():
    e = hump.explorer(steps=50, runs=4, momentum=0.5)
    assert "momentum" in e.controls
    assert e.picture.paths.get_color() == catalog.entry("momentum").color
    assert "momentum = 0.5" in e.caption.value


def test_the_time_axis_stays_put_so_the_background_is_drawn_once(explorer, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the background was redrawn")

    monkeypatch.setattr(explorer.picture.figure.canvas, "draw", fail)
    for steps in (10, 200, 400):
        explorer.controls["steps"].value = steps
        assert explorer.xs.shape[0] == steps + 1
        assert np.nanmax(explorer.picture.paths.get_data()[0]) == steps


def test_a_bad_update_changes_nothing(explorer):
    # (redraw speed is measured by benchmarks/run.py, not asserted in a test)
    before = dict(explorer.settings)
    with pytest.raises(ValueError, match=re.escape("Invalid setting: 'beta' (must be one of")):
        explorer.update(beta=0.9)
    with pytest.raises(ValueError, match="Invalid lr"):
        explorer.update(lr=-1.0)
    assert explorer.settings == before


def test_live_explorer_caps_steps_but_sgd_runs_takes_longer_runs():
    with pytest.raises(ValueError, match=r"Invalid steps: 2000 \(must be an integer in \[1, 400"):
        hump.explorer(steps=2000)
    assert hump.sgd_runs(steps=1000, runs=2).shape == (1001, 2)


def test_static_explorer_is_an_animation_with_one_frame_per_value(monkeypatch):
    shown = []
    original = hump.HumpPicture.show
    monkeypatch.setattr(hump.HumpPicture, "show",
                        lambda self, *frame: shown.append(frame) or original(self, *frame))
    animation = hump.static_explorer("noise", [0.0, 2.0, 4.0], steps=60, runs=8,
                                     alt="Runs on the hump.")
    assert isinstance(animation, picture.Animation)
    assert len(animation.frames) == 3 and len(set(animation.frames)) == 3
    assert animation.labels == ["noise = 0", "noise = 2", "noise = 4"]
    frames = [frame for frame in shown if len(frame) == 3]  # (the browser's background: 2)
    for (xs, name, title), noise in zip(frames, (0.0, 2.0, 4.0), strict=True):
        np.testing.assert_array_equal(xs, hump.sgd_runs(0.05, noise, 60, 8))
        assert name == "sgd" and title.startswith(f"SGD, lr = 0.05, noise = {noise:g}, 60 steps: ")
    assert animation.alt == "Runs on the hump."
    again = hump.static_explorer("noise", [0.0, 2.0, 4.0], steps=60, runs=8,
                                 alt="Runs on the hump.")
    assert again.html == animation.html  # reproducible: a rebuilt site does not change


def test_static_explorer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Invalid param: 'beta'"):
        hump.static_explorer("beta", [0.1])
    with pytest.raises(ValueError, match=re.escape("Invalid values: 0 values (must be 1 to 30")):
        hump.static_explorer("noise", [])
