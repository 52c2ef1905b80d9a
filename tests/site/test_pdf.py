"""The PDF (`make pdf`), read back with poppler (pdftotext, pdftohtml, pdfimages).

The reference for every number is the built site, `_build/html` (Sphinx's HTML builder
numbers chapters, sections, figures, exercises and theorems itself): the PDF must read as
the same book.

- The table of contents lists the front matter (the introduction, unnumbered), the site's
  parts, chapters 1-8 under them with their sections numbered as on the site, the
  appendices lettered (A Notation, B Glossary), and the bibliography once, at the end.
- Every numbered heading, figure caption, exercise, theorem and algorithm of the site is in
  the PDF with the same number; every running head names its chapter as the site does.
- Every cross-reference of the site to a numbered place (an exercise, a theorem, a section,
  a chapter) is a link in the PDF, with the same text, to a page that shows that number.
- A "going deeper" box (book/_ext/deeper.py) prints open, with its code cells, their
  output and a figure, in a small book built here with the same configuration.

`make check-pdf` runs this after `make pdf` (which needs `make book`); it is not part of
`make unit`.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from functools import cache
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PDF = ROOT / "_build" / "pdf" / "from-sgd-to-adam.pdf"
SITE = ROOT / "_build" / "html"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


def plain(s: str) -> str:
    """Text without TeX commands (the site keeps math as TeX source: \\(\\beta_2\\))."""
    return re.sub(r"\\[A-Za-z]+", " ", s)


def squash(s: str) -> str:
    return " ".join(re.findall(r"[A-Za-z0-9]+", plain(s))).lower()


def compact(s: str) -> str:
    """Letters and digits only: immune to line breaks, hyphenation and spacing in a PDF."""
    return "".join(re.findall(r"[A-Za-z0-9]+", plain(s))).lower()


def before_math(s: str) -> str:
    """The text up to its first formula (a rendered formula reads differently in a PDF)."""
    return re.split(r"\\\(|\\\[|\$", s, maxsplit=1)[0]


# --- the site ------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class SitePage(HTMLParser):
    """One page of the site: its numbered headings, numbered captions (figures, exercises,
    theorems, algorithms) and internal links, all inside the page's <article>."""

    def __init__(self, path: str):
        super().__init__(convert_charrefs=True)
        self.path = path
        self.stack: list[tuple[str, list[str], str | None]] = []
        self.article: int | None = None
        self.captures: list[dict] = []
        self.headings: list[tuple[int, str, str]] = []  # (level, number, title)
        self.captions: list[tuple[str, str]] = []  # (number, text)
        self.links: list[tuple[str, str]] = []  # (target "page#id", text)
        self.labels: dict[str, str] = {}  # element id -> its number and title

    def _owner(self) -> str | None:
        return next((i for _, _, i in reversed(self.stack) if i), None)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag in VOID:
            return
        self.stack.append((tag, classes, attrs.get("id")))
        depth = len(self.stack)
        if tag == "article" and "bd-article" in classes:
            self.article = depth
        if self.article is None:
            return
        if re.fullmatch(r"h[1-6]", tag):
            self.captures.append({"kind": "heading", "depth": depth, "text": [], "number": [],
                                  "level": int(tag[1]), "owner": self._owner()})
        elif tag == "span" and "section-number" in classes:
            self.captures.append({"kind": "number", "depth": depth, "text": []})
        elif tag == "a" and "headerlink" in classes:
            self.captures.append({"kind": "skip", "depth": depth, "text": []})
        elif tag == "span" and "caption-number" in classes:
            # the caption is the element around the number (figcaption's <p>, a title <p>)
            owner = next((i for _, _, i in reversed(self.stack[:-1]) if i), None)
            self.captures.append({"kind": "caption", "depth": depth - 1, "text": [],
                                  "owner": owner})
        elif tag == "a" and "internal" in classes and "href" in attrs:
            in_title = any("admonition-title" in c for _, c, _ in self.stack)
            if not in_title:  # a solution's title links back to its exercise: not prose
                self.captures.append({"kind": "link", "depth": depth, "text": [],
                                      "href": attrs["href"]})

    def handle_data(self, data):
        if any(c["kind"] == "skip" for c in self.captures):
            return  # the "#" of a heading's permalink
        for capture in self.captures:
            capture["text"].append(data)
        numbers = [c for c in self.captures if c["kind"] == "number"]
        if numbers:
            heading = next(c for c in reversed(self.captures) if c["kind"] == "heading")
            heading["number"].append(data)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack:
            open_tag = self.stack.pop()[0]
            self._close(len(self.stack))
            if open_tag == tag:
                break

    def _close(self, depth: int) -> None:
        if self.article is not None and depth < self.article:
            self.article = None
        for capture in [c for c in self.captures if c["depth"] > depth]:
            self.captures.remove(capture)
            text = " ".join("".join(capture["text"]).split())
            if capture["kind"] == "heading":
                number = "".join(capture["number"]).strip().rstrip(".")
                title = text[len("".join(capture["number"]).strip()):].strip() \
                    if number else text
                self.headings.append((capture["level"], number, title))
                if number and capture["owner"]:
                    self.labels.setdefault(capture["owner"], f"{number} {title}")
            elif capture["kind"] == "caption":
                number = re.match(r"\S+ [\d.]+|[\d.]+", text)
                if number:
                    self.captions.append((number[0], text[number.end():].strip()))
                    if capture["owner"]:
                        self.labels.setdefault(capture["owner"], text)
            elif capture["kind"] == "link":
                self.links.append((self._target(capture["href"]), text))

    def _target(self, href: str) -> str:
        page, _, anchor = href.partition("#")
        path = PurePosixPath(self.path).parent / page if page else PurePosixPath(self.path)
        parts: list[str] = []
        for part in path.parts:
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        return "/".join(parts) + ("#" + anchor if anchor else "")


