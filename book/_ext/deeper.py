"""The "going deeper" boxes: a folded admonition together with the code cells after it.

A chapter keeps its line of argument in the main text and puts what verifies a theory or
answers a side question into boxes the reader may open. In a notebook a box is a markdown
cell that ends with an admonition of class ``deeper`` (and ``dropdown``, so that it is
folded), followed by the code cells that belong to it::

    :::{admonition} Going deeper: the constants of the theorem
    :class: dropdown deeper
    Prose and math of the box ...
    :::

    [code cell]  [code cell]  ...   <- in the box, up to the next markdown cell

This extension moves those code cells, with their outputs, into the admonition, so that on
the site the whole box folds and unfolds as one (sphinx-togglebutton folds every
``.admonition.dropdown``); the student edition keeps the boxes, folded; in the PDF the
LaTeX builder ignores ``dropdown`` and prints the box open. In JupyterLab, jupyterlab-myst
folds the admonition and ``tools/notebooks.py fold`` (``make strip``) folds the box's code
cells (``source_hidden``/``outputs_hidden``); ``make lint`` checks both, and that the
admonition ends its cell, so that the site and JupyterLab agree on what is in the box.
"""

from __future__ import annotations

from docutils import nodes

CLASS = "deeper"


def is_code_cell(node) -> bool:
    return isinstance(node, nodes.container) and node.get("nb_element") == "cell_code"


def gather(doctree) -> int:
    """Move the code cells that follow each ``deeper`` admonition into it; returns how many."""
    moved = 0
    for box in list(doctree.findall(nodes.admonition)):
        if CLASS not in box["classes"] or box.parent is None:
            continue
        parent = box.parent
        index = parent.index(box) + 1
        while index < len(parent.children) and is_code_cell(parent.children[index]):
            cell = parent.children[index]
            parent.remove(cell)
            box.append(cell)
            moved += 1
    return moved


def _doctree_read(app, doctree) -> None:
    gather(doctree)


def setup(app):
    app.connect("doctree-read", _doctree_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
