"""A long chapter is laid out on a phone a section at a time, as the reader nears it.

Part of the page rewrite of ``sgdlab_site`` (it calls these after the build).
On Lighthouse's phone (a 4x slower CPU) the first style and layout pass over a
whole chapter, 5,000 to 8,000 elements, blocked the main thread for most of a
second. Three changes shorten it; the text stays in the page throughout, for
find-in-page, fragment links and screen readers.

1. **Sections.** Below 960 px (phones and tablets; a desktop lays out the whole
   page fast enough) each section of a chapter has ``content-visibility: auto``
   (``assets/sgdlab.css``): the browser skips its layout and painting until it
   comes near the screen. A skipped section counts as
   ``contain-intrinsic-block-size`` tall, which this module sets per section to an
   *upper bound* of its height, estimated from its text, code lines, images
   and display formulas (:func:`height_bound`). An upper bound, not a guess:
   a section drawn taller than its placeholder would spill over the next ones
   while skipped, and tools that read the geometry (axe's contrast check, run by
   Lighthouse) would find one section's boxes on top of another's text. Once
   drawn, a section keeps its real height (``auto``). ``tests/test_site.py``
   checks the bound against the real heights at five widths from 320 to 959 px
   and in dark mode.
2. **Formulas.** Each formula's SVG and its hidden MathML copy (what screen
   readers read) get ``content-visibility: auto`` too. The SVG's size comes from
   its own ``width`` and ``height``, so skipping its glyphs changes no geometry.
3. **Code blocks.** pydata-sphinx-theme, on ``load``, visits every code block
   and output, reads whether it overflows and sets ``tabIndex`` (0 if it
   scrolls, so that a keyboard can scroll it; -1 if not). Each read after a write
   forces a layout, and with skipped sections, a layout of the section the block
   is in: the whole page again. :func:`patch_theme_script` makes the theme do the
   same for a block only when it comes near the screen (an
   ``IntersectionObserver``), reads before writes; and every block with a line
   long enough to scroll in a phone's column, and every scrollable table, starts
   with ``tabindex="0"``, so that one that scrolls can be reached before it has
   been seen.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from sphinx.errors import ExtensionError

LAZY_CLASS = "sgdlab-lazy"

# Tags are looked for outside scripts, styles and comments, which are matched whole
# and passed over (group 1 unset).
_OPAQUE = r"<script\b.*?</script>|<style\b.*?</style>|<!--.*?-->"
_SECTION = re.compile(rf"{_OPAQUE}|<(/?)section(?=[\s>])[^>]*>", re.S)
_PRE = re.compile(
    rf"{_OPAQUE}|(<pre)(?=[\s>])(?![^>]*\btabindex=)([^>]*>)(.*?</pre>)", re.S
)
_TABLE = re.compile(r'<div class="pst-scrollable-table-container"(?![^>]*\btabindex=)')
_BLOCK = re.compile(r"<(p|li|h\d|div|table|tr|dt|dd|figure|blockquote)\b")
_HIDDEN = re.compile(r"<(script|style|mjx-assistive-mml)\b.*?</\1>", re.S)
_FORMULA = re.compile(r"<mjx-container\b.*?</mjx-container>", re.S)
_DISPLAY_HEIGHT = re.compile(
    r'<mjx-container[^>]*display="true"[^>]*><svg[^>]*\bheight="([\d.]+)ex"'
)
_HEIGHT = re.compile(r'\bheight="([\d.]+)"')

# The estimate, in CSS px, at the narrowest phone (320 px: about 32 characters
# of 16 px text a line, lines 27 px apart): every block's margins, a code line,
# a code block's padding, 9 px per ex of a display formula, and an image at its
# full intrinsic height (the column only ever scales a figure down), except the
# players' panels, which fill their grid cell (``width:100%``): a cell is
# narrower than 32rem (512 px) below 960 px (``sgdlab.player_assets``), so a
# panel is at most 512 / width times its intrinsic height. Measured against the
# real heights of this book's 83 sections at 320, 412 and 1280 px, the largest
# real/estimate ratio was 1.07 (a short section at 320 px): the bound is 1.5
# times the estimate plus 200 px. tests/test_site.py checks it at 320 to 959 px,
# in light and dark mode.
CHARS_PER_LINE, LINE_PX, CODE_LINE_PX, CODE_BLOCK_PX = 32, 27, 20, 60
BLOCK_PX, EX_PX, UNSIZED_IMAGE_PX, PANEL_MAX_PX = 24, 9, 800, 512
SAFETY, SLACK_PX = 1.5, 200
#: A code line longer than this may scroll sideways in a phone's column.
CODE_CHARS_320 = 30
_WIDTH = re.compile(r'\bwidth="([\d.]+)"')


def article_sections(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each section one level inside the page's title
    section (the chapter's numbered sections), in order."""
    article = text.find("<article")
    if article < 0:
        return []
    spans, depth, start = [], 0, 0
    for match in _SECTION.finditer(text, article):
        if match.group(1) is None:  # a script, style or comment
            continue
        if match.group(1):
            if depth == 2:
                spans.append((start, match.end()))
            depth -= 1
            if depth == 0:
                break
        else:
            depth += 1
            if depth == 2:
                start = match.start()
    return spans


