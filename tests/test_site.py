"""The built site, visited in a real browser as a reader would.

The site is served from ``_build/html`` under ``/<repository>/``, the sub-path
GitHub Pages uses, by a local HTTP server; Playwright drives Debian's
``chromium`` (``.ci/run`` installs it). Every page is loaded and checked for
console errors, failed requests, broken images, untypeset math and serious
accessibility problems (axe-core); then the interactive parts are exercised:
animations, solution dropdowns, search, dark mode, launch buttons.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPOSITORY = (
    CONFIG["repository"]["url"].rstrip("/").split("github.com/")[1]
)  # owner/name
PREFIX = "/" + REPOSITORY.split("/")[1] + "/"
SITE_BUDGET = 40_000_000  # bytes, the whole site


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


PAGES = _toc_pages() + ["search", "genindex"]
CHAPTERS = [
    p
    for p in _toc_pages()
    if (ROOT / f"{p}.md").read_text().startswith("---\njupytext")
]

pytestmark = pytest.mark.book


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site only under PREFIX, as GitHub Pages serves a project site."""

    def translate_path(self, path):
        path = urlparse(path).path
        if not path.startswith(PREFIX):
            return str(HTML / "__outside_the_site__")
        return super().translate_path("/" + path[len(PREFIX) :])

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture(scope="session")
def site(build):
    code, log = build
    if code != 0:
        pytest.fail(
            "the book did not build; see test_strict_build_succeeds_without_warnings"
        )
    handler = functools.partial(_Handler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    server.shutdown()


class Visit:
    """A page opened in a fresh context, with everything that went wrong on the way."""

    def __init__(self, browser, url: str, color_scheme: str = "light"):
        self.context = browser.new_context(color_scheme=color_scheme, offline=False)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on(
            "pageerror", lambda error: self.problems.append(f"page error: {error}")
        )
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)
        self.page.goto(url, wait_until="networkidle")
        # Without node at build time, MathJax typesets formulas in the browser as they
        # near the screen (sgdlab_site); a reader who scrolls through sees them all:
        # typeset them all, as printing does.
        if self.page.evaluate("() => typeof window.sgdlabTypesetAll === 'function'"):
            self.page.evaluate("() => window.sgdlabTypesetAll()")

    def _console(self, message):
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.problems.append(f"console error: {message.text} [{where}]")

    def _failed(self, request):
        self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, site):
    opened = []

    def open_page(page: str, **kwargs) -> Visit:
        v = Visit(browser, site + page + ".html", **kwargs)
        opened.append(v)
        return v

    yield open_page
    for v in opened:
        v.close()


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_cleanly_with_images_and_math(visit, page):
    v = visit(page)
    # Lazy images (animation panels) load near the screen: load them all now.
    v.page.evaluate(
        """() => Promise.all(Array.from(document.images).filter(i => i.loading === 'lazy')
                 .map(i => { i.loading = 'eager'; return i.decode().catch(() => null); }))"""
    )
    assert not v.problems, "\n".join(v.problems)
    images = v.page.evaluate(
        """() => Array.from(document.images).map(img => ({
            src: img.getAttribute('src'), alt: img.getAttribute('alt') || '',
            loaded: img.complete && img.naturalWidth > 0}))"""
    )
    for img in images:
        assert img["loaded"], f"image did not load: {img['src']}"
        assert img["alt"].strip(), f"image without alt text: {img['src']}"
    math = v.page.evaluate(
        """() => ({source: document.querySelectorAll('.math').length,
                   typeset: Array.from(document.querySelectorAll('.math'))
                     .filter(m => m.querySelector('mjx-container')).length,
                   errors: document.querySelectorAll('mjx-merror').length})"""
    )
    assert math["typeset"] == math["source"], math
    assert math["errors"] == 0, f"{math['errors']} formulas failed to typeset"


