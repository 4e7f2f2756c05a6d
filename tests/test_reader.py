"""The built site used as a reader uses it: tapping, reading, scrolling, in chromium.

At a small phone's width (320 px), a phone's (390 px), a tablet's (768 px) and a
laptop's (1280 x 800), in light and dark mode: the chapter list and the page's
contents open from their buttons, their links work and the drawer closes; on a
laptop the chapter list folds away and back; every formula, table, code block
and output either fits its column or scrolls sideways in a box that is focusable
and marked on the side where there is more to see; no text is cut off.

Uses the ``site`` fixture of ``test_site.py`` (one build, served under the
sub-path GitHub Pages uses) and the ``browser`` fixture of ``conftest.py``.
"""

from __future__ import annotations

import pytest
import test_site
from test_site import PAGES

pytestmark = pytest.mark.book

site = test_site.site  # the fixture: the built site, served (one build for both files)

SMALL_PHONE = {"width": 320, "height": 640}
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1280, "height": 800}
TOUCH = [SMALL_PHONE, PHONE, TABLET]  # the widths at which the chapter list is a drawer
CHAPTER = "book/epoch-rmse"


def _open(browser, url: str, viewport: dict, scheme: str = "light"):
    touch = viewport["width"] < 992
    context = browser.new_context(
        viewport=viewport, color_scheme=scheme, has_touch=touch, is_mobile=touch
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url, wait_until="networkidle")
    return context, page, errors


def _open_drawer(page, which: str):
    """Tap the one visible button of the ``primary`` or ``secondary`` drawer."""
    buttons = page.locator(f"button.{which}-toggle")
    assert buttons.count() == 1, f"{buttons.count()} .{which}-toggle buttons"
    assert buttons.is_visible()
    box = buttons.bounding_box()
    assert min(box["width"], box["height"]) >= 44, f"{which} button is {box}"
    buttons.tap()
    drawer = page.locator(f"#pst-{which}-sidebar-modal")
    drawer.wait_for(state="visible", timeout=3000)
    assert drawer.evaluate("d => d.open")
    return drawer


