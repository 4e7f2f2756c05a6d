"""Tests of chapter 3's modules: sgdlab.timed_training (the loop), sgdlab.step_time
(the step-time model) and sgdlab.batch_sweep (the sweep)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sgdlab import batch_sweep, data, models, step_time, timed_training
from torch import nn


@pytest.fixture(scope="module")
def digits():
    return data.load_digits(seed=0)


def test_digits_are_real_stratified_and_reproducible(digits):
    assert digits.n_train == 4000 and digits.n_test == 1000
    assert torch.bincount(digits.y_test).tolist() == [100] * 10
    assert 0 <= digits.X_train.min() and digits.X_train.max() <= 1
    again = data.load_digits(seed=0)
    assert torch.equal(again.X_train, digits.X_train)
    other = data.load_digits(seed=1)
    assert not torch.equal(other.y_train, digits.y_train)
    # No row is in both sets.
    train = {tuple(r) for r in digits.X_train[:, 200:260].tolist()}
    assert not any(tuple(r) in train for r in digits.X_test[:50, 200:260].tolist())


def test_digit_loader_names_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        data.load_digits(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="785 columns"):
        data.load_digits(bad)
    text = tmp_path / "text.csv"
    text.write_text("a,b\nc,d\n")
    with pytest.raises(ValueError, match="text.csv"):
        data.load_digits(text)
    with pytest.raises(ValueError, match="test_fraction"):
        data.load_digits(test_fraction=1.5)


def test_flops_per_row_counts_each_linear_layer():
    model = models.make_digit_mlp()
    assert step_time.flops_per_row(model) == 4 * 784 * 256 + 6 * 256 * 10
    with pytest.raises(ValueError, match="nn.Linear"):
        step_time.flops_per_row(nn.Sequential(nn.ReLU()))


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
    opt = torch.optim.SGD(ref.parameters(), lr=0.3)
    gen = torch.Generator().manual_seed(7)
    for _ in range(2):
        order = torch.randperm(100, generator=gen)
        for start in range(0, 100, 32):
            idx = order[start : start + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(ref(X[idx]), y[idx]).backward()
            opt.step()
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


def test_sweep_grid_and_refinement():
    assert batch_sweep.initial_grid(60_000) == [64, 128, 256, 512, 1024]
    assert batch_sweep.initial_grid(4000) == [16, 32, 64, 128, 256]
    assert batch_sweep.initial_grid(10, width=3) == [1, 2, 4, 8]
    assert batch_sweep.refine(256, 60_000) == [192, 384]
    assert batch_sweep.refine(1, 100) == []
    with pytest.raises(ValueError, match="power of two"):
        batch_sweep.refine(96, 1000)
    # A convex cost with its minimum at 180 leads the procedure to 192.
    sweep = batch_sweep.sweep_batch_sizes(
        lambda b: (math.log(b) - math.log(180)) ** 2, 60_000
    )
    assert sweep.initial == [64, 128, 256, 512, 1024]
    assert sweep.refined == [96, 192] and sweep.best == 192
    assert sweep.batch_sizes == sorted(sweep.batch_sizes)


def test_tune_lr_finds_the_grid_minimum_from_any_start():
    steps = {
        0.25: 900.0,
        0.5: 400.0,
        1.0: 250.0,
        2.0: 300.0,
        4.0: None,
    }  # never reached
    calls = []

    class Fake:
        def __init__(self, lr):
            self.lr = lr

        def steps_to(self, target):
            return steps[self.lr]

        def examples_to(self, target):
            return None if steps[self.lr] is None else 10 * steps[self.lr]

        def seconds_to(self, target):
            return None if steps[self.lr] is None else steps[self.lr] / 100

    def train_at(b, lr):
        calls.append(lr)
        return Fake(lr)

    for start in (0.25, 1.0, 4.0):
        calls.clear()
        point = batch_sweep.tune_lr(train_at, 10, list(steps), 0.9, start=start)
        assert point.lr == 1.0 and point.steps == 250 and point.examples == 2500
        assert len(calls) < len(steps) or start == 4.0


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
    opt = torch.optim.SGD(ref.parameters(), lr=2.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warm)
    gen = torch.Generator().manual_seed(4)
    for _ in range(3):
        order = torch.randperm(96, generator=gen)
        for start in range(0, 96, 32):
            idx = order[start : start + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(ref(X[idx]), y[idx]).backward()
            opt.step()
            sched.step()
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


def test_digit_mlp_is_the_shared_mlp_with_a_sigmoid():
    from sgdlab import models

    a = models.make_digit_mlp(seed=7)
    b = models.make_mlp(784, 256, 10, seed=7, activation=nn.Sigmoid)
    assert isinstance(a[1], nn.Sigmoid)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("no_grad", [False, True])
def test_per_sample_accuracy_equals_the_batched_one(digits, no_grad):
    """The slow loop of the MNIST question gives the same accuracy as one
    batched call; chapter 3 times the two."""
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
    assert timed_training.per_sample_accuracy(
        net, X, y, no_grad=no_grad
    ) == pytest.approx(expected)


def test_per_sample_accuracy_checks_its_input(digits):
    net = models.make_digit_mlp(seed=0)
    with pytest.raises(ValueError):
        timed_training.per_sample_accuracy(net, digits.X_test[:5], digits.y_test[:4])
