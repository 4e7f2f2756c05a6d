"""Losses measured on a model, and the exact statistics of batch RMSEs.

Used by chapter 1 (the "roughness" of the loss: how much χ²/N varies from one
batch to the next, as a function of the batch size) and chapter 2 (why an
average of per-batch RMSEs depends on the batch size, by exactly how much,
and the streaming accumulator that gives the true epoch RMSE).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._checks import (
    check_batch_size,
    check_positive_int,
    check_positive_number,
    check_xy,
)
from .batching import batch_lengths, epoch_batches


def first_reached(
    values: Sequence[float] | np.ndarray, target: float, *, below: bool = True
) -> int | None:
    """Index of the first value that reaches ``target``, or ``None`` if none does.

    The package's one convention for "when was the target first reached?":
    a loss reaches its target at or *below* it (``below=True``), an accuracy at
    or *above* it (``below=False``). Indices count from 0, so a record taken
    once per epoch answers "after epoch ``i + 1``"; callers that count steps
    or seconds index their own records with the answer. ``None`` (never) is
    the only "not reached" value: NaN never reaches a target.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {arr.shape}")
    if (
        isinstance(target, bool)
        or not isinstance(target, numbers.Real)
        or not math.isfinite(target)
    ):
        raise ValueError(f"target must be a finite number, got {target!r}")
    hits = np.flatnonzero(arr <= target) if below else np.flatnonzero(arr >= target)
    return int(hits[0]) if hits.size else None


def per_batch_loss(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    repeats: int = 1,
) -> np.ndarray:
    """χ²/N of every batch of one epoch, for a fixed model.

    N is the *actual* number of rows in the batch, so the shorter last batch
    is measured on the same scale as the others (dividing its χ² by the
    nominal batch size would make it look better than it is).

    With ``shuffle=True`` and ``repeats > 1`` the batches of ``repeats``
    independently shuffled epochs are pooled, which averages out the luck of
    one permutation.

    Returns
    -------
    numpy.ndarray
        One value per batch, ``repeats * ceil(len(X) / batch_size)`` in all.
    """
    repeats = check_positive_int(repeats, "repeats")
    if repeats > 1 and not shuffle:
        raise ValueError(
            "repeats > 1 needs shuffle=True: without shuffling every epoch is the same"
        )
    batches = _row_errors_by_batch(
        model, X, y, batch_size, _chi2, shuffle, seed, repeats
    )
    return np.asarray([float(rows.sum()) / len(rows) for rows in batches])


def _chi2(errors: torch.Tensor) -> torch.Tensor:
    """χ² of every row: its squared errors summed over the outputs."""
    return errors.pow(2).sum(dim=1)


def _mse(errors: torch.Tensor) -> torch.Tensor:
    """Mean squared error of every row, in float64."""
    return errors.double().pow(2).mean(dim=1)


def _row_errors_by_batch(model, X, y, batch_size, per_row, shuffle, seed, repeats=1):
    """``per_row(model(X) - y)``, computed once, cut into the batches of
    ``repeats`` epochs (shuffled with one generator seeded by ``seed``)."""
    check_xy(X, y)
    batch_size = check_batch_size(batch_size, len(X))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        errors = per_row(model(X) - y)
    return [
        errors[idx]
        for _ in range(repeats)
        for idx in epoch_batches(
            len(X), batch_size, shuffle=shuffle, generator=generator
        )
    ]


@dataclass(frozen=True)
class Roughness:
    """Mean and spread of the per-batch χ²/N, one entry per batch size."""

    batch_sizes: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n_batches: np.ndarray

    def crossover(self) -> int | None:
        """Smallest batch size from which on the spread stays below the mean.

        Returns ``None`` if the spread never drops below the mean.
        """
        below = self.std < self.mean
        for i in range(len(below)):
            if below[i:].all():
                return int(self.batch_sizes[i])
        return None


def loss_roughness(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_sizes: Sequence[int],
    *,
    shuffle: bool = False,
    seed: int = 0,
    repeats: int = 1,
) -> Roughness:
    """Mean and standard deviation across batches of χ²/N, for each batch size.

    The standard deviation is the population one (``ddof=0``) over the
    batches of one epoch (or of ``repeats`` shuffled epochs); a batch size
    that gives a single batch has spread 0.
    """
    if len(batch_sizes) == 0:
        raise ValueError("batch_sizes is empty: give at least one batch size")
    sizes, means, stds, counts = [], [], [], []
    for b in batch_sizes:
        values = per_batch_loss(
            model, X, y, b, shuffle=shuffle, seed=seed, repeats=repeats
        )
        sizes.append(int(b))
        means.append(values.mean())
        stds.append(values.std())
        counts.append(len(values))
    return Roughness(np.array(sizes), np.array(means), np.array(stds), np.array(counts))


