"""Batch size and training time: the fast mini-batch loop, its timings, and
time to a target accuracy.

Used by chapter 3. Every function takes a ``device`` (the loop runs on a GPU
when one is given); the book and the tests run on the CPU.

The loop, :func:`train_classifier`, shuffles by indexing: once per epoch it
draws a permutation of the rows and slices it into batches, so a batch is one
``index_select`` of the data tensor. ``DataLoader(TensorDataset(X, y))`` does
the same job sample by sample: it fetches each row as a separate tensor and
stacks them again. :func:`time_steps` times either way of batching on equal
terms.

Step-time model
---------------
One step at batch size ``b`` costs about ``t0 + b * t1``: a fixed overhead
``t0`` (Python, the optimizer, launching each operation) and a cost ``t1`` per
row (the arithmetic). :func:`fit_step_time` fits it, :func:`flops_per_row`
counts the arithmetic, and :func:`matmul_peak` measures how fast this machine
multiplies matrices, the floor under any step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._checks import check_batch_size, check_positive_int


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------
def make_digit_mlp(
    n_inputs: int = 784,
    n_hidden: int = 256,
    n_classes: int = 10,
    *,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> nn.Sequential:
    """``Linear(784 → 256) → Sigmoid → Linear(256 → 10)``, seeded, on ``device``.

    The classifier of chapter 3 (the reader's MNIST network). The global
    random state is left untouched.
    """
    from .models import make_mlp

    model = make_mlp(n_inputs, n_hidden, n_classes, seed=seed, activation=nn.Sigmoid)
    return model.to(device)


def flops_per_row(model: nn.Module) -> int:
    """Floating-point operations of one training step, per row of the batch.

    For each ``nn.Linear`` with ``n`` inputs and ``m`` outputs: ``2nm`` for the
    forward product, ``2nm`` for the weight gradient, and ``2nm`` for the
    gradient with respect to its input, which autograd skips for the first
    layer (the data need no gradient). Biases and activations are a few
    ``m`` each and are left out.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("the model has no nn.Linear layer to count")
    total = 0
    for i, layer in enumerate(layers):
        nm = layer.in_features * layer.out_features
        total += (4 if i == 0 else 6) * nm
    return total


# --------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------
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
        hits = np.flatnonzero(self.accuracy >= target)
        if not hits.size:
            return None
        i = int(hits[0])
        if i == 0:
            return 0.0
        a0, a1 = self.accuracy[i - 1], self.accuracy[i]
        return i - 1 + float((target - a0) / (a1 - a0))

    def _at(self, values: np.ndarray, target: float) -> float:
        x = self._crossing(target)
        if x is None:
            return math.inf
        return float(np.interp(x, np.arange(values.size), values))

    def steps_to(self, target: float) -> float:
        """Steps until the test accuracy first reached ``target`` (inf if never),
        interpolated between the two evaluations around the crossing."""
        return self._at(self.steps, target)

    def seconds_to(self, target: float) -> float:
        """Training seconds until the accuracy first reached ``target`` (inf if never)."""
        return self._at(self.seconds, target)

    def examples_to(self, target: float) -> float:
        """Rows seen until the accuracy first reached ``target`` (inf if never)."""
        return self._at(self.examples, target)


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Share of rows of ``X`` whose highest score is the label ``y``."""
    with torch.no_grad():
        return float((model(X).argmax(dim=1) == y).float().mean())


def per_sample_accuracy(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, no_grad: bool = False
) -> float:
    """Accuracy computed the slow way, one row at a time in a Python loop (chapter 3).

    This is how the MNIST question's code measures accuracy, kept here so that
    chapter 3 can time it against :func:`accuracy`, which evaluates all rows in
    one batched call under ``torch.no_grad()``. The result is the same; only
    the time differs. With ``no_grad=False`` (the question's way), autograd
    records every forward pass for a backward pass that never comes.
    """
    _check_classification(X, y, "X")
    correct = 0
    with torch.set_grad_enabled(not no_grad):
        for i in range(X.shape[0]):
            scores = model(X[i : i + 1])
            correct += int(scores.argmax(dim=1).item() == y[i].item())
    return correct / X.shape[0]


def _check_lr(lr: float) -> float:
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr > 0 or math.isinf(lr):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    return float(lr)


def _check_classification(X: torch.Tensor, y: torch.Tensor, name: str = "X") -> None:
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D tensor (rows x features)")
    if not isinstance(y, torch.Tensor) or y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"the labels must be a 1-D tensor with one entry per row of {name} ({X.shape[0]} rows)"
        )
    if y.dtype != torch.int64:
        raise ValueError(f"labels must be int64 class indices, got {y.dtype}")


def _eval_schedule(total_steps: int, evaluations: int) -> np.ndarray:
    """Steps after which to evaluate: about ``evaluations`` points, spaced
    geometrically (dense early, when accuracy changes fast), always ending at
    the last step."""
    points = np.unique(np.round(np.geomspace(1, total_steps, evaluations)).astype(int))
    return points


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
    geometrically; evaluation time is not counted in ``seconds``.

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
    _check_classification(X, y, "X")
    _check_classification(X_test, y_test, "X_test")
    n = X.shape[0]
    batch_size = check_batch_size(batch_size, n)
    lr = _check_lr(lr)
    if (epochs is None) == (steps is None):
        raise ValueError("give exactly one of epochs= and steps=")
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int | float) or not epochs > 0:
            raise ValueError(f"epochs must be a positive number, got {epochs!r}")
        steps_per_epoch = math.ceil(n / batch_size)
        total = max(1, round(epochs * steps_per_epoch))
    else:
        total = check_positive_int(steps, "steps")
    evaluations = check_positive_int(evaluations, "evaluations")
    device = torch.device(device)
    X, y = X.to(device), y.to(device)
    X_test, y_test = X_test.to(device), y_test.to(device)
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    if lr_lambda is not None and not callable(lr_lambda):
        raise ValueError("lr_lambda must be a function of the step count")
    scheduler = (
        None if lr_lambda is None else torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    )
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    checkpoints = set(_eval_schedule(total, evaluations).tolist())

    rec_steps, rec_examples, rec_seconds = [0], [0], [0.0]
    rec_acc = [accuracy(model, X_test, y_test)]
    elapsed = 0.0
    step = 0
    examples = 0
    diverged = False
    order = torch.empty(0, dtype=torch.int64)
    position = n
    while step < total and not diverged:
        start = time.perf_counter()
        # Train until the next checkpoint without any Python bookkeeping
        # beyond slicing the permutation.
        while step < total:
            if position >= n:
                order = torch.randperm(n, generator=generator).to(device)
                position = 0
            idx = order[position : position + batch_size]
            position += batch_size
            xb, yb = X.index_select(0, idx), y.index_select(0, idx)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            examples += idx.shape[0]
            if step in checkpoints:
                break
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        elapsed += time.perf_counter() - start
        if not torch.isfinite(loss.detach()):
            diverged = True
        acc = accuracy(model, X_test, y_test)
        rec_steps.append(step)
        rec_examples.append(examples)
        rec_seconds.append(elapsed)
        rec_acc.append(acc)
        if target is not None and acc >= target:
            break
    return TrainingRun(
        batch_size=batch_size,
        lr=lr,
        steps=np.array(rec_steps),
        examples=np.array(rec_examples),
        epochs=np.array(rec_examples) / n,
        seconds=np.array(rec_seconds),
        accuracy=np.array(rec_acc),
        diverged=diverged,
    )


# --------------------------------------------------------------------------
# Timing steps
# --------------------------------------------------------------------------
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    n_steps: int,
    loader: str = "index",
    lr: float = 0.1,
    repeats: int = 3,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> float:
    """Seconds per training step at ``batch_size``: the best of ``repeats`` runs
    of ``n_steps`` steps each (after one untimed warm-up step).

    ``loader="index"`` batches as :func:`train_classifier` does (a shuffled
    permutation, sliced and gathered); ``loader="dataloader"`` uses
    ``DataLoader(TensorDataset(X, y), batch_size, shuffle=True)``; both then
    run the same SGD step. The model is trained in place (timings do not
    depend on the weights' values).
    """
    _check_classification(X, y)
    n = X.shape[0]
    batch_size = check_batch_size(batch_size, n)
    n_steps = check_positive_int(n_steps, "n_steps")
    repeats = check_positive_int(repeats, "repeats")
    if loader not in ("index", "dataloader"):
        raise ValueError(f"loader must be 'index' or 'dataloader', got {loader!r}")
    device = torch.device(device)
    X, y = X.to(device), y.to(device)
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=_check_lr(lr))
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)

    def step(xb: torch.Tensor, yb: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(xb), yb).backward()
        optimizer.step()

    def batches() -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
        if loader == "dataloader":
            from torch.utils.data import DataLoader, TensorDataset

            while True:
                yield from DataLoader(
                    TensorDataset(X, y), batch_size=batch_size, shuffle=True, generator=generator
                )
        while True:
            order = torch.randperm(n, generator=generator).to(device)
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                yield X.index_select(0, idx), y.index_select(0, idx)

    stream = iter(batches())
    step(*next(stream))
    best = math.inf
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        for _ in range(n_steps):
            step(*next(stream))
        _sync(device)
        best = min(best, (time.perf_counter() - start) / n_steps)
    return best


def time_bare_steps(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, *, n_steps: int, repeats: int = 3
) -> float:
    """Seconds per step of the barest batch-1 loop one can write in torch.

    No shuffling and no gathering: row ``i`` is ``X[i : i + 1]``. It is the
    reference the benchmark holds :func:`time_steps` to at batch 1.
    """
    _check_classification(X, y)
    n_steps = check_positive_int(n_steps, "n_steps")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    n = X.shape[0]
    best = math.inf
    for _ in range(check_positive_int(repeats, "repeats")):
        start = time.perf_counter()
        for i in range(n_steps):
            j = i % n
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(X[j : j + 1]), y[j : j + 1]).backward()
            optimizer.step()
        best = min(best, (time.perf_counter() - start) / n_steps)
    return best


def matmul_peak(size: int = 1024, *, repeats: int = 5, device: str | torch.device = "cpu") -> float:
    """This machine's matrix-multiply speed in GFLOP/s: ``torch.mm`` of two
    ``size × size`` float32 matrices, best of ``repeats``, with the thread
    count torch is set to use."""
    size = check_positive_int(size, "size")
    device = torch.device(device)
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(size, size, generator=generator).to(device)
    b = torch.rand(size, size, generator=generator).to(device)
    out = torch.empty(size, size, device=device)
    torch.mm(a, b, out=out)
    best = math.inf
    for _ in range(check_positive_int(repeats, "repeats")):
        _sync(device)
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


# --------------------------------------------------------------------------
# The step-time model t0 + b * t1
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class StepTimeFit:
    """Step time ≈ ``t0 + b * t1`` (seconds), fitted to measured timings."""

    t0: float
    t1: float

    def __call__(self, batch_size) -> np.ndarray | float:
        """Predicted seconds per step at ``batch_size`` (scalar or array)."""
        return self.t0 + np.asarray(batch_size, dtype=float) * self.t1

    def epoch_seconds(self, n_rows: int, batch_size) -> np.ndarray | float:
        """Predicted seconds per epoch of ``n_rows`` rows."""
        b = np.asarray(batch_size, dtype=float)
        return np.ceil(n_rows / b) * self(b)

    @property
    def balance(self) -> float:
        """``t0 / t1``: the batch size at which overhead and arithmetic cost the same."""
        return self.t0 / self.t1


def fit_step_time(batch_sizes: Sequence[float], seconds: Sequence[float]) -> StepTimeFit:
    """Fit ``t0 + b * t1`` to step times by least squares on *relative* errors.

    Each point is weighted by ``1 / seconds`` so that the small batches, whose
    times are tiny, count as much as the large ones. Needs at least two
    distinct batch sizes; both coefficients must come out positive.
    """
    b = np.asarray(batch_sizes, dtype=float)
    t = np.asarray(seconds, dtype=float)
    if b.ndim != 1 or b.shape != t.shape:
        raise ValueError("batch_sizes and seconds must be 1-D sequences of the same length")
    if np.unique(b).size < 2:
        raise ValueError("need timings at two or more distinct batch sizes to fit t0 + b*t1")
    if not (np.isfinite(t).all() and (t > 0).all() and (b >= 1).all()):
        raise ValueError("timings must be positive and finite, batch sizes at least 1")
    w = 1.0 / t
    A = np.column_stack([np.ones_like(b), b]) * w[:, None]
    (t0, t1), *_ = np.linalg.lstsq(A, t * w, rcond=None)
    if t0 <= 0 or t1 <= 0:
        raise ValueError(
            f"the fit gave t0={t0:.3g}, t1={t1:.3g}; a positive overhead and per-row cost "
            "need timings from both small and large batches"
        )
    return StepTimeFit(float(t0), float(t1))


def optimal_batch_size(b_noise: float, t0: float, t1: float) -> float:
    """The batch size that minimizes wall-clock to a target, ``sqrt(B_noise t0 / t1)``.

    With steps ``S = S_min (1 + B_noise / B)`` and step time ``t0 + B t1``,
    the time ``S (t0 + B t1)`` is smallest there.
    """
    for name, v in (("b_noise", b_noise), ("t0", t0), ("t1", t1)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive number, got {v!r}")
    return math.sqrt(b_noise * t0 / t1)


# --------------------------------------------------------------------------
# The sweep procedure
# --------------------------------------------------------------------------
def initial_grid(n_rows: int, width: int = 2) -> list[int]:
    """Powers of two around ``sqrt(n_rows)``: the nearest one and ``width``
    doublings either side, kept between 1 and ``n_rows``.

    For 60,000 rows: ``[64, 128, 256, 512, 1024]``.
    """
    n_rows = check_positive_int(n_rows, "n_rows")
    if isinstance(width, bool) or not isinstance(width, int) or width < 0:
        raise ValueError(f"width must be a non-negative integer, got {width!r}")
    centre = round(math.log2(math.sqrt(n_rows)))
    return [2**k for k in range(centre - width, centre + width + 1) if 1 <= 2**k <= n_rows]


def refine(best: int, n_rows: int) -> list[int]:
    """The two ``3·2ⁿ`` sizes either side of a power of two ``best``:
    ``0.75·best`` and ``1.5·best`` (for 256: 192 and 384), within 1..n_rows."""
    n_rows = check_positive_int(n_rows, "n_rows")
    best = check_batch_size(best, n_rows)
    if best & (best - 1):
        raise ValueError(f"best must be a power of two from the initial grid, got {best}")
    return [b for b in (3 * best // 4, 3 * best // 2) if 1 <= b <= n_rows and b != best]


@dataclass(frozen=True)
class Sweep:
    """What a batch-size sweep measured: one value (say, seconds to a target
    accuracy) per batch size tried, in increasing order of batch size."""

    batch_sizes: list[int]
    values: list[float]
    initial: list[int]
    refined: list[int]

    @property
    def best(self) -> int:
        """The batch size with the smallest value."""
        return self.batch_sizes[int(np.argmin(self.values))]


def sweep_batch_sizes(measure, n_rows: int, *, width: int = 2) -> Sweep:
    """Run the sweep procedure: :func:`initial_grid` (powers of two around
    ``sqrt(n_rows)``), then the :func:`refine` sizes around the best of them.

    ``measure(batch_size)`` returns the quantity to minimize, typically the
    seconds to reach a target accuracy (``inf`` if never reached).
    """
    if not callable(measure):
        raise ValueError("measure must be a function of the batch size returning a number")
    values: dict[int, float] = {}
    initial = initial_grid(n_rows, width)
    for b in initial:
        values[b] = float(measure(b))
    best = min(initial, key=values.__getitem__)
    refined = [b for b in refine(best, n_rows) if b not in values]
    for b in refined:
        values[b] = float(measure(b))
    sizes = sorted(values)
    return Sweep(sizes, [values[b] for b in sizes], initial, refined)


@dataclass(frozen=True)
class TunedPoint:
    """The best run at one batch size: fewest steps to the target over the
    learning rates tried."""

    batch_size: int
    lr: float
    steps: float
    examples: float
    seconds: float
    tried: dict[float, float]


def tune_lr(
    train_at,
    batch_size: int,
    lrs: Sequence[float],
    target: float,
    *,
    start: float | None = None,
) -> TunedPoint:
    """Find the learning rate of ``lrs`` that reaches ``target`` in the fewest steps.

    A local search on the sorted grid: it starts at ``start`` (say, the best
    rate of the previous batch size) and moves up or down while the steps
    keep falling, so it usually trains only two or three times.
    ``train_at(batch_size, lr)`` trains a fresh model and returns a
    :class:`TrainingRun`.
    """
    grid = sorted(float(v) for v in lrs)
    if not grid or any(not v > 0 for v in grid):
        raise ValueError("lrs must be a non-empty list of positive learning rates")
    i = 0 if start is None else int(np.argmin([abs(math.log(v / start)) for v in grid]))
    runs: dict[int, TrainingRun] = {}

    def steps_at(j: int) -> float:
        if j not in runs:
            runs[j] = train_at(batch_size, grid[j])
        return runs[j].steps_to(target)

    best = i
    for direction in (1, -1):
        j = best
        while 0 <= j + direction < len(grid) and steps_at(j + direction) < steps_at(best):
            j += direction
            best = j
    if math.isinf(steps_at(best)):
        best = min(range(len(grid)), key=steps_at)
    run = runs[best]
    return TunedPoint(
        batch_size=batch_size,
        lr=grid[best],
        steps=run.steps_to(target),
        examples=run.examples_to(target),
        seconds=run.seconds_to(target),
        tried={grid[j]: r.steps_to(target) for j, r in sorted(runs.items())},
    )
