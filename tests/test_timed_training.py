"""Tests of sgdlab.timed_training: chapter 3's loop is plain SGD on the batches of a
seeded permutation per epoch; it records, stops and measures accuracy as it says."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sgd_reference import reference_sgd
from sgdlab import models, step_time, timed_training


def test_loop_equals_hand_written_sgd(digits):
    """train_classifier's steps are plain SGD on cross-entropy over the
    batches of a seeded permutation, epoch after epoch."""
    X, y = digits.X_train[:100], digits.y_train[:100]
    model = models.make_digit_mlp(seed=1)
    run = timed_training.train_classifier(
        model,
        X,
        y,
        batch_size=32,
        lr=0.3,
        epochs=2,
        X_test=X,
        y_test=y,
        seed=7,
        evaluations=3,
    )
    assert run.steps[-1] == 8 and run.examples[-1] == 200
    ref = models.make_digit_mlp(seed=1)
    reference_sgd(ref, X, y, lr=0.3, batch_size=32, epochs=2, seed=7)
    for p, q in zip(model.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)
    assert run.accuracy[-1] == pytest.approx(timed_training.accuracy(ref, X, y))


def test_loop_records_and_stops_at_target(digits):
    model = models.make_digit_mlp(seed=0)
    run = timed_training.train_classifier(
        model,
        digits.X_train,
        digits.y_train,
        batch_size=32,
        lr=1.0,
        steps=2000,
        X_test=digits.X_test,
        y_test=digits.y_test,
        target=0.8,
        evaluations=50,
    )
    assert run.accuracy[-1] >= 0.8 > run.accuracy[-2]
    assert run.steps[-1] < 2000
    assert np.all(np.diff(run.seconds) >= 0) and np.all(np.diff(run.steps) > 0)
    s = run.steps_to(0.8)
    assert run.steps[-2] < s <= run.steps[-1]
    assert run.examples_to(0.8) == pytest.approx(32 * s)
    assert run.steps_to(0.999) is None and run.seconds_to(0.999) is None


def test_loop_refuses_bad_arguments(digits):
    model = models.make_digit_mlp()
    X, y = digits.X_train[:50], digits.y_train[:50]
    kw = dict(X_test=X, y_test=y, lr=0.1, epochs=1)
    for bad in (0, 51, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            timed_training.train_classifier(model, X, y, batch_size=bad, **kw)
    with pytest.raises(ValueError, match="lr"):
        timed_training.train_classifier(
            model, X, y, batch_size=5, X_test=X, y_test=y, lr=-1, epochs=1
        )
    with pytest.raises(ValueError, match="exactly one"):
        timed_training.train_classifier(
            model, X, y, batch_size=5, X_test=X, y_test=y, lr=0.1
        )
    with pytest.raises(ValueError, match="int64"):
        timed_training.train_classifier(model, X, y.float(), batch_size=5, **kw)
    with pytest.raises(ValueError, match="batch_size"):
        step_time.time_steps(model, X, y, 0, n_steps=1)
    with pytest.raises(ValueError, match="loader"):
        step_time.time_steps(model, X, y, 4, n_steps=1, loader="fast")


def test_warmup_schedule_matches_a_hand_written_lambdalr_loop(digits):
    from sgdlab import distributed

    X, y = digits.X_train[:96], digits.y_train[:96]
    model = models.make_digit_mlp(seed=2)
    warm = lambda s: distributed.warmup_factor(s, 5)  # noqa: E731
    timed_training.train_classifier(
        model,
        X,
        y,
        batch_size=32,
        lr=2.0,
        epochs=3,
        X_test=X,
        y_test=y,
        seed=4,
        evaluations=2,
        lr_lambda=warm,
    )
    ref = models.make_digit_mlp(seed=2)
    reference_sgd(ref, X, y, lr=2.0, batch_size=32, epochs=3, seed=4, lr_lambda=warm)
    for p, q in zip(model.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="lr_lambda"):
        timed_training.train_classifier(
            model,
            X,
            y,
            batch_size=32,
            lr=1.0,
            epochs=1,
            X_test=X,
            y_test=y,
            lr_lambda=3,
        )


@pytest.mark.parametrize("no_grad", [False, True])
def test_question_accuracy_equals_the_batched_one(digits, no_grad):
    """The MNIST question's evaluation (batches of 50, then a comparison per
    image) gives the same accuracy as one batched call; chapter 3 times the two."""
    net = models.make_digit_mlp(seed=0)
    timed_training.train_classifier(
        net,
        digits.X_train,
        digits.y_train,
        batch_size=64,
        lr=0.1,
        steps=30,
        X_test=digits.X_test,
        y_test=digits.y_test,
        evaluations=1,
    )
    X, y = digits.X_test[:300], digits.y_test[:300]
    expected = timed_training.accuracy(net, X, y)
    assert 0.3 < expected < 1  # a trained but imperfect model: a real comparison
    assert timed_training.question_accuracy(
        net, X, y, no_grad=no_grad
    ) == pytest.approx(expected)
    # 300 rows: five full batches of 50 and, with 64, a short last batch
    assert timed_training.question_accuracy(
        net, X, y, batch_size=64, no_grad=no_grad
    ) == pytest.approx(expected)


def test_question_accuracy_checks_its_input(digits):
    net = models.make_digit_mlp(seed=0)
    with pytest.raises(ValueError):
        timed_training.question_accuracy(net, digits.X_test[:5], digits.y_test[:4])
    with pytest.raises(ValueError, match="batch_size"):
        timed_training.question_accuracy(
            net, digits.X_test[:5], digits.y_test[:5], batch_size=0
        )
