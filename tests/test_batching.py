"""Tests of sgdlab.batching: epochs are permutations, shuffling matches DataLoader."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sgdlab.batching import batch_lengths, epoch_batches, n_batches
from torch.utils.data import DataLoader, TensorDataset


@given(n=st.integers(1, 300), data=st.data(), shuffle=st.booleans())
def test_an_epoch_uses_every_row_once(n, data, shuffle):
    b = data.draw(st.integers(1, n))
    batches = list(
        epoch_batches(n, b, shuffle=shuffle, generator=torch.Generator().manual_seed(3))
    )
    assert len(batches) == math.ceil(n / b) == n_batches(n, b)
    assert [len(x) for x in batches] == batch_lengths(n, b)
    assert all(len(x) == b for x in batches[:-1])
    assert sorted(torch.cat(batches).tolist()) == list(range(n))


def test_without_shuffle_batches_are_file_order():
    assert [x.tolist() for x in epoch_batches(7, 3)] == [[0, 1, 2], [3, 4, 5], [6]]


def test_every_epoch_draws_a_new_permutation():
    gen = torch.Generator().manual_seed(0)
    first = torch.cat(list(epoch_batches(100, 10, shuffle=True, generator=gen)))
    second = torch.cat(list(epoch_batches(100, 10, shuffle=True, generator=gen)))
    assert not torch.equal(first, second)


@pytest.mark.parametrize("n,b", [(10, 4), (506, 50), (33, 33)])
def test_same_batches_as_dataloader_with_shuffle(n, b):
    rows = torch.arange(n)
    loader = DataLoader(
        TensorDataset(rows),
        batch_size=b,
        shuffle=True,
        generator=torch.Generator().manual_seed(42),
    )
    ours = torch.Generator().manual_seed(42)
    for _ in range(
        3
    ):  # several epochs: each draws a fresh permutation from the generator
        expected = [batch[0].tolist() for batch in loader]
        got = [x.tolist() for x in epoch_batches(n, b, shuffle=True, generator=ours)]
        assert got == expected


@pytest.mark.parametrize("bad", [0, -3, 11, 2.5, "4", None, True])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size must be"):
        list(epoch_batches(10, bad))


def test_bad_row_count():
    with pytest.raises(ValueError, match="n_rows"):
        batch_lengths(0, 1)


def test_cut_slices_tensors_and_arrays_alike():
    from sgdlab.batching import cut

    order = [4, 0, 3, 1, 2, 6, 5]
    as_lists = [[4, 0, 3], [1, 2, 6], [5]]
    assert [b.tolist() for b in cut(torch.tensor(order), 3)] == as_lists
    assert [b.tolist() for b in cut(np.array(order), 3)] == as_lists
    assert [b.tolist() for b in cut(np.array(order), 3, drop_last=True)] == as_lists[:2]
    assert [b.tolist() for b in cut(np.array(order), 7)] == [order]


def test_endless_batches_draws_an_order_only_when_an_epoch_is_used_up():
    from itertools import islice

    from sgdlab.batching import endless_batches

    draws = []

    def draw():
        draws.append(len(draws))
        return np.arange(5) + 10 * len(draws)

    stream = endless_batches(draw, 2)
    first = [b.tolist() for b in islice(stream, 3)]
    assert first == [[10, 11], [12, 13], [14]] and len(draws) == 1
    assert next(stream).tolist() == [20, 21] and len(draws) == 2
    dropped = endless_batches(lambda: np.arange(5), 2, drop_last=True)
    assert [b.tolist() for b in islice(dropped, 3)] == [[0, 1], [2, 3], [0, 1]]
