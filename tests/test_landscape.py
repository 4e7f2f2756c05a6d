"""sgdlab.landscape: surfaces, grids, trajectories, Hessians and critical points."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sgdlab import landscape, optim


def test_pathological_loss_values():
    f = landscape.pathological_loss
    t = lambda x: torch.tensor(x, dtype=torch.float64)  # noqa: E731
    assert f(t(0.0), t(0.0)).item() == pytest.approx(0.5)
    expected = np.tanh(2.0) ** 2 + 0.01 * 3.0 + 1 / (1 + np.exp(3.0))
    assert f(t(2.0), t(-3.0)).item() == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(
    "surface",
    [
        landscape.pathological_loss,
        landscape.linear_net_surface([0.1, -0.5, 0.9, 0.3], [1.0, 0.2, 2.5, 1.1]),
    ],
)
def test_grid_equals_pointwise_evaluation(surface):
    w0, w1 = np.linspace(-3, 2, 17), np.linspace(-6, 4, 11)
    Z = landscape.evaluate_grid(surface, w0, w1)
    assert Z.shape == (11, 17)
    for i, b in enumerate(w1):
        for j, a in enumerate(w0):
            point = surface(
                torch.tensor(a, dtype=torch.float64),
                torch.tensor(b, dtype=torch.float64),
            )
            assert Z[i, j] == pytest.approx(point.item(), rel=1e-12, abs=1e-12)


def test_a_surface_that_does_not_broadcast_is_refused():
    with pytest.raises(ValueError, match="broadcast"):
        landscape.evaluate_grid(lambda a, b: (a + b).sum(), [0, 1], [0, 1])


def test_hessian_classifies_known_functions():
    saddle = landscape.hessian(lambda x, y: x**2 - y**2, (0.0, 0.0))
    assert np.allclose(saddle, [[2, 0], [0, -2]])
    assert landscape.classify(np.linalg.eigvalsh(saddle)) == "saddle"
    bowl = landscape.hessian(lambda x, y: x**2 + y**2, (0.3, -0.2))
    assert landscape.classify(np.linalg.eigvalsh(bowl)) == "minimum"
    cap = landscape.hessian(lambda x, y: -(x**2) - 3 * y**2, (0.0, 0.0))
    assert landscape.classify(np.linalg.eigvalsh(cap)) == "maximum"
    flat = landscape.hessian(lambda x, y: x**2 + y**4, (0.0, 0.0))
    assert landscape.classify(np.linalg.eigvalsh(flat)) == "inconclusive"


def test_hessian_matches_finite_differences_on_the_pathological_loss():
    f = landscape.pathological_loss
    p = np.array([0.4, -2.0])
    H = landscape.hessian(f, p)
    h = 1e-4

    def val(q):
        return f(
            torch.tensor(q[0], dtype=torch.float64),
            torch.tensor(q[1], dtype=torch.float64),
        ).item()

    fd = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            e_i, e_j = np.eye(2)[i] * h, np.eye(2)[j] * h
            fd[i, j] = (
                val(p + e_i + e_j)
                - val(p + e_i - e_j)
                - val(p - e_i + e_j)
                + val(p - e_i - e_j)
            ) / (4 * h * h)
    assert np.allclose(H, fd, atol=1e-6)


def test_find_critical_points_of_a_cubic():
    found = landscape.find_critical_points(
        lambda x, y: x**3 - 3 * x + y**2, [(2, 1), (-2, 1), (1.1, 0)]
    )
    kinds = {tuple(np.round(c.point, 6)): c.kind for c in found}
    assert kinds == {
        (1.0, 0.0): "minimum",
        (-1.0, 0.0): "saddle",
    }  # (1.1, 0) merged into (1, 0)


def test_pathological_minimum_is_where_the_slopes_balance():
    found = landscape.find_critical_points(landscape.pathological_loss, [(0.2, -4.0)])
    (minimum,) = [c for c in found if c.kind == "minimum"]
    s = 1 / (1 + np.exp(-minimum.point[1]))
    assert minimum.point[0] == pytest.approx(0.0, abs=1e-9)
    assert s * (1 - s) == pytest.approx(0.01, rel=1e-9)
    assert max(minimum.eigenvalues) == pytest.approx(2.0, rel=1e-9)


def test_linear_network_has_a_saddle_and_a_flat_valley():
    rng = np.random.default_rng(0)
    x = rng.normal(size=100)
    y = 2 * x + rng.normal(0, 0.3, size=100)
    net = landscape.linear_net_surface(x, y)
    found = landscape.find_critical_points(net, [(0.1, 0.2), (1.0, 1.0)])
    saddle = next(c for c in found if c.kind == "saddle")
    assert np.allclose(saddle.point, 0, atol=1e-12)
    mxy = np.mean(x * y)
    assert sorted(saddle.eigenvalues) == pytest.approx([-2 * mxy, 2 * mxy])
    valley = next(c for c in found if c.kind != "saddle")
    assert valley.kind == "inconclusive"
    assert valley.point[0] * valley.point[1] == pytest.approx(mxy / np.mean(x * x))


def test_trajectory_is_gradient_descent_by_hand():
    f = lambda a, b: a**2 + 3 * b**2  # noqa: E731
    run = landscape.trajectory(f, (1.0, 1.0), lambda p: optim.GD(p, lr=0.1), steps=3)
    expected = [np.array([1.0, 1.0])]
    for _ in range(3):
        a, b = expected[-1]
        expected.append(expected[-1] - 0.1 * np.array([2 * a, 6 * b]))
    assert np.allclose(run.points, expected)
    assert run.losses[-1] == pytest.approx(f(*expected[-1]))
    assert run.steps_to(run.losses[2]) == 2


def test_trajectory_with_a_scheduler_records_the_rates():
    run = landscape.trajectory(
        landscape.pathological_loss,
        (-4.0, 5.0),
        lambda p: optim.GD(p, lr=1.0),
        steps=6,
        make_scheduler=lambda o: torch.optim.lr_scheduler.StepLR(
            o, step_size=2, gamma=0.5
        ),
    )
    assert run.lrs.tolist() == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_bad_input():
    with pytest.raises(ValueError, match="start must have 2"):
        landscape.trajectory(landscape.pathological_loss, (1.0,), lambda p: optim.GD(p))
    with pytest.raises(ValueError, match="steps"):
        landscape.trajectory(
            landscape.pathological_loss, (1.0, 2.0), lambda p: optim.GD(p), 0
        )
    with pytest.raises(ValueError, match="torch.optim.Optimizer"):
        landscape.trajectory(landscape.pathological_loss, (1.0, 2.0), lambda p: None)
    with pytest.raises(ValueError, match="at least 2"):
        landscape.evaluate_grid(landscape.pathological_loss, [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="same length"):
        landscape.linear_net_surface([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="eigenvalues"):
        landscape.classify([])
