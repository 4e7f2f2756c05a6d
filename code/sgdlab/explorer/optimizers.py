"""Chapter 6's explorer: GD, GD with momentum, RMSProp and Adam on a loss
surface of two parameters, over a grid of learning rates and momentum
coefficients.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import landscape
from .._checks import check_positive_int
from ..metrics import first_reached
from ..player import Control, explorer_player
from ..plotting.style import OPTIMIZER_COLORS
from .grid import (
    Explorer,
    check_grid,
    compact,
    exact_values,
    indexed_product,
    rerun,
    short_number,
    small_multiples,
)

#: Chapter 6's grid: optimizers, learning rates and momentum coefficients.
OPTIMIZERS = ("GD", "GD + momentum", "RMSProp", "Adam")
SURFACE_LRS = (0.1, 0.3, 0.6, 1.0, 2.5, 5.0)
MOMENTA = (0.5, 0.9, 0.99)
_OPTIM_CLASS = {"GD": "GD", "GD + momentum": "GD", "RMSProp": "RMSProp", "Adam": "Adam"}


def _surface_record(name, lr, beta, surface, start, steps) -> dict:
    kwargs = {"momentum": beta} if name == "GD + momentum" else {}
    label = f"{name} (β {beta})" if kwargs else name
    return {
        "call": "landscape.trajectory",
        "surface": surface,
        "start": list(start),
        "optimizer": _OPTIM_CLASS[name],
        "lr": lr,
        "kwargs": kwargs,
        "steps": steps,
        "label": label,
    }


def _surface_stats(record: dict, run, target: float, minimum: np.ndarray) -> None:
    reached = first_reached(run.losses, target)
    start_gap = float(np.linalg.norm(run.points[0] - minimum))
    end_gap = float(np.linalg.norm(run.points[-1] - minimum))
    diverged = not np.isfinite(end_gap) or end_gap > start_gap
    record.update(
        stats={
            "final": short_number(run.final_loss),
            "reached": reached,
            "diverged": diverged,
        },
        exact=exact_values([*run.points[-1], run.final_loss]),
    )
    where = (
        f"never reaches loss {target} in {run.steps} steps"
        if reached is None
        else f"reaches loss {target} at step {reached}"
    )
    fate = (
        "ends farther from the minimum than it started: diverged"
        if diverged
        else f"ends {end_gap:.2g} from the minimum: did not diverge"
    )
    record["summary"] = (
        f"{record['label']} at learning rate {record['lr']}: {where}; final "
        f"loss {short_number(run.final_loss)}; {fate}."
    )


def _surface_minimum(f, window) -> np.ndarray:
    """The surface's lowest critical point in the window (grid search, then Newton)."""
    w = np.linspace(*window, 201)
    Z = landscape.evaluate_grid(f, w, w)
    i, j = np.unravel_index(np.argmin(Z), Z.shape)
    found = landscape.find_critical_points(f, [(w[j], w[i])])
    return found[0].point if found else np.array([w[j], w[i]])


def _race_runs(surface, start, steps, lrs, momenta, target, minimum):
    """Every run of the race: records, results, and the index (name, lr, β) -> run."""
    records, results, index = [], [], {}
    for name in OPTIMIZERS:
        for lr in lrs:
            for beta in momenta if name == "GD + momentum" else (None,):
                record = _surface_record(name, lr, beta, surface, start, steps)
                run = rerun(record)
                _surface_stats(record, run, target, minimum)
                record.update(
                    color=OPTIMIZER_COLORS[name],
                    steps=run.steps,
                    theta=compact(run.points, 4),
                    loss=compact(run.losses, 3),
                )
                index[(name, lr, beta)] = len(records)
                records.append(record)
                results.append(run)
    return records, results, index


def _race_views(lrs, momenta, index) -> dict:
    """``"o,i,k"`` (optimizer in focus, lr, β) to the four runs of that race."""
    views = {}
    for (o, _), (i, lr), (k, beta) in indexed_product(OPTIMIZERS, lrs, momenta):
        shown = [
            index[(n, lr, beta if n == "GD + momentum" else None)] for n in OPTIMIZERS
        ]
        views[f"{o},{i},{k}"] = (shown, o)
    return views


def _race_controls(lrs, momenta) -> list[Control]:
    """The optimizer menu and the learning-rate and β sliders."""
    return [
        Control("optimizer", "optimizer in focus", OPTIMIZERS, kind="select"),
        Control("lr", "learning rate", tuple(map(str, lrs)), default=1),
        Control(
            "beta",
            "momentum β",
            tuple(map(str, momenta)),
            default=momenta.index(0.9) if 0.9 in momenta else 0,
        ),
    ]


