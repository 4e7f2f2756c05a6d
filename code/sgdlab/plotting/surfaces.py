"""Figures of the landscape chapters (5 to 7): loss surfaces in 3-D and as
contours with optimizer paths on them, loss curves, and the learning-rate range
test.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure

from .style import COLORS, series_color


def plot_surface_3d(
    w0: np.ndarray,
    w1: np.ndarray,
    Z: np.ndarray,
    *,
    zlabel: str = "loss",
    elev: float = 30,
    azim: float = -60,
) -> Figure:
    """A loss surface in 3-D (the surface itself rasterized to keep the SVG small).

    ``Z`` has shape ``(len(w1), len(w0))``, as :func:`sgdlab.landscape.evaluate_grid`
    returns it.
    """
    fig = plt.figure(figsize=(6.4, 4.4))
    ax = fig.add_subplot(projection="3d")
    W0, W1 = np.meshgrid(w0, w1)
    ax.plot_surface(
        W0, W1, Z, cmap="viridis", linewidth=0, antialiased=False, rasterized=True
    )
    ax.view_init(elev=elev, azim=azim)
    ax.set_xlabel("w0")
    ax.set_ylabel("w1")
    ax.set_zlabel(zlabel)
    fig.subplots_adjust(left=0, right=0.95, bottom=0.02, top=1)
    return fig


def _mark_points(ax, markers: Sequence[tuple[Sequence[float], str]]) -> None:
    """Labelled crosses at ``(point, label)`` pairs, labels above and below in turn
    so that close points stay legible."""
    for j, (point, label) in enumerate(markers):
        ax.plot(point[0], point[1], "X", color="white", mec="black", ms=9)
        text = ax.annotate(
            label,
            (point[0], point[1]),
            textcoords="offset points",
            xytext=(7, 6 if j % 2 == 0 else -14),
            fontsize=8,
            color="black",
        )
        text.set_path_effects(
            [patheffects.withStroke(linewidth=2.5, foreground="white")]
        )


def plot_contour_paths(
    w0: np.ndarray,
    w1: np.ndarray,
    Z: np.ndarray,
    paths: dict[str, np.ndarray] | None = None,
    *,
    markers: Sequence[tuple[Sequence[float], str]] = (),
    levels: int | np.ndarray = 20,
    labels: tuple[str, str] = ("w0", "w1"),
    ax=None,
) -> Figure:
    """Filled contours of ``Z`` (shape ``(len(w1), len(w0))``) over the grid
    ``w0``, ``w1``, with optimizer ``paths`` (legend label → ``(steps + 1, 2)``
    array of the points visited: a square at the start, a dot at the end) and
    ``markers``, ``(point, label)`` pairs (critical points); into ``ax`` if given.
    """
    fig, ax = plt.subplots(figsize=(5.6, 4.4)) if ax is None else (ax.figure, ax)
    filled = ax.contourf(w0, w1, Z, levels=levels, cmap="viridis", alpha=0.85)
    filled.set_rasterized(True)  # an image inside the SVG: smaller than the polygons
    ax.contour(w0, w1, Z, levels=levels, colors="white", linewidths=0.3, alpha=0.6)
    for i, (label, pts) in enumerate((paths or {}).items()):
        pts = np.asarray(pts)
        color = series_color(label, i + 1)
        ax.plot(pts[:, 0], pts[:, 1], "-", color=color, lw=1.6, label=label)
        ax.plot(pts[-1, 0], pts[-1, 1], "o", color=color, ms=5, mec="white")
        ax.plot(pts[0, 0], pts[0, 1], "s", color="white", ms=5, mec="black")
    _mark_points(ax, markers)
    ax.set_xlim(w0[0], w0[-1])
    ax.set_ylim(w1[0], w1[-1])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.grid(False)
    if paths:
        ax.legend(fontsize=8, loc="lower left", framealpha=0.85, frameon=True)
    fig.tight_layout()
    return fig


def plot_loss_curves(
    curves: dict[str, np.ndarray],
    *,
    logy: bool = False,
    xlabel: str = "step",
    ylabel: str = "loss",
) -> Figure:
    """Loss against step for several optimizers or settings."""
    fig, ax = plt.subplots()
    styles = ["-", "--", "-.", ":"]
    for i, (label, losses) in enumerate(curves.items()):
        ax.plot(
            np.asarray(losses),
            ls=styles[i % len(styles)],
            color=series_color(label, i),
            lw=1.6,
            label=label,
        )
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_range_test(
    result,
    *,
    marks: dict[str, float] | None = None,
    stable_limit: float | None = None,
    logy: bool = True,
) -> Figure:
    """Raw and smoothed loss of a learning-rate range test against the rate (log axis).

    ``result`` is a :class:`sgdlab.lr_finder.RangeTest`; ``marks`` maps a label
    to a rate drawn as a vertical line; ``stable_limit`` shades rates above it.
    The loss axis is logarithmic by default: the last steps of a range test
    blow the loss up by orders of magnitude, and on a linear axis the valley
    that the suggestion comes from would be a flat line at the bottom.
    """
    fig, ax = plt.subplots()
    ax.plot(result.lrs, result.losses, color="0.65", lw=0.8, label="loss at each step")
    ax.plot(
        result.lrs,
        result.smoothed,
        color=COLORS[0],
        lw=2,
        label="smoothed (EMA, debiased)",
    )
    for i, (label, lr) in enumerate((marks or {}).items()):
        ax.axvline(
            lr, color=COLORS[(i + 1) % len(COLORS)], ls="--", lw=1.2, label=label
        )
    if stable_limit is not None:
        ax.axvspan(
            stable_limit,
            result.lrs[-1],
            color=COLORS[1],
            alpha=0.08,
            label="unstable for GD",
        )
    ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss (log scale)" if logy else "loss")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
