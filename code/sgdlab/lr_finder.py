"""The learning-rate range test (Smith 2015/2017; fastai's ``lr_find``).

Used by the chapter on SGD, batch size and schedules. Train for a short while
with a learning rate that grows exponentially, one value per step, and watch
the loss: it first barely moves, then falls, then blows up. A good rate sits
where it falls fastest, well before it blows up.

Works with any ``torch.optim.Optimizer`` (sgdlab's or torch's): the rate is
set through ``optimizer.param_groups[i]["lr"]``, which is the only way to
change it in a torch optimizer (an ``optimizer.lr`` attribute would be
ignored).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ._checks import check_beta, check_positive_int, check_positive_number

__all__ = ["RangeTest", "range_test", "smooth"]


def smooth(losses, beta: float = 0.98) -> np.ndarray:
    """Exponential moving average of ``losses``, debiased.

    ``a_t = β·a_{t−1} + (1−β)·loss_t`` with ``a_0 = 0``, reported as
    ``a_t/(1−βᵗ)``: without the division the first values would be pulled
    towards 0 (the same correction as Adam's).
    """
    beta = check_beta(beta, "beta")
    losses = np.asarray(losses, dtype=float)
    out = np.empty_like(losses)
    avg = 0.0
    for t, loss in enumerate(losses, start=1):
        avg = beta * avg + (1 - beta) * loss
        out[t - 1] = avg / (1 - beta**t)
    return out


@dataclass(frozen=True)
class RangeTest:
    """The outcome of a range test.

    ``lrs[k]`` is the rate of step ``k``, ``losses[k]`` the loss computed at
    the start of that step, ``smoothed[k]`` its debiased EMA. ``diverged`` says
    whether the test stopped early because the smoothed loss exceeded
    ``diverge_factor`` × its best value (or became non-finite).
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    diverged: bool

    @property
    def min_lr(self) -> float:
        """The rate at the smallest smoothed loss."""
        return float(self.lrs[int(np.nanargmin(self.smoothed))])

    @property
    def steepest_lr(self) -> float:
        """The rate where the smoothed loss falls fastest per decade of rate.

        Searched after the first tenth of the steps (the debiased average of a
        few noisy losses is itself noisy) and before the minimum (after it the
        loss is blowing up).
        """
        stop = int(np.nanargmin(self.smoothed)) + 1
        skip = max(1, len(self.smoothed) // 10)
        if stop - skip < 3:
            return self.min_lr
        slope = np.gradient(self.smoothed[skip:stop], np.log10(self.lrs[skip:stop]))
        return float(self.lrs[skip + int(np.argmin(slope))])

    @property
    def valley(self) -> tuple[int, int]:
        """First and last step of the longest falling stretch of the smoothed
        loss: its longest decreasing subsequence (not necessarily contiguous, so
        noise does not break it)."""
        s = self.smoothed
        n = len(s)
        length = np.ones(n, dtype=int)
        for i in range(1, n):
            higher = s[:i] > s[i]
            if higher.any():
                length[i] = length[:i][higher].max() + 1
        end = int(np.argmax(length))
        return end - int(length[end]) + 1, end

    @property
    def valley_lr(self) -> float:
        """fastai's "valley" rule: the rate halfway along the longest falling
        stretch (:attr:`valley`). More robust to noisy losses than the steepest
        point.
        """
        start, end = self.valley
        third = (end - start) / 3
        return float(self.lrs[start + int(third) + int(third / 2)])

    @property
    def suggestion(self) -> float:
        """The suggested rate: the valley rule (:attr:`valley_lr`)."""
        return self.valley_lr

    @property
    def min_over_ten(self) -> float:
        """The other common rule: a tenth of the rate at the minimum."""
        return self.min_lr / 10


def range_test(
    optimizer: torch.optim.Optimizer,
    closure: Callable[[], torch.Tensor],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    lrs=None,
    beta: float = 0.98,
    diverge_factor: float = 4.0,
    restore: bool = True,
) -> RangeTest:
    """Run a learning-rate range test.

    Parameters
    ----------
    optimizer
        Any ``torch.optim.Optimizer``; every param group gets the same rate.
    closure
        Computes and returns the loss (a scalar tensor) for the current
        parameters, e.g. on the next mini-batch. Do not call ``backward``: the
        test zeroes the gradients, calls ``backward`` and steps.
    start_lr, end_lr, num_steps
        The sweep: ``num_steps`` rates spaced evenly in log from ``start_lr``
        to ``end_lr``. Ignored when ``lrs`` is given.
    lrs
        An explicit increasing sequence of rates, one per step.
    beta
        EMA rate of the smoothing (see :func:`smooth`).
    diverge_factor
        Stop when the smoothed loss exceeds this multiple of its minimum.
    restore
        Put parameters and optimizer state back as they were afterwards, so
        the test does not train the model.
    """
    if lrs is None:
        lrs = _sweep(start_lr, end_lr, num_steps)
    lrs = _check_range(optimizer, lrs, beta, diverge_factor)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved_params = [p.detach().clone() for p in params]
    saved_state = copy.deepcopy(optimizer.state_dict())

    try:
        record = _increase_until_divergence(
            optimizer, closure, lrs, beta, diverge_factor
        )
    finally:
        if restore:
            with torch.no_grad():
                for p, saved in zip(params, saved_params, strict=True):
                    p.copy_(saved)
            optimizer.load_state_dict(saved_state)
    return record


def _increase_until_divergence(
    optimizer, closure, lrs, beta, diverge_factor
) -> RangeTest:
    """The range test's loop: one step per rate of ``lrs``, stopping when the
    smoothed loss is no longer finite or exceeds ``diverge_factor`` times its
    minimum so far."""
    used, losses, smoothed = [], [], []
    avg, best, diverged = 0.0, math.inf, False
    for t, lr in enumerate(lrs, start=1):
        for group in optimizer.param_groups:
            group["lr"] = float(lr)
        optimizer.zero_grad()
        loss = closure()
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError("closure must return the loss as a scalar tensor")
        value = loss.item()
        used.append(float(lr))
        losses.append(value)
        avg = beta * avg + (1 - beta) * value
        s = avg / (1 - beta**t)
        smoothed.append(s)
        if not math.isfinite(s) or s > diverge_factor * best:
            diverged = True
            break
        best = min(best, s)
        loss.backward()
        optimizer.step()
    return RangeTest(np.array(used), np.array(losses), np.array(smoothed), diverged)


def _sweep(start_lr, end_lr, num_steps) -> np.ndarray:
    """``num_steps`` rates spaced evenly in log from ``start_lr`` to ``end_lr``."""
    start_lr = check_positive_number(start_lr, "start_lr")
    end_lr = check_positive_number(end_lr, "end_lr")
    if end_lr <= start_lr:
        raise ValueError(f"end_lr must exceed start_lr, got {start_lr} and {end_lr}")
    return np.geomspace(start_lr, end_lr, check_positive_int(num_steps, "num_steps"))


def _check_range(optimizer, lrs, beta, diverge_factor) -> np.ndarray:
    """Check :func:`range_test`'s arguments; return the rates as an array."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}"
        )
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    if lrs.size < 2 or not np.all(np.isfinite(lrs)) or (lrs <= 0).any():
        raise ValueError("lrs must hold at least 2 positive finite rates")
    if (np.diff(lrs) <= 0).any():
        raise ValueError("lrs must be strictly increasing")
    check_beta(beta, "beta")
    if check_positive_number(diverge_factor, "diverge_factor") <= 1:
        raise ValueError(f"diverge_factor must exceed 1, got {diverge_factor}")
    return lrs
