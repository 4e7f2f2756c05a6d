"""Tests of sgdlab._checks: one rule per kind of argument, the same everywhere."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sgdlab import optim, regression, step_time, timed_training
from sgdlab._checks import (
    check_beta,
    check_non_negative_int,
    check_non_negative_number,
    check_positive_int,
    check_positive_number,
)


@pytest.mark.parametrize(
    "value", [0.1, 3, np.float32(0.1), np.float64(2.5), np.int64(4)]
)
def test_a_positive_number_may_be_a_python_or_numpy_scalar(value):
    assert check_positive_number(value, "lr") == pytest.approx(float(value))
    assert isinstance(check_positive_number(value, "lr"), float)


@pytest.mark.parametrize("value", [0, -1.0, math.inf, math.nan, True, "1", None])
def test_a_positive_number_refuses_the_rest_and_names_the_argument(value):
    with pytest.raises(ValueError, match="^lr must be a positive finite number"):
        check_positive_number(value, "lr")


def test_non_negative_numbers_and_betas():
    assert check_non_negative_number(np.float32(0.0), "weight_decay") == 0.0
    with pytest.raises(ValueError, match="weight_decay"):
        check_non_negative_number(-1e-9, "weight_decay")
    assert check_beta(np.float32(0.5), "momentum") == 0.5
    for bad in (1.0, -0.1, math.nan, False):
        with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\)"):
            check_beta(bad, "momentum")


def test_integers():
    assert check_positive_int(np.int32(3), "steps") == 3
    assert check_non_negative_int(0, "step") == 0
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="steps must be a positive integer"):
            check_positive_int(bad, "steps")
    with pytest.raises(ValueError, match="step must be a non-negative integer"):
        check_non_negative_int(-1, "step")


def test_every_learning_rate_follows_the_same_rule(digits):
    """A float32 rate (as ``np.float32`` arithmetic gives) is a rate everywhere."""
    lr = np.float32(0.1)
    data = regression.make_line_data(n=10)
    assert regression.descend(data, lr=lr, steps=2).lr == pytest.approx(0.1)
    assert regression.descend_torch(data, lr=lr, steps=2).lr == pytest.approx(0.1)
    optim.GD([torch.zeros(1, requires_grad=True)], lr=lr)
    X, y = digits.X_train[:20], digits.y_train[:20]
    model = torch.nn.Linear(784, 10)
    run = timed_training.train_classifier(
        model, X, y, batch_size=10, lr=lr, steps=1, X_test=X, y_test=y
    )
    assert run.lr == pytest.approx(0.1)
    assert step_time.time_steps(model, X, y, 10, n_steps=1, lr=lr, repeats=1) > 0
    for bad in (0, -0.1, math.inf):
        with pytest.raises(ValueError, match="lr must be a positive finite number"):
            regression.descend(data, lr=bad)
        with pytest.raises(ValueError, match="lr must be a positive finite number"):
            optim.Adam([torch.zeros(1, requires_grad=True)], lr=bad)
