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
    problems = _read(browser, site, page_name, viewport, scheme)["clipped"]
    assert not problems, "\n".join(problems)


#: What each probe found on a page at one size and scheme: ``_read`` loads a page
#: once for every probe, and the tests below share its findings.
_FOUND: dict[tuple[str, int, str], dict[str, list]] = {}


def _read(browser, site, page_name: str, viewport: dict, scheme: str = "light") -> dict:
    """Each probe's findings on ``page_name`` laid out whole at ``viewport``."""
    key = (page_name, viewport["width"], scheme)
    if key not in _FOUND:
        probes = {
            "clipped": _CLIPPED,
            "brackets": _LONELY_BRACKETS,
            "formulas": _SCROLLING_FORMULAS,
            "prose": _PROSE,
        }
        context, page, _ = _open(browser, site + page_name + ".html", viewport, scheme)
        page.evaluate(_LAY_OUT_ALL)
        _FOUND[key] = {name: page.evaluate(js) for name, js in probes.items()}
        context.close()
    return _FOUND[key]


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


def _admonition_kinds(name: str) -> set[str]:
    """The kinds of box in a page's HTML, named as ``_ICON_TITLES`` names them."""
    import re

    html = (test_site.HTML / (name + ".html")).read_text()
    generic = {"admonition", "dropdown", "toggle", "toggle-hidden"}
    return {
        " ".join(sorted(set(m.split()) - generic))
        for m in re.findall(r'class="([^"]*\badmonition\b[^"]*)"', html)
        if "admonition" in m.split()
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_admonition_icon_draws_a_glyph(browser, site, scheme):
    """Each kind of box (note, warning, theorem, lemma, ...) draws its icon: its
    pixels differ from the same place drawing a code point no font has (the
    empty box a font without the glyph draws) and from drawing nothing."""
    seen: set[str] = set()
    opened: set[str] = set()  # the kinds of box in the pages opened so far
    for name in PAGES:
        if _admonition_kinds(name) <= opened:
            continue  # every kind of box on this page was on a page opened already
        opened |= _admonition_kinds(name)
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

    text = _read(browser, site, page_name, LAPTOP)["prose"]
    found = [
        text[max(0, m.start() - 40) : m.end() + 40].replace("\n", " ")
        for m in re.finditer(_RAW_TEX, text)
    ]
    assert not found, "\n".join(found)


def _search_results(browser, site, query: str, viewport: dict, selector: str) -> list:
    """The text of each ``selector`` on the search page for ``query``, once the
    search has finished and the last results' summaries have arrived."""
    context, page, _ = _open(browser, site + "search.html?q=" + query, viewport)
    page.wait_for_selector("#search-results li p.context", timeout=20_000)
    page.wait_for_function(
        "() => !document.querySelector('#search-progress')?.textContent.includes('Searching')",
        timeout=20_000,
    )
    page.wait_for_timeout(500)  # the summaries of the last results arrive
    texts = page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")
    context.close()
    return texts


@pytest.mark.parametrize("query", ["batch", "learning rate", "momentum", "epoch"])
def test_no_raw_tex_in_search_snippets(browser, site, query):
    import re

    snippets = _search_results(browser, site, query, LAPTOP, "#search-results li")
    assert snippets
    found = [s for s in snippets if re.search(_RAW_TEX, s)]
    assert not found, "\n\n".join(found)


# --- Players and explorers: the controls and the panel they move share the screen ----------

PLAYERS = ["book/watching-sgd", "book/adaptive-optimizers"]

#: In the page: the boxes (viewport px) of a player's parts a reader looks at.
_PLAYER_PARTS = """el => {
  const box = e => { const r = e.getBoundingClientRect();
                     return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                             width: r.width, height: r.height}; };
  const shown = e => e.checkVisibility();
  return {
    root: box(el),
    panels: Array.from(el.querySelectorAll(".sgdlab-panels > div")).filter(shown).map(box),
    play: box(el.querySelector("button.sgdlab-play")),
    slider: box(el.querySelector("input.sgdlab-frame")),
    tab: (el.querySelector(".sgdlab-tabs button[aria-pressed=true]") || {}).textContent,
    targets: Array.from(el.querySelectorAll("button, select, input")).filter(shown)
      .map(e => [e.tagName + "." + e.className + " " + (e.textContent || e.id).trim(),
                 box(e)]),
  };
}"""


def _on_screen(box: dict, top: float, height: float) -> bool:
    """Whether ``box`` lies wholly between the sticky header (``top``) and the
    bottom of a viewport ``height`` tall."""
    return box["top"] >= top - 1 and box["bottom"] <= height + 1


def _scroll_to(page, element, top: float) -> None:
    """Scroll as a reader does, until ``element``'s top sits just under the header."""
    for _ in range(2):  # a section laid out on the way may move it: settle again
        element.evaluate(
            "(el, top) => window.scrollBy(0, el.getBoundingClientRect().top - top)", top
        )
        page.wait_for_timeout(200)


def _play_and_check(page, root, viewport, top, *, touch: bool) -> dict:
    """Press Play; the frames advance and the parts stay where they were."""
    button = root.locator("button.sgdlab-play")
    before = root.get_attribute("data-frame")
    button.tap() if touch else button.click()
    assert button.get_attribute("aria-pressed") == "true"
    page.wait_for_function(
        "([el, before]) => el.dataset.frame !== before",
        arg=[root.element_handle(), before],
        timeout=5000,
    )
    parts = root.evaluate(_PLAYER_PARTS)
    button.tap() if touch else button.click()
    return parts


@pytest.mark.parametrize(
    "viewport", [SMALL_PHONE, PHONE, LAPTOP], ids=lambda v: f"{v['width']}px"
)
@pytest.mark.parametrize("chapter", PLAYERS)
def test_a_players_controls_and_its_panel_share_the_screen(
    browser, site, chapter, viewport
):
    """Scroll each player and explorer into view and press Play: the frames advance,
    and Play, the frame slider and the panel that moves are all on screen together
    (below the sticky header). On a phone one panel shows, the path first, chosen
    by tabs; every one of an explorer's controls can be on screen with it; on a
    laptop the whole player fits the window. Every control is at least 44 px."""
    touch = viewport["width"] < 992
    context, page, errors = _open(browser, site + chapter + ".html", viewport)
    top = page.locator(".bd-header-article").bounding_box()["height"]
    height = viewport["height"]
    players = page.locator(".sgdlab-animation, .sgdlab-explorer")
    assert players.count() >= 1
    for i in range(players.count()):
        root = players.nth(i)
        _scroll_to(page, root, top)
        if "sgdlab-explorer" in root.get_attribute("class"):
            page.wait_for_function(
                "el => el.dataset.run !== undefined", arg=root.element_handle()
            )
        parts = _play_and_check(page, root, viewport, top, touch=touch)
        where = f"{chapter} player {i} at {viewport['width']} px: {parts}"
        for name in ("play", "slider"):
            assert _on_screen(parts[name], top, height), f"{name} off screen; {where}"
        assert parts["panels"] and all(
            _on_screen(p, top, height) for p in parts["panels"]
        ), f"a panel off screen; {where}"
        for name, box in parts["targets"]:
            assert box["height"] >= 44 and box["width"] >= 44, f"{name}: {box}"
        if touch:
            assert len(parts["panels"]) == 1 and parts["tab"] == "path", where
            _check_tabs(page, root, top, height)
            _check_each_control_beside_the_panel(page, root, top, height)
        else:
            assert _on_screen(parts["root"], top, height), f"does not fit; {where}"
    context.close()
    assert not errors, errors


def _check_tabs(page, root, top, height):
    """Each tab shows its panel (and only it), under the tabs, on screen."""
    tabs = root.locator(".sgdlab-tabs button")
    for k in range(tabs.count()):
        tabs.nth(k).tap()
        shown = root.evaluate(
            "el => Array.from(el.querySelectorAll('.sgdlab-panels > div'))"
            ".map(p => p.checkVisibility())"
        )
        assert shown == [j == k for j in range(len(shown))], (k, shown)
        parts = root.evaluate(_PLAYER_PARTS)
        assert _on_screen(parts["panels"][0], top, height), (k, parts)
    tabs.nth([t.strip() for t in tabs.all_text_contents()].index("path")).tap()


def _check_each_control_beside_the_panel(page, root, top, height):
    """Scrolled to each of an explorer's controls, the panel and Play are still on
    screen above it (the stage stays under the header while its controls pass)."""
    controls = root.locator("[data-param]")
    for k in range(controls.count()):
        control = root.locator(f".sgdlab-controls > div:nth-child({k + 1})")
        control.evaluate(
            "(el, h) => window.scrollBy(0, el.getBoundingClientRect().bottom - h + 8)",
            height,
        )
        page.wait_for_timeout(150)
        parts = root.evaluate(_PLAYER_PARTS)
        box = control.bounding_box()
        seen = {"top": box["y"], "bottom": box["y"] + box["height"]}
        assert _on_screen(seen, top, height), (k, seen)
        assert _on_screen(parts["panels"][0], top, height), (k, parts)
        assert _on_screen(parts["play"], top, height), (k, parts)
        assert parts["play"]["bottom"] <= seen["top"] + 1, (k, parts, seen)


# --- Formulas read without scrolling on a phone --------------------------------------------

#: In the page: the display formulas (or their parts) wider than their box, which
#: would scroll sideways, with the text a screen reader reads for them.
_SCROLLING_FORMULAS = """() => Array.from(document.querySelectorAll(
    ".bd-article mjx-container[display='true']"))
  .filter(m => m.checkVisibility() && m.scrollWidth > m.clientWidth + 1)
  .map(m => `${m.scrollWidth} > ${m.clientWidth} px: ` +
       (m.querySelector("mjx-assistive-mml") || m).textContent.replace(/\\s+/g, " ")
         .slice(0, 80))"""


@pytest.mark.parametrize("page_name", PAGES)
def test_display_formulas_fit_a_phone_without_scrolling(browser, site, page_name):
    """At 390 px every display formula is set on lines (or parts) that fit the
    column: the reader never has to scroll one sideways to read it."""
    wide = _read(browser, site, page_name, PHONE)["formulas"]
    assert not wide, "\n".join(wide)


# --- Text that wraps where a reader expects ------------------------------------------------

#: In the page: each "(" at the end of a line whose formula starts the next one.
_LONELY_BRACKETS = """() => {
  const col = document.querySelector("article.bd-article") ||
              document.querySelector(".bd-article-container");
  const found = [], range = document.createRange();
  const walker = document.createTreeWalker(col, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const at = t.textContent.search(/\\(\\s*$/);
    const next = t.nextSibling || t.parentElement.nextSibling;
    if (at < 0 || !next || next.nodeType !== 1 || !next.querySelector("mjx-container")
        && next.tagName !== "MJX-CONTAINER") continue;
    range.setStart(t, at); range.setEnd(t, at + 1);
    const bracket = range.getBoundingClientRect(), formula = next.getClientRects()[0];
    if (bracket.width && formula && formula.top >= bracket.bottom - 2)
      found.push(t.textContent.slice(-50).replace(/\\s+/g, " "));
  }
  // and each comma, full stop or ")" that starts a line after a short formula
  for (const m of col.querySelectorAll("span.math")) {
    const t = m.nextSibling;
    if (!t || t.nodeType !== 3 || !/^[,.;:)]/.test(t.textContent)) continue;
    if (m.getBoundingClientRect().width > col.clientWidth / 3) continue;  // may wrap
    range.setStart(t, 0); range.setEnd(t, 1);
    const mark = range.getBoundingClientRect(), rects = m.getClientRects();
    const formula = rects[rects.length - 1];
    if (mark.width && formula && mark.top >= formula.bottom - 2)
      found.push(m.textContent.slice(0, 30) + " | " + t.textContent.slice(0, 20));
  }
  return found;
}"""


@pytest.mark.parametrize("viewport", TOUCH, ids=lambda v: f"{v['width']}px")
@pytest.mark.parametrize("page_name", PAGES)
def test_no_bracket_is_left_at_a_line_end(browser, site, page_name, viewport):
    """No "(" ends a line whose formula starts the next, and no line starts with the
    comma, full stop or ")" that follows a short formula."""
    lonely = _read(browser, site, page_name, viewport)["brackets"]
    assert not lonely, "\n".join(lonely)


@pytest.mark.parametrize(
    "viewport", [SMALL_PHONE, PHONE], ids=lambda v: f"{v['width']}px"
)
def test_previous_and_next_titles_read_on_two_lines_at_most(browser, site, viewport):
    """On a phone, Previous and Next take the column's width, one under the other:
    the longest chapter title wraps onto two lines at most, and both are on screen."""
    context, page, errors = _open(browser, site + CHAPTER + ".html", viewport)
    area = page.locator(".prev-next-area")
    area.scroll_into_view_if_needed()
    titles = page.evaluate(
        """() => Array.from(document.querySelectorAll('.prev-next-area a')).map(a => {
             const t = a.querySelector('.prev-next-title'), r = a.getBoundingClientRect();
             return {lines: Math.round(t.getBoundingClientRect().height /
                                       parseFloat(getComputedStyle(t).lineHeight)),
                     left: r.left, right: r.right, width: r.width, text: t.textContent};
           })"""
    )
    context.close()
    assert len(titles) == 2, titles
    for title in titles:
        assert 1 <= title["lines"] <= 2, title
        assert title["width"] >= viewport["width"] * 0.7, title
        assert title["left"] >= 0 and title["right"] <= viewport["width"], title
    assert not errors, errors


@pytest.mark.parametrize("viewport", READING, ids=lambda v: f"{v['width']}px")
def test_the_search_box_shows_the_whole_query(browser, site, viewport):
    """The magnifier sits before the query, not over its first letters; typed text
    starts to its right."""
    context, page, errors = _open(browser, site + "search.html", viewport)
    box = page.locator("#search-results").locator("xpath=..").locator("form.bd-search")
    icon = box.locator(".fa-magnifying-glass").bounding_box()
    field = box.locator("input")
    field.fill("batch size")
    text_left = field.evaluate(
        "el => el.getBoundingClientRect().left + parseFloat(getComputedStyle(el).paddingLeft)"
    )
    context.close()
    assert icon["x"] + icon["width"] <= text_left + 1, (icon, text_left)
    assert not errors, errors


@pytest.mark.parametrize("query", ["momentum", "batch size"])
def test_search_summaries_are_the_pages_words(browser, site, query):
    """A result's summary is text of the page: no runs of blank space, none of the
    page's buttons (".pdf") or its "Contents" sidebar."""
    import re

    summaries = _search_results(
        browser, site, query, PHONE, "#search-results li p.context"
    )
    assert summaries
    for summary in summaries:
        assert not re.search(r"\s\s", summary), repr(summary)
        assert ".pdf" not in summary and "Contents" not in summary, repr(summary)


@pytest.mark.parametrize("viewport", TOUCH, ids=lambda v: f"{v['width']}px")
def test_the_header_buttons_are_big_enough_and_no_tooltip_covers_them(
    browser, site, viewport
):
    """Each button of the page's header is at least 44 px square, apart from the
    others, inside the screen; tapping one (the colour mode) leaves no tooltip
    standing over the page."""
    context, page, errors = _open(browser, site + CHAPTER + ".html", viewport)
    boxes = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              '.bd-header-article button, .bd-header-article .dropdown > .btn,'
              + ' .bd-header-article a.btn'))
            .filter(b => b.checkVisibility()).map(b => {
              const r = b.getBoundingClientRect();
              return {name: b.getAttribute('aria-label') || b.title || b.className,
                      left: r.left, right: r.right, width: r.width, height: r.height}; })"""
    )
    assert len(boxes) >= 5, boxes
    for box in boxes:
        assert box["width"] >= 44 and box["height"] >= 44, box
        assert box["left"] >= 0 and box["right"] <= viewport["width"], box
    ordered = sorted(boxes, key=lambda b: b["left"])
    for a, b in zip(ordered, ordered[1:], strict=False):
        assert a["right"] <= b["left"] + 1, (a, b)
    page.locator(".bd-header-article .theme-switch-button").tap()
    page.wait_for_timeout(400)
    standing = page.evaluate(
        "() => Array.from(document.querySelectorAll('.tooltip'))"
        ".filter(t => t.checkVisibility()).map(t => t.textContent)"
    )
    context.close()
    assert not standing, standing
    assert not errors, errors


@pytest.mark.parametrize("viewport", READING, ids=lambda v: f"{v['width']}px")
def test_back_to_top_sits_in_the_corner_not_over_the_text(browser, site, viewport):
    """Scrolling back up shows "Back to top": a 44 px round button in the
    bottom-right corner, over no figure in the middle of the column; a laptop's
    page has none (its contents list is on screen)."""
    context, page, errors = _open(browser, site + CHAPTER + ".html", viewport)
    button = page.locator("#pst-back-to-top")
    page.mouse.move(viewport["width"] / 2, viewport["height"] / 2)  # over the text
    page.mouse.wheel(0, 4000)
    page.wait_for_timeout(300)
    page.mouse.wheel(0, -600)
    if viewport["width"] >= 1200:  # sphinx-book-theme shows none: the sidebar is there
        page.wait_for_timeout(500)
        assert button.is_hidden()
        context.close()
        return
    button.wait_for(state="visible", timeout=3000)
    box = button.bounding_box()
    context.close()
    assert 44 <= box["width"] <= 48 and 44 <= box["height"] <= 48, box
    assert box["x"] + box["width"] >= viewport["width"] - 24, box
    assert box["y"] + box["height"] >= viewport["height"] - 24, box
    assert not errors, errors


#: In the page: the contrast ratio (WCAG) of each caption's text on its background.
_CAPTION_CONTRAST = """() => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const background = el => { for (let e = el; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor, v = rgb(c);
    if (v.length < 4 || v[3] === 1) return c; } return "rgb(255, 255, 255)"; };
  return Array.from(document.querySelectorAll(".bd-article figcaption p"))
    .map(p => { const a = lum(getComputedStyle(p).color), b = lum(background(p));
                return [(Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
                        Number(getComputedStyle(p).fontWeight),
                        p.textContent.trim().slice(0, 50)]; });
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_captions_are_as_legible_as_the_text(browser, site, scheme):
    """Every figure caption's text has a contrast of at least 7:1 (WCAG AAA) on
    its background, in light and dark mode, in the text's weight (not light)."""
    seen = 0
    for name in ["book/epoch-rmse", "book/adaptive-optimizers"]:
        context, page, _ = _open(browser, site + name + ".html", PHONE, scheme)
        captions = page.evaluate(_CAPTION_CONTRAST)
        context.close()
        seen += len(captions)
        faint = [c for c in captions if c[0] < 7 or c[1] < 400]
        assert not faint, f"{name}: {faint}"
    assert seen >= 4
