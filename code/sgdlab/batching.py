"""Splitting a data set into mini-batches.

The course's central idea has its one home here: shuffle, cut, step. Used by
chapter 1 (mini-batch loops, shuffling, the partial last batch) and by every
loop of the package: :mod:`sgdlab.training` and :mod:`sgdlab.metrics` take
the batches of one epoch from :func:`epoch_batches`; chapter 3's loop
(:mod:`sgdlab.timed_training`), its step timers, the data-parallel batches of
:mod:`sgdlab.distributed` and the NumPy line fit of :mod:`sgdlab.regression`
run epoch after epoch on :func:`endless_batches`. All of them cut an epoch's
order of rows with :func:`cut`.

One epoch is one pass over every row exactly once. Without shuffling, the
batches are consecutive slices in file order; with shuffling, a fresh random
permutation is drawn at the start of every epoch (sampling *without*
replacement), which is what ``torch.utils.data.DataLoader(..., shuffle=True)``
does. The last batch is shorter when the batch size does not divide the number
of rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TypeVar

import numpy as np
import torch

from ._checks import check_batch_size, check_positive_int

#: A 1-D order of row indices: a tensor, or a NumPy array (chapter 4's line fit).
Order = TypeVar("Order", torch.Tensor, np.ndarray)


def n_batches(n_rows: int, batch_size: int) -> int:
    """Number of batches in one epoch: ``ceil(n_rows / batch_size)``."""
    n_rows = check_positive_int(n_rows, "n_rows")
    batch_size = check_batch_size(batch_size, n_rows)
    return math.ceil(n_rows / batch_size)


def batch_lengths(n_rows: int, batch_size: int) -> list[int]:
    """Length of every batch of one epoch; only the last one can be shorter."""
    count = n_batches(n_rows, batch_size)
    return [min(batch_size, n_rows - i * batch_size) for i in range(count)]


def dataloader_permutation(
    n_rows: int, generator: torch.Generator | None
) -> torch.Tensor:
    """The order in which ``DataLoader(..., shuffle=True)`` visits ``n_rows`` rows.

    Per epoch, torch 2.13's DataLoader draws three things from its generator:
    a seed for worker processes, the permutation, and (when the sampler runs
    to its end) a second permutation that it discards. Making the same draws
    keeps our batches identical to DataLoader's, epoch after epoch, for the
    same seeded generator, so the two loaders can be compared on equal terms.
    """
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    order = torch.randperm(n_rows, generator=generator)
    torch.randperm(n_rows, generator=generator)
    return order


def epoch_batches(
    n_rows: int,
    batch_size: int,
    *,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[torch.Tensor]:
    """Yield the row indices of each batch of one epoch.

    Parameters
    ----------
    n_rows
        Number of rows in the data set.
    batch_size
        Rows per batch, between 1 and ``n_rows``. The last batch holds the
        ``n_rows % batch_size`` leftover rows if that is not zero.
    shuffle
        Draw a new random order of the rows (a permutation) for this epoch.
    generator
        Source of randomness for the permutation. With a generator seeded by
        ``torch.Generator().manual_seed(s)``, the batches are the same as those
        of ``DataLoader(dataset, batch_size, shuffle=True, generator=...)``
        seeded with ``s``.

    Yields
    ------
    torch.Tensor
        1-D ``int64`` tensor of row indices. Together, the batches of one
        epoch hold every index exactly once.
    """
    n_rows = check_positive_int(n_rows, "n_rows")
    batch_size = check_batch_size(batch_size, n_rows)
    if shuffle:
        order = dataloader_permutation(n_rows, generator)
    else:
        order = torch.arange(n_rows)
    yield from cut(order, batch_size)


def cut(order: Order, batch_size: int, *, drop_last: bool = False) -> list[Order]:
    """Cut an order of rows into consecutive batches of ``batch_size``.

    The one place where an epoch becomes batches. ``order`` is a 1-D tensor
    or NumPy array (each batch is a slice of it). The last batch holds the
    leftover rows, or is dropped with ``drop_last=True``.
    """
    stop = len(order) - batch_size + 1 if drop_last else len(order)
    return [order[start : start + batch_size] for start in range(0, stop, batch_size)]


def endless_batches(
    draw_order: Callable[[], Order], batch_size: int, *, drop_last: bool = False
) -> Iterator[Order]:
    """Batches epoch after epoch, without end: shuffle, cut, repeat.

    ``draw_order()`` gives the order of the rows for the next epoch (for
    instance ``lambda: torch.randperm(n, generator=g)``); it is called only
    when the previous epoch's batches are used up. Take what you need with
    ``next()`` or ``itertools.islice``.
    """
    while True:
        yield from cut(draw_order(), batch_size, drop_last=drop_last)
