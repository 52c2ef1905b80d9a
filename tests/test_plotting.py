"""Plotting: one colour per optimizer, labels, and what each figure function draws."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402

from adam_course import landscapes, plotting  # noqa: E402

OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7", "#999999"}
TOL = {"#882255", "#332288"}  # Paul Tol's wine (NAdam) and indigo (Lion)
OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "amsgrad",
              "adamax", "nadam", "lion"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def visible_lines(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def legend_labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_every_optimizer_has_its_own_colour_from_a_colour_blind_safe_palette():
    colours = [plotting.color(name) for name in OPTIMIZERS]
    assert len(set(colours)) == len(OPTIMIZERS)
    assert set(colours) <= OKABE_ITO | TOL
    assert plotting.color("gd") == plotting.color("sgd")  # the same method


def test_greyscale_still_separates_optimizers_by_line_style_and_marker():
    styles = {(str(plotting.style(n)["linestyle"]), plotting.style(n)["marker"])
              for n in OPTIMIZERS}
    assert len(styles) == len(OPTIMIZERS)


@pytest.mark.parametrize(("name", "expected"), [
    ("adam", "#D55E00"), ("adam, lr=0.1", "#D55E00"), ("Adam (no bias correction)", "#D55E00"),
    ("  momentum beta=0.9", "#E69F00"), ("gd", "#0072B2"), ("adamw, wd=0.1", "#000000"),
    ("rmsprop_centered", "#009E73"),
])
def test_color_is_decided_by_the_first_word(name, expected):
    assert plotting.color(name) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("adam, lr=0.1", "Adam, lr=0.1"), ("gd", "GD"), ("sgd", "SGD"), ("amsgrad", "AMSGrad"),
    ("rmsprop (alpha=0.9)", "RMSProp (alpha=0.9)"), ("ADAGRAD", "AdaGrad"),
])
def test_label_capitalises_the_optimizer_and_keeps_the_note(name, expected):
    assert plotting.label(name) == expected


@pytest.mark.parametrize("bad", ["adams", "lr=0.1", "", "sgdm"])
def test_unknown_names_raise_and_list_the_known_ones(bad):
    with pytest.raises(ValueError, match="Invalid optimizer name") as info:
        plotting.color(bad)
    assert "adam" in str(info.value) and "nesterov" in str(info.value)
    with pytest.raises(ValueError, match="Invalid optimizer name"):
        plotting.label(bad)


def test_repeats_of_one_optimizer_get_a_ramp_of_its_colour():
    styles = plotting._styles(["adam, lr=0.01", "adam, lr=0.1", "adam, lr=1", "sgd"])
    colours = [s["color"] for s in styles]
    assert len(set(colours)) == 4
    assert colours[3] == plotting.color("sgd")  # a lone run keeps the plain colour
    brightness = [sum(to_rgb(c)) for c in colours[:3]]
    assert brightness[0] < brightness[1] < brightness[2]  # dark to light, in order
    assert len({s["linestyle"] for s in styles[:3]}) == 3
    # the shades stay in adam's family: closer to vermillion than to sgd's blue
    for c in colours[:3]:
        d_adam = np.linalg.norm(np.subtract(to_rgb(c), to_rgb(plotting.color("adam"))))
        d_sgd = np.linalg.norm(np.subtract(to_rgb(c), to_rgb(plotting.color("sgd"))))
        assert d_adam < d_sgd
    greys = [s["color"] for s in plotting._styles(["adamw", "adamw, wd=0.1"])]
    assert len(set(greys)) == 2  # black can only get lighter


def test_book_style_sets_and_restores_rcparams():
    before = plt.rcParams["axes.spines.top"]
    with plotting.book_style():
        assert plt.rcParams["figure.figsize"] == [6.0, 4.0]
        assert plt.rcParams["axes.spines.top"] is False
    assert plt.rcParams["axes.spines.top"] == before


def path(n=20, start=(-4.0, 1.0), seed=0):
    rng = np.random.default_rng(seed)
    return np.array(start) + np.cumsum(rng.normal(scale=0.1, size=(n, 2)), axis=0)


def test_trajectories_draws_one_labelled_path_per_run_in_order():
    runs = {"sgd": path(seed=0), "momentum": path(seed=1), "adam, lr=0.1": path(seed=2)}
    ax = plotting.trajectories(landscapes.bowl(), runs, title="bowl")
    lines = visible_lines(ax)
    assert [line.get_label() for line in lines] == ["SGD", "Momentum", "Adam, lr=0.1"]
    assert legend_labels(ax) == ["SGD", "Momentum", "Adam, lr=0.1"]
    assert [line.get_color() for line in lines] == ["#0072B2", "#E69F00", "#D55E00"]
    np.testing.assert_array_equal(lines[2].get_xydata(), runs["adam, lr=0.1"])
    assert ax.get_title() == "bowl"
    assert ax.get_xlim() == landscapes.bowl().window[0]
    assert isinstance(ax, plt.Axes)


def test_trajectories_skip_the_nan_rows_of_a_diverged_run():
    diverged = path(10)
    diverged[6:] = np.nan
    ax = plotting.trajectories(landscapes.rosenbrock(), {"gd": diverged, "adam": path(10)})
    gd, adam = visible_lines(ax)
    assert gd.get_label() == "GD (diverged)" and adam.get_label() == "Adam"
    np.testing.assert_array_equal(gd.get_xydata(), diverged[:6])
    assert np.all(np.isfinite(gd.get_xydata()))
    crosses = [line for line in ax.get_lines() if line.get_label() == "_diverged"]
    np.testing.assert_array_equal(crosses[0].get_xydata()[0], diverged[5])


def test_a_run_that_is_nan_from_the_start_still_draws():
    ax = plotting.trajectories(landscapes.beale(), {"sgd": np.full((5, 2), np.nan)})
    assert visible_lines(ax)[0].get_xydata().shape == (0, 2)
    ax.figure.canvas.draw()


def test_trajectories_check_their_input():
    with pytest.raises(ValueError, match="Invalid runs"):
        plotting.trajectories(landscapes.bowl(), {"sgd": np.zeros((5, 3))})
    with pytest.raises(ValueError, match="Invalid landscape"):
        plotting.trajectories(landscapes.hump(), {"sgd": np.zeros((5, 1))})
    with pytest.raises(ValueError, match="Invalid optimizer name"):
        plotting.trajectories(landscapes.bowl(), {"mystery": np.zeros((5, 2))})


def test_contour_marks_every_minimum_and_uses_log_levels_for_a_steep_landscape():
    ax = plotting.contour(landscapes.saddle())
    stars = [line for line in ax.get_lines() if line.get_label() == "_minimum"][0]
    np.testing.assert_array_equal(stars.get_xydata(), [[0, 1], [0, -1]])
    fig, ax = plt.subplots()
    plotting.contour(landscapes.rosenbrock(), ax=ax)
    levels = ax.collections[0].levels
    gaps = np.diff(levels[1:])
    assert gaps[-1] > 100 * gaps[0]  # geometric, not even


def test_curve_1d_puts_the_iterates_on_the_curve():
    hump = landscapes.hump()
    run = np.linspace(-1.6, -1.0, 8)[:, None]
    ax = plotting.curve_1d(hump, {"gd": run, "momentum": run[::-1]})
    gd = visible_lines(ax)[0]
    np.testing.assert_allclose(gd.get_ydata(), (run[:, 0] ** 2 - 1) ** 2 - 0.3 * run[:, 0])
    assert legend_labels(ax) == ["GD", "Momentum"]
    with pytest.raises(ValueError, match="Invalid landscape"):
        plotting.curve_1d(landscapes.bowl(), {"gd": run})


def test_loss_curves_are_on_a_log_scale_with_one_line_per_run():
    curves = {"sgd": 0.9 ** np.arange(30), "adam": 0.5 ** np.arange(30)}
    ax = plotting.loss_curves(curves)
    assert ax.get_yscale() == "log"
    assert legend_labels(ax) == ["SGD", "Adam"]
    np.testing.assert_array_equal(visible_lines(ax)[1].get_ydata(), curves["adam"])
    assert plotting.loss_curves(curves, log=False).get_yscale() == "linear"
    with pytest.raises(ValueError, match="Invalid curves"):
        plotting.loss_curves({"sgd": np.zeros((3, 3))})


def test_compare_makes_a_grid_with_one_shared_legend():
    grid = [landscapes.bowl(), landscapes.saddle(), landscapes.hump()]
    runs = [{"sgd": path(), "adam": path(seed=3)},
            {"sgd": path(), "adam": path(seed=3)},
            {"sgd": np.zeros((4, 1)), "adam": np.ones((4, 1))}]
    fig = plotting.compare(grid, runs, ncols=2)
    assert len(fig.axes) == 3  # the fourth, empty cell is removed
    assert [ax.get_title() for ax in fig.axes] == ["bowl", "saddle", "hump"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["SGD", "Adam"]
    by_name = plotting.compare(grid, {ls.name: r for ls, r in zip(grid, runs, strict=True)})
    assert len(by_name.axes) == 3
    with pytest.raises(ValueError, match="Invalid runs_per_landscape"):
        plotting.compare(grid, runs[:2])


def test_plotting_never_shows(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("plt.show() called")

    monkeypatch.setattr(plt, "show", forbidden)
    plotting.trajectories(landscapes.bowl(), {"sgd": path()})
    plotting.loss_curves({"sgd": np.ones(3)})


def test_curve_1d_widens_its_range_to_show_iterates_outside_the_window():
    parabola = landscapes.bowl(curvatures=(2.0,))  # window (-1.5, 1.5)
    run = 3.0 * (-0.9) ** np.arange(10)[:, None]  # GD on x^2 with lr = 0.95, from x = 3
    ax = plotting.curve_1d(parabola, {"gd, lr=0.95": run})
    lo, hi = ax.get_xlim()
    assert lo < -2.7 and hi > 3.0
    far = plotting.curve_1d(parabola, {"gd": np.array([[1.0], [1e6]])})
    assert far.get_xlim()[1] <= 5 * 1.5  # a runaway iterate does not squash the picture


def test_two_dimensional_plots_use_the_books_parameter_names():
    ax = plotting.contour(landscapes.bowl())
    assert (ax.get_xlabel(), ax.get_ylabel()) == (r"$\theta_1$", r"$\theta_2$")
    plt.close(ax.figure)
