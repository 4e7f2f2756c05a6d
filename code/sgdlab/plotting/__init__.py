"""Figures of the book, drawn from results that other modules computed.

Nothing is computed here that a chapter states as a result: each function
takes histories or measurements and returns a :class:`matplotlib.figure.Figure`.
The chapters use ``from sgdlab import plotting``; the figures live in one
module per part of the course:

:mod:`sgdlab.plotting.style`
    Colours, matplotlib defaults with repeatable SVG, and the glue helpers.
:mod:`sgdlab.plotting.epochs`
    Chapters 1 and 2: loss per epoch and per call, roughness, epoch RMSE.
:mod:`sgdlab.plotting.batch_size`
    Chapter 3: epoch times, accuracy runs, time to target, noise scale.
:mod:`sgdlab.plotting.surfaces`
    Chapters 5 to 7: loss surfaces, optimizer paths, loss curves, range test.
"""

from .batch_size import (
    plot_accuracy_runs,
    plot_epoch_times,
    plot_noise_track,
    plot_steps_examples,
    plot_time_to_target,
)
from .epochs import (
    plot_frozen_rmse,
    plot_loss_vs_calls,
    plot_loss_vs_epochs,
    plot_monte_carlo,
    plot_rmse_ratio,
    plot_rmse_reports,
    plot_roughness,
)
from .style import (
    BATCH_COLORS,
    COLORS,
    METHOD_COLORS,
    OPTIMIZER_COLORS,
    SVG_HASHSALT,
    SVG_METADATA,
    batch_color,
    glue_figure,
    glue_value,
    use_book_style,
)
from .surfaces import (
    plot_contour_paths,
    plot_contour_stack,
    plot_loss_curves,
    plot_range_test,
    plot_surface_3d,
)

__all__ = [
    "BATCH_COLORS",
    "COLORS",
    "METHOD_COLORS",
    "OPTIMIZER_COLORS",
    "batch_color",
    "SVG_HASHSALT",
    "SVG_METADATA",
    "glue_figure",
    "glue_value",
    "plot_accuracy_runs",
    "plot_contour_paths",
    "plot_contour_stack",
    "plot_epoch_times",
    "plot_frozen_rmse",
    "plot_loss_curves",
    "plot_loss_vs_calls",
    "plot_loss_vs_epochs",
    "plot_monte_carlo",
    "plot_noise_track",
    "plot_range_test",
    "plot_rmse_ratio",
    "plot_rmse_reports",
    "plot_roughness",
    "plot_steps_examples",
    "plot_surface_3d",
    "plot_time_to_target",
    "use_book_style",
]
