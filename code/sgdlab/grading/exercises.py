"""The graded exercises of the book: what to write, reference answers, public cases.

Each exercise asks for one function. Its *public* cases are here (students see
them and :func:`sgdlab.grading.check` runs them); its *hidden* cases live in a
JSON file per chapter that the instructor controls (see :func:`load_hidden`).
A case holds only inputs: the expected value is always computed by the
reference implementation, in the grader's own process.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Case:
    """Inputs of one call: positional and keyword arguments (JSON data)."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def describe(self, function: str) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        text = f"{function}({', '.join(parts)})"
        return text if len(text) < 200 else text[:197] + "..."


@dataclass(frozen=True)
class Exercise:
    """One graded exercise."""

    id: str
    chapter: str
    label: str
    function: str
    reference: Callable
    public: tuple[Case, ...]
    hint: str
    rtol: float = 1e-6
    atol: float = 1e-9

    def expected(self, case: Case):
        """The reference's answer to ``case``, as JSON data."""
        from .values import encode

        return encode(self.reference(*case.args, **case.kwargs))


# --------------------------------------------------------------------------
# Reference implementations (they call sgdlab where the book does)
# --------------------------------------------------------------------------
def _optimizer_steps(n_rows: int, batch_size: int, epochs: int, accumulation_steps: int = 1):
    from sgdlab.batching import n_batches
    from sgdlab.training import step_schedule

    return epochs * len(step_schedule(n_batches(n_rows, batch_size), accumulation_steps))


def _batch_averaged_rmse(residuals: list, batch_size: int) -> float:
    from sgdlab.batching import batch_lengths

    r = np.asarray(residuals, dtype=float)
    rmses, start = [], 0
    for length in batch_lengths(r.size, batch_size):
        rmses.append(math.sqrt(float(np.mean(r[start : start + length] ** 2))))
        start += length
    return float(np.mean(rmses))


def _simple_noise_scale(g_small_sq: list, g_big_sq: list, b_small: int, b_big: int) -> float:
    from sgdlab.noise import two_batch_estimates

    g2, trace = two_batch_estimates(float(np.mean(g_small_sq)), float(np.mean(g_big_sq)),
                                    b_small, b_big)  # fmt: skip
    return trace / g2


def _gd_line(x: list, y: list, slope: float, intercept: float, lr: float, steps: int) -> list:
    from sgdlab.regression import LineData, descend

    path = descend(LineData(np.asarray(x, float), np.asarray(y, float)), (slope, intercept),
                   lr=lr, steps=steps)  # fmt: skip
    return [float(v) for v in path.thetas[-1]]


def _classify_hessian(hessian: list) -> str:
    from sgdlab.landscape import classify

    h = np.asarray(hessian, dtype=float)
    return classify(np.linalg.eigvalsh((h + h.T) / 2), tol=1e-8)


def _adam_path(grads: list, lr: float, beta1: float = 0.9, beta2: float = 0.999,
               eps: float = 1e-8) -> list:  # fmt: skip
    import torch

    from sgdlab.optim import Adam

    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = Adam([w], lr=lr, betas=(beta1, beta2), eps=eps)
    out = []
    for g in grads:
        w.grad = torch.tensor([float(g)], dtype=torch.float64)
        opt.step()
        out.append(float(w.detach()[0]))
    return out


def _step_decay(step: int, every: int, factor: float = 0.5) -> float:
    from sgdlab.optim import step_decay_factor

    return step_decay_factor(step, every, factor)


EXERCISES: dict[str, Exercise] = {}


def _add(exercise: Exercise) -> None:
    EXERCISES[exercise.id] = exercise


