"""tools/notebooks.py (folding, citations, the student edition) and the detection logic of
tests/lab/check_lab.py, on small hand-made notebooks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests" / "lab"), str(ROOT / "book" / "_ext")]
import check_lab  # noqa: E402
from labcite import markers_to_roles  # noqa: E402

import notebooks as nb  # noqa: E402


def md(source, **meta):
    return {"cell_type": "markdown", "metadata": meta, "source": source}


def code(source, **meta):
    return {"cell_type": "code", "metadata": meta, "source": source, "outputs": [],
            "execution_count": None}


def exercise_notebook():
    return {"cells": [
        md("```{exercise} Step\n:label: ex-step\n\nWrite a step.\n```"),
        code("def step(x):\n    raise NotImplementedError\n\ncheck(step)"),
        md("````{solution-start} ex-step\n:class: dropdown\n````\n\nSubtract the gradient."),
        code("def step(x):\n    return x - 0.1 * x  # the answer"),
        code("print(step(1.0))  # the solution's second cell"),
        md("````{solution-end}\n````\n\n```{exercise} Why\n:label: ex-why\n\nExplain.\n```\n\n"
           "```{solution} ex-why\n:class: dropdown\n\nBecause of the curvature of it all.\n```"),
        code("print('after the exercises')"),
    ]}


def test_fold_marks_exactly_the_cells_inside_a_solution():
    notebook = exercise_notebook()
    nb.fold(notebook)
    folded = [i for i, c in enumerate(notebook["cells"]) if "jupyter" in c["metadata"]]
    assert folded == [3, 4]
    assert notebook["cells"][3]["metadata"]["jupyter"] == {"source_hidden": True,
                                                          "outputs_hidden": True}
    assert notebook["cells"][4]["metadata"]["jupyter"] == {"source_hidden": True,
                                                          "outputs_hidden": True}
    assert nb.check(notebook, {}) == []


def test_check_finds_a_markdown_cell_wholly_inside_a_solution():
    # JupyterLab shows a folded markdown cell's rendered text: the text belongs in the
    # solution-start cell, which the dropdown folds
    notebook = exercise_notebook()
    notebook["cells"][4] = md("Another paragraph of the solution, long enough to be found.")
    nb.fold(notebook)
    problems = nb.check(notebook, {})
    assert [p for p in problems if "wholly inside a solution" in p] == [
        "cell 4: a markdown cell wholly inside a solution (JupyterLab shows its rendered text "
        "even when folded): move the text into the solution-start cell"]


def test_check_finds_an_unfolded_solution_and_a_stray_fold():
    notebook = exercise_notebook()
    nb.fold(notebook)
    del notebook["cells"][3]["metadata"]["jupyter"]
    notebook["cells"][6]["metadata"]["jupyter"] = {"source_hidden": True}
    problems = nb.check(notebook, {})
    assert any(p.startswith("cell 3: a solution cell") for p in problems)
    assert any(p.startswith("cell 6: hidden in JupyterLab") for p in problems)


def test_check_finds_solution_text_sharing_a_cell_with_the_solution_end():
    notebook = exercise_notebook()
    nb.fold(notebook)
    assert nb.check(notebook, {}) == []
    end = notebook["cells"][5]
    end["source"] = "The last words of the answer.\n" + end["source"]
    assert any("before a solution-end" in p for p in nb.check(notebook, {}))


def test_check_finds_a_solution_that_is_not_a_dropdown_and_one_left_open():
    notebook = exercise_notebook()
    notebook["cells"][2]["source"] = "````{solution-start} ex-step\n````\n\nSubtract."
    del notebook["cells"][5]
    problems = nb.check(notebook, {})
    assert any("without ':class: dropdown'" in p for p in problems)
    assert any("solution-start without a solution-end" in p for p in problems)


def test_student_edition_removes_every_solution_and_keeps_every_exercise():
    notebook = exercise_notebook()
    assert nb.remove_solutions(notebook) == 2
    body = "\n".join(nb.text(c) for c in notebook["cells"])
    assert "the answer" not in body and "Subtract" not in body and "curvature" not in body
    assert "solution" not in body
    assert ":label: ex-step" in body and ":label: ex-why" in body
    assert "raise NotImplementedError" in body and "after the exercises" in body


class Entry:
    def __init__(self, year, *authors):
        from pybtex.database import Person

        self.fields = {"year": year}
        self.persons = {"author": [Person(a) for a in authors]}


ENTRIES = {"kingma2015adam": Entry("2015", "Kingma, Diederik P.", "Ba, Jimmy"),
           "goh2017momentum": Entry("2017", "Goh, Gabriel"),
           "bottou2018": Entry("2018", "Bottou, L.", "Curtis, F.", "Nocedal, J.")}


def test_citations_round_trip_between_roles_and_jupyterlab_text():
    notebook = {"cells": [md("See {cite:t}`kingma2015adam` and {cite:p}`goh2017momentum,"
                             "bottou2018`; also {cite}`goh2017momentum`.")]}
    nb.cite(notebook, ENTRIES)
    text = nb.text(notebook["cells"][0])
    assert "<!--cite:t:kingma2015adam-->Kingma and Ba [2015]<!--/cite-->" in text
    assert ("<!--cite:p:goh2017momentum,bottou2018-->[Goh, 2017, Bottou et al., 2018]"
            "<!--/cite-->") in text
    assert nb.check(notebook, ENTRIES) == []
    assert markers_to_roles(text) == ("See {cite:t}`kingma2015adam` and "
                                      "{cite:p}`goh2017momentum,bottou2018`; also "
                                      "{cite:p}`goh2017momentum`.")


def test_citation_text_decodes_latex_accents():
    """What JupyterLab shows is what the book prints: Gürbüzbalaban, not G"urb"uzbalaban."""
    entries = {"g": Entry("2021", 'G{\\"u}rb{\\"u}zbalaban, Mert', "{\\c{S}}im{\\c{s}}ekli, Umut"),
               "b": Entry("2018", "Bottou, L{\\'e}on"), "r": Entry("2020", "Richt{\\'a}rik, Peter")}
    assert nb.cite_text("t", ["g"], entries) == "Gürbüzbalaban and Şimşekli [2021]"
    assert nb.cite_text("p", ["b", "r"], entries) == "[Bottou, 2018, Richtárik, 2020]"


def test_check_finds_a_raw_role_a_stale_text_and_an_unknown_key():
    notebook = {"cells": [md("{cite:t}`kingma2015adam`, "
                             "<!--cite:t:goh2017momentum-->Goh [2016]<!--/cite-->, "
                             "<!--cite:p:nobody-->[?]<!--/cite-->")]}
    problems = nb.check(notebook, ENTRIES)
    assert len(problems) == 3
    assert "raw key" in problems[0] and "stale" in problems[1] and "nobody" in problems[2]
    with pytest.raises(KeyError):
        nb.cite(notebook, ENTRIES)


@pytest.mark.parametrize("raw", [":::{admonition} In this chapter", "```{exercise} Step",
                                 "as {cite:t}`kingma2015adam` showed", "{prf:ref}`thm-x`",
                                 "Title\n:label: ex-bias-start", "<!--cite:t:x-->"])
def test_check_lab_sees_raw_myst(raw):
    assert check_lab.raw_myst(f"Some text. {raw} more text.")


def test_check_lab_accepts_rendered_text():
    assert check_lab.raw_myst("Exercise 6.1 (Start) Kingma and Ba [2015] showed x = {1, 2}.") == []


def dom(n, **changes):
    cells = [{"inputShown": True, "openDetails": 0, "visibleText": ""} for _ in range(n)]
    for index, change in changes.items():
        cells[int(index[1:])].update(change)
    return cells


def test_check_lab_solution_problems():
    notebook = exercise_notebook()
    hidden = {"c3": {"inputShown": False}, "c4": {"inputShown": False}}
    assert check_lab.solution_problems(dom(7, **hidden), notebook) == []
    shown = check_lab.solution_problems(dom(7, c4={"inputShown": False}), notebook)
    assert shown == ["cell 3: solution cell with its input visible (not folded)"]
    opened = check_lab.solution_problems(
        dom(7, **hidden, c5={"openDetails": 1,
                             "visibleText": "Because of the curvature of it all."}), notebook)
    assert len(opened) == 2 and "dropdown is open" in opened[0]
    assert "solution's text is visible" in opened[1]


def test_check_lab_finds_an_unfolded_going_deeper_box():
    notebook = {"cells": [
        md(":::{admonition} Going deeper: why\n:class: dropdown deeper\n"
           "A sentence of the box that is long enough to be looked for.\n:::"),
        code("print('in the box')"),
        md("Main text."),
    ]}
    assert check_lab.solution_problems(dom(3, c1={"inputShown": False}), notebook) == []
    assert check_lab.solution_problems(dom(3), notebook) == [
        "cell 1: going-deeper code cell with its input visible (not folded)"]
    shown = check_lab.solution_problems(dom(3, c0={
        "openDetails": 1, "visibleText": "A sentence of the box that is long enough to be "
        "looked for."}, c1={"inputShown": False}), notebook)
    assert len(shown) == 2 and "going-deeper box's text is visible" in shown[1]


def test_the_bibliography_has_balanced_entries_and_unique_keys():
    """book/references.bib merges as a union (.gitattributes): two branches that each append an
    entry can lose one closing brace, and pybtex then reads two entries as one."""
    import re as _re
    from collections import Counter

    from pybtex.database import parse_file

    text = nb.BIB.read_text(encoding="utf-8")
    entries = [e for e in _re.split(r"\n(?=@)", text) if e.lstrip().startswith("@")]
    unbalanced = [e.split(",")[0] for e in entries if e.count("{") != e.count("}")]
    assert unbalanced == []
    keys = [_re.match(r"\s*@\w+\{([^,]+),", e).group(1) for e in entries]
    assert [k for k, n in Counter(keys).items() if n > 1] == []
    assert sorted(parse_file(str(nb.BIB)).entries) == sorted(keys)
