"""Animations of gradient descent on a straight-line fit, light enough for a web page.

Used by chapter 4. An animation here is *data-driven*: matplotlib draws the
parts that do not move (the data, the loss contours, the axes) once, as an
SVG image; a small script then draws the parts that move (the current line,
the path of the parameters, the loss so far) from the list of parameters at
every step, over that image. A 100-step animation weighs tens of kilobytes,
where PNG frames would weigh about a megabyte, and it stays sharp at any zoom.

Each panel is its own image with its own overlay, and the panels sit in a
grid that wraps: side by side on a wide screen, stacked on a phone, so that
their labels stay readable at 390 px. The player has a play/pause button and
a frame slider (both keyboard accessible); :func:`final_frame` draws the
last frame as an ordinary figure for print and for readers without scripts.
The player itself (its script, controls and panel layout) is
:mod:`sgdlab.player`, which the explorers of :mod:`sgdlab.explorer` share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ._checks import check_positive_int
from .player import animation_html, check_description
from .plotting.style import series_color
from .regression import LineData, Path, least_squares, loss_grid

#: Default window of the parameter plane: (slope range, intercept range).
PARAM_WINDOW = ((-2.5, 5.5), (-1.0, 13.0))
#: Text of the last frame as a figure: 10 pt throughout (see :func:`_panel_grid`).
_GRID_FONTS = {
    f"{key}": 10
    for key in ("font.size", "legend.fontsize", "xtick.labelsize", "ytick.labelsize")
} | {"axes.titlesize": 10, "axes.labelsize": 10}
#: Coordinates beyond this are clipped before they are written (JSON has no inf).
_CLIP = 1e6


@dataclass(frozen=True)
class LineAnimation:
    """An animation ready to show in a notebook or a page.

    Attributes
    ----------
    html
        A self-contained HTML fragment (image, data, player script).
    n_frames
        Number of frames the slider runs through.
    labels
        The runs shown, in order.
    """

    html: str
    n_frames: int
    labels: tuple[str, ...]

    @property
    def nbytes(self) -> int:
        """Size of the HTML fragment in bytes (UTF-8): its weight on the page."""
        return len(self.html.encode())

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(
        self,
    ) -> str:  # the HTML is long; a notebook's text view needs only this
        return (
            f"<LineAnimation: {self.n_frames} frames of {', '.join(self.labels)}; "
            f"{self.nbytes / 1e3:.0f} kB>"
        )


def _check_runs(runs: Mapping[str, Path]) -> list[tuple[str, Path]]:
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty mapping of label -> Path")
    items = list(runs.items())
    for label, path in items:
        if not isinstance(path, Path):
            raise ValueError(f"run {label!r} is not a sgdlab.regression.Path")
    return items


def _frame_steps(steps: int, frames: int | None) -> np.ndarray:
    """Which step each frame shows: all of them, or ``frames`` spread evenly."""
    if frames is None:
        return np.arange(steps + 1)
    frames = check_positive_int(frames, "frames")
    if frames < 2:
        raise ValueError(f"frames must be at least 2 (start and end), got {frames}")
    return np.unique(np.linspace(0, steps, min(frames, steps + 1)).round().astype(int))


def _panel_grid(n_axes: int) -> tuple[Figure, list]:
    """Panels two by two (the last frame as a figure): the loss panel spans the
    bottom row when there are three. About 5 in wide, so that its 10 pt text
    reads at 9 px or more on a phone."""
    fig = plt.figure(figsize=(5.0, 5.4), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    top = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])]
    if n_axes == 4:
        return fig, [*top, fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])]
    return fig, [*top, fig.add_subplot(grid[1, :])]


def draw_static(
    data: LineData,
    items: list[tuple[str, Path]],
    zoom: float | None,
    window=PARAM_WINDOW,
    legend: bool = True,
    grid: bool = False,
) -> tuple[Figure, list]:
    """The parts that do not move, and the axes they live in: in a row (the
    player cuts it into panels) or two by two (``grid``, a figure). With several
    runs and ``legend``, a legend of the runs: on the loss panel in a row, under
    the whole figure in a grid."""
    n_axes = 4 if zoom else 3
    if grid:
        fig, axes = _panel_grid(n_axes)
    else:
        fig, axes = plt.subplots(1, n_axes, figsize=(3.1 * n_axes, 3.2))
    ax_data, ax_params, ax_loss = axes[0], axes[1], axes[2]
    best = least_squares(data)

    ax_data.scatter(data.x, data.y, s=8, color="0.45", lw=0)
    ax_data.set(
        xlim=(-1.05, 1.05),
        ylim=(min(data.y.min(), 0) - 1, data.y.max() + 1),
        xlabel="x",
        ylabel="y",
        title="data and current line",
    )

    def contours(ax, slopes, intercepts, title):
        a = np.linspace(*slopes, 160)
        c = np.linspace(*intercepts, 160)
        grid = loss_grid(data, a, c)
        levels = np.geomspace(max(grid.min(), 1e-3) * 1.5, grid.max(), 12)
        ax.contour(a, c, grid, levels=levels, colors="0.6", linewidths=0.7)
        ax.plot(*best, marker="*", color="black", ms=10, ls="none")
        ax.set(
            xlim=slopes,
            ylim=intercepts,
            xlabel="slope",
            ylabel="intercept",
            title=title,
        )

    contours(ax_params, *window, "path over MSE contours")
    if zoom:
        zs = (best[0] - zoom, best[0] + zoom)
        zc = (best[1] - zoom, best[1] + zoom)
        contours(axes[3], zs, zc, "near the minimum")

    steps = max(p.steps for _, p in items)
    finite = np.concatenate([p.losses[np.isfinite(p.losses)] for _, p in items])
    low = max(finite.min(), 1e-4)
    high = max(p.losses[0] for _, p in items)
    ax_loss.set(
        xlim=(0, steps),
        ylim=(low / 2, high * 5),
        yscale="log",
        xlabel="step",
        ylabel="MSE",
        title="loss so far",
    )
    handles = [
        Line2D([], [], color=series_color(label, i), lw=2)
        for i, (label, _) in enumerate(items)
    ]
    labels = [label for label, _ in items]
    if legend and len(items) > 1 and grid:
        fig.legend(handles, labels, loc="outside lower center", ncols=4)
    elif legend and len(items) > 1:  # the panels stack on a phone: a legend in two
        ax_loss.legend(handles, labels, fontsize=7, loc="upper right")
        ax_data.legend(handles, labels, fontsize=7, loc="upper left", ncols=2)
    for ax in axes:
        ax.grid(False)
    if not grid:
        fig.tight_layout()
    return fig, list(axes)


def _diverged(path: Path) -> bool:
    """Whether a run ends above the loss it started from (or at no finite loss)."""
    last = path.losses[-1]
    return not np.isfinite(last) or last > path.losses[0]


def _drawing_order(items: list[tuple[str, Path]]) -> list[int]:
    """Indices of the runs in the order they are drawn: runs that diverge first,
    so that their wide swings lie under the paths that converge."""
    return sorted(range(len(items)), key=lambda i: not _diverged(items[i][1]))


def _rounded(values: np.ndarray) -> list:
    clipped = np.clip(
        np.nan_to_num(values, nan=_CLIP, posinf=_CLIP, neginf=-_CLIP), -_CLIP, _CLIP
    )
    return [float(f"{v:.4g}") for v in clipped.ravel()]


def animate_descent(
    data: LineData,
    runs: Mapping[str, Path],
    *,
    description: str,
    frames: int | None = None,
    interval_ms: int = 80,
    zoom: float | None = None,
    window=PARAM_WINDOW,
) -> LineAnimation:
    """Build a player for one or several descent runs on the same data (chapter 4).

    Parameters
    ----------
    data
        The points being fitted.
    runs
        Label → :class:`~sgdlab.regression.Path`; several runs are drawn in
        different colours on the same axes.
    description
        Text alternative of the animation (alt text of its image and an
        ``aria-label``): say what happens, not what it looks like.
    frames
        Number of frames; ``None`` shows every step.
    interval_ms
        Time between frames when playing.
    zoom
        If given, add a fourth panel of half-width ``zoom`` around the
        least-squares solution, where the jitter of SGD shows.
    window
        ``((slope_min, slope_max), (intercept_min, intercept_max))`` of the
        parameter panel.
    """
    items = _check_runs(runs)
    check_description(description)
    interval_ms = check_positive_int(interval_ms, "interval_ms")
    steps = max(p.steps for _, p in items)
    frame_steps = _frame_steps(steps, frames)
    fig, axes = draw_static(data, items, zoom, window)
    spec = {
        "frames": frame_steps.tolist(),
        "interval": interval_ms,
        "runs": [
            {
                "label": items[i][0],
                "color": series_color(items[i][0], i),
                "steps": items[i][1].steps,
                "theta": _rounded(items[i][1].thetas),
                "loss": _rounded(items[i][1].losses),
            }
            | ({"opacity": 0.55, "width": 0.6} if _diverged(items[i][1]) else {})
            for i in _drawing_order(items)
        ],
    }
    kinds = ["line", "path", "loss", "path"][: len(axes)]
    fragment = animation_html(fig, axes, kinds, spec, description)
    return LineAnimation(fragment, len(frame_steps), tuple(label for label, _ in items))


def final_frame(
    data: LineData,
    runs: Mapping[str, Path],
    *,
    zoom: float | None = None,
    window=PARAM_WINDOW,
) -> Figure:
    """The last frame of :func:`animate_descent` as an ordinary figure, its
    panels two by two (chapter 4)."""
    items = _check_runs(runs)
    with plt.rc_context(_GRID_FONTS):
        fig, axes = draw_static(data, items, zoom, window, grid=True)
    xs = np.array([-1.05, 1.05])
    for i in _drawing_order(items):
        label, path = items[i]
        # A run that diverges is drawn first, faint and thin, under the others.
        color, alpha = series_color(label, i), 0.55 if _diverged(path) else 1.0
        slope, intercept = np.clip(path.thetas[-1], -_CLIP, _CLIP)
        axes[0].plot(xs, slope * xs + intercept, color=color, lw=2, alpha=alpha)
        for ax in axes[1:2] + axes[3:]:
            thetas = np.clip(path.thetas, -_CLIP, _CLIP)
            lw = 0.8 if _diverged(path) else 1.3
            ax.plot(thetas[:, 0], thetas[:, 1], color=color, lw=lw, alpha=alpha)
            ax.plot(*thetas[-1], "o", color=color, ms=5, alpha=alpha)
        axes[2].plot(
            np.arange(path.steps + 1),
            np.clip(path.losses, 0, _CLIP),
            color=color,
            lw=1.5,
            alpha=alpha,
        )
    return fig
