"""Tests of chapter 2's exact statistics in sgdlab.metrics and sgdlab.simulation.

References: the values of the content plan, scipy's chi distribution, and
mpmath's gamma function at 50 digits. Monte-Carlo checks use 4 standard errors.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats
from sgdlab.metrics import (
    EpochRMSE,
    batch_rmse_series,
    batch_rmse_spread,
    batch_rmses,
    expected_batch_rmse,
    expected_epoch_rmse_ratio,
)
from sgdlab.models import make_mlp
from sgdlab.simulation import shuffle_bias, simulate_batch_rmse, z_scores
from sgdlab.training import evaluate_loss

# σ = 100: the values the chapter and the content plan quote.
TABLE = {
    1: 79.789,
    2: 88.623,
    3: 92.132,
    5: 95.153,
    9: 97.266,
    10: 97.535,
    100: 99.750,
    1000: 99.975,
    10000: 99.9975,
}


@pytest.mark.parametrize("b, value", TABLE.items())
def test_exact_values_at_sigma_100(b, value):
    # Within one unit of the last quoted digit: the quoted 79.789 for b = 1 is
    # 100·sqrt(2/π) = 79.78846 rounded twice (79.7885 → 79.789).
    unit = 10.0 ** -len(repr(value).split(".")[1])
    assert expected_batch_rmse(100.0, b) == pytest.approx(value, abs=unit)


def test_closed_forms_for_small_batches():
    # Γ(1)/Γ(1/2) = 1/sqrt(π); Γ(3/2)/Γ(1) = sqrt(π)/2; Γ(2)/Γ(3/2) = 2/sqrt(π)
    assert expected_batch_rmse(1.0, 1) == pytest.approx(
        math.sqrt(2 / math.pi), rel=1e-14
    )
    assert expected_batch_rmse(1.0, 2) == pytest.approx(
        math.sqrt(math.pi) / 2, rel=1e-14
    )
    assert expected_batch_rmse(1.0, 3) == pytest.approx(
        math.sqrt(2 / 3) * 2 / math.sqrt(math.pi), rel=1e-14
    )


def test_vectorized_array_in_array_out():
    b = np.array(list(TABLE))
    out = expected_batch_rmse(100.0, b)
    assert isinstance(out, np.ndarray) and out.shape == b.shape
    np.testing.assert_allclose(
        out, [expected_batch_rmse(100.0, int(k)) for k in b], rtol=1e-15
    )
    assert isinstance(expected_batch_rmse(100.0, 5), float)
    grid = np.arange(12).reshape(3, 4) + 1
    assert expected_batch_rmse(1.0, grid).shape == (3, 4)


def test_agrees_with_scipy_chi_distribution():
    b = np.unique(np.logspace(0, 5, 60).round().astype(int))
    reference = np.array([stats.chi(df=int(k)).mean() / math.sqrt(k) for k in b])
    np.testing.assert_allclose(expected_batch_rmse(1.0, b), reference, rtol=1e-9)


def _mp_ratio(b: int) -> mpmath.mpf:
    with mpmath.workdps(50):
        return (
            mpmath.sqrt(mpmath.mpf(2) / b)
            * mpmath.gamma(mpmath.mpf(b + 1) / 2)
            / mpmath.gamma(mpmath.mpf(b) / 2)
        )


@pytest.mark.parametrize("b", [1, 2, 7, 50, 199, 200, 201, 1000, 123_457, 10**6, 10**7])
def test_agrees_with_50_digit_reference_including_the_bias(b):
    exact = _mp_ratio(b)
    got = expected_batch_rmse(1.0, b)
    assert got == pytest.approx(float(exact), rel=1e-13)
    # the *bias* 1 - c_b itself (tiny for large b) is accurate too
    assert 1 - got == pytest.approx(float(1 - exact), rel=1e-6, abs=1e-15)


def test_stable_and_strictly_increasing_up_to_a_million():
    b = np.arange(1, 10**6 + 1)
    c = expected_batch_rmse(1.0, b)
    assert np.all(np.isfinite(c))
    assert np.all(np.diff(c) > 0)
    assert c[0] == pytest.approx(math.sqrt(2 / math.pi))
    assert np.all(c < 1)


@pytest.mark.parametrize("terms", [1, 2, 3, 4, 5, 6])
def test_series_error_shrinks_like_the_next_power(terms):
    b = np.array([100.0, 1000.0])
    err = np.abs(batch_rmse_series(1.0, b, terms) - expected_batch_rmse(1.0, b))
    # error of the truncated series is O(b^-terms): tenfold b, ~10^terms smaller
    if terms < 6:
        assert err[1] < err[0] / 10 ** (terms - 0.5)
    assert err[0] < 0.5 * 100.0**-terms


def test_series_explicit_terms():
    assert batch_rmse_series(1.0, 10, terms=1) == 1.0
    assert batch_rmse_series(2.0, 10, terms=2) == pytest.approx(2 * (1 - 1 / 40))
    assert batch_rmse_series(1.0, 10, terms=3) == pytest.approx(1 - 1 / 40 + 1 / 3200)
    assert batch_rmse_series(1.0, 10, terms=4) == pytest.approx(
        1 - 1 / 40 + 1 / 3200 + 5 / 128000
    )


def test_spread_matches_scipy_and_large_b_limit():
    for b in (1, 3, 10, 100):
        assert batch_rmse_spread(5.0, b) == pytest.approx(
            5.0 * stats.chi(df=b).std() / math.sqrt(b)
        )
    assert batch_rmse_spread(1.0, 10**5) == pytest.approx(1 / math.sqrt(2e5), rel=1e-4)


@pytest.mark.parametrize(
    "sigma, b, message",
    [
        (100.0, 0, "at least 1"),
        (100.0, -3, "at least 1"),
        (100.0, 2.5, "whole numbers"),
        (100.0, np.array([1, 2.5]), "whole numbers"),
        (100.0, "10", "integer"),
        (100.0, True, "integer"),
        (100.0, np.nan, "whole numbers"),
        (0.0, 10, "sigma"),
        (-1.0, 10, "sigma"),
        (math.inf, 10, "sigma"),
        (math.nan, 10, "sigma"),
        ("1", 10, "sigma"),
    ],
)
def test_bad_arguments_say_what_to_change(sigma, b, message):
    with pytest.raises(ValueError, match=message):
        expected_batch_rmse(sigma, b)


def test_bad_series_terms():
    for terms in (0, 7, 2.0):
        with pytest.raises(ValueError, match="terms"):
            batch_rmse_series(1.0, 10, terms)


# --- The inequality on random data of many shapes ----------------------------


@settings(max_examples=200, deadline=None)
@given(
    n_batches=st.integers(1, 40),
    b=st.integers(1, 40),
    data=st.data(),
)
def test_mean_of_batch_rmses_never_exceeds_epoch_rmse(n_batches, b, data):
    errors = data.draw(
        arrays(
            np.float64, (n_batches, b), elements=st.floats(-1e3, 1e3, allow_nan=False)
        )
    )
    batch_rmse = np.sqrt((errors**2).mean(axis=1))
    epoch_rmse = math.sqrt((errors**2).mean())
    assert batch_rmse.mean() <= epoch_rmse * (1 + 1e-12) + 1e-12
    if n_batches == 1:
        assert batch_rmse.mean() == pytest.approx(epoch_rmse, rel=1e-12, abs=1e-12)


def test_equality_when_all_batches_have_the_same_mse():
    errors = np.array([[3.0, -4.0], [5.0, 0.0], [0.0, -5.0]])  # every batch MSE is 12.5
    assert np.sqrt((errors**2).mean(axis=1)).mean() == pytest.approx(
        math.sqrt((errors**2).mean())
    )


# --- Monte Carlo ---------------------------------------------------------------


@pytest.mark.slow
def test_monte_carlo_agrees_within_4_standard_errors():
    mc = simulate_batch_rmse(100.0, list(TABLE), n_batches=20_000, seed=11)
    assert np.all(np.abs(mc.z) < 4), mc.z
    # its spread agrees with the exact spread, and the s.e. is spread/sqrt(n)
    np.testing.assert_allclose(
        mc.std, batch_rmse_spread(100.0, mc.batch_sizes), rtol=0.05
    )
    np.testing.assert_allclose(mc.sem, mc.std / math.sqrt(20_000))


def test_monte_carlo_repeats_with_its_seed():
    a = simulate_batch_rmse(1.0, [3, 50], n_batches=500, seed=4)
    b = simulate_batch_rmse(1.0, [3, 50], n_batches=500, seed=4)
    c = simulate_batch_rmse(1.0, [3, 50], n_batches=500, seed=5)
    np.testing.assert_array_equal(a.mean, b.mean)
    assert not np.array_equal(a.mean, c.mean)


def test_quoted_inversion_is_within_noise():
    """The widely quoted values, including b=9 above b=10, are within 2.5 s.e."""
    quoted = np.array([80.96, 88.73, 92.09, 95.56, 97.49, 97.20, 99.63, 99.97, 99.996])
    b = np.array(list(TABLE))
    sem = batch_rmse_spread(100.0, b) / math.sqrt(10_000)
    z = z_scores(quoted, expected_batch_rmse(100.0, b), sem)
    assert np.all(np.abs(z) < 2.5)
    assert expected_batch_rmse(100.0, 10) > expected_batch_rmse(100.0, 9)


def test_simulation_bad_arguments():
    with pytest.raises(ValueError, match="n_batches"):
        simulate_batch_rmse(1.0, [2], n_batches=1)
    with pytest.raises(ValueError, match="empty"):
        simulate_batch_rmse(1.0, [])
    with pytest.raises(ValueError, match="batch size"):
        simulate_batch_rmse(1.0, [0])
    with pytest.raises(ValueError, match="same shape"):
        z_scores([1.0], [1.0, 2.0], [1.0])


# --- The streaming accumulator ---------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 200), data=st.data(), outputs=st.integers(1, 3))
def test_streaming_equals_full_data(n, data, outputs):
    b = data.draw(st.integers(1, n))
    gen = torch.Generator().manual_seed(n)
    predictions = torch.randn(n, outputs, generator=gen, dtype=torch.float64)
    targets = torch.randn(n, outputs, generator=gen, dtype=torch.float64)
    acc = EpochRMSE()
    for start in range(0, n, b):  # the last batch may be shorter
        acc.update(predictions[start : start + b], targets[start : start + b])
    full = torch.sqrt(torch.nn.functional.mse_loss(predictions, targets)).item()
    assert acc.compute() == pytest.approx(full, rel=1e-6, abs=1e-12)
    assert acc.rows == n


def test_streaming_on_a_real_model_with_an_uneven_last_batch(boston):
    model = make_mlp(12)
    acc = EpochRMSE()
    for start in range(0, 506, 50):
        acc.update(model(boston.X[start : start + 50]), boston.y[start : start + 50])
    full = math.sqrt(evaluate_loss(model, boston.X, boston.y, "mean"))
    assert acc.compute() == pytest.approx(full, rel=1e-6)
    # ... whereas the mean of batch RMSEs differs
    rmses, lengths = batch_rmses(model, boston.X, boston.y, 50)
    assert list(lengths) == [50] * 10 + [6]
    assert abs(rmses.mean() - full) > 1e-4


def test_streaming_reset_and_errors():
    acc = EpochRMSE()
    with pytest.raises(ValueError, match="no rows"):
        acc.compute()
    acc.update(torch.ones(3, 1), torch.zeros(3, 1))
    assert acc.compute() == 1.0
    acc.reset()
    with pytest.raises(ValueError, match="no rows"):
        acc.compute()
    with pytest.raises(ValueError, match="same shape"):
        acc.update(torch.ones(3, 1), torch.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        acc.update(torch.tensor([[float("nan")]]), torch.zeros(1, 1))
    with pytest.raises(ValueError, match="NaN"):
        acc.update(torch.zeros(1, 1), torch.tensor([[float("inf")]]))
    with pytest.raises(ValueError, match="empty"):
        acc.update(torch.ones(0, 1), torch.zeros(0, 1))
    with pytest.raises(ValueError, match="torch.Tensor"):
        acc.update(np.ones((2, 1)), torch.zeros(2, 1))


def test_frozen_model_average_of_batch_rmses_rises_with_batch_size(boston):
    """The chapter's real-data claim: biased low for small batches, exact for one."""
    model = make_mlp(12)
    full = math.sqrt(evaluate_loss(model, boston.X, boston.y, "mean"))
    means = [
        batch_rmses(model, boston.X, boston.y, b)[0].mean() for b in (1, 22, 253, 506)
    ]
    assert (
        means[0] < means[1] < full
    )  # 22 and 253 divide 506: equal batches, theorem applies
    assert means[2] <= full + 1e-9
    assert means[3] == pytest.approx(full, rel=1e-6)


