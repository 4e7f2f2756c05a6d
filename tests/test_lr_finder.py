"""sgdlab.lr_finder: the range test on problems with a known answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sgdlab import lr_finder, optim

LAMBDAS = torch.tensor([1.0, 4.0, 25.0], dtype=torch.float64)
LIMIT = 2 / 25.0  # gradient descent on the quadratic is stable exactly below this


def _quadratic_test(opt_class=optim.GD, **kwargs):
    theta = torch.ones(3, dtype=torch.float64, requires_grad=True)
    result = lr_finder.range_test(
        opt_class([theta], lr=1.0), lambda: 0.5 * (LAMBDAS * theta**2).sum(), **kwargs
    )
    return result, theta


def test_suggestion_is_inside_the_stable_range_of_a_quadratic():
    result, _ = _quadratic_test(start_lr=1e-4, end_lr=10.0, num_steps=100)
    assert 0 < result.suggestion < LIMIT
    assert 0 < result.steepest_lr < LIMIT
    assert result.diverged  # it ran into the unstable rates and stopped
    assert len(result.lrs) < 100


def test_the_loss_rises_only_above_the_stability_limit():
    result, _ = _quadratic_test(start_lr=1e-4, end_lr=10.0, num_steps=100)
    rises = np.flatnonzero(np.diff(result.losses) > 0)
    assert len(rises) > 0
    assert result.lrs[rises[0]] > LIMIT


def test_parameters_and_state_are_restored():
    theta = torch.ones(3, dtype=torch.float64, requires_grad=True)
    opt = optim.Adam([theta], lr=0.01)
    lr_finder.range_test(opt, lambda: (theta**2).sum(), num_steps=20)
    assert torch.equal(theta.detach(), torch.ones(3, dtype=torch.float64))
    assert opt.param_groups[0]["lr"] == 0.01
    assert opt.state_dict()["state"] == {}


def test_works_with_a_torch_optimizer_through_param_groups():
    model = torch.nn.Linear(2, 1)
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    y = x @ torch.tensor([[1.5], [-2.0]])
    opt = torch.optim.SGD(model.parameters(), lr=0.123)
    result = lr_finder.range_test(
        opt, lambda: torch.nn.functional.mse_loss(model(x), y), start_lr=1e-4, end_lr=10
    )
    assert 1e-4 < result.suggestion < 10
    assert opt.param_groups[0]["lr"] == 0.123  # restored


def test_rates_are_exponential_and_one_per_step():
    result, _ = _quadratic_test(start_lr=1e-6, end_lr=1e-3, num_steps=30)
    assert len(result.lrs) == 30 and not result.diverged
    assert np.allclose(np.diff(np.log(result.lrs)), np.log(1e3) / 29)


def test_smoothing_is_a_debiased_ema():
    losses = np.array([4.0, 2.0, 3.0, 1.0])
    beta = 0.9
    avg, expected = 0.0, []
    for t, loss in enumerate(losses, start=1):
        avg = beta * avg + (1 - beta) * loss
        expected.append(avg / (1 - beta**t))
    assert np.allclose(lr_finder.smooth(losses, beta), expected)
    assert lr_finder.smooth([5.0, 5.0, 5.0]) == pytest.approx([5.0, 5.0, 5.0])


def test_valley_is_the_middle_of_the_longest_descent():
    lrs = np.geomspace(1e-3, 1.0, 10)
    smoothed = np.array([5, 5.1, 4, 3, 2, 1, 0.5, 0.6, 3, 9.0])
    result = lr_finder.RangeTest(lrs, smoothed, smoothed, True)
    # longest decreasing run: indices 1..6 (5.1 -> 0.5), middle index 1 + 1 + 0 = 3... by the rule
    assert result.valley_lr == lrs[1 + int(5 / 3) + int(5 / 3 / 2)]
    assert result.min_lr == lrs[6]
    assert result.min_over_ten == pytest.approx(lrs[6] / 10)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"start_lr": 0}, "start_lr"),
        ({"start_lr": 1.0, "end_lr": 0.5}, "end_lr must exceed"),
        ({"num_steps": 0}, "num_steps"),
        ({"lrs": [0.1]}, "at least 2"),
        ({"lrs": [0.1, 0.05]}, "increasing"),
        ({"beta": 1.0}, "beta"),
        ({"diverge_factor": 1.0}, "diverge_factor"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _quadratic_test(**kwargs)


def test_not_an_optimizer_or_not_a_scalar():
    with pytest.raises(ValueError, match="torch.optim.Optimizer"):
        lr_finder.range_test(object(), lambda: torch.tensor(1.0))
    theta = torch.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="scalar"):
        lr_finder.range_test(optim.GD([theta]), lambda: theta * 2, num_steps=3)
