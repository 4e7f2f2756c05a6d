"""Tests of sgdlab.noise against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sgdlab import noise
from torch import nn


@pytest.mark.parametrize(
    ("d", "sigma", "u_norm", "seed"),
    [(10, 1.0, 1.0, 0), (5, 2.0, 0.5, 1), (20, 0.0, 1.0, 2)],
)
def test_estimator_matches_linear_regression_closed_form(d, sigma, u_norm, seed):
    """B_simple = (d + 1) + d sigma^2 / |u|^2 for x ~ N(0, I_d), within 10%."""
    gen = torch.Generator().manual_seed(seed)
    n = 100_000
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    w_star = torch.randn(d, 1, generator=gen, dtype=torch.float64)
    y = X @ w_star + sigma * torch.randn(n, 1, generator=gen, dtype=torch.float64)
    u = torch.randn(d, 1, generator=gen, dtype=torch.float64)
    u *= u_norm / u.norm()
    model = nn.Linear(d, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_((w_star + u).T)
    est = noise.measure_noise_scale(
        model,
        nn.functional.mse_loss,
        X,
        y,
        b_small=8,
        b_big=256,
        pairs=2500,
        estimator=noise.NoiseScaleEstimator(8, 256, beta=0.999),
        generator=gen,
    )
    exact = noise.linear_regression_b_simple(d, sigma, u_norm)
    assert est.b_simple == pytest.approx(exact, rel=0.10)
    # The two parts separately: |G|^2 = 4|u|^2 and tr(Sigma) for the mse loss (factor 2).
    assert est.gradient_sq == pytest.approx(4 * u_norm**2, rel=0.15)
    assert est.trace == pytest.approx(
        4 * ((d + 1) * u_norm**2 + d * sigma**2), rel=0.10
    )


def test_two_batch_estimates_are_exact_on_expected_norms():
    g2, trace = 3.0, 40.0
    small, big = 4, 64
    est = noise.two_batch_estimates(g2 + trace / small, g2 + trace / big, small, big)
    assert est == pytest.approx((g2, trace))


def test_moving_average_is_bias_corrected_and_divides_last():
    est = noise.NoiseScaleEstimator(4, 64, beta=0.5)
    est.update(3.0 + 40 / 4, 3.0 + 40 / 64)
    assert est.gradient_sq == pytest.approx(3.0) and est.trace == pytest.approx(40.0)
    assert est.b_simple == pytest.approx(40 / 3)
    # The ratio of averages, not the average of ratios.
    est = noise.NoiseScaleEstimator(1, 3, beta=0.5)
    a = noise.two_batch_estimates(5.0, 2.0, 1, 3)
    b = noise.two_batch_estimates(9.0, 3.0, 1, 3)
    est.update(5.0, 2.0)
    est.update(9.0, 3.0)
    w = np.array([0.5 * 0.5, 0.5]) / (1 - 0.25)
    assert est.b_simple == pytest.approx((w @ [a[1], b[1]]) / (w @ [a[0], b[0]]))


def test_fit_recovers_the_model():
    b = np.array([2, 4, 8, 16, 32, 64, 128, 256])
    s_min, b_noise = 200.0, 30.0
    fit = noise.fit_steps_examples(b, s_min * (1 + b_noise / b))
    assert fit.s_min == pytest.approx(s_min) and fit.b_noise == pytest.approx(b_noise)
    assert fit.e_min == pytest.approx(s_min * b_noise)
    assert fit.b_crit == pytest.approx(b_noise)
    assert fit.examples(64) == pytest.approx(64 * fit.steps(64))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="smaller than b_big"):
        noise.NoiseScaleEstimator(64, 64)
    with pytest.raises(ValueError, match="beta"):
        noise.NoiseScaleEstimator(4, 64, beta=1.0)
    with pytest.raises(ValueError, match="update"):
        _ = noise.NoiseScaleEstimator(4, 64).b_simple
    with pytest.raises(ValueError, match="never reached|positive and finite"):
        noise.fit_steps_examples([4, 8], [100, math.inf])
    with pytest.raises(ValueError, match="b_small"):
        noise.measure_noise_scale(
            nn.Linear(2, 1),
            nn.functional.mse_loss,
            torch.zeros(5, 2),
            torch.zeros(5, 1),
            b_small=0,
            b_big=4,
        )


def test_gradient_norm_leaves_grad_untouched():
    model = nn.Linear(3, 1)
    X, y = torch.randn(10, 3), torch.randn(10, 1)
    nn.functional.mse_loss(model(X), y).backward()
    before = [p.grad.clone() for p in model.parameters()]
    value = noise.batch_gradient_sq(model, nn.functional.mse_loss, X[:4], y[:4])
    grads = torch.autograd.grad(
        nn.functional.mse_loss(model(X[:4]), y[:4]), list(model.parameters())
    )
    assert value == pytest.approx(float(sum((g**2).sum() for g in grads)))
    for p, g in zip(model.parameters(), before, strict=True):
        assert torch.equal(p.grad, g)


@pytest.mark.slow
def test_measured_noise_scale_matches_per_example_gradients():
    """B_simple of the digit MLP at initialization, from two-batch pairs,
    against the exact tr(Σ)/|G|² over all rows (per-example gradients, float64)."""
    from sgdlab import data, models
    from torch.func import functional_call, grad, vmap

    digits = data.load_digits(seed=0)
    X, y = digits.X_train, digits.y_train
    net = models.make_digit_mlp(seed=0).double()
    params = {k: v.detach() for k, v in net.named_parameters()}

    def row_loss(p, x, t):
        out = functional_call(net, p, (x.unsqueeze(0),))
        return torch.nn.functional.cross_entropy(out, t.unsqueeze(0))

    per_row = vmap(grad(row_loss), in_dims=(None, 0, 0))
    total, total_sq = None, 0.0
    for rows in torch.arange(len(X)).split(500):
        g = per_row(params, X[rows].double(), y[rows])
        flat = torch.cat([v.reshape(len(rows), -1) for v in g.values()], dim=1)
        total = flat.sum(0) if total is None else total + flat.sum(0)
        total_sq += (flat**2).sum().item()
    mean = total / len(X)
    g2 = (mean**2).sum().item()
    exact = (total_sq / len(X) - g2) / g2  # tr(Σ) / |G|², Σ the population covariance

    estimate = noise.measure_noise_scale(
        net,
        torch.nn.CrossEntropyLoss(),
        X.double(),
        y,
        b_small=32,
        b_big=1024,
        pairs=200,
        estimator=noise.NoiseScaleEstimator(32, 1024, beta=0.995),
        generator=torch.Generator().manual_seed(1),
    ).b_simple
    assert estimate == pytest.approx(exact, rel=0.15)
