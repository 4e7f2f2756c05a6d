"""Figures of the book, drawn from results that other modules computed.

Nothing is computed here that a chapter states as a result: each function
takes histories or measurements and returns a :class:`matplotlib.figure.Figure`.
Used by chapters 1 and 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure

from .metrics import Roughness
from .simulation import MonteCarloRMSE
from .training import History, RMSEReport

#: Okabe–Ito colours, distinguishable with the common colour-vision deficiencies.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


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
        ax.plot(
            epochs, h.epoch_loss, color=COLORS[i % len(COLORS)], label=_label(h, lab)
        )
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
    fig, ax = plt.subplots()
    for i, (h, lab) in enumerate(zip(histories, labels, strict=True)):
        ax.plot(
            h.calls, h.full_loss, color=COLORS[i % len(COLORS)], label=_label(h, lab)
        )
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
        ax.plot(
            r.batch_sizes[keep],
            r.std[keep],
            "o-",
            color=color,
            ms=4,
            label=f"spread, {lab}",
        )
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
    ax.annotate(
        "sqrt(2/π)",
        (b[0], np.sqrt(2 / np.pi)),
        textcoords="offset points",
        xytext=(4, -12),
        fontsize=8,
        color="0.4",
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
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_frozen_rmse(
    batch_sizes: np.ndarray,
    averaged: np.ndarray,
    accumulated: np.ndarray,
    gaussian: np.ndarray | None = None,
) -> Figure:
    """A fixed model's RMSE reported two ways against the batch size (chapter 2)."""
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
        ax.plot(batch_sizes, gaussian, ":", color="0.3", label="Gaussian errors, exact")
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
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


# --- optimization-landscape chapters ---------------------------------------------------------


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


def _contours(ax, w0, w1, Z, levels: int | np.ndarray = 20) -> None:
    cs = ax.contourf(w0, w1, Z, levels=levels, cmap="viridis", alpha=0.85)
    cs.set_rasterized(True)
    ax.contour(w0, w1, Z, levels=levels, colors="white", linewidths=0.3, alpha=0.6)


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
    ax
        Draw into this axes instead of a new figure.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.6, 4.4))
    else:
        fig = ax.figure
    _contours(ax, w0, w1, Z, levels)
    for i, (label, pts) in enumerate((paths or {}).items()):
        pts = np.asarray(pts)
        color = COLORS[(i + 1) % len(COLORS)]
        ax.plot(pts[:, 0], pts[:, 1], "-", color=color, lw=1.6, label=label)
        ax.plot(pts[-1, 0], pts[-1, 1], "o", color=color, ms=5, mec="white")
        ax.plot(pts[0, 0], pts[0, 1], "s", color="white", ms=5, mec="black")
    for j, (point, label) in enumerate(markers):
        ax.plot(point[0], point[1], "X", color="white", mec="black", ms=9)
        offset = (
            7,
            6 if j % 2 == 0 else -14,
        )  # alternate, so that close points stay legible
        text = ax.annotate(
            label,
            (point[0], point[1]),
            textcoords="offset points",
            xytext=offset,
            fontsize=8,
            color="black",
        )
        text.set_path_effects(
            [patheffects.withStroke(linewidth=2.5, foreground="white")]
        )
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
            color=COLORS[i % len(COLORS)],
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


# --------------------------------------------------------------------------
# Chapter 3: batch size and training time
# --------------------------------------------------------------------------
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
