"""Notebook tools of the book: `python tools/notebooks.py COMMAND [NOTEBOOK ...]`.

Commands (NOTEBOOK defaults to notebooks/*.ipynb):

  fold      give every cell inside a solution (between a ```{solution-start}``` and its
            ```{solution-end}```) and every code cell of a "going deeper" box (the code
            cells after a markdown cell that ends with an admonition of class ``deeper``;
            see book/_ext/deeper.py) the metadata that folds it in JupyterLab,
            ``"jupyter": {"source_hidden": true, "outputs_hidden": true}``, so that its
            code and what it prints stay hidden until the reader clicks, as on the site; and
            remove that metadata from every other cell. `make strip` runs it.
  cite      write every ``{cite:t}`key``` (``{cite:p}``, ``{cite}``) of a markdown cell in the
            form JupyterLab shows as text: ``<!--cite:t:key-->Kingma and Ba [2015]<!--/cite-->``
            (see book/_ext/labcite.py, which turns it back at build time), and rewrite the text
            of every such citation from book/references.bib. `make strip` runs it.
  check     exit 1, with one line per problem, if a solution cell or a going-deeper box is
            not folded, a cell outside both is, a solution or a box is not a dropdown, a box
            does not end its cell or its title does not start with "Going deeper", a
            solution is left open at the end of a notebook, a citation is not in the
            JupyterLab form or has a stale text, the first markdown cell has no takeaway
            admonition, "exercise {ref}`ex-...`" doubles the word, or (with --max-words N) a
            chapter's main text is longer than N words. `make lint` runs it.
  words     each chapter's words: main text (the prose a reader meets without opening
            anything: markdown outside exercises, solutions and going-deeper boxes, without
            display math, code, directive options and markup), going-deeper boxes, and
            exercises with their solutions.
  student SRC_DIR DEST_DIR [--keep-outputs]
            copy every notebook of SRC_DIR to DEST_DIR with every solution removed (the
            exercise and its checker cell stay); outputs are removed unless --keep-outputs.
  pdf-fallbacks NOTEBOOK...
            give every animation output (matplotlib's JavaScript player, text/html only) an
            image/png with all its frames side by side, which the LaTeX builder shows.
  edition DEST --executed DIR [--student] [--pdf] [--title-suffix TEXT]
            write a book source tree to DEST that builds without running anything: book/,
            _toc.yml, _config.yml with execution off, and the executed notebooks of DIR
            (_build/jupyter_execute/notebooks of a `make book`), with every solution removed
            (--student) and animations given a PNG (--pdf). `make student` and `make pdf`
            build from it, so the notebooks run once, in `make book`.

Every command rewrites a notebook only when something changes, in nbformat's own layout
(1-space indent, as nbstripout writes it).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from labcite import MARKER  # noqa: E402

FOLDED = {"source_hidden": True, "outputs_hidden": True}
START = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution-start\}[^\n]*\n", re.MULTILINE)
END = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution-end\}[^\n]*\n(?P=fence)[ \t]*(\n|$)",
                 re.MULTILINE)
# a solution in one markdown cell: ```{solution} label ... ``` (same fence)
BLOCK = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution\}[^\n]*\n.*?^(?P=fence)[ \t]*(\n|$)",
                   re.MULTILINE | re.DOTALL)
# a "going deeper" box: an admonition whose :class: includes deeper (book/_ext/deeper.py)
ADMONITION = re.compile(r"^(?P<fence>`{3,}|:{3,})\{admonition\}(?P<title>[^\n]*)\n"
                        r"(?P<options>(?:[ \t]*:[\w-]+:[^\n]*\n)*)", re.MULTILINE)
DEEPER_TITLE = "Going deeper"
# "exercise {ref}`ex-...`" renders as "exercise Exercise 3.2"
REF_WORD = re.compile(r"\b[Ee]xercises?[ \t\n]+\{ref\}`ex-[^`]*`")
EXERCISE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{exercise\}[^\n]*\n.*?^(?P=fence)[ \t]*(\n|$)",
                      re.MULTILINE | re.DOTALL)
ROLE = re.compile(r"\{cite(?::(?P<role>[a-z]+))?\}`(?P<keys>[^`]+)`")
BIB = ROOT / "book" / "references.bib"


# --- reading and writing -------------------------------------------------------------------

def text(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def set_text(cell, value: str) -> None:
    cell["source"] = value.splitlines(keepends=True)


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def dump(notebook: dict) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def save_if_changed(path: Path, notebook: dict, before: str) -> bool:
    after = dump(notebook)
    if after != before and after != dump(json.loads(before)):
        path.write_text(after, encoding="utf-8")
        return True
    return False


# --- solutions ------------------------------------------------------------------------------

def solution_spans(cells):
    """For each cell, a list of (start, end) character spans of its text inside a solution.

    A solution runs from the line of its ``{solution-start}`` fence to the closing fence of
    its ``{solution-end}``, across cells; or it is one ``{solution}`` block in a markdown
    cell. Returns (spans per cell, problems).
    """
    spans, problems, inside = [], [], None
    for index, cell in enumerate(cells):
        body, pos, mine = text(cell), 0, []
        while True:
            if inside is None:
                if cell["cell_type"] != "markdown":
                    break
                found = [m for m in (START.search(body, pos), BLOCK.search(body, pos)) if m]
                if not found:
                    break
                match = min(found, key=lambda m: m.start())
                header = body[match.end() if match.re is START else match.start():]
                header = "\n".join(header.split("\n")[:4])
                if ":class: dropdown" not in header:
                    problems.append(f"cell {index}: a solution without ':class: dropdown' "
                                    "(it would show open on the site and in JupyterLab)")
                if match.re is BLOCK:
                    mine.append((match.start(), match.end()))
                    pos = match.end()
                    continue
                inside, pos = (index, match.start()), match.start()
            else:
                match = END.search(body, pos) if cell["cell_type"] == "markdown" else None
                if match is None:
                    mine.append((pos, len(body)))
                    break
                mine.append((pos, match.end()))
                inside, pos = None, match.end()
        spans.append(mine)
    if inside is not None:
        problems.append(f"cell {inside[0]}: solution-start without a solution-end")
    return spans, problems


def solution_cells(cells) -> list[int]:
    """Indices of the cells wholly inside a solution (they are folded in JupyterLab)."""
    spans, _ = solution_spans(cells)
    return [i for i, (cell, mine) in enumerate(zip(cells, spans, strict=True))
            if mine == [(0, len(text(cell)))]
            and not START.search(text(cell)) and not END.search(text(cell))]


def folded(cell) -> dict:
    """The fold metadata of a solution cell (a markdown cell has no outputs to hide)."""
    return FOLDED if cell["cell_type"] == "code" else {"source_hidden": True}


def fold(notebook: dict) -> None:
    cells = notebook["cells"]
    inside = set(solution_cells(cells)) | set(deeper_cells(cells))
    for index, cell in enumerate(cells):
        meta = cell.setdefault("metadata", {})
        if index in inside:
            jupyter = {k: v for k, v in meta.get("jupyter", {}).items() if k not in FOLDED}
            meta["jupyter"] = {**jupyter, **folded(cell)}
        elif "jupyter" in meta:
            for key in FOLDED:
                meta["jupyter"].pop(key, None)
            if not meta["jupyter"]:
                del meta["jupyter"]


def remove_solutions(notebook: dict) -> int:
    """Remove every solution; returns how many were removed."""
    cells = notebook["cells"]
    spans, problems = solution_spans(cells)
    if problems:
        raise ValueError("; ".join(problems))
    kept, removed = [], sum(len(START.findall(text(c))) + len(BLOCK.findall(text(c)))
                            for c in cells if c["cell_type"] == "markdown")
    for cell, mine in zip(cells, spans, strict=True):
        body = text(cell)
        for start, end in reversed(mine):
            body = body[:start] + body[end:]
        if mine and not body.strip():
            continue
        if mine:
            set_text(cell, body.strip("\n") + "\n" if body.strip() else "")
            cell["source"][-1] = cell["source"][-1].rstrip("\n")
        kept.append(cell)
    notebook["cells"] = kept
    return removed


# --- going-deeper boxes ---------------------------------------------------------------------

def _classes(options: str) -> list[str]:
    found = re.search(r"^[ \t]*:class:[ \t]*(?P<classes>[^\n]*)$", options, re.MULTILINE)
    return found["classes"].split() if found else []


def deeper_boxes(body: str):
    """The going-deeper admonitions of a markdown cell's text: (match, end of the box)."""
    boxes = []
    for match in ADMONITION.finditer(body):
        if "deeper" not in _classes(match["options"]):
            continue
        close = re.compile(r"^" + re.escape(match["fence"]) + r"[ \t]*$", re.MULTILINE)
        end = close.search(body, match.end())
        boxes.append((match, end.end() if end else len(body)))
    return boxes


