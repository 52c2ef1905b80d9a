"""Widgets: the explorer recomputes the right trajectory fast; the static one works offline."""

import re

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from IPython.display import HTML  # noqa: E402

from adam_course import landscapes, optim, plotting, widgets  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def explorer():
    return widgets.explorer(landscape="bowl", optimizer="adam", steps=30)


def test_explorer_is_a_widget_showing_a_trajectory_from_the_start(explorer):
    assert isinstance(explorer, ipywidgets.VBox)
    assert bytes(explorer.image.value).startswith(PNG)
    bowl = landscapes.bowl()
    assert explorer.trajectory.shape == (31, 2)
    np.testing.assert_array_equal(explorer.trajectory[0], bowl.start)
    assert set(explorer.controls) == {"landscape", "optimizer", "lr", "beta1", "beta2", "eps",
                                      "steps"}
    assert explorer.controls["landscape"].options == ("bowl", "rosenbrock", "beale", "saddle")
    assert "adamax" in explorer.controls["optimizer"].options


def test_moving_the_lr_slider_gives_adams_trajectory_for_that_lr(explorer):
    explorer.update(landscape="bowl", optimizer="adam", beta1=0.9, beta2=0.999, eps=1e-8,
                    steps=30)
    before = explorer.trajectory.copy()
    image = explorer.image.value
    explorer.controls["lr"].value = 0.05  # what dragging the slider does
    bowl = landscapes.bowl()
    expected = optim.minimize(optim.adam(lr=0.05), bowl.grad, bowl.start, 30)
    np.testing.assert_allclose(explorer.trajectory, expected, rtol=1e-12)
    assert not np.allclose(explorer.trajectory, before)
    assert explorer.image.value != image
    assert "Adam, lr = 0.05, β1 = 0.9, β2 = 0.999" in explorer.caption.value
    # independent check of the first step: Adam's first step is -lr * g / (|g| + eps)
    g = bowl.A @ bowl.start
    np.testing.assert_allclose(explorer.trajectory[1], bowl.start - 0.05 * g / (np.abs(g) + 1e-8))
    # the drawn path is the trajectory
    panel = explorer._panels["bowl"]
    np.testing.assert_array_equal(panel.path.get_xydata(), explorer.trajectory)
    assert panel.path.get_color() == plotting.color("adam")


def test_momentum_uses_beta1_as_its_heavy_ball_coefficient(explorer):
    explorer.update(landscape="bowl", optimizer="momentum", lr=0.01, beta1=0.5, steps=30)
    bowl = landscapes.bowl()
    x, buf = bowl.start.copy(), None
    for _ in range(30):  # torch's heavy ball, written out: b = mu b + g, x -= lr b
        g = bowl.A @ x
        buf = g if buf is None else 0.5 * buf + g
        x = x - 0.01 * buf
    np.testing.assert_allclose(explorer.trajectory[-1], x, rtol=1e-12)
    assert explorer.controls["beta1"].description == "momentum"
    assert explorer.controls["beta2"].disabled and not explorer.controls["beta1"].disabled


def test_rmsprop_uses_beta2_as_alpha(explorer):
    explorer.update(landscape="bowl", optimizer="rmsprop", lr=0.03, beta2=0.99, eps=1e-8)
    bowl = landscapes.bowl()
    g = bowl.A @ bowl.start
    first = bowl.start - 0.03 * g / (np.sqrt(0.01 * g * g) + 1e-8)  # v_1 = (1 - alpha) g^2
    np.testing.assert_allclose(explorer.trajectory[1], first, rtol=1e-12)


def test_changing_landscape_resets_lr_and_redraws_on_the_new_landscape(explorer):
    explorer.update(landscape="bowl", steps=30)
    explorer.controls["optimizer"].value = "sgd"
    explorer.controls["landscape"].value = "rosenbrock"
    assert explorer.settings["lr"] == widgets.DEFAULT_LR["rosenbrock"]["sgd"]
    assert explorer.controls["lr"].value == pytest.approx(explorer.settings["lr"])
    rosen = landscapes.rosenbrock()
    expected = optim.minimize(optim.sgd(lr=1e-3), rosen.grad, rosen.start, 30)
    np.testing.assert_allclose(explorer.trajectory, expected, rtol=1e-12)
    for knob in ("beta1", "beta2", "eps"):
        assert explorer.controls[knob].disabled  # plain GD has none of them


def test_a_diverging_run_is_shown_not_raised(explorer):
    explorer.update(landscape="bowl", optimizer="sgd", lr=1.0)
    assert np.isnan(explorer.trajectory[-1]).all()
    assert "diverged" in explorer.status.value
    assert bytes(explorer.image.value).startswith(PNG)


def test_a_redraw_reuses_the_cached_contours(explorer, monkeypatch):
    explorer.update(landscape="bowl", optimizer="adam", steps=50)

    def no_contours(*args, **kwargs):
        raise AssertionError("the landscape was redrawn")

    monkeypatch.setattr(plotting, "contour", no_contours)
    for lr in np.geomspace(0.01, 1.0, 8):  # (its speed is measured by benchmarks/run.py)
        explorer.update(lr=float(lr))
        s = explorer.settings
        expected = optim.minimize(optim.adam(lr=float(lr), betas=(s["beta1"], s["beta2"]),
                                             eps=s["eps"]),
                                  explorer.landscape.grad, explorer.landscape.start, s["steps"])
        assert np.allclose(explorer.trajectory, expected, equal_nan=True)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"landscape": "moon"}, "Invalid landscape: 'moon'"),
    ({"landscape": "hump"}, "Invalid landscape: 'hump'"),
    ({"optimizer": "adams"}, "Invalid optimizer: 'adams'"),
    ({"steps": 0}, "Invalid steps: 0"),
    ({"lr": -0.1}, "Invalid learning rate"),
    ({"beta1": 1.0}, "Invalid beta parameter at index 0"),
])
def test_bad_settings_raise_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        widgets.explorer(**kwargs)


