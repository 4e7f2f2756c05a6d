"""The code that draws each figure is the reader's (issue 24).

On every built page, each figure, animation player and explorer (a
``glue:figure`` of the chapter) has the code that draws it on the page: a folded
cell ("Show code cell source", the ``hide-input`` tag) before it, in its section,
that calls a drawing function of ``sgdlab`` with the chapter's runs and glues
the figure under its name. Where a chapter teaches a kind of plot, a dropdown
"How this figure is drawn" shows the plotting function itself
(``literalinclude``), beside a folded cell that calls it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import test_site
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"

#: A call that draws: a plotting function, an animation or its last frame, an explorer.
DRAWS = re.compile(
    r"\b(?:plotting\.plot_\w+|animation\.(?:animate_descent|final_frame)"
    r"|explorer\.\w+_explorer|player\.\w+)\("
)
#: The kinds of plot a chapter teaches (shared/COURSE.md): the function a folded
#: cell calls -> the functions that draw them, which the chapter shows whole.
CONTOURS = {"plot_contour_paths": ("_contours", "_draw_paths")}
TAUGHT = {
    "book/epochs-and-minibatches": {"plot_loss_vs_calls": ("plot_loss_vs_calls",)},
    "book/landscape": {"plot_surface_3d": ("plot_surface_3d",), **CONTOURS},
    "book/adaptive-optimizers": {**CONTOURS, "plot_loss_curves": ("plot_loss_curves",)},
}
DROPDOWN_TITLE = "How this figure is drawn"
_FIGURE = re.compile(r"^(?:```|:::)\{glue:figure\}\s+(\S+)\n((?::[\w-]+:.*\n)*)", re.M)
_STRING = re.compile(r"""(?<![\w"'])(f?)(?:"([^"\n]*)"|'([^'\n]*)')""")


def _pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for p in toc["parts"] for c in p["chapters"]]


def glued_figures(source: str) -> dict[str, str]:
    """The page id (``:name:``) -> glue key of every ``glue:figure`` in ``source``."""
    figures = {}
    for match in _FIGURE.finditer(source):
        name = re.search(r"^:name:\s*(\S+)", match.group(2), re.M)
        assert name, f"glue:figure {match.group(1)} has no :name:"
        figures[name.group(1)] = match.group(1)
    return figures


def names(code: str) -> list[re.Pattern]:
    """The string literals of ``code`` as patterns; an f-string's fields match anything."""
    patterns = []
    for f, double, single in _STRING.findall(code):
        text = double or single
        parts = re.split(r"\{[^{}]*\}", text) if f else [text]
        patterns.append(re.compile(".+".join(map(re.escape, parts))))
    return patterns


def _folded_source(cell) -> str | None:
    """The source of a folded input cell, or None if ``cell`` is not one."""
    details = cell.find("details", recursive=False)
    code = cell.find("div", class_="cell_input")
    if details is None or details.has_attr("open") or code is None:
        return None
    return code.get_text() if code in details.descendants else None


def drawing_cell(figure, key: str):
    """The folded cell before ``figure``, in its section, that draws and glues ``key``."""
    section = figure.find_parent("section")
    for cell in figure.find_all_previous("div", class_="tag_hide-input"):
        if section is not None and not any(p is section for p in cell.parents):
            return None
        source = _folded_source(cell)
        if source and DRAWS.search(source):
            if any(p.fullmatch(key) for p in names(source)):
                return cell
    return None


def _shows(dropdown, functions: tuple[str, ...]) -> bool:
    title = dropdown.find(class_="admonition-title")
    listings = " ".join(pre.get_text() for pre in dropdown.find_all("pre"))
    return (
        title is not None
        and title.get_text(strip=True) == DROPDOWN_TITLE
        and all(f"def {function}(" in listings for function in functions)
    )


def problems(html: str, source: str, taught: dict | None = None) -> list[str]:
    """What keeps a reader of the page ``html`` (built from ``source``) from the code
    of its figures: empty if nothing."""
    soup = BeautifulSoup(html, "html.parser")
    article = soup.find("article") or soup
    figures = glued_figures(source)
    found = []
    for name, key in figures.items():
        figure = article.find(id=name)
        if figure is None:
            found.append(f"{name}: not on the page")
        elif drawing_cell(figure, key) is None:
            found.append(f"{name} ({key}): no folded cell before it draws it")
    for figure in article.find_all("figure"):
        if figure.get("id") not in figures:
            found.append(f"figure {figure.get('id')!r} is not a glue:figure")
    for image in article.find_all("img"):
        if not any(
            p.name == "figure" and p.get("id") in figures for p in image.parents
        ):
            found.append(f"image {image.get('src')} lies outside the figures")
    for function, shown in (taught or {}).items():
        dropdowns = [
            d for d in article.select("div.admonition.dropdown") if _shows(d, shown)
        ]
        beside = [
            d
            for d in dropdowns
            if any(
                f"plotting.{function}(" in (_folded_source(c) or "")
                for c in (d.find_parent("section") or article).select(
                    "div.tag_hide-input"
                )
            )
        ]
        if not beside:
            found.append(
                f"{function}: no dropdown shows it beside a cell that calls it"
            )
    return found


@pytest.mark.parametrize("page", _pages())
def test_every_figure_has_its_code_on_its_page(build, page):
    code, _ = build
    assert code == 0, "the book did not build"
    html = (HTML / f"{page}.html").read_text()
    source = (ROOT / f"{page}.md").read_text()
    assert not problems(html, source, TAUGHT.get(page))


def test_the_chapters_have_figures_and_the_intro_says_where_their_code_is():
    counts = {p: len(glued_figures((ROOT / f"{p}.md").read_text())) for p in _pages()}
    assert sum(counts.values()) >= 30 and all(counts[p] for p in TAUGHT)
    intro = (ROOT / "book" / "intro.md").read_text()
    assert "Show code cell source" in intro and DROPDOWN_TITLE in intro
    assert "code/sgdlab/plotting/" in intro


# -- the checker on pages made for it: each can fail ----------------------------
SOURCE = """
:::{glue:figure} fig-key-03
:name: fig-a
:::
"""


def _cell(code: str, tag: str = "hide-input") -> str:
    if tag == "hide-input":
        inner = (
            '<details class="hide above-input"><summary>Show code cell source</summary>'
            f'<div class="cell_input"><pre>{code}</pre></div></details>'
        )
    else:
        inner = f'<div class="cell_input"><pre>{code}</pre></div>'
    return f'<div class="cell tag_{tag} docutils container">{inner}</div>'


def _page(*sections: str) -> str:
    body = "".join(f"<section>{s}</section>" for s in sections)
    return f"<html><body><article>{body}</article></body></html>"


FIGURE = '<figure id="fig-a"><img src="a.svg"/></figure>'
DRAW = 'plotting.glue_figure("fig-key-03", plotting.plot_loss_curves(runs))'


def test_a_folded_cell_that_draws_the_figure_is_enough():
    assert problems(_page(_cell(DRAW) + "<p>text</p>" + FIGURE), SOURCE) == []
    looped = (
        'for lr in (0.3, 2.5):\n    tag = str(lr).replace(".", "")\n'
        '    plotting.glue_figure(f"fig-key{tag}", plotting.plot_contour_paths(W0))'
    )
    assert problems(_page(_cell(looped) + FIGURE), SOURCE) == []


@pytest.mark.parametrize(
    "page",
    [
        _page(FIGURE),  # no cell at all
        _page(_cell(DRAW, tag="remove-input") + FIGURE),  # shown, not folded
        _page(_cell(DRAW), FIGURE),  # in another section
        _page(FIGURE + _cell(DRAW)),  # after the figure
        _page(_cell('plotting.glue_figure("fig-key-03", fig)') + FIGURE),  # no drawing
        _page(
            _cell(DRAW.replace("fig-key-03", "fig-other")) + FIGURE
        ),  # another figure
    ],
)
def test_a_figure_whose_code_is_not_reachable_is_reported(page):
    assert problems(page, SOURCE) == [
        "fig-a (fig-key-03): no folded cell before it draws it"
    ]


def test_a_stray_image_and_a_missing_listing_are_reported():
    page = _page(_cell(DRAW) + FIGURE + '<img src="b.png"/>')
    assert problems(page, SOURCE, {"plot_loss_curves": ("plot_loss_curves",)}) == [
        "image b.png lies outside the figures",
        "plot_loss_curves: no dropdown shows it beside a cell that calls it",
    ]
    dropdown = (
        '<div class="admonition dropdown"><p class="admonition-title">'
        f"{DROPDOWN_TITLE}</p><pre>def plot_loss_curves(curves):</pre></div>"
    )
    page = _page(_cell(DRAW) + dropdown + FIGURE)
    assert problems(page, SOURCE, {"plot_loss_curves": ("plot_loss_curves",)}) == []
    assert problems(page, SOURCE, {"plot_loss_curves": ("plot_loss_curves", "_f")})
    assert problems(page, SOURCE, {"plot_surface_3d": ("plot_surface_3d",)}) == [
        "plot_surface_3d: no dropdown shows it beside a cell that calls it"
    ]


def test_the_reader_notebook_folds_the_listing_as_the_page_does():
    """In the chapter's notebook (Binder) the dropdown is a folded <details>
    holding the function's source, not a block quote that is always open."""
    from sgdlab.notebooks.myst_markdown import Book
    from sgdlab.notebooks.reader import reader_cells

    path = ROOT / "book" / "landscape.md"
    cells = reader_cells(path.read_text(), "landscape", path, Book(ROOT / "book"))
    folded = [
        c.source
        for c in cells
        if c.cell_type == "markdown"
        and f"<summary>{DROPDOWN_TITLE}</summary>" in c.source
    ]
    assert len(folded) == 2
    assert "def plot_surface_3d(" in folded[0] and "def _draw_paths(" in folded[1]
    assert all(
        s.index("<details>") < s.index("def ") < s.index("</details>") for s in folded
    )


# -- a reader on a phone opens the code of a figure ------------------------------
PHONE = {"width": 390, "height": 844}
WITH_FIGURES = [p for p in _pages() if glued_figures((ROOT / f"{p}.md").read_text())]


site = test_site.site  # the built site, served (the fixture of test_site.py)


def _first_drawing_cell(page: str) -> tuple[int, str]:
    """Index among the page's folded cells of the one that draws its first figure,
    and the drawing call it makes."""
    soup = BeautifulSoup((HTML / f"{page}.html").read_text(), "html.parser")
    article = soup.find("article")
    name, key = next(iter(glued_figures((ROOT / f"{page}.md").read_text()).items()))
    cell = drawing_cell(article.find(id=name), key)
    folded = article.select("div.cell.tag_hide-input")
    index = next(i for i, c in enumerate(folded) if c is cell)
    return index, DRAWS.search(_folded_source(cell)).group(0)


@pytest.mark.parametrize("page", WITH_FIGURES)
def test_a_reader_on_a_phone_opens_the_code_of_a_figure(browser, site, page):
    """Tap "Show code cell source" above the page's first figure: the call that
    draws it shows, in the column (long lines scroll inside the code box); tap
    again and it folds away."""
    index, call = _first_drawing_cell(page)
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    tab = context.new_page()
    tab.goto(site + page + ".html", wait_until="networkidle")
    cell = tab.locator("div.cell.tag_hide-input").nth(index)
    code = cell.locator("pre").first
    assert not code.is_visible()
    cell.locator("summary").tap()
    code.wait_for(state="visible", timeout=3000)
    assert call in code.inner_text()
    box = code.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    scrolls = code.evaluate(
        "e => e.scrollWidth <= e.clientWidth + 1 || "
        "['auto', 'scroll'].includes(getComputedStyle(e).overflowX)"
    )
    assert scrolls, "a long line is cut off instead of scrolling"
    cell.locator("summary").tap()
    code.wait_for(state="hidden", timeout=3000)
    context.close()
