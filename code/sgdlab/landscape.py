"""Loss surfaces of two parameters, optimizer paths on them, and critical points.

Used by the optimization-landscape chapters. A *surface* is a function
``f(w0, w1)`` of two torch tensors that broadcasts, so a whole grid is one
call (:func:`evaluate_grid`) and a single point is differentiable by
autograd (:func:`trajectory`, :func:`hessian`). Critical points are found by
Newton's method on the gradient and classified by the Hessian's eigenvalues.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ._checks import check_non_negative_number, check_positive_int
from .metrics import first_reached

Surface = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

__all__ = [
    "pathological_loss",
    "linear_net_surface",
    "evaluate_grid",
    "Trajectory",
    "trajectory",
    "hessian",
    "classify",
    "CriticalPoint",
    "find_critical_points",
]


def pathological_loss(w0: torch.Tensor, w1: torch.Tensor) -> torch.Tensor:
    """``tanh(w0)² + 0.01·|w1| + sigmoid(w1)``: plateaus, a kink and a narrow valley.

    Adapted from the UvA deep-learning tutorials' ``pathological_curve_loss``,
    which puts ``0.01·|·|`` on ``w0``; moved to ``w1`` it is what makes the
    minimum along ``w1`` (chapter 5). Along ``w0`` it is flat
    far from 0 (``tanh`` saturates); along ``w1`` a gentle slope 0.01 meets the
    sigmoid's step, which makes a shallow minimum near ``w1 ≈ −4.6``.
    """
    return torch.tanh(w0) ** 2 + 0.01 * torch.abs(w1) + torch.sigmoid(w1)


def _as_tensor(values, name: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(values, dtype=float), dtype=torch.float64).reshape(
        -1
    )
    if t.numel() < 2:
        raise ValueError(f"{name} needs at least 2 values, got {t.numel()}")
    return t


def linear_net_surface(x, y) -> Surface:
    """MSE of the smallest deep network: ``ŷ = w1·(w0·x)``, two weights, no bias.

    Its loss ``mean((w1·w0·x − y)²)`` depends only on the product ``w0·w1``:
    a saddle at the origin and a curved valley of minima ``w0·w1 = xȳ/x²̄``
    along which the Hessian has a zero eigenvalue (the scaling symmetry of
    networks: ``(c·w0, w1/c)`` computes the same function).
    """
    x, y = _as_tensor(x, "x"), _as_tensor(y, "y")
    if x.shape != y.shape:
        raise ValueError(
            f"x and y must have the same length, got {x.numel()} and {y.numel()}"
        )
    mxx, mxy, myy = (x * x).mean(), (x * y).mean(), (y * y).mean()

    def f(w0: torch.Tensor, w1: torch.Tensor) -> torch.Tensor:
        w = w0 * w1
        return w**2 * mxx - 2 * w * mxy + myy

    return f


def evaluate_grid(f: Surface, w0, w1) -> np.ndarray:
    """Values of ``f`` on the grid ``w0 × w1`` in one vectorized call.

    Returns an array of shape ``(len(w1), len(w0))``: rows follow ``w1``, as
    ``matplotlib``'s ``contour(w0, w1, Z)`` expects.
    """
    g0, g1 = _as_tensor(w0, "w0"), _as_tensor(w1, "w1")
    W1, W0 = torch.meshgrid(g1, g0, indexing="ij")
    with torch.no_grad():
        Z = f(W0, W1)
    if Z.shape != W0.shape:
        raise ValueError(
            f"the surface returned shape {tuple(Z.shape)} for a {tuple(W0.shape)} grid: "
            "it must broadcast elementwise over w0 and w1"
        )
    return Z.numpy()


@dataclass(frozen=True)
class Trajectory:
    """Where an optimizer went on a surface.

    ``points[k]`` and ``losses[k]`` are the position and loss after ``k``
    steps (``points[0]`` is the start); ``lrs[k]`` is the rate used by step
    ``k + 1``.
    """

    points: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    def steps_to(self, loss: float) -> int | None:
        """First step count after which the loss is at most ``loss``, or ``None``."""
        return first_reached(self.losses, loss)


def _check_point(point, name: str = "start", dims: int | None = 2) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(point, dtype=float), dtype=torch.float64).reshape(-1)
    if dims is not None and t.numel() != dims:
        raise ValueError(f"{name} must have {dims} coordinates, got {t.numel()}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must be finite, got {point!r}")
    return t


def trajectory(
    f: Surface,
    start: Sequence[float],
    make_optimizer: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    steps: int = 300,
    *,
    make_scheduler: Callable[[torch.optim.Optimizer], object] | None = None,
) -> Trajectory:
    """Run an optimizer on the surface ``f`` from ``start`` for ``steps`` steps.

    Parameters
    ----------
    f
        The surface, ``f(w0, w1)``.
    start
        Starting point ``(w0, w1)``.
    make_optimizer
        Builds the optimizer from the parameter list, e.g.
        ``lambda p: sgdlab.optim.Adam(p, lr=0.3)`` or any ``torch.optim`` class.
    steps
        Number of updates.
    make_scheduler
        Optional: builds a torch learning-rate scheduler from the optimizer;
        ``scheduler.step()`` is called after each ``optimizer.step()``.
    """
    steps = check_positive_int(steps, "steps")
    w = _check_point(start).clone().requires_grad_(True)
    opt = make_optimizer([w])
    if not isinstance(opt, torch.optim.Optimizer):
        raise ValueError(
            f"make_optimizer must return a torch.optim.Optimizer, got {type(opt).__name__}"
        )
    scheduler = make_scheduler(opt) if make_scheduler is not None else None
    points, losses, lrs = [w.detach().clone().numpy()], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = f(w[0], w[1])
        loss.backward()
        losses.append(loss.item())
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if scheduler is not None:
            scheduler.step()
        points.append(w.detach().clone().numpy())
    with torch.no_grad():
        losses.append(f(w[0], w[1]).item())
    return Trajectory(np.array(points), np.array(losses), np.array(lrs))


def hessian(f: Surface, point: Sequence[float]) -> np.ndarray:
    """The Hessian of ``f`` at ``point`` by autograd (float64), a 2×2 array."""
    p = _check_point(point, "point")
    H = torch.autograd.functional.hessian(lambda v: f(v[0], v[1]), p)
    return H.numpy()


def classify(eigenvalues, tol: float = 1e-8) -> str:
    """Name a critical point from the Hessian's eigenvalues.

    All above ``tol``: ``"minimum"``; all below ``−tol``: ``"maximum"``; some
    of each: ``"saddle"``; otherwise (an eigenvalue within ``tol`` of 0 and no
    sign change) ``"inconclusive"``: second derivatives cannot decide.
    """
    ev = np.asarray(eigenvalues, dtype=float).reshape(-1)
    if ev.size == 0 or not np.isfinite(ev).all():
        raise ValueError(
            f"eigenvalues must be a non-empty array of finite numbers, got {ev}"
        )
    tol = check_non_negative_number(tol, "tol")
    pos, neg = (ev > tol).any(), (ev < -tol).any()
    if pos and neg:
        return "saddle"
    if (ev > tol).all():
        return "minimum"
    if (ev < -tol).all():
        return "maximum"
    return "inconclusive"


@dataclass(frozen=True)
class CriticalPoint:
    """A point where the gradient vanishes, with the Hessian's verdict."""

    point: np.ndarray
    value: float
    eigenvalues: np.ndarray
    kind: str


