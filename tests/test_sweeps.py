"""Sweeps: a batched grid of runs equals the runs one by one, and its heat map shows it."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from adam_course import landscapes, optim, sweeps  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def adam_factory(lr, beta1):
    return optim.adam(lr=lr, betas=(beta1, 0.999))


def test_grid_sweep_equals_each_run_made_on_its_own():
    beale = landscapes.beale()
    lrs, beta1s = np.array([0.003, 0.03, 0.3, 3.0]), np.array([0.0, 0.5, 0.9])
    swept = sweeps.grid_sweep(adam_factory, beale, 60, beta1=beta1s, lr=lrs)
    assert swept.shape == (3, 4)  # (beta1, lr): the order the axes were given
    for i, beta1 in enumerate(beta1s):
        for j, lr in enumerate(lrs):
            path = optim.minimize(optim.adam(lr=lr, betas=(beta1, 0.999)), beale.grad,
                                  beale.start, 60)
            expected = beale.f(path[-1]) - beale.min_value
            assert swept[i, j] == pytest.approx(expected, rel=1e-10, abs=1e-300)


def test_grid_sweep_matches_the_closed_form_of_gradient_descent_on_a_bowl():
    # Axis-aligned bowl: each coordinate shrinks by (1 - lr * c_i) per step; lr > 2/L diverges.
    bowl = landscapes.bowl(curvatures=(1.0, 10.0))
    lrs = np.array([0.01, 0.05, 0.1, 0.15, 0.19, 0.25, 0.5])
    steps = 40
    swept = sweeps.grid_sweep(lambda lr: optim.sgd(lr=lr), bowl, steps, lr=lrs)
    x_final = (1 - lrs[:, None] * bowl.curvatures) ** steps * bowl.start
    expected = 0.5 * np.sum(bowl.curvatures * x_final**2, axis=1)
    stable = lrs < 2 / bowl.L
    np.testing.assert_allclose(swept[stable], expected[stable], rtol=1e-9)
    assert np.all(np.isnan(swept[~stable]))  # |1 - 10 lr|^40 >= 1.5^40 > 1e4 for lr >= 0.25


def test_grid_sweep_subtracts_the_minimum_value_of_the_landscape():
    """On the saddle f* = -1/4: the gap is f(theta_T) + 1/4, from a GD loop written here."""
    saddle, steps = landscapes.saddle(), 20
    lrs = np.array([0.05, 0.2, 0.5])
    swept = sweeps.grid_sweep(lambda lr: optim.sgd(lr=lr), saddle, steps, lr=lrs)
    for lr, gap in zip(lrs, swept, strict=True):
        x, y = 1.5, 0.01  # the saddle's start; grad f = (x, -y + y^3)
        for _ in range(steps):
            x, y = x - lr * x, y - lr * (-y + y**3)
        expected = x**2 / 2 - y**2 / 2 + y**4 / 4 + 0.25
        assert gap == pytest.approx(expected, rel=1e-12)
    assert np.all(swept > 0)


def test_grid_sweep_builds_one_optimizer_for_all_grid_points():
    calls = []

    def factory(lr, beta1):
        calls.append((np.shape(lr), np.shape(beta1)))
        return adam_factory(lr, beta1)

    sweeps.grid_sweep(factory, landscapes.saddle(), 5, lr=[0.1, 0.2, 0.3], beta1=[0.5, 0.9])
    assert calls == [((6,), (6,))]


def test_grid_sweep_uses_the_given_start():
    bowl = landscapes.bowl(curvatures=(2.0,))
    swept = sweeps.grid_sweep(lambda lr: optim.sgd(lr=lr), bowl, 3, x0=np.array([2.0]),
                              lr=[0.25])
    assert swept[0] == pytest.approx((2.0 * 0.5**3) ** 2)  # x_3 = 2 (1 - 2 * 0.25)^3, f = x^2


@pytest.mark.parametrize(("kwargs", "match"), [
    ({}, "Invalid axes"),
    ({"lr": [[0.1, 0.2]]}, "Invalid lr"),
    ({"lr": []}, "Invalid lr"),
    ({"lr": [0.1, np.nan]}, "Invalid lr"),
    ({"lr": [0.1], "x0": np.zeros(3)}, "Invalid x0"),
])
def test_grid_sweep_rejects_bad_grids(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sweeps.grid_sweep(lambda lr: optim.sgd(lr=lr), landscapes.beale(), 3, **kwargs)


def test_grid_sweep_rejects_what_is_not_a_landscape():
    with pytest.raises(ValueError, match="Invalid landscape"):
        sweeps.grid_sweep(lambda lr: optim.sgd(lr=lr), "beale", 3, lr=[0.1])


def test_heatmap_draws_the_values_with_diverged_cells_masked_and_the_best_starred():
    values = np.array([[1.0, 1e-3, np.nan], [1e-8, 0.0, 10.0]])
    ax = sweeps.heatmap(values, x=[0.01, 0.1, 1.0], y=[0.5, 0.9], ylabel="beta1")
    mesh = ax.collections[0]
    drawn = mesh.get_array()
    assert drawn.mask.ravel().tolist() == [False, False, True, False, False, False]
    np.testing.assert_allclose(drawn.compressed(), [1.0, 1e-3, 1e-8, 1e-16, 10.0])  # floor
    star = [line for line in ax.get_lines() if line.get_label() == "best"][0]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (1, 1)  # the 0.0 cell
    cross = [line for line in ax.get_lines() if line.get_label() == "diverged"][0]
    assert (list(cross.get_xdata()), list(cross.get_ydata())) == ([2], [0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.01", "0.1", "1"]
    assert ax.get_ylabel() == "beta1"
    assert len(ax.figure.axes) == 2  # the heat map and its colour bar


def test_heatmap_thins_the_tick_labels_of_a_long_axis():
    x = np.geomspace(1e-3, 1, 25)
    ax = sweeps.heatmap(np.ones((2, 25)), x=x, y=[0.0, 0.9], max_xticks=9)
    assert len(ax.get_xticks()) <= 9
    assert ax.get_xticklabels()[0].get_text() == "0.001"


@pytest.mark.parametrize(("values", "x", "y", "match"), [
    (np.ones((2, 3)), [1, 2], [1, 2], "Invalid values: shape"),
    (np.full((1, 2), np.nan), [1, 2], [1], "every run diverged"),
    (-np.ones((1, 2)), [1, 2], [1], "negative"),
    (np.ones((1, 2)), [[1, 2]], [1], "Invalid x"),
])
def test_heatmap_rejects_bad_input(values, x, y, match):
    with pytest.raises(ValueError, match=match):
        sweeps.heatmap(values, x=x, y=y)
