"""Tests of sgdlab.step_time: step timers, the fit t0 + b·t1 and its optimal batch size."""

from __future__ import annotations

import numpy as np
import pytest
from sgdlab import models, step_time
from torch import nn


def test_flops_per_row_counts_each_linear_layer():
    model = models.make_digit_mlp()
    assert step_time.flops_per_row(model) == 4 * 784 * 256 + 6 * 256 * 10
    with pytest.raises(ValueError, match="nn.Linear"):
        step_time.flops_per_row(nn.Sequential(nn.ReLU()))


def test_both_loaders_time_the_same_step(digits):
    model = models.make_digit_mlp()
    X, y = digits.X_train[:256], digits.y_train[:256]
    for loader in ("index", "dataloader"):
        t = step_time.time_steps(model, X, y, 64, n_steps=4, loader=loader, repeats=1)
        assert 0 < t < 1


def test_step_time_fit_recovers_known_t0_t1():
    rng = np.random.default_rng(0)
    t0, t1 = 250e-6, 11e-6
    b = np.array([1, 2, 4, 16, 64, 256, 1024, 4096, 60000])
    noisy = (t0 + b * t1) * rng.lognormal(0, 0.03, b.size)
    fit = step_time.fit_step_time(b, noisy)
    assert fit.t0 == pytest.approx(t0, rel=0.1)
    assert fit.t1 == pytest.approx(t1, rel=0.05)
    exact = step_time.fit_step_time(b, t0 + b * t1)
    assert exact.t0 == pytest.approx(t0, rel=1e-9) and exact.t1 == pytest.approx(
        t1, rel=1e-9
    )
    assert exact.epoch_seconds(60000, 1000) == pytest.approx(60 * (t0 + 1000 * t1))
    assert exact.balance == pytest.approx(t0 / t1)


def test_step_time_fit_refuses_bad_input():
    with pytest.raises(ValueError, match="two or more"):
        step_time.fit_step_time([4, 4], [1e-3, 1e-3])
    with pytest.raises(ValueError, match="positive"):
        step_time.fit_step_time([1, 4], [0, 1e-3])
    with pytest.raises(ValueError, match="t0="):
        step_time.fit_step_time(
            [1, 2, 4], [3e-3, 2e-3, 1e-3]
        )  # time falling with batch


def test_optimal_batch_size_minimizes_the_model():
    b_noise, t0, t1 = 30.0, 250e-6, 11e-6
    grid = np.geomspace(1, 1e4, 100_001)
    total = (1 + b_noise / grid) * (t0 + grid * t1)
    best = grid[np.argmin(total)]
    assert step_time.optimal_batch_size(b_noise, t0, t1) == pytest.approx(
        best, rel=1e-3
    )
    with pytest.raises(ValueError, match="t1"):
        step_time.optimal_batch_size(30, 1e-4, 0)


def test_step_times_measure_every_setup_at_every_size(digits):
    X, y = digits.X_train[:512], digits.y_train[:512]
    setups = {
        "index": (models.make_digit_mlp(), "index"),
        "dataloader": (models.make_digit_mlp(), "dataloader"),
    }
    seconds = step_time.step_times(setups, X, y, [1, 64], rounds=2, rows=64)
    assert set(seconds) == {"index", "dataloader"}
    for s in seconds.values():
        assert s.shape == (2,) and (s > 0).all()
    assert step_time.steps_for(1) == 400 and step_time.steps_for(60_000) == 1
    assert step_time.steps_for(64, rows=4096) == 64


def test_batching_alone_is_timed_for_both_loaders(digits):
    X, y = digits.X_train[:256], digits.y_train[:256]
    for loader in ("index", "dataloader"):
        assert 0 < step_time.time_batching(X, y, 8, n_batches=5, loader=loader) < 1
    with pytest.raises(ValueError, match="loader"):
        step_time.time_batching(X, y, 8, n_batches=5, loader="fast")
