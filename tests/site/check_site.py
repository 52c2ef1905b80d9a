"""Browser check of the built site: `python tests/site/check_site.py [_build/html]`.

Serves the built book on 127.0.0.1 (a free port), opens every page in headless Chromium
(Debian's /usr/bin/chromium, driven by Playwright) and fails, listing each problem with its
page, on:

- a request for anything that is not on the local server (data: and blob: are fine);
- a console error or an uncaught page error;
- a local file that does not load (HTTP status >= 400), or a link to a missing page/anchor;
- math left as raw TeX after MathJax has finished, or a page with math but no rendered math;
- a display equation wider than the text column at desktop width (1200 px), which a reader
  would see cut off or have to scroll: break it into aligned lines;
- an <img> that did not load, or that has no (or empty) alt text;
- a folded element (exercise solution, dropdown admonition, toggle, sphinx-design
  dropdown) whose body is visible before it is clicked, or that does not open on a click;
- a live ipywidgets output (blank without a kernel; the site must show a static
  counterpart and tag the widget cell `remove-output`);
- a search page that does not find a word of the front page offline;
- a code block (a cell's input or output) wider than the text column at desktop width
  (1200 px), which a reader would have to scroll sideways; every such block is listed.
  (book/assets/book.css wraps a code line too long for the column; each wrapped input
  line is counted in the page's notes, "wrapped N", as a hint to shorten it);
- any violation of axe-core's WCAG 2 A and AA rules (axe-core from npm, pinned in the
  Makefile and installed into .venv/node_modules; `--axe PATH` points at another copy).

`python tests/site/check_site.py DIR` checks the site in DIR: _build/html (the book) or
_build/student/html (the student edition).

Prints one line per page and a total; exits 1 on any problem. Not collected by pytest
(the file name does not start with test_); `make test` runs it after the book build.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ALLOWED_SCHEMES = {"data", "blob", "about"}
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads", ".doctrees", "jupyter_execute"}
SEARCH_WORD = "Adam"  # on the front page, so the search index must find it

# Elements whose body must stay hidden until the reader clicks: sphinx-exercise solutions,
# `:class: dropdown` / `toggle` admonitions (sphinx-togglebutton), sphinx-design {dropdown}s
# and non-admonition toggles (which sphinx-togglebutton wraps in details.toggle-details).
# Each is checked once: closed at first (a solution without `:class: dropdown` is not),
# opens on a click (on the chevron button of an admonition, else on the title), closes on a
# click on the title itself; a same-page link inside the title (a solution's link to its
# exercise) is clicked too: it must not toggle the element nor raise a page error.
# Clicks are DOM clicks, done in the page for speed. Returns {count, problems}.
FOLDED = """async () => {
    const sel = '.solution, .admonition.dropdown, .admonition.toggle, '
              + 'details.sd-dropdown, details.toggle-details';
    const root = document.querySelector('article') || document.body;
    const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
    const shown = e => e.checkVisibility({visibilityProperty: true});
    const problems = [];
    const items = [...root.querySelectorAll(sel)];
    for (const e of items) {
        const details = e.tagName === 'DETAILS';
        const label = 'folded element ' + JSON.stringify((e.id || e.className).slice(0, 60));
        const isOpen = () => details
            ? e.open
            : [...e.children].some(c => !c.classList.contains('admonition-title') && shown(c));
        const title = [...e.children].find(
            c => details ? c.tagName === 'SUMMARY' : c.classList.contains('admonition-title'));
        if (isOpen()) { problems.push(label + ' is open before any click'); continue; }
        if (!title) { problems.push(label + ' has no title to click'); continue; }
        const button = details ? null : title.querySelector(':scope > .toggle-button');
        (button || title).click();
        await frame();
        if (!isOpen()) { problems.push(label + ' does not open on a click'); continue; }
        title.click();
        await frame();
        if (isOpen()) problems.push(label + ' does not close on a click on its title');
        const link = title.querySelector('a[href^="#"]');
        if (link) {
            link.click();
            await frame();
            if (isOpen()) problems.push(label + ' toggles when the link in its title is clicked');
        }
    }
    return {count: items.length, problems: problems};
}"""

WAIT_FOR_MATHJAX = """async () => {
    const t0 = Date.now();
    while (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) {
        if (Date.now() - t0 > 10000) return false;
        await new Promise(r => setTimeout(r, 50));
    }
    await MathJax.startup.promise;
    return true;
}"""

# Visible display equations wider than their box (the text column). Returns [snippet, ...].
WIDE_MATH = r"""() => [...document.querySelectorAll('mjx-container[display="true"]')]
    .filter(m => m.offsetParent !== null && m.scrollWidth > m.clientWidth + 1)
    .map(m => `${m.scrollWidth}px in ${m.clientWidth}px: `
              + (m.querySelector('mjx-assistive-mml') || m).textContent.trim().slice(0, 60))"""

# Raw TeX delimiters left in visible text outside code (MathJax removes them when it
# typesets). Returns [snippet, ...].
RAW_TEX = r"""() => {
    const bad = [];
    document.querySelectorAll('.math').forEach(el => {
        if (!el.querySelector('mjx-container')) bad.push(el.textContent.trim().slice(0, 80));
    });
    const skip = 'PRE,CODE,SCRIPT,STYLE,TEXTAREA,MJX-CONTAINER,MJX-ASSISTIVE-MML';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const pattern = /\\\(|\\\[|\$\$/;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!pattern.test(n.nodeValue)) continue;
        let p = n.parentElement, inCode = false;
        for (; p; p = p.parentElement) {
            if (skip.split(',').includes(p.tagName) || p.classList.contains('highlight')) {
                inCode = true; break;
            }
        }
        if (!inCode) bad.push(n.nodeValue.trim().slice(0, 80));
    }
    return bad;
}"""

IMAGES = """async () => {
    const imgs = [...document.images];
    await Promise.all(imgs.map(img => {
        img.loading = 'eager';
        if (img.complete) return null;
        return new Promise(r => {
            img.addEventListener('load', r); img.addEventListener('error', r);
            setTimeout(r, 5000);
        });
    }));
    return imgs.map(img => ({
        src: (img.getAttribute('src') || img.id || '').slice(0, 80),
        loaded: img.complete && img.naturalWidth > 0,
        alt: img.getAttribute('alt'),
    }));
}"""

# Code blocks (inputs and outputs) that scroll sideways in the text column. Returns [snippet].
WIDE_CODE = r"""() => [...document.querySelectorAll('article pre')]
    .filter(p => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1)
    .map(p => {
        const lines = p.textContent.split('\n');
        const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
        const cell = p.closest('.cell');
        const where = cell ? (p.closest('.cell_output') ? 'output' : 'input') : 'code';
        return `${where}, ${p.scrollWidth}px in ${p.clientWidth}px: ${longest.trim().slice(0, 70)}`;
    })"""

# Input code lines longer than fit the column (book.css wraps them). Returns a count.
WRAPPED_CODE = r"""() => {
    let n = 0;
    for (const pre of document.querySelectorAll('article div.cell_input pre')) {
        if (pre.offsetParent === null) continue;
        const style = getComputedStyle(pre);
        const probe = document.createElement('span');
        probe.textContent = 'x'.repeat(100);
        pre.appendChild(probe);
        const char = probe.getBoundingClientRect().width / 100;
        probe.remove();
        const room = pre.clientWidth - parseFloat(style.paddingLeft)
                     - parseFloat(style.paddingRight);
        n += pre.textContent.split('\n').filter(line => line.length * char > room + 1).length;
    }
    return n;
}"""

DROP_MATH = """() => {
    for (const e of document.querySelectorAll('mjx-container')) {
        e.replaceWith(document.createElement('span'));
    }
}"""

# axe-core's WCAG 2 A/AA rules (WCAG 2.0, axe's tags wcag2a and wcag2aa) on the page (axe
# is injected first). Returns violations.
AXE_RUN = """async () => {
    const result = await axe.run({exclude: [['mjx-container']]}, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']},
        resultTypes: ['violations'],
    });
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
        count: v.nodes.length,
    }));
}"""
AXE = Path(__file__).resolve().parents[2] / ".venv" / "node_modules" / "axe-core" / "axe.min.js"

LINKS_AND_IDS = """() => ({
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
})"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the output to one line per page
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # the browser closes a connection when it leaves a page before a download ends: not a
        # problem of the site, and socketserver would print a traceback for each
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(root: Path):
    handler = functools.partial(QuietHandler, directory=str(root))
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def site_pages(root: Path) -> list[str]:
    pages = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root)
        if rel.parts[0] in SKIP_DIRS:
            continue
        pages.append(rel.as_posix())
    return pages


