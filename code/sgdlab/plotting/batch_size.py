"""Figures of chapter 3, batch size and training time: epoch times, accuracy
runs, time to a target, the steps/examples trade-off and the gradient noise
scale along training.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .style import COLORS


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


def plot_accuracy_runs(runs: Sequence, labels: Sequence[str] | None = None) -> Figure:
    """Test accuracy against epochs (left) and against training seconds (right)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.6, 3.4), sharey=True)
    for i, run in enumerate(runs):
        label = labels[i] if labels else f"batch {run.batch_size}"
        color = COLORS[i % len(COLORS)]
        left.plot(run.epochs, run.accuracy, color=color, label=label)
        right.plot(run.seconds, run.accuracy, color=color, label=label)
    left.set_xlabel("epochs")
    left.set_ylabel("test accuracy")
    right.set_xlabel("training seconds")
    right.set_xscale("symlog", linthresh=0.1)
    left.legend(loc="lower right")
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
        ax.plot(*predicted, color="0.4", linestyle="--", label="model S(B)(t0 + B t1)")
    ax.axvline(best, color=COLORS[1], linestyle=":", label=f"sweet spot: batch {best}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    what = f"{target:.0%} test accuracy" if target is not None else "target"
    ax.set_ylabel(f"seconds to {what}")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_steps_examples(
    batch_sizes: Sequence[int], steps: Sequence[float], fit
) -> Figure:
    """Steps (left) and examples (right) to the target against batch size, with
    the fitted curves of McCandlish et al. and ``B_crit`` marked."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.6, 3.4))
    b = np.asarray(batch_sizes, dtype=float)
    s = np.asarray(steps, dtype=float)
    grid = np.geomspace(b.min(), b.max(), 100)
    panels = (
        (left, s, fit.steps, "S_min (1 + B_noise/B)", "steps to target"),
        (right, b * s, fit.examples, "E_min (1 + B/B_noise)", "examples to target"),
    )
    for ax, measured, curve, label, ylabel in panels:
        ax.loglog(b, measured, "o", color=COLORS[0], label="measured")
        ax.loglog(grid, curve(grid), color="0.4", linestyle="--", label=label)
        ax.set_ylabel(ylabel)
    for ax in (left, right):
        ax.axvline(
            fit.b_crit,
            color=COLORS[1],
            linestyle=":",
            label=f"B_crit ≈ {fit.b_crit:.0f}",
        )
        ax.set_xlabel("batch size")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_noise_track(track, *, b_crit: float | None = None) -> Figure:
    """``B_simple`` measured during training (log scale), with test accuracy."""
    fig, ax = plt.subplots()
    ax.semilogy(
        track.steps, track.b_simple, marker="o", color=COLORS[0], label="B_simple"
    )
    if b_crit is not None:
        ax.axhline(
            b_crit,
            color=COLORS[1],
            linestyle=":",
            label=f"fitted B_crit ≈ {b_crit:.0f}",
        )
    ax.set_xlabel("steps")
    ax.set_ylabel("simple noise scale")
    if np.isfinite(track.accuracy).all():
        twin = ax.twinx()
        twin.plot(track.steps, track.accuracy, color=COLORS[2], linestyle="--")
        twin.set_ylabel("test accuracy (dashed)", color=COLORS[2])
        twin.grid(False)
    ax.legend(loc="center right")
    fig.tight_layout()
    return fig
