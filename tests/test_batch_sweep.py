"""Tests of sgdlab.batch_sweep: the batch-size grid, its refinement and the rate tuner."""

from __future__ import annotations

import math

import pytest
from sgdlab import batch_sweep


def test_sweep_grid_and_refinement():
    assert batch_sweep.initial_grid(60_000) == [64, 128, 256, 512, 1024]
    assert batch_sweep.initial_grid(4000) == [16, 32, 64, 128, 256]
    assert batch_sweep.initial_grid(10, width=3) == [1, 2, 4, 8]
    assert batch_sweep.refine(256, 60_000) == [192, 384]
    assert batch_sweep.refine(1, 100) == []
    with pytest.raises(ValueError, match="power of two"):
        batch_sweep.refine(96, 1000)
    # A convex cost with its minimum at 180 leads the procedure to 192.
    sweep = batch_sweep.sweep_batch_sizes(
        lambda b: (math.log(b) - math.log(180)) ** 2, 60_000
    )
    assert sweep.initial == [64, 128, 256, 512, 1024]
    assert sweep.refined == [96, 192] and sweep.best == 192
    assert sweep.batch_sizes == sorted(sweep.batch_sizes)


def test_tune_lr_finds_the_grid_minimum_from_any_start():
    steps = {
        0.25: 900.0,
        0.5: 400.0,
        1.0: 250.0,
        2.0: 300.0,
        4.0: None,
    }  # never reached
    calls = []

    class Fake:
        def __init__(self, lr):
            self.lr = lr

        def steps_to(self, target):
            return steps[self.lr]

        def examples_to(self, target):
            return None if steps[self.lr] is None else 10 * steps[self.lr]

        def seconds_to(self, target):
            return None if steps[self.lr] is None else steps[self.lr] / 100

    def train_at(b, lr):
        calls.append(lr)
        return Fake(lr)

    for start in (0.25, 1.0, 4.0):
        calls.clear()
        point = batch_sweep.tune_lr(train_at, 10, list(steps), 0.9, start=start)
        assert point.lr == 1.0 and point.steps == 250 and point.examples == 2500
        assert len(calls) < len(steps) or start == 4.0
