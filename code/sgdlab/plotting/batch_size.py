"""Figures of chapter 3, batch size and training time: epoch times, accuracy
runs, time to a target, the steps/examples trade-off and the gradient noise
scale along training.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .style import COLORS, FIGURE_WIDTH, series_colors


def plot_epoch_times(
    batch_sizes: Sequence[int],
    epoch_seconds: dict[str, Sequence[float]],
    *,
    model_curve: tuple[np.ndarray, np.ndarray] | None = None,
    model_label: str = "fit t0 + b t1",
    floor: float | None = None,
) -> Figure:
    """Seconds per epoch against batch size (log–log), one line per loader,
    with the fitted step-time model and the compute floor if given."""
    fig, ax = plt.subplots()
    for (label, seconds), color, marker in zip(
        epoch_seconds.items(), COLORS, "osD^", strict=False
    ):
        ax.loglog(batch_sizes, seconds, marker=marker, color=color, label=label)
    if model_curve is not None:
        ax.loglog(*model_curve, color="0.4", linestyle="--", label=model_label)
    if floor is not None:
        ax.axhline(
            floor, color="0.4", linestyle=":", label="compute floor (matmul peak)"
        )
    ax.set_xlabel("batch size")
    ax.set_ylabel("seconds per epoch")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_accuracy_runs(
    runs: Sequence, labels: Sequence[str] | None = None, *, n_rows: int | None = None
) -> Figure:
    """Test accuracy against epochs (upper panel) and against training seconds
    (lower panel), one colour per batch size; a run whose batch holds all
    ``n_rows`` rows is the full batch."""

    def default(run) -> str:
        if n_rows is not None and run.batch_size >= n_rows:
            return f"full batch ({run.batch_size})"
        return f"batch {run.batch_size}"

    labels = list(labels) if labels else [default(run) for run in runs]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(FIGURE_WIDTH, 5.4), sharey=True)
    for run, label, color in zip(runs, labels, series_colors(labels), strict=True):
        top.plot(run.epochs, run.accuracy, color=color, label=label)
        bottom.plot(run.seconds, run.accuracy, color=color, label=label)
    top.set_xlabel("epochs")
    bottom.set_xlabel("training seconds")
    bottom.set_xscale("symlog", linthresh=0.1)
    for ax in (top, bottom):
        ax.set_ylabel("test accuracy")
        ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_time_to_target(
    batch_sizes: Sequence[int],
    seconds: Sequence[float],
    *,
    best: int,
    predicted: tuple[np.ndarray, np.ndarray] | None = None,
    initial: Sequence[int] = (),
    target: float | None = None,
) -> Figure:
    """Seconds to a target accuracy against batch size, the sweet spot marked;
    the sizes of the initial grid are filled, refinements hollow."""
    fig, ax = plt.subplots()
    b = np.asarray(batch_sizes)
    s = np.asarray(seconds, dtype=float)
    ax.plot(b, s, color=COLORS[0], label="measured")
    first = np.isin(b, initial)
    ax.scatter(
        b[first], s[first], color=COLORS[0], zorder=3, label="initial powers of two"
    )
    ax.scatter(
        b[~first],
        s[~first],
        facecolors="white",
        edgecolors=COLORS[0],
        zorder=3,
        label="other sizes",
    )
    if predicted is not None:
        ax.plot(
            *predicted, color="0.4", linestyle="--", label="fitted steps × step time"
        )
    ax.axvline(best, color=COLORS[1], linestyle=":", label=f"sweet spot: batch {best}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    what = f"{target:.0%} test accuracy" if target is not None else "target"
    ax.set_ylabel(f"seconds to {what}")
    # Under the axes, where no line runs through it.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=2)
    fig.tight_layout()
    return fig


def plot_steps_examples(
    batch_sizes: Sequence[int], steps: Sequence[float], fit
) -> Figure:
    """Steps (upper panel) and examples (lower panel) to the target against
    batch size, with the fitted curves of McCandlish et al. and ``B_crit`` marked."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(FIGURE_WIDTH, 5.6), sharex=True)
    b = np.asarray(batch_sizes, dtype=float)
    s = np.asarray(steps, dtype=float)
    grid = np.geomspace(b.min(), b.max(), 100)
    panels = (
        (top, s, fit.steps, r"$S_{\min}(1 + B_{\rm noise}/B)$", "steps to target"),
        (bottom, b * s, fit.examples, r"$E_{\min}(1 + B/B_{\rm noise})$", "examples"),
    )
    for ax, measured, curve, label, ylabel in panels:
        ax.loglog(b, measured, "o", color=COLORS[0], label="measured")
        ax.loglog(grid, curve(grid), color="0.4", linestyle="--", label=label)
        ax.axvline(
            fit.b_crit,
            color=COLORS[1],
            linestyle=":",
            label=rf"$B_{{\rm crit}} \approx {fit.b_crit:.0f}$",
        )
        ax.set_ylabel(ylabel + (" to target" if ax is bottom else ""))
        ax.legend()
    bottom.set_xlabel("batch size")
    fig.tight_layout()
    return fig


def plot_noise_track(track, *, b_crit: float | None = None) -> Figure:
    """``B_simple`` measured during training (log scale), and test accuracy in a
    panel of its own below (a second axis would lay its ticks over the lines)."""
    accuracy = np.isfinite(track.accuracy).all()
    fig, axes = plt.subplots(
        2 if accuracy else 1,
        1,
        figsize=(FIGURE_WIDTH, 5.0 if accuracy else 3.3),
        sharex=True,
        squeeze=False,
        height_ratios=[3, 2] if accuracy else None,
    )
    ax = axes[0, 0]
    ax.semilogy(
        track.steps,
        track.b_simple,
        marker="o",
        color=COLORS[0],
        label=r"$B_{\rm simple}$",
    )
    if b_crit is not None:
        ax.axhline(
            b_crit,
            color=COLORS[1],
            linestyle=":",
            label=rf"fitted $B_{{\rm crit}} \approx {b_crit:.0f}$",
        )
    ax.set_ylabel("simple noise scale")
    ax.legend(loc="center right")
    if accuracy:
        axes[1, 0].plot(track.steps, track.accuracy, color=COLORS[2], marker="o")
        axes[1, 0].set_ylabel("test accuracy")
    axes[-1, 0].set_xlabel("steps")
    fig.tight_layout()
    return fig