# --- One epoch cut into batches: the partition's expected ratio -------------


def _beta_sqrt_mean(a, b):
    """E[sqrt(B)] for B ~ Beta(a, b), by quadrature at 30 digits."""
    mpmath.mp.dps = 30
    density = lambda t: t ** (a - 1) * (1 - t) ** (b - 1) / mpmath.beta(a, b)  # noqa: E731
    return mpmath.quad(lambda t: mpmath.sqrt(t) * density(t), [0, 1])


@pytest.mark.parametrize(("n", "b"), [(12, 3), (20, 5), (40, 10)])
def test_partition_ratio_is_the_beta_moment_by_quadrature(n, b):
    # Q_j/Q ~ Beta(b/2, (n-b)/2): E[sqrt(Q_j/b)/sqrt(Q/n)] = sqrt(n/b) E[sqrt(Beta)].
    reference = float(
        mpmath.sqrt(mpmath.mpf(n) / b) * _beta_sqrt_mean(b / 2, (n - b) / 2)
    )
    assert expected_epoch_rmse_ratio(n, b) == pytest.approx(reference, rel=1e-10)


def test_partition_ratio_against_monte_carlo_with_a_short_last_batch():
    rng = np.random.default_rng(3)
    n, epochs = 50, 40_000
    for b in (1, 7, 16, 25, 50):  # 7 and 16 leave a short last batch
        e2 = rng.normal(size=(epochs, n)) ** 2
        cuts = list(range(b, n, b))
        rmse_b = np.stack(
            [np.sqrt(part.mean(axis=1)) for part in np.split(e2, cuts, axis=1)], axis=1
        )
        ratio = rmse_b.mean(axis=1) / np.sqrt(e2.mean(axis=1))
        sem = ratio.std(ddof=1) / math.sqrt(epochs)
        assert abs(ratio.mean() - expected_epoch_rmse_ratio(n, b)) < 4 * sem + 1e-12, b