@cache
def site_page(path: str) -> SitePage:
    file = SITE / path
    if not file.is_file():
        pytest.fail(f"no {file}: run `make book` (make pdf builds from the same book)")
    page = SitePage(path)
    page.feed(file.read_text(encoding="utf-8"))
    page.close()
    return page


@cache
def site_nav() -> list[tuple[str, list[str]]]:
    """The site's parts: [(caption, [page, ...])], from the navigation of the front page."""
    html = (SITE / "book" / "intro.html").read_text(encoding="utf-8")
    nav = html[html.index('bd-docs-nav'):]
    nav = nav[:nav.index("</nav>")]
    parts: list[tuple[str, list[str]]] = []
    for m in re.finditer(r'caption-text">([^<]*)<|toctree-l1[^>]*><a class="reference '
                         r'internal" href="([^"]*)"', nav):
        if m[1] is not None:
            parts.append((m[1].strip(), []))
        else:
            parts[-1][1].append(str(PurePosixPath("book") / m[2]).replace("book/../", ""))
    return parts


def site_label(target: str) -> str | None:
    """The number and title the site shows at a link's target ("6.1 An average ...",
    "Exercise 6.5 (...)"), or None if the target is not numbered."""
    page, _, anchor = target.partition("#")
    if not (SITE / page).is_file():
        return None
    parsed = site_page(page)
    if not anchor:
        return next((f"{n} {t}" for level, n, t in parsed.headings if level == 1 and n), None)
    label = parsed.labels.get(anchor)
    return label if label and re.search(r"\d", label.split(" (")[0]) else None


# --- the PDF -------------------------------------------------------------------------------

def _run(*command: str) -> str:
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is missing: run tools/need poppler")
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def pdf():
    if not PDF.is_file():
        pytest.fail(f"no PDF at {PDF}: run `make pdf` first")
    return PDF


@pytest.fixture(scope="module")
def pdf_raw(pdf):
    return _run("pdftotext", str(pdf), "-")


@pytest.fixture(scope="module")
def pdf_text(pdf_raw):
    return squash(pdf_raw)


@pytest.fixture(scope="module")
def pdf_compact(pdf_raw):
    return compact(pdf_raw)


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    """The text of each page (index 0 is page 1), as laid out."""
    return _run("pdftotext", "-layout", str(pdf), "-").split("\f")[:-1]