def height_bound(section: str) -> int:
    """An upper bound, in CSS px, of the height of the section whose HTML is
    ``section``, on a screen 320 to 959 px wide (see the constants above)."""
    code = re.findall(r"<pre\b.*?</pre>", section, re.S)
    code_lines = sum(
        html.unescape(re.sub(r"<[^>]+>", "", block)).count("\n") + 1 for block in code
    )
    rest = _HIDDEN.sub("", re.sub(r"<pre\b.*?</pre>", "", section, flags=re.S))
    images = 0.0
    for tag in re.findall(r"<img\b[^>]*>", rest):
        height, width = _HEIGHT.search(tag), _WIDTH.search(tag)
        if not (height and width):
            images += UNSIZED_IMAGE_PX
            continue
        grows = "width:100%" in tag.replace(" ", "")
        scale = max(1.0, PANEL_MAX_PX / float(width.group(1))) if grows else 1.0
        images += scale * float(height.group(1))
    display_ex = sum(float(ex) for ex in _DISPLAY_HEIGHT.findall(rest))
    words = html.unescape(re.sub(r"<[^>]+>", " ", _FORMULA.sub(" xxxxxx ", rest)))
    chars = len(re.sub(r"\s+", " ", words))
    estimate = (
        LINE_PX * chars / CHARS_PER_LINE
        + CODE_LINE_PX * code_lines
        + CODE_BLOCK_PX * len(code)
        + images
        + EX_PX * display_ex
        + BLOCK_PX * len(_BLOCK.findall(rest))
        + 100
    )
    return round(SAFETY * estimate + SLACK_PX)


def lazy_sections(text: str) -> str:
    """Mark each numbered section of the page lazy, with its height bound."""
    for start, end in reversed(article_sections(text)):
        tag_end = text.index(">", start)
        tag = text[start:tag_end]
        if "style=" in tag:  # never written by Sphinx; leave such a section be
            continue
        bound = height_bound(text[start:end])
        size = f' style="contain-intrinsic-block-size: auto {bound}px"'
        if 'class="' in tag:
            tag = tag.replace('class="', f'class="{LAZY_CLASS} ', 1)
        else:
            tag += f' class="{LAZY_CLASS}"'
        text = text[:start] + tag + size + text[tag_end:]
    return text


def focusable_code(text: str) -> str:
    """Code blocks that may scroll sideways on a phone (a line longer than
    ``CODE_CHARS_320``), and scrollable tables, start keyboard-focusable
    (see 3. above)."""

    def pre(match: re.Match) -> str:
        if match.group(1) is None:  # a script, style or comment
            return match.group(0)
        code = html.unescape(re.sub(r"<[^>]+>", "", match.group(3)))
        if max(map(len, code.split("\n"))) <= CODE_CHARS_320:
            return match.group(0)
        return '<pre tabindex="0"' + match.group(2) + match.group(3)

    body = text.find("<body")
    if body < 0:
        return text
    head, rest = text[:body], _PRE.sub(pre, text[body:])
    return head + _TABLE.sub(
        '<div class="pst-scrollable-table-container" tabindex="0"', rest
    )


# pydata-sphinx-theme 0.17.1's minified updateTabStops callback, and what replaces
# it: the same test, run for a block when it nears the screen, reads before writes.
THEME_SCRIPT = "_static/scripts/pydata-sphinx-theme.js"
_THEME_CALLBACK = (
    "e=>{e.tabIndex=e.scrollWidth>e.clientWidth||e.scrollHeight>e.clientHeight?0:-1}"
)
_NEAR_CALLBACK = (
    "(()=>{/*sgdlab: tab stops near the screen*/"
    "const o=window.sgdlabTabStops||(window.sgdlabTabStops=new IntersectionObserver("
    "n=>{const v=n.filter(x=>x.isIntersecting).map(x=>x.target),"
    "s=v.map(t=>t.scrollWidth>t.clientWidth||t.scrollHeight>t.clientHeight);"
    'v.forEach((t,i)=>{t.tabIndex=s[i]?0:-1})},{rootMargin:"50% 0px"}));'
    "return t=>{o.unobserve(t);o.observe(t)}})()"
)


def patch_theme_script(outdir: Path) -> None:
    """Replace the theme's tab-stop callback (see 3. above); an error if the theme's
    script no longer has it (a new theme version: check the replacement still fits)."""
    script = outdir / THEME_SCRIPT
    if not script.is_file():
        return
    text = script.read_text(encoding="utf-8")
    if _NEAR_CALLBACK in text:
        return
    if text.count(_THEME_CALLBACK) != 1:
        raise ExtensionError(
            f"sgdlab_lazy: {THEME_SCRIPT} no longer contains the tab-stop callback "
            "it replaces (did pydata-sphinx-theme change version?); update "
            "_THEME_CALLBACK in _ext/sgdlab_lazy.py"
        )
    script.write_text(text.replace(_THEME_CALLBACK, _NEAR_CALLBACK), encoding="utf-8")
