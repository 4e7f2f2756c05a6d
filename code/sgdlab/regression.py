"""Gradient descent and mini-batch SGD on a straight-line fit, from first principles.

Used by chapter 4 (watching SGD learn). Everything but ``descend_torch`` is
plain NumPy: the model is ``y ≈ slope·x + intercept``, written as a design
matrix with a column of ones, the loss is the mean squared error, and the
update is ``θ ← θ − lr·∇MSE``. ``descend_torch`` runs the same loop with
PyTorch's autograd, to show its mechanics. Parameters are always ordered
``(slope, intercept)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._checks import (
    check_batch_size,
    check_non_negative_number,
    check_positive_int,
    check_positive_number,
)
from .batching import endless_batches
from .metrics import first_reached


@dataclass(frozen=True)
class LineData:
    """Points ``(x, y)`` and the design matrix ``[x, 1]`` of a straight-line fit."""

    x: np.ndarray
    y: np.ndarray

    @property
    def design(self) -> np.ndarray:
        """``(n, 2)`` matrix whose rows are ``(x_i, 1)``."""
        return np.column_stack([self.x, np.ones_like(self.x)])

    @property
    def n(self) -> int:
        return int(self.x.shape[0])


def make_line_data(
    n: int = 100,
    slope: float = 3.0,
    intercept: float = 10.0,
    noise: float = 0.6,
    *,
    seed: int = 0,
) -> LineData:
    """Draw ``x ~ U(−1, 1)`` and ``y = slope·x + intercept + N(0, noise²)`` (chapter 4)."""
    n = check_positive_int(n, "n")
    if n < 2:
        raise ValueError(f"n must be at least 2 to fit a line, got {n}")
    check_non_negative_number(noise, "noise")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=n)
    y = slope * x + intercept + rng.normal(0.0, noise, size=n)
    return LineData(x, y)


def mse(theta, data: LineData) -> float:
    """Mean squared error of the line ``theta = (slope, intercept)``."""
    residual = data.design @ np.asarray(theta, dtype=float) - data.y
    return float(np.mean(residual**2))


def mse_gradient(theta, data: LineData, rows: np.ndarray | None = None) -> np.ndarray:
    """Gradient of the MSE over ``rows`` (all if ``None``): ``(2/b)·Aᵀ(Aθ − y)``."""
    A, y = data.design, data.y
    if rows is not None:
        A, y = A[rows], y[rows]
    residual = A @ np.asarray(theta, dtype=float) - y
    return 2.0 * A.T @ residual / len(y)


def loss_grid(data: LineData, slopes: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
    """MSE on a grid, shape ``(len(intercepts), len(slopes))``, without a Python loop.

    Uses the expansion MSE(a, c) = mean(y²) − 2a·mean(xy) − 2c·mean(y)
    + a²·mean(x²) + 2ac·mean(x) + c², which needs only five averages.
    """
    x, y = data.x, data.y
    a = np.asarray(slopes, dtype=float)[None, :]
    c = np.asarray(intercepts, dtype=float)[:, None]
    return (
        np.mean(y * y)
        - 2 * a * np.mean(x * y)
        - 2 * c * np.mean(y)
        + a * a * np.mean(x * x)
        + 2 * a * c * np.mean(x)
        + c * c
    )


def hessian(data: LineData) -> np.ndarray:
    """Hessian of the MSE, ``(2/n)·AᵀA`` (constant: the loss is quadratic).

    Its eigenvalues are the curvatures along the principal directions; gradient
    descent is stable for learning rates below ``2 / largest eigenvalue``.
    """
    return 2.0 * data.design.T @ data.design / data.n


def least_squares(data: LineData) -> np.ndarray:
    """The exact minimizer ``(slope, intercept)`` of the MSE."""
    solution, *_ = np.linalg.lstsq(data.design, data.y, rcond=None)
    return solution


@dataclass(frozen=True)
class Path:
    """Where an optimizer went: parameters and loss before each step and at the end.

    ``thetas[k]`` and ``losses[k]`` are the state after ``k`` steps
    (``thetas[0]`` is the start); ``batches[k]`` are the rows used by step
    ``k + 1`` (all rows for gradient descent).
    """

    thetas: np.ndarray
    losses: np.ndarray
    lr: float
    batch_size: int
    batches: tuple[np.ndarray, ...]

    @property
    def steps(self) -> int:
        return len(self.thetas) - 1

    def steps_to_fraction(self, fraction: float = 0.9) -> list[int | None]:
        """For each parameter, the first step after which it has covered ``fraction``
        of its way from the start to its final value, and stays there.

        Returns a step count per parameter (``None`` if never).
        """
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        start, final = self.thetas[0], self.thetas[-1]
        travelled = (self.thetas - start) / np.where(final == start, 1.0, final - start)
        # the least share travelled from each step on: reached there *and stays*
        stays = np.minimum.accumulate(travelled[::-1], axis=0)[::-1]
        return [first_reached(column, fraction, below=False) for column in stays.T]

    def jitter(self, last: int) -> np.ndarray:
        """Standard deviation of each parameter over the last ``last`` steps."""
        last = check_positive_int(last, "last")
        if last > self.steps:
            raise ValueError(
                f"last must be at most the number of steps ({self.steps}), got {last}"
            )
        return self.thetas[-last:].std(axis=0)

    def divergence_step(self) -> int | None:
        """First step after which the loss exceeds its starting value, or ``None``."""
        above = np.flatnonzero(self.losses[1:] > self.losses[0])
        return None if len(above) == 0 else int(above[0]) + 1


def descend(
    data: LineData,
    theta0=(-1.0, 1.0),
    *,
    lr: float = 0.1,
    steps: int = 100,
    batch_size: int | None = None,
    seed: int = 0,
    normalize: bool = False,
) -> Path:
    """Run gradient descent (``batch_size=None``) or mini-batch SGD (chapters 4 and 5).

    Mini-batches are drawn epoch by epoch: a fresh permutation of the rows,
    cut into batches of ``batch_size`` (the last one shorter), as a shuffling
    ``DataLoader`` does. Each step is ``θ ← θ − lr·∇MSE_batch(θ)``. This
    function checks its arguments; the loop is :func:`sgd_line_fit`.

    Parameters
    ----------
    data
        The points to fit.
    theta0
        Starting ``(slope, intercept)``; the chapter uses ``(−1, 1)``.
    lr
        Learning rate (> 0).
    steps
        Number of updates.
    batch_size
        Rows per step, from 1 to ``data.n``; ``None`` for all rows.
    seed
        Seed of the batch order.
    normalize
        Take steps of fixed length ``lr`` along the gradient,
        ``θ ← θ − lr·g/‖g‖`` (used in chapter 5 to compare directions only).
    """
    lr = check_positive_number(lr, "lr")
    steps = check_positive_int(steps, "steps")
    b = data.n if batch_size is None else check_batch_size(batch_size, data.n)
    theta = _check_theta(theta0)
    return sgd_line_fit(data, theta, lr, steps, b, seed, normalize)


def sgd_line_fit(data, theta, lr, steps, batch_size, seed, normalize=False) -> Path:
    """``steps`` updates ``θ ← θ − lr·∇MSE_batch(θ)`` from ``theta``.

    Each epoch shuffles the rows and cuts them into batches; a batch of all
    ``data.n`` rows is gradient descent, which needs no shuffling.
    """
    rng = np.random.default_rng(seed)
    every_row = batch_size == data.n
    batches = endless_batches(
        lambda: np.arange(data.n) if every_row else rng.permutation(data.n), batch_size
    )
    thetas, losses, used = [theta], [mse(theta, data)], []
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is shown
        for _ in range(steps):
            rows = next(batches)
            g = mse_gradient(theta, data, rows)
            if normalize:
                norm = np.linalg.norm(g)
                g = g / norm if norm > 0 else g
            theta = theta - lr * g
            thetas.append(theta)
            losses.append(mse(theta, data))
            used.append(rows)
    return Path(np.array(thetas), np.array(losses), lr, batch_size, tuple(used))


def _check_theta(theta0) -> np.ndarray:
    """``theta0`` as a float array ``(slope, intercept)``, or a clear error."""
    theta = np.asarray(theta0, dtype=float).copy()
    if theta.shape != (2,):
        raise ValueError(f"theta0 must be (slope, intercept), got shape {theta.shape}")
    return theta


def autograd_line_fit(design, y, theta0, lr, batches) -> list[list[float]]:
    """The loop of ``descend`` with autograd computing the gradient (chapter 4).

    ``design`` and ``y`` are float64 tensors, ``theta0`` is ``(slope,
    intercept)`` as floats, ``batches`` holds the rows of each step. Returns the
    parameters at the start and after every step. Call ``descend_torch``,
    which checks the arguments.
    """
    theta = nn.Parameter(torch.tensor(theta0, dtype=torch.float64))  # floats, not ints
    history = [theta.tolist()]
    for rows in batches:
        loss = ((design[rows] @ theta - y[rows]) ** 2).mean()
        loss.backward()  # adds dloss/dtheta into theta.grad
        with torch.no_grad():  # the update is not part of the model: don't record it
            theta.sub_(lr * theta.grad)  # in place: the same tensor, new values
        theta.grad.zero_()  # backward *adds* to .grad, so clear it for the next step
        history.append(theta.tolist())
    return history


def descend_torch(
    data: LineData,
    theta0=(-1.0, 1.0),
    *,
    lr: float = 0.1,
    steps: int = 100,
    batches=None,
) -> Path:
    """Run ``descend``'s gradient descent or SGD with PyTorch's autograd (chapter 4).

    The gradient comes from ``loss.backward()`` instead of the closed form
    ``mse_gradient``; the update is ``θ ← θ − lr·θ.grad``, done in place under
    ``torch.no_grad()``. In float64 it agrees with ``descend`` to rounding.

    Parameters
    ----------
    data
        The points to fit.
    theta0
        Starting ``(slope, intercept)``.
    lr
        Learning rate (> 0).
    steps
        Number of updates.
    batches
        The rows of each step (for instance ``descend(...).batches``, to replay
        an SGD run); ``None`` uses all rows at every step (gradient descent).
        Must hold ``steps`` arrays of row indices.
    """
    lr = check_positive_number(lr, "lr")
    steps = check_positive_int(steps, "steps")
    start = _check_theta(theta0)
    if batches is None:
        batches = [np.arange(data.n)] * steps
    batches = [np.asarray(rows) for rows in batches]
    if len(batches) != steps:
        raise ValueError(
            f"batches must hold one array of rows per step ({steps}), got {len(batches)}"
        )
    for rows in batches:
        if (
            rows.ndim != 1
            or rows.size == 0
            or not np.issubdtype(rows.dtype, np.integer)
        ):
            raise ValueError(
                "each batch must be a non-empty 1-D array of integer row indices"
            )
        if rows.min() < 0 or rows.max() >= data.n:
            raise ValueError(f"row indices must be between 0 and {data.n - 1}")
    design = torch.from_numpy(data.design)
    y = torch.from_numpy(np.asarray(data.y, dtype=float))
    torch_rows = [torch.from_numpy(rows.astype(np.int64)) for rows in batches]
    with np.errstate(over="ignore", invalid="ignore"):
        thetas = np.array(autograd_line_fit(design, y, start.tolist(), lr, torch_rows))
        losses = np.array([mse(theta, data) for theta in thetas])
    b = max(len(rows) for rows in batches)
    return Path(thetas, losses, lr, b, tuple(batches))
