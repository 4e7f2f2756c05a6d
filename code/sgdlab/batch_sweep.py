"""Choosing a batch size by measurement: the sweep and the learning-rate tuner.

Used by chapter 3. :func:`sweep_batch_sizes` tries the powers of two around
``sqrt(n_rows)`` (:func:`initial_grid`), then the two ``3·2ⁿ`` sizes either
side of the best (:func:`refine`). At each batch size, :func:`tune_lr` finds
the learning rate that reaches a target accuracy in the fewest steps, since
a batch size is only as good as the rate it is run with. A run that never
reaches the target counts as ``None`` (see :func:`sgdlab.metrics.first_reached`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._checks import check_batch_size, check_non_negative_int, check_positive_int
from .timed_training import TrainingRun


def _never_last(value: float | None) -> float:
    """Sort key: a value that was never reached comes after every number."""
    return math.inf if value is None else value


def initial_grid(n_rows: int, width: int = 2) -> list[int]:
    """Powers of two around ``sqrt(n_rows)``: the nearest one and ``width``
    doublings either side, kept between 1 and ``n_rows``.

    For 60,000 rows: ``[64, 128, 256, 512, 1024]``.
    """
    n_rows = check_positive_int(n_rows, "n_rows")
    width = check_non_negative_int(width, "width")
    centre = round(math.log2(math.sqrt(n_rows)))
    return [
        2**k for k in range(centre - width, centre + width + 1) if 1 <= 2**k <= n_rows
    ]


def refine(best: int, n_rows: int) -> list[int]:
    """The two ``3·2ⁿ`` sizes either side of a power of two ``best``:
    ``0.75·best`` and ``1.5·best`` (for 256: 192 and 384), within 1..n_rows."""
    n_rows = check_positive_int(n_rows, "n_rows")
    best = check_batch_size(best, n_rows)
    if best & (best - 1):
        raise ValueError(
            f"best must be a power of two from the initial grid, got {best}"
        )
    return [b for b in (3 * best // 4, 3 * best // 2) if 1 <= b <= n_rows and b != best]


@dataclass(frozen=True)
class Sweep:
    """What a batch-size sweep measured: one value (say, seconds to a target
    accuracy) per batch size tried, in increasing order of batch size."""

    batch_sizes: list[int]
    values: list[float | None]
    initial: list[int]
    refined: list[int]

    @property
    def best(self) -> int:
        """The batch size with the smallest value (``None`` counts as the largest)."""
        best = min(range(len(self.values)), key=lambda i: _never_last(self.values[i]))
        return self.batch_sizes[best]


def sweep_batch_sizes(
    measure: Callable[[int], float | None], n_rows: int, *, width: int = 2
) -> Sweep:
    """Run the sweep procedure: :func:`initial_grid` (powers of two around
    ``sqrt(n_rows)``), then the :func:`refine` sizes around the best of them.

    ``measure(batch_size)`` returns the quantity to minimize, typically the
    seconds to reach a target accuracy (``None`` if never reached).
    """
    if not callable(measure):
        raise ValueError(
            "measure must be a function of the batch size returning a number"
        )
    values: dict[int, float | None] = {}
    initial = initial_grid(n_rows, width)
    for b in initial:
        values[b] = _measured(measure(b))
    best = min(initial, key=lambda b: _never_last(values[b]))
    refined = [b for b in refine(best, n_rows) if b not in values]
    for b in refined:
        values[b] = _measured(measure(b))
    sizes = sorted(values)
    return Sweep(sizes, [values[b] for b in sizes], initial, refined)


def _measured(value: float | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class TunedPoint:
    """The best run at one batch size: fewest steps to the target over the
    learning rates tried."""

    batch_size: int
    lr: float
    steps: float | None
    examples: float | None
    seconds: float | None
    tried: dict[float, float | None]


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
        return _never_last(runs[j].steps_to(target))

    best = i
    for direction in (1, -1):
        j = best
        while 0 <= j + direction < len(grid) and steps_at(j + direction) < steps_at(
            best
        ):
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