def test_partition_scales_the_iid_bias_by_n_minus_b_over_n_minus_1():
    n = 506
    sizes = np.array([16, 32, 64, 128, 253])
    partition = 1 - expected_epoch_rmse_ratio(n, sizes)
    iid = 1 - expected_batch_rmse(1.0, sizes)
    assert partition / iid == pytest.approx((n - sizes) / (n - 1), rel=0.02)
    assert partition[-1] / iid[-1] == pytest.approx(0.5, rel=0.01)  # half at N/2
    assert expected_epoch_rmse_ratio(n, n) == pytest.approx(1.0, abs=1e-14)  # none at N
    assert (
        1 - expected_batch_rmse(1.0, n) > 4e-4
    )  # where the i.i.d. formula still has some


def test_partition_ratio_array_and_errors():
    out = expected_epoch_rmse_ratio(30, np.array([[1, 2], [3, 30]]))
    assert out.shape == (2, 2) and np.all(np.diff(out.ravel()) > 0)
    with pytest.raises(ValueError, match="between 1 and 30"):
        expected_epoch_rmse_ratio(30, 31)
    with pytest.raises(ValueError, match="at least 1"):
        expected_epoch_rmse_ratio(30, 0)


# --- Fixed residuals, many shuffles ----------------------------------------


