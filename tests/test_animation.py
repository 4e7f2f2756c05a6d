"""Tests of sgdlab.animation: the player carries the requested frames and the
runs' real parameters, stays light, and refuses bad arguments."""

from __future__ import annotations

import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from sgdlab.animation import animate_descent, final_frame
from sgdlab.regression import descend, make_line_data

DESCRIPTION = "Gradient descent moves the intercept first and then the slope."


@pytest.fixture(scope="module")
def data():
    return make_line_data(seed=0)


def _spec(animation):
    payload = re.search(
        r'<script type="application/json">(.*?)</script>', animation.html, re.S
    )
    return json.loads(payload.group(1).replace("<\\/", "</"))


def test_every_step_is_a_frame_by_default(data):
    path = descend(data, steps=100)
    anim = animate_descent(data, {"GD": path}, description=DESCRIPTION)
    spec = _spec(anim)
    assert anim.n_frames == 101 and spec["frames"] == list(range(101))
    np.testing.assert_allclose(
        np.reshape(spec["runs"][0]["theta"], (-1, 2)), path.thetas, rtol=1e-3
    )
    np.testing.assert_allclose(spec["runs"][0]["loss"], path.losses, rtol=1e-3)
    assert 'type="range"' in anim.html and "<button" in anim.html
    assert f'max="{anim.n_frames - 1}"' in anim.html


@pytest.mark.parametrize("frames", [2, 10, 30])
def test_requested_frames(data, frames):
    anim = animate_descent(
        data, {"GD": descend(data, steps=100)}, description=DESCRIPTION, frames=frames
    )
    spec = _spec(anim)
    assert anim.n_frames == frames == len(spec["frames"])
    assert spec["frames"][0] == 0 and spec["frames"][-1] == 100


def test_several_runs_and_weight_budget(data):
    runs = {
        f"batch {b}": descend(data, batch_size=b, seed=1)
        for b in (1, 2, 4, 8, 16, 32, 64)
    }
    anim = animate_descent(data, runs, description=DESCRIPTION, zoom=0.6)
    spec = _spec(anim)
    assert [r["label"] for r in spec["runs"]] == list(runs)
    assert len(spec["axes"]) == 4
    assert anim.nbytes < 250_000  # the whole chapter must stay under 4 MB
    assert len({r["color"] for r in spec["runs"]}) == 7


def test_divergent_runs_stay_valid_json(data):
    path = descend(data, lr=3.0, steps=1000)  # overflows to inf, then nan
    assert not np.all(np.isfinite(path.thetas))
    spec = _spec(animate_descent(data, {"lr 1": path}, description=DESCRIPTION))
    assert max(abs(v) for v in spec["runs"][0]["theta"]) <= 1e6


def test_text_alternative_is_carried(data):
    anim = animate_descent(data, {"GD": descend(data)}, description=DESCRIPTION)
    assert (
        f'alt="{DESCRIPTION}"' in anim.html
        and f'aria-label="{DESCRIPTION}"' in anim.html
    )


def test_final_frame_draws_the_last_state(data):
    path = descend(data, steps=50)
    fig = final_frame(data, {"GD": path})
    params = fig.axes[1]
    drawn = [line for line in params.get_lines() if len(line.get_xdata()) == 51]
    np.testing.assert_allclose(drawn[0].get_xdata(), path.thetas[:, 0])
    plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"runs": {}}, "non-empty"),
        ({"runs": {"x": 3}}, "Path"),
        ({"frames": 0}, "frames"),
        ({"frames": 1}, "frames"),
        ({"description": "short"}, "description"),
        ({"interval_ms": 0}, "interval_ms"),
    ],
)
def test_bad_arguments(data, kwargs, message):
    args = {"runs": {"GD": descend(data, steps=5)}, "description": DESCRIPTION}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        animate_descent(data, **args)


def test_a_diverging_run_lies_under_the_others(data):
    """Fig 4.5/4.6: the run at lr 1.0 swings ever wider; drawn last and solid it
    hid the two that converge. It is drawn first, faint and thin, in the player
    and in the last frame, and keeps its colour and legend place."""
    runs = {f"lr {lr}": descend(data, lr=lr, steps=30) for lr in (0.01, 0.1, 1.0)}
    assert runs["lr 1.0"].losses[-1] > runs["lr 1.0"].losses[0]  # it diverges
    spec = _spec(animate_descent(data, runs, description=DESCRIPTION))
    assert [r["label"] for r in spec["runs"]] == ["lr 1.0", "lr 0.01", "lr 0.1"]
    assert spec["runs"][0]["opacity"] < 1 and spec["runs"][0]["width"] < 1
    assert "opacity" not in spec["runs"][1] and "opacity" not in spec["runs"][2]
    fig = final_frame(data, runs)
    loss_lines = fig.axes[2].get_lines()
    assert [line.get_alpha() for line in loss_lines] == [0.55, 1.0, 1.0]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["lr 0.01", "lr 0.1", "lr 1.0"]
    plt.close(fig)
