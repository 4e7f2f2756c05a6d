"""The gradient noise scale: how large a batch is still worth it.

Used by chapter 3. After McCandlish, Kaplan, Amodei et al. (2018), "An
Empirical Model of Large-Batch Training".

Let ``G`` be the full-data gradient and ``Σ`` the covariance of the
per-example gradients. A batch of ``B`` examples drawn independently gives a
gradient ``G_B`` with

    E |G_B|² = |G|² + tr(Σ) / B.

The *simple noise scale* is ``B_simple = tr(Σ) / |G|²``: below it, a batch's
gradient is mostly noise; far above it, doubling the batch barely improves
the step. Two batch sizes ``b_small < b_big`` give unbiased estimates of both
terms (:func:`two_batch_estimates`); they are noisy, so
:class:`NoiseScaleEstimator` averages numerator and denominator separately
(an exponential moving average) and divides only at the end, as the paper
does.

The paper's model of training to a fixed target: steps and examples needed at
batch ``B`` are

    S(B) = S_min (1 + B_noise / B),      E(B) = E_min (1 + B / B_noise),

with ``E = B·S``, so ``E_min = S_min·B_noise`` and the *critical batch size*
``B_crit = E_min / S_min = B_noise``. :func:`fit_steps_examples` fits both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._checks import check_beta, check_positive_int
from .timed_training import accuracy, train_classifier


def _check_pair(b_small: int, b_big: int) -> tuple[int, int]:
    b_small = check_positive_int(b_small, "b_small")
    b_big = check_positive_int(b_big, "b_big")
    if b_small >= b_big:
        raise ValueError(
            f"b_small must be smaller than b_big, got {b_small} and {b_big}"
        )
    return b_small, b_big


def two_batch_estimates(
    g_small_sq: float, g_big_sq: float, b_small: int, b_big: int
) -> tuple[float, float]:
    """Unbiased estimates of ``|G|²`` and ``tr(Σ)`` from two batch gradients.

    ``g_small_sq`` and ``g_big_sq`` are ``|G_B|²`` measured at ``b_small`` and
    ``b_big`` examples (drawn independently, with replacement)::

        |G|²  ≈ (b_big |G_big|² − b_small |G_small|²) / (b_big − b_small)
        tr(Σ) ≈ (|G_small|² − |G_big|²) / (1 / b_small − 1 / b_big)

    Single estimates can be negative; average many before dividing.
    """
    b_small, b_big = _check_pair(b_small, b_big)
    g2 = (b_big * g_big_sq - b_small * g_small_sq) / (b_big - b_small)
    trace = (g_small_sq - g_big_sq) / (1.0 / b_small - 1.0 / b_big)
    return float(g2), float(trace)


class NoiseScaleEstimator:
    """Exponential moving averages of the two estimates, and their ratio.

    Parameters
    ----------
    b_small, b_big
        The two batch sizes, ``b_small < b_big``.
    beta
        Smoothing factor of the moving averages, in [0, 1). The averages are
        bias-corrected like Adam's, so the first update is not pulled to 0.
    """

    def __init__(self, b_small: int, b_big: int, beta: float = 0.9) -> None:
        self.b_small, self.b_big = _check_pair(b_small, b_big)
        self.beta = check_beta(beta, "beta")
        self.count = 0
        self._g2 = 0.0
        self._trace = 0.0

    def update(self, g_small_sq: float, g_big_sq: float) -> float:
        """Add one pair of measurements; return the current ``B_simple``."""
        g2, trace = two_batch_estimates(g_small_sq, g_big_sq, self.b_small, self.b_big)
        self._g2 = self.beta * self._g2 + (1 - self.beta) * g2
        self._trace = self.beta * self._trace + (1 - self.beta) * trace
        self.count += 1
        return self.b_simple

    def _corrected(self, value: float) -> float:
        if self.count == 0:
            raise ValueError("no measurements yet: call update() first")
        return value / (1 - self.beta**self.count)

    @property
    def gradient_sq(self) -> float:
        """Smoothed estimate of ``|G|²``."""
        return self._corrected(self._g2)

    @property
    def trace(self) -> float:
        """Smoothed estimate of ``tr(Σ)``."""
        return self._corrected(self._trace)

    @property
    def b_simple(self) -> float:
        """``tr(Σ) / |G|²`` from the smoothed estimates (inf if ``|G|²`` ≤ 0)."""
        g2 = self.gradient_sq
        return self.trace / g2 if g2 > 0 else math.inf


def batch_gradient_sq(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
) -> float:
    """``|G_B|²``: the squared norm of the gradient of the mean loss on ``X, y``.

    It uses ``torch.autograd.grad``, so the parameters' ``.grad`` fields are
    left as they were and this can be called in the middle of training.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss_fn(model(X), y), params)
    return float(sum(g.double().pow(2).sum() for g in grads))


