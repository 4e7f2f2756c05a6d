"""Search results whose summaries are the page's words (part of ``sgdlab_site``).

Sphinx's ``searchtools.js`` (7.4) summarises a result with the text of the
page's ``[role="main"]`` element around the first match. In this theme that
element holds, besides the article, the page's header buttons (".pdf"), the
"Contents" sidebar (and its copy for print) and the Previous/Next links, and
its ``textContent`` keeps every line break and indent of the HTML: a summary
was runs of blank space around ".pdf" and "Contents". :func:`patch_search_script`
makes the script drop those parts and collapse white space, after the build (the
file is Sphinx's).
"""

from __future__ import annotations

from pathlib import Path

from sphinx.errors import ExtensionError

SEARCH_SCRIPT = "_static/searchtools.js"
_REMOVED = '[".headerlink", "script", "style"]'
#: Parts of [role=main] that are not the page's text.
_ALSO_REMOVED = (
    '[".headerlink", "script", "style", ".bd-header-article", ".bd-sidebar-secondary",'
    ' "dialog", ".prev-next-footer", ".bd-footer-article", "details.hide > summary",'
    ' ".onlyprint"]'
)
_TEXTS = (
    "return anchorContent.textContent;",
    "return docContent.textContent;",
)
_MARK = "/*sgdlab: words only*/"


def _collapsed(statement: str) -> str:
    expression = statement[len("return ") : -1]
    return f'return {expression}.replace(/\\s+/g, " ").trim(); {_MARK}'


def patch_search_script(outdir: Path) -> None:
    """Rewrite the summaries of Sphinx's search script (see above); an error if the
    script no longer has the lines it replaces (a new Sphinx: check they still fit)."""
    script = outdir / SEARCH_SCRIPT
    if not script.is_file():
        return
    text = script.read_text(encoding="utf-8")
    if _MARK in text:
        return
    if text.count(_REMOVED) != 1 or any(text.count(t) != 1 for t in _TEXTS):
        raise ExtensionError(
            f"sgdlab_search: {SEARCH_SCRIPT} no longer has the summary code it "
            "rewrites (did Sphinx change version?); update _ext/sgdlab_search.py"
        )
    text = text.replace(_REMOVED, _ALSO_REMOVED)
    for statement in _TEXTS:
        text = text.replace(statement, _collapsed(statement))
    script.write_text(text, encoding="utf-8")
