"""Chapter 3's training loop: SGD on a classifier, timed, with the test accuracy.

The loop, :func:`sgd_loop`, shuffles by indexing: once per epoch it draws a
permutation of the rows and cuts it into batches
(:func:`sgdlab.batching.endless_batches`), so a batch is one ``index_select``
of the data tensor. Between two evaluations it does nothing but SGD steps;
the clock stops while the test accuracy is measured. :func:`train_classifier`
checks the arguments, sets the loop up and returns a :class:`TrainingRun`,
which answers "how many steps, rows, seconds until the accuracy reached the
target?".

Every function takes a ``device`` (the loop runs on a GPU when one is given);
the book and the tests run on the CPU.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._checks import (
    check_batch_size,
    check_classification,
    check_positive_int,
    check_positive_number,
)
from .batching import endless_batches
from .metrics import first_reached
from .timing import synchronize


@dataclass(frozen=True)
class TrainingRun:
    """What :func:`train_classifier` recorded at each evaluation.

    Attributes
    ----------
    batch_size, lr
        The settings of the run.
    steps, examples, epochs
        Optimizer steps, rows seen and epochs (fractional) at each evaluation.
    seconds
        Wall-clock training time at each evaluation, evaluations excluded.
    accuracy
        Test accuracy at each evaluation (the first is before training).
    diverged
        Whether the loss became NaN or infinite (the run then stopped).
    """

    batch_size: int
    lr: float
    steps: np.ndarray
    examples: np.ndarray
    epochs: np.ndarray
    seconds: np.ndarray
    accuracy: np.ndarray
    diverged: bool = False

    def _crossing(self, target: float) -> float | None:
        """Fractional evaluation index where ``accuracy`` first reaches ``target``,
        interpolated linearly between the evaluation before and the one at."""
        i = first_reached(self.accuracy, target, below=False)
        if i is None or i == 0:
            return None if i is None else 0.0
        a0, a1 = self.accuracy[i - 1], self.accuracy[i]
        return i - 1 + float((target - a0) / (a1 - a0))

    def _at(self, values: np.ndarray, target: float) -> float | None:
        x = self._crossing(target)
        if x is None:
            return None
        return float(np.interp(x, np.arange(values.size), values))

    def steps_to(self, target: float) -> float | None:
        """Steps until the test accuracy first reached ``target`` (``None`` if
        never), interpolated between the two evaluations around the crossing."""
        return self._at(self.steps, target)

    def seconds_to(self, target: float) -> float | None:
        """Training seconds until the accuracy first reached ``target`` (or ``None``)."""
        return self._at(self.seconds, target)

    def examples_to(self, target: float) -> float | None:
        """Rows seen until the accuracy first reached ``target`` (or ``None``)."""
        return self._at(self.examples, target)


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows of ``X`` whose highest score is the label ``y``."""
    with torch.no_grad():
        return float((model(X).argmax(dim=1) == y).float().mean())


def question_accuracy(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int = 50,
    no_grad: bool = False,
) -> float:
    """Accuracy computed as the MNIST question's code computes it.

    The model scores the rows in batches of ``batch_size`` (50, the question's
    test loader), and a Python loop then compares each row's prediction with
    its label, one image at a time. With ``no_grad=False`` (the question's
    way) autograd records each forward pass for a backward pass that never
    comes. Chapter 3 times this against :func:`accuracy`, one batched call
    under ``torch.no_grad()``; the result is the same, only the time differs.
    """
    check_classification(X, y, "X")
    batch_size = check_batch_size(batch_size, X.shape[0])
    correct = 0
    with torch.set_grad_enabled(not no_grad):
        for start in range(0, X.shape[0], batch_size):
            predicted = model(X[start : start + batch_size]).argmax(dim=1)
            for guess, label in zip(
                predicted, y[start : start + batch_size], strict=True
            ):
                correct += int(guess == label)
    return correct / X.shape[0]


@dataclass(frozen=True)
class Plan:
    """How long :func:`sgd_loop` trains and when it looks.

    ``steps`` in all; the test accuracy is measured after each step count in
    ``checkpoints``; the run stops at the first accuracy of at least
    ``target`` (never, if ``None``).
    """

    steps: int
    checkpoints: frozenset[int]
    target: float | None = None


def eval_schedule(total_steps: int, evaluations: int) -> frozenset[int]:
    """Steps after which to evaluate: about ``evaluations`` points, spaced
    geometrically (dense early, when accuracy changes fast), always ending at
    the last step."""
    points = np.geomspace(1, total_steps, evaluations)
    return frozenset(np.unique(np.round(points).astype(int)).tolist())


