"""The PDF laid out as a book: front matter, parts, chapters 1-8, lettered appendices.

Sphinx's LaTeX builder (``make pdf``) inlines every document of the table of contents into
the root document, ``book/intro``, and writes each top-level section as a ``\\chapter``.
Left alone, that numbers the introduction's own sections as chapters 1-4 (so Gradient
descent became chapter 5, its figures "Fig. 5.1" while the site and the prose say 1),
drops the parts (``_toc.yml``'s captions: only the first one survived, as the title of
the table of contents), and numbers the appendices and the bibliography as chapters.

For the LaTeX builder only (the site is untouched), this extension rearranges the
assembled document as a book (LaTeX class ``book``, see ``latex_docclass`` below)::

    \\frontmatter     title page, contents, "Introduction" (the root document: its lead
                     paragraphs and its sections, unnumbered)
    \\mainmatter      \\part{Foundations}, chapters 1 and 2, \\part{Momentum and adaptive
                     steps}, chapters 3 and 4, ... (each _toc.yml part that is not the
                     appendices)
    \\appendix        \\part*{Appendices}: Appendix A Notation, Appendix B Glossary
    \\backmatter      the bibliography (Sphinx gathers every citation at the end; the
                     site's Bibliography page, a sentence around that list, is left out)

so that chapters, sections, figures, equations, exercises, theorems and running heads are
numbered as on the site, where ``use_multitoc_numbering`` numbers the chapters 1-8 across
the parts. ``tests/site/test_pdf.py`` (``make check-pdf``) reads the PDF back and
compares it with the built site.

Settings (``sphinx: config:`` of ``_config.yml``, defaults below): ``pdfbook_front_title``
the heading of the root document in the PDF; ``pdfbook_appendix_caption`` the _toc.yml
part whose chapters are lettered; ``pdfbook_back_docs`` the documents that only hold the
bibliography (left out: the bibliography itself is printed once, at the end). The LaTeX
settings this layout needs are set here too (``latex_docclass``, ``latex_elements``), so
that ``_config.yml`` only has to load the extension.
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.builders.latex.nodes import thebibliography
from sphinx.util import logging

logger = logging.getLogger(__name__)

PART = "pdfbook_part"  # the _toc.yml caption, kept on each toctree wrapper of the root doc

# \frontmatter numbers neither \chapter nor (with secnumdepth -1) \section; \mainmatter
# brings back Sphinx's depth. The table of contents keeps the front matter's roman page
# numbers (Sphinx's \sphinxtableofcontents would switch to arabic right after it).
PREAMBLE = r"""
% --- pdfbook.py: front matter without section numbers ---
\makeatletter
% the blank left-hand page before a chapter or a part carries no running head
\renewcommand{\cleardoublepage}{\clearpage\if@twoside\ifodd\c@page\else
  \hbox{}\thispagestyle{empty}\newpage\fi\fi}
