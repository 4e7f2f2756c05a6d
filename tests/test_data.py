"""Tests of sgdlab.data: the Boston table loads as the book says, bad files fail clearly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sgdlab import data
from sgdlab.data import (
    BOSTON_COLUMNS,
    data_dir,
    load_boston,
    read_boston_table,
    standardize,
)


def test_shipped_table_has_506_rows_and_14_columns():
    frame = read_boston_table()
    assert frame.shape == (506, 14)
    assert tuple(frame.columns) == BOSTON_COLUMNS
    # Spot values of the first and last rows, as published.
    assert frame.iloc[0]["CRIM"] == pytest.approx(0.00632)
    assert frame.iloc[0]["MEDV"] == pytest.approx(24.0)
    assert frame.iloc[-1]["MEDV"] == pytest.approx(11.9)


def test_load_drops_b_and_standardizes(boston):
    assert boston.X.shape == (506, 12)
    assert boston.y.shape == (506, 1)
    assert "B" not in boston.feature_names
    assert boston.target_name == "MEDV"
    both = torch.cat([boston.X, boston.y], dim=1).double()
    assert torch.allclose(both.mean(0), torch.zeros(13, dtype=torch.float64), atol=1e-6)
    ones = torch.ones(13, dtype=torch.float64)
    assert torch.allclose(both.std(0, unbiased=False), ones, atol=1e-6)


def test_standardization_can_be_undone(boston):
    raw = read_boston_table()
    medv = boston.y[:, 0].double().numpy() * boston.std[-1] + boston.mean[-1]
    np.testing.assert_allclose(medv, raw["MEDV"].to_numpy(), rtol=1e-6)


def test_keep_b_and_raw_values():
    d = load_boston(drop_b=False, standardized=False, dtype=torch.float64)
    assert d.X.shape == (506, 13)
    assert "B" in d.feature_names
    assert d.mean is None and d.std is None
    assert d.X[0, d.feature_names.index("RM")].item() == pytest.approx(6.575)


def test_missing_file_names_the_path(tmp_path):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        load_boston(missing)


def test_data_dir_override(tmp_path, monkeypatch):
    monkeypatch.setenv("SGDLAB_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match="SGDLAB_DATA_DIR"):
        load_boston()


def _write(tmp_path, text):
    path = tmp_path / "boston.csv"
    path.write_text(text)
    return path


def _good_frame():
    return read_boston_table()


def test_empty_file(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        load_boston(_write(tmp_path, ""))


def test_missing_column(tmp_path):
    frame = _good_frame().drop(columns=["LSTAT"])
    path = tmp_path / "b.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="LSTAT"):
        load_boston(path)


def test_non_numeric_cell_names_column_and_row(tmp_path):
    frame = _good_frame().astype(object)
    frame.loc[9, "RM"] = "six"
    path = tmp_path / "b.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"RM.*'six'.*row 10"):
        load_boston(path)


def test_nan_cell(tmp_path):
    frame = _good_frame()
    frame.loc[3, "NOX"] = np.nan
    path = tmp_path / "b.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match="NOX"):
        load_boston(path)


def test_header_only(tmp_path):
    with pytest.raises(ValueError, match="at least 2"):
        load_boston(_write(tmp_path, ",".join(BOSTON_COLUMNS) + "\n"))


def test_not_a_csv(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(b'"unterminated\n1,2,3\n')
    with pytest.raises(ValueError):
        load_boston(path)


def test_standardize_rejects_constant_column():
    values = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]}).to_numpy()
    with pytest.raises(ValueError, match="constant"):
        standardize(values)


def test_digits_are_real_stratified_and_reproducible(digits):
    assert digits.n_train == 4000 and digits.n_test == 1000
    assert torch.bincount(digits.y_test).tolist() == [100] * 10
    assert 0 <= digits.X_train.min() and digits.X_train.max() <= 1
    again = data.load_digits(seed=0)
    assert torch.equal(again.X_train, digits.X_train)
    other = data.load_digits(seed=1)
    assert not torch.equal(other.y_train, digits.y_train)
    # No row is in both sets.
    train = {tuple(r) for r in digits.X_train[:, 200:260].tolist()}
    assert not any(tuple(r) in train for r in digits.X_test[:50, 200:260].tolist())


def test_digit_loader_names_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        data.load_digits(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="785 columns"):
        data.load_digits(bad)
    text = tmp_path / "text.csv"
    text.write_text("a,b\nc,d\n")
    with pytest.raises(ValueError, match="text.csv"):
        data.load_digits(text)
    with pytest.raises(ValueError, match="test_fraction"):
        data.load_digits(test_fraction=1.5)
