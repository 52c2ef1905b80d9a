"""The playground: every trajectory it draws is the one the maths gives.

References written here, independent of landscapes and optim: the bowl's matrix A and the
closed form of gradient descent on it, x_t = (I - lr A)^t x_0; Adam, heavy ball and RMSProp
as a few lines of numpy; the other landscapes' f written out, their gradients by central
differences. A wrong landscape gradient or a wrong optimizer mapping fails here.
"""

import re

import ipywidgets
import numpy as np
import pytest
from reference import central_differences

from adam_course import catalog, picture, playground, plotting
from adam_course import landscapes as ls_module

PNG = b"\x89PNG\r\n\x1a\n"
BOWL_A = np.diag([1.0, 10.0])  # the package's bowl: curvatures 1 and 10, not rotated


def rotated_bowl(angle):
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    return R @ BOWL_A @ R.T


F = {  # the other landscapes, written out
    "rosenbrock": lambda p: (1 - p[..., 0]) ** 2 + 100 * (p[..., 1] - p[..., 0] ** 2) ** 2,
    "beale": lambda p: sum((c - p[..., 0] + p[..., 0] * p[..., 1] ** i) ** 2
                           for i, c in ((1, 1.5), (2, 2.25), (3, 2.625))),
    "saddle": lambda p: p[..., 0] ** 2 / 2 - p[..., 1] ** 2 / 2 + p[..., 1] ** 4 / 4,
}


def adam_reference(grad, x, lr, steps, beta1=0.9, beta2=0.999, eps=1e-8):
    m, v, out = np.zeros_like(x), np.zeros_like(x), [x]
    for t in range(1, steps + 1):
        g = grad(x)
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        x = x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        out.append(x)
    return np.array(out)


@pytest.fixture(scope="module")
def explorer():
    return playground.explorer(landscape="bowl", optimizer="adam", steps=30)


def test_explorer_is_a_widget_showing_a_trajectory_from_the_start(explorer):
    assert isinstance(explorer, ipywidgets.VBox)
    assert bytes(explorer.image.value).startswith(PNG)
    assert explorer.trajectory.shape == (31, 2)
    np.testing.assert_array_equal(explorer.trajectory[0], [-4.0, 1.0])
    assert set(explorer.controls) == {"landscape", "optimizer", "lr", "beta1", "beta2", "eps",
                                      "steps"}
    assert explorer.controls["landscape"].options == ("bowl", "rosenbrock", "beale", "saddle")
    assert set(explorer.controls["optimizer"].options) <= set(catalog.CATALOG)


def test_gradient_descent_on_the_bowl_is_the_closed_form():
    e = playground.explorer(landscape="bowl", optimizer="sgd", lr=0.15, steps=40)
    powers = [np.linalg.matrix_power(np.eye(2) - 0.15 * BOWL_A, t) for t in range(41)]
    np.testing.assert_allclose(e.trajectory, [P @ [-4.0, 1.0] for P in powers], rtol=1e-12,
                               atol=1e-14)


def test_a_chapters_tilted_bowl_is_the_closed_form_too():
    tilted = ls_module.bowl(curvatures=(1.0, 10.0), angle=np.pi / 6)
    e = playground.explorer(landscape=tilted, optimizer="sgd", lr=0.1, steps=20)
    assert e.controls["landscape"].options[0] == "bowl (this chapter)"
    A, x0 = rotated_bowl(np.pi / 6), e.trajectory[0]
    expected = [np.linalg.matrix_power(np.eye(2) - 0.1 * A, t) @ x0 for t in range(21)]
    np.testing.assert_allclose(e.trajectory, expected, rtol=1e-12, atol=1e-14)
    e.update(landscape="bowl", lr=0.1)  # the package's own (unrotated) bowl is still there
    expected = [np.linalg.matrix_power(np.eye(2) - 0.1 * BOWL_A, t) @ [-4.0, 1.0]
                for t in range(21)]
    np.testing.assert_allclose(e.trajectory, expected, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match=re.escape("Invalid landscape: 'hump' (must be a 2-D")):
        playground.explorer(landscape=ls_module.hump())


