"""Chapter 6's moments explorer: one seeded stream, its raw and corrected averages.

References: chapter 6's own seeded draw, and the unrolled EMA sums as a matrix product.
"""

import re

import ipywidgets
import numpy as np
import pytest

from adam_course import catalog, moments, picture

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
    np.testing.assert_array_equal(moments.gradient_stream(), chapter_stream())
    np.testing.assert_array_equal(moments.gradient_stream(10, mu=2.0, sigma=3.0, seed=0),
                                  2.0 + 3.0 * np.random.default_rng(0).standard_normal(10))
    assert not np.array_equal(moments.gradient_stream(seed=7), chapter_stream())


@pytest.mark.parametrize("beta1, beta2", [(0.9, 0.999), (0.0, 0.9), (0.99, 0.9999)])
def test_averages_are_the_unrolled_sums_and_their_corrections(beta1, beta2):
    stream = chapter_stream()
    np.testing.assert_allclose(moments.averages(stream, beta1, beta2),
                               unrolled_moments(stream, beta1, beta2), rtol=1e-10, atol=1e-13)


def test_averages_of_a_constant_stream_are_corrected_exactly():
    t = np.arange(1, 51)
    m, m_hat, v, v_hat = moments.averages(np.full(50, -3.0), 0.9, 0.999)
    np.testing.assert_allclose(m, -3.0 * (1 - 0.9**t), rtol=1e-12)
    np.testing.assert_allclose(v, 9.0 * (1 - 0.999**t), rtol=1e-12)
    np.testing.assert_allclose(m_hat, -3.0, rtol=1e-12)
    np.testing.assert_allclose(v_hat, 9.0, rtol=1e-12)


def plotted(explorer):
    return np.array([line.get_ydata() for line in explorer.picture.lines])


def test_explorer_plots_the_averages_of_the_chapters_stream_and_follows_its_sliders():
    explorer = moments.explorer()
    assert isinstance(explorer, ipywidgets.VBox)
    assert set(explorer.controls) == {"beta1", "beta2"}
    stream = chapter_stream()
    np.testing.assert_allclose(plotted(explorer), unrolled_moments(stream, 0.9, 0.999),
                               rtol=1e-10, atol=1e-13)
    raw_m, hat_m = explorer.picture.lines[:2]
    assert hat_m.get_color() == catalog.entry("adam").color != raw_m.get_color()
    first = bytes(explorer.image.value)
    assert first.startswith(PNG)

    explorer.controls["beta1"].value = 0.5  # what the reader's slider move does
    explorer.controls["beta2"].value = 0.9
    assert explorer.settings == {"beta1": 0.5, "beta2": 0.9}
    np.testing.assert_allclose(plotted(explorer), unrolled_moments(stream, 0.5, 0.9),
                               rtol=1e-10, atol=1e-13)
    assert bytes(explorer.image.value).startswith(PNG) and bytes(explorer.image.value) != first
    assert explorer.caption.value == "β1 = 0.5, β2 = 0.9"


def test_every_readout_is_written_as_the_caption_writes_the_value_used():
    explorer = moments.explorer(steps=50)
    for key, symbol in (("beta1", "β1"), ("beta2", "β2")):
        control = explorer.controls[key]
        for index in range(len(control.options)):
            control.index = index  # a key press on the slider
            assert f"{symbol} = {control.label}" in explorer.caption.value
            assert float(control.label) == explorer.settings[key]


def test_explorer_accepts_a_beta2_that_is_not_on_the_slider():
    explorer = moments.explorer(beta2=0.95, steps=50)
    assert explorer.controls["beta2"].value == 0.95 and explorer.controls["beta2"].label == "0.95"
    np.testing.assert_allclose(plotted(explorer)[3],
                               unrolled_moments(explorer.stream, 0.9, 0.95)[3], rtol=1e-10)


def test_a_bad_update_raises_and_changes_nothing():
    explorer = moments.explorer(steps=100)
    before, lines = dict(explorer.settings), plotted(explorer)
    with pytest.raises(ValueError, match=re.escape("Invalid beta1: 1.0 (must be a finite number "
                                                   "in [0, 1))")):
        explorer.update(beta1=1.0)
    with pytest.raises(ValueError, match=re.escape("Invalid setting: 'beta' (must be one of")):
        explorer.update(beta=0.5)
    assert explorer.settings == before
    np.testing.assert_array_equal(plotted(explorer), lines)


def test_static_explorer_is_an_animation_with_one_frame_per_pair():
    pairs = [(0.5, 0.9), (0.9, 0.999), (0.99, 0.9999)]
    animation = moments.static_explorer(pairs, steps=200, alt="Moments of one stream.")
    assert isinstance(animation, picture.Animation)
    assert len(animation.frames) == 3 and len(set(animation.frames)) == 3
    assert animation.labels == ["β1 = 0.5, β2 = 0.9", "β1 = 0.9, β2 = 0.999",
                                "β1 = 0.99, β2 = 0.9999"]
    assert animation.alt == "Moments of one stream."
    again = moments.static_explorer(pairs, steps=200, alt="Moments of one stream.")
    assert again.html == animation.html  # reproducible: a rebuilt site does not change
    generated = moments.static_explorer(pairs[:1], steps=20)
    assert generated.alt.startswith("Animation: the raw and bias-corrected averages")


def test_titles_stay_on_the_picture_of_the_animation():
    drawing = moments.MomentsPicture(steps=100, titled=True)
    drawing.show(moments.averages(moments.gradient_stream(100), 0.5, 0.9), 0.5, 0.9)
    drawing.image()
    box = drawing.figure.bbox
    titles = [ax.title for ax in drawing.axes]
    assert [t.get_text() for t in titles] == ["first moment, β1 = 0.5", "second moment, β2 = 0.9"]
    for title in titles:
        extent = title.get_window_extent()
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1


@pytest.mark.parametrize("make, message", [
    (lambda: moments.explorer(beta1=1.0), "Invalid beta1: 1.0 (must be a finite number in [0, 1))"),
    (lambda: moments.explorer(beta2=-0.1), "Invalid beta2: -0.1"),
    (lambda: moments.explorer(steps=0), "Invalid steps: 0 (must be an integer in [1, "),
    (lambda: moments.explorer(sigma=0.0), "Invalid sigma: 0.0"),
    (lambda: moments.gradient_stream(mu=float("nan")), "Invalid mu: nan"),
    (lambda: moments.averages(np.ones((2, 2))), "Invalid stream: shape (2, 2)"),
    (lambda: moments.static_explorer([]), "Invalid pairs: 0 pairs (must be 1 to 30 frames"),
    (lambda: moments.static_explorer([(0.5, 0.9)] * 31), "Invalid pairs: 31 pairs"),
    (lambda: moments.static_explorer([(0.9,)]), "Invalid pairs: (0.9,)"),
    (lambda: moments.static_explorer([(0.9, 1.0)]), "Invalid beta2: 1.0"),
])
def test_bad_explorer_arguments_raise_naming_them(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()