def deeper_regions(cells):
    """(box cell, [its code cells], problems): each box cell and the code cells after it."""
    regions, problems = [], []
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        body = text(cell)
        boxes = deeper_boxes(body)
        for match, _end in boxes:
            where = f"cell {index}: the going-deeper box {match['title'].strip()!r}"
            if "dropdown" not in _classes(match["options"]):
                problems.append(f"{where} has no 'dropdown' class (it would show open)")
            if not match["title"].strip().startswith(DEEPER_TITLE):
                problems.append(f"{where}: its title should start with {DEEPER_TITLE!r}")
        if not boxes:
            continue
        if body[boxes[-1][1]:].strip():
            problems.append(f"cell {index}: text after a going-deeper box in the same cell (on "
                            "the site the box would not take the code cells below it): give the "
                            "text a cell of its own, or put it in the box")
            continue
        code = []
        for later in range(index + 1, len(cells)):
            if cells[later]["cell_type"] != "code":
                break
            code.append(later)
        regions.append((index, code))
    return regions, problems


def deeper_cells(cells) -> list[int]:
    """Indices of the code cells inside a going-deeper box (they are folded in JupyterLab)."""
    return [i for _, code in deeper_regions(cells)[0] for i in code]


def _strip_blocks(body: str, spans) -> str:
    for start, end in sorted(spans, reverse=True):
        body = body[:start] + " " + body[end:]
    return body


