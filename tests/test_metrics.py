"""Tests of sgdlab.metrics: per-batch χ²/N and the roughness of the loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sgdlab.batching import batch_lengths
from sgdlab.metrics import Roughness, loss_roughness, per_batch_loss
from sgdlab.models import make_mlp
from sgdlab.training import evaluate_loss, train


@pytest.fixture(scope="module")
def trained(boston):
    model = make_mlp(12, seed=12345)
    train(model, boston.X, boston.y, epochs=300, batch_size=50)
    return model


def test_last_batch_is_divided_by_its_real_length(boston, trained):
    values = per_batch_loss(trained, boston.X, boston.y, 50)
    assert len(values) == 11
    with torch.no_grad():
        residual = (trained(boston.X[500:]) - boston.y[500:]).pow(2).sum().item()
    assert values[-1] == pytest.approx(residual / 6, rel=1e-6)


@pytest.mark.parametrize("b", [1, 7, 50, 128, 506])
def test_row_weighted_mean_is_the_data_set_loss(boston, trained, b):
    values = per_batch_loss(trained, boston.X, boston.y, b, shuffle=True, seed=2)
    lengths = np.array(batch_lengths(506, b))
    whole = evaluate_loss(trained, boston.X, boston.y, "mean")
    assert np.average(values, weights=lengths) == pytest.approx(whole, rel=1e-5)


def test_spread_drops_below_the_mean_above_some_batch_size(boston, trained):
    sizes = [2**k for k in range(9)]
    in_order = loss_roughness(trained, boston.X, boston.y, sizes)
    shuffled = loss_roughness(
        trained, boston.X, boston.y, sizes, shuffle=True, repeats=50
    )
    for r in (in_order, shuffled):
        assert r.std[0] > r.mean[0]  # batch of one row: spread above the mean
        crossing = r.crossover()
        assert crossing is not None and 2 <= crossing <= 256
        assert np.all(r.std[sizes.index(crossing) :] < r.mean[sizes.index(crossing) :])
    # consecutive rows are similar, so file-order batches are rougher
    assert in_order.crossover() > shuffled.crossover()


def test_shuffled_spread_follows_independent_rows(boston, trained):
    """For random batches the spread is s/sqrt(b)·sqrt((N-b)/(N-1)) (sampling
    without replacement); the pooled estimate must agree within 10%."""
    single = per_batch_loss(trained, boston.X, boston.y, 1)
    s, n = single.std(), 506
    sizes = [2, 4, 8, 16, 32]
    r = loss_roughness(
        trained, boston.X, boston.y, sizes, shuffle=True, repeats=200, seed=5
    )
    expected = s / np.sqrt(sizes) * np.sqrt((n - np.array(sizes)) / (n - 1))
    np.testing.assert_allclose(r.std, expected, rtol=0.1)


def test_one_batch_has_no_spread(boston, trained):
    r = loss_roughness(trained, boston.X, boston.y, [506])
    assert r.std[0] == 0 and r.n_batches[0] == 1


def test_crossover_logic():
    r = Roughness(
        np.array([1, 2, 4, 8]), np.ones(4), np.array([2.0, 0.5, 1.5, 0.4]), np.ones(4)
    )
    assert r.crossover() == 8  # 2 dips below, but 4 is above again
    never = Roughness(np.array([1, 2]), np.ones(2), np.array([3.0, 2.0]), np.ones(2))
    assert never.crossover() is None


def test_bad_arguments(boston, trained):
    with pytest.raises(ValueError, match="batch_sizes is empty"):
        loss_roughness(trained, boston.X, boston.y, [])
    with pytest.raises(ValueError, match="shuffle=True"):
        per_batch_loss(trained, boston.X, boston.y, 10, repeats=3)
    with pytest.raises(ValueError, match="batch_size must be"):
        per_batch_loss(trained, boston.X, boston.y, 0)


def test_first_reached_is_the_first_index_at_the_target_or_none():
    from sgdlab.metrics import first_reached

    losses = [3.0, 2.0, float("nan"), 0.5, 0.4]
    assert first_reached(losses, 2.0) == 1
    assert first_reached(losses, 0.5) == 3
    assert first_reached(losses, 0.1) is None
    accuracies = np.array([0.1, 0.5, 0.92, 0.95])
    assert first_reached(accuracies, 0.9, below=False) == 2
    assert first_reached(accuracies, 0.99, below=False) is None
    with pytest.raises(ValueError, match="target must be a finite number"):
        first_reached(losses, float("inf"))
    with pytest.raises(ValueError, match="one-dimensional"):
        first_reached([[1.0]], 1.0)