def measure_noise_scale(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    b_small: int,
    b_big: int,
    pairs: int = 20,
    estimator: NoiseScaleEstimator | None = None,
    generator: torch.Generator | None = None,
) -> NoiseScaleEstimator:
    """Measure ``B_simple`` of ``model`` where it stands, from ``pairs`` pairs of
    batches drawn with replacement from ``X, y`` (so that the estimator's
    formula holds exactly). ``loss_fn`` must average over the batch.

    Pass an existing ``estimator`` to keep smoothing across calls (during
    training); otherwise a fresh one with ``beta=0.9`` is made.
    """
    if (
        not isinstance(X, torch.Tensor)
        or not isinstance(y, torch.Tensor)
        or len(X) != len(y)
    ):
        raise ValueError("X and y must be tensors with the same number of rows")
    b_small, b_big = _check_pair(b_small, b_big)
    pairs = check_positive_int(pairs, "pairs")
    if estimator is None:
        estimator = NoiseScaleEstimator(b_small, b_big)
    elif (estimator.b_small, estimator.b_big) != (b_small, b_big):
        raise ValueError("the estimator was made for other batch sizes")
    n = len(X)
    for _ in range(pairs):
        small = torch.randint(n, (b_small,), generator=generator).to(X.device)
        big = torch.randint(n, (b_big,), generator=generator).to(X.device)
        estimator.update(
            batch_gradient_sq(model, loss_fn, X[small], y[small]),
            batch_gradient_sq(model, loss_fn, X[big], y[big]),
        )
    return estimator


def linear_regression_b_simple(d: int, sigma: float, u_norm: float) -> float:
    """Exact ``B_simple`` of least squares with ``x ~ N(0, I_d)``.

    The targets are ``y = x·w* + ε`` with noise variance ``σ²``, the loss is
    (a multiple of) ``(x·w − y)²``, and ``u = w − w*`` is the error of the
    weights. Then ``G = u`` (up to the same multiple), and
    ``tr(Σ) = (d + 1)|u|² + d σ²``, so ``B_simple = (d + 1) + d σ² / |u|²``.
    """
    d = check_positive_int(d, "d")
    if not (sigma >= 0 and u_norm > 0):
        raise ValueError("sigma must be >= 0 and u_norm > 0")
    return (d + 1) + d * sigma**2 / u_norm**2


@dataclass(frozen=True)
class NoiseFit:
    """``S = S_min (1 + B_noise / B)`` and ``E = E_min (1 + B / B_noise)``, fitted.

    ``b_noise`` comes from the fit of the steps; ``b_crit = e_min / s_min``
    combines both fits. With relative errors the fit of ``E = B·S`` is the fit
    of ``S`` with its two coefficients swapped, so ``b_crit`` equals
    ``b_noise`` up to rounding: the two fits do not confirm each other.
    """

    s_min: float
    b_noise: float
    e_min: float
    b_noise_from_examples: float

    @property
    def b_crit(self) -> float:
        """The critical batch size ``E_min / S_min``."""
        return self.e_min / self.s_min

    def steps(self, batch_size) -> np.ndarray | float:
        """Predicted steps to the target at ``batch_size``."""
        return self.s_min * (1 + self.b_noise / np.asarray(batch_size, dtype=float))

    def examples(self, batch_size) -> np.ndarray | float:
        """Predicted examples to the target at ``batch_size``."""
        return self.e_min * (
            1 + np.asarray(batch_size, dtype=float) / self.b_noise_from_examples
        )