@pytest.fixture(scope="module")
def links(pdf) -> list[tuple[int, str, int]]:
    """Every internal link: (page, text, target page); a link broken over lines is one."""
    root = ET.fromstring(_run("pdftohtml", "-xml", "-i", "-q", "-stdout", str(pdf)))
    found: list[list] = []
    previous = None
    for page in root.iter("page"):
        for text in page.iter("text"):
            anchors = list(text.iter("a"))
            if not anchors:
                previous = None
                continue
            for a in anchors:
                href = a.get("href", "")
                if not re.fullmatch(r"[^#]*\.html#\d+", href):
                    previous = None
                    continue
                target = int(href.rsplit("#", 1)[1])
                words = "".join(a.itertext())
                if previous is not None and previous[2] == target:
                    previous[1] += " " + words
                else:
                    previous = [int(page.get("number")), words, target]
                    found.append(previous)
    return [tuple(link) for link in found]


PAGE = re.compile(r"[ivxlc]+|\d+")
ENTRY = re.compile(r"^\s*(?:(?P<label>[IVX]+|[A-Z](?:\.\d+)*|\d+(?:\.\d+)*)\s+)?"
                   r"(?P<title>.*?)(?:\s*\.)*\s+(?P<page>\d+|[ivxlc]+)\s*$")


def _is_contents(page: str) -> bool:
    lines = [line for line in page.splitlines() if line.strip()]
    return sum(ENTRY.match(line) is not None for line in lines) >= len(lines) / 2


@pytest.fixture(scope="module")
def toc_start(pages) -> int:
    """The index of the first page of the table of contents."""
    start = next((i for i, page in enumerate(pages[:20])
                  if len(page.split("\n")) > 5 and _is_contents(page)), None)
    assert start is not None, "no table of contents in the first 20 pages"
    return start


@pytest.fixture(scope="module")
def toc(pages, toc_start) -> list[tuple[str, str, str]]:
    """The table of contents: (label, squashed title, page) per line, as pdftotext reads it."""
    furniture = {squash(CONFIG["title"]), "contents", ""}
    entries, pending = [], ""
    for page in pages[toc_start:]:
        if not _is_contents(page):
            break  # past the contents
        lines = [line for line in page.splitlines() if line.strip()]
        for line in lines:
            words = squash(line).split()
            core = [w for i, w in enumerate(words)
                    if i not in (0, len(words) - 1) or not PAGE.fullmatch(w)]
            if " ".join(core) in furniture:
                continue  # running head, page number
            line = (pending + " " + line.strip()) if pending else line
            m = ENTRY.match(line)
            if m is None:
                pending = line  # a title broken over two lines
                continue
            pending = ""
            entries.append((m["label"] or "", squash(m["title"]), m["page"]))
    return entries


def expected_toc() -> list[tuple[str, str]]:
    """The contents the site implies: the introduction and its sections unnumbered, then
    each part (numbered I, II, ... but the last, the appendices), its chapters with the
    site's numbers and their sections; the appendices lettered; the bibliography last."""
    parts = site_nav()
    intro = site_page("book/intro.html")
    entries = [("", "introduction")]
    entries += [("", squash(t)) for level, _, t in intro.headings if level == 2]
    bibliography = None
    for k, (caption, docs) in enumerate(parts):
        appendix = k == len(parts) - 1
        entries.append(("" if appendix else ROMAN[k], squash(caption)))
        letters = iter("ABCDEFGH")
        for doc in docs:
            page = site_page(doc)
            level, number, title = page.headings[0]
            if appendix and squash(title) == "bibliography":
                bibliography = ("", "bibliography")
                continue
            label = next(letters) if appendix else number
            entries.append((label, squash(title)))
            sections = [h for h in page.headings[1:] if h[0] == 2]
            for m, (_, number, title) in enumerate(sections, start=1):
                entries.append((f"{label}.{m}" if appendix else number, squash(title)))
    assert bibliography, "the site's appendices have no Bibliography page"
    return entries + [bibliography]


# --- the table of contents -----------------------------------------------------------------

def test_contents_are_the_sites_parts_chapters_and_sections(toc):
    got = [(label, title) for label, title, _ in toc]
    expected = expected_toc()
    n = max(len(got), len(expected))
    rows = zip(got + [None] * (n - len(got)), expected + [None] * (n - len(expected)),
               strict=True)
    assert got == expected, "line: in the PDF / the site's\n" + "\n".join(
        f"{k + 1:3d}: {g!s:60} {e!s}" for k, (g, e) in enumerate(rows) if g != e)