@pytest.mark.parametrize("viewport", TOUCH, ids=lambda v: f"{v['width']}px")
def test_the_chapter_list_opens_a_chapter_and_closes(browser, site, viewport):
    context, page, errors = _open(browser, site + CHAPTER + ".html", viewport)
    drawer = _open_drawer(page, "primary")
    link = drawer.locator('a.reference[href$="landscape.html"]')
    assert link.count() == 1 and link.is_visible()
    link.tap()
    page.wait_for_url("**/book/landscape.html")
    assert page.locator("#pst-primary-sidebar-modal").is_hidden()
    # Open again and close it by tapping beside it, then by Escape.
    drawer = _open_drawer(page, "primary")
    box = drawer.bounding_box()
    assert box["width"] < viewport["width"] - 30, (
        box
    )  # a strip of the page shows beside it
    page.touchscreen.tap(viewport["width"] - 10, viewport["height"] // 2)
    drawer.wait_for(state="hidden", timeout=3000)
    drawer = _open_drawer(page, "primary")
    page.keyboard.press("Escape")
    drawer.wait_for(state="hidden", timeout=3000)
    context.close()
    assert not errors, errors


@pytest.mark.parametrize("viewport", TOUCH, ids=lambda v: f"{v['width']}px")
def test_the_page_contents_go_to_a_section_and_close(browser, site, viewport):
    context, page, errors = _open(browser, site + CHAPTER + ".html", viewport)
    drawer = _open_drawer(page, "secondary")
    links = drawer.locator("a.nav-link")
    assert links.count() >= 3
    link = links.nth(2)
    target = link.get_attribute("href")
    assert target.startswith("#")
    link.tap()
    drawer.wait_for(state="hidden", timeout=3000)
    page.wait_for_function("h => location.hash === h", arg=target, timeout=3000)
    top = page.evaluate(
        "id => document.getElementById(id).getBoundingClientRect().top", target[1:]
    )
    assert 0 <= top < viewport["height"] / 2, f"{target} is at {top} px"
    context.close()
    assert not errors, errors


def test_the_chapter_list_folds_away_on_a_laptop(browser, site):
    context, page, errors = _open(browser, site + CHAPTER + ".html", LAPTOP)
    sidebar = page.locator("#pst-primary-sidebar")
    article = page.locator("article.bd-article")
    assert sidebar.is_visible()
    narrow = article.bounding_box()["width"]
    toggle = page.locator("button.primary-toggle")
    assert toggle.count() == 1
    toggle.click()
    page.wait_for_function(
        "() => document.querySelector('#pst-primary-sidebar').getBoundingClientRect()"
        ".right <= 0 || getComputedStyle(document.querySelector('#pst-primary-sidebar'))"
        ".visibility === 'hidden' || !document.querySelector('#pst-primary-sidebar')"
        ".offsetWidth",
        timeout=3000,
    )
    assert page.locator(
        "#pst-primary-sidebar-modal"
    ).is_hidden()  # no drawer on a laptop
    assert article.bounding_box()["width"] >= narrow
    toggle.click()
    sidebar.wait_for(state="visible", timeout=3000)
    context.close()
    assert not errors, errors


# --- Everything in the main column can be read --------------------------------------------

#: In the page: what in the main column is cut off, or wider than the column
#: without a box that scrolls, is focusable and shows it has more to see.
_CLIPPED = """() => {
  const col = document.querySelector("article.bd-article") ||
              document.querySelector(".bd-article-container");
  const c = col.getBoundingClientRect();
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1)
    problems.push(`the page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth} px`);
  const name = el => {
    const text = (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 60);
    return `<${el.tagName.toLowerCase()} class="${el.className.baseVal ?? el.className}">` +
      ` "${text}"`;
  };
  // Not drawn: hidden from sight (screen-reader text, a closed <details>'s content).
  const hidden = el => !el.checkVisibility() || el.closest(
    "mjx-assistive-mml, .visually-hidden, .sr-only, .skip-link, dialog");
  // The box that scrolls what is at r, from el up; null where a box clips r (or none).
  const scroller = (el, r) => {
    for (let a = el; a && a !== col; a = a.parentElement) {
      const x = getComputedStyle(a).overflowX;
      if (x === "auto" || x === "scroll") return a;
      const b = a.getBoundingClientRect();
      const inside = b.left <= r.left + 1 && r.right <= b.right + 1;
      if ((x === "hidden" || x === "clip") && !inside) return null;
    }
    return null;
  };
  const seen = new Set();
  const checkScroller = box => {
    if (seen.has(box)) return;
    seen.add(box);
    const b = box.getBoundingClientRect();
    if (b.left < c.left - 1 || b.right > c.right + 1)
      problems.push(`a scroller wider than the column: ${name(box)}`);
    if (box.tabIndex < 0) problems.push(`a scroller a keyboard cannot reach: ${name(box)}`);
    const mask = getComputedStyle(box).maskImage || getComputedStyle(box).webkitMaskImage;
    const cue = box.classList.contains("sgdlab-more-right") ||
                box.classList.contains("sgdlab-more-left");
    if (!cue || !mask || mask === "none")
      problems.push(`a scroller that does not show it scrolls: ${name(box)}`);
  };
  const check = (el, r) => {
    if (r.width === 0 || r.height === 0) return;
    if (r.left >= c.left - 1 && r.right <= c.right + 1) return;
    // A box scrolls what is inside it: an element's own overflow does not count.
    const owner = el.nodeType === 1 ? el : el.parentElement;
    const box = scroller(el.nodeType === 1 ? el.parentElement : owner, r);
    if (box) checkScroller(box);
    else problems.push(`cut off at ${Math.round(r.right)} > ${Math.round(c.right)}: ` +
                       name(owner));
  };
  // Every box that scrolls sideways now: within the column, focusable, marked.
  for (const el of col.querySelectorAll("*")) {
    if (el.scrollWidth <= el.clientWidth + 1 || hidden(el)) continue;
    const x = getComputedStyle(el).overflowX;
    if (x === "auto" || x === "scroll") checkScroller(el);
  }
  for (const el of col.querySelectorAll(
      "mjx-container, img, svg, table, pre, canvas, input, select, button, video")) {
    if (hidden(el) || el.closest("mjx-container svg")) continue;
    check(el, el.getBoundingClientRect());
  }
  const walker = document.createTreeWalker(col, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    if (!t.textContent.trim() || hidden(t.parentElement)) continue;
    if (t.parentElement.closest("mjx-container, svg, script, style")) continue;
    range.selectNodeContents(t);
    for (const r of range.getClientRects()) check(t, r);
  }
  return problems;
}"""

#: Lay out every part of the page now (sections and formulas are otherwise laid out
#: as they near the screen, see _ext/sgdlab_lazy.py), and load its lazy images.
_LAY_OUT_ALL = """async () => {
  const style = document.createElement("style");
  style.textContent = "section.sgdlab-lazy, mjx-container > svg, mjx-assistive-mml"
    + " { content-visibility: visible !important; }";
  document.head.appendChild(style);
  await Promise.all(Array.from(document.images).filter(i => i.loading === "lazy")
    .map(i => { i.loading = "eager"; return i.decode().catch(() => null); }));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""

READING = [SMALL_PHONE, PHONE, TABLET, LAPTOP]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", READING, ids=lambda v: f"{v['width']}px")
@pytest.mark.parametrize("page_name", PAGES)
def test_nothing_in_the_main_column_is_cut_off(
    browser, site, page_name, viewport, scheme
):
    context, page, errors = _open(browser, site + page_name + ".html", viewport, scheme)
    page.evaluate(_LAY_OUT_ALL)
    problems = page.evaluate(_CLIPPED)
    context.close()
    assert not problems, "\n".join(problems)


# --- Every admonition draws its icon -------------------------------------------------------

#: In the page: mark the first admonition title of each kind whose ::after draws an
#: icon, and return {kind: its index}.
_ICON_TITLES = """() => {
  const kinds = {};
  document.querySelectorAll(".admonition > .admonition-title").forEach((t, i) => {
    const content = getComputedStyle(t, "::after").content;
    if (!content || content === "none" || content === "normal") return;
    const kind = Array.from(t.parentElement.classList)
      .filter(c => !["admonition", "dropdown", "toggle", "toggle-hidden"].includes(c))
      .sort().join(" ");
    if (kind in kinds) return;
    t.dataset.iconProbe = String(i);
    kinds[kind] = i;
  });
  return kinds;
}"""


def _icon_pixels(page, index: int, content: str | None = None) -> bytes:
    """The pixels of the icon of the marked title ``index``; with ``content``, of
    that title's ::after drawing ``content`` instead."""
    title = page.locator(f'[data-icon-probe="{index}"]')
    page.evaluate(
        """([i, content]) => {
          let s = document.getElementById("icon-probe");
          if (!s) { s = document.createElement("style"); s.id = "icon-probe";
                    document.head.appendChild(s); }
          s.textContent = content === null ? "" :
            `[data-icon-probe="${i}"]::after { content: "${content}" !important; }`;
        }""",
        [index, content],
    )
    title.scroll_into_view_if_needed()
    box = title.bounding_box()
    clip = {"x": box["x"], "y": box["y"], "width": 36, "height": 32}
    return page.screenshot(clip=clip, animations="disabled")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_admonition_icon_draws_a_glyph(browser, site, scheme):
    """Each kind of box (note, warning, theorem, lemma, ...) draws its icon: its
    pixels differ from the same place drawing a code point no font has (the
    empty box a font without the glyph draws) and from drawing nothing."""
    seen: set[str] = set()
    for name in PAGES:
        context, page, _ = _open(browser, site + name + ".html", PHONE, scheme)
        page.evaluate(_LAY_OUT_ALL)
        for kind, index in page.evaluate(_ICON_TITLES).items():
            if kind in seen:
                continue
            seen.add(kind)
            icon = _icon_pixels(page, index)
            tofu = icon == _icon_pixels(page, index, "\\10FFFD")
            assert not tofu, f"{name}: the {kind} icon is an empty box"
            blank = icon == _icon_pixels(page, index, "")
            assert not blank, f"{name}: the {kind} icon draws nothing"
        context.close()
    assert {"note", "warning"} <= {k.split()[-1] for k in seen} | seen, seen
    assert any("theorem" in k for k in seen) and any("lemma" in k for k in seen), seen


# --- No TeX where a reader sees text -------------------------------------------------------

#: TeX a reader should never see: math delimiters, or a backslash command.
_RAW_TEX = r"\\\(|\\\)|\\\[|\\\]|\$[^$\s][^$]*\$|\\[a-zA-Z]+(?![a-zA-Z])"

#: In the page: the rendered text of the main column, less code and outputs (where
#: a backslash or a dollar is what the program prints).
_PROSE = """() => {
  const col = (document.querySelector("article.bd-article") ||
               document.querySelector(".bd-article-container")).cloneNode(true);
  col.querySelectorAll("pre, code, script, style, mjx-container, .cell_output, .output")
    .forEach(el => el.remove());
  return col.textContent;
}"""


@pytest.mark.parametrize("page_name", PAGES)
def test_no_raw_tex_in_the_text_of_a_page(browser, site, page_name):
    import re

    context, page, _ = _open(browser, site + page_name + ".html", LAPTOP)
    text = page.evaluate(_PROSE)
    context.close()
    found = [
        text[max(0, m.start() - 40) : m.end() + 40].replace("\n", " ")
        for m in re.finditer(_RAW_TEX, text)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("query", ["batch", "learning rate", "momentum", "epoch"])
def test_no_raw_tex_in_search_snippets(browser, site, query):
    import re

    context, page, _ = _open(browser, site + "search.html?q=" + query, LAPTOP)
    page.wait_for_selector("#search-results li p.context", timeout=20_000)
    page.wait_for_function(
        "() => !document.querySelector('#search-progress')?.textContent.includes('Searching')",
        timeout=20_000,
    )
    page.wait_for_timeout(500)  # the summaries of the last results arrive
    snippets = page.eval_on_selector_all(
        "#search-results li", "items => items.map(li => li.textContent)"
    )
    context.close()
    assert snippets
    found = [s for s in snippets if re.search(_RAW_TEX, s)]
    assert not found, "\n\n".join(found)
