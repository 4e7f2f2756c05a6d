"""Loading the real data sets that ship in the repository's ``data/`` folder.

Used by chapter 1 (the Boston house-price experiment) and by the tests.
Nothing here downloads anything: a missing file is an error that names the
path that was looked for.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

#: The columns of ``data/boston-house-prices.csv``, in order.
BOSTON_COLUMNS = (
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE",
    "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT", "MEDV",
)  # fmt: skip
BOSTON_FILE = "boston-house-prices.csv"
BOSTON_TARGET = "MEDV"


def data_dir() -> Path:
    """Return the folder that holds the data sets.

    It is the repository's ``data/`` folder, next to ``code/``; the
    environment variable ``SGDLAB_DATA_DIR`` overrides it (for a copy of the
    data elsewhere).
    """
    override = os.environ.get("SGDLAB_DATA_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "data"


@dataclass(frozen=True)
class TabularData:
    """Features and target of a regression table, as float tensors.

    Attributes
    ----------
    X
        Features, shape ``(rows, features)``.
    y
        Target, shape ``(rows, 1)``.
    feature_names
        Column names of ``X``, in order.
    target_name
        Column name of ``y``.
    mean, std
        Per-column mean and standard deviation (features then target) that
        were used to standardize, or ``None`` if the data are raw. Multiply
        by ``std`` and add ``mean`` to go back to the original units.
    """

    X: torch.Tensor
    y: torch.Tensor
    feature_names: tuple[str, ...]
    target_name: str
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        """Number of rows (examples)."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return int(self.X.shape[1])


def read_boston_table(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the Boston house-price table and check that it is well formed.

    Parameters
    ----------
    path
        CSV file to read; defaults to ``data/boston-house-prices.csv``.

    Returns
    -------
    pandas.DataFrame
        506 rows (for the shipped file) and the 14 columns of
        :data:`BOSTON_COLUMNS`, all floating point.

    Raises
    ------
    FileNotFoundError
        If the file does not exist (the message names the path).
    ValueError
        If the file is empty, lacks a column, has text where numbers belong,
        or has missing values (the message names the column and row).
    """
    path = Path(path) if path is not None else data_dir() / BOSTON_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"Boston house-price table not found at {path}. The repository ships it as "
            f"data/{BOSTON_FILE}; pass its path, or set SGDLAB_DATA_DIR to the folder "
            "that holds it."
        )
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: expected a header row and 506 data rows") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path} is not a well-formed CSV file: {exc}") from None
    missing = [c for c in BOSTON_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path} lacks the column(s) {', '.join(missing)}; its header must be "
            f"{','.join(BOSTON_COLUMNS)}"
        )
    frame = frame.loc[:, list(BOSTON_COLUMNS)]
    if len(frame) < 2:
        raise ValueError(f"{path} has {len(frame)} data row(s); it needs at least 2")
    for column in BOSTON_COLUMNS:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"{path}: column {column} has a missing or non-numeric value "
                f"{frame[column].iloc[row]!r} in data row {row + 1}; every cell must be a number"
            )
        frame[column] = values.astype(float)
    return frame


def standardize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-score every column: subtract its mean and divide by its standard deviation.

    Uses the population standard deviation (``ddof=0``), so every column of
    the result has mean 0 and standard deviation 1 exactly.

    Returns
    -------
    scaled, mean, std
        The standardized array and the per-column mean and standard deviation.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[0] < 2:
        raise ValueError(f"standardize needs a 2-D array with at least 2 rows, got {values.shape}")
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    constant = np.flatnonzero(std == 0)
    if constant.size:
        raise ValueError(
            f"column(s) {constant.tolist()} are constant and cannot be standardized; drop them"
        )
    return (values - mean) / std, mean, std


def load_boston(
    path: str | os.PathLike | None = None,
    *,
    drop_b: bool = True,
    standardized: bool = True,
    dtype: torch.dtype = torch.float32,
) -> TabularData:
    """Load the Boston house-price table as tensors for regression (chapter 1).

    Parameters
    ----------
    path
        CSV file; defaults to ``data/boston-house-prices.csv``.
    drop_b
        Drop the ``B`` column (default). It encodes the proportion of Black
        residents through a racist formula; ``data/README.md`` explains.
        The book's models therefore have 12 inputs.
    standardized
        Z-score every column, features and target alike (default), as the
        book's experiment does.
    dtype
        Floating-point type of the tensors.

    Returns
    -------
    TabularData
        ``X`` of shape ``(506, 12)`` (``(506, 13)`` with ``drop_b=False``) and
        ``y`` of shape ``(506, 1)`` holding ``MEDV``.
    """
    frame = read_boston_table(path)
    features = [c for c in BOSTON_COLUMNS if c != BOSTON_TARGET and not (drop_b and c == "B")]
    values = frame.loc[:, features + [BOSTON_TARGET]].to_numpy(dtype=float)
    mean = std = None
    if standardized:
        values, mean, std = standardize(values)
    X = torch.tensor(values[:, :-1], dtype=dtype)
    y = torch.tensor(values[:, -1:], dtype=dtype)
    return TabularData(X, y, tuple(features), BOSTON_TARGET, mean, std)
