"""The site's browser check finds what it exists to find (run by `make check-site` before it
checks the book): each problem is planted in a tiny page of its own, beside a clean page that
must pass. Needs Debian's chromium and axe-core (the check-site target installs both)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_site  # noqa: E402

ARTICLE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>
<body><main><article><h1>A page</h1>{}</article></main></body></html>"""

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
       "rkJggg==")

PLANTED = {
    "clean": ("<p>Plain text, <img src='dot.png' alt='a dot'> and "
              "<a href='clean.html#top'>a link</a>.</p><p id='top'>top</p>", None),
    "unlabelled": ("<p><input type='range'></p>", "label: Form elements must have labels"),
    "contrast": ("<p style='color:#bbb'>grey on white</p>", "color-contrast"),
    "no-alt": ("<p><img src='dot.png'></p>", "image without alt text"),
    "broken-image": ("<p><img src='missing.png' alt='gone'></p>", "image did not load"),
    "external": ("<p><img src='https://example.com/x.png' alt='far'></p>", "external request"),
    "raw-tex": ("<p>the rate \\(\\rho^2\\) stays raw</p>", "raw TeX left"),
    "wide-code": ("<pre style='white-space:pre;overflow-x:auto;width:300px'>"
                  + "x = 1  # " + "a" * 400 + "</pre>", "code block wider than the column"),
    "page-error": ("<script>undefined_function()</script>", "page error"),
    "dead-link": ("<p><a href='clean.html#nowhere'>gone</a></p>", "nowhere"),
    # the live explorers (adam_course/explorers.js): here with Adam's eps inside the root
    "wrong-numbers": ("{explorer}<script src='_static/adam-explorers.js'></script>",
                      "numbers: adam on bowl: the browser differs from adam_course"),
    "explorer-without-script": ("{explorer}", "explorer(s) but _static/adam-explorers.js "
                                "not loaded"),
    "script-without-explorer": ("<script src='_static/adam-explorers.js'></script>",
                                "loaded on a page without an explorer"),
}
BUG = ("x[i] = p - (lr * mhat) / (Math.sqrt(vhat) + eps);",
       "x[i] = p - (lr * mhat) / Math.sqrt(vhat + eps);")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if not Path(check_site.CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {check_site.CHROMIUM}: run tools/need chromium")
    if not check_site.AXE.is_file():
        pytest.fail(f"no axe-core at {check_site.AXE}: run make check-site")
    import base64

    from playwright.sync_api import sync_playwright

    from adam_course import moments, web

    root = tmp_path_factory.mktemp("site")
    (root / "dot.png").write_bytes(base64.b64decode(PNG))
    (root / "_static").mkdir()
    assert web.script().count(BUG[0]) == 1
    (root / "_static" / "adam-explorers.js").write_text(web.script().replace(*BUG), "utf-8")
    explorer = moments.static_explorer([(0.9, 0.999)], steps=100).page_html(inline_script=False)
    for name, (body, _) in PLANTED.items():
        (root / f"{name}.html").write_text(ARTICLE.format(body.replace("{explorer}", explorer)),
                                           encoding="utf-8")
    server = check_site.serve(root)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    found = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=check_site.CHROMIUM, headless=True,
                                         args=check_site.CHROMIUM_ARGS)
            checker = check_site.SiteChecker(root, base, browser, check_site.AXE)
            for name in PLANTED:
                found[name] = list(checker.check_page(f"{name}.html")[0])
            for problem in checker.check_links():
                page, detail = problem.split(": ", 1)
                found[page.removesuffix(".html")].append(detail)
            browser.close()
    finally:
        server.shutdown()
    return found


def test_a_clean_page_passes(results):
    assert results["clean"] == []


@pytest.mark.parametrize("name", [n for n, (_, want) in PLANTED.items() if want])
def test_a_planted_problem_is_found(results, name):
    want = PLANTED[name][1]
    assert any(want in problem for problem in results[name]), results[name]


def test_two_runs_sharing_a_directory_split_the_pages_and_still_check_anchors(tmp_path, capsys):
    # make test runs check_site in both lanes with --share: a page the other run took is not
    # loaded here, but a link into it is still checked against its HTML's ids
    if not Path(check_site.CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {check_site.CHROMIUM}: run tools/need chromium")
    site, share = tmp_path / "site", tmp_path / "share"
    site.mkdir()
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>t</title></head>"
            "<body><main><article><h1 id='{id}'>A page</h1>{body}</article></main></body></html>")
    (site / "index.html").write_text(page.format(id="top", body="<p>front</p>"), "utf-8")
    (site / "a.html").write_text(page.format(id="a", body=(
        "<p><a href='b.html#there'>there</a> and <a href='b.html#nowhere'>nowhere</a></p>")),
        "utf-8")
    (site / "b.html").write_text(page.format(id="there", body="<p>b</p>"), "utf-8")
    share.mkdir()
    assert check_site.take(share, "b.html")  # the other run has taken b.html
    assert not check_site.take(share, "b.html")
    code = check_site.main([str(site), "--share", str(share)])
    out = capsys.readouterr().out
    assert code == 1
    assert "b.html " not in out  # not loaded here
    assert "link to missing anchor b.html#nowhere" in out
    assert "b.html#there" not in out
    assert "check_site: 2 pages (1 of the site's 3 checked by the other run)" in out
    # every page taken: a later run checks nothing and passes
    assert check_site.main([str(site), "--share", str(share)]) == 0