def fit_steps_examples(
    batch_sizes: Sequence[float], steps: Sequence[float]
) -> NoiseFit:
    """Fit the paper's model to steps-to-target measured at several batch sizes.

    ``S`` is linear in ``1/B`` (``S = S_min + S_min B_noise / B``) and
    ``E = B·S`` is linear in ``B`` (``E = E_min + (E_min / B_noise) B``);
    each is fitted by least squares on relative errors. Batch sizes that
    never reached the target (infinite steps) are refused: leave them out.
    """
    b = np.asarray(batch_sizes, dtype=float)
    s = np.asarray(steps, dtype=float)
    if b.ndim != 1 or b.shape != s.shape or np.unique(b).size < 2:
        raise ValueError(
            "need steps at two or more distinct batch sizes, as 1-D sequences"
        )
    if not (np.isfinite(s).all() and (s > 0).all() and (b >= 1).all()):
        raise ValueError(
            "steps must be positive and finite (drop batch sizes that never reached the "
            "target) and batch sizes at least 1"
        )
    w = 1.0 / s
    A = np.column_stack([np.ones_like(b), 1.0 / b]) * w[:, None]
    (s_min, slope), *_ = np.linalg.lstsq(A, s * w, rcond=None)
    e = b * s
    w = 1.0 / e
    A = np.column_stack([np.ones_like(b), b]) * w[:, None]
    (e_min, e_slope), *_ = np.linalg.lstsq(A, e * w, rcond=None)
    if min(s_min, slope, e_min, e_slope) <= 0:
        raise ValueError(
            "the steps do not follow S = S_min (1 + B_noise / B): the fit gave a "
            "non-positive coefficient; measure over a wider range of batch sizes"
        )
    return NoiseFit(
        float(s_min), float(slope / s_min), float(e_min), float(e_min / e_slope)
    )


@dataclass(frozen=True)
class NoiseTrack:
    """``B_simple`` measured along a training run."""

    steps: np.ndarray
    b_simple: np.ndarray
    gradient_sq: np.ndarray
    trace: np.ndarray
    accuracy: np.ndarray


def track_noise_scale(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    lr: float,
    steps: int,
    every: int,
    b_small: int,
    b_big: int,
    pairs: int = 10,
    beta: float = 0.9,
    X_test: torch.Tensor | None = None,
    y_test: torch.Tensor | None = None,
    seed: int = 0,
) -> NoiseTrack:
    """Train a classifier with SGD (cross-entropy) and measure ``B_simple``
    every ``every`` steps from ``pairs`` fresh pairs of batches.

    Each checkpoint gets a fresh estimator (moving averages with ``beta`` over
    that checkpoint's pairs only), so the value recorded describes the model as
    it stands there. Smoothing across checkpoints, as one would between
    consecutive steps, would make the record lag: the model changes a lot in
    ``every`` steps.
    """
    steps = check_positive_int(steps, "steps")
    every = check_positive_int(every, "every")
    generator = torch.Generator().manual_seed(seed)
    have_test = X_test is not None and y_test is not None
    record = []
    done = 0
    while True:
        estimate = _fresh_estimate(model, X, y, b_small, b_big, pairs, beta, generator)
        acc = accuracy(model, X_test, y_test) if have_test else math.nan
        record.append(
            (done, estimate.b_simple, estimate.gradient_sq, estimate.trace, acc)
        )
        if done >= steps:
            break
        chunk = min(every, steps - done)
        train_classifier(
            model,
            X,
            y,
            batch_size=batch_size,
            lr=lr,
            steps=chunk,
            X_test=X[:1],
            y_test=y[:1],
            evaluations=1,
            seed=seed + done,
        )
        done += chunk
    return NoiseTrack(*(np.array(column) for column in zip(*record, strict=True)))


def _fresh_estimate(model, X, y, b_small, b_big, pairs, beta, generator):
    """A new :class:`NoiseScaleEstimator` fed ``pairs`` pairs of batches."""
    estimator = NoiseScaleEstimator(b_small, b_big, beta)
    measure_noise_scale(
        model,
        nn.CrossEntropyLoss(),
        X,
        y,
        b_small=b_small,
        b_big=b_big,
        pairs=pairs,
        estimator=estimator,
        generator=generator,
    )
    return estimator
