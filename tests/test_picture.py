"""Drawing an explorer: the kept background, the small PNG, the offline animation, the controls."""

import base64
import io
import os
import re

import numpy as np
import pytest
from PIL import Image

from adam_course import landscapes, optim, picture

PNG = b"\x89PNG\r\n\x1a\n"


class Dots(picture.Picture):
    """A tiny picture: a static grey line (kept) and one live red dot."""

    def __init__(self):
        super().__init__(figsize=(3.0, 2.0), dpi=50)
        ax = self.figure.add_subplot()
        self.static, = ax.plot([0, 1], [0, 1], color="0.5")
        ax.set(xlim=(0, 1), ylim=(0, 1))
        self.dot, = ax.plot([0.2], [0.8], "o", color="red", markersize=12)
        self.cache(self.dot)

    def show(self, x, y):
        self.dot.set_data([x], [y])


def pixels(png_bytes):
    return np.asarray(Image.open(io.BytesIO(png_bytes)).convert("RGB")).astype(int)


def red(png_bytes):
    """Where the picture is red: (row, column) of the red pixels' centre."""
    rgb = pixels(png_bytes)
    mask = (rgb[..., 0] > 200) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
    return np.argwhere(mask).mean(axis=0)


def test_only_the_live_artists_are_redrawn_on_the_kept_background():
    dots = Dots()
    first = dots.png()
    assert first.startswith(PNG)
    dots.show(0.8, 0.2)
    second = dots.png()
    (r1, c1), (r2, c2) = red(first), red(second)
    assert r2 > r1 and c2 > c1  # the dot moved right and down
    assert np.sum(np.all(pixels(second) > 250, axis=-1)) == np.sum(np.all(pixels(first) > 250,
                                                                          axis=-1))
    dots.static.set_color("blue")  # a change to the kept background does not show ...
    assert dots.png() == second
    dots.cache(dots.dot)  # ... until it is cached again
    assert dots.png() != second


def test_the_png_is_a_faithful_palette_image():
    dots = Dots()
    image = dots.image().convert("RGB")
    small = Image.open(io.BytesIO(picture.png(image)))
    assert small.mode == "P" and len(small.getcolors(256)) <= 256
    error = np.abs(np.asarray(small.convert("RGB"), dtype=int) - np.asarray(image, dtype=int))
    assert error.mean() < 2 and error.max() < 40


@pytest.mark.parametrize(("value", "text"), [
    (0.9999, "0.9999"), (0.9995, "0.9995"), (1000.0, "1000"), (1e-8, "1e-8"), (0.1, "0.1"),
    (2e-4, "2e-4"), (0.001, "0.001"), (0.354813, "0.354813"), (0.0, "0"),
    (1 / 3, "0.3333333333333333"), (3 * 1e-4, "3.0000000000000003e-4")])
def test_readout_writes_exactly_the_value(value, text):
    assert picture.readout(value) == text
    assert float(text) == value  # it reads back as the same float


def test_a_slider_reads_out_its_value_and_set_value_does_not_call_update():
    calls = []
    controls = {"lr": picture.slider("lr", (0.1, 0.3), 0.2)}
    picture.connect(controls, lambda **values: calls.append(values))
    lr = controls["lr"]
    assert [label for label, _ in lr.options] == ["0.1", "0.2", "0.3"] and lr.label == "0.2"
    assert lr.style.description_width == "initial"
    lr.index = 2  # the reader's key press
    assert calls == [{"lr": 0.3}]
    picture.set_value(lr, 0.0123)  # the explorer shows a value set in code: no call back
    assert lr.label == "0.0123" and lr.value == 0.0123 and calls == [{"lr": 0.3}]
    picture.set_value(lr, 0.1)
    assert calls == [{"lr": 0.3}] and lr.value == 0.1


def test_check_settings_and_check_frames_name_the_bad_value():
    picture.check_settings({"lr": 1}, {"lr": 0.1, "steps": 3})
    with pytest.raises(ValueError, match=re.escape("Invalid setting: 'beta' (must be one of "
                                                   "'lr', 'steps')")):
        picture.check_settings({"beta": 1}, {"lr": 0.1, "steps": 3})
    assert picture.check_frames(iter([1, 2])) == [1, 2]
    with pytest.raises(ValueError, match=re.escape("Invalid values: 31 values (must be 1 to 30 "
                                                   "frames")):
        picture.check_frames(range(31))


