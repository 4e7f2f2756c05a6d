"""The cost of one training step: timings, the model ``t0 + b·t1``, and its optimum.

Used by chapter 3. One step at batch size ``b`` costs about ``t0 + b * t1``:
a fixed overhead ``t0`` (Python, the optimizer, launching each operation) and
a cost ``t1`` per row (the arithmetic). :func:`time_steps` measures steps
(batching by indexing, as :func:`sgdlab.timed_training.sgd_loop` does, or with
a ``DataLoader``), :func:`fit_step_time` fits the model, :func:`flops_per_row`
counts the arithmetic, and :func:`matmul_peak` measures how fast this machine
multiplies matrices, the floor under any step. :func:`optimal_batch_size`
puts the fit together with the noise scale of :mod:`sgdlab.noise`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Iterator, Mapping, Sequence
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
from .timing import interleaved_best, synchronize


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
    warmup: bool = True,
) -> float:
    """Seconds per training step at ``batch_size``: the best of ``repeats`` runs
    of ``n_steps`` steps each (after one untimed warm-up step, unless
    ``warmup=False``).

    ``loader="index"`` batches as :func:`sgdlab.timed_training.sgd_loop` does (a shuffled
    permutation, sliced and gathered); ``loader="dataloader"`` uses
    ``DataLoader(TensorDataset(X, y), batch_size, shuffle=True)``; both then
    run the same SGD step. The model is trained in place (timings do not
    depend on the weights' values).
    """
    check_classification(X, y)
    batch_size = check_batch_size(batch_size, X.shape[0])
    n_steps = check_positive_int(n_steps, "n_steps")
    repeats = check_positive_int(repeats, "repeats")
    if loader not in ("index", "dataloader"):
        raise ValueError(f"loader must be 'index' or 'dataloader', got {loader!r}")
    device = torch.device(device)
    X, y = X.to(device), y.to(device)
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=check_positive_number(lr, "lr"))
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    make_stream = _dataloader_stream if loader == "dataloader" else _index_stream
    stream = make_stream(X, y, batch_size, generator)

    def step() -> None:
        xb, yb = next(stream)
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(xb), yb).backward()
        optimizer.step()

    if warmup:
        step()
    best = math.inf
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        for _ in range(n_steps):
            step()
        synchronize(device)
        best = min(best, (time.perf_counter() - start) / n_steps)
    return best


def steps_for(batch_size: int, rows: int = 4096, most: int = 400) -> int:
    """How many steps to time at ``batch_size``: about ``rows`` rows' worth,
    at most ``most`` and at least one."""
    return max(1, min(most, rows // batch_size))


def step_times(
    setups: Mapping[Hashable, tuple[nn.Module, str]],
    X: torch.Tensor,
    y: torch.Tensor,
    batch_sizes: Sequence[int],
    *,
    rounds: int = 3,
    rows: int = 4096,
    device: str | torch.device = "cpu",
) -> dict[Hashable, np.ndarray]:
    """Seconds per step for each setup ``(model, loader)`` at each batch size.

    Every (batch size, setup) pair is timed once per round with
    :func:`time_steps` (:func:`steps_for` steps), all pairs in turn, and
    each keeps its fastest round (:func:`sgdlab.timing.interleaved_best`):
    a busy spell of the machine then slows every setup alike instead of
    the one that happened to run during it. The first round doubles as the
    warm-up. Returns one array per setup, in the order of ``batch_sizes``.
    """
    device = torch.device(device)
    X, y = X.to(device), y.to(device)
    timers = {
        (key, b): lambda m=model, ld=loader, b=b: time_steps(
            m,
            X,
            y,
            b,
            n_steps=steps_for(b, rows),
            loader=ld,
            repeats=1,
            device=device,
            warmup=False,
        )
        for b in batch_sizes
        for key, (model, loader) in setups.items()
    }
    best = interleaved_best(timers, rounds=rounds)
    return {key: np.array([best[key, b] for b in batch_sizes]) for key in setups}


Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


def _index_stream(X, y, batch_size: int, generator: torch.Generator) -> Batches:
    """Batches as :func:`sgdlab.timed_training.sgd_loop` makes them, without end."""
    n = X.shape[0]
    for idx in endless_batches(
        lambda: torch.randperm(n, generator=generator).to(X.device), batch_size
    ):
        yield X.index_select(0, idx), y.index_select(0, idx)


def _dataloader_stream(X, y, batch_size: int, generator: torch.Generator) -> Batches:
    """Batches of ``DataLoader(TensorDataset(X, y), shuffle=True)``, without end."""
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(
        TensorDataset(X, y), batch_size=batch_size, shuffle=True, generator=generator
    )
    while True:
        yield from loader


def time_batching(
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    n_batches: int,
    loader: str = "index",
    seed: int = 0,
) -> float:
    """Seconds to produce one batch, without training on it: the batching part
    of a step, for ``loader="index"`` or ``"dataloader"`` as in :func:`time_steps`."""
    check_classification(X, y)
    batch_size = check_batch_size(batch_size, X.shape[0])
    n_batches = check_positive_int(n_batches, "n_batches")
    if loader not in ("index", "dataloader"):
        raise ValueError(f"loader must be 'index' or 'dataloader', got {loader!r}")
    make_stream = _dataloader_stream if loader == "dataloader" else _index_stream
    stream = make_stream(X, y, batch_size, torch.Generator().manual_seed(seed))
    next(stream)  # warm-up
    start = time.perf_counter()
    for _ in range(n_batches):
        next(stream)
    return (time.perf_counter() - start) / n_batches


def time_bare_steps(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    n_steps: int,
    repeats: int = 3,
) -> float:
    """Seconds per step of the barest batch-1 loop one can write in torch.

    No shuffling and no gathering: row ``i`` is ``X[i : i + 1]``. It is the
    reference the benchmark holds :func:`time_steps` to at batch 1.
    """
    check_classification(X, y)
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


def matmul_peak(
    size: int = 1024, *, repeats: int = 5, device: str | torch.device = "cpu"
) -> float:
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
        synchronize(device)
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


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


def fit_step_time(
    batch_sizes: Sequence[float], seconds: Sequence[float]
) -> StepTimeFit:
    """Fit ``t0 + b * t1`` to step times by least squares on *relative* errors.

    Each point is weighted by ``1 / seconds`` so that the small batches, whose
    times are tiny, count as much as the large ones. Needs at least two
    distinct batch sizes; both coefficients must come out positive.
    """
    b = np.asarray(batch_sizes, dtype=float)
    t = np.asarray(seconds, dtype=float)
    if b.ndim != 1 or b.shape != t.shape:
        raise ValueError(
            "batch_sizes and seconds must be 1-D sequences of the same length"
        )
    if np.unique(b).size < 2:
        raise ValueError(
            "need timings at two or more distinct batch sizes to fit t0 + b*t1"
        )
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
    b_noise = check_positive_number(b_noise, "b_noise")
    t0, t1 = check_positive_number(t0, "t0"), check_positive_number(t1, "t1")
    return math.sqrt(b_noise * t0 / t1)
