"""The PDF (`make pdf`): read back with pdftotext/pdfimages (Debian poppler-utils).

Every chapter title, the bias-correction theorem and the figures must be in it. The
expected titles and figure counts come from the source notebooks, not from the PDF.
`make check-pdf` runs this after `make pdf`; it is not part of `make unit`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PDF = ROOT / "_build" / "pdf" / "from-sgd-to-adam.pdf"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


def squash(s: str) -> str:
    return " ".join(re.findall(r"[A-Za-z0-9]+", s)).lower()


@pytest.fixture(scope="module")
def pdf_text():
    if not PDF.is_file():
        pytest.fail(f"no PDF at {PDF}: run `make pdf` first")
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: run tools/need poppler")
    out = subprocess.run(["pdftotext", str(PDF), "-"], capture_output=True, text=True,
                         check=True).stdout
    return squash(out)


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


def test_every_figure_and_animation_is_in_the_pdf(pdf_text):
    figures = animations = 0
    for notebook in NOTEBOOKS:
        for cell in cells(notebook):
            tags = cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] != "code" or "remove-cell" in tags:
                continue
            figures += "figure" in cell["metadata"].get("mystnb", {})
            animations += bool(re.search(r"static_\w*explorer\(", source(cell)))
    listing = subprocess.run(["pdfimages", "-list", str(PDF)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    images = [row for row in listing if row.split()[2] == "image"]
    assert figures > 0 and animations > 0
    # each figure is one image, each animation one sheet of all its frames
    assert len(images) >= figures + animations, (len(images), figures, animations)
    assert pdf_text.count("fig ") >= figures  # the captions: "Fig. 5.1 ..."