def test_shuffle_bias_at_one_row_and_at_all_rows():
    r = np.random.default_rng(0).standard_t(3, size=101)
    mae_over_rmse = np.abs(r).mean() / np.sqrt(np.mean(r**2))
    assert np.allclose(shuffle_bias(r, 1, shuffles=5), 1 - mae_over_rmse)
    assert np.allclose(shuffle_bias(r, 101, shuffles=5), 0.0, atol=1e-15)


def test_shuffle_bias_matches_a_direct_loop():
    r = np.random.default_rng(1).normal(size=23)
    got = shuffle_bias(r, 5, shuffles=3, seed=9)
    rng = np.random.default_rng(9)
    rmse = math.sqrt(sum(v * v for v in r) / len(r))
    for k in range(3):
        order = r[rng.permutation(len(r))]
        batches = [order[i : i + 5] for i in range(0, len(r), 5)]
        mean = sum(math.sqrt(sum(v * v for v in q) / len(q)) for q in batches) / len(
            batches
        )
        assert got[k] == pytest.approx(1 - mean / rmse, rel=1e-12)


def test_shuffle_bias_of_gaussian_residuals_follows_the_partition():
    # Many fresh Gaussian epochs, one shuffle each: the mean is the exact partition value.
    rng = np.random.default_rng(2)
    n, b = 60, 12
    bias = np.array(
        [
            shuffle_bias(rng.normal(size=n), b, shuffles=1, seed=s)[0]
            for s in range(8_000)
        ]
    )
    sem = bias.std(ddof=1) / math.sqrt(bias.size)
    assert abs(bias.mean() - (1 - expected_epoch_rmse_ratio(n, b))) < 4 * sem


def test_shuffle_bias_errors():
    with pytest.raises(ValueError, match="between 1 and 3"):
        shuffle_bias([1.0, 2.0, 3.0], 4)
    with pytest.raises(ValueError, match="all zero"):
        shuffle_bias([0.0, 0.0], 1)
    with pytest.raises(ValueError, match="finite"):
        shuffle_bias([1.0, float("nan")], 1)