def _without_code_and_fences(body: str) -> str:
    """The text with code blocks removed and directive fence lines blanked (their content,
    the text of an exercise or an admonition, stays)."""
    kept, stack = [], []  # stack of (fence, kind)
    for line in body.split("\n"):
        fence = re.match(r"^[ \t]*(`{3,}|~{3,}|:{3,})(.*)$", line)
        if stack and stack[-1][1] == "code":
            if fence and fence[1] == stack[-1][0] and not fence[2].strip():
                stack.pop()
            continue
        if fence is None:
            kept.append(line)
        elif fence[2].startswith("{"):
            stack.append((fence[1], "directive"))
            name, _, title = fence[2][1:].partition("}")
            if not name.startswith("solution"):  # a solution's argument is a label
                kept.append(title)  # the title of an exercise or an admonition
        elif not fence[2].strip() and stack and stack[-1][0] == fence[1]:
            stack.pop()
        elif fence[1][0] != ":":
            stack.append((fence[1], "code"))
    return "\n".join(kept)


def prose_words(body: str) -> int:
    """Words of prose in markdown: no display math, code, HTML comments, directive lines."""
    body = _without_code_and_fences(body)
    body = re.sub(r"\$\$.*?\$\$", " ", body, flags=re.DOTALL)
    body = re.sub(r"\\begin\{(equation|align|aligned|gather)\*?\}.*?\\end\{\1\*?\}", " ", body,
                  flags=re.DOTALL)
    body = re.sub(r"<!--.*?-->", " ", body, flags=re.DOTALL)
    body = re.sub(r"^[ \t]*:[\w-]+:.*$", " ", body, flags=re.MULTILINE)  # directive options
    body = re.sub(r"^\([\w-]+\)=[ \t]*$", " ", body, flags=re.MULTILINE)  # (label)=
    return sum(1 for token in body.split() if re.search(r"\w", token))