_add(Exercise(
    "ch1-optimizer-steps", "epochs-and-minibatches", "ex-ch1-graded-steps", "optimizer_steps",
    _optimizer_steps,
    (Case((506, 32, 1)), Case((506, 32, 10, 4)), Case((100, 100, 3))),
    "An epoch has ceil(n_rows / batch_size) batches; with accumulation the optimizer steps "
    "after every k-th batch and after the last one.",
))  # fmt: skip
_add(Exercise(
    "ch2-batch-averaged-rmse", "epoch-rmse", "ex-ch2-graded-rmse", "batch_averaged_rmse",
    _batch_averaged_rmse,
    (Case(([1.0, -1.0, 2.0, 0.0], 2)), Case(([3.0, 4.0, 0.0], 2)), Case(([0.5] * 5, 5))),
    "Cut the residuals into consecutive batches (the last may be shorter), take each batch's "
    "RMSE, then the plain mean of those RMSEs.",
))  # fmt: skip
_add(Exercise(
    "ch3-noise-scale", "batch-size-and-time", "ex-bt-graded-noise", "simple_noise_scale",
    _simple_noise_scale,
    (Case(([13.0], [3.625], 4, 64)), Case(([10.0, 12.0], [2.0, 2.5], 8, 128)),
     Case(([5.0, 6.0, 4.0], [1.2, 1.1, 1.3], 1, 10))),
    "Average the small-batch and the big-batch measurements first, then apply the two-batch "
    "formulas for |G|^2 and tr(Sigma), and divide last.",
))  # fmt: skip
_add(Exercise(
    "ch4-gd-line", "watching-sgd", "ex-ch4-graded-gd", "gd_line",
    _gd_line,
    (Case(([0.0, 1.0], [1.0, 3.0], 0.0, 0.0, 0.1, 1)),
     Case(([-1.0, 0.0, 1.0], [-2.0, 1.0, 4.0], 1.0, 0.0, 0.2, 10)),
     Case(([0.5, -0.5, 0.25, 1.0], [2.0, 0.0, 1.0, 3.5], -1.0, 1.0, 0.5, 25))),
    "The gradient of the mean squared error of y ≈ slope·x + intercept is "
    "(2/n)·Σ r·x and (2/n)·Σ r with r = prediction − y; update both at once.",
))  # fmt: skip
_add(Exercise(
    "ch5-classify-hessian", "landscape", "ex-land-graded-classify", "classify_hessian",
    _classify_hessian,
    (Case(([[2.0, 0.0], [0.0, 3.0]],)), Case(([[1.0, 0.0], [0.0, -1.0]],)),
     Case(([[-2.0, 1.0], [1.0, -2.0]],)), Case(([[1.0, 0.0], [0.0, 0.0]],))),
    "Use the eigenvalues of the symmetric Hessian: all positive, all negative, both signs, "
    "or a zero with no sign change ('inconclusive'); treat |λ| ≤ 1e-8 as zero.",
))  # fmt: skip
_add(Exercise(
    "ch5-adam-path", "adaptive-optimizers", "ex-ad-graded-adam", "adam_path",
    _adam_path,
    (Case(([1.0], 0.1)), Case(([1.0, -1.0, 2.0], 0.01)),
     Case(([0.5, 0.5, 0.5, 0.5], 0.1), {"beta1": 0.5, "beta2": 0.9})),
    "Keep the two moving averages, correct both for their start at zero "
    "(divide by 1 − β^t), and step by lr·m̂/(√v̂ + eps).",
))  # fmt: skip
_add(Exercise(
    "ch5-step-decay", "sgd-and-schedules", "ex-sgd-graded-decay", "step_decay",
    _step_decay,
    (Case((0, 70)), Case((70, 70)), Case((209, 70), {"factor": 0.1})),
    "The rate is multiplied by factor once after every `every` steps: steps 0 to every−1 "
    "keep the full rate.",
))  # fmt: skip


def chapter_exercises(chapter: str) -> list[Exercise]:
    """The graded exercises of ``chapter`` (a page name such as ``"landscape"``)."""
    found = [e for e in EXERCISES.values() if e.chapter == chapter]
    if not found:
        chapters = sorted({e.chapter for e in EXERCISES.values()})
        raise ValueError(f"no graded exercises for chapter {chapter!r}; choose one of {chapters}")
    return found


def default_hidden_dir() -> Path:
    """Where hidden cases are read from: ``$SGDLAB_HIDDEN_CASES`` if set, else the
    sample set in the repository (``grading/hidden-sample``)."""
    env = os.environ.get("SGDLAB_HIDDEN_CASES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "grading" / "hidden-sample"


def load_hidden(chapter: str, directory: str | os.PathLike | None = None) -> dict[str, list[Case]]:
    """Hidden cases of ``chapter`` from ``DIRECTORY/<chapter>.json``.

    The file maps exercise ids to lists of ``{"args": [...], "kwargs": {...}}``.
    A missing or malformed file is an error that names it.
    """
    path = Path(directory or default_hidden_dir()) / f"{chapter}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no hidden cases for chapter {chapter!r}: {path} does not exist "
            "(pass --hidden DIR or set SGDLAB_HIDDEN_CASES)"
        )
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    known = {e.id for e in chapter_exercises(chapter)}
    if not isinstance(data, dict) or not set(data) <= known:
        raise ValueError(f"{path} must map exercise ids of {chapter!r} ({sorted(known)}) "
                         "to lists of cases")  # fmt: skip
    out: dict[str, list[Case]] = {}
    for ex_id, cases in data.items():
        if not isinstance(cases, list) or not all(
            isinstance(c, dict) and isinstance(c.get("args", []), list)
            and isinstance(c.get("kwargs", {}), dict) for c in cases
        ):  # fmt: skip
            raise ValueError(f"{path}: the cases of {ex_id} must be a list of "
                             '{"args": [...], "kwargs": {...}} objects')  # fmt: skip
        out[ex_id] = [Case(tuple(c.get("args", [])), dict(c.get("kwargs", {}))) for c in cases]
    return out