def test_moving_the_lr_slider_gives_adams_trajectory_for_that_lr(explorer):
    explorer.update(landscape="bowl", optimizer="adam", beta1=0.9, beta2=0.999, eps=1e-8,
                    steps=30)
    before, image = explorer.trajectory.copy(), explorer.image.value
    explorer.controls["lr"].value = 0.05  # what the reader's slider move does
    expected = adam_reference(lambda x: BOWL_A @ x, np.array([-4.0, 1.0]), 0.05, 30)
    np.testing.assert_allclose(explorer.trajectory, expected, rtol=1e-12)
    assert not np.allclose(explorer.trajectory, before) and explorer.image.value != image
    assert "Adam, lr = 0.05, β1 = 0.9, β2 = 0.999, ε = 1e-8" in explorer.caption.value
    drawn = explorer._picture().path  # the drawn path is the trajectory, in Adam's colour
    np.testing.assert_array_equal(drawn.get_xydata(), explorer.trajectory)
    assert drawn.get_color() == catalog.entry("adam").color


def test_momentum_uses_beta1_as_its_heavy_ball_coefficient(explorer):
    explorer.update(landscape="bowl", optimizer="momentum", lr=0.01, beta1=0.5, steps=30)
    x, buf = np.array([-4.0, 1.0]), None
    for _ in range(30):  # torch's heavy ball, written out: b = mu b + g, x -= lr b
        g = BOWL_A @ x
        buf = g if buf is None else 0.5 * buf + g
        x = x - 0.01 * buf
    np.testing.assert_allclose(explorer.trajectory[-1], x, rtol=1e-12)
    assert explorer.controls["beta1"].description == "momentum"
    assert explorer.controls["beta2"].disabled and not explorer.controls["beta1"].disabled


def test_rmsprop_uses_beta2_as_alpha(explorer):
    explorer.update(landscape="bowl", optimizer="rmsprop", lr=0.03, beta2=0.99, eps=1e-8)
    g = BOWL_A @ np.array([-4.0, 1.0])
    first = np.array([-4.0, 1.0]) - 0.03 * g / (np.sqrt(0.01 * g * g) + 1e-8)  # v_1 = 0.01 g^2
    np.testing.assert_allclose(explorer.trajectory[1], first, rtol=1e-12)
    assert explorer.controls["beta2"].description == "α"


@pytest.mark.parametrize("name", ["rosenbrock", "beale", "saddle"])
def test_every_step_follows_the_gradient_of_the_landscape_written_out(name):
    e = playground.explorer(landscape=name, optimizer="sgd", steps=40)
    lr, xs = e.settings["lr"], e.trajectory
    assert np.all(np.isfinite(xs))
    # x_{t+1} = x_t - lr grad f(x_t), the gradient by central differences of f written above
    np.testing.assert_allclose(xs[1:], xs[:-1] - lr * central_differences(F[name], xs[:-1]),
                               rtol=1e-6, atol=1e-9)
    gap = e.landscape.f(xs[-1]) - e.landscape.min_value
    np.testing.assert_allclose(gap, F[name](xs[-1]) - F[name](e.landscape.minimum))


@pytest.mark.parametrize("landscape", playground.LANDSCAPES)
def test_default_settings_bring_every_optimizer_closer_to_the_minimum(landscape):
    for optimizer in playground.OPTIMIZERS:  # e.g. Nesterov needs the heavy ball's small lr
        e = playground.explorer(landscape=landscape, optimizer=optimizer)
        f = e.landscape.f
        start, end = (f(e.trajectory[i]) - e.landscape.min_value for i in (0, -1))
        assert np.all(np.isfinite(e.trajectory)), (optimizer, e.status.value)
        assert end < 0.5 * start, (optimizer, start, end)


def test_nesterov_and_momentum_share_the_heavy_balls_default_lr():
    for landscape in playground.LANDSCAPES:
        assert (playground.default_lr(landscape, "nesterov")
                == playground.default_lr(landscape, "momentum")
                == playground.DEFAULT_LR[landscape]["momentum"])


def test_changing_landscape_resets_lr_and_redraws_on_the_new_landscape(explorer):
    explorer.update(landscape="bowl", steps=30)
    explorer.controls["optimizer"].value = "sgd"
    explorer.controls["landscape"].value = "rosenbrock"
    assert explorer.settings["lr"] == playground.DEFAULT_LR["rosenbrock"]["sgd"] == 1e-3
    assert explorer.controls["lr"].value == 1e-3 and explorer.controls["lr"].label == "0.001"
    xs = explorer.trajectory
    np.testing.assert_allclose(xs[1:], xs[:-1] - 1e-3 * central_differences(F["rosenbrock"],
                                                                            xs[:-1]), rtol=1e-6)
    for knob in ("beta1", "beta2", "eps"):
        assert explorer.controls[knob].disabled  # plain GD has none of them


