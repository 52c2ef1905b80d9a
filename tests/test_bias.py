"""adam_course.bias: chapter 6's moments explorer.

The moments explorer is checked against chapter 6's own seeded draw and the unrolled EMA sums.
"""

import re

import ipywidgets
import numpy as np
import pytest
from IPython.display import HTML

from adam_course import bias, plotting

# --------------------------------------------------------------------------------------------
# The moments explorer: one seeded stream, its raw and corrected averages, live and static
# --------------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n"


def chapter_stream():
    """Row 0 of chapter 6's 5,000 streams g_t ~ N(1, 1), drawn the way the chapter draws them."""
    return 1.0 + 1.0 * np.random.default_rng(6).standard_normal((5000, 1000))[0]


def unrolled_moments(xs, beta1, beta2):
    """m_t, m_hat_t, v_t, v_hat_t as the sums (1 - b) sum_{i<=t} b^(t-i) x_i, over 1 - b^t."""
    t, i = np.arange(1, len(xs) + 1)[:, None], np.arange(1, len(xs) + 1)[None, :]
    rows = []
    for beta, x in ((beta1, xs), (beta2, xs**2)):
        weights = np.where(i <= t, (1 - beta) * beta ** np.clip(t - i, 0, None), 0.0)
        raw = weights @ x
        rows += [raw, raw / (1 - beta ** t[:, 0])]
    return np.array(rows)


def test_gradient_stream_is_row_0_of_the_chapters_seeded_array():
    np.testing.assert_array_equal(bias.gradient_stream(), chapter_stream())
    np.testing.assert_array_equal(bias.gradient_stream(10, mu=2.0, sigma=3.0, seed=0),
                                  2.0 + 3.0 * np.random.default_rng(0).standard_normal(10))
    assert not np.array_equal(bias.gradient_stream(seed=7), chapter_stream())


@pytest.mark.parametrize("beta1, beta2", [(0.9, 0.999), (0.0, 0.9), (0.99, 0.9999)])
def test_moments_are_the_unrolled_sums_and_their_corrections(beta1, beta2):
    stream = chapter_stream()
    np.testing.assert_allclose(bias.moments(stream, beta1, beta2),
                               unrolled_moments(stream, beta1, beta2), rtol=1e-10, atol=1e-13)


def test_moments_of_a_constant_stream_are_corrected_exactly():
    t = np.arange(1, 51)
    m, m_hat, v, v_hat = bias.moments(np.full(50, -3.0), 0.9, 0.999)
    np.testing.assert_allclose(m, -3.0 * (1 - 0.9**t), rtol=1e-12)
    np.testing.assert_allclose(v, 9.0 * (1 - 0.999**t), rtol=1e-12)
    np.testing.assert_allclose(m_hat, -3.0, rtol=1e-12)
    np.testing.assert_allclose(v_hat, 9.0, rtol=1e-12)


def plotted(explorer):
    return np.array([line.get_ydata() for line in explorer.picture.lines])


def test_explorer_plots_the_averages_of_the_chapters_stream_and_follows_its_sliders():
    explorer = bias.moments_explorer()
    assert isinstance(explorer, ipywidgets.VBox)
    assert set(explorer.controls) == {"beta1", "beta2"}
    stream = chapter_stream()
    np.testing.assert_allclose(plotted(explorer), unrolled_moments(stream, 0.9, 0.999),
                               rtol=1e-10, atol=1e-13)
    raw_m, hat_m = explorer.picture.lines[:2]
    assert hat_m.get_color() == plotting.color("adam") and raw_m.get_color() != hat_m.get_color()
    first = bytes(explorer.image.value)
    assert first.startswith(PNG)

    explorer.controls["beta1"].value = 0.5  # what dragging the slider does
    explorer.controls["beta2"].value = 0.9
    assert explorer.settings == {"beta1": 0.5, "beta2": 0.9}
    np.testing.assert_allclose(plotted(explorer), unrolled_moments(stream, 0.5, 0.9),
                               rtol=1e-10, atol=1e-13)
    assert bytes(explorer.image.value).startswith(PNG) and bytes(explorer.image.value) != first
    titles = [ax.title.get_text() for ax in explorer.picture.axes]
    assert titles == ["first moment, β1 = 0.5", "second moment, β2 = 0.9"]


