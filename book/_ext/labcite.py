"""Citations that read well in JupyterLab and are real citations in the book.

jupyterlab-myst renders every markdown cell on its own and has no bibliography: a
``{cite:t}`kingma2015adam``` shows the key with a warning icon. So the notebooks carry each
citation as its author-year text between two HTML comments, which JupyterLab does not show::

    <!--cite:t:kingma2015adam-->Kingma and Ba [2015]<!--/cite-->

and this Sphinx extension turns each one back into ``{cite:t}`kingma2015adam``` when the
book is built, so sphinxcontrib-bibtex still makes the citation, its link and the
bibliography entry (and ``-n -W`` still fails on an unknown key). The text between the
comments is written from ``book/references.bib`` by ``tools/notebooks.py cite`` (run by
``make strip``), and ``make lint`` fails when it is stale.
"""

from __future__ import annotations

import json
import re

# role ("t", "p" or "" for plain {cite}), comma-separated keys, the text JupyterLab shows
MARKER = re.compile(r"<!--cite:(?P<role>[a-z]*):(?P<keys>[^>]*?)-->(?P<text>.*?)<!--/cite-->",
                    re.DOTALL)


def to_role(match: re.Match) -> str:
    role = match["role"]
    return "{cite" + (":" + role if role else "") + "}`" + match["keys"] + "`"


def markers_to_roles(text: str) -> str:
    return MARKER.sub(to_role, text)


def _source_read(app, docname, source):
    if not app.env.doc2path(docname).endswith(".ipynb") or "<!--cite:" not in source[0]:
        return
    notebook = json.loads(source[0])
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = markers_to_roles(text)
    source[0] = json.dumps(notebook, ensure_ascii=False)


def setup(app):
    app.connect("source-read", _source_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