def word_counts(notebook: dict) -> dict[str, int]:
    """Words of a chapter: ``main`` text, ``deeper`` boxes, ``exercises`` and solutions."""
    cells = notebook["cells"]
    spans = solution_spans(cells)[0]
    counts = {"main": 0, "deeper": 0, "exercises": 0}
    for cell, mine in zip(cells, spans, strict=True):
        if cell["cell_type"] != "markdown":
            continue
        body = text(cell)
        counts["exercises"] += sum(prose_words(body[a:b]) for a, b in mine)
        body = _strip_blocks(body, mine)
        exercises = [(m.start(), m.end()) for m in EXERCISE.finditer(body)]
        counts["exercises"] += sum(prose_words(body[a:b]) for a, b in exercises)
        body = _strip_blocks(body, exercises)
        boxes = [(m.start(), end) for m, end in deeper_boxes(body)]
        counts["deeper"] += sum(prose_words(body[a:b]) for a, b in boxes)
        counts["main"] += prose_words(_strip_blocks(body, boxes))
    return counts


# --- citations ------------------------------------------------------------------------------

def _bibliography():
    from pybtex.database import parse_file

    return parse_file(str(BIB)).entries


def _plain(s: str) -> str:
    """BibTeX text as a reader sees it: accents decoded (``G{\\"u}rb{\\"u}zbalaban`` is
    Gürbüzbalaban), braces dropped, ``~`` a no-break space."""
    import codecs

    import latexcodec  # noqa: F401  (registers the "ulatex" codec; pybtex depends on it)

    s = s.replace("~", "\u00a0")
    return re.sub(r"[{}]", "", codecs.decode(s, "ulatex")).replace("\\", "")


