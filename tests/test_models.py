"""Tests of sgdlab.models."""

from __future__ import annotations

import pytest
import torch
from sgdlab import models
from sgdlab.models import count_parameters, make_mlp
from torch import nn


def test_same_weights_as_manual_seed_then_build():
    torch.manual_seed(12345)
    reference = nn.Sequential(nn.Linear(12, 5), nn.ReLU(), nn.Linear(5, 1))
    model = make_mlp(12, seed=12345)
    for a, b in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(a, b)


def test_global_random_state_untouched():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    make_mlp(12, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_shape_and_parameter_count():
    model = make_mlp(12)
    assert model(torch.zeros(4, 12)).shape == (4, 1)
    assert count_parameters(model) == 12 * 5 + 5 + 5 * 1 + 1


def test_dtype():
    assert make_mlp(3, dtype=torch.float64)[0].weight.dtype == torch.float64


@pytest.mark.parametrize("bad", [0, -1, 2.5, "12", True])
def test_bad_widths(bad):
    with pytest.raises(ValueError, match="n_inputs must be a positive integer"):
        make_mlp(bad)


def test_model_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    a = models.make_digit_mlp(seed=3)
    after = torch.rand(1)
    b = models.make_digit_mlp(seed=3)
    assert torch.equal(before, after)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_digit_mlp_is_the_shared_mlp_with_a_sigmoid():
    from sgdlab import models

    a = models.make_digit_mlp(seed=7)
    b = models.make_mlp(784, 256, 10, seed=7, activation=nn.Sigmoid)
    assert isinstance(a[1], nn.Sigmoid)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
