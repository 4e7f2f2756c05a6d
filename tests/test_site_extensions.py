"""Unit tests of the site's local Sphinx extension in _ext/ (page delivery)."""

from __future__ import annotations

import sys
from pathlib import Path

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import sgdlab_site  # noqa: E402


def _doctree(rst: str) -> nodes.document:
    document = new_document("test", get_default_settings(Parser))
    Parser().parse(rst, document)
    return document


def test_shorten_cuts_at_a_word_within_the_limit():
    text = "word " * 60
    short = sgdlab_site.shorten(text)
    assert len(short) <= 160 and short.endswith("word…")
    assert sgdlab_site.shorten("  two\n lines  ") == "two lines"


def test_description_is_the_first_paragraph_of_prose_not_a_box():
    doctree = _doctree(
        "Title\n=====\n\n.. note::\n\n   A note that comes first but is not the page's prose.\n\n"
        "Short.\n\nThis chapter shows why mini-batches reach the full-batch loss in fewer epochs.\n"
    )
    description = sgdlab_site.page_description({}, doctree, "Title", "Book")
    assert description == (
        "This chapter shows why mini-batches reach the full-batch loss in fewer epochs."
    )
    given = sgdlab_site.page_description(
        {"description": "Given here."}, doctree, "T", "Book"
    )
    assert given == "Given here."
    assert sgdlab_site.page_description({}, None, "Search", "Book") == (
        "Search: Book, an open course book."
    )


def test_inline_math_becomes_plain_text_in_a_description():
    doctree = _doctree(
        "Title\n=====\n\nSomeone trains with SGD at learning rate :math:`10^{-3}` and an RMSE "
        "loss, and reports a loss that grows with the batch size.\n"
    )
    description = sgdlab_site.page_description({}, doctree, "Title", "Book")
    assert "learning rate 10^-3 and an RMSE loss" in description
    assert not set("${}\\") & set(description)


def test_css_urls_are_rebased_to_the_bundle(tmp_path):
    static = tmp_path / "_static"
    (static / "styles").mkdir(parents=True)
    css = (
        "@font-face{src:url(../vendor/fa.woff2) format('woff2')}"
        '.a{background:url("img/x.png?v=1")}.b{background:url(data:image/png;base64,AA)}'
    )
    rebased = sgdlab_site._rebase_css(css, static / "styles" / "theme.css", static)
    assert "url(vendor/fa.woff2)" in rebased
    assert 'url("styles/img/x.png?v=1")' in rebased
    assert "url(data:image/png;base64,AA)" in rebased


def test_image_size_of_svg_in_points_and_png(tmp_path):
    svg = tmp_path / "f.svg"
    svg.write_text(
        '<?xml version="1.0"?>\n<svg width="432pt" height="216pt" viewBox="0 0 432 2">'
    )
    assert sgdlab_site.image_size(svg) == (576, 288)
    png = tmp_path / "f.png"
    png.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + b"\0\0\0\rIHDR"
        + (640).to_bytes(4, "big")
        + (480).to_bytes(4, "big")
    )
    assert sgdlab_site.image_size(png) == (640, 480)
