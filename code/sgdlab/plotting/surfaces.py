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

from .style import COLORS, FIGURE_WIDTH, series_colors


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
    fig = plt.figure(figsize=(FIGURE_WIDTH - 0.2, 3.8))  # its labels stick out
    ax = fig.add_subplot(projection="3d")
    W0, W1 = np.meshgrid(w0, w1)
    ax.plot_surface(
        W0, W1, Z, cmap="viridis", linewidth=0, antialiased=False, rasterized=True
    )
    ax.view_init(elev=elev, azim=azim)
    # Labels set off from the tick labels (mathtext, as in the text).
    ax.set_xlabel("$w_0$", labelpad=6)
    ax.set_ylabel("$w_1$", labelpad=6)
    ax.set_zlabel(zlabel, labelpad=10)
    ax.tick_params(axis="z", pad=6)
    fig.subplots_adjust(left=0, right=0.9, bottom=0.02, top=1)
    return fig


def _contours(ax, w0, w1, Z, levels: int | np.ndarray = 20, zlabel: str = "loss"):
    """Filled contours with a colour bar that says what the colour means."""
    cs = ax.contourf(w0, w1, Z, levels=levels, cmap="viridis", alpha=0.85)
    cs.set_rasterized(True)
    ax.contour(w0, w1, Z, levels=levels, colors="white", linewidths=0.3, alpha=0.6)
    bar = ax.figure.colorbar(cs, ax=ax, label=zlabel, fraction=0.06, pad=0.03)
    bar.solids.set_rasterized(True)
    return cs