def test_front_matter_appendices_and_bibliography(toc, toc_start, pages):
    assert re.search(r"^\s*contents\s*$", pages[toc_start], re.MULTILINE | re.IGNORECASE), \
        "the table of contents is not titled Contents"
    by_title = {title: (label, page) for label, title, page in toc}
    # the front matter has roman page numbers; chapter 1 opens the arabic ones
    assert re.fullmatch(r"[ivxlc]+", by_title["introduction"][1])
    assert by_title["gradient descent"][0] == "1"
    first_part = next(page for label, _, page in toc if label == "I")
    assert first_part == "1", first_part
    # the bibliography once, last, after every appendix
    assert [t for _, t, _ in toc].count("bibliography") == 1
    assert toc[-1][:2] == ("", "bibliography")
    assert int(toc[-1][2]) > max(int(p) for label, _, p in toc if re.fullmatch(r"[A-Z]", label))
    # the title page: title and author of _config.yml
    title_page = squash(pages[0])
    assert squash(CONFIG["title"]) in title_page and squash(CONFIG["author"]) in title_page


# --- numbers inside the chapters -----------------------------------------------------------

def site_chapters() -> list[str]:
    return [doc for _, docs in site_nav() for doc in docs if doc.startswith("notebooks/")]


def test_numbered_headings_and_captions_are_the_sites(pdf_compact):
    """Every section, subsection, figure, exercise, theorem and algorithm number of the site,
    with the start of its title, is in the PDF."""
    missing, checked = [], 0
    for doc in site_chapters():
        page = site_page(doc)
        items = [(n, t) for level, n, t in page.headings if n and level >= 2]
        items += page.captions
        for number, text in items:
            checked += 1
            # the title's first words, with its formulas as letters and digits (\(\beta_1\)
            # reads "1" in both), or else the words before its first formula
            keys = [compact(number) + compact(" ".join(t.split()[:8]))
                    for t in (text, before_math(text))]
            if not any(re.search(re.escape(key) + r"(?!\d)" * (key == compact(number)),
                                 pdf_compact) for key in keys):
                missing.append(f"{doc}: {number} {text[:60]}")
    assert checked > 100, checked
    assert not missing, "not in the PDF with the site's number:\n" + "\n".join(missing)


HEAD = re.compile(r"(?:^|\s)(Chapter|Appendix)\s+(\d+|[A-Z])\.\s+(.+?)\s*$")


