"""Tests of sgdlab.training: the claims of chapter 1, and the loops' mechanics."""

from __future__ import annotations

import math

import pytest
import torch
from sgdlab.batching import epoch_batches
from sgdlab.models import make_mlp
from sgdlab.training import (
    accumulate_gradients,
    evaluate_loss,
    flat_gradient,
    run_epoch,
    should_step,
    step_schedule,
    train,
    train_until_converged,
)

# --- The chapter's claims ---------------------------------------------------


def test_minibatches_reach_full_batch_loss_in_far_fewer_epochs(headline):
    full, mini = headline
    reached = mini.epochs_to_reach(full.epoch_loss[-1])
    assert reached is not None
    assert reached <= full.epochs / 3  # the book reports about 50 of 300
    # ...and the whole-data loss agrees with the summed epoch loss.
    assert mini.epochs_to_reach(full.full_loss[-1], "full_loss") <= full.epochs / 3


def test_per_function_call_the_full_batch_is_better(headline):
    full, mini = headline
    per_epoch = mini.calls[0]
    assert per_epoch == math.ceil(506 / 50)
    assert full.calls == list(range(1, 301))
    # Compare at equal work: after e mini-batch epochs, both made 11·e calls.
    for e in range(1, full.epochs // per_epoch + 1):
        assert full.full_loss[per_epoch * e - 1] < mini.full_loss[e - 1], e


def test_shuffling_reaches_the_target_sooner(boston, headline):
    full, mini = headline
    shuffled = train(
        make_mlp(12),
        boston.X,
        boston.y,
        epochs=100,
        batch_size=50,
        shuffle=True,
        seed=0,
    )
    assert shuffled.epochs_to_reach(full.epoch_loss[-1]) < mini.epochs_to_reach(
        full.epoch_loss[-1]
    )


def test_full_batch_epoch_loss_is_loss_before_the_step(boston, headline):
    full, _ = headline
    assert full.epoch_loss[0] == pytest.approx(
        evaluate_loss(make_mlp(12), boston.X, boston.y)
    )
    # and the loss at epoch e+1's start is the loss after epoch e
    assert full.epoch_loss[1:] == pytest.approx(full.full_loss[:-1], rel=1e-5)


def test_same_seed_same_history(boston):
    a = train(
        make_mlp(12), boston.X, boston.y, epochs=5, batch_size=64, shuffle=True, seed=3
    )
    b = train(
        make_mlp(12), boston.X, boston.y, epochs=5, batch_size=64, shuffle=True, seed=3
    )
    c = train(
        make_mlp(12), boston.X, boston.y, epochs=5, batch_size=64, shuffle=True, seed=4
    )
    assert a.epoch_loss == b.epoch_loss
    assert a.epoch_loss != c.epoch_loss


# --- Gradient accumulation --------------------------------------------------


def test_step_schedule_uses_i_plus_one_and_a_final_step():
    assert step_schedule(11, 4) == [3, 7, 10]
    assert step_schedule(8, 4) == [3, 7]
    assert step_schedule(5, 1) == [0, 1, 2, 3, 4]
    assert step_schedule(3, 10) == [2]
    # never after the first batch alone, unless every batch steps
    assert not should_step(0, 4, 11)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("sizes", [(50, 50, 50, 50), (50, 50, 6), (1, 7, 3)])
def test_accumulated_gradient_equals_one_big_batch(boston, reduction, sizes):
    X, y = boston.X.double(), boston.y.double()
    model = make_mlp(12, dtype=torch.float64)
    rows = torch.arange(sum(sizes))
    group = list(rows.split(list(sizes)))
    model.zero_grad()
    accumulate_gradients(model, X, y, group, reduction)
    accumulated = flat_gradient(model)
    model.zero_grad()
    accumulate_gradients(model, X, y, [rows], reduction)
    big = flat_gradient(model)
    torch.testing.assert_close(accumulated, big, rtol=1e-12, atol=1e-12)


def test_naive_mean_scaling_is_wrong_for_a_short_group(boston):
    """Dividing by k instead of weighting by rows misses the big-batch gradient
    when the group is uneven: the test above would catch that bug."""
    X, y = boston.X.double(), boston.y.double()
    model = make_mlp(12, dtype=torch.float64)
    rows = torch.arange(106)
    model.zero_grad()
    for idx in rows.split([50, 50, 6]):
        (torch.nn.functional.mse_loss(model(X[idx]), y[idx]) / 3).backward()
    naive = flat_gradient(model)
    model.zero_grad()
    accumulate_gradients(model, X, y, [rows], "mean")
    assert not torch.allclose(naive, flat_gradient(model), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_accumulation_training_equals_big_batch_training(boston, reduction):
    # Batches of 50 grouped by 4 give the groups [0:200], [200:400], [400:506]:
    # exactly the batches of size 200. Training must then be identical.
    X, y = boston.X.double(), boston.y.double()
    a = make_mlp(12, dtype=torch.float64)
    b = make_mlp(12, dtype=torch.float64)
    ha = train(
        a, X, y, epochs=5, batch_size=50, accumulation_steps=4, reduction=reduction
    )
    hb = train(b, X, y, epochs=5, batch_size=200, reduction=reduction)
    assert ha.steps == hb.steps == [3, 6, 9, 12, 15]
    assert ha.calls == [11, 22, 33, 44, 55]
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-10, atol=1e-10)
    assert ha.epoch_loss == pytest.approx(hb.epoch_loss, rel=1e-10)


def test_run_epoch_counts_calls_and_steps(boston):
    model = make_mlp(12)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    result = run_epoch(model, boston.X, boston.y, opt, 50, accumulation_steps=4)
    assert (result.calls, result.steps) == (11, 3)


def test_epoch_loss_of_a_frozen_model_is_the_data_set_loss(boston):
    # With a zero learning rate nothing changes during the epoch, so the summed
    # batch losses must add up to the whole data set's loss, for both reductions.
    for reduction in ("sum", "mean"):
        model = make_mlp(12)
        opt = torch.optim.SGD(model.parameters(), lr=0.0)
        result = run_epoch(model, boston.X, boston.y, opt, 50, reduction=reduction)
        whole = evaluate_loss(model, boston.X, boston.y, reduction)
        assert result.loss == pytest.approx(whole, rel=1e-5)


def test_sgd_step_matches_hand_computation(boston):
    X, y = boston.X.double()[:20], boston.y.double()[:20]
    model = make_mlp(12, dtype=torch.float64)
    w0 = [p.detach().clone() for p in model.parameters()]
    model.zero_grad()
    torch.nn.functional.mse_loss(model(X), y, reduction="sum").backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model2 = make_mlp(12, dtype=torch.float64)
    train(
        model2, X, y, epochs=1, optimizer=torch.optim.SGD(model2.parameters(), lr=0.01)
    )
    for p, w, g in zip(model2.parameters(), w0, grads, strict=True):
        torch.testing.assert_close(p.detach(), w - 0.01 * g)


# --- Convergence-based stopping ---------------------------------------------


def test_train_until_converged_stops_when_the_loss_is_flat(boston):
    h = train_until_converged(
        make_mlp(12), boston.X, boston.y, rel_tol=1e-3, patience=3
    )
    assert h.converged
    assert h.epochs < 10_000
    last = h.full_loss[-4:]
    assert all(abs(a - b) / a < 1e-3 for a, b in zip(last, last[1:], strict=False))


def test_train_until_converged_gives_up_after_max_epochs(boston):
    h = train_until_converged(
        make_mlp(12), boston.X, boston.y, rel_tol=1e-12, max_epochs=7
    )
    assert not h.converged and h.epochs == 7


# --- Bad input --------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -5, 507, 2.5, "50", True])
def test_bad_batch_size_is_refused(boston, bad):
    with pytest.raises(ValueError, match="batch_size must be"):
        train(make_mlp(12), boston.X, boston.y, epochs=1, batch_size=bad)


def test_bad_tensors_are_refused(boston):
    X, y = boston.X, boston.y
    with pytest.raises(ValueError, match="empty"):
        train(make_mlp(12), X[:0], y[:0], epochs=1)
    with pytest.raises(ValueError, match="same number of rows"):
        train(make_mlp(12), X, y[:-1], epochs=1)
    with pytest.raises(ValueError, match="2-D"):
        train(make_mlp(12), X, y[:, 0], epochs=1)
    bad = X.clone()
    bad[3, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        train(make_mlp(12), bad, y, epochs=1)
    with pytest.raises(ValueError, match="torch.Tensor"):
        train(make_mlp(12), X.numpy(), y, epochs=1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 1, "accumulation_steps": 0}, "accumulation_steps"),
        ({"epochs": 1, "reduction": "max"}, "reduction"),
    ],
)
def test_bad_settings_are_refused(boston, kwargs, message):
    with pytest.raises(ValueError, match=message):
        train(make_mlp(12), boston.X, boston.y, **kwargs)