def plot_contour_paths(
    w0: np.ndarray,
    w1: np.ndarray,
    Z: np.ndarray,
    paths: dict[str, np.ndarray] | None = None,
    *,
    markers: Sequence[tuple[Sequence[float], str]] = (),
    levels: int | np.ndarray = 20,
    labels: tuple[str, str] = ("$w_0$", "$w_1$"),
    zlabel: str = "loss",
    ax=None,
) -> Figure:
    """Filled contours of a surface with optimizer paths and marked points.

    Long for its parameters (documented below); the drawing is short.

    Parameters
    ----------
    w0, w1, Z
        Grid and values (``Z`` of shape ``(len(w1), len(w0))``).
    paths
        Legend label → ``(steps + 1, 2)`` array of points visited.
    markers
        ``(point, label)`` pairs drawn as labelled markers (critical points).
    zlabel
        What the colour shows, on the colour bar (say "log10" where ``Z`` is).
    ax
        Draw into this axes instead of a new figure.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.7))
    else:
        fig = ax.figure
    _contours(ax, w0, w1, Z, levels, zlabel)
    _draw_paths(ax, paths or {})
    _mark_points(ax, markers, middle=(w0[0] + w0[-1]) / 2)
    ax.set_xlim(w0[0], w0[-1])
    ax.set_ylim(w1[0], w1[-1])
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.grid(False)
    if paths:  # where it hides the least of the paths
        ax.legend(loc="best", framealpha=0.85, frameon=True)
    fig.tight_layout()
    return fig


def _draw_paths(ax, paths: dict[str, np.ndarray]) -> None:
    """Each path in its colour, from a white square to a circle; a path of one
    step is an arrow. Starts go under the paths and ends on top, so that a
    path that barely moves still shows."""
    paths = {label: np.asarray(pts) for label, pts in paths.items()}
    colors = series_colors(list(paths), start=1)
    for pts in paths.values():
        ax.plot(pts[0, 0], pts[0, 1], "s", color="white", ms=6, mec="black", zorder=2)
    for (label, pts), color in zip(paths.items(), colors, strict=True):
        ax.plot(pts[:, 0], pts[:, 1], "-", color=color, lw=1.8, label=label, zorder=3)
        if len(pts) == 2:
            arrow = {
                "arrowstyle": "-|>",
                "color": color,
                "lw": 1.8,
                "mutation_scale": 14,
            }
            ax.annotate("", pts[1], pts[0], arrowprops=arrow, zorder=4)
    for pts, color in zip(paths.values(), colors, strict=True):
        if len(pts) > 2:
            ax.plot(*pts[-1], "o", color=color, ms=6, mec="white", zorder=4)


def _mark_points(ax, markers, middle: float) -> None:
    """Crosses with labels: to the right of a point in the left half of the map,
    to its left in the right half (clear of the colour bar); above and below in
    turn, so that close points stay legible."""
    for j, (point, label) in enumerate(markers):
        ax.plot(point[0], point[1], "X", color="white", mec="black", ms=9, zorder=5)
        right = point[0] > middle
        text = ax.annotate(
            label,
            (point[0], point[1]),
            textcoords="offset points",
            xytext=(-7 if right else 7, 6 if j % 2 == 0 else -14),
            ha="right" if right else "left",
            fontsize=9,
            color="black",
            zorder=5,
        )
        text.set_path_effects(
            [patheffects.withStroke(linewidth=2.5, foreground="white")]
        )


def plot_contour_stack(
    w0: np.ndarray,
    w1: np.ndarray,
    panels: Sequence[dict],
    *,
    labels: tuple[str, str] = ("$w_0$", "$w_1$"),
    zlabel: str = "loss",
) -> Figure:
    """Contour maps over the same grid, one above the other (they stay readable
    on a phone), sharing the horizontal axis; each ``panels`` item holds the
    keyword arguments of :func:`plot_contour_paths` (``Z``, ``paths``,
    ``markers``) and a ``title``."""
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(FIGURE_WIDTH, 3.3 * len(panels)), sharex=True
    )
    for ax, panel in zip(np.atleast_1d(axes), panels, strict=True):
        panel = dict(panel)
        title = panel.pop("title", None)
        plot_contour_paths(w0, w1, ax=ax, labels=labels, zlabel=zlabel, **panel)
        ax.set_title(title)
    for ax in np.atleast_1d(axes)[:-1]:
        ax.set_xlabel("")
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
    colors = series_colors(list(curves))
    for i, ((label, losses), color) in enumerate(
        zip(curves.items(), colors, strict=True)
    ):
        ax.plot(
            np.asarray(losses),
            ls=styles[i % len(styles)],
            color=color,
            lw=1.6,
            label=label,
        )
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
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
    that the suggestion comes from would be a flat line at the bottom. It
    stops a little above the smoothed curve (the raw loss of the last steps
    runs off the top), and the valley, the longest falling stretch of the
    smoothed loss (:attr:`~sgdlab.lr_finder.RangeTest.valley`), is shaded.
    """
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.6))
    ax.plot(result.lrs, result.losses, color="0.65", lw=0.8, label="loss at each step")
    ax.plot(
        result.lrs,
        result.smoothed,
        color=COLORS[0],
        lw=2,
        label="smoothed (EMA, debiased)",
    )
    start, end = result.valley
    ax.axvspan(
        result.lrs[start],
        result.lrs[end],
        color=COLORS[2],
        alpha=0.12,
        label="longest falling stretch",
    )
    for i, (label, lr) in enumerate((marks or {}).items()):
        ax.axvline(
            lr, color=COLORS[(i + 1) % len(COLORS)], ls="--", lw=1.4, label=label
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
        # The smoothed curve fills the height; the raw loss's last spikes leave it.
        smoothed = result.smoothed[np.isfinite(result.smoothed) & (result.smoothed > 0)]
        raw = result.losses[np.isfinite(result.losses) & (result.losses > 0)]
        if smoothed.size and raw.size:
            low = min(0.8 * smoothed.min(), np.percentile(raw, 2))
            ax.set_ylim(low, 1.5 * smoothed.max())
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss (log scale)" if logy else "loss")
    ax.legend(loc="upper center", bbox_to_anchor=(0.45, -0.2), ncols=2)
    fig.tight_layout()
    return fig