def test_every_readout_is_written_as_the_title_writes_the_value_used(explorer):
    explorer.update(landscape="bowl", optimizer="adam", lr=0.35481338923357547, beta1=0.9,
                    beta2=0.999, eps=1e-8)  # 10**-0.45, what a log slider used to give
    c = explorer.controls
    assert c["lr"].label == "0.35481338923357547"
    assert "lr = 0.35481338923357547," in explorer.caption.value
    for key in ("beta1", "beta2", "eps"):
        c[key].index = (c[key].index + 1) % len(c[key].options)  # a key press on each slider
        assert f"{c[key].description} = {c[key].label}" in explorer.caption.value
        assert float(c[key].label) == explorer.settings[key]
    for value in playground.LR_VALUES:
        c["lr"].value = value
        assert f"lr = {c['lr'].label}," in explorer.caption.value
        assert float(c["lr"].label) == explorer.settings["lr"] == value
    assert f"after {c['steps'].value} steps" in explorer.status.value


def test_labels_are_never_cut_short(explorer):
    for control in explorer.controls.values():
        assert control.style.description_width == "initial"  # as wide as the text


def test_a_diverging_run_is_shown_not_raised(explorer):
    explorer.update(landscape="bowl", optimizer="sgd", lr=1.0)
    assert np.isnan(explorer.trajectory[-1]).all()
    assert "diverged at step" in explorer.status.value
    assert bytes(explorer.image.value).startswith(PNG)


def test_a_bad_slider_value_is_explained_and_undone():
    e = playground.explorer(landscape="bowl", optimizer="nesterov")
    before = dict(e.settings)
    e.controls["beta1"].value = 0.0  # Nesterov needs a momentum
    assert "Invalid nesterov: True with momentum=0.0" in e.status.value
    assert e.settings == before and e.controls["beta1"].value == before["beta1"]


def test_a_redraw_reuses_the_kept_contours_and_a_revisited_setting_its_run(explorer,
                                                                              monkeypatch):
    explorer.update(landscape="bowl", optimizer="adam", steps=50, lr=0.1, beta1=0.9,
                    beta2=0.999, eps=1e-8)

    def fail(*args, **kwargs):
        raise AssertionError("redrawn or recomputed")

    monkeypatch.setattr(plotting, "contour", fail)
    for lr in (0.01, 0.02, 0.03):
        explorer.update(lr=lr)
        expected = adam_reference(lambda x: BOWL_A @ x, np.array([-4.0, 1.0]), lr, 50)
        np.testing.assert_allclose(explorer.trajectory, expected, rtol=1e-12)
    monkeypatch.setattr(picture, "run", fail)
    explorer.update(lr=0.02)  # seen before: no new run
    np.testing.assert_allclose(explorer.trajectory,
                               adam_reference(lambda x: BOWL_A @ x, np.array([-4.0, 1.0]),
                                              0.02, 50), rtol=1e-12)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"landscape": "moon"}, "Invalid landscape: 'moon' (must be one of"),
    ({"landscape": "hump"}, "Invalid landscape: 'hump'"),
    ({"optimizer": "adams"}, "Invalid optimizer: 'adams' (must be one of"),
    ({"steps": 0}, "Invalid steps: 0 (must be an integer in [1, 300])"),
    ({"lr": -0.1}, "Invalid learning rate"),
    ({"beta1": 1.0}, "Invalid beta parameter at index 0"),
])
def test_bad_settings_raise_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        playground.explorer(**kwargs)


def test_a_bad_update_leaves_the_explorer_as_it_was(explorer):
    before = dict(explorer.settings)
    with pytest.raises(ValueError, match="Invalid optimizer: 'adamz'"):
        explorer.update(optimizer="adamz")
    with pytest.raises(ValueError, match="Invalid learning rate"):
        explorer.update(lr=-1.0)
    with pytest.raises(ValueError, match=re.escape("Invalid setting: 'momentum' (must be one")):
        explorer.update(momentum=0.9)
    assert explorer.settings == before


# --------------------------------------------------------------------------------------------
# The static explorer
# --------------------------------------------------------------------------------------------