% the site numbers every level of heading; the PDF numbers down to \subsubsection
\setcounter{secnumdepth}{3}
\newcount\pdfbook@secnumdepth
\g@addto@macro\frontmatter{\pdfbook@secnumdepth=\value{secnumdepth}\setcounter{secnumdepth}{-1}}
\g@addto@macro\mainmatter{\setcounter{secnumdepth}{\pdfbook@secnumdepth}}
\makeatother
"""
MAKETITLE = r"""\frontmatter
\def\releaseinfo{%(subtitle)s}
\def\sphinxbackoftitlepage{\vspace*{\fill}\noindent\small %(back)s\par}
\sphinxmaketitle"""
FNCYCHAP = r"""\usepackage[Sonny]{fncychap}
\ChNameVar{\Large\normalfont\sffamily}
\ChTitleVar{\Large\normalfont\sffamily}"""
TABLEOFCONTENTS = r"""\begingroup\parskip 0pt\relax
\sphinxtableofcontentshook
\tableofcontents
\endgroup"""


LATEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "&": r"\&",
                 "%": r"\%", "$": r"\$", "#": r"\#", "^": r"\textasciicircum{}",
                 "~": r"\textasciitilde{}"}


def latex_escape(text: str) -> str:
    """Plain text for LaTeX (Sphinx's own escape is only ready once its builder is)."""
    return "".join(LATEX_SPECIAL.get(c, c) for c in text)


def raw(latex: str, block: bool = True) -> nodes.raw:
    return nodes.raw("", latex + ("\n" if block else ""), format="latex")


def _is_latex(app) -> bool:
    return getattr(app.builder, "format", None) == "latex"


def _config_inited(app, config) -> None:
    """The LaTeX settings of the layout, unless _config.yml sets them otherwise."""
    config.latex_docclass = {"manual": "book", **(config.latex_docclass or {})}
    elements = dict(config.latex_elements or {})
    elements["preamble"] = elements.get("preamble", "") + PREAMBLE
    back = (f"Copyright \\copyright\\ {latex_escape(str(config.copyright))}, "
            f"{latex_escape(config.author)}.\\par\\medskip\\noindent "
            + latex_escape(config.pdfbook_back_text))
    elements.setdefault("maketitle", MAKETITLE % {
        "subtitle": latex_escape(config.pdfbook_subtitle), "back": back})
    elements.setdefault("tableofcontents", TABLEOFCONTENTS)
    # chapter heads with the number in digits, "Chapter 3" as the prose says it (Sphinx's
    # default style, Bjarne, spells it: "CHAPTER THREE")
    elements.setdefault("fncychap", FNCYCHAP)
    # no index: its only entries were the glossary's terms, each pointing at the glossary
    elements.setdefault("printindex", "")
    config.latex_elements = elements
    # no "Proof Index" (sphinx-proof's list of labels such as thm-ema-bias)
    config.latex_domain_indices = False


def _doctree_read(app, doctree) -> None:
    """Keep each part's caption on its toctree wrapper in the root document.

    The LaTeX builder replaces every toctree by the documents it lists, and the caption
    with it. The caption is taken off the toctree too: the builder would otherwise make the
    first one ("Foundations") the title of the table of contents.
    """
    if not _is_latex(app) or app.env.docname != app.config.root_doc:
        return
    for toctree in doctree.findall(addnodes.toctree):
        wrapper = toctree.parent
        caption = toctree.attributes.pop("caption", None)
        toctree.attributes.pop("rawcaption", None)
        if caption and isinstance(wrapper, nodes.compound):
            wrapper[PART] = caption


def exercise_references(doctree, exercises) -> int:
    """Point the references to an exercise of another chapter at the exercise.

    sphinx-exercise labels an exercise ``exercise:LABEL`` in LaTeX and rewrites the
    references within its own chapter to that label, but a reference from another chapter
    stays Sphinx's ``\\ref{DOC:LABEL}``, a label nothing defines: it printed
    "Exercise ??" where the site says "Exercise 6.5". The text Sphinx resolved (the site's
    number) is kept, and the link goes to the exercise. Returns how many were rewritten.
    """
    rewritten = 0
    for ref in list(doctree.findall(addnodes.number_reference)):
        label = ref.get("refid") or ref.get("refuri", "").rpartition("#")[2]
        if label not in exercises:
            continue
        text = latex_escape(ref.astext())
        ref.replace_self(raw(rf"\hyperref[exercise:{label}]{{{text}}}", block=False))
        rewritten += 1
    return rewritten


def _doctree_resolved(app, doctree, docname) -> None:
    if not _is_latex(app) or docname != app.config.root_doc:
        return
    exercise_references(doctree, getattr(app.env, "sphinx_exercise_registry", {}))
    layout(doctree, front_title=app.config.pdfbook_front_title,
           appendix_caption=app.config.pdfbook_appendix_caption,
           back_docs=set(app.config.pdfbook_back_docs))


def layout(doctree, front_title: str, appendix_caption: str, back_docs: set[str]) -> None:
    """Rearrange the assembled LaTeX document (see the module's docstring)."""
    root = next(iter(doctree.findall(nodes.section)), None)
    if root is None or not root.children or not isinstance(root[0], nodes.title):
        logger.warning("pdfbook: the root document has no title section; layout unchanged")
        return
    wrappers = [child for child in root.children
                if isinstance(child, nodes.compound) and PART in child]
    if not wrappers:
        logger.warning("pdfbook: no part captions in the root document (_toc.yml parts); "
                       "layout unchanged")
        return
    title, rest = root[0], [c for c in root.children[1:] if c not in wrappers]

    # the root document's own content: one unnumbered chapter of the front matter
    front = nodes.section("", ids=["pdfbook-front-matter"])
    front += nodes.title(front_title, front_title)
    front.extend(rest)

    body: list[nodes.Node] = [title, front, raw(r"\mainmatter")]
    for wrapper in wrappers:
        caption = latex_escape(wrapper[PART])
        if wrapper[PART] == appendix_caption:
            # unnumbered part; \phantomsection first, so that the contents line and the
            # bookmark point at the part's page
            body.append(raw(r"\cleardoublepage\phantomsection"
                            rf"\addcontentsline{{toc}}{{part}}{{{caption}}}"
                            rf"\part*{{{caption}}}" "\n" r"\appendix"))
        else:
            body.append(raw(rf"\part{{{caption}}}"))
        body.append(wrapper)
    root.children = []
    root.extend(body)

    # documents that only hold the bibliography: left out, their label kept for links
    labels = []
    for start in list(doctree.findall(addnodes.start_of_file)):
        if start.get("docname") in back_docs:
            labels.append(rf"\label{{\detokenize{{{start['docname']}::doc}}}}")
            start.parent.remove(start)

    back = raw(r"\backmatter" "\n" r"\cleardoublepage\phantomsection" + "".join(labels))
    bibliographies = [n for n in doctree.children if isinstance(n, thebibliography)]
    if bibliographies:
        doctree.insert(doctree.index(bibliographies[0]), back)
    else:
        doctree.append(back)


def setup(app):
    app.add_config_value("pdfbook_front_title", "Introduction", "env")
    app.add_config_value("pdfbook_appendix_caption", "Appendices", "env")
    app.add_config_value("pdfbook_back_docs", ["book/bibliography"], "env")
    app.add_config_value("pdfbook_subtitle", "", "env")
    app.add_config_value("pdfbook_back_text", "", "env")
    app.connect("config-inited", _config_inited)
    app.connect("doctree-read", _doctree_read)
    app.connect("doctree-resolved", _doctree_resolved)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
