"""Tests of sgdlab.regression: the first-principles GD and SGD of chapter 4."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sgdlab import regression
from sgdlab.regression import (
    descend,
    hessian,
    least_squares,
    loss_grid,
    make_line_data,
    mse,
    mse_gradient,
)


@pytest.fixture(scope="module")
def data():
    return make_line_data(seed=0)


def test_data_as_the_chapter_describes(data):
    assert data.n == 100
    assert np.all(np.abs(data.x) <= 1)
    # the start (slope -1, intercept 1) is far off, at MSE ≈ 93 for this draw
    assert mse((-1, 1), data) == pytest.approx(93.3, abs=0.1)
    slope, intercept = least_squares(data)
    assert abs(slope - 3) < 0.3 and abs(intercept - 10) < 0.2


def test_gradient_is_the_derivative(data):
    theta = np.array([0.7, 4.2])
    eps = 1e-6
    numeric = [
        (mse(theta + eps * e, data) - mse(theta - eps * e, data)) / (2 * eps)
        for e in np.eye(2)
    ]
    np.testing.assert_allclose(mse_gradient(theta, data), numeric, rtol=1e-6)


def test_gd_steps_match_a_hand_computation(data):
    path = descend(data, (-1.0, 1.0), lr=0.1, steps=3)
    theta = np.array([-1.0, 1.0])
    for k in range(3):
        r = theta[0] * data.x + theta[1] - data.y
        theta = theta - 0.1 * np.array([2 * np.mean(r * data.x), 2 * np.mean(r)])
        np.testing.assert_allclose(path.thetas[k + 1], theta, rtol=1e-12)
        assert path.losses[k + 1] == pytest.approx(
            np.mean((theta[0] * data.x + theta[1] - data.y) ** 2)
        )


def test_sgd_steps_match_a_hand_computation_on_their_batches(data):
    path = descend(data, (-1.0, 1.0), lr=0.1, steps=9, batch_size=16, seed=3)
    theta = np.array([-1.0, 1.0])
    for k, rows in enumerate(path.batches):
        x, y = data.x[rows], data.y[rows]
        r = theta[0] * x + theta[1] - y
        theta = theta - 0.1 * np.array([2 * np.mean(r * x), 2 * np.mean(r)])
        np.testing.assert_allclose(path.thetas[k + 1], theta, rtol=1e-12)


def test_sgd_batches_are_epochs_without_replacement(data):
    path = descend(data, steps=14, batch_size=16, seed=5)
    sizes = [len(b) for b in path.batches]
    assert sizes == [16] * 6 + [4] + [16] * 6 + [4]
    for epoch in (path.batches[:7], path.batches[7:]):
        assert sorted(np.concatenate(epoch).tolist()) == list(range(100))
    assert not np.array_equal(
        np.concatenate(path.batches[:7]), np.concatenate(path.batches[7:])
    )


def test_gd_converges_to_least_squares(data):
    path = descend(data, lr=0.5, steps=2000)
    np.testing.assert_allclose(path.thetas[-1], least_squares(data), atol=1e-9)
    assert path.losses[-1] == pytest.approx(mse(least_squares(data), data), rel=1e-12)


def test_hessian_is_the_second_derivative(data):
    eps = 1e-4
    numeric = np.array(
        [
            (mse_gradient(eps * e, data) - mse_gradient(-eps * e, data)) / (2 * eps)
            for e in np.eye(2)
        ]
    )
    np.testing.assert_allclose(hessian(data), numeric, rtol=1e-8)
    # the intercept direction has curvature exactly 2; the slope about 2·E[x²] = 2/3
    assert hessian(data)[1, 1] == pytest.approx(2.0)
    assert hessian(data)[0, 0] == pytest.approx(2 / 3, rel=0.15)


def test_loss_grid_equals_pointwise(data):
    slopes, intercepts = np.linspace(-2, 5, 7), np.linspace(0, 12, 5)
    grid = loss_grid(data, slopes, intercepts)
    assert grid.shape == (5, 7)
    expected = [[mse((a, c), data) for a in slopes] for c in intercepts]
    np.testing.assert_allclose(grid, expected, rtol=1e-12)


def test_measurements(data):
    gd = descend(data, lr=0.1, steps=100)
    to_90 = gd.steps_to_fraction(0.9)
    assert to_90[1] < to_90[0]  # the intercept moves first
    assert gd.divergence_step() is None
    big = descend(data, lr=1.0, steps=100, batch_size=16, seed=1)
    assert big.divergence_step() is not None and big.losses[-1] > 10 * big.losses[0]
    small = descend(data, lr=0.01, steps=100, batch_size=16, seed=1)
    assert small.divergence_step() is None and small.losses[-1] > 5 * gd.losses[-1]
    jit = {
        b: np.hypot(*descend(data, steps=100, batch_size=b, seed=1).jitter(30))
        for b in (1, 64)
    }
    assert jit[1] > 5 * jit[64] > 5 * np.hypot(*gd.jitter(30))


def test_stability_threshold_is_two_over_the_largest_curvature(data):
    lam = np.linalg.eigvalsh(hessian(data)).max()
    assert descend(data, lr=0.97 * 2 / lam, steps=400).losses[-1] < 1.0
    assert descend(data, lr=1.03 * 2 / lam, steps=400).losses[-1] > 1e3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lr": 0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"steps": 0}, "steps"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 101}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"theta0": (1, 2, 3)}, "theta0"),
    ],
)
def test_bad_arguments(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        descend(data, **kwargs)


def test_bad_data_arguments():
    with pytest.raises(ValueError, match="n must be"):
        make_line_data(n=1)
    with pytest.raises(ValueError, match="noise"):
        make_line_data(noise=-1)


def test_normalized_steps_have_length_lr_and_follow_the_gradient():
    data = regression.make_line_data(200, slope=3.0, intercept=-1.0, noise=0.05, seed=0)
    path = regression.descend(
        data, (-4.0, -4.0), lr=0.5, steps=5, batch_size=4, normalize=True, seed=1
    )
    steps = np.diff(path.thetas, axis=0)
    assert np.allclose(np.linalg.norm(steps, axis=1), 0.5)
    for k in range(5):
        g = regression.mse_gradient(path.thetas[k], data, path.batches[k])
        assert np.allclose(steps[k], -0.5 * g / np.linalg.norm(g))


# --- descend_torch: the same loop with autograd ------------------------------


def test_torch_loop_equals_numpy_gradient_descent(data):
    numpy_path = descend(data, (-1.0, 1.0), lr=0.1, steps=100)
    torch_path = regression.descend_torch(data, (-1.0, 1.0), lr=0.1, steps=100)
    np.testing.assert_allclose(torch_path.thetas, numpy_path.thetas, rtol=0, atol=1e-12)
    np.testing.assert_allclose(torch_path.losses, numpy_path.losses, rtol=1e-12)
    # and it moved: a loop that never updated would start and end at (-1, 1)
    assert np.allclose(torch_path.thetas[-1], least_squares(data), atol=0.01)


@pytest.mark.parametrize("batch_size", [1, 16, 64])
def test_torch_loop_replays_an_sgd_run(data, batch_size):
    numpy_path = descend(data, lr=0.05, steps=60, batch_size=batch_size, seed=3)
    torch_path = regression.descend_torch(
        data, lr=0.05, steps=60, batches=numpy_path.batches
    )
    np.testing.assert_allclose(torch_path.thetas, numpy_path.thetas, rtol=0, atol=1e-12)
    assert torch_path.batch_size == numpy_path.batch_size


def test_torch_loop_without_zeroing_the_gradient_would_differ(data):
    """Guard: the test above can fail. Accumulating .grad (no zero_) changes the path."""
    design = torch.from_numpy(data.design)
    y = torch.from_numpy(data.y)
    theta = torch.nn.Parameter(torch.tensor([-1.0, 1.0], dtype=torch.float64))
    for _ in range(5):
        ((design @ theta - y) ** 2).mean().backward()
        with torch.no_grad():
            theta.sub_(0.1 * theta.grad)
    right = regression.descend_torch(data, lr=0.1, steps=5).thetas[-1]
    assert np.abs(theta.detach().numpy() - right).max() > 0.1


def test_an_integer_start_cannot_take_a_gradient():
    """The pitfall the chapter shows: torch.tensor([-1, 1]) holds integers."""
    assert torch.tensor([-1, 1]).dtype == torch.int64
    with pytest.raises(RuntimeError, match="floating point"):
        torch.nn.Parameter(torch.tensor([-1, 1]))
    # descend_torch converts the start to floats, so (-1, 1) as ints works
    path = regression.descend_torch(make_line_data(seed=0), (-1, 1), steps=3)
    assert path.thetas.dtype == np.float64 and path.steps == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(lr=0.0), "lr must be"),
        (dict(steps=0), "steps must be"),
        (dict(theta0=(1.0, 2.0, 3.0)), "theta0 must be"),
        (dict(steps=2, batches=[np.arange(3)]), "one array of rows per step"),
        (dict(steps=1, batches=[np.array([0.5, 1.5])]), "integer row indices"),
        (dict(steps=1, batches=[np.array([], dtype=int)]), "non-empty"),
        (dict(steps=1, batches=[np.array([0, 100])]), "between 0 and 99"),
    ],
)
def test_descend_torch_refuses_bad_arguments(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        regression.descend_torch(data, **kwargs)


def _closed_form_path(data, start, lr, steps):
    """θ_t = θ* + (I − lr·H)^t (θ0 − θ*), from the eigen-decomposition of H (NumPy only)."""
    A = np.column_stack([data.x, np.ones_like(data.x)])
    H = 2 * A.T @ A / len(data.x)
    best = np.linalg.solve(A.T @ A, A.T @ data.y)
    lam, vec = np.linalg.eigh(H)
    coeff = vec.T @ (np.asarray(start, float) - best)
    t = np.arange(steps + 1)[:, None]
    return best + ((1 - lr * lam) ** t * coeff) @ vec.T


def _steps_to_90(path):
    travelled = (path - path[0]) / (path[-1] - path[0])
    return [int(np.flatnonzero(travelled[:, k] < 0.9).max()) + 1 for k in range(2)]


@pytest.mark.parametrize("start", [(-1.0, 1.0), (-1.0, 9.5), (2.0, 1.0)])
def test_gradient_descent_is_the_eigen_decomposition(data, start):
    path = descend(data, start, lr=0.1, steps=100)
    reference = _closed_form_path(data, start, 0.1, 100)
    assert np.allclose(path.thetas, reference, atol=1e-10)
    assert path.steps_to_fraction(0.9) == _steps_to_90(reference)


def test_the_first_gradient_does_not_decide_which_parameter_arrives_first(data):
    # Chapter 4's counter-starts, from the closed form alone.
    first = {}
    for start in [(-1.0, 9.5), (2.0, 1.0)]:
        g = mse_gradient(start, data)
        first[start] = (
            np.argmax(np.abs(g)),
            np.argmin(_steps_to_90(_closed_form_path(data, start, 0.1, 100))),
        )
    assert first[(-1.0, 9.5)] == (0, 1)  # slope's gradient larger, intercept first
    assert first[(2.0, 1.0)] == (1, 0)  # intercept's gradient larger, slope first
    # With x centred (no coupling) the counts are the same from every start.
    centred = regression.LineData(data.x - data.x.mean(), data.y)
    counts = {
        tuple(
            _steps_to_90(
                _closed_form_path(centred, (a, c + a * data.x.mean()), 0.1, 100)
            )
        )
        for a, c in [(-1.0, 1.0), (-1.0, 9.5), (2.0, 1.0)]
    }
    assert len(counts) == 1
