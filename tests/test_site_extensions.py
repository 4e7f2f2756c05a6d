"""Unit tests of the site's local Sphinx extensions in _ext/ (page delivery, kernels)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

import sgdlab_descriptions  # noqa: E402
import sgdlab_images  # noqa: E402
import sgdlab_kernel  # noqa: E402
import sgdlab_math  # noqa: E402
import sgdlab_search  # noqa: E402
import sgdlab_stylesheet  # noqa: E402


def _doctree(rst: str) -> nodes.document:
    document = new_document("test", get_default_settings(Parser))
    Parser().parse(rst, document)
    return document


def test_shorten_cuts_at_a_word_within_the_limit():
    text = "word " * 60
    short = sgdlab_descriptions.shorten(text)
    assert len(short) <= 160 and short.endswith("word…")
    assert sgdlab_descriptions.shorten("  two\n lines  ") == "two lines"


def test_description_is_the_first_paragraph_of_prose_not_a_box():
    doctree = _doctree(
        "Title\n=====\n\n.. note::\n\n   A note that comes first but is not the page's prose.\n\n"
        "Short.\n\nThis chapter shows why mini-batches reach the full-batch loss in fewer epochs.\n"
    )
    description = sgdlab_descriptions.page_description({}, doctree, "Title", "Book")
    assert description == (
        "This chapter shows why mini-batches reach the full-batch loss in fewer epochs."
    )
    given = sgdlab_descriptions.page_description(
        {"description": "Given here."}, doctree, "T", "Book"
    )
    assert given == "Given here."
    assert sgdlab_descriptions.page_description({}, None, "Search", "Book") == (
        "Search: Book, an open course book."
    )


def test_inline_math_becomes_plain_text_in_a_description():
    doctree = _doctree(
        "Title\n=====\n\nSomeone trains with SGD at learning rate :math:`10^{-3}` and an RMSE "
        "loss, and reports a loss that grows with the batch size.\n"
    )
    description = sgdlab_descriptions.page_description({}, doctree, "Title", "Book")
    assert "learning rate 10^-3 and an RMSE loss" in description
    assert not set("${}\\") & set(description)


def test_css_urls_are_rebased_to_the_bundle(tmp_path):
    static = tmp_path / "_static"
    (static / "styles").mkdir(parents=True)
    css = (
        "@font-face{src:url(../vendor/fa.woff2) format('woff2')}"
        '.a{background:url("img/x.png?v=1")}.b{background:url(data:image/png;base64,AA)}'
    )
    rebased = sgdlab_stylesheet._rebase_css(
        css, static / "styles" / "theme.css", static
    )
    assert "url(vendor/fa.woff2)" in rebased
    assert 'url("styles/img/x.png?v=1")' in rebased
    assert "url(data:image/png;base64,AA)" in rebased


def test_image_size_of_svg_in_points_and_png(tmp_path):
    svg = tmp_path / "f.svg"
    svg.write_text(
        '<?xml version="1.0"?>\n<svg width="432pt" height="216pt" viewBox="0 0 432 2">'
    )
    assert sgdlab_images.image_size(svg) == (576, 288)
    png = tmp_path / "f.png"
    png.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + b"\0\0\0\rIHDR"
        + (640).to_bytes(4, "big")
        + (480).to_bytes(4, "big")
    )
    assert sgdlab_images.image_size(png) == (640, 480)


PAGE = (
    '<html><head><title>t</title></head><body class="x">\n'
    '<p>Step <span class="math notranslate nohighlight">\\(\\eta &lt; 2/\\lambda\\)</span>.</p>\n'
    '<div class="math notranslate nohighlight">\n'
    '<span class="eqno">(1)<a class="headerlink" href="#eq" title="Link">#</a></span>'
    "\\[\\frac1B \\sum_{j=1}^B \\sqrt{M_j}\\]</div>\n</body></html>"
)


def test_raw_tex_is_found_and_unescaped():
    assert sgdlab_math.has_raw_math(PAGE)
    assert not sgdlab_math.has_raw_math("<p>No formula here.</p>")
    found = [
        sgdlab_math._raw_tex(m.group(1), m.group(2))
        for m in sgdlab_math._MATH.finditer(PAGE)
    ]
    assert found == ["\\eta < 2/\\lambda", "\\frac1B \\sum_{j=1}^B \\sqrt{M_j}"]


def _typesetter():
    import os

    import pytest

    command = sgdlab_math.typesetter(ROOT)
    if command is None:
        message = "node or npm's mathjax-full missing: npm ci"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return command


def test_formulas_become_svg_with_mathml_for_screen_readers():
    import re

    (page,), css = sgdlab_math.typeset_pages([PAGE], _typesetter(), ROOT)
    assert not sgdlab_math.has_raw_math(page)
    assert page.count("<mjx-container") == 2 and page.count('aria-hidden="true"') >= 3
    assert (
        page.count('<mjx-container tabindex="0"') == 1
    )  # the display formula may scroll
    # the MathML that screen readers read, with the TeX's "<" as an operator
    assert "<mo>&lt;</mo>" in page and "<msqrt>" in page
    # the equation number and its link stay, beside the formula
    assert '<span class="eqno">(1)<a class="headerlink" href="#eq"' in page
    # each glyph the formulas use is defined once, in the page's hidden SVG
    used = set(re.findall(r'xlink:href="#([^"]+)"', page))
    defined = re.findall(r'<path id="([^"]+)"', page)
    assert used and used == set(defined) and len(defined) == len(set(defined))
    assert "mjx-assistive-mml" in css and "clip" in css


def test_a_formula_that_cannot_be_typeset_is_named():
    import pytest

    bad = PAGE.replace("\\sqrt{M_j}", "\\sqrt{M_j")
    with pytest.raises(RuntimeError, match=r"Missing close brace.*\n.*Fix the formula"):
        sgdlab_math.typeset_pages([bad], _typesetter(), ROOT)


def test_kernels_get_curve_keys_and_run_without_the_plain_tcp_warning(tmp_path):
    """A real kernel, started as myst-nb starts one (nbclient, no Jupyter configuration)."""
    import nbclient
    import nbformat
    from jupyter_client.manager import KernelManager

    assert sgdlab_kernel.encrypt_kernel_transport()
    assert KernelManager().transport_encryption == "auto"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    client = nbclient.NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    log = tmp_path / "kernel.log"
    with log.open("w") as handle:
        client.execute(stderr=handle)
    assert nb.cells[0].outputs[0]["text"] == "42\n"
    assert "without encryption" not in log.read_text(), log.read_text()


def test_css_pruning_keeps_what_the_site_uses():
    css = (
        '@charset "utf-8";\n/* a.css */\n'
        "/*! Licence, with, commas */ .used, .unused { color: red }\n"
        ".unused .used { margin: 0 }\n"
        '.used:not(.unused)::after { content: "}{" }\n'
        "a[href$='.pdf'] { color: blue }\n"
        "@media (min-width: 960px) { .unused { x: 1 } .used > .also { x: 2 } }\n"
        "@media print { .unused { x: 1 } }\n"
        "@font-face { font-family: X; src: url(x.woff) }\n"
        "@keyframes spin { from { transform: none } to { transform: rotate(1turn) } }\n"
    )
    blocks = sgdlab_stylesheet.css_blocks(css)
    assert [prelude for prelude, _ in blocks][0] == '@charset "utf-8";'
    assert len(blocks) == 9
    out = sgdlab_stylesheet.prune_css(css, {"used", "also"})
    assert ".used{ color: red }" in out.replace("\n", "")
    assert ".unused .used" not in out and "@media print" not in out
    assert '.used:not(.unused)::after{ content: "}{" }' in out  # :not() needs nothing
    assert "a[href$='.pdf']" in out  # a dot in an attribute value is not a class
    assert "@media (min-width: 960px){.used > .also{ x: 2 }}" in out.replace("\n", "")
    assert "@font-face" in out and "@keyframes spin" in out
    assert "/*! Licence, with, commas */\n.used{" in out  # comments stay whole


def test_icon_fonts_keep_the_glyphs_of_escaped_and_literal_icons():
    """Font Awesome's rules escape an icon's code point; the theme's admonition
    icons hold the character itself in a custom property (``--pst-icon-*``).
    Both must reach the subset font, or the icon is an empty box."""
    css = (
        '.fa-bars:before{content:"\\f0c9"}'
        'html{--pst-icon-exclamation-triangle:"\uf071";--pst-icon-bell:"\\f0f3 "}'
        '.x:after{content:"a-z"}'
    )
    assert sgdlab_stylesheet.icon_codepoints(css) == {0xF0C9, 0xF071, 0xF0F3}


def test_the_header_override_is_the_themes_header_less_its_sidebar_buttons():
    """_templates/sections/header.html drops the two buttons that sphinx-book-theme
    hides, which captured the drawers' listeners (pydata-sphinx-theme #2451). A
    new theme version with a different header must be looked at again."""
    import re

    import pydata_sphinx_theme

    theme = (
        Path(pydata_sphinx_theme.__file__).parent
        / "theme/pydata_sphinx_theme/sections/header.html"
    ).read_text()
    ours = (ROOT / "_templates/sections/header.html").read_text()
    theme, ours = (re.sub(r"\{#.*?#\}\n?", "", t, flags=re.S) for t in (theme, ours))
    buttons = re.compile(
        r'  <button class="pst-navbar-icon sidebar-toggle primary-toggle".*?</button>\n'
        r"|  \{% if not remove_sidebar_secondary and secondary_sidebar_items %\}.*?"
        r"\{% endif %\}\n",
        re.S,
    )
    assert len(buttons.findall(theme)) == 2
    assert buttons.sub("", theme) == ours
    assert "sidebar-toggle" not in ours


def test_a_display_formula_is_cut_into_its_side_by_side_parts():
    cut = sgdlab_math.display_parts
    assert cut(r"a = b, \qquad c = \frac{d}{e} .") == ["a = b,", r"c = \frac{d}{e} ."]
    # Not inside braces, environments, \left...\right; not across a line break.
    for whole in (
        r"\text{a \qquad b}",
        r"\begin{aligned} a &= b \qquad c \\ d \end{aligned}",
        r"\left( a \qquad b \right)",
        r"a \qquad b \\ c",
        r"\qquad a",
    ):
        assert cut(whole) == [whole]


def test_parts_are_found_inside_sphinxs_split_wrapper():
    # Sphinx wraps a formula holding \\ (an aligned block) in split.
    cut = sgdlab_math.display_parts
    block = r"\begin{aligned} a &= b,\\ c &= d \end{aligned}"
    assert cut(rf"\begin{{split}}{block} \qquad e = f\end{{split}}") == [block, "e = f"]
    whole = r"\begin{split}a = b \\ c \qquad d\end{split}"
    assert cut(whole) == [whole]


def test_brackets_and_punctuation_stay_with_a_short_formula():
    def math(tex):
        return f'<span class="math notranslate nohighlight">\\({tex}\\)</span>'

    short, long = math("B = 1"), math("x" * (sgdlab_math.GLUED_TEX + 1))
    page = (
        f"<p>one batch ({short}), or ( {short} or {short}. Then {long}, {short} x</p>"
    )
    assert sgdlab_math.keep_brackets(page) == (
        f'<p>one batch <span class="sgdlab-nobr">({short}),</span> or ( {short} or '
        f'<span class="sgdlab-nobr">{short}.</span> Then {long}, {short} x</p>'
    )


def test_search_summaries_are_rewritten_once(tmp_path):
    sphinx_search = Path(sys.modules["sphinx"].__file__).parent / "themes/basic/static"
    static = tmp_path / "_static"
    static.mkdir()
    (static / "searchtools.js").write_text(
        (sphinx_search / "searchtools.js").read_text(encoding="utf-8")
    )
    sgdlab_search.patch_search_script(tmp_path)
    once = (static / "searchtools.js").read_text()
    sgdlab_search.patch_search_script(tmp_path)
    assert (static / "searchtools.js").read_text() == once
    assert (
        once.count('.replace(/\\s+/g, " ")') == 2 and '".bd-sidebar-secondary"' in once
    )


def test_parts_are_typeset_as_formulas_that_wrap():
    page = '<body><div class="math notranslate nohighlight">\\[x, \\qquad y\\]</div></body>'
    (text,), _ = sgdlab_math.typeset_pages([page], _typesetter(), ROOT)
    parts = re.search(r'<span class="sgdlab-parts">(.*)</span>', text, re.S)
    assert parts, text[:300]
    assert parts.group(1).count('<mjx-container tabindex="0"') == 2