def _authors(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
    if not last:
        return _plain(entry.fields.get("title", "?"))
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return f"{last[0]} and {last[1]}"
    return f"{last[0]} et al."


def cite_text(role: str, keys: list[str], entries) -> str:
    """The words sphinxcontrib-bibtex's author_year style writes for this citation."""
    missing = [k for k in keys if k not in entries]
    if missing:
        raise KeyError(f"unknown citation key(s) {', '.join(missing)} (not in {BIB.name})")
    if role == "t":
        return ", ".join(f"{_authors(entries[k])} [{entries[k].fields.get('year', 'n.d.')}]"
                         for k in keys)
    return "[" + ", ".join(f"{_authors(entries[k])}, {entries[k].fields.get('year', 'n.d.')}"
                           for k in keys) + "]"


def marker(role: str, keys: str, entries) -> str:
    keys = ",".join(k.strip() for k in keys.split(","))
    return f"<!--cite:{role}:{keys}-->{cite_text(role, keys.split(','), entries)}<!--/cite-->"


def cite(notebook: dict, entries) -> None:
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        body = text(cell)
        new = ROLE.sub(lambda m: marker(m["role"] or "p", m["keys"], entries), body)
        new = MARKER.sub(lambda m: marker(m["role"] or "p", m["keys"], entries), new)
        if new != body:
            set_text(cell, new)


# --- check ----------------------------------------------------------------------------------

def check(notebook: dict, entries, max_words: int | None = None) -> list[str]:
    cells = notebook["cells"]
    problems = solution_spans(cells)[1]
    regions, deeper_problems = deeper_regions(cells)
    problems += deeper_problems
    inside = set(solution_cells(cells))
    deeper = {i for _, code in regions for i in code}
    first = next((c for c in cells if c["cell_type"] == "markdown"), None)
    if first is not None and text(first).startswith("# ") and not any(
            "takeaway" in _classes(m["options"]) for m in ADMONITION.finditer(text(first))):
        problems.append("no takeaway: the chapter's title cell should hold "
                        "an admonition of class 'takeaway', the chapter's line in one sentence "
                        "(CONTRIBUTING.md)")
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and (m := REF_WORD.search(text(cell))):
            problems.append(f"cell {index}: {' '.join(m[0].split())!r} reads 'exercise "
                            "Exercise 3.2' (a {ref} to an exercise already says 'Exercise'): "
                            "drop the word")
    if max_words is not None and (main := word_counts(notebook)["main"]) > max_words:
        problems.append(f"the main text is {main} words, more than {max_words} (tools/notebooks.py "
                        "words counts them): fold what verifies or digresses into going-deeper "
                        "boxes, or cut")
    for index, cell in enumerate(cells):
        end = END.search(text(cell)) if cell["cell_type"] == "markdown" else None
        start = START.search(text(cell)) if cell["cell_type"] == "markdown" else None
        if end and not (start and start.start() < end.start()) and text(cell)[:end.start()].strip():
            problems.append(f"cell {index}: solution text before a solution-end fence in the same "
                            "cell (JupyterLab shows it unfolded): give the fence a cell of its own")
        if index in inside and cell["cell_type"] == "markdown":
            problems.append(f"cell {index}: a markdown cell wholly inside a solution (JupyterLab "
                            "shows its rendered text even when folded): move the text into the "
                            "solution-start cell")
        jupyter = cell.get("metadata", {}).get("jupyter", {})
        if index in inside and any(jupyter.get(k) is not v for k, v in folded(cell).items()):
            problems.append(f"cell {index}: a solution cell that JupyterLab shows unfolded "
                            "(run 'make strip')")
        if index in deeper and any(jupyter.get(k) is not v for k, v in FOLDED.items()):
            problems.append(f"cell {index}: a code cell of a going-deeper box that JupyterLab "
                            "shows unfolded (run 'make strip')")
        if index not in inside | deeper and any(jupyter.get(k) for k in FOLDED):
            problems.append(f"cell {index}: hidden in JupyterLab but not part of a solution "
                            "or a going-deeper box (run 'make strip')")
        if cell["cell_type"] != "markdown":
            continue
        body = text(cell)
        for m in ROLE.finditer(body):
            problems.append(f"cell {index}: {m[0]} shows as a raw key in JupyterLab "
                            "(run 'make strip')")
        for m in MARKER.finditer(body):
            try:
                want = marker(m["role"] or "p", m["keys"], entries)
            except KeyError as exc:
                problems.append(f"cell {index}: {exc.args[0]}")
                continue
            if m[0] != want:
                problems.append(f"cell {index}: citation text {m['text']!r} is stale, "
                                f"{want!r} expected (run 'make strip')")
    return problems


# --- PDF fallbacks for animations -----------------------------------------------------------

FRAME = re.compile(r'frames\[\d+\] = "data:image/png;base64,([^"]*)"')


def contact_sheet(html: str, columns: int = 3) -> str | None:
    """All frames of a matplotlib JavaScript animation in one PNG (base64), or None."""
    from PIL import Image

    frames = [Image.open(io.BytesIO(base64.b64decode(f.replace("\\\n", "")))).convert("RGB")
              for f in FRAME.findall(html)]
    if not frames:
        return None
    width, height = frames[0].size
    columns = min(columns, len(frames))
    rows = -(-len(frames) // columns)
    sheet = Image.new("RGB", (columns * width, rows * height), "white")
    for k, frame in enumerate(frames):
        sheet.paste(frame, ((k % columns) * width, (k // columns) * height))
    buffer = io.BytesIO()
    sheet.save(buffer, format="png", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def pdf_fallbacks(notebook: dict) -> int:
    added = 0
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html = data.get("text/html")
            if html is None or "image/png" in data:
                continue
            html = "".join(html) if isinstance(html, list) else html
            png = contact_sheet(html)
            if png is not None:
                data["image/png"] = png
                added += 1
    return added


# --- editions built from executed notebooks ------------------------------------------------

def edition(dest: Path, executed: Path, student: bool, pdf: bool, title_suffix: str) -> None:
    import shutil

    import yaml

    notebooks = sorted(executed.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"edition: no executed notebooks in {executed} (run 'make book')")
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(ROOT / "book", dest / "book")
    shutil.copy(ROOT / "_toc.yml", dest / "_toc.yml")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["execute_notebooks"] = "off"  # the outputs are in the notebooks
    config["title"] += title_suffix
    (dest / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (dest / "notebooks").mkdir()
    for path in notebooks:
        notebook = load(path)
        if student:
            remove_solutions(notebook)
        if pdf:
            pdf_fallbacks(notebook)
        (dest / "notebooks" / path.name).write_text(dump(notebook), encoding="utf-8")
    print(f"edition: {dest} with {len(notebooks)} executed notebooks"
          + (", solutions removed" if student else "") + (", PNG animations" if pdf else ""))


# --- command line ---------------------------------------------------------------------------

def _notebooks(paths):
    return [Path(p) for p in paths] or sorted((ROOT / "notebooks").glob("*.ipynb"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("fold", "cite", "check", "words"):
        sub.add_parser(name).add_argument("notebooks", nargs="*")
    sub.choices["check"].add_argument("--max-words", type=int, default=None)
    student = sub.add_parser("student")
    student.add_argument("src", type=Path)
    student.add_argument("dest", type=Path)
    student.add_argument("--keep-outputs", action="store_true")
    sub.add_parser("pdf-fallbacks").add_argument("notebooks", nargs="+")
    ed = sub.add_parser("edition")
    ed.add_argument("dest", type=Path)
    ed.add_argument("--executed", type=Path, required=True)
    ed.add_argument("--student", action="store_true")
    ed.add_argument("--pdf", action="store_true")
    ed.add_argument("--title-suffix", default="")
    args = parser.parse_args(argv)

    if args.command == "edition":
        edition(args.dest, args.executed, args.student, args.pdf, args.title_suffix)
        return 0

    if args.command == "student":
        args.dest.mkdir(parents=True, exist_ok=True)
        for path in sorted(args.src.glob("*.ipynb")):
            notebook = load(path)
            n = remove_solutions(notebook)
            if not args.keep_outputs:
                for cell in notebook["cells"]:
                    if cell["cell_type"] == "code":
                        cell["outputs"], cell["execution_count"] = [], None
            (args.dest / path.name).write_text(dump(notebook), encoding="utf-8")
            print(f"student: {path.name}: {n} solution(s) removed")
        return 0

    if args.command == "words":
        print(f"{'chapter':32s} {'main':>6s} {'deeper':>7s} {'exercises':>10s}")
        for path in _notebooks(args.notebooks):
            counts = word_counts(load(path))
            print(f"{path.stem:32s} {counts['main']:6d} {counts['deeper']:7d} "
                  f"{counts['exercises']:10d}")
        return 0

    status = 0
    entries = _bibliography() if args.command in ("cite", "check") else None
    for path in _notebooks(args.notebooks):
        before = path.read_text(encoding="utf-8")
        notebook = json.loads(before)
        if args.command == "fold":
            fold(notebook)
        elif args.command == "cite":
            try:
                cite(notebook, entries)
            except KeyError as exc:
                print(f"{path}: {exc.args[0]}")
                status = 1
                continue
        elif args.command == "pdf-fallbacks":
            n = pdf_fallbacks(notebook)
            print(f"pdf-fallbacks: {path.name}: {n} animation(s) given a PNG")
        elif args.command == "check":
            for problem in check(notebook, entries, args.max_words):
                print(f"{path}: {problem}")
                status = 1
            continue
        if save_if_changed(path, notebook, before):
            print(f"{args.command}: rewrote {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