def test_bad_convergence_settings(boston):
    with pytest.raises(ValueError, match="rel_tol"):
        train_until_converged(make_mlp(12), boston.X, boston.y, rel_tol=0)
    with pytest.raises(ValueError, match="patience"):
        train_until_converged(make_mlp(12), boston.X, boston.y, patience=0)


def test_history_rejects_unknown_record(headline):
    with pytest.raises(ValueError, match="which"):
        headline[0].epochs_to_reach(1.0, "loss")


def test_epoch_batches_drive_run_epoch(boston):
    # run_epoch visits the rows in the order epoch_batches gives
    seen = []

    class Spy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = make_mlp(12)

        def forward(self, x):
            seen.append(x.shape[0])
            return self.inner(x)

    model = Spy()
    run_epoch(
        model, boston.X, boston.y, torch.optim.SGD(model.parameters(), lr=0.0), 128
    )
    assert seen == [len(b) for b in epoch_batches(506, 128)]


# --- Chapter 2: the three RMSEs of an epoch ------------------------------------


def test_train_epoch_rmse_separates_bias_and_learning(boston):
    from sgdlab.training import train_epoch_rmse

    reports = {}
    for b in (4, 64, 506):
        model = make_mlp(12)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        reports[b] = train_epoch_rmse(model, boston.X, boston.y, opt, b)
    for r in reports.values():
        assert r.averaged <= r.accumulated + 1e-7  # averaging bias, never upwards here
    # one batch: nothing to average, and the "after" is one SGD step later
    assert reports[506].averaged == pytest.approx(reports[506].accumulated, rel=1e-6)
    # more steps per epoch: better model at the end of the epoch
    assert reports[4].after < reports[64].after < reports[506].after


def test_train_epoch_rmse_accumulated_is_the_rmse_of_predictions_made(boston):
    from sgdlab.training import train_epoch_rmse

    model = make_mlp(12)
    reference = make_mlp(12)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    report = train_epoch_rmse(model, boston.X, boston.y, opt, 50)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.01)
    squared, rows = 0.0, 0
    for idx in epoch_batches(506, 50):
        pred = reference(boston.X[idx])
        loss = torch.sqrt(torch.nn.functional.mse_loss(pred, boston.y[idx]))
        ref_opt.zero_grad()
        loss.backward()
        ref_opt.step()
        squared += ((pred.detach() - boston.y[idx]) ** 2).sum().item()
        rows += len(idx)
    assert report.accumulated == pytest.approx(math.sqrt(squared / rows), rel=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        train_epoch_rmse(model, boston.X, boston.y, opt, 0)