def redirect_target(html: str) -> str | None:
    m = re.search(r'http-equiv="refresh"[^>]*url=([^"\';>]+)', html, re.IGNORECASE)
    return m.group(1) if m else None


class SiteChecker:
    def __init__(self, root: Path, base: str, browser, axe: Path | None = None):
        self.root, self.base, self.axe = root, base, axe
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(60000)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("response", self._response)
        self.problems: list[str] = []
        self.requested: list[str] = []
        self.ids: dict[str, set[str]] = {}
        self.links: list[tuple[str, str]] = []

    # -- event handlers -------------------------------------------------------------
    def _route(self, route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ALLOWED_SCHEMES or url.startswith(self.base):
            self.requested.append(url)
            route.continue_()
        else:
            self.problems.append(f"external request: {url[:120]}")
            route.abort()

    def _console(self, msg):
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text[:200]}")

    def _response(self, response):
        if response.url.startswith(self.base) and response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url[len(self.base) :]}")

    # -- checks -----------------------------------------------------------------------
    def check_page(self, rel: str) -> tuple[list[str], str]:
        self.problems, self.requested = [], []
        html = (self.root / rel).read_text(encoding="utf-8", errors="replace")
        target = redirect_target(html)
        if target is not None:
            dest = (self.root / rel).parent / target.split("#")[0]
            if not dest.is_file():
                self.problems.append(f"redirect to missing page {target}")
            return self.problems, f"redirect to {target}"

        self.page.goto(self.base + rel, wait_until="load")
        notes = []
        n_math = self.page.locator(".math").count()
        if n_math or self.page.locator("script[src*='mathjax']").count():
            if not self.page.evaluate(WAIT_FOR_MATHJAX):
                self.problems.append("MathJax did not start within 10 s")
        if n_math:
            rendered = self.page.locator("mjx-container").count()
            if rendered == 0:
                self.problems.append(f"{n_math} math elements but no rendered math")
            notes.append(f"math {rendered}")
        for snippet in self.page.evaluate(RAW_TEX):
            self.problems.append(f"raw TeX left: {snippet!r}")
        for snippet in self.page.evaluate(WIDE_MATH):
            self.problems.append(f"display equation wider than the column: {snippet!r}")

        images = self.page.evaluate(IMAGES)
        for img in images:
            if not img["loaded"]:
                self.problems.append(f"image did not load: {img['src']}")
            if not (img["alt"] or "").strip():
                self.problems.append(f"image without alt text: {img['src']}")
        if images:
            notes.append(f"img {len(images)}")

        widgets = self.page.locator("script[type='application/vnd.jupyter.widget-view+json']")
        if widgets.count():
            self.problems.append(
                f"{widgets.count()} live ipywidgets output(s), blank on the static site: tag "
                "the cell remove-output and show a static counterpart"
            )

        for snippet in self.page.evaluate(WIDE_CODE):
            self.problems.append(f"code block wider than the column: {snippet}")
        wrapped = self.page.evaluate(WRAPPED_CODE)
        if wrapped:
            notes.append(f"wrapped {wrapped}")

        folded = self.check_folded()
        if folded:
            notes.append(f"folded {folded}")

        found = self.page.evaluate(LINKS_AND_IDS)
        self.ids[rel] = set(found["ids"])
        self.links.extend((rel, href) for href in found["links"])

        if self.axe is not None:  # last: it takes the rendered math out of the page
            notes.append(self.check_axe())

        if rel == "search.html":
            notes.append(self.check_search())
        # Give late requests (fonts, async scripts) a moment to show up.
        self.page.wait_for_timeout(50)
        return self.problems, ", ".join(notes)

    def check_axe(self) -> str:
        """axe-core's WCAG 2 A/AA rules, on the page as loaded (solutions folded)."""
        # axe leaves MathJax's output out (AXE_RUN excludes it), but it still builds its tree
        # of the whole page first, and a chapter's math is over half the page's elements:
        # without them axe takes 2.4 times less time. Nothing else is checked after this.
        self.page.evaluate(DROP_MATH)
        self.page.add_script_tag(path=str(self.axe))
        violations = self.page.evaluate(AXE_RUN)
        for v in violations:
            self.problems.append(
                f"accessibility ({v['impact']}) {v['id']}: {v['help']} -- {v['count']} "
                f"element(s), e.g. {', '.join(v['nodes'])}")
        return f"axe {len(violations)} violation(s)"

    def check_folded(self) -> int:
        result = self.page.evaluate(FOLDED)
        self.problems.extend(result["problems"])
        return result["count"]

    def check_search(self) -> str:
        self.page.goto(self.base + "search.html?q=" + SEARCH_WORD, wait_until="load")
        try:
            self.page.wait_for_selector("#search-results li", timeout=10000)
        except Exception:
            self.problems.append(f"search for {SEARCH_WORD!r} found nothing")
            return "search failed"
        hits = self.page.locator("#search-results li").count()
        if not any(u.startswith(self.base) and "searchindex.js" in u for u in self.requested):
            self.problems.append("search did not load the local searchindex.js")
        return f"search {SEARCH_WORD!r}: {hits} hits"

    def check_links(self) -> list[str]:
        problems = []
        for page, href in self.links:
            if not href.startswith(self.base):
                continue
            url, fragment = urldefrag(href)
            rel = unquote(urlsplit(url).path)[len(urlsplit(self.base).path) :]
            if rel == "" or rel.endswith("/"):
                rel += "index.html"
            path = self.root / rel
            if not path.exists():
                problems.append(f"{page}: link to missing file {rel}")
            elif fragment and rel in self.ids and unquote(fragment) not in self.ids[rel]:
                problems.append(f"{page}: link to missing anchor {rel}#{fragment}")
        return sorted(set(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--axe", type=Path, default=AXE, help="axe.min.js of axe-core")
    args = parser.parse_args(argv)
    root = args.site.resolve()
    if not (root / "index.html").is_file():
        print(f"check_site: no built site at {root} (run `make book` first)")
        return 1
    if not args.axe.is_file():
        print(f"check_site: no axe-core at {args.axe} (`make check-site` installs it)")
        return 1
    if not Path(CHROMIUM).is_file():
        print(f"check_site: no Chromium at {CHROMIUM} (run tools/need chromium)")
        return 1

    from playwright.sync_api import sync_playwright

    t0 = time.perf_counter()
    server = serve(root)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    pages = site_pages(root)
    failures: dict[str, list[str]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            checker = SiteChecker(root, base, browser, args.axe)
            for rel in pages:
                t = time.perf_counter()
                try:
                    problems, notes = checker.check_page(rel)
                except Exception as exc:  # a crash in one page is a problem, not the end
                    problems, notes = checker.problems + [f"check crashed: {exc}"], ""
                status = "FAIL" if problems else "ok  "
                print(f"{status} {rel:<45} {time.perf_counter() - t:5.2f}s  {notes}")
                if problems:
                    failures[rel] = list(dict.fromkeys(problems))
            for problem in checker.check_links():
                page, detail = problem.split(": ", 1)
                failures.setdefault(page, []).append(detail)
            browser.close()
    finally:
        server.shutdown()

    n_problems = sum(len(p) for p in failures.values())
    for rel, problems in failures.items():
        print(f"\n{rel}:")
        for problem in problems:
            print(f"  - {problem}")
    elapsed = time.perf_counter() - t0
    print(
        f"\ncheck_site: {len(pages)} pages, {len(failures)} with problems, "
        f"{n_problems} problem(s), {elapsed:.1f}s"
    )
    print(f"check_site: {len(pages) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
