"""Figures a reader can read on a phone, without blank bands or notches.

On a 390 px phone the page's column is about 342 CSS px wide and a figure is
scaled down to it: a 10 pt label in a figure 6.4 in wide reads at 5 px. The
smallest text of a figure, at the width the browser draws it, is

    font size (SVG user units) × rendered width (CSS px) / viewBox width,

for matplotlib's SVGs keep their text as text (``svg.fonttype: none``). A
formula's sub- and superscripts are set at 70 % of their formula's size, as
in the page's own formulas; a text element's size is that of its largest
part. The build-free tests draw each plotting function's figure and check
it at the column width of a phone; the book tests measure every figure of
every built chapter in chromium at 390 px, and check that each image keeps
its proportions (no blank bands above and below) at 390 and 1280 px.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
import test_site
from sgdlab import animation, plotting, regression
from sgdlab.metrics import Roughness

site = test_site.site  # the fixture: the built site, served (one build for all files)

ROOT = Path(__file__).resolve().parents[1]
PHONE_COLUMN = 342  # CSS px: the main column of a 390 px phone
SMALLEST = 9.0  # CSS px

_FONT = re.compile(r"font-size:\s*([0-9.]+)px")
_VIEWBOX = re.compile(r'viewBox="[-0-9.e]+ [-0-9.e]+ ([0-9.e]+) ([0-9.e]+)"')
_TEXT = re.compile(r"<text\b.*?</text>", re.S)


def smallest_text(svg: str) -> tuple[float, float] | None:
    """``(font size, viewBox width)`` of the smallest text element of an SVG,
    both in its user units; ``None`` if it has no sized text."""
    box = _VIEWBOX.search(svg)
    sizes = [
        max(float(size) for size in _FONT.findall(text))
        for text in _TEXT.findall(svg)
        if _FONT.search(text)
    ]
    if box is None or not sizes:
        return None
    return min(sizes), float(box.group(1))


def text_px(svg: str, rendered_width: float) -> float | None:
    """The smallest text of an SVG drawn ``rendered_width`` CSS px wide."""
    found = smallest_text(svg)
    return None if found is None else found[0] * rendered_width / found[1]


def test_the_measure_reads_a_known_figure():
    """A 4 in figure (288 pt) with 12 pt text at 144 px: 12 * 144/288 = 6 px,
    found through a formula whose subscript is smaller."""
    with plt.rc_context({"svg.fonttype": "none", "font.size": 12}):
        fig = plt.figure(figsize=(4, 2))
        fig.text(0.1, 0.5, "$w_0$ label")
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg")
        plt.close(fig)
    svg = buffer.getvalue()
    assert smallest_text(svg) == (12.0, 288.0)
    assert text_px(svg, 144) == pytest.approx(6.0)


def _phone_px(fig) -> float:
    with plt.rc_context({"svg.fonttype": "none"}):
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight")  # as notebooks do
        plt.close(fig)
    return text_px(buffer.getvalue(), PHONE_COLUMN)


def _figures():
    """Every plotting function's figure, drawn from small made-up results."""
    w = np.linspace(-5, 5, 40)
    Z = np.add.outer(w**2, w**2)
    path = np.array([[-4.0, 4.0], [-1.0, 1.0], [0.0, 0.0]])
    paths = {"GD, lr 3.0": path, "GD, lr 1.0": path / 2}
    yield (
        "contour",
        lambda: plotting.plot_contour_paths(
            w, w, Z, paths, markers=[((0, 0), "minimum (test inconclusive)")]
        ),
    )
    yield (
        "contour stack",
        lambda: plotting.plot_contour_stack(
            w,
            w,
            [{"title": "all rows", "Z": Z, "paths": paths}, {"title": "a", "Z": Z}],
        ),
    )
    yield "surface", lambda: plotting.plot_surface_3d(w, w, Z)
    yield "loss curves", lambda: plotting.plot_loss_curves({"a": [3, 2], "b": [2, 1]})
    data = regression.make_line_data(seed=0)
    runs = {
        f"batch {b}": regression.descend(data, lr=0.1, steps=20, batch_size=b, seed=1)
        for b in (1, 4, 64)
    }
    yield "last frame, zoomed", lambda: animation.final_frame(data, runs, zoom=0.6)
    yield "last frame", lambda: animation.final_frame(data, runs)
    b = np.array([4, 8, 16, 32, 64, 128.0])
    fit = SimpleNamespace(
        steps=lambda b: 100 * (1 + 64 / b), examples=lambda b: 6400 * (1 + b / 64)
    )
    fit.b_crit = 64
    yield (
        "steps and examples",
        lambda: plotting.plot_steps_examples(b, fit.steps(b), fit),
    )
    yield (
        "time to target",
        lambda: plotting.plot_time_to_target(
            b, 300 / b + b / 50, best=64, predicted=(b, 300 / b), initial=[4, 8]
        ),
    )
    track = SimpleNamespace(
        steps=np.arange(0, 400, 100),
        b_simple=np.array([200.0, 300, 250, 400]),
        accuracy=np.array([0.1, 0.5, 0.8, 0.9]),
    )
    yield "noise track", lambda: plotting.plot_noise_track(track, b_crit=120)
    accuracy = SimpleNamespace(
        batch_size=1, epochs=[0, 1], seconds=[0.01, 1], accuracy=[0.1, 0.9]
    )
    yield "accuracy runs", lambda: plotting.plot_accuracy_runs([accuracy], n_rows=9)
    sizes = np.array([1, 2, 4, 8])
    rough = Roughness(sizes, np.full(4, 0.12), 0.3 / np.sqrt(sizes), np.ones(4))
    yield (
        "roughness",
        lambda: plotting.plot_roughness(
            [rough, rough], ["file order", "shuffled"], reference=(sizes, rough.std)
        ),
    )
    ratio = np.geomspace(1, 1e4, 20)
    yield (
        "rmse ratio",
        lambda: plotting.plot_rmse_ratio(
            ratio, 1 - 0.2 / ratio**0.5, {"series, 1 term": np.ones(20)}
        ),
    )


