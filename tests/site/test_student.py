"""The student edition (`make student`): no solution survives, every exercise does.

Compares _build/student/html and _build/student/notebooks with the source notebooks: the
exercise labels and the text of each solution come from notebooks/*.ipynb (parsed by
tools/notebooks.py), not from the edition under test. `make check-student` runs this after
`make student`; it is not part of `make unit` (it needs the built edition).
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from notebooks import solution_spans, text  # noqa: E402

STUDENT = ROOT / "_build" / "student"
SOURCES = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise\}[^\n]*\n(?::[\w-]+:[^\n]*\n)*", re.MULTILINE)
LABEL = re.compile(r"^:label:\s*(\S+)", re.MULTILINE)


def solution_lines(notebook) -> list[str]:
    """Distinctive lines of every solution (code and prose, markup skipped): lines that
    occur nowhere outside the solutions (a solution repeats its exercise's `def` line)."""
    cells = notebook["cells"]
    spans, _ = solution_spans(cells)
    inside, outside = [], []
    for cell, mine in zip(cells, spans, strict=True):
        body, pos = text(cell), 0
        for start, end in mine:
            outside.append(body[pos:start])
            inside += [line.strip() for line in body[start:end].splitlines()]
            pos = end
        outside.append(body[pos:])
    rest = "\n".join(outside)
    return [line for line in inside
            if len(line) >= 25 and not re.match(r"^(`{3,}|:{3,}|:[\w-]+:)", line)
            and line not in rest]


def exercise_labels(notebook) -> list[str]:
    labels = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            for m in EXERCISE.finditer(text(cell)):
                labels += LABEL.findall(m[0])
    return labels


def page_text(path: Path) -> str:
    page = path.read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def words(s: str) -> str:
    return " ".join(re.findall(r"[A-Za-z0-9_]+", s))


@pytest.fixture(scope="module")
def built():
    if not (STUDENT / "html" / "index.html").is_file():
        pytest.fail("no student edition in _build/student: run `make student` first")
    return STUDENT


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_notebook_has_exercises_and_no_solution(built, source):
    original = json.loads(source.read_text(encoding="utf-8"))
    student = json.loads((built / "notebooks" / source.name).read_text(encoding="utf-8"))
    body = "\n".join(text(c) for c in student["cells"])
    assert "solution-start" not in body and "solution-end" not in body
    leaked = [line for line in solution_lines(original) if line in body]
    assert not leaked, f"solution lines left in the student notebook: {leaked[:3]}"
    labels = exercise_labels(original)
    assert labels, f"{source.name} has no exercise: the test would prove nothing"
    assert exercise_labels(student) == labels
    checkers = [text(c) for c in original["cells"]
                if c["cell_type"] == "code" and "exercises.check_" in text(c)]
    student_code = [text(c) for c in student["cells"] if c["cell_type"] == "code"]
    stubs = [c for c in checkers if "NotImplementedError" in c]
    assert all(stub in student_code for stub in stubs), "an exercise's checker cell is missing"
    assert all(not c.get("outputs") for c in student["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_page_has_exercises_and_no_solution(built, source):
    original = json.loads(source.read_text(encoding="utf-8"))
    page = built / "html" / "notebooks" / f"{source.stem}.html"
    main_page = ROOT / "_build" / "html" / "notebooks" / f"{source.stem}.html"
    raw = page.read_text(encoding="utf-8")
    assert 'class="solution' not in raw and "solution dropdown" not in raw
    content = words(page_text(page))
    main_content = words(page_text(main_page)) if main_page.is_file() else None
    leaked = []
    for line in solution_lines(original):
        probe = words(line)
        # lines of math or markup render differently: test those that the main site shows
        if len(probe) >= 25 and (main_content is None or probe in main_content):
            if probe in content:
                leaked.append(line)
    assert not leaked, f"solution text left on the student page: {leaked[:3]}"
    for label in exercise_labels(original):
        assert f'id="{label}"' in raw, f"exercise {label} is missing from the student page"
