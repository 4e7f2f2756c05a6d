"""Figures of chapters 1 and 2: loss per epoch and per gradient call, the
roughness of the curves, and the epoch RMSE against its batch-RMSE estimates.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..metrics import Roughness
from ..simulation import MonteCarloRMSE
from ..training import History, RMSEReport
from .style import COLORS, series_colors


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
    labels = [_label(h, lab) for h, lab in zip(histories, labels, strict=True)]
    fig, ax = plt.subplots()
    for h, label, color in zip(histories, labels, series_colors(labels), strict=True):
        ax.plot(np.arange(1, h.epochs + 1), h.epoch_loss, color=color, label=label)
    if target is not None:
        ax.axhline(target, color="0.4", ls="--", lw=1)
    if target is not None and reached is not None:
        ax.plot([reached], [target], "o", color="0.2", ms=6)
        ax.annotate(
            f"epoch {reached}",
            (reached, target),
            textcoords="offset points",
            xytext=(6, 8),
            fontsize=9,
        )
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
    labels = [_label(h, lab) for h, lab in zip(histories, labels, strict=True)]
    fig, ax = plt.subplots()
    for h, label, color in zip(histories, labels, series_colors(labels), strict=True):
        ax.plot(h.calls, h.full_loss, color=color, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("function calls (model, loss, step)")
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
        ``(batch_sizes, spread)`` of a prediction, drawn as a wide grey line
        under the others (a measured spread that follows it stays visible).
    """
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    if reference is not None:
        ax.plot(*reference, "-", color="0.75", lw=5, label=reference_label, zorder=1)
    colors = series_colors([f"spread, {lab}" for lab in labels])
    for i, (r, lab, color) in enumerate(zip(curves, labels, colors, strict=True)):
        keep = r.std > 0  # a single batch has no spread and no place on a log axis
        marker, dashes = "os^D"[i % 4], ["--", "-."][i % 2]
        ax.plot(
            r.batch_sizes[keep],
            r.std[keep],
            marker + "-",
            color=color,
            ms=4,
            label=f"spread, {lab}",
            zorder=3,
        )
        ax.plot(
            r.batch_sizes, r.mean, dashes, color=color, lw=1.2, label=f"mean, {lab}"
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("χ²/N of one batch")
    # Under the axes: the means and spreads fill the plot's corners.
    ax.legend(ncols=2, loc="upper center", bbox_to_anchor=(0.45, -0.18))
    fig.tight_layout()
    return fig


def plot_rmse_ratio(
    b: np.ndarray, exact: np.ndarray, series: dict[str, np.ndarray]
) -> Figure:
    """E[RMSE_b]/σ against b (log axis), exact and truncated series (chapter 2).

    Parameters
    ----------
    b
        Batch sizes.
    exact
        The exact ratio at each ``b``.
    series
        Legend label → truncated-series ratio at each ``b``.
    """
    fig, ax = plt.subplots()
    ax.plot(b, exact, color="black", lw=2.2, label="exact")
    styles = ["--", "-.", ":", (0, (5, 1))]
    for i, (label, values) in enumerate(series.items()):
        ax.plot(
            b,
            values,
            ls=styles[i % len(styles)],
            color=COLORS[i % len(COLORS)],
            lw=1.4,
            label=label,
        )
    ax.axhline(np.sqrt(2 / np.pi), color="0.6", lw=0.8)
    ax.annotate(  # at the right end, where the curves are far above the line
        r"$\sqrt{2/\pi}$",
        (b[-1], np.sqrt(2 / np.pi)),
        textcoords="offset points",
        xytext=(-2, -14),
        ha="right",
        fontsize=10,
        color="0.3",
    )
    ax.set_xscale("log")
    ax.set_ylim(0.6, 1.05)
    ax.set_xlabel("batch size b")
    ax.set_ylabel("E[RMSE of a batch] / σ")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_monte_carlo(
    mc: MonteCarloRMSE, quoted: np.ndarray | None = None, quoted_label: str = "quoted"
) -> Figure:
    """Simulated minus exact mean batch RMSE, with ±2 standard-error bars (chapter 2).

    ``quoted`` are other published simulated means for the same batch sizes,
    drawn as open markers at their own distance from the exact value.
    """
    fig, ax = plt.subplots()
    x = mc.batch_sizes.astype(float)
    ax.axhline(0.0, color="black", lw=1)
    label = f"this simulation ({mc.n_batches} batches), ±2 s.e."
    ax.errorbar(
        x,
        mc.mean - mc.exact,
        yerr=2 * mc.sem,
        fmt="o",
        color=COLORS[0],
        capsize=3,
        ms=5,
        label=label,
    )
    if quoted is not None:
        ax.plot(
            x * 1.12,
            np.asarray(quoted) - mc.exact,
            "s",
            mfc="none",
            color=COLORS[1],
            ms=6,
            label=quoted_label,
        )
    ax.set_xscale("log")
    ax.set_xlabel("batch size b")
    ax.set_ylabel("simulated − exact mean RMSE")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_frozen_rmse(
    batch_sizes: np.ndarray,
    averaged: np.ndarray,
    accumulated: np.ndarray,
    gaussian: np.ndarray | None = None,
) -> Figure:
    """A fixed model's RMSE reported two ways against the batch size (chapter 2).

    ``gaussian``, if given, is drawn dotted: what the mean of batch RMSEs would
    be on average for Gaussian errors with the same RMSE, cut into the batches
    of one epoch (``RMSE · metrics.expected_epoch_rmse_ratio(N, b)``).
    """
    fig, ax = plt.subplots()
    ax.plot(
        batch_sizes, averaged, "o-", ms=4, color=COLORS[1], label="mean of batch RMSEs"
    )
    ax.plot(
        batch_sizes,
        accumulated,
        "-",
        lw=2,
        color=COLORS[0],
        label="accumulated (one square root)",
    )
    if gaussian is not None:
        ax.plot(
            batch_sizes, gaussian, ":", color="0.3", label="Gaussian errors, one epoch"
        )
    ax.set_xscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("reported RMSE")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_rmse_reports(
    batch_sizes: Sequence[int], reports: Sequence[RMSEReport]
) -> Figure:
    """Grouped bars of the three RMSEs of one training epoch per batch size (chapter 2)."""
    fig, ax = plt.subplots()
    x = np.arange(len(batch_sizes))
    width = 0.27
    series = [
        ("mean of batch RMSEs (printed)", [r.averaged for r in reports]),
        ("accumulated over the epoch", [r.accumulated for r in reports]),
        ("all rows, end of epoch", [r.after for r in reports]),
    ]
    for i, (label, values) in enumerate(series):
        ax.bar(x + (i - 1) * width, values, width, color=COLORS[i], label=label)
    ax.set_xticks(x, [str(b) for b in batch_sizes])
    ax.set_xlabel("batch size")
    ax.set_ylabel("RMSE of the first epoch")
    tallest = max(max(values) for _, values in series)
    ax.set_ylim(0, 1.4 * tallest)  # room for the legend above the bars
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
