"""Going-deeper boxes: book/_ext/deeper.py in a real Sphinx build (HTML and LaTeX) of a tiny
book, and tools/notebooks.py's folding, checks and word counts of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "book" / "_ext")]
import notebooks as nb  # noqa: E402

BOX = (":::{admonition} Going deeper: a side question\n:class: dropdown deeper\n"
       "The box's prose.\n:::")


TITLE = ("# A chapter\n\n:::{admonition} The takeaway\n:class: important takeaway\nOne "
         "sentence.\n:::\n\nThe main text, five words.")


def md(source, **meta):
    return {"cell_type": "markdown", "metadata": meta, "source": source}


def code(source, output=None, **meta):
    outputs = [] if output is None else [
        {"output_type": "stream", "name": "stdout", "text": output}]
    return {"cell_type": "code", "metadata": meta, "source": source, "outputs": outputs,
            "execution_count": None}


def chapter():
    return {"cells": [
        md(TITLE),
        md("Some more main text.\n\n" + BOX),
        code("print('first')", "FIRST-IN-BOX\n"),
        code("print('second')", "SECOND-IN-BOX\n"),
        md("Back in the main text."),
        code("print('after')", "AFTER-THE-BOX\n"),
    ], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}


def build(tmp_path: Path, builder: str) -> Path:
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    (src / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_nb', 'sphinx_togglebutton', 'deeper']\n"
        "myst_enable_extensions = ['colon_fence']\n"
        "nb_execution_mode = 'off'\n"
        "exclude_patterns = ['_build']\n")
    (src / "index.ipynb").write_text(json.dumps(chapter()))
    out = tmp_path / builder
    # a process of its own: Sphinx registers node classes globally, once per process
    subprocess.run([sys.executable, "-m", "sphinx", "-b", builder, "-W", "-q", "-E",
                    str(src), str(out)], check=True)
    return out


def test_the_box_takes_the_code_cells_after_it_and_no_more_on_the_site(tmp_path):
    from bs4 import BeautifulSoup

    page = BeautifulSoup((build(tmp_path, "html") / "index.html").read_text(), "html.parser")
    boxes = page.select("div.admonition.dropdown.deeper")
    assert len(boxes) == 1, "one going-deeper admonition, folded by sphinx-togglebutton"
    inside = boxes[0].get_text()
    assert "Going deeper: a side question" in inside and "prose." in inside
    assert "FIRST-IN-BOX" in inside and "SECOND-IN-BOX" in inside
    assert len(boxes[0].select("div.cell")) == 2
    assert "AFTER-THE-BOX" in page.get_text() and "AFTER-THE-BOX" not in inside
    text = page.get_text()
    assert text.index("FIRST-IN-BOX") < text.index("SECOND-IN-BOX") < text.index("Back in")


def test_the_box_is_open_with_its_code_in_the_latex(tmp_path):
    tex = next((build(tmp_path, "latex")).glob("*.tex")).read_text()
    start = tex.index("Going deeper: a side question")
    end = tex.index(r"\end{sphinxadmonition}", start)
    inside = tex[start:end]
    assert "FIRST\\PYGZhy{}IN\\PYGZhy{}BOX" in inside or "FIRST-IN-BOX" in inside
    assert "SECOND" in inside and "AFTER" not in inside


def test_fold_folds_the_box_code_cells_and_check_accepts_them():
    notebook = chapter()
    nb.fold(notebook)
    folded = [i for i, c in enumerate(notebook["cells"]) if c["metadata"].get("jupyter")]
    assert folded == [2, 3]
    assert nb.check(notebook, {}) == []
    notebook["cells"][3]["metadata"].pop("jupyter")
    assert nb.check(notebook, {}) == [
        "cell 3: a code cell of a going-deeper box that JupyterLab shows unfolded "
        "(run 'make strip')"]


@pytest.mark.parametrize("box, problem", [
    (BOX.replace("dropdown ", ""), "has no 'dropdown' class"),
    (BOX.replace("Going deeper: a", "A"), "its title should start with 'Going deeper'"),
    (BOX + "\n\nA sentence after the box.", "text after a going-deeper box in the same cell"),
])
def test_check_finds_an_open_box_a_wrong_title_and_text_after_the_box(box, problem):
    notebook = chapter()
    notebook["cells"][1] = md(box)
    nb.fold(notebook)
    assert [p for p in nb.check(notebook, {}) if problem in p]


def test_word_counts_separate_main_text_boxes_and_exercises():
    notebook = chapter()
    notebook["cells"].append(md(
        "```{exercise} Try\n:label: ex-try\n\nFour words of exercise.\n```\n\n"
        "````{solution-start} ex-try\n:class: dropdown\n````\n\nTwo words."))
    notebook["cells"].append(code("x = 1"))
    notebook["cells"].append(md("````{solution-end}\n````\n\n"
                                "$$\nx = \\frac{a}{b} \\text{ not words }\n$$\n\n"
                                "```python\nnot = prose\n```\n\nThe end "
                                "<!--cite:t:kingma2015adam-->Kingma and Ba [2015]<!--/cite-->"
                                " said."))
    counts = nb.word_counts(notebook)
    # main: "A chapter" 2 + "The takeaway One sentence." 4 + 5 + 4 + 5 + "The end Kingma and Ba
    # [2015] said." 7: a heading, an admonition's title and a citation's text count, math, code
    # and markup do not; a box's and an exercise's title count
    assert counts == {"main": 27, "deeper": 8, "exercises": 7}
    nb.fold(notebook)
    entries = nb._bibliography()
    assert not [p for p in nb.check(notebook, entries, max_words=27) if "main text" in p]
    assert [p for p in nb.check(notebook, entries, max_words=26) if "main text" in p] == [
        "the main text is 27 words, more than 26 (tools/notebooks.py words counts them): fold "
        "what verifies or digresses into going-deeper boxes, or cut"]


def test_check_wants_a_takeaway_in_the_title_cell():
    notebook = chapter()
    assert not [p for p in nb.check(notebook, {}) if "no takeaway" in p]
    notebook["cells"][0] = md(TITLE.replace("takeaway\nOne", "tip\nOne"))
    assert [p for p in nb.check(notebook, {}) if "no takeaway" in p]


@pytest.mark.parametrize("prose", ["as exercise {ref}`ex-step` shows",
                                   "Exercise\n{ref}`ex-step` derives it"])
def test_check_finds_the_word_exercise_before_a_ref_to_one(prose):
    notebook = chapter()
    notebook["cells"][4] = md(prose)
    assert [p for p in nb.check(notebook, {}) if "reads 'exercise Exercise" in p]
    notebook["cells"][4] = md("as {ref}`ex-step` shows, and the exercise below")
    assert not [p for p in nb.check(notebook, {}) if "reads 'exercise Exercise" in p]
