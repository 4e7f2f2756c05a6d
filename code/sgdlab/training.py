"""Epoch loops that record what happened: full batch, mini-batch, gradient
accumulation and convergence-based stopping.

Used by chapter 1. The loops are written to be read: the chapter shows
:func:`run_epoch` and :func:`accumulate_gradients` as they are here.

Vocabulary
----------
epoch
    One pass over every row of the training data.
step
    One update of the parameters by the optimizer.
function call
    One evaluation of model and loss with its backward pass, the unit of
    computation the chapter counts. Without gradient accumulation every call
    is followed by a step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from ._checks import (
    check_batch_size,
    check_positive_int,
    check_positive_number,
    check_xy,
)
from .batching import epoch_batches
from .metrics import EpochRMSE, first_reached

Reduction = Literal["sum", "mean"]


def _check_reduction(reduction: str) -> None:
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")


def batch_loss(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, reduction: Reduction = "sum"
) -> torch.Tensor:
    """Squared-error loss of ``model`` on the rows ``X``, ``y``.

    With ``reduction="sum"`` this is the χ² of the batch (the sum of squared
    residuals; the targets are standardized, so each has unit scale); with
    ``"mean"`` it is the mean squared error, χ²/N.
    """
    _check_reduction(reduction)
    return nn.functional.mse_loss(model(X), y, reduction=reduction)


def evaluate_loss(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, reduction: Reduction = "sum"
) -> float:
    """Loss of ``model`` on all of ``X``, ``y`` without touching gradients."""
    check_xy(X, y)
    with torch.no_grad():
        return float(batch_loss(model, X, y, reduction))


def should_step(i: int, accumulation_steps: int, n_batches: int) -> bool:
    """Whether the optimizer steps after batch ``i`` (counted from 0).

    It steps after every ``accumulation_steps``-th batch, that is when
    ``(i + 1) % accumulation_steps == 0``, and after the last batch of the
    epoch so that a leftover, incomplete group is not lost. The condition
    ``i % accumulation_steps == 0``, common in tutorials, steps after the
    very first batch alone and then every k batches out of phase.
    """
    return (i + 1) % accumulation_steps == 0 or i == n_batches - 1


def accumulate_gradients(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    group: Sequence[torch.Tensor],
    reduction: Reduction = "sum",
) -> float:
    """Add to ``.grad`` the gradient of the loss of the rows in ``group``.

    ``group`` is a list of index tensors (the batches that are accumulated
    before one optimizer step). Each batch's loss is scaled so that the
    accumulated gradient equals the gradient of the whole group taken as one
    batch: for a summed loss (χ²) no scaling is needed; for a mean loss each
    batch is weighted by its share of the group's rows, which is the
    "divide by the number of accumulation steps" rule made exact for a short
    last batch.

    Returns the group's loss (same reduction) for bookkeeping.
    """
    _check_reduction(reduction)
    rows = sum(len(idx) for idx in group)
    total = 0.0
    for idx in group:
        loss = batch_loss(model, X[idx], y[idx], reduction)
        weight = 1.0 if reduction == "sum" else len(idx) / rows
        (loss * weight).backward()
        total += float(loss.detach()) * weight
    return total


def flat_gradient(model: nn.Module) -> torch.Tensor:
    """All parameter gradients of ``model`` as one 1-D tensor (zeros where unset)."""
    parts = [
        (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
        for p in model.parameters()
    ]
    return torch.cat(parts)


def step_schedule(n_batches: int, accumulation_steps: int) -> list[int]:
    """Indices (from 0) of the batches after which the optimizer steps.

    For 11 batches and 4 accumulation steps: ``[3, 7, 10]``.
    """
    n_batches = check_positive_int(n_batches, "n_batches")
    accumulation_steps = check_positive_int(accumulation_steps, "accumulation_steps")
    return [
        i for i in range(n_batches) if should_step(i, accumulation_steps, n_batches)
    ]


@dataclass
class EpochResult:
    """What one epoch did."""

    loss: float
    """Sum over the epoch's batches of their χ² (or of their mean loss × rows / N
    with ``reduction="mean"``, so that both equal the data set's loss for a
    model that does not change during the epoch)."""
    calls: int
    """Forward and backward passes made."""
    steps: int
    """Optimizer steps made."""


def run_epoch(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    *,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
    accumulation_steps: int = 1,
    reduction: Reduction = "sum",
) -> EpochResult:
    """Train ``model`` for one epoch of mini-batches and report what it did.

    With ``batch_size = len(X)`` this is the full-batch loop: one step per
    epoch. With a smaller batch the optimizer steps after every batch, or
    after every ``accumulation_steps`` batches with gradient accumulation.
    """
    batches = list(
        epoch_batches(len(X), batch_size, shuffle=shuffle, generator=generator)
    )
    epoch_loss, calls, steps = 0.0, 0, 0
    group: list[torch.Tensor] = []
    optimizer.zero_grad()
    for i, idx in enumerate(batches):
        group.append(idx)
        if not should_step(i, accumulation_steps, len(batches)):
            continue
        group_loss = accumulate_gradients(model, X, y, group, reduction)
        rows = sum(len(g) for g in group)
        epoch_loss += group_loss if reduction == "sum" else group_loss * rows / len(X)
        calls += len(group)
        optimizer.step()
        optimizer.zero_grad()
        steps += 1
        group = []
    return EpochResult(epoch_loss, calls, steps)


@dataclass
class History:
    """The record of a training run, one entry per epoch.

    Attributes
    ----------
    batch_size
        Rows per batch.
    epoch_loss
        The loss summed over the epoch's batches while training (what a
        training loop usually prints). For the full batch it is the loss of
        the model at the start of the epoch.
    full_loss
        The loss of the whole data set with the model as it is at the end of
        the epoch (evaluated without gradients; not counted as a call).
    calls, steps
        Cumulative function calls and optimizer steps at the end of each epoch.
    """

    batch_size: int
    epoch_loss: list[float] = field(default_factory=list)
    full_loss: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    converged: bool = False

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return len(self.epoch_loss)

    def add(self, epoch: EpochResult, full_loss: float) -> None:
        """Record one more epoch: its result and the loss after it."""
        self.epoch_loss.append(epoch.loss)
        self.full_loss.append(full_loss)
        self.calls.append((self.calls[-1] if self.calls else 0) + epoch.calls)
        self.steps.append((self.steps[-1] if self.steps else 0) + epoch.steps)

    def epochs_to_reach(self, target: float, which: str = "epoch_loss") -> int | None:
        """First epoch (counted from 1) whose loss is at or below ``target``.

        ``which`` names the record to search, ``"epoch_loss"`` or
        ``"full_loss"``. Returns ``None`` if the run never got there.
        """
        if which not in ("epoch_loss", "full_loss"):
            raise ValueError(
                f"which must be 'epoch_loss' or 'full_loss', got {which!r}"
            )
        index = first_reached(getattr(self, which), target)
        return None if index is None else index + 1

    def calls_to_reach(self, target: float, which: str = "full_loss") -> int | None:
        """Function calls made by the end of the first epoch that reaches ``target``."""
        epoch = self.epochs_to_reach(target, which)
        return None if epoch is None else self.calls[epoch - 1]


def _default_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.Adam(model.parameters())


def train(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    batch_size: int | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    shuffle: bool = False,
    seed: int = 0,
    accumulation_steps: int = 1,
    reduction: Reduction = "sum",
) -> History:
    """Train for a fixed number of epochs and record every epoch (chapter 1).

    Parameters
    ----------
    model
        The network; it is trained in place.
    X, y
        Features ``(rows, features)`` and targets ``(rows, outputs)``.
    epochs
        Number of passes over the data.
    batch_size
        Rows per batch; ``None`` means all rows (full batch).
    optimizer
        A torch optimizer over ``model.parameters()``; by default Adam with
        torch's defaults (learning rate 0.001), as in the chapter.
    shuffle
        Draw a new order of the rows every epoch.
    seed
        Seed of the shuffling (ignored without shuffling).
    accumulation_steps
        Number of batches whose gradients are added before one step.
    reduction
        ``"sum"`` for the χ² loss of the chapter, ``"mean"`` for the MSE.
    """
    check_xy(X, y)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = len(X) if batch_size is None else check_batch_size(batch_size, len(X))
    accumulation_steps = check_positive_int(accumulation_steps, "accumulation_steps")
    _check_reduction(reduction)
    optimizer = optimizer if optimizer is not None else _default_optimizer(model)
    generator = torch.Generator().manual_seed(seed)
    history = History(batch_size)
    for _ in range(epochs):
        result = run_epoch(
            model,
            X,
            y,
            optimizer,
            batch_size,
            shuffle=shuffle,
            generator=generator,
            accumulation_steps=accumulation_steps,
            reduction=reduction,
        )
        history.add(result, evaluate_loss(model, X, y, reduction))
    return history


def train_until_converged(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    rel_tol: float = 1e-4,
    patience: int = 10,
    max_epochs: int = 10_000,
    shuffle: bool = False,
    seed: int = 0,
) -> History:
    """Train until the loss stops changing, as fitters such as Minuit do (chapter 1).

    After every epoch the loss of the whole data set is computed; the loop
    stops when its relative change between consecutive epochs has stayed
    below ``rel_tol`` for ``patience`` epochs in a row, or after
    ``max_epochs``. ``History.converged`` says which.
    """
    batch_size = _check_stopping(X, y, batch_size, rel_tol, patience, max_epochs)
    optimizer = optimizer if optimizer is not None else _default_optimizer(model)
    generator = torch.Generator().manual_seed(seed)
    history = History(batch_size)
    quiet = 0
    previous = evaluate_loss(model, X, y)
    for _ in range(max_epochs):
        result = run_epoch(
            model, X, y, optimizer, batch_size, shuffle=shuffle, generator=generator
        )
        current = evaluate_loss(model, X, y)
        history.add(result, current)
        change = abs(previous - current) / max(abs(previous), 1e-300)
        quiet = quiet + 1 if change < rel_tol else 0
        previous = current
        if quiet >= patience:
            history.converged = True
            break
    return history


@dataclass(frozen=True)
class RMSEReport:
    """Three RMSEs of one training epoch (chapter 2).

    Attributes
    ----------
    averaged
        Mean of the per-batch RMSEs during the epoch: what a loop that sums
        batch RMSEs and divides by the number of batches prints. Mixes two
        effects: the model improves during the epoch, and the average of
        square roots is below the square root of the average.
    accumulated
        sqrt(Σ squared errors / rows) during the same epoch: the model still
        changes, but the averaging bias is gone.
    after
        RMSE of all rows with the model as it is at the end of the epoch.
    """

    averaged: float
    accumulated: float
    after: float


def train_epoch_rmse(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    *,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> RMSEReport:
    """Train one epoch on the per-batch RMSE loss and report three RMSEs (chapter 2).

    The loss minimized for each batch is ``sqrt(mse_loss(model(x), y))``, as
    in the reader's loop of chapter 2. See :class:`RMSEReport`.
    """
    check_xy(X, y)
    batch_size = check_batch_size(batch_size, len(X))
    accumulator = EpochRMSE()
    total, count = 0.0, 0
    for idx in epoch_batches(len(X), batch_size, shuffle=shuffle, generator=generator):
        predictions = model(X[idx])
        loss = torch.sqrt(nn.functional.mse_loss(predictions, y[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
        count += 1
        accumulator.update(predictions, y[idx])
    after = math.sqrt(evaluate_loss(model, X, y, "mean"))
    return RMSEReport(total / count, accumulator.compute(), after)


def _check_stopping(X, y, batch_size, rel_tol, patience, max_epochs) -> int:
    """Check :func:`train_until_converged`'s arguments; return the batch size."""
    check_xy(X, y)
    check_positive_number(rel_tol, "rel_tol")
    check_positive_int(patience, "patience")
    check_positive_int(max_epochs, "max_epochs")
    return len(X) if batch_size is None else check_batch_size(batch_size, len(X))