# --- Chapter 2: the statistics of a batch RMSE -------------------------------

#: Coefficients of the large-b expansion of E[RMSE_b]/σ in powers of 1/b.
SERIES_COEFFICIENTS = (1.0, -1 / 4, 1 / 32, 5 / 128, -21 / 2048, -399 / 8192)

# Below this batch size the exact ratio of gamma functions is used; from it on,
# the six-term series, whose truncation error (< 1e-15 there) is smaller than
# the rounding error of the difference of two large log-gamma values.
_SERIES_FROM = 200


def _check_batch_sizes(b) -> np.ndarray:
    """Batch sizes as a float array, after checking they are integers ≥ 1."""
    arr = np.asarray(b)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"b must be an integer or an array of integers, got {b!r}")
    values = arr.astype(float)
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise ValueError(f"b must hold whole numbers of rows, got {b!r}")
    if np.any(values < 1):
        raise ValueError(f"b must be at least 1 (rows per batch), got {b!r}")
    return values


def _as_output(values: np.ndarray, b) -> float | np.ndarray:
    return float(values) if np.ndim(b) == 0 else values


def expected_batch_rmse(sigma: float, b) -> float | np.ndarray:
    """Exact mean of one batch's RMSE when the errors are i.i.d. N(0, σ²) (chapter 2).

    With ``b`` errors, ``b·MSE_b/σ²`` follows a χ² distribution with ``b``
    degrees of freedom, so ``sqrt(b)·RMSE_b/σ`` follows a chi distribution and

        E[RMSE_b] = σ · sqrt(2/b) · Γ((b+1)/2) / Γ(b/2).

    It rises strictly with ``b`` from ``σ·sqrt(2/π)`` at ``b = 1`` towards σ.

    Parameters
    ----------
    sigma
        Standard deviation σ of the errors, in the units of the target (> 0).
    b
        Batch size, an integer ≥ 1, or an array of them (array in, array out).
        Stable up to and beyond 10⁶: the gamma functions are never formed,
        only differences of their logarithms, and for large ``b`` the
        six-term asymptotic series is used.
    """
    sigma = check_positive_number(sigma, "sigma")
    bb = _check_batch_sizes(b)
    small = bb < _SERIES_FROM
    ratio = np.empty_like(bb)
    if np.any(small):
        lgamma = np.vectorize(math.lgamma, otypes=[float])
        x = bb[small]
        ratio[small] = np.sqrt(2.0 / x) * np.exp(lgamma((x + 1) / 2) - lgamma(x / 2))
    if np.any(~small):
        ratio[~small] = _series(bb[~small], len(SERIES_COEFFICIENTS))
    return _as_output(sigma * ratio, b)


def _series(b: np.ndarray, terms: int) -> np.ndarray:
    inv = 1.0 / b
    total = np.zeros_like(b)
    for coefficient in reversed(SERIES_COEFFICIENTS[:terms]):  # Horner's scheme
        total = total * inv + coefficient
    return total


def batch_rmse_series(sigma: float, b, terms: int = 4) -> float | np.ndarray:
    """E[RMSE_b] from the large-b series, truncated after ``terms`` terms (chapter 2).

    σ(1 − 1/(4b) + 1/(32b²) + 5/(128b³) − 21/(2048b⁴) − 399/(8192b⁵)):
    ``terms=1`` gives σ, ``terms=2`` adds −σ/(4b), and so on up to 6.
    """
    sigma = check_positive_number(sigma, "sigma")
    bb = _check_batch_sizes(b)
    if isinstance(terms, bool) or not isinstance(terms, numbers.Integral):
        raise ValueError(f"terms must be an integer from 1 to 6, got {terms!r}")
    if not 1 <= terms <= len(SERIES_COEFFICIENTS):
        raise ValueError(
            f"terms must be from 1 to {len(SERIES_COEFFICIENTS)}, got {terms}"
        )
    return _as_output(sigma * _series(bb, int(terms)), b)


def batch_rmse_spread(sigma: float, b) -> float | np.ndarray:
    """Standard deviation of one batch's RMSE for i.i.d. N(0, σ²) errors (chapter 2).

    Since E[RMSE_b²] = E[MSE_b] = σ², the variance is σ² − E[RMSE_b]², so the
    spread is σ·sqrt(1 − c_b²) with c_b = E[RMSE_b]/σ; for large b it is close
    to σ/sqrt(2b).
    """
    sigma = check_positive_number(sigma, "sigma")
    c = np.asarray(expected_batch_rmse(1.0, b))
    return _as_output(sigma * np.sqrt(np.maximum(1.0 - c * c, 0.0)), b)


