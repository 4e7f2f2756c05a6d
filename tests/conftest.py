"""Shared fixtures. One thread: results are then bit-for-bit repeatable."""

from __future__ import annotations

import matplotlib
import pytest
import torch

matplotlib.use("Agg")
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def boston():
    from sgdlab.data import load_boston

    return load_boston()


@pytest.fixture(scope="session")
def headline(boston):
    """The chapter-1 experiment: full batch and batches of 50, 300 epochs each."""
    from sgdlab.models import make_mlp
    from sgdlab.training import train

    full = train(make_mlp(boston.n_features, seed=12345), boston.X, boston.y, epochs=300)
    mini = train(
        make_mlp(boston.n_features, seed=12345), boston.X, boston.y, epochs=300, batch_size=50
    )
    return full, mini
