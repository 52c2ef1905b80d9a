"""The Python half of the live explorers (adam_course.web and the explorers' web_spec): what
the browser is given must describe the package's explorers. The browser's numbers themselves
are compared with adam_course's by the site check (tests/site/check_site.py)."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from matplotlib.figure import Figure

from adam_course import catalog, hump, landscapes, moments, optim, picture, playground, web


def spec_of(explorer):
    match = re.search(r'<script type="application/json">(.*?)</script>', explorer.html,
                      re.DOTALL)
    return json.loads(match.group(1))


def test_encode_is_numpys_float64_bytes():
    values = np.array([1.0, -2.5e-300, np.pi, 1e300])
    raw = base64.b64decode(web.encode(values))
    np.testing.assert_array_equal(np.frombuffer(raw, dtype="<f8"), values)


def test_line_style_reads_matplotlibs_line():
    figure = Figure(dpi=100)
    ax = figure.add_subplot()
    line, = ax.plot([0, 1], [0, 1], color="#D55E00", linestyle="--", linewidth=2.0, marker="s",
                    markersize=6, markerfacecolor="white", alpha=0.5)
    style = web.line_style(line)
    assert style["color"] == "#d55e00ff" and style["width"] == 2.0 and style["alpha"] == 0.5
    assert style["dashes"] == [7.4, 3.2]  # matplotlib's dashed (3.7, 1.6) times the width
    assert style["face"] == "#ffffffff" and style["edge"] == "#d55e00ff"
    square = np.array(style["marker"])  # a square of side 1 (the marker size), centred
    np.testing.assert_allclose(np.abs(square), 0.5)
    solid, = ax.plot([0, 1], [0, 1], marker="o")
    assert web.line_style(solid)["dashes"] == [] and web.line_style(solid)["marker"] == "circle"


def test_axes_box_puts_the_data_corners_where_matplotlib_draws_them():
    drawing = playground.LandscapePicture(landscapes.beale(), dpi=web.WEB_DPI)
    box = web.axes_box(drawing.ax, drawing)
    scale = web.WEB_DPI / web.CSS_DPI
    height = drawing.figure.bbox.height
    for x, y in [(-1.0, -1.5), (4.5, 2.0), (3.0, 0.5)]:
        px, py = drawing.ax.transData.transform((x, y)) / scale  # matplotlib: y up
        bx = box["left"] + (x - box["xlim"][0]) / np.ptp(box["xlim"]) * box["width"]
        by = box["top"] + box["height"] - (y - box["ylim"][0]) / np.ptp(box["ylim"]) * box["height"]
        assert bx == pytest.approx(px) and by == pytest.approx(height / scale - py)


def test_landscape_spec_names_the_formula_and_refuses_others():
    assert web.landscape_spec(landscapes.rosenbrock(2.0, 50.0)) == {
        "kind": "rosenbrock", "a": 2.0, "b": 50.0}
    tilted = landscapes.bowl((1.0, 10.0), np.pi / 6)
    np.testing.assert_array_equal(web.landscape_spec(tilted)["A"], tilted.A)
    with pytest.raises(ValueError, match="Invalid landscape: '3-D bowl'"):
        web.landscape_spec(landscapes.bowl((1.0, 2.0, 3.0)))


@pytest.mark.parametrize("name", list(catalog.CATALOG))
def test_optimizer_spec_builds_the_catalogs_optimizer(name):
    """What explorers.js builds from the spec (factory, presets, knobs -> arguments, as
    fromCatalog does) is the optimizer catalog.build makes."""
    spec = web.optimizer_spec(name)
    knobs = {"lr": 0.03, "beta1": 0.8, "beta2": 0.95, "eps": 1e-6}
    kwargs, betas = dict(spec["presets"], lr=knobs["lr"]), {}
    for knob, argument in spec["knobs"].items():
        if argument.startswith("betas["):
            betas[int(argument[6])] = knobs[knob]
        else:
            kwargs[argument] = knobs[knob]
    if betas:
        kwargs["betas"] = (betas.get(0, 0.9), betas.get(1, 0.999))
    built = getattr(optim, spec["factory"])(**kwargs)
    assert repr(built) == repr(catalog.build(name, **knobs))


def test_noise_draws_are_the_hump_runs_draws_in_order():
    runs, steps = 3, 5
    hump_ = landscapes.hump()
    noisy = landscapes.stochastic(hump_, noise=1.0, seed=4)
    x = np.full((runs, 1), -1.6)
    drawn = [noisy.grad(x) - hump_.grad(x) for _ in range(steps)]
    np.testing.assert_allclose(np.ravel(drawn), hump.noise_draws(runs, steps, seed=4),
                               atol=1e-12)
    # the first r * t draws serve r runs of t steps: sgd_runs from them
    z = hump.noise_draws(40, 20).reshape(20, 40)[:, :runs]
    assert not np.allclose(z, hump.noise_draws(runs, 20).reshape(20, runs))  # not per column


def test_the_playground_explorer_starts_at_the_first_frame_with_every_knob():
    explorer = playground.static_explorer("beale", "adam", param="beta1", values=[0.0, 0.9],
                                          lr=0.3, steps=40, alt="Adam on Beale.")
    assert isinstance(explorer, web.LiveExplorer)
    spec = spec_of(explorer)
    knobs = {k["key"]: k for k in spec["knobs"]}
    assert set(knobs) == {"landscape", "optimizer", "lr", "steps", "beta1", "beta2", "eps"}
    assert [knobs[k]["value"] for k in ("landscape", "optimizer", "lr", "steps", "beta1")] == [
        "beale", "adam", 0.3, 40, 0.0]
    assert set(playground.BETA1_VALUES) <= set(knobs["beta1"]["values"])
    assert spec["tour"]["settings"] == [{"beta1": 0.0}, {"beta1": 0.9}]
    assert spec["tour"]["text"] == "β1 through 0, 0.9"
    assert set(spec["optimizers"]) == set(playground.OPTIMIZERS)
    assert spec["optimizers"]["rmsprop"]["names"]["beta2"] == "α"
    assert spec["alt"] == "Adam on Beale." and spec["id"] == "explorer-adam-beta1"
    assert spec["landscapes"]["beale"]["background"].startswith("data:image/png;base64,")
    assert explorer.html.count("<script data-adam-explorers>") == 1
    bundle = explorer._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == explorer.sheet()  # the PDF's sheet


def test_a_chapters_landscape_leads_the_menu_with_its_own_start():
    bowl = landscapes.bowl((1.0, 10.0), np.pi / 6)
    spec = spec_of(playground.static_explorer(bowl, "sgd", values=[0.1], steps=5,
                                              x0=(1.0, 2.0)))
    assert spec["knobs"][0]["options"][0] == ["bowl (this chapter)", "bowl (this chapter)"]
    assert spec["landscapes"]["bowl (this chapter)"]["start"] == [1.0, 2.0]
    np.testing.assert_array_equal(spec["landscapes"]["bowl (this chapter)"]["spec"]["A"],
                                  bowl.A)


def test_the_hump_explorer_ships_the_draws_of_its_runs():
    spec = spec_of(hump.static_explorer("lr", [0.05, 0.1], noise=2.0, steps=100, runs=10))
    z = np.frombuffer(base64.b64decode(spec["draws"]), dtype="<f8")
    np.testing.assert_array_equal(z, hump.noise_draws(10, hump.SLIDER_MAX_STEPS))
    knobs = {k["key"]: k for k in spec["knobs"]}
    assert [knobs[k]["value"] for k in ("lr", "noise", "momentum", "steps", "runs")] == [
        0.05, 2.0, 0.0, 100, 10]
    assert max(knobs["runs"]["values"]) == 10  # no more runs than draws


def test_the_moments_explorer_ships_its_stream_and_moves_mu_and_sigma():
    spec = spec_of(moments.static_explorer([(0.5, 0.9), (0.9, 0.999)], steps=300))
    z = np.frombuffer(base64.b64decode(spec["draws"]), dtype="<f8")
    np.testing.assert_array_equal(2.0 + 3.0 * z, moments.gradient_stream(300, 2.0, 3.0))
    assert {k["key"] for k in spec["knobs"]} == {"beta1", "beta2", "mu", "sigma"}
    assert spec["tour"]["settings"] == [{"beta1": 0.5, "beta2": 0.9},
                                        {"beta1": 0.9, "beta2": 0.999}]


def test_readout_values_survive_the_trip_through_json():
    """The knobs' values go to the browser as JSON numbers; the browser writes them with
    String(v), which is picture.readout for these (checked in the browser by the site check)."""
    for values in (playground.LR_VALUES, playground.EPS_VALUES, playground.BETA2_VALUES,
                   hump.NOISE_VALUES, moments.SIGMA_VALUES):
        assert json.loads(json.dumps(list(values))) == list(values)
        assert all(float(picture.readout(v)) == v for v in values)
