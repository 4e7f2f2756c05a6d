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
