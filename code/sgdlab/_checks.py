"""Argument checks shared by the public functions.

One rule per kind of argument, so that the same argument is checked the same
way everywhere. Every check raises early with a message that says what to
change. Numbers may be Python or NumPy scalars (``np.float32(0.1)`` is a
learning rate like ``0.1``); booleans are refused.
"""

from __future__ import annotations

import math
import numbers

import torch


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def _is_real(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Real)


def check_positive_number(value: object, name: str) -> float:
    """Return ``value`` as a ``float`` if it is a finite number above 0, else raise.

    The rule for learning rates, scales, tolerances, ``eps`` and durations.
    """
    if not (_is_real(value) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def check_non_negative_number(value: object, name: str) -> float:
    """Return ``value`` as a ``float`` if it is a finite number ≥ 0, else raise."""
    if not (_is_real(value) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number of at least 0, got {value!r}")
    return float(value)


def check_beta(value: object, name: str = "beta") -> float:
    """Return ``value`` as a ``float`` if it lies in [0, 1), else raise.

    The rule for smoothing factors of moving averages (momentum, RMSProp's
    and Adam's betas, the noise-scale estimator's ``beta``).
    """
    if not (_is_real(value) and 0 <= value < 1):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def check_non_negative_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int`` if it is an integer ≥ 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
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
            raise ValueError(
                f"{name} contains NaN or infinite values: clean the data first"
            )
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows, got {X.shape[0]} and {y.shape[0]}"
        )


def check_classification(X: torch.Tensor, y: torch.Tensor, name: str = "X") -> None:
    """Check rows ``X`` (2-D, non-empty) and their int64 class labels ``y`` (1-D)."""
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D tensor (rows x features)")
    if not isinstance(y, torch.Tensor) or y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(
            "the labels must be a 1-D tensor with one entry per row of "
            f"{name} ({X.shape[0]} rows)"
        )
    if y.dtype != torch.int64:
        raise ValueError(f"labels must be int64 class indices, got {y.dtype}")