def test_running_heads_name_the_sites_chapters(pages):
    """The foot of each left-hand page names its chapter ("Chapter 3. Momentum"), as
    numbered on the site; every chapter and appendix has such pages."""
    titles = {}
    for _, docs in site_nav():
        for k, doc in enumerate(d for d in docs if squash(site_page(d).headings[0][2])
                                != "bibliography"):
            level, number, title = site_page(doc).headings[0]
            titles[number or "ABCDEFGH"[k]] = squash(title)
    seen, wrong = set(), []
    for n, page in enumerate(pages, start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        m = HEAD.search(lines[-1]) if lines else None
        if m is None:
            continue
        seen.add(m[2])
        if titles.get(m[2]) != squash(m[3]):
            wrong.append(f"page {n}: {m[0].strip()!r}, the site's {m[1].lower()} {m[2]} is "
                         f"{titles.get(m[2])!r}")
    assert not wrong, "\n".join(wrong)
    assert seen == set(titles), (sorted(seen), sorted(titles))


def test_cross_references_point_where_the_sites_do(links, pages, pdf_raw):
    """A reference of the site to a numbered place (exercise, theorem, section, chapter) is a
    link in the PDF with the same text, and every such link lands on the page that shows the
    number the site shows there."""
    expected: dict[str, str] = {}
    count: dict[str, int] = {}
    for doc in ["book/intro.html", *site_chapters()]:
        for target, text in site_page(doc).links:
            label = site_label(target)
            if label:
                expected.setdefault(compact(text), compact(before_math(label)))
                count[compact(text)] = count.get(compact(text), 0) + 1
    assert len(expected) >= 20, expected
    by_text: dict[str, list[tuple[int, int]]] = {}
    for page, text, target in links:
        by_text.setdefault(compact(text), []).append((page, target))
    compact_pages = [compact(page) for page in pages] + [""]
    # LaTeX prints ?? (and makes no link) for a reference to a label it does not know
    problems = [f"an unresolved reference: {m[0]!r}"
                for m in re.finditer(r"(?:\S+\s+)?\?\?(?!\?)", pdf_raw)]
    for text, label in expected.items():
        if len(by_text.get(text, [])) < count[text]:
            problems.append(f"{count[text]} links {text!r} on the site, "
                            f"{len(by_text.get(text, []))} in the PDF")
            continue
        wrong = [(page, target) for page, target in by_text[text]
                 if label not in compact_pages[target - 1] + compact_pages[target]]
        # a numbered text ("Exercise 6.5") must always land there; a title ("Bias
        # correction") may also be the text of a link elsewhere (the glossary's term)
        if wrong and (re.search(r"\d", text) or len(wrong) == len(by_text[text])):
            problems += [f"the link {text!r} on page {page} goes to page {target}, which "
                         f"does not show {label!r}" for page, target in wrong]
    assert not problems, "\n".join(problems)


# --- what was tested before this layout ----------------------------------------------------

@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_title_is_in_the_pdf(pdf_text, notebook):
    title = next(m[1] for c in cells(notebook) if c["cell_type"] == "markdown"
                 for m in [re.search(r"^# (.+)$", source(c), re.MULTILINE)] if m)
    assert squash(title) in pdf_text


def test_bias_correction_theorem_is_in_the_pdf(pdf_text):
    chapter = ROOT / "notebooks" / "06_bias_correction.ipynb"
    theorem = next(m for c in cells(chapter) if c["cell_type"] == "markdown"
                   for m in [re.search(r"\{prf:theorem\}\s*(.+)", source(c))] if m)
    assert "theorem" in pdf_text and squash(theorem[1]) in pdf_text


def test_every_figure_and_animation_is_in_the_pdf(pdf, pdf_text):
    figures = animations = 0
    for notebook in NOTEBOOKS:
        for cell in cells(notebook):
            tags = cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] != "code" or "remove-cell" in tags:
                continue
            figures += "figure" in cell["metadata"].get("mystnb", {})
            animations += bool(re.search(r"static_\w*explorer\(", source(cell)))
    listing = _run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    images = [row for row in listing if row.split()[2] == "image"]
    assert figures > 0 and animations > 0
    # each figure is one image, each animation one sheet of all its frames
    assert len(images) >= figures + animations, (len(images), figures, animations)
    assert pdf_text.count("fig ") >= figures  # the captions: "Fig. 5.1 ..."


# --- going-deeper boxes ------------------------------------------------------------------------