@pytest.mark.parametrize("page", PAGES)
def test_no_serious_accessibility_violations(visit, page):
    from axe_playwright_python.sync_playwright import Axe

    v = visit(page)
    results = Axe().run(v.page)
    serious = [
        f"{item['id']} ({item['impact']}): {item['help']} - {len(item['nodes'])} element(s), "
        f"e.g. {item['nodes'][0]['target']}"
        for item in results.response["violations"]
        if item["impact"] in ("critical", "serious")
    ]
    assert not serious, "\n".join(serious)


def _math_typeset_at_build_time() -> bool:
    """Whether the build could typeset the formulas (node and npm's mathjax-full, npm ci)."""
    import sys

    sys.path.insert(0, str(ROOT / "_ext"))
    import sgdlab_math

    return sgdlab_math.typesetter(ROOT) is not None


def test_math_is_typeset_at_build_time_for_readers_and_screen_readers(visit):
    """With npm ci done, the formulas are SVG on arrival, with MathML for screen readers,
    and no page loads MathJax; without it, the site's own MathJax typesets them."""
    v = visit("book/adaptive-optimizers")
    sources = v.page.evaluate(
        "() => Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s))"
    )
    formulas = v.page.locator(".math mjx-container")
    assert formulas.count() > 20
    if not _math_typeset_at_build_time():
        if os.environ.get("CI"):
            pytest.fail("node or npm's mathjax-full missing: npm ci")
        assert sources and all(PREFIX + "_static/mathjax/" in s for s in sources), (
            sources
        )
        return
    assert not sources, sources
    drawn = v.page.evaluate(
        """() => Array.from(document.querySelectorAll('.math mjx-container')).map(c => {
            const svg = c.querySelector(':scope > svg'), r = svg && svg.getBoundingClientRect();
            const mml = c.querySelector('mjx-assistive-mml > math');
            return {hidden: svg && svg.getAttribute('aria-hidden'), w: r ? r.width : 0,
                    h: r ? r.height : 0, glyphs: svg ? svg.querySelectorAll('use').length : 0,
                    missing: svg ? Array.from(svg.querySelectorAll('use')).filter(
                        u => !document.getElementById(u.getAttribute('xlink:href').slice(1)))
                        .length : 0,
                    mathml: mml ? mml.textContent.trim() : ''}; })"""
    )
    for formula in drawn:
        assert formula["hidden"] == "true" and formula["mathml"], formula
        assert formula["w"] > 0 and formula["h"] > 0 and formula["glyphs"] > 0, formula
        assert formula["missing"] == 0, formula  # every glyph is defined on the page


def test_animations_advance_when_played(visit):
    v = visit("book/watching-sgd")
    players = v.page.locator(".sgdlab-animation")
    assert players.count() == 4
    for i in range(players.count()):
        player = players.nth(i)
        slider = player.locator("input[type=range]")
        button = player.locator("button.sgdlab-play")
        before = int(slider.input_value())
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
        v.page.wait_for_function(
            "([el, before]) => Number(el.value) !== before",
            arg=[slider.element_handle(), before],
            timeout=5000,
        )
        button.click()
        assert button.get_attribute("aria-pressed") == "false"
    assert not v.problems, "\n".join(v.problems)


def test_solutions_open_and_close(visit):
    v = visit("book/landscape")
    solution = v.page.locator(".solution.dropdown").first
    body = solution.locator(".cell").first
    assert not body.is_visible(), "a solution should start closed"
    toggle = solution.locator(".toggle-button")
    toggle.click()
    body.wait_for(state="visible", timeout=5000)
    toggle.click()
    body.wait_for(state="hidden", timeout=5000)


def test_search_finds_mini_batch(visit):
    v = visit("search")
    v.page.goto(v.page.url + "?q=mini-batch", wait_until="networkidle")
    results = v.page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=10000)
    assert results.count() >= 3
    titles = " ".join(results.all_inner_texts()).lower()
    assert "epochs and mini-batches" in titles