def test_static_explorer_has_one_frame_per_value_each_the_right_run(monkeypatch):
    shown = []
    original = playground.LandscapePicture.show
    monkeypatch.setattr(playground.LandscapePicture, "show",
                        lambda self, *frame: shown.append(frame) or original(self, *frame))
    alt = 'GD on the bowl: a larger lr reaches the "minimum" sooner, then overshoots.'
    animation = playground.static_explorer("bowl", "sgd", param="lr", values=[0.03, 0.1, 0.21],
                                           steps=20, alt=alt)
    assert isinstance(animation, picture.Animation) and len(animation.frames) == 3
    assert animation.labels == ["lr = 0.03", "lr = 0.1", "lr = 0.21"]
    frames = [frame for frame in shown if len(frame) == 3]  # (the browser's styles: 2)
    for (trajectory, name, title), lr in zip(frames, (0.03, 0.1, 0.21), strict=True):
        closed = [np.linalg.matrix_power(np.eye(2) - lr * BOWL_A, t) @ [-4.0, 1.0]
                  for t in range(21)]
        finite = np.all(np.isfinite(trajectory), axis=1)
        np.testing.assert_allclose(trajectory[finite], np.array(closed)[finite], rtol=1e-12)
        assert name == "sgd" and title == f"SGD, lr = {picture.readout(lr)}"
    assert abs(frames[-1][0][-1, 1]) > 6  # lr = 0.21 > 2/10: the steep coordinate grows 1.1^t
    assert 'alt="GD on the bowl: a larger lr reaches the &quot;minimum&quot; sooner' in (
        animation.html)


def test_static_explorer_default_is_small_and_has_a_generated_alt_text():
    animation = playground.static_explorer("saddle", "rmsprop", steps=30)
    assert len(animation.frames) == 9 and len(set(animation.frames)) == 9
    assert animation.alt.startswith("Animation: RMSProp on the saddle landscape, one frame per "
                                    "value of lr from 0.01 to 0.3")
    # bytes: the four landscapes' backgrounds and the script (the site keeps them in files)
    assert len(animation.html) < 400_000


def test_static_explorer_knobs_and_their_names():
    animation = playground.static_explorer("bowl", "momentum", param="beta1", values=[0.0, 0.5],
                                           steps=5, lr=0.01)
    assert animation.labels == ["momentum = 0", "momentum = 0.5"]  # momentum 0 is plain GD
    assert animation.name == "momentum"
    animation = playground.static_explorer("bowl", "rmsprop", param="beta2", values=[0.9],
                                           steps=5)
    assert animation.labels == ["α = 0.9"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"landscape": "hump"}, "Invalid landscape: 'hump'"),
    ({"optimizer": "adams"}, "Invalid optimizer: 'adams'"),
    ({"param": "beta3", "values": [1]}, "Invalid param: 'beta3'"),
    ({"param": "beta1"}, "Invalid values: None"),
    ({"momentum": 0.9}, "Invalid keyword argument: 'momentum'"),
    ({"values": np.linspace(0.01, 1, 40)}, "Invalid values: 40 values (must be 1 to 30"),
])
def test_static_explorer_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        playground.static_explorer(**kwargs)


def test_the_eps_slider_reaches_where_adam_becomes_momentum():
    """Chapter 5's question: with eps well above the gradients (the bowl's first gradient is 10)
    Adam is momentum in EMA form with step lr/eps and bias correction, so lr must grow with eps;
    the sliders reach eps = 100 and lr = 30 (lr/eps = 0.3), where the two paths agree."""
    assert max(playground.EPS_VALUES) == 100.0 and 30.0 in playground.LR_VALUES
    e = playground.explorer(landscape="bowl", optimizer="adam", steps=50)
    e.controls["eps"].value, e.controls["lr"].value = 100.0, 30.0
    assert e.settings["eps"] == 100.0 and e.settings["lr"] == 30.0
    x, m, momentum = e.trajectory[0], np.zeros(2), []
    for t in range(1, 51):  # momentum in EMA form, bias-corrected, step 0.3
        m = 0.9 * m + 0.1 * BOWL_A @ x
        x = x - 0.3 * m / (1 - 0.9**t)
        momentum.append(x)
    gap = np.linalg.norm(e.trajectory[1:] - np.array(momentum), axis=1).mean()
    e.update(eps=1e-8, lr=0.3)
    sign_like = np.linalg.norm(e.trajectory[1:] - np.array(momentum), axis=1).mean()
    assert gap < 0.2 < 1.0 < sign_like