def test_explorer_accepts_a_beta2_that_is_not_on_the_slider():
    explorer = bias.moments_explorer(beta2=0.95, steps=50)
    assert explorer.controls["beta2"].value == 0.95
    np.testing.assert_allclose(plotted(explorer)[3],
                               unrolled_moments(explorer.stream, 0.9, 0.95)[3], rtol=1e-10)


def test_a_bad_update_raises_and_changes_nothing():
    explorer = bias.moments_explorer(steps=100)
    before, lines = dict(explorer.settings), plotted(explorer)
    with pytest.raises(ValueError, match=re.escape("Invalid beta1: 1.0 (must be a number in")):
        explorer.update(beta1=1.0)
    with pytest.raises(ValueError, match=re.escape("Invalid setting: 'beta' (must be one of")):
        explorer.update(beta=0.5)
    assert explorer.settings == before
    np.testing.assert_array_equal(plotted(explorer), lines)


def frames(page):
    return re.findall(r'frames\[\d+\] = "data:image/png;base64,([^"]*)"', page)


def test_static_moments_explorer_is_an_offline_animation_with_one_frame_per_pair():
    pairs = [(0.5, 0.9), (0.9, 0.999), (0.99, 0.9999)]
    html = bias.static_moments_explorer(pairs, steps=200, alt="Moments of one stream.")
    assert isinstance(html, HTML)
    page = html.data
    assert len(frames(page)) == 3 and len(set(frames(page))) == 3
    assert 'alt="Moments of one stream."' in page
    assert "http://" not in page and "https://" not in page
    again = bias.static_moments_explorer(pairs, steps=200, alt="Moments of one stream.")
    assert again.data == page  # reproducible, so the built site does not change for nothing
    generated = bias.static_moments_explorer(pairs[:1], steps=20).data
    assert 'alt="Animation: the raw and bias-corrected averages' in generated


def test_titles_stay_on_the_flattened_picture_of_the_animation():
    picture = bias.MomentsPicture(steps=100)
    picture.flatten()
    picture.show(bias.moments(bias.gradient_stream(100), 0.5, 0.9), 0.5, 0.9)
    picture.figure.canvas.draw()
    box = picture.figure.bbox
    for ax in picture.axes:
        title = ax.title.get_window_extent()
        assert box.x0 <= title.x0 and title.x1 <= box.x1 and box.y0 <= title.y0
        assert title.y1 <= box.y1


@pytest.mark.parametrize("make, message", [
    (lambda: bias.moments_explorer(beta1=1.0), "Invalid beta1: 1.0 (must be a number in [0, 1))"),
    (lambda: bias.moments_explorer(beta2=-0.1), "Invalid beta2: -0.1"),
    (lambda: bias.moments_explorer(steps=0), "Invalid steps: 0 (must be an integer in [1, "),
    (lambda: bias.moments_explorer(sigma=0.0), "Invalid sigma: 0.0"),
    (lambda: bias.gradient_stream(mu=float("nan")), "Invalid mu: nan"),
    (lambda: bias.moments(np.ones((2, 2))), "Invalid stream: shape (2, 2)"),
    (lambda: bias.static_moments_explorer([]), "Invalid pairs: 0 pairs (must be 1 to 30)"),
    (lambda: bias.static_moments_explorer([(0.5, 0.9)] * 31), "Invalid pairs: 31 pairs"),
    (lambda: bias.static_moments_explorer([(0.9,)]), "Invalid pairs: (0.9,)"),
    (lambda: bias.static_moments_explorer([(0.9, 1.0)]), "Invalid beta2: 1.0"),
])
def test_bad_explorer_arguments_raise_naming_them(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()