def test_dark_mode_switches_the_page(visit):
    v = visit("book/intro")

    def background():
        rgb = v.page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        r, g, b = (int(x) for x in re.findall(r"\d+", rgb)[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    assert v.page.evaluate("() => document.documentElement.dataset.theme") == "light"
    light = background()
    button = v.page.locator(".theme-switch-button").first
    for _ in range(3):  # the button cycles light -> dark -> auto
        if v.page.evaluate("() => document.documentElement.dataset.theme") == "dark":
            break
        button.click()
    assert v.page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    assert light > 0.8 and background() < 0.25


def test_icons_render_without_the_icon_script(visit):
    """The theme's 1.5 MB fontawesome.js is not loaded; its web fonts draw the icons."""
    v = visit("book/epochs-and-minibatches")
    scripts = v.page.evaluate("() => Array.from(document.scripts).map(s => s.src)")
    assert not any("fontawesome.js" in s for s in scripts)
    icon = v.page.locator("i.fa-github, .fa-github").first
    content = icon.evaluate("el => getComputedStyle(el, '::before').content")
    family = icon.evaluate("el => getComputedStyle(el, '::before').fontFamily")
    assert content not in ("none", "normal", '""') and "Font Awesome" in family
    assert v.page.evaluate(
        "() => document.fonts.check('16px \"Font Awesome 6 Brands\"')"
    )


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_launch_buttons_point_at_the_chapter(visit, chapter):
    v = visit(chapter)
    hrefs = v.page.evaluate("() => Array.from(document.links).map(a => a.href)")
    binder = [h for h in hrefs if "mybinder.org" in h]
    # The reader notebook that Binder's postBuild writes (notebooks/, ignored by git)
    # from the chapter's Markdown source.
    expected = (
        f"https://mybinder.org/v2/gh/{REPOSITORY}/main"
        f"?urlpath=lab/tree/notebooks/{Path(chapter).name}.ipynb"
    )
    assert binder == [expected]
    assert (ROOT / f"{chapter}.md").read_text().startswith("---\njupytext")
    assert not [
        h for h in hrefs if "colab.research.google.com" in h
    ]  # not committed: no Colab
    downloads = [h for h in hrefs if h.endswith((".ipynb", ".md")) and "_sources" in h]
    assert downloads, "the download button should offer the source"


def _local_links(page: Path):
    text = page.read_text()
    for href in re.findall(r'<a\b[^>]*\shref="([^"]+)"', text):
        if re.match(r"^[a-z]+:", href) or href.startswith("//"):
            continue  # external: the weekly link check
        yield href


def test_internal_links_resolve(build):
    ids_cache: dict[Path, set[str]] = {}

    def ids(path: Path) -> set[str]:
        if path not in ids_cache:
            ids_cache[path] = set(re.findall(r'\sid="([^"]+)"', path.read_text()))
        return ids_cache[path]

    broken = []
    pages = [
        p
        for p in HTML.rglob("*.html")
        if not p.relative_to(HTML).parts[0].startswith("_")
    ]
    for page in pages:
        for href in _local_links(page):
            path, _, fragment = href.partition("#")
            target = (page.parent / unquote(path)).resolve() if path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(HTML)}: {href}")
            elif (
                fragment
                and target.suffix == ".html"
                and unquote(fragment) not in ids(target)
            ):
                broken.append(f"{page.relative_to(HTML)}: {href} (no such anchor)")
    assert not broken, "\n".join(broken)


def test_the_whole_site_is_light(build):
    from pageweight import site_weight

    total = site_weight(HTML)
    assert total <= SITE_BUDGET, f"site weighs {total / 1e6:.1f} MB"


# --- Fast on a phone: what Lighthouse's scores rest on, checked directly -------------------

PHONE = {"width": 390, "height": 844}  # an iPhone 12-15's viewport, in CSS pixels


def _built_pages() -> list[Path]:
    return sorted(
        p for p in HTML.rglob("*.html") if not p.relative_to(HTML).parts[0][0] == "_"
    )


def _head(page: Path) -> str:
    text = page.read_text()
    return text[text.index("<head>") : text.index("</head>")]


def test_every_page_has_its_own_description(build):
    descriptions = {}
    for page in PAGES:
        head = _head(HTML / f"{page}.html")
        found = re.findall(r'<meta name="description" content="([^"]*)"', head)
        assert len(found) == 1, f"{page}: {len(found)} descriptions"
        text = found[0]
        assert 50 <= len(text) <= 160, f"{page}: {text!r}"
        assert "$" not in text and "{" not in text, f"{page}: markup in {text!r}"
        descriptions[page] = text
    assert len(set(descriptions.values())) == len(descriptions), descriptions


def test_nothing_blocks_the_first_paint_but_one_stylesheet(build):
    """One local stylesheet; every script deferred, except the tiny colour-mode one."""
    _math_typeset_at_build_time()  # puts _ext on the path
    import sgdlab_math

    for page in PAGES:
        head = _head(HTML / f"{page}.html")
        sheets = re.findall(r'<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"', head)
        assert len(sheets) == 1, f"{page}: {sheets}"
        bundle = (HTML / page).parent / sheets[0]
        assert bundle.resolve().is_file()
        import gzip

        # the theme's selectors that no page uses are dropped (sgdlab_stylesheet.prune_css)
        assert len(gzip.compress(bundle.resolve().read_bytes())) < 40_000
        for attrs, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", head, re.S):
            if "src=" in attrs:
                assert re.search(r"\b(defer|async)\b", attrs), (
                    f"{page}: blocking <script{attrs}>"
                )
            else:  # inline: no request; short (the MathJax loader is the longest, ~2 kB)
                assert len(body) < 3000, (
                    f"{page}: inline script of {len(body)} characters"
                )
        if page != "search":
            assert "searchindex.js" not in head, f"{page} loads the whole search index"
        # MathJax only where a formula is still TeX (none, when node typeset them all)
        text = (HTML / f"{page}.html").read_text()
        has_tex = sgdlab_math.has_raw_math(text)
        assert ("tex-chtml.js" in head) == has_tex, (
            f"{page}: MathJax without TeX, or none"
        )
        if _math_typeset_at_build_time():
            assert not has_tex, f"{page}: formulas left for MathJax"
            assert "mathjax" not in head.lower(), page
        if not re.search(r'class="(?:[^"]* )?sd-', text):  # no sphinx-design component
            assert (
                "design-tabs.js" not in head and "sd-fade-in" not in bundle.read_text()
            ), page
        viewports = re.findall(r'<meta name="viewport"', head)
        assert len(viewports) == 1, f"{page}: {len(viewports)} viewport tags"


def test_every_image_has_explicit_dimensions(build):
    for page in _built_pages():
        for tag in re.findall(r"<img\b[^>]*>", page.read_text()):
            assert re.search(r'\swidth="\d+"', tag) and re.search(
                r'\sheight="\d+"', tag
            ), f"{page.relative_to(HTML)}: {tag[:100]}"


def test_ids_are_unique_on_every_page(build):
    for page in _built_pages():
        ids = re.findall(r'\sid="([^"]+)"', page.read_text())
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        assert not repeated, f"{page.relative_to(HTML)}: {repeated}"


def test_only_the_books_pages_are_built(build):
    built = {p.relative_to(HTML).with_suffix("").as_posix() for p in _built_pages()}
    assert built == set(PAGES) | {"index"}, built ^ (set(PAGES) | {"index"})


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 800}])
def test_one_search_control_is_shown(browser, site, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(site + "book/intro.html", wait_until="networkidle")
    shown = page.evaluate(
        """() => Array.from(document.querySelectorAll(
                'input[type=search], .search-button, .search-button-field, form.bd-search'))
              .filter(el => el.closest('dialog') === null)
              .filter(el => { const r = el.getBoundingClientRect();
                              return r.width > 0 && r.height > 0; })
              .map(el => el.outerHTML.slice(0, 80))"""
    )
    context.close()
    assert len(shown) == 1, shown


def test_animations_are_readable_and_play_on_a_phone(browser, site):
    """At 390 px a player shows one panel at a time (tabs choose it), drawn at least
    at 95% of its natural size."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True)
    page = context.new_page()
    page.goto(site + "book/watching-sgd.html", wait_until="networkidle")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    panels = page.evaluate(
        """() => Array.from(document.querySelectorAll('.sgdlab-animation img'))
            .filter(img => img.checkVisibility()).map(img => ({
            shown: img.getBoundingClientRect().width, natural: img.naturalWidth,
            left: img.getBoundingClientRect().left}))"""
    )
    assert len(panels) == 4  # four players, one panel each
    for panel in panels:
        # 10 pt axis labels at scale >= 0.95 are at least 12.7 CSS px
        assert panel["shown"] >= 0.95 * panel["natural"], panel
        assert panel["left"] >= 0 and panel["left"] + panel["shown"] <= PHONE["width"]
    player = page.locator(".sgdlab-animation").first
    player.scroll_into_view_if_needed()
    slider = player.locator("input[type=range]")
    player.locator("button.sgdlab-play").click()
    page.wait_for_function(
        "el => Number(el.value) > 0", arg=slider.element_handle(), timeout=5000
    )
    # the moving parts are drawn in every panel's overlay
    drawn = player.evaluate(
        "el => Array.from(el.querySelectorAll('svg'))"
        ".map(s => s.querySelectorAll('line, polyline').length)"
    )
    assert all(n > 0 for n in drawn), drawn
    context.close()


STABLE_CATEGORIES = ("accessibility", "best-practices", "seo")


@pytest.fixture(scope="module")
def lighthouse_results(site) -> dict:
    """Lighthouse (npm, driving Debian's chromium), mobile preset, on every page
    of the table of contents: two chromiums, each running its half of the pages
    one after the other (benchmarks/lighthouse.py)."""
    import sys

    chrome = os.environ.get("SGDLAB_CHROMIUM") or shutil.which("chromium")
    if not (ROOT / "node_modules" / "lighthouse").is_dir() or chrome is None:
        message = "lighthouse or chromium missing: apt-get install chromium; npm ci"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from lighthouse import run_lighthouse_pages

    urls = {site + page + ".html": page for page in _toc_pages()}
    found = run_lighthouse_pages(
        list(urls), "mobile", chrome, STABLE_CATEGORIES, processes=2
    )
    return {urls[url]: result for url, result in found.items()}


@pytest.mark.parametrize("page", _toc_pages())
def test_lighthouse_accessibility_best_practices_and_seo_are_100(
    lighthouse_results, page
):
    """The three categories that do not depend on timing; performance is a
    benchmark (benchmarks/lighthouse.py), since it moves with the machine's load."""
    result = lighthouse_results[page]
    scores = {name: result[name] for name in STABLE_CATEGORIES}
    assert scores == dict.fromkeys(STABLE_CATEGORIES, 100), (scores, result["failed"])


LAZY_WIDTHS = (320, 412, 540, 768, 959)  # phones and tablets: below 960 px


def _section_heights(page) -> list:
    """[id, drawn height, placeholder height] of each lazy section, all drawn."""
    page.add_style_tag(
        content=".sgdlab-lazy { content-visibility: visible !important; }"
    )
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('section.sgdlab-lazy'), s => [
            s.id, s.getBoundingClientRect().height,
            parseFloat(s.style.containIntrinsicBlockSize.match(/([\\d.]+)px/)[1])])"""
    )


@pytest.mark.parametrize("chapter", _toc_pages())
def test_a_lazy_section_is_never_taller_than_its_placeholder(browser, site, chapter):
    """Below 960 px a chapter's sections are skipped by layout until near the screen
    (content-visibility), counted meanwhile at their placeholder height: an upper
    bound (_ext/sgdlab_lazy.py), else a skipped section's boxes would overlap the
    next ones' and axe would misread the backgrounds. At each width (and in dark
    mode, which pads outputs), every section drawn for real is at most as tall as
    its placeholder; at 960 px and up nothing is skipped."""
    cases = [(w, "light") for w in LAZY_WIDTHS + (1280,)] + [(412, "dark")]
    page = browser.new_page()  # one tab, the page loaded afresh in each case
    try:
        for width, scheme in cases:
            page.set_viewport_size({"width": width, "height": 800})
            page.emulate_media(color_scheme=scheme)
            page.goto(site + chapter + ".html", wait_until="load")
            sections = page.locator("section.sgdlab-lazy")
            if chapter in CHAPTERS:
                assert sections.count() >= 2
            if sections.count():
                mode = sections.first.evaluate(
                    "s => getComputedStyle(s).contentVisibility"
                )
                assert mode == ("auto" if width < 960 else "visible"), (width, mode)
            heights = _section_heights(page)
            if width < 960:
                too_tall = [h for h in heights if h[1] > h[2]]
                assert not too_tall, (width, scheme, too_tall)
    finally:
        page.context.close()


def test_skipping_a_formula_changes_no_geometry(browser, site):
    """Formulas' SVG and hidden MathML are skipped by layout off screen: with every
    section drawn, each formula has the same box whether its glyphs are skipped
    or drawn; and the page with its sections skipped is no shorter than drawn."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(site + "book/landscape.html", wait_until="load")
    skipped = page.evaluate(
        """() => [...document.querySelectorAll('mjx-container > svg, mjx-assistive-mml')]
                 .every(e => getComputedStyle(e).contentVisibility === 'auto')"""
    )
    assert skipped
    measure = """() => [document.documentElement.scrollHeight].concat(
        Array.from(document.querySelectorAll('mjx-container > svg'), s => {
            const r = s.getBoundingClientRect();
            return [r.top + window.scrollY, r.left, r.width, r.height]; }))"""
    placeholders = page.evaluate(measure)[0]
    page.add_style_tag(
        content=".sgdlab-lazy { content-visibility: visible !important; }"
    )
    lazy = page.evaluate(measure)
    page.add_style_tag(
        content="mjx-container > svg, mjx-assistive-mml"
        " { content-visibility: visible !important; }"
    )
    drawn = page.evaluate(measure)
    context.close()
    assert len(drawn) > 50
    assert placeholders >= drawn[0]  # section placeholders are upper bounds
    assert lazy == drawn


