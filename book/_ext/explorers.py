"""The live explorers' JavaScript, loaded once and only on the pages that show an explorer.

An explorer's cell output (``adam_course.web.LiveExplorer``) carries ``explorers.js`` inside
it, so that it works wherever the output is shown (JupyterLab runs it there). On the site, this
extension takes those copies out of each page that has an explorer and loads the file
``_static/adam-explorers.js`` instead (the browser keeps it between pages); a page without an
explorer loads no script of ours. The PNGs inside an explorer's description (the backgrounds of
its figures, the sheet shown without JavaScript) become files in ``_images/``, one per content:
a page that shows the playground three times, or two pages that show the same landscape, share
them, and the browser fetches a landscape's background only when the reader picks it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from adam_course import web

SCRIPT = "adam-explorers.js"
MARKER = 'class="adam-explorer"'
INLINE = re.compile(r"<script data-adam-explorers>.*?</script>\n?", re.DOTALL)
PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def _externalize(app, body: str, pathto) -> str:
    images = Path(app.outdir) / "_images"

    def file(match) -> str:
        data = base64.b64decode(match.group(1))
        name = f"explorer-{hashlib.sha256(data).hexdigest()[:16]}.png"
        images.mkdir(parents=True, exist_ok=True)
        if not (images / name).exists():
            (images / name).write_bytes(data)
        return pathto(f"_images/{name}", 1)

    parts = re.split(r'(<div class="adam-explorer"[\s\S]*?</noscript>)', body)
    return "".join(PNG.sub(file, part) if part.startswith('<div class="adam-explorer"')
                   else part for part in parts)


def _page(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body", "")
    if MARKER not in body:
        return
    body = INLINE.sub("", body)
    context["body"] = _externalize(app, body, context["pathto"])
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    if not (static / SCRIPT).exists() or (static / SCRIPT).read_text("utf-8") != web.script():
        (static / SCRIPT).write_text(web.script(), encoding="utf-8")
    app.add_js_file(SCRIPT)  # in this event: for this page only


def setup(app):
    app.connect("html-page-context", _page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
