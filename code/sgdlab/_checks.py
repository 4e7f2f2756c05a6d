"""Argument checks shared by the public functions.

Every check raises early with a message that says what to change.
"""

from __future__ import annotations

import numbers

import torch


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_batch_size(batch_size: object, n_rows: int) -> int:
    """Check that ``batch_size`` is an integer between 1 and ``n_rows``.

    Parameters
    ----------
    batch_size
        The requested number of rows per batch.
    n_rows
        The number of rows in the data set.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise ValueError(
            f"batch_size must be an integer between 1 and {n_rows}, got {batch_size!r}"
        )
    if not 1 <= batch_size <= n_rows:
        raise ValueError(f"batch_size must be between 1 and {n_rows}, got {batch_size}")
    return int(batch_size)


def check_xy(X: torch.Tensor, y: torch.Tensor) -> None:
    """Check that features and targets are non-empty, matching, finite tensors."""
    for name, t in (("X", X), ("y", y)):
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if t.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D (rows x columns), got shape {tuple(t.shape)}; "
                f"use {name}.reshape(-1, 1) for a single column"
            )
        if t.shape[0] == 0:
            raise ValueError(f"{name} is empty: it has no rows")
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} contains NaN or infinite values: clean the data first")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}"
        )