def sgd_loop(model, X, y, batches, optimizer, scheduler, plan, evaluate):
    """Take SGD steps on ``batches`` as ``plan`` says; time them, evaluate.

    Between two checkpoints the loop does nothing but steps; the clock stops
    while ``evaluate()`` measures the test accuracy. It ends early at the
    first evaluation that reaches ``plan.target``, or once the loss is no
    longer finite. Returns ``(steps, rows, seconds, accuracy)`` at each
    evaluation, and whether the loss diverged.
    """
    loss_fn = nn.CrossEntropyLoss()
    steps, rows, seconds, diverged = 0, 0, 0.0, False
    record = [(steps, rows, seconds, evaluate())]
    while steps < plan.steps and not diverged:
        start = time.perf_counter()
        while steps < plan.steps:
            idx = next(batches)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(X.index_select(0, idx)), y.index_select(0, idx))
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            steps, rows = steps + 1, rows + idx.shape[0]
            if steps in plan.checkpoints:
                break
        synchronize(X.device)
        seconds += time.perf_counter() - start
        diverged = not torch.isfinite(loss.detach())
        record.append((steps, rows, seconds, evaluate()))
        if plan.target is not None and record[-1][3] >= plan.target:
            break
    return record, diverged


def train_classifier(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    lr: float,
    epochs: float | None = None,
    steps: int | None = None,
    X_test: torch.Tensor,
    y_test: torch.Tensor,
    evaluations: int = 40,
    target: float | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    lr_lambda=None,
) -> TrainingRun:
    """Train a classifier with plain SGD and cross-entropy, timing the training.

    The rows are reshuffled every epoch (a seeded permutation) and cut into
    batches of ``batch_size``; the last batch of an epoch may be shorter.
    The test accuracy is measured about ``evaluations`` times, at steps spaced
    geometrically; evaluation time is not counted in ``seconds``. The loop
    itself is :func:`sgd_loop`; this function is long only for its parameters,
    each documented below.

    Parameters
    ----------
    model
        A classifier returning one score per class; trained in place.
    X, y
        Training rows and int64 labels.
    batch_size
        Rows per step, between 1 and ``len(X)``.
    lr
        Learning rate of ``torch.optim.SGD``.
    epochs, steps
        How long to train; give exactly one.
    X_test, y_test
        Where the accuracy is measured.
    evaluations
        About how many accuracy measurements to take.
    target
        Stop at the first evaluation whose accuracy reaches ``target``.
    seed
        Seed of the shuffling.
    device
        Where to train (``"cpu"`` or ``"cuda"``); data are moved there once.
    lr_lambda
        Optional multiplier of ``lr`` as a function of the step count (from
        0), applied with ``torch.optim.lr_scheduler.LambdaLR``, for example a
        warm-up.
    """
    batch_size, total = _check_run(X, y, X_test, y_test, batch_size, lr, epochs, steps)
    evaluations = check_positive_int(evaluations, "evaluations")
    plan = Plan(total, eval_schedule(total, evaluations), target)
    device = torch.device(device)
    X, y = X.to(device), y.to(device)
    X_test, y_test = X_test.to(device), y_test.to(device)
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=float(lr))
    scheduler = None if lr_lambda is None else _lambda_lr(optimizer, lr_lambda)
    generator = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    batches = endless_batches(
        lambda: torch.randperm(n, generator=generator).to(device), batch_size
    )
    record, diverged = sgd_loop(
        model,
        X,
        y,
        batches,
        optimizer,
        scheduler,
        plan,
        lambda: accuracy(model, X_test, y_test),
    )
    at_steps, rows, seconds, acc = (
        np.array(column) for column in zip(*record, strict=True)
    )
    return TrainingRun(
        batch_size=batch_size,
        lr=float(lr),
        steps=at_steps,
        examples=rows,
        epochs=rows / n,
        seconds=seconds,
        accuracy=acc,
        diverged=diverged,
    )


def _check_run(X, y, X_test, y_test, batch_size, lr, epochs, steps) -> tuple[int, int]:
    """Check :func:`train_classifier`'s arguments; return the batch size and
    the number of steps."""
    check_classification(X, y, "X")
    check_classification(X_test, y_test, "X_test")
    batch_size = check_batch_size(batch_size, X.shape[0])
    check_positive_number(lr, "lr")
    if (epochs is None) == (steps is None):
        raise ValueError("give exactly one of epochs= and steps=")
    if steps is not None:
        return batch_size, check_positive_int(steps, "steps")
    epochs = check_positive_number(epochs, "epochs")
    return batch_size, max(1, round(epochs * math.ceil(X.shape[0] / batch_size)))


def _lambda_lr(optimizer, lr_lambda) -> torch.optim.lr_scheduler.LambdaLR:
    if not callable(lr_lambda):
        raise ValueError("lr_lambda must be a function of the step count")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