def _gradient(f: Surface, p: torch.Tensor) -> torch.Tensor:
    v = p.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(f(v[0], v[1]), v)
    return g


def find_critical_points(
    f: Surface,
    starts: Sequence[Sequence[float]],
    *,
    max_iter: int = 100,
    grad_tol: float = 1e-10,
    merge_tol: float = 1e-5,
    eig_tol: float = 1e-8,
) -> list[CriticalPoint]:
    """Find critical points of ``f`` by Newton's method on its gradient.

    From each start, iterate ``p ← p − H⁺∇f`` (``H⁺`` the pseudo-inverse, so a
    singular Hessian does not stop it). Newton's method is attracted to any
    critical point, saddles included, which is what we want here and what
    makes it a poor optimizer (Dauphin et al. 2014). Points where the
    gradient norm ends below ``grad_tol`` are kept, merged when closer than
    ``merge_tol``, and classified with :func:`classify`.
    """
    max_iter = check_positive_int(max_iter, "max_iter")
    found: list[CriticalPoint] = []
    for start in starts:
        p = _check_point(start)
        for _ in range(max_iter):
            g = _gradient(f, p)
            if not torch.isfinite(g).all() or g.norm() < grad_tol:
                break
            H = torch.autograd.functional.hessian(lambda v: f(v[0], v[1]), p)
            p = p - torch.linalg.pinv(H) @ g
        g = _gradient(f, p)
        if not torch.isfinite(g).all() or g.norm() >= grad_tol:
            continue
        point = p.numpy()
        if any(np.linalg.norm(point - c.point) < merge_tol for c in found):
            continue
        H = hessian(f, point)
        ev = np.linalg.eigvalsh(H)
        with torch.no_grad():
            value = f(p[0], p[1]).item()
        found.append(CriticalPoint(point, value, ev, classify(ev, eig_tol)))
    return found