def _notebook_tools():
    import importlib.util

    spec = importlib.util.spec_from_file_location("book_notebook_tools",
                                                  ROOT / "tools" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_going_deeper_box_of_the_chapters_prints_open(pdf_compact):
    """Each box of the chapters is in the PDF with its title, then the first line of each of
    its code cells (folded on the site, the box prints open in the PDF)."""
    tools = _notebook_tools()
    boxes, problems = 0, []
    for notebook in NOTEBOOKS:
        chapter = cells(notebook)
        regions, _ = tools.deeper_regions(chapter)
        for index, code in regions:
            match = tools.deeper_boxes(source(chapter[index]))[-1][0]
            title = match["title"].strip()
            boxes += 1
            at = pdf_compact.find(compact(before_math(title)))
            if at < 0:
                problems.append(f"{notebook.stem}: the box {title!r} is not in the PDF")
                continue
            for k in code:
                tags = chapter[k].get("metadata", {}).get("tags", [])
                line = next((ln for ln in source(chapter[k]).splitlines() if ln.strip()), "")
                if not line or {"remove-cell", "remove-input"} & set(tags):
                    continue
                if compact(line[:60]) not in pdf_compact[at:]:
                    problems.append(f"{notebook.stem}: {title!r}: {line[:60]!r} is not in the "
                                    "PDF after the box's title")
    assert boxes > 0, "no going-deeper box in the chapters"
    assert not problems, "\n".join(problems)


# --- a going-deeper box in LaTeX ---------------------------------------------------------------

def _png() -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (160, 90), (31, 119, 180)).save(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _code(source: str, outputs: list, metadata: dict | None = None) -> dict:
    folded = {"jupyter": {"source_hidden": True, "outputs_hidden": True}}  # as make strip
    return {"cell_type": "code", "execution_count": 1, "metadata": {**folded, **(metadata or {})},
            "outputs": outputs, "source": source}


def _markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def test_going_deeper_box_prints_open_with_its_code_and_figure(tmp_path):
    """A small book with the project's configuration and one chapter holding a going-deeper
    box: a markdown cell ending with the admonition, then a code cell that prints, one that
    shows a figure with a caption and one that shows a plain image. In the PDF the box is
    open: its title, prose, code, printed output, figure and caption, in that order, before
    the text after the box; in the LaTeX all of it is inside the box's environment. (The
    text after the box numbers its references as the site would: Fig. 1.1 in Section 1.1.)"""
    book = tmp_path / "book"
    book.mkdir()
    config = json.loads(json.dumps(CONFIG))
    config["title"] = "Deeper box"
    config["execute"]["execute_notebooks"] = "off"
    config["sphinx"]["local_extensions"] = {name: str(ROOT / path) for name, path
                                            in config["sphinx"]["local_extensions"].items()}
    shutil.copy(ROOT / "book" / "references.bib", book / "references.bib")
    config["bibtex_bibfiles"] = ["references.bib"]
    (book / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (book / "_toc.yml").write_text(yaml.safe_dump({
        "format": "jb-book", "root": "intro",
        "parts": [{"caption": "The part", "numbered": True, "chapters": [{"file": "box"}]}],
    }), encoding="utf-8")
    (book / "intro.md").write_text("# Deeper box\n\nThe front page.\n", encoding="utf-8")
    png = _png()
    notebook = {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "language_info": {"name": "python"}},
        "cells": [
            _markdown("# The chapter\n\n(sec-box)=\n## The section\n\nBefore the box.\n\n"
                      ":::{admonition} Going deeper: the planted box\n:class: dropdown deeper\n"
                      "Boxprose explains the code below.\n:::\n"),
            _code("print('boxsourcetoken')",
                  [{"output_type": "stream", "name": "stdout", "text": "boxoutputtoken\n"}]),
            _code("show_the_figure()  # boxfiguresource",
                  [{"output_type": "display_data", "metadata": {},
                    "data": {"image/png": png, "text/plain": "<Figure>"}}],
                  {"mystnb": {"figure": {"caption": "Boxcaption of the figure in the box",
                                         "name": "fig-box"}}}),
            _code("show_an_image()  # boximagesource",
                  [{"output_type": "display_data", "metadata": {},
                    "data": {"image/png": png, "text/plain": "<Figure>"}}]),
            _markdown("Aftertoken: the text after the box cites {numref}`fig-box` in "
                      "{numref}`sec-box`.\n"),
        ],
    }
    for k, cell in enumerate(notebook["cells"]):
        cell["id"] = f"cell-{k}"
    (book / "box.ipynb").write_text(json.dumps(notebook), encoding="utf-8")

    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run([str(jupyter_book), "build", str(book), "--builder", "pdflatex",
                          "-n", "--keep-going"], capture_output=True, text=True, cwd=tmp_path)
    latex = book / "_build" / "latex"
    built = list(latex.glob("*.pdf"))
    assert run.returncode == 0 and built, (run.stdout[-3000:], run.stderr[-3000:])

    tex = next(latex.glob("*.tex")).read_text(encoding="utf-8")
    begin = tex.find("Going deeper: the planted box")
    assert begin >= 0, "the box is not in the LaTeX"
    end = tex.index(r"\end{sphinxadmonition}", begin)
    box = tex[begin:end]
    for token in ("Boxprose", "boxsourcetoken", "boxoutputtoken", "boxfiguresource",
                  "Boxcaption", "boximagesource"):
        assert token in box, f"{token} is not inside the box in the LaTeX"
    assert box.count(r"\sphinxincludegraphics") == 2
    assert "Aftertoken" in tex[end:]

    text = squash(_run("pdftotext", str(built[0]), "-"))
    order = ["going deeper the planted box", "boxprose", "boxsourcetoken", "boxoutputtoken",
             "boxfiguresource", "fig 1 1 boxcaption", "boximagesource",
             "aftertoken the text after the box cites fig 1 1 in section 1 1"]
    positions = {token: text.find(token) for token in order}
    assert -1 not in positions.values(), positions
    assert list(positions.values()) == sorted(positions.values()), positions
    images = _run("pdfimages", "-list", str(built[0])).splitlines()[2:]
    assert len(images) >= 2, images