def optimizer_explorer(
    *,
    description: str,
    surface: str = "pathological_loss",
    start=(-4.0, 5.0),
    steps: int = 300,
    lrs=SURFACE_LRS,
    momenta=MOMENTA,
    target: float = 0.1,
    window=(-10.0, 10.0),
) -> Explorer:
    """Chapter 6's explorer: the race of GD, momentum, RMSProp and Adam on a surface.

    For each learning rate (and momentum coefficient β of the momentum run)
    the four optimizers race from ``start`` for ``steps`` steps, each run
    ``landscape.trajectory(getattr(landscape, surface), start, make, steps)``.
    The chosen optimizer is drawn on top and its numbers announced; a table
    gives all four: steps to the loss ``target``, final loss, and whether it
    *diverged*: ended farther from the minimum than it started.
    """
    lrs, momenta = check_grid(lrs, "lrs"), check_grid(momenta, "momenta")
    if any(b >= 1 for b in momenta):
        raise ValueError(f"momenta must be below 1, got {momenta!r}")
    if not callable(getattr(landscape, surface, None)):
        raise ValueError(
            f"surface must name a surface of sgdlab.landscape, got {surface!r}"
        )
    steps = check_positive_int(steps, "steps")
    f = getattr(landscape, surface)
    minimum = _surface_minimum(f, window)
    records, results, index = _race_runs(
        surface, start, steps, lrs, momenta, target, minimum
    )
    views = _race_views(lrs, momenta, index)
    fig, axes = _surface_static(f, window, minimum, results, target)
    controls = _race_controls(lrs, momenta)
    variants = (
        [("GD", None)]
        + [("GD + momentum", b) for b in momenta]
        + [("RMSProp", None), ("Adam", None)]
    )
    curves = [[[results[index[(n, lr, b)]].losses] for lr in lrs] for n, b in variants]
    rows = [n if b is None else f"momentum β {b}" for n, b in variants]
    static = small_multiples(
        curves,
        rows,
        [f"lr {lr}" for lr in lrs],
        target=target,
        alt=_surface_alt(records, variants, lrs, target),
        row_colors=[OPTIMIZER_COLORS[n] for n, _ in variants],
    )
    fragment = explorer_player(
        fig,
        list(axes),
        ["path", "loss"],
        runs=records,
        views=views,
        controls=controls,
        description=description,
        race_columns=("optimizer", f"steps to loss {target}", "final loss", "diverged"),
        static=static,
        interval_ms=20,
    )
    return Explorer(fragment, tuple(records), tuple(results))


def _surface_static(f, window, minimum, results, target):
    """Contours of the surface with the minimum marked, and an empty loss panel."""
    fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(6.4, 3.3))
    w = np.linspace(*window, 160)
    Z = landscape.evaluate_grid(f, w, w)
    ax_path.contour(
        w, w, Z, levels=np.linspace(Z.min(), Z.max(), 14), colors="0.6", linewidths=0.7
    )
    ax_path.plot(*minimum, marker="*", color="black", ms=10, ls="none")
    ax_path.set(
        xlim=window, ylim=window, xlabel="w0", ylabel="w1", title="paths over contours"
    )
    finite = np.concatenate([r.losses[np.isfinite(r.losses)] for r in results])
    ax_loss.axhline(target, color="0.3", lw=0.8, ls=":")
    ax_loss.set(
        xlim=(0, max(r.steps for r in results)),
        yscale="log",
        xlabel="step",
        ylim=(finite.min() / 1.5, finite.max() * 1.5),
        ylabel="loss",
        title="loss so far",
    )
    for ax in (ax_path, ax_loss):
        ax.grid(False)
    fig.tight_layout()
    return fig, [ax_path, ax_loss]


def _surface_alt(records, variants, lrs, target) -> str:
    """The static grid's alt text: which optimizer reaches the target first at each rate."""
    firsts = []
    for lr in lrs:
        runs = [
            r for r in records if r["lr"] == lr and r["stats"]["reached"] is not None
        ]
        if runs:
            best = min(runs, key=lambda r: r["stats"]["reached"])
            firsts.append(f"at {lr} {best['label']} (step {best['stats']['reached']})")
        else:
            firsts.append(f"at {lr} none")
    return (
        f"Small multiples of the loss (log scale) against the step: one panel per "
        f"optimizer (rows: GD, GD with momentum β {', '.join(str(b) for n, b in variants if b)}"
        f", RMSProp, Adam) and learning rate (columns, {lrs[0]} to {lrs[-1]}); the dotted "
        f"line is the loss {target}. First to reach it: {'; '.join(firsts)}."
    )
