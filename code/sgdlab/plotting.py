"""Figures of the book, drawn from results that other modules computed.

Nothing is computed here that a chapter states as a result: each function
takes histories or measurements and returns a :class:`matplotlib.figure.Figure`.
Used by chapter 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .metrics import Roughness
from .training import History

#: Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


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
        }
    )
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # outside IPython there is nothing to configure
        return
    set_matplotlib_formats("svg")


def glue_figure(name: str, fig: Figure) -> None:
    """Store ``fig`` under ``name`` for a ``glue:figure`` directive, and close it.

    Closing matters: an open figure would also be drawn below the cell.
    Needs myst-nb (installed with the book's requirements).
    """
    from myst_nb import glue

    glue(name, fig, display=False)
    plt.close(fig)


def _label(history: History, label: str | None) -> str:
    if label is not None:
        return label
    return f"batch of {history.batch_size}"


def plot_loss_vs_epochs(
    histories: Sequence[History],
    labels: Sequence[str | None] | None = None,
    *,
    target: float | None = None,
    reached: int | None = None,
) -> Figure:
    """Loss per epoch (log scale) for several training runs.

    Parameters
    ----------
    histories
        Runs to draw; each curve is ``History.epoch_loss``.
    labels
        Legend entries (default: the batch size).
    target
        Draw this loss as a dashed horizontal line (e.g. the final full-batch loss).
    reached
        Mark this epoch on the line ``target`` (e.g. where mini-batches reach it).
    """
    labels = labels if labels is not None else [None] * len(histories)
    fig, ax = plt.subplots()
    for i, (h, lab) in enumerate(zip(histories, labels, strict=True)):
        epochs = np.arange(1, h.epochs + 1)
        ax.plot(epochs, h.epoch_loss, color=COLORS[i % len(COLORS)], label=_label(h, lab))
    if target is not None:
        ax.axhline(target, color="0.4", ls="--", lw=1)
    if target is not None and reached is not None:
        ax.plot([reached], [target], "o", color="0.2", ms=6)
        ax.annotate(
            f"epoch {reached}", (reached, target), textcoords="offset points",
            xytext=(6, 8), fontsize=9,
        )  # fmt: skip
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss over the epoch (χ²)")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_loss_vs_calls(
    histories: Sequence[History], labels: Sequence[str | None] | None = None
) -> Figure:
    """Loss of the whole data set against the number of function calls (log–log)."""
    labels = labels if labels is not None else [None] * len(histories)
    fig, ax = plt.subplots()
    for i, (h, lab) in enumerate(zip(histories, labels, strict=True)):
        ax.plot(h.calls, h.full_loss, color=COLORS[i % len(COLORS)], label=_label(h, lab))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("function calls (model + loss + optimizer step)")
    ax.set_ylabel("loss on all rows (χ²)")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_roughness(
    curves: Sequence[Roughness],
    labels: Sequence[str],
    *,
    reference: tuple[np.ndarray, np.ndarray] | None = None,
    reference_label: str = "independent rows",
) -> Figure:
    """Mean and spread of the per-batch χ²/N against the batch size (log–log).

    Parameters
    ----------
    curves
        One :class:`~sgdlab.metrics.Roughness` per way of forming batches.
    labels
        Legend entry of each curve.
    reference
        ``(batch_sizes, spread)`` of a prediction to draw as a dotted line.
    """
    fig, ax = plt.subplots()
    for i, (r, lab) in enumerate(zip(curves, labels, strict=True)):
        color = COLORS[i % len(COLORS)]
        keep = r.std > 0  # a single batch has no spread and no place on a log axis
        ax.plot(r.batch_sizes[keep], r.std[keep], "o-", color=color, ms=4,
                label=f"spread, {lab}")  # fmt: skip
        ax.plot(r.batch_sizes, r.mean, "--", color=color, lw=1, label=f"mean, {lab}")
    if reference is not None:
        ax.plot(*reference, ":", color="0.3", label=reference_label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("χ²/N of one batch")
    ax.legend(fontsize=8, ncols=2)
    fig.tight_layout()
    return fig
