"""Monte-Carlo simulations with their uncertainties (chapter 2).

A simulated mean without its standard error cannot tell a real effect from
noise. Every function here returns both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._checks import check_positive_int, check_positive_number
from .metrics import expected_batch_rmse

#: Largest number of normal draws held in memory at once.
_CHUNK = 2_000_000


@dataclass(frozen=True)
class MonteCarloRMSE:
    """Simulated mean RMSE per batch size, with standard errors and z-scores."""

    batch_sizes: np.ndarray
    mean: np.ndarray
    """Mean over the simulated batches of the batch RMSE."""
    std: np.ndarray
    """Standard deviation of the batch RMSE across simulated batches."""
    sem: np.ndarray
    """Standard error of ``mean``: ``std / sqrt(n_batches)``."""
    exact: np.ndarray
    """The exact expectation, :func:`sgdlab.metrics.expected_batch_rmse`."""
    n_batches: int

    @property
    def z(self) -> np.ndarray:
        """(simulated − exact) / standard error: about N(0, 1) if all is well."""
        return (self.mean - self.exact) / self.sem


def z_scores(
    values: Sequence[float], exact: Sequence[float], sem: Sequence[float]
) -> np.ndarray:
    """How many standard errors each value lies from the exact one."""
    values, exact, sem = (np.asarray(a, dtype=float) for a in (values, exact, sem))
    if not values.shape == exact.shape == sem.shape:
        raise ValueError(
            f"values, exact and sem must have the same shape, got "
            f"{values.shape}, {exact.shape} and {sem.shape}"
        )
    if np.any(sem <= 0):
        raise ValueError("standard errors must be positive")
    return (values - exact) / sem


def simulate_batch_rmse(
    sigma: float,
    batch_sizes: Sequence[int],
    *,
    n_batches: int = 10_000,
    seed: int = 0,
) -> MonteCarloRMSE:
    """Draw ``n_batches`` batches of i.i.d. N(0, σ²) errors per batch size and
    return the mean batch RMSE with its standard error.

    The errors themselves are drawn (not a χ² shortcut), in chunks so that a
    batch size of 10⁴ with 10⁴ batches never holds more than a few million
    numbers at once. One ``numpy.random.Generator`` seeded with ``seed`` serves
    all batch sizes in order, so the result repeats exactly.
    """
    sigma = check_positive_number(sigma, "sigma")
    n_batches = check_positive_int(n_batches, "n_batches")
    if n_batches < 2:
        raise ValueError("n_batches must be at least 2 to estimate a standard error")
    sizes = [check_positive_int(b, "batch size") for b in batch_sizes]
    if not sizes:
        raise ValueError("batch_sizes is empty: give at least one batch size")
    rng = np.random.default_rng(seed)
    means, stds = [], []
    for b in sizes:
        rows_per_chunk = max(1, _CHUNK // b)
        rmse = np.empty(n_batches)
        for start in range(0, n_batches, rows_per_chunk):
            stop = min(start + rows_per_chunk, n_batches)
            errors = rng.normal(0.0, sigma, size=(stop - start, b))
            rmse[start:stop] = np.sqrt(np.mean(errors**2, axis=1))
        means.append(rmse.mean())
        stds.append(rmse.std(ddof=1))
    mean, std = np.array(means), np.array(stds)
    return MonteCarloRMSE(
        batch_sizes=np.array(sizes),
        mean=mean,
        std=std,
        sem=std / math.sqrt(n_batches),
        exact=np.asarray(expected_batch_rmse(sigma, np.array(sizes))),
        n_batches=n_batches,
    )


def shuffle_bias(
    residuals: Sequence[float] | np.ndarray,
    batch_size: int,
    *,
    shuffles: int = 200,
    seed: int = 0,
) -> np.ndarray:
    """How far the mean of batch RMSEs falls below the RMSE, for fixed residuals
    cut into batches in ``shuffles`` random orders (chapter 2).

    Returns one value per shuffle, ``1 − (mean of batch RMSEs) / RMSE``, the
    relative under-reporting of a loop that averages batch RMSEs over one
    epoch of a frozen model. Each order is a permutation drawn from one
    ``numpy.random.Generator`` seeded with ``seed``; the batches are that
    order's consecutive slices of ``batch_size`` rows (the last may be shorter).
    """
    errors = np.asarray(residuals, dtype=float).ravel()
    if errors.size == 0 or not np.all(np.isfinite(errors)):
        raise ValueError("residuals must be a non-empty array of finite numbers")
    if not np.any(errors):
        raise ValueError("residuals are all zero: the RMSE is zero, no ratio exists")
    batch_size = check_positive_int(batch_size, "batch_size")
    if batch_size > errors.size:
        raise ValueError(
            f"batch_size must be between 1 and {errors.size}, got {batch_size}"
        )
    shuffles = check_positive_int(shuffles, "shuffles")
    rng = np.random.default_rng(seed)
    cuts = np.arange(batch_size, errors.size, batch_size)
    lengths = np.diff(np.concatenate([[0], cuts, [errors.size]]))
    rmse = math.sqrt(float(np.mean(errors**2)))
    bias = np.empty(shuffles)
    for k in range(shuffles):
        sums = np.add.reduceat(
            errors[rng.permutation(errors.size)] ** 2, np.r_[0, cuts]
        )
        bias[k] = 1.0 - float(np.mean(np.sqrt(sums / lengths))) / rmse
    return bias
