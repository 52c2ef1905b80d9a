"""Every visible solution runs as shown: after the cells a reader of the site can see.

A cell tagged ``remove-cell`` runs when the book is built but is not on the site (a cell tagged
``hide-input`` is: its code runs and can be unfolded). A solution that uses a name only such a
cell defines (chapter 2's brute force used ``combinations``, imported only in a hidden cell)
raises a NameError when a reader copies it into a fresh kernel after the visible cells.

This test reads the code (ast): every name a solution's code cell loads must be bound by a
visible code cell before it, by the cell itself, or be a builtin. It runs in a second;
``python tests/visible_solutions.py`` (``make check-visible``) executes every notebook without
its ``remove-cell`` cells instead, and found the same cells (about 4 minutes).
"""

from __future__ import annotations

import ast
import builtins
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks as nbt  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KNOWN = set(dir(builtins)) | {"display", "get_ipython", "In", "Out"}  # IPython's own


def names(source: str) -> tuple[set[str], set[str]]:
    """(bound, loaded): the names a cell binds anywhere (assignments, imports, definitions,
    parameters, loop and ``with`` targets, ...) and the names it reads. Magics are left out."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    bound, loaded = set(), set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bound.update(node.names)
    return bound, loaded


def hidden(cell) -> bool:
    return "remove-cell" in cell.get("metadata", {}).get("tags", [])


def unresolved(cells) -> list[tuple[int, bool, list[str], list[str]]]:
    """For each visible code cell that reads a name no visible cell before it (nor itself)
    binds: (index, whether it is a solution cell, those names, those of them a hidden cell
    binds)."""
    solutions = set(nbt.solution_cells(cells))
    visible, only_hidden, found = set(), set(), []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        bound, loaded = names("".join(cell["source"]))
        if hidden(cell):
            only_hidden |= bound
            continue
        missing = sorted(loaded - visible - bound - KNOWN)
        if missing:
            found.append((index, index in solutions, missing,
                          [n for n in missing if n in only_hidden]))
        visible |= bound
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_visible_solution_uses_only_names_the_visible_cells_define(path):
    cells = json.loads(path.read_text())["cells"]
    problems = [f"cell {index} uses {', '.join(missing)}"
                + (f" (defined only in a remove-cell cell: {', '.join(from_hidden)})"
                   if from_hidden else "")
                for index, solution, missing, from_hidden in unresolved(cells) if solution]
    assert problems == []


# --- the check finds what it is for -------------------------------------------------------------

def md(source):
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def code(source, *tags):
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": source,
            "outputs": [], "execution_count": None}


def with_solution(solution_code, *before):
    return [*before, md("```{exercise} E\n:label: ex-e\nDo it.\n```"),
            md("````{solution-start} ex-e\n:class: dropdown\n````\n"), code(solution_code),
            md("````{solution-end}\n````\n")]


def test_a_name_from_a_hidden_cell_is_found_and_a_visible_or_own_one_is_not():
    hidden_import = code("from itertools import combinations", "remove-cell")
    visible_import = code("from itertools import combinations")
    uses = "list(combinations(range(4), 2))"
    assert unresolved(with_solution(uses, hidden_import)) == [
        (3, True, ["combinations"], ["combinations"])]
    assert unresolved(with_solution(uses, code("import numpy as np"))) == [
        (3, True, ["combinations"], [])]
    assert unresolved(with_solution(uses, visible_import)) == []
    assert unresolved(with_solution("from itertools import combinations\n" + uses)) == []
    # a hide-input cell runs on the site: what it defines is there
    assert unresolved(with_solution(uses, code("from itertools import combinations",
                                               "hide-input"))) == []


def test_the_names_a_cell_binds_and_reads():
    bound, loaded = names("%matplotlib inline\nimport numpy as np\nfrom a.b import c as d\n"
                          "def f(x, *args, k=1, **kw):\n    return x + y\n"
                          "for i, (j, k2) in enumerate(z):\n    pass\n"
                          "with open(p) as fh:\n    q = [w for w in fh]\n"
                          "try:\n    pass\nexcept E as err:\n    pass\nclass K:\n    pass\n")
    assert {"np", "d", "f", "x", "args", "k", "kw", "i", "j", "k2", "fh", "q", "w", "err",
            "K"} <= bound
    assert {"y", "z", "open", "p", "E", "enumerate"} <= loaded
    assert "matplotlib" not in bound | loaded
