"""The book's look and the glue between a chapter's results and its page.

Colours that stay apart for readers with the common colour-vision deficiencies,
matplotlib defaults with repeatable SVG output, and the two helpers that hand a
figure or a value to myst-nb's ``glue``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

#: Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

#: One colour per optimizer, in every figure and explorer that compares them, so
#: that a colour keeps its meaning from one figure to the next. Blue, the first
#: colour, is left to plots of a single series.
OPTIMIZER_COLORS = {
    "GD": COLORS[1],  # vermillion
    "GD + momentum": COLORS[2],  # bluish green
    "RMSProp": COLORS[3],  # reddish purple
    "Adam": COLORS[4],  # orange
}


#: The largest batch size that gets a colour of its own: smaller sizes spread
#: over the whole of :data:`BATCH_COLORMAP` (1, 2, 4, ..., 64 in chapter 4);
#: larger ones share the last colour. A full batch (every row) is black.
BATCH_RANGE = 64
BATCH_COLORMAP = "plasma"
FULL_BATCH_COLOR = "#000000"


def batch_color(batch_size: int, *, full: bool = False) -> str:
    """The colour of a run with batches of ``batch_size`` rows, or of the full
    batch (``full``): ordered from dark blue (1 row) to orange (64 rows and
    more) on a log scale, so that a colour keeps its batch size in chapters 1,
    3 and 4, and a larger batch is always the warmer colour."""
    import matplotlib
    import matplotlib.colors as mcolors

    if full:
        return FULL_BATCH_COLOR
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    place = min(np.log2(batch_size) / np.log2(BATCH_RANGE), 1.0)
    # plasma's last fifth is yellow, too faint on a white page.
    return mcolors.to_hex(matplotlib.colormaps[BATCH_COLORMAP](0.8 * place))


#: The table: batch sizes in the book's comparisons (chapters 1, 3 and 4).
BATCH_COLORS = {b: batch_color(b) for b in (1, 2, 4, 8, 16, 32, 50, 64)}

#: One colour per method (a way of forming or taking steps) where a chapter
#: compares methods: file order against shuffled batches (chapter 1), gradient
#: descent against SGD (chapters 4 and 7, with GD in its optimizer colour).
METHOD_COLORS = {
    "file order": COLORS[6],  # black
    "shuffled": COLORS[0],  # blue
    "SGD": COLORS[0],  # blue
}


def optimizer_of(label: str) -> str | None:
    """The optimizer a legend label names (``"GD + momentum 0.9, lr 3.0"`` names
    ``"GD + momentum"``), or ``None``."""
    words = label.lower()
    if "adam" in words:
        return "Adam"
    if "rmsprop" in words:
        return "RMSProp"
    if "momentum" in words:
        return "GD + momentum"
    if words.startswith(("gd", "gradient descent")):  # not "SGD": a method, not this
        return "GD"
    return None


_BATCH = re.compile(r"\bbatch(?:es)? (?:of )?(\d+)\b")


def batch_of(label: str) -> tuple[int, bool] | None:
    """The batch size a legend label names and whether it is the full batch
    (``"batch 16"``: ``(16, False)``; ``"one batch of 506 rows"`` and
    ``"full batch (1437)"``: full), or ``None``."""
    words = label.lower()
    found = _BATCH.search(words)
    full = words.startswith(("one batch", "full batch")) or "all rows" in words
    if "full batch" in words:
        size = re.search(r"\d+", words)
        return (int(size.group(0)) if size else 0), True
    return (int(found.group(1)), full) if found else None


def method_of(label: str) -> str | None:
    """The method a legend label names (a key of :data:`METHOD_COLORS`), or ``None``."""
    words = label.lower()
    for method in METHOD_COLORS:
        if re.search(rf"(?<!\w){re.escape(method.lower())}(?!\w)", words):
            return method
    return None


def series_color(label: str, index: int) -> str:
    """The colour of the ``index``-th series of a plot, labelled ``label``: its
    optimizer's colour (:data:`OPTIMIZER_COLORS`) where the label names one, its
    method's (:data:`METHOD_COLORS`) or its batch size's (:func:`batch_color`),
    else the ``index``-th of :data:`COLORS`."""
    name = optimizer_of(label)
    if name:
        return OPTIMIZER_COLORS[name]
    method = method_of(label)
    if method:
        return METHOD_COLORS[method]
    batch = batch_of(label)
    if batch:
        return batch_color(max(batch[0], 1), full=batch[1])
    return COLORS[index % len(COLORS)]


def series_colors(labels: Sequence[str], start: int = 0) -> list[str]:
    """The colours of series labelled ``labels``: each its table colour
    (:func:`series_color`) where those are all different; where two labels
    share one (three gradient-descent runs at three learning rates), the
    palette in order from ``start``, so that no two series look alike."""
    labels = list(labels)
    colors = [series_color(label, start + i) for i, label in enumerate(labels)]
    if len(set(colors)) == len(colors):
        return colors
    return [COLORS[(start + i) % len(COLORS)] for i in range(len(labels))]


#: What makes an SVG figure repeatable: matplotlib otherwise writes the build's
#: date into the file's metadata and salts its element ids with a random UUID.
SVG_HASHSALT = "sgdlab"
SVG_METADATA = {"Date": None}

#: A figure's width in inches (a single panel) and its smallest font in points.
#: A phone shows the column 342 CSS px wide at 390 px (about 4.75 in at 72 pt
#: to the inch), so text of 9 pt in a figure of at most 4.75 in reads at 9 px
#: or more. Wider figures (two panels) use 10 pt text in at most 5.3 in.
FIGURE_WIDTH = 4.6
SMALLEST_FONT = 9


def use_book_style() -> None:
    """Set matplotlib defaults for the book's figures and SVG output in notebooks.

    Figures come out as SVG (sharp at any zoom and a few tens of kB for line
    plots). Call once at the top of a chapter.
    """
    plt.rcParams.update(
        {
            "figure.figsize": (FIGURE_WIDTH, 3.3),
            "figure.dpi": 100,
            "figure.facecolor": "white",
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
            "legend.fontsize": SMALLEST_FONT,
            "xtick.labelsize": SMALLEST_FONT,
            "ytick.labelsize": SMALLEST_FONT,
            "axes.titlesize": 10,
            "axes.labelsize": 10,
            "legend.frameon": False,
            "svg.fonttype": "none",  # text stays text: smaller files, searchable
            "svg.hashsalt": SVG_HASHSALT,  # fixed ids: the same figure gives the same bytes
        }
    )
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # outside IPython there is nothing to configure
        return
    # No creation date in the SVG metadata, so a rebuild gives byte-identical figures.
    set_matplotlib_formats("svg", metadata=SVG_METADATA)


def glue_figure(name: str, fig: Figure) -> None:
    """Store ``fig`` under ``name`` for a ``glue:figure`` directive, and close it.

    Closing matters: an open figure would also be drawn below the cell.
    Needs myst-nb (installed with the book's requirements).
    """
    from myst_nb import glue

    glue(name, fig, display=False)
    plt.close(fig)


def glue_value(name: str, value: object) -> None:
    """Store a number (or Markdown) for ``{glue:text}``/``{glue:md}`` without
    displaying it. NumPy scalars become Python ``int``/``float``: myst-nb
    formats only those with a format spec such as ``:.2f``.
    """
    from myst_nb import glue

    if isinstance(value, np.integer):
        value = int(value)
    elif isinstance(value, np.floating):
        value = float(value)
    glue(name, value, display=False)
