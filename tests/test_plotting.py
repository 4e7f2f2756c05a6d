"""Tests of sgdlab.plotting: figures show what they are given."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sgdlab import plotting
from sgdlab.metrics import Roughness
from sgdlab.training import History


def _history(b, losses):
    h = History(b)
    h.epoch_loss = list(losses)
    h.full_loss = list(losses)
    h.calls = list(range(1, len(losses) + 1))
    h.steps = list(h.calls)
    return h


def test_loss_vs_epochs_draws_one_curve_per_run_and_the_target():
    runs = [_history(506, [3.0, 2.0, 1.0]), _history(50, [2.0, 1.0, 0.5])]
    fig = plotting.plot_loss_vs_epochs(runs, target=1.0, reached=2)
    ax = fig.axes[0]
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) == 3]
    assert len(curves) == 2
    np.testing.assert_array_equal(curves[1].get_ydata(), [2.0, 1.0, 0.5])
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "batch of 506",
        "batch of 50",
    ]
    assert any(t.get_text() == "epoch 2" for t in ax.texts)
    plt.close(fig)


def test_loss_vs_calls_is_log_log():
    fig = plotting.plot_loss_vs_calls([_history(10, [1.0, 0.5])], ["x"])
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2])
    plt.close(fig)


def test_roughness_skips_zero_spread_on_log_axis():
    r = Roughness(
        np.array([1, 2, 4]), np.ones(3), np.array([2.0, 1.0, 0.0]), np.array([4, 2, 1])
    )
    fig = plotting.plot_roughness(
        [r], ["file order"], reference=(np.arange(1, 5), np.ones(4))
    )
    (spread,) = [
        line
        for line in fig.axes[0].get_lines()
        if line.get_label() == "spread, file order"
    ]
    np.testing.assert_array_equal(spread.get_xdata(), [1, 2])
    plt.close(fig)


def test_labels_must_match_runs():
    with pytest.raises(ValueError):
        plotting.plot_loss_vs_calls([_history(1, [1.0])], ["a", "b"])


def test_glue_figure_closes_the_figure():
    fig, _ = plt.subplots()
    plotting.glue_figure("test-figure", fig)
    assert fig.number not in plt.get_fignums()


def test_chapter2_figures():
    from sgdlab.simulation import simulate_batch_rmse
    from sgdlab.training import RMSEReport

    b = np.array([1, 10, 100])
    fig = plotting.plot_rmse_ratio(b, np.array([0.8, 0.97, 0.997]), {"two": np.ones(3)})
    assert (
        fig.axes[0].get_xscale() == "log"
        and len(fig.axes[0].get_legend().get_texts()) == 2
    )
    plt.close(fig)
    mc = simulate_batch_rmse(1.0, [1, 4], n_batches=100)
    fig = plotting.plot_monte_carlo(mc, np.array([0.8, 0.9]))
    assert len(fig.axes[0].get_legend().get_texts()) == 2
    plt.close(fig)
    fig = plotting.plot_frozen_rmse(
        b, np.array([0.5, 0.6, 0.7]), np.full(3, 0.7), np.ones(3)
    )
    assert len(fig.axes[0].get_lines()) == 3
    plt.close(fig)
    reports = [RMSEReport(0.5, 0.6, 0.4), RMSEReport(0.9, 0.9, 0.85)]
    fig = plotting.plot_rmse_reports([1, 506], reports)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [0.5, 0.9, 0.6, 0.9, 0.4, 0.85]
    plt.close(fig)


def test_landscape_figures_draw_the_paths_they_are_given():
    from sgdlab import landscape, lr_finder, optim

    w0 = w1 = np.linspace(-5, 5, 30)
    Z = landscape.evaluate_grid(landscape.pathological_loss, w0, w1)
    run = landscape.trajectory(
        landscape.pathological_loss, (-4, 4), lambda p: optim.GD(p), 5
    )
    fig = plotting.plot_contour_paths(
        w0, w1, Z, {"GD": run.points}, markers=[((0, -4.6), "min")]
    )
    ax = fig.axes[0]
    drawn = [line for line in ax.get_lines() if line.get_label() == "GD"]
    assert len(drawn) == 1 and np.allclose(drawn[0].get_xydata(), run.points)
    assert [t.get_text() for t in ax.texts] == ["min"]
    plt.close(fig)
    fig = plotting.plot_surface_3d(w0, w1, Z)
    assert fig.axes[0].name == "3d"
    plt.close(fig)
    result = lr_finder.RangeTest(
        np.geomspace(1e-3, 1, 5), np.arange(5.0), np.arange(5.0), False
    )
    fig = plotting.plot_range_test(result, marks={"pick": 0.01}, stable_limit=0.5)
    assert fig.axes[0].get_xscale() == "log"
    plt.close(fig)
    fig = plotting.plot_loss_curves({"a": [3, 2, 1], "b": [3, 1, 0.5]}, logy=True)
    assert len(fig.axes[0].get_lines()) == 2
    plt.close(fig)


def test_contour_maps_say_what_their_colour_means():
    """Every contour map has a colour bar labelled with what it shows (Figs 5.2,
    5.4, 6.1-6.4, 7.1): the loss, or its logarithm where the chapter passes one."""
    w = np.linspace(-1, 1, 9)
    Z = np.add.outer(w**2, w**2)
    fig = plotting.plot_contour_paths(w, w, Z)
    assert [ax.get_ylabel() for ax in fig.axes] == ["$w_1$", "loss"]
    plt.close(fig)
    fig = plotting.plot_contour_stack(
        w,
        w,
        [{"Z": Z, "title": "all rows"}, {"Z": Z, "title": "one batch"}],
        zlabel="$\\log_{10}$ MSE",
    )
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert [ax.get_ylabel() for ax in bars] == ["$\\log_{10}$ MSE"] * 2
    titles = [ax.get_title() for ax in fig.axes if ax not in bars]
    assert titles == ["all rows", "one batch"]
    plt.close(fig)
