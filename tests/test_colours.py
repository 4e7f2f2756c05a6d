"""One colour per optimizer, from one table (sgdlab.plotting.style.OPTIMIZER_COLORS),
in every figure and explorer that compares optimizers (chapter 6)."""

from __future__ import annotations

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest
from sgdlab.plotting import style
from sgdlab.plotting.surfaces import plot_contour_paths, plot_loss_curves

W = np.linspace(-1, 1, 5)
Z = np.add.outer(W**2, W**2)
PATH = np.array([[0.5, 0.5], [0.2, 0.1], [0.0, 0.0]])
LOSSES = np.array([1.0, 0.5, 0.25])


def _line_colours(fig) -> dict[str, str]:
    """Legend label -> colour (hex) of each labelled line of the figure's first axes."""
    ax = fig.axes[0]
    colours = {
        line.get_label(): mcolors.to_hex(line.get_color())
        for line in ax.get_lines()
        if not line.get_label().startswith("_")
    }
    plt.close(fig)
    return colours


@pytest.mark.parametrize(
    "label, optimizer",
    [
        ("GD, lr 0.6", "GD"),
        ("GD + momentum 0.9, lr 3.0", "GD + momentum"),
        ("RMSProp, lr 0.6", "RMSProp"),
        ("Adam", "Adam"),
        ("SGD, batch 1", None),  # a method, not chapter 6's optimizer
        ("lr 0.1", None),
    ],
)
def test_a_label_names_its_optimizer(label, optimizer):
    assert style.optimizer_of(label) == optimizer


def test_an_optimizer_keeps_its_colour_from_figure_to_figure():
    """Chapter 6's figures: GD with momentum (Fig 6.1), GD with RMSProp (Fig 6.2),
    the four racing (paths and losses). RMSProp was green in one and purple in
    another when colours went by position."""
    momentum = _line_colours(
        plot_contour_paths(W, W, Z, {"GD, lr 3.0": PATH, "GD + momentum 0.9": PATH})
    )
    rmsprop = _line_colours(
        plot_contour_paths(W, W, Z, {"GD, lr 0.6": PATH, "RMSProp, lr 0.6": PATH})
    )
    four = {name: PATH for name in style.OPTIMIZER_COLORS}
    race = _line_colours(plot_contour_paths(W, W, Z, four))
    losses = _line_colours(plot_loss_curves({k: LOSSES for k in four}))
    table = {k: v.lower() for k, v in style.OPTIMIZER_COLORS.items()}
    assert race == table and losses == table
    assert momentum == {
        "GD, lr 3.0": table["GD"],
        "GD + momentum 0.9": table["GD + momentum"],
    }
    assert rmsprop == {"GD, lr 0.6": table["GD"], "RMSProp, lr 0.6": table["RMSProp"]}
    assert len(set(table.values())) == len(table)  # four different colours


def test_other_series_keep_their_colours_by_position():
    """Labels that name no optimizer (learning rates, schedules) take the palette
    in order, as before: other chapters' figures do not change."""
    paths = _line_colours(plot_contour_paths(W, W, Z, {"lr 0.1": PATH, "lr 1": PATH}))
    curves = _line_colours(plot_loss_curves({"step": LOSSES, "cosine": LOSSES}))
    palette = [c.lower() for c in style.COLORS]
    assert list(paths.values()) == palette[1:3]
    assert list(curves.values()) == palette[0:2]


def test_the_explorer_draws_each_optimizer_in_its_table_colour():
    from sgdlab import explorer

    race = explorer.optimizer_explorer(
        description=(
            "Explorer of a short race of the four optimizers on the test surface, "
            "with the paths over the contours and their losses."
        ),
        steps=5,
        lrs=(0.3, 1.0),
        momenta=(0.5, 0.9),
    )
    drawn = {(r["optimizer"], bool(r["kwargs"])): r["color"] for r in race.records}
    assert (
        len(race.records) == 2 * 5
    )  # two rates: GD, RMSProp, Adam, momentum at two betas
    assert drawn == {
        ("GD", False): style.OPTIMIZER_COLORS["GD"],
        ("GD", True): style.OPTIMIZER_COLORS["GD + momentum"],
        ("RMSProp", False): style.OPTIMIZER_COLORS["RMSProp"],
        ("Adam", False): style.OPTIMIZER_COLORS["Adam"],
    }


# -- One colour per batch size and per method (chapters 1, 3 and 4) ----------


@pytest.mark.parametrize(
    "label, batch",
    [
        ("batch 16", (16, False)),
        ("batches of 50 rows", (50, False)),
        ("batch of 4", (4, False)),
        ("one batch of 506 rows", (506, True)),
        ("full batch (1437)", (1437, True)),
        ("lr 0.1", None),
        ("GD, lr 3.0", None),
    ],
)
def test_a_label_names_its_batch_size(label, batch):
    assert style.batch_of(label) == batch


