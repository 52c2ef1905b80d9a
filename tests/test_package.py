"""The package as a whole: no private name crosses a module, and every docstring's chapter is true.

Both read the sources (ast, the notebooks' JSON, _toc.yml), not the running code.
"""

import ast
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import pytest

import adam_course

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(m.name for m in pkgutil.iter_modules(adam_course.__path__))  # top level
# every module, those of the subpackages (adam_course.exercises) included: "exercises.engine"
ALL_MODULES = sorted(m.name.removeprefix("adam_course.") for m in
                     pkgutil.walk_packages(adam_course.__path__, prefix="adam_course."))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOURCES = (sorted(p for p in (ROOT / "adam_course").rglob("*.py")
                  if "__pycache__" not in p.parts)
           + sorted((ROOT / "benchmarks").glob("*.py")) + NOTEBOOKS)


def code_of(path):
    """The Python source of a module, or of a notebook's code cells (magics left out)."""
    if path.suffix != ".ipynb":
        return path.read_text()
    cells = json.loads(path.read_text())["cells"]
    lines = [line for cell in cells if cell["cell_type"] == "code"
             for line in "".join(cell["source"]).splitlines() + [""]]
    return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))


def private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(source):
    """(line, text) of each private name taken from another module: ``from x import _y``, or
    ``m._y`` where ``m`` is an adam_course module imported here."""
    tree = ast.parse(source)
    modules, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if private(alias.name):
                    found.append((node.lineno, f"from {node.module} import {alias.name}"))
                elif node.module == "adam_course" or (node.module or "").startswith(
                        "adam_course."):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("adam_course"):
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and private(node.attr)
                and isinstance(node.value, ast.Name) and node.value.id in modules):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_is_used_across_modules(path):
    assert private_uses(code_of(path)) == []


@pytest.mark.parametrize("source, expected", [
    ("from adam_course.optim import _optimizer", ["from adam_course.optim import _optimizer"]),
    ("from adam_course import optim\noptim._hyper(lr=1)", ["optim._hyper"]),
    ("import adam_course.optim as o\no._check_range(1, 'x')", ["o._check_range"]),
    ("from adam_course import optim\noptim.adam().__class__", []),
    ("from sklearn.datasets import load_digits as _digits", []),
    ("import numpy as np\nnp._core", []),
])
def test_the_private_name_check_finds_what_it_is_for(source, expected):
    assert [text for _, text in private_uses(source)] == expected


# ------------------------------------------------------------------ chapter tags

def chapters_in_toc():
    """Chapter number -> its notebook, for the notebooks listed in _toc.yml."""
    listed = re.findall(r"^\s*- file: notebooks/(\d\d)_(\w+)\s*$", (ROOT / "_toc.yml").read_text(),
                        flags=re.MULTILINE)
    return {int(n): ROOT / "notebooks" / f"{n}_{rest}.ipynb" for n, rest in listed}


def chapter_mentions(doc, tag):
    """The chapter numbers a docstring names: as its tag ("Chapter 3.", "Chapters 1-3"), or
    (``tag=False``) in passing ("derived in chapter 1", "chapters 2 and 4")."""
    pattern = r"\bChapters?" if tag else r"\bchapters?"
    numbers = set()
    for match in re.finditer(pattern + r"\s+(\d+(?:\s*(?:-|–|,|and)\s*\d+)*)", doc or ""):
        for a, b in re.findall(r"(\d+)(?:\s*[-–]\s*(\d+))?", match.group(1)):
            numbers.update(range(int(a), int(b or a) + 1))
    return numbers


def public_names():
    """(module, qualified name, object) for each public name and each public method of a
    public class (its own, not inherited)."""
    for module_name in ALL_MODULES:
        module = importlib.import_module(f"adam_course.{module_name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            yield module_name, name, obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and (inspect.isfunction(member)
                                                     or isinstance(member, property)):
                        yield module_name, f"{name}.{attr}", member


TAGGED = list(public_names())


@pytest.mark.parametrize("module, name, obj", TAGGED, ids=[f"{m}.{n}" for m, n, _ in TAGGED])
def test_every_chapter_a_docstring_names_exists_and_its_tag_uses_the_name(module, name, obj):
    """A tag, "Chapter N", says chapter N introduces the name: its notebook uses it. A chapter
    named in passing, "chapter N", must at least exist."""
    toc, doc = chapters_in_toc(), inspect.getdoc(obj)
    for chapter in sorted(chapter_mentions(doc, tag=True) | chapter_mentions(doc, tag=False)):
        assert chapter in toc, f"{module}.{name}: chapter {chapter} is not in _toc.yml"
    short = re.escape(name.split(".")[-1])
    word = re.compile(rf"\.{short}\b|\b{short}\(")  # used: module.name, obj.name or name(...)
    for chapter in sorted(chapter_mentions(doc, tag=True)):
        assert word.search(code_of(toc[chapter])), (
            f"{module}.{name}: its tag says chapter {chapter}, but {toc[chapter].name} does "
            f"not use it")


def test_the_chapter_parser_reads_the_books_forms():
    doc = "Chapter 5 (bias correction: chapter 6). Chapters 1-3, and chapters 4 and 7."
    assert chapter_mentions(doc, tag=True) == {1, 2, 3, 5}
    assert chapter_mentions(doc, tag=False) == {4, 6, 7}
    assert chapter_mentions(None, tag=True) == set()


def test_the_package_docstring_lists_every_module_once():
    listed = re.findall(r"^- :mod:`adam_course\.(\w+)`", adam_course.__doc__, flags=re.MULTILINE)
    assert sorted(listed) == MODULES


def test_every_module_is_read_by_the_checks_above():
    """A module of a subpackage is a source of the private-name check and a module of the
    chapter-tag check, as the top-level ones are."""
    assert {"exercises", "exercises.engine", "exercises.ch1_gradient_descent", "optim"} \
        <= set(ALL_MODULES)
    assert ROOT / "adam_course" / "exercises" / "engine.py" in SOURCES
    assert ROOT / "adam_course" / "exercises" / "__init__.py" in SOURCES