def expected_epoch_rmse_ratio(n_rows: int, batch_size) -> float | np.ndarray:
    """E[mean of batch RMSEs / epoch RMSE] over one epoch of i.i.d. Gaussian errors
    (chapter 2).

    The epoch's ``n_rows`` rows are cut into batches of ``batch_size`` (the last
    one shorter if need be), and the RMSE of each batch is compared with the
    RMSE of all rows of *that* epoch, as a training loop does. With ``Q`` the
    epoch's sum of squared errors and ``Q_j`` batch ``j``'s, ``Q_j/Q`` follows a
    Beta(b_j/2, (N − b_j)/2) distribution independent of ``Q``, so

        E[sqrt(Q_j/b_j) / sqrt(Q/N)] = c_{b_j} / c_N   exactly,

    with ``c_b = expected_batch_rmse(1, b)``; the ratio's mean is the plain
    mean of ``c_{b_j}/c_N`` over the batches. To first order in 1/b, one minus
    it is the i.i.d. bias ``1/(4b)`` times ``(N − b)/(N − 1)``: the batches
    partition a finite epoch, and at ``b = N`` the bias is zero.

    Parameters
    ----------
    n_rows
        Rows in the epoch, N (an integer ≥ 1).
    batch_size
        Rows per batch, from 1 to ``n_rows``, or an array of them.
    """
    n_rows = check_positive_int(n_rows, "n_rows")
    sizes = _check_batch_sizes(batch_size)
    if np.any(sizes > n_rows):
        raise ValueError(
            f"batch_size must be between 1 and {n_rows}, got {batch_size!r}"
        )
    c_epoch = expected_batch_rmse(1.0, n_rows)
    ratios = np.array(
        [
            np.mean(expected_batch_rmse(1.0, np.array(batch_lengths(n_rows, int(b)))))
            / c_epoch
            for b in np.ravel(sizes)
        ]
    ).reshape(sizes.shape)
    return _as_output(ratios, batch_size)


def _check_predictions(predictions: torch.Tensor, targets: torch.Tensor) -> None:
    for name, t in (("predictions", predictions), ("targets", targets)):
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if predictions.shape != targets.shape:
        raise ValueError(
            f"predictions and targets must have the same shape, got "
            f"{tuple(predictions.shape)} and {tuple(targets.shape)}; "
            "reshape one of them (e.g. targets.reshape(-1, 1))"
        )
    if predictions.numel() == 0:
        raise ValueError("predictions are empty: pass at least one row")
    if not torch.isfinite(predictions).all():
        raise ValueError(
            "predictions contain NaN or infinite values: the model has diverged"
        )
    if not torch.isfinite(targets).all():
        raise ValueError("targets contain NaN or infinite values: clean the data first")


class EpochRMSE:
    """Streaming RMSE of all rows seen in an epoch, however batched (chapter 2).

    Feed it every batch with :meth:`update`; :meth:`compute` returns
    sqrt(Σ squared errors / Σ rows), one square root at the end. The result
    equals the RMSE of the whole data set, including when the last batch is
    shorter, which an average of per-batch RMSEs is not.

    Rows are counted along the first dimension; a row with several outputs
    contributes the mean of its squared errors, as ``mse_loss`` does. In a loop:

    >>> acc = EpochRMSE()
    >>> for idx in batches:
    ...     acc.update(model(X[idx]), y[idx])
    >>> acc.compute()
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything seen (call at the start of each epoch)."""
        self.sum_squared_error = 0.0
        self.rows = 0

    def update(self, predictions: torch.Tensor, targets: torch.Tensor) -> None:
        """Add one batch. Gradients are not tracked; the inputs are not changed."""
        _check_predictions(predictions, targets)
        with torch.no_grad():
            errors = (predictions.detach().double() - targets.detach().double()) ** 2
            per_row = errors.reshape(errors.shape[0], -1).mean(dim=1)
            self.sum_squared_error += float(per_row.sum())
        self.rows += int(per_row.shape[0])

    def compute(self) -> float:
        """The RMSE over every row given to :meth:`update` since the last reset."""
        if self.rows == 0:
            raise ValueError("no rows seen yet: call update() with at least one batch")
        return math.sqrt(self.sum_squared_error / self.rows)


def batch_rmses(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """RMSE of every batch of one epoch for a fixed model, and the batch lengths (chapter 2).

    Their plain mean is what a loop that averages per-batch RMSEs reports;
    compare it with :class:`EpochRMSE`, or with ``evaluate_loss(..., "mean")``
    under a square root.
    """
    batches = _row_errors_by_batch(model, X, y, batch_size, _mse, shuffle, seed)
    values = [math.sqrt(float(rows.mean())) for rows in batches]
    return np.asarray(values), np.asarray([len(rows) for rows in batches])
