"""A Sphinx extension with three fixes to the theme stack that the site tests found.

1. **Duplicate thebe script.** sphinx-thebe registers its inline configuration
   script on every read phase, so a page can carry it twice; the second copy
   re-declares ``const THEBE_JS_URL`` and the browser reports a page error.
   Each page's scripts are de-duplicated (same file and same inline body).
2. **Empty colour mode.** pydata-sphinx-theme writes ``default_mode`` into the
   page from the template variable ``default_mode``; left unset it is ``""``,
   and its script logs "Got invalid theme mode" as a console error on every
   page. It becomes ``"auto"`` (follow the reader's system setting) unless
   ``html_context`` sets it.

Enabled in ``_config.yml`` under ``sphinx: local_extensions``; it lives in
``_ext/`` with the site's other extensions, outside the course package.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _script_key(script) -> tuple:
    """Same file and same inline body (an inline script's file is ``None`` or ``""``)."""
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", script) or ""
    return (str(filename), attributes.get("body", ""))


def unique_scripts(scripts: list) -> list:
    """``scripts`` without repeats (by file name and inline body), order kept."""
    seen: set[tuple] = set()
    kept = []
    for script in scripts:
        key = _script_key(script)
        if key in seen:
            continue
        seen.add(key)
        kept.append(script)
    return kept


def fix_citation_list(body: str) -> str:
    """Drop ``role="list"`` from docutils' citation list.

    Its children carry ``role="doc-biblioentry"``, not ``listitem``, so the
    list role is wrong (axe: aria-required-children, critical); without it the
    entries keep their own role and screen readers still announce them.
    """
    return body.replace(
        '<div role="list" class="citation-list">', '<div class="citation-list">'
    )


def _fix_page(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if isinstance(scripts, list):
        # In place: it is the builder's list, to which later handlers (MathJax on
        # pages with math) still add their scripts.
        scripts[:] = unique_scripts(scripts)
    context["default_mode"] = context.get("default_mode") or "auto"
    if "body" in context:
        context["body"] = fix_citation_list(context["body"])


def setup(app: Sphinx) -> dict:
    # Early (low number): html-page-context stops at the first handler that
    # returns a template name, and the theme's handlers may do so.
    app.connect("html-page-context", _fix_page, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