_TWO_FRAMES = """() => new Promise(done => requestAnimationFrame(
    () => requestAnimationFrame(() => setTimeout(done, 0))))"""


def test_code_blocks_get_tab_stops_as_they_near_the_screen(browser, site):
    """The theme's tab stops, set near the screen (sgdlab_lazy.patch_theme_script):
    a code block that scrolls sideways can be reached by keyboard, one that does
    not is not a tab stop. Before it nears the screen, a block is a tab stop when
    one of its lines could scroll on a phone, and every scrollable table is one."""
    for table in re.findall(
        r'<div class="pst-scrollable-table-container"[^>]*>',
        (HTML / "book" / "grading.html").read_text(),
    ):
        assert 'tabindex="0"' in table
    for viewport in (PHONE, {"width": 1280, "height": 800}):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.goto(site + "book/landscape.html", wait_until="load")
        assert page.evaluate("() => !!window.sgdlabTabStops")
        blocks = page.locator("article pre")
        last = blocks.nth(blocks.count() - 1)
        longest = last.evaluate(
            "b => Math.max(...b.textContent.split('\\n').map(line => line.length))"
        )
        assert (last.get_attribute("tabindex") == "0") == (longest > 30)
        results = []
        for i in range(blocks.count()):
            block = blocks.nth(i)
            block.scroll_into_view_if_needed()
            page.evaluate(_TWO_FRAMES)
            results.append(
                block.evaluate(
                    "b => [b.scrollWidth > b.clientWidth"
                    " || b.scrollHeight > b.clientHeight, b.tabIndex]"
                )
            )
        context.close()
        assert all(index == (0 if scrolls else -1) for scrolls, index in results)
        if viewport != PHONE:  # at a desktop's width some blocks fit, some scroll
            assert {scrolls for scrolls, _ in results} == {True, False}
