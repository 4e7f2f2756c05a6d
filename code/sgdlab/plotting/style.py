"""The book's look and the glue between a chapter's results and its page.

Colours that stay apart for readers with the common colour-vision deficiencies,
matplotlib defaults with repeatable SVG output, and the two helpers that hand a
figure or a value to myst-nb's ``glue``.
"""

from __future__ import annotations

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


def series_color(label: str, index: int) -> str:
    """The colour of the ``index``-th series of a plot, labelled ``label``: its
    optimizer's colour (:data:`OPTIMIZER_COLORS`) where the label names one, else
    the ``index``-th of :data:`COLORS`."""
    name = optimizer_of(label)
    return OPTIMIZER_COLORS[name] if name else COLORS[index % len(COLORS)]


#: What makes an SVG figure repeatable: matplotlib otherwise writes the build's
#: date into the file's metadata and salts its element ids with a random UUID.
SVG_HASHSALT = "sgdlab"
SVG_METADATA = {"Date": None}


def use_book_style() -> None:
    """Set matplotlib defaults for the book's figures and SVG output in notebooks.

    Figures come out as SVG (sharp at any zoom and a few tens of kB for line
    plots). Call once at the top of a chapter.
    """
    plt.rcParams.update(
        {
            "figure.figsize": (6.4, 3.6),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
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