def test_batch_sizes_get_ordered_distinct_colours():
    """Chapter 4 compares seven batch sizes, 1 to 64: seven colours that step
    from dark to light (a larger batch is the lighter colour), each clearly
    apart from its neighbours; a full batch is black."""
    sizes = [1, 2, 4, 8, 16, 32, 64]
    rgb = np.array([mcolors.to_rgb(style.batch_color(b)) for b in sizes])
    luminance = rgb @ [0.2126, 0.7152, 0.0722]
    assert (np.diff(luminance) > 0).all(), luminance
    steps = np.linalg.norm(np.diff(rgb, axis=0), axis=1)
    assert steps.min() > 0.12, steps  # neighbours differ by more than 12% of RGB
    assert style.batch_color(506, full=True) == "#000000"
    assert style.batch_color(128) == style.batch_color(64)  # beyond the range: last
    assert {b: style.batch_color(b) for b in style.BATCH_COLORS} == style.BATCH_COLORS
    with pytest.raises(ValueError, match="batch_size"):
        style.batch_color(0)


def test_a_batch_size_keeps_its_colour_in_chapters_1_3_and_4():
    """Batch 1 in chapter 3's accuracy runs and chapter 4's last frame and
    player; batches of 50 in chapter 1; the full batch black in both."""
    from types import SimpleNamespace

    from sgdlab import animation, regression
    from sgdlab.plotting import batch_size, epochs
    from sgdlab.training import History

    def history(b):
        h = History(b)
        h.epoch_loss = h.full_loss = [2.0, 1.0]
        h.calls = h.steps = [1, 2]
        return h

    ch1 = _line_colours(
        epochs.plot_loss_vs_epochs(
            [history(506), history(50)], ["one batch of 506 rows", "batches of 50 rows"]
        )
    )
    assert ch1 == {
        "one batch of 506 rows": "#000000",
        "batches of 50 rows": style.batch_color(50),
    }
    runs = [
        SimpleNamespace(batch_size=b, epochs=[0, 1], seconds=[0.1, 1], accuracy=[0, 1])
        for b in (1, 64, 1437)
    ]
    ch3 = _line_colours(batch_size.plot_accuracy_runs(runs, n_rows=1437))
    assert ch3 == {
        "batch 1": style.batch_color(1),
        "batch 64": style.batch_color(64),
        "full batch (1437)": "#000000",
    }
    data = regression.make_line_data(seed=0)
    paths = {
        f"batch {b}": regression.descend(data, lr=0.1, steps=5, batch_size=b, seed=1)
        for b in (1, 64)
    }
    frame = animation.final_frame(data, paths, zoom=0.6)
    drawn = {mcolors.to_hex(line.get_color()) for line in frame.axes[2].get_lines()}
    plt.close(frame)
    player = animation.animate_descent(
        data, paths, description="Two batch sizes descend to the same minimum."
    )
    assert drawn == {style.batch_color(1), style.batch_color(64)}
    for b in (1, 64):
        assert style.batch_color(b) in player.html


def test_methods_keep_their_colours():
    """File order and shuffled batches (chapter 1), SGD against GD (chapters 4
    and 7): each method its colour from METHOD_COLORS, GD its optimizer's."""
    from sgdlab.metrics import Roughness
    from sgdlab.plotting import epochs

    sizes = np.array([1, 2, 4])
    rough = Roughness(sizes, np.ones(3), np.ones(3), np.ones(3))
    lines = _line_colours(
        epochs.plot_roughness([rough, rough], ["file order", "shuffled"])
    )
    table = {k: v.lower() for k, v in style.METHOD_COLORS.items()}
    assert (
        lines["spread, file order"] == lines["mean, file order"] == table["file order"]
    )
    assert lines["spread, shuffled"] == lines["mean, shuffled"] == table["shuffled"]
    paths = _line_colours(
        plot_contour_paths(W, W, Z, {"GD (all rows)": PATH, "SGD (batches of 4)": PATH})
    )
    assert paths == {
        "GD (all rows)": style.OPTIMIZER_COLORS["GD"].lower(),
        "SGD (batches of 4)": table["SGD"],
    }


def test_series_that_share_a_table_colour_fall_back_to_the_palette():
    """Three gradient-descent runs at three rates (Fig 5.2) would all be GD's
    colour: they take the palette in order instead."""
    labels = ["GD, lr 3.0", "GD, lr 1.0", "GD, lr 0.1"]
    assert style.series_colors(labels, start=1) == list(style.COLORS[1:4])
    assert style.series_colors(["GD", "Adam"]) == [
        style.OPTIMIZER_COLORS["GD"],
        style.OPTIMIZER_COLORS["Adam"],
    ]
