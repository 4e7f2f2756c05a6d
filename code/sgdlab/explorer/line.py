"""Chapter 4's explorer: gradient descent and mini-batch SGD on the line fit,
over a grid of learning rates, batch sizes and batch orders.
"""

from __future__ import annotations

import numpy as np

from .. import regression
from .._checks import check_batch_size, check_positive_int
from ..animation import PARAM_WINDOW, draw_static
from ..metrics import first_reached
from ..player import Control, explorer_player
from ..plotting.style import COLORS
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

#: Chapter 4's grid: the data, learning rates, batch sizes and batch orders.
LINE_DATA = {"n": 100, "slope": 3.0, "intercept": 10.0, "noise": 0.6, "seed": 0}
LINE_LRS = (0.003, 0.01, 0.03, 0.1, 0.3, 0.6, 0.9, 1.2)
LINE_BATCHES = (1, 4, 16, 25, 64, 100)
LINE_SEEDS = (1, 2, 3)


def _line_record(lr, b, seed, data, theta0, steps, n) -> dict:
    return {
        "call": "regression.descend",
        "data": dict(data),
        "theta0": list(theta0),
        "lr": lr,
        "batch_size": b,
        "seed": seed,
        "steps": steps,
        "label": f"lr {lr}, batch {b}" + ("" if b == n else f", order {seed}"),
    }


def _line_stats(record: dict, path, target: float, limit: float, n: int) -> None:
    """Add what the page shows of one run to its record."""
    final, start = float(path.losses[-1]), float(path.losses[0])
    reached = first_reached(path.losses, target)
    diverged = not np.isfinite(final) or final > start
    record.update(
        stats={"final": short_number(final), "reached": reached, "diverged": diverged},
        exact=exact_values([*path.thetas[-1], final]),
    )
    side = "above" if record["lr"] > limit else "below"
    where = (
        f"never reaches MSE {target};"
        if reached is None
        else f"reaches MSE {target} at step {reached};"
    )
    fate = (
        f"ends above its start ({start:.3g}): diverged"
        if diverged
        else "ends below its start: did not diverge"
    )
    order = (
        "full batch, so the order does not matter"
        if record["batch_size"] == n
        else f"batch order {record['seed']}"
    )
    record["summary"] = (
        f"Learning rate {record['lr']} ({side} 2/λ_max = {limit:.3f}), batch "
        f"size {record['batch_size']}, {order}: final MSE {short_number(final)} after "
        f"{path.steps} steps; {where} {fate}."
    )


def _line_runs(line, data, theta0, steps, grid, target, limit):
    """Every run of the grid, computed once: full-batch runs do not depend on
    the order. Returns the records, the paths, the views (``"i,j,k"`` to the
    run shown) and the index of each distinct run."""
    lrs, batch_sizes, seeds = grid
    records, results, views, index = [], [], {}, {}
    for (i, lr), (j, b), (k, seed) in indexed_product(lrs, batch_sizes, seeds):
        key = (lr, b, seed if b != line.n else seeds[0])
        if key not in index:
            record = _line_record(lr, b, key[2], data, theta0, steps, line.n)
            path = rerun(record)
            _line_stats(record, path, target, limit, line.n)
            record.update(
                color=COLORS[0],
                steps=path.steps,
                theta=compact(path.thetas, 4),
                loss=compact(path.losses, 3),
            )
            index[key] = len(records)
            records.append(record)
            results.append(path)
        views[f"{i},{j},{k}"] = ([index[key]], 0)
    return records, results, views, index


def _line_controls(lrs, batch_sizes, seeds, limit: float) -> list[Control]:
    """The sliders and the menu; the learning-rate scale marks ``2/λ_max``."""
    position = float(np.interp(np.log(limit), np.log(lrs), np.arange(len(lrs))))
    return [
        Control(
            "lr",
            "learning rate",
            tuple(map(str, lrs)),
            default=lrs.index(0.1) if 0.1 in lrs else 0,
            marks=((position, f"2/λ_max = {limit:.3f}"),),
        ),
        Control(
            "batch",
            "batch size",
            tuple(map(str, batch_sizes)),
            default=len(batch_sizes) // 2,
        ),
        Control("seed", "batch order (seed)", tuple(map(str, seeds)), kind="select"),
    ]


def line_explorer(
    *,
    description: str,
    data: dict = LINE_DATA,
    theta0=(-1.0, 1.0),
    lrs=LINE_LRS,
    batch_sizes=LINE_BATCHES,
    seeds=LINE_SEEDS,
    steps: int = 100,
    target: float = 0.5,
) -> Explorer:
    """Chapter 4's explorer: learning rate × batch size × batch order on the line fit.

    Every run is ``regression.descend(make_line_data(**data), theta0, lr=…,
    batch_size=…, seed=…, steps=steps)``; full-batch runs do not depend on the
    order and are computed once. The learning-rate scale marks ``2/λ_max``, the
    full-batch stability limit. ``target`` is the MSE whose first reaching is
    reported (:func:`sgdlab.metrics.first_reached`).
    """
    lrs, seeds = check_grid(lrs, "lrs"), check_grid(seeds, "seeds", positive=False)
    steps = check_positive_int(steps, "steps")
    line = regression.make_line_data(**data)
    batch_sizes = tuple(
        check_batch_size(b, line.n) for b in check_grid(batch_sizes, "batch_sizes")
    )
    limit = 2 / float(np.linalg.eigvalsh(regression.hessian(line)).max())
    records, results, views, index = _line_runs(
        line, data, theta0, steps, (lrs, batch_sizes, seeds), target, limit
    )
    fig, axes = draw_static(
        line, [("", p) for p in results], None, PARAM_WINDOW, legend=False
    )
    controls = _line_controls(lrs, batch_sizes, seeds, limit)
    curves = [
        [
            [
                results[index[(lr, b, s if b != line.n else seeds[0])]].losses
                for s in seeds
            ]
            for b in batch_sizes
        ]
        for lr in lrs
    ]
    static = small_multiples(
        curves,
        [f"lr {lr}" for lr in lrs],
        [f"batch {b}" for b in batch_sizes],
        target=target,
        alt=_line_alt(records, lrs, limit, target, len(seeds)),
    )
    fragment = explorer_player(
        fig,
        list(axes),
        ["line", "path", "loss"],
        runs=records,
        views=views,
        controls=controls,
        description=description,
        static=static,
    )
    return Explorer(fragment, tuple(records), tuple(results))


def _line_alt(records, lrs, limit, target, n_seeds) -> str:
    """The static grid's alt text, from the runs' own numbers."""
    all_div = [
        lr
        for lr in lrs
        if all(r["stats"]["diverged"] for r in records if r["lr"] == lr)
    ]
    some_div = [
        lr
        for lr in lrs
        if lr not in all_div
        and any(r["stats"]["diverged"] for r in records if r["lr"] == lr)
    ]
    never = [
        lr
        for lr in lrs
        if all(r["stats"]["reached"] is None for r in records if r["lr"] == lr)
    ]
    return (
        f"Small multiples of the loss (log scale) against the step: one panel per learning "
        f"rate (rows, {lrs[0]} to {lrs[-1]}) and batch size (columns), {n_seeds} batch "
        f"orders overlaid; the dotted line is the MSE {target}. The full-batch limit "
        f"2/λ_max is {limit:.3f}. Every run diverges at the learning rates "
        f"{', '.join(map(str, all_div)) or 'none'}; some runs diverge at "
        f"{', '.join(map(str, some_div)) or 'none'}; no run reaches the dotted line at "
        f"{', '.join(map(str, never)) or 'none'}."
    )