@pytest.fixture(autouse=True)
def _book_style():
    with plt.rc_context():
        plotting.use_book_style()
        yield


@pytest.mark.parametrize("name, draw", list(_figures()), ids=lambda x: x)
def test_every_figure_reads_at_phone_width(name, draw):
    px = _phone_px(draw())
    assert px >= SMALLEST, f"{name}: smallest text {px:.1f} px at 390 px"


# -- The built book, in chromium ---------------------------------------------

_IMAGES = """() => [...document.querySelectorAll('.bd-article img')].map(i => {
  const r = i.getBoundingClientRect();
  return {src: i.getAttribute('src'), width: r.width, height: r.height,
          attrs: [+i.getAttribute('width'), +i.getAttribute('height')]};
})"""

#: On a phone a player shows one panel at a time: a reader taps each panel's tab
#: (the ``n``-th tab of every player shows its ``n``-th panel).
_TABS = """() => Math.max(0,
  ...[...document.querySelectorAll('.sgdlab-tabs')].map(r => r.children.length))"""
_TAP = """n => document.querySelectorAll('.sgdlab-tabs').forEach(r => {
  if (r.children[n] && getComputedStyle(r).display !== 'none') r.children[n].click();
})"""


def _shown_images(page):
    """Every image a reader sees, tapping through the players' tabs in turn."""
    seen = {}
    for n in range(max(page.evaluate(_TABS), 1)):
        page.evaluate(_TAP, n)
        for image in page.evaluate(_IMAGES):
            if image["width"] > 0 or image["src"] not in seen:
                seen[image["src"]] = image
    return list(seen.values())


def _chapter_images(browser, site, width, scheme="light"):
    context = browser.new_context(
        viewport={"width": width, "height": 844},
        color_scheme=scheme,
        is_mobile=width < 992,
        has_touch=width < 992,
    )
    page = context.new_page()
    for chapter in test_site.CHAPTERS:
        page.goto(site + chapter + ".html", wait_until="networkidle")
        for image in _shown_images(page):
            if image["src"].endswith(".svg") and "_static" not in image["src"]:
                yield chapter, image, page
    context.close()


@pytest.mark.book
def test_every_figure_of_the_book_reads_on_a_phone(browser, site):
    """Every SVG figure and player panel of every chapter, at 390 px: its
    smallest text at 9 CSS px or more."""
    html = ROOT / "_build" / "html"
    small, measured = [], 0
    for chapter, image, _ in _chapter_images(browser, site, 390):
        svg = (html / chapter).parent.joinpath(image["src"]).resolve().read_text()
        px = text_px(svg, image["width"])
        if px is None:
            continue
        measured += 1
        if px < SMALLEST:
            small.append(f"{chapter}: {Path(image['src']).name} {px:.1f} px")
    assert measured >= 30, measured
    assert not small, small


@pytest.mark.book
@pytest.mark.parametrize("width", [390, 1280])
def test_figures_keep_their_proportions(browser, site, width):
    """An image as tall as its width says (no blank bands above and below)."""
    banded = []
    for chapter, image, _ in _chapter_images(browser, site, width):
        natural_w, natural_h = image["attrs"]
        if not natural_w:
            continue
        expected = image["width"] * natural_h / natural_w
        if abs(image["height"] - expected) > 1.5:
            banded.append(f"{chapter}: {image['src']} {image['height']:.0f} px tall")
    assert not banded, banded


@pytest.mark.book
def test_stacked_panels_meet_without_notches_in_dark_mode(browser, site):
    """Dark mode rounds the corners of images; a player's stacked panels must
    not, or the page's dark background shows where they meet."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True
    )
    page = context.new_page()
    page.goto(site + "book/watching-sgd.html", wait_until="networkidle")
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    radii = page.evaluate(
        "() => [...document.querySelectorAll('.sgdlab-panels img')]"
        ".map(i => getComputedStyle(i).borderTopLeftRadius)"
    )
    figures = page.evaluate(
        "() => [...document.querySelectorAll('figure img')]"
        ".filter(i => !i.closest('.sgdlab-panels'))"
        ".map(i => getComputedStyle(i).borderTopLeftRadius)"
    )
    context.close()
    assert radii and set(radii) == {"0px"}, radii
    # a figure on its own keeps the theme's rounded card
    assert figures and "0px" not in figures, figures