def test_a_bad_update_leaves_the_explorer_as_it_was(explorer):
    before = dict(explorer.settings)
    with pytest.raises(ValueError, match="Invalid optimizer: 'adamz'"):
        explorer.update(optimizer="adamz")
    with pytest.raises(ValueError, match="Invalid learning rate"):
        explorer.update(lr=-1.0)
    with pytest.raises(ValueError, match="Invalid setting: 'momentum'"):
        explorer.update(momentum=0.9)
    assert explorer.settings == before


def frames(page):
    return re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]*)"', page)


def test_static_explorer_is_an_offline_animation_with_one_frame_per_value():
    figures = plt.get_fignums()
    alt = 'Adam on the bowl: a larger lr reaches the "minimum" sooner, then overshoots.'
    shown = widgets.static_explorer("bowl", "adam", param="lr", values=[0.03, 0.1, 0.3, 1.0],
                                    steps=20, alt=alt)
    assert isinstance(shown, HTML)
    page = shown.data
    assert len(frames(page)) == 4
    assert len(set(frames(page))) == 4  # every value gives a different picture
    assert 'alt="Adam on the bowl: a larger lr reaches the &quot;minimum&quot; sooner' in page
    assert "http://" not in page and "https://" not in page  # no CDN, no external image
    assert "<script" in page and 'type="range"' in page  # the slider
    assert plt.get_fignums() == figures  # no stray figure left for the notebook to show


def test_static_explorer_default_is_small_and_has_a_generated_alt_text():
    page = widgets.static_explorer("saddle", "rmsprop", steps=30).data
    assert len(frames(page)) == 9
    assert re.search(r'<img alt="Animation: RMSProp on the saddle landscape[^"]+" id=', page)
    assert len(page) < 200_000  # bytes: the published page stays light


def test_static_explorer_pages_are_reproducible():
    def page():
        return widgets.static_explorer("beale", "adam", values=[0.1, 0.2], steps=10).data

    assert page() == page()  # no random element ids: a rebuild changes nothing


def test_static_explorer_accepts_an_optim_factory():
    page = widgets.static_explorer("rosenbrock", optim.sgd, param="momentum",
                                   values=[0.0, 0.9], steps=10, lr=1e-3).data
    assert len(frames(page)) == 2
    page = widgets.static_explorer("bowl", optim.adam, param="betas", lr=0.1, steps=10,
                                   values=[(0.0, 0.999), (0.9, 0.999)]).data
    assert len(frames(page)) == 2
    assert "one frame per value of betas from (0, 0.999) to (0.9, 0.999)" in page


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"landscape": "hump"}, "Invalid landscape: 'hump'"),
    ({"optimizer": "adams"}, "Invalid optimizer: 'adams'"),
    ({"param": "beta3", "values": [1]}, "Invalid param: 'beta3'"),
    ({"param": "beta1"}, "Invalid values: None"),
    ({"momentum": 0.9}, "Invalid keyword argument: 'momentum'"),
    ({"values": np.linspace(0.01, 1, 40)}, "Invalid values: 40 values"),
])
def test_static_explorer_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        widgets.static_explorer(**kwargs)


def test_frame_titles_show_hyperparameters_without_rounding_them_away():
    from adam_course.widgets import _fmt

    assert [_fmt(v) for v in (0.9999, 0.9995, 1000.0, 1e-8, 0.1)] == [
        "0.9999", "0.9995", "1000", "1e-8", "0.1"]


def test_static_explorer_frames_keep_the_requested_optimizer_when_a_knob_is_zero():
    from adam_course.widgets import _frames

    _, names, titles = _frames(landscapes.bowl(), "momentum", "momentum", "beta1", [0.0, 0.5],
                               5, None, {})
    assert names == ["momentum", "momentum"]  # momentum = 0 builds plain SGD, still one colour
    assert titles == ["Momentum, momentum = 0", "Momentum, momentum = 0.5"]


def test_explorer_takes_a_chapters_own_landscape_as_its_first_choice():
    tilted = landscapes.bowl(curvatures=(1.0, 10.0), angle=np.pi / 6)
    e = widgets.explorer(landscape=tilted, optimizer="sgd", lr=0.1, steps=20)
    assert e.controls["landscape"].options[0] == "bowl (this chapter)"
    assert np.allclose(e.trajectory, optim.minimize(optim.sgd(lr=0.1), tilted.grad,
                                                    tilted.start, 20))
    e.update(landscape="bowl", lr=0.1)  # the package's own (unrotated) bowl is still there
    assert np.allclose(e.trajectory, optim.minimize(optim.sgd(lr=0.1), landscapes.bowl().grad,
                                                    landscapes.bowl().start, 20))
    with pytest.raises(ValueError, match="needs a 2-D one"):
        widgets.explorer(landscape=landscapes.hump())