def test_run_freezes_a_diverged_run_and_restarts_a_noisy_gradient():
    bowl = landscapes.bowl(curvatures=(2.0,))  # f = x^2: GD multiplies x by 1 - 2 lr
    x0 = np.array([[1.0], [1.0]])
    xs = picture.run(optim.sgd(lr=np.array([0.25, 1.5])), lambda: bowl.grad, x0, 8, 10.0)
    np.testing.assert_allclose(xs[:, 0, 0], 0.5 ** np.arange(9))
    np.testing.assert_allclose(xs[:4, 1, 0], (-2.0) ** np.arange(4))  # |x| = 8, then 16 > 10
    assert np.all(np.isnan(xs[4:, 1]))

    def there_and_back():  # x goes 0 -> 5 -> 0: past the threshold, then back below it
        kicks = iter([-5.0, 5.0])
        return lambda x: np.full_like(x, next(kicks))

    xs = picture.run(optim.sgd(lr=1.0), there_and_back, np.zeros(1), 2, 1.0)
    np.testing.assert_array_equal(xs[:, 0], [0.0, np.nan, np.nan])  # frozen at step 1
    noisy = landscapes.stochastic(landscapes.hump(), noise=3.0, seed=2)
    guarded = optim.minimize(optim.sgd(lr=0.2), noisy.grad, np.full((5, 1), -1.6), 30,
                             divergence_threshold=1e3)  # some runs diverge
    assert np.isnan(guarded[-1]).any()
    made = picture.run(optim.sgd(lr=0.2), lambda: landscapes.stochastic(
        landscapes.hump(), noise=3.0, seed=2).grad, np.full((5, 1), -1.6), 30, 1e3)
    np.testing.assert_array_equal(made, guarded)  # the second try draws the same noise


# --------------------------------------------------------------------------------------------
# The offline animation
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def animation():
    dots = Dots()
    frames = [(x, 1 - x) for x in (0.2, 0.4, 0.6, 0.8)]
    return picture.animate(dots, frames, [f"x = {x:g}" for x, _ in frames],
                           alt='A dot moving "down".', name="x")


def urls(page):
    return re.findall(r'"data:image/png;base64,([^"]*)"', page)


def test_the_animation_page_is_offline_labelled_and_reproducible(animation):
    page = animation.html
    frames = re.search(r"var frames = (\[.*?\])", page).group(1)
    assert len(urls(frames)) == 4 and len(set(urls(frames))) == 4
    assert urls(page)[0] == urls(frames)[0]  # the first frame shows before any script runs
    assert 'alt="A dot moving &quot;down&quot;."' in page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    slider = re.search(r'<input type="range"[^>]*>', page).group(0)
    assert 'aria-label="x: frame 1 to 4"' in slider and 'aria-valuetext="x = 0.2"' in slider
    assert 'max="3"' in slider
    for button in re.findall(r"<button[^>]*>", page):
        assert re.search(r'aria-label="[^"]+"', button)
    assert "<output" in page and ">x = 0.2</output>" in page
    assert " id=" not in page  # nothing that two animations on one page could share
    again = picture.animate(Dots(), [(x, 1 - x) for x in (0.2, 0.4, 0.6, 0.8)],
                            [f"x = {x:g}" for x in (0.2, 0.4, 0.6, 0.8)],
                            alt='A dot moving "down".', name="x")
    assert again.html == page


def test_the_animation_is_also_a_png_sheet_for_the_pdf(animation):
    bundle = animation._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", "image/png"}
    assert bundle["text/html"] == animation.html
    assert "A dot moving" in bundle["text/plain"]
    sheet = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
    width, height = animation.images[0].size
    assert sheet.size == (3 * width + 2 * 12, 2 * height + 12)  # 4 frames: 3 columns, 2 rows


def test_myst_nb_picks_html_for_the_site_and_the_png_for_the_pdf():
    from myst_nb.core.render import get_mime_priority

    def first(builder):
        return next(m for m in get_mime_priority(builder, []) if m in {"text/plain", "text/html",
                                                                       "image/png"})
    assert first("html") == "text/html"
    assert first("latex") == "image/png"


def test_too_many_or_too_few_labels_are_refused():
    with pytest.raises(ValueError, match=re.escape("Invalid labels: 1 labels (must be one per "
                                                   "frame (2))")):
        picture.Animation([Image.new("RGB", (4, 4))] * 2, ["a"], "alt", "x")


def test_the_player_moves_through_the_frames_in_a_browser(animation, tmp_path):
    if not os.path.exists(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        # `make unit` alone may run without a browser; `make test` (which installs chromium
        # first and sets REQUIRE_BROWSER) and CI never skip this test
        if os.environ.get("CI") or os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("no chromium at /usr/bin/chromium (run tools/need chromium)")
        pytest.skip("no chromium (tools/need chromium installs it); make test runs this test")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "animation.html"
    page_file.write_text("<!doctype html><html lang='en'><body>" + animation.html
                         + animation.html + "</body></html>", encoding="utf-8")
    errors = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            "file:") else (errors.append(route.request.url), route.abort()))
        page.goto(page_file.as_uri())
        first, second = page.locator(".adam-course-animation").all()
        src = first.locator("img").get_attribute("src")
        first.locator('[aria-label="Next frame"]').click()
        assert first.locator("output").inner_text() == "x = 0.4"
        assert first.locator("img").get_attribute("src") != src
        assert second.locator("output").inner_text() == "x = 0.2"  # each player on its own
        slider = first.get_by_role("slider", name="x: frame 1 to 4")
        slider.focus()
        page.keyboard.press("End")
        assert first.locator("output").inner_text() == "x = 0.8"
        assert slider.get_attribute("aria-valuetext") == "x = 0.8"
        first.get_by_role("button", name="Play").click()  # at the end, play starts again
        page.wait_for_function(
            "el => el.textContent === 'x = 0.8'", arg=first.locator("output").element_handle(),
            timeout=5000)
        assert first.get_by_role("button", name="Play").count() == 1  # stopped at the end
        browser.close()
    assert errors == []
