"""Losses measured on a trained model.

Used by chapter 1 (the "roughness" of the loss: how much χ²/N varies from one
batch to the next, as a function of the batch size).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._checks import check_batch_size, check_positive_int, check_xy
from .batching import epoch_batches


def per_batch_loss(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    repeats: int = 1,
) -> np.ndarray:
    """χ²/N of every batch of one epoch, for a fixed model.

    N is the *actual* number of rows in the batch, so the shorter last batch
    is measured on the same scale as the others (dividing its χ² by the
    nominal batch size would make it look better than it is).

    With ``shuffle=True`` and ``repeats > 1`` the batches of ``repeats``
    independently shuffled epochs are pooled, which averages out the luck of
    one permutation.

    Returns
    -------
    numpy.ndarray
        One value per batch, ``repeats * ceil(len(X) / batch_size)`` in all.
    """
    check_xy(X, y)
    batch_size = check_batch_size(batch_size, len(X))
    repeats = check_positive_int(repeats, "repeats")
    if repeats > 1 and not shuffle:
        raise ValueError(
            "repeats > 1 needs shuffle=True: without shuffling every epoch is the same"
        )
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        squared = (model(X) - y).pow(2).sum(dim=1)  # χ² contribution of every row
    values = []
    for _ in range(repeats):
        for idx in epoch_batches(len(X), batch_size, shuffle=shuffle, generator=generator):
            values.append(float(squared[idx].sum()) / len(idx))
    return np.asarray(values)


@dataclass(frozen=True)
class Roughness:
    """Mean and spread of the per-batch χ²/N, one entry per batch size."""

    batch_sizes: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n_batches: np.ndarray

    def crossover(self) -> int | None:
        """Smallest batch size from which on the spread stays below the mean.

        Returns ``None`` if the spread never drops below the mean.
        """
        below = self.std < self.mean
        for i in range(len(below)):
            if below[i:].all():
                return int(self.batch_sizes[i])
        return None


def loss_roughness(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_sizes: Sequence[int],
    *,
    shuffle: bool = False,
    seed: int = 0,
    repeats: int = 1,
) -> Roughness:
    """Mean and standard deviation across batches of χ²/N, for each batch size.

    The standard deviation is the population one (``ddof=0``) over the
    batches of one epoch (or of ``repeats`` shuffled epochs); a batch size
    that gives a single batch has spread 0.
    """
    if len(batch_sizes) == 0:
        raise ValueError("batch_sizes is empty: give at least one batch size")
    sizes, means, stds, counts = [], [], [], []
    for b in batch_sizes:
        values = per_batch_loss(model, X, y, b, shuffle=shuffle, seed=seed, repeats=repeats)
        sizes.append(int(b))
        means.append(values.mean())
        stds.append(values.std())
        counts.append(len(values))
    return Roughness(np.array(sizes), np.array(means), np.array(stds), np.array(counts))
