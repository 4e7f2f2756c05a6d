"""Sphinx extension: the built pages paint fast on a phone, work for a reader, and
say what they are.

Enabled in ``_config.yml`` under ``sphinx: local_extensions``. It lives outside
``code/`` on purpose: it changes how pages are delivered, never what a chapter
computes, so editing it must not clear the execution cache (``_ext/sgdlab_cache.py``
watches ``code/`` and ``data/``).

This module only wires the jobs together; each job has its module in ``_ext/``,
named for it (Lighthouse's mobile preset, slow 4G and a 4x slower CPU, is the
measure for most):

- ``sgdlab_descriptions``: a ``<meta name="description">`` per page.
- ``sgdlab_ids``: ids that sphinx-exercise and sphinx-proof repeat made unique.
- ``sgdlab_math``: formulas typeset as SVG when the site is built (node and
  MathJax), else a lazy MathJax loader for the browser.
- ``sgdlab_head``: nothing render-blocking but one stylesheet; scripts
  deferred; search scripts on the search page only; one viewport tag.
- ``sgdlab_stylesheet``: that one stylesheet, cut to what the site uses, with
  the icon fonts subset to the glyphs it draws.
- ``sgdlab_images``: images with explicit sizes, large inline ones and the
  explorers' runs as files loaded lazily.
- ``sgdlab_lazy``: a chapter laid out as the reader nears it.
- ``sgdlab_reader``: drawers that close after a link; blocks that show they scroll.
- ``sgdlab_search``: search summaries made of the page's words, white space collapsed.

After the build, :func:`_rewrite_pages` runs them over every page, in that
order: formulas first (the stylesheet bundle must see their classes), then each
page's head and body. It also drops ``role="doc-biblioentry"`` (deprecated in
ARIA 1.3; axe flags it).
"""

from __future__ import annotations

from pathlib import Path

import sgdlab_descriptions
import sgdlab_ids
import sgdlab_lazy
import sgdlab_math
import sgdlab_search
from sgdlab_head import MARK, HeadRewriter
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _rewrite_pages(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    outdir = Path(app.outdir)
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {}) or {}
    pages = [
        page
        for page in sorted(outdir.rglob("*.html"))
        if not page.relative_to(outdir).parts[0].startswith("_")
        and MARK not in page.read_text(encoding="utf-8")  # done in an earlier build
    ]
    command = sgdlab_math.typesetter(Path(app.confdir))
    if command is None:
        logger.info(
            "sgdlab_site: node or npm's mathjax-full missing (npm ci): "
            "MathJax will typeset the formulas in the browser"
        )
    elif pages:
        texts, css = sgdlab_math.typeset_pages(
            [p.read_text(encoding="utf-8") for p in pages], command, Path(app.confdir)
        )
        (outdir / "_static" / sgdlab_math.MATH_CSS).write_text(css, encoding="utf-8")
        for page, text in zip(pages, texts, strict=True):
            page.write_text(text, encoding="utf-8")
    sgdlab_lazy.patch_theme_script(outdir)
    sgdlab_search.patch_search_script(outdir)
    rewriter = HeadRewriter(
        outdir,
        thebe=bool(launch.get("thebe")),
        extra_css=sgdlab_math.MATH_CSS if command else None,
    )
    count = sum(rewriter.rewrite(page) for page in pages)
    logger.info(
        "sgdlab_site: rewrote the <head> of %d pages (%d stylesheet bundle(s))",
        count,
        len(rewriter.bundles),
    )


def setup(app: Sphinx) -> dict:
    app.setup_extension("sgdlab_reader")
    app.connect("doctree-resolved", sgdlab_ids.unique_section_ids)
    app.connect("html-page-context", sgdlab_descriptions.add_description, priority=900)
    # Last: the theme, myst-nb, sphinx-exercise and sphinx-proof write or overwrite
    # stylesheets (pygments.css, mystnb.css, exercise.css...) in their own handlers.
    app.connect("build-finished", _rewrite_pages, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
