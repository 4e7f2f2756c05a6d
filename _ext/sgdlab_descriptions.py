"""Each page's ``<meta name="description">`` (part of ``sgdlab_site``).

From the page's front matter (``description:``) or else its first paragraphs of
prose, cut at a word near 160 characters. Search engines show it; Lighthouse's
SEO score needs it.
"""

from __future__ import annotations

import html
import re

from docutils import nodes
from sphinx.application import Sphinx

DESCRIPTION_LENGTH = 160
#: Containers whose paragraphs are not the page's own prose.
_NOT_PROSE = (
    nodes.Admonition,  # note, warning, tip... and generic admonitions
    nodes.topic,
    nodes.sidebar,
    nodes.footnote,
    nodes.citation,
    nodes.table,
    nodes.field_list,
    nodes.compound,
)


def shorten(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """``text`` on one line, cut at the last word boundary within ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-–—(.")
    return cut + "…"


def _is_prose(paragraph: nodes.paragraph) -> bool:
    parent = paragraph.parent
    while parent is not None:
        if isinstance(parent, _NOT_PROSE) or "cell" in parent.get("classes", []):
            return False
        if parent.tagname in ("exercise_node", "solution_node", "enumerable_node"):
            return False
        parent = parent.parent
    return True


def plain_text(node: nodes.Node) -> str:
    """The text of ``node`` with inline math as plain characters: a description
    is shown as text by search engines, so ``$10^{-3}$`` becomes ``10^-3``."""
    if isinstance(node, nodes.math):
        return re.sub(r"[{}$\\]", "", node.astext())
    if isinstance(node, nodes.Text):
        return node.astext()
    return "".join(plain_text(child) for child in node.children)


def first_paragraph(doctree: nodes.document, enough: int = 100) -> str:
    """The first paragraphs of prose (not in a box, a table or a cell), joined until
    they make ``enough`` characters: a one-line tagline alone says too little."""
    texts: list[str] = []
    for paragraph in doctree.findall(nodes.paragraph):
        if not _is_prose(paragraph):
            continue
        text = " ".join(plain_text(paragraph).split())
        if len(text) < 20:  # bylines and one-word lead-ins
            continue
        texts.append(text)
        if len(" ".join(texts)) >= enough:
            break
    return " ".join(texts)


def page_description(metadata: dict, doctree, title: str, project: str) -> str:
    """Front matter's ``description``, else the first paragraph, else a sentence from the title."""
    given = metadata.get("description") if metadata else None
    if isinstance(given, str) and given.strip():
        return shorten(given)
    text = first_paragraph(doctree) if doctree is not None else ""
    if text:
        return shorten(text)
    return shorten(f"{title}: {project}, an open course book." if title else project)


def add_description(app: Sphinx, pagename, templatename, context, doctree) -> None:
    metadata = (
        app.env.metadata.get(pagename, {}) if pagename in app.env.all_docs else {}
    )
    title = re.sub(r"<[^>]+>", "", context.get("title") or "")
    if pagename == "search":
        title = "Search"
    elif pagename == "genindex":
        title = "Index"
    book = app.config.html_title or app.config.project
    description = page_description(metadata, doctree, html.unescape(title), book)
    tag = f'<meta name="description" content="{html.escape(description, quote=True)}" />\n'
    context["metatags"] = context.get("metatags", "") + tag
