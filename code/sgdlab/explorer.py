"""Explorers: a grid of runs computed at build time, chosen and drawn in the browser.

Used by chapters 4 and 6. Every run of the grid is computed here by sgdlab
(:func:`sgdlab.regression.descend`, :func:`sgdlab.landscape.trajectory`) and
embedded, rounded, in the page; the reader's sliders only choose which runs
the player of :mod:`sgdlab.player` draws. No algorithm runs in the browser.

Each run carries a *record*: every input needed to compute it again
(:func:`rerun`), and its end state at full precision (``exact``), so that a
test can recompute any run and compare. Readers without scripts get a grid of
small multiples of the same runs (loss against step).
"""

from __future__ import annotations

import base64
import html
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from . import landscape, optim, regression
from ._checks import check_batch_size, check_positive_int
from .animation import _CLIP, PARAM_WINDOW, _draw_static
from .metrics import first_reached
from .player import Control, explorer_player
from .plotting.style import COLORS

#: Chapter 4's grid: the data, learning rates, batch sizes and batch orders.
LINE_DATA = {"n": 100, "slope": 3.0, "intercept": 10.0, "noise": 0.6, "seed": 0}
LINE_LRS = (0.003, 0.01, 0.03, 0.1, 0.3, 0.6, 0.9, 1.2)
LINE_BATCHES = (1, 4, 16, 25, 64, 100)
LINE_SEEDS = (1, 2, 3)
#: Chapter 6's grid: optimizers, learning rates and momentum coefficients.
OPTIMIZERS = ("GD", "GD + momentum", "RMSProp", "Adam")
SURFACE_LRS = (0.1, 0.3, 0.6, 1.0, 2.5, 5.0)
MOMENTA = (0.5, 0.9, 0.99)
_OPTIM_CLASS = {"GD": "GD", "GD + momentum": "GD", "RMSProp": "RMSProp", "Adam": "Adam"}


@dataclass(frozen=True)
class Explorer:
    """An explorer ready for a page: its HTML, and the runs it embeds.

    ``records[i]`` holds the inputs of run ``i`` and its summary numbers;
    ``results[i]`` is what sgdlab returned for it (a
    :class:`~sgdlab.regression.Path` or :class:`~sgdlab.landscape.Trajectory`).
    """

    html: str
    records: tuple[dict, ...]
    results: tuple

    @property
    def nbytes(self) -> int:
        """Size of the HTML fragment in bytes (UTF-8), data included."""
        return len(self.html.encode())

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<Explorer: {len(self.records)} runs; {self.nbytes / 1e3:.0f} kB>"


def _check_grid(values, name: str, *, positive: bool = True) -> tuple:
    values = tuple(values)
    if len(values) < 2 or len(set(values)) != len(values):
        raise ValueError(f"{name} must list at least 2 distinct values, got {values!r}")
    for v in values:
        ok = (
            isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
        )
        if not ok or (positive and v <= 0):
            raise ValueError(f"{name} must hold positive finite numbers, got {v!r}")
    if list(values) != sorted(values):
        raise ValueError(f"{name} must be in increasing order, got {values!r}")
    return values


#: Drawn coordinates are clipped here: far outside every panel, and short in JSON.
DRAW_CLIP = 1e4


def _compact(values, digits: int) -> list[float]:
    """Values rounded to ``digits`` significant digits for drawing, clipped to
    ±DRAW_CLIP (JSON has no inf or nan; a diverged run leaves the panels anyway)."""
    v = np.clip(
        np.nan_to_num(
            np.ravel(values), nan=DRAW_CLIP, posinf=DRAW_CLIP, neginf=-DRAW_CLIP
        ),
        -DRAW_CLIP,
        DRAW_CLIP,
    )
    return [float(f"{x:.{digits}g}") for x in v]


def _exact(values) -> list:
    """Full-precision floats for JSON; ``None`` where not finite."""
    return [float(v) if np.isfinite(v) else None for v in np.ravel(values)]


def rerun(record: dict):
    """Compute a run again from its record (as :func:`line_explorer` and
    :func:`optimizer_explorer` write it)."""
    if record.get("call") == "regression.descend":
        data = regression.make_line_data(**record["data"])
        return regression.descend(
            data,
            tuple(record["theta0"]),
            lr=record["lr"],
            steps=record["steps"],
            batch_size=record["batch_size"],
            seed=record["seed"],
        )
    if record.get("call") == "landscape.trajectory":
        f = getattr(landscape, record["surface"])
        make = getattr(optim, record["optimizer"])
        kwargs = dict(record["kwargs"])
        return landscape.trajectory(
            f,
            tuple(record["start"]),
            lambda p: make(p, lr=record["lr"], **kwargs),
            record["steps"],
        )
    raise ValueError(
        f"a record's call must be regression.descend or landscape.trajectory, "
        f"got {record.get('call')!r}"
    )


def _log_scale(curves, target: float):
    """A log scale (low, high) that holds every finite loss and the target."""
    finite = np.concatenate([c[np.isfinite(c) & (c > 0)] for c in curves] + [[target]])
    start = max(float(c[0]) for c in curves)
    return np.log10(max(finite.min(), 1e-6) / 2), np.log10(5 * start)


def small_multiples(
    losses,
    rows: Sequence[str],
    cols: Sequence[str],
    *,
    target: float,
    alt: str,
    row_colors: Sequence[str] | None = None,
    points: int = 34,
) -> str:
    """A grid of loss curves (log scale, shared), ``losses[i][j]`` a list of curves:
    an SVG ``<img>`` for readers without scripts (sgdlab_site makes it a lazy file).

    Curves of a cell take the colours in turn, or their row's colour; each is
    drawn through ``points`` steps spread evenly (a losses curve that leaves the
    scale is cut at its top). The dotted line is ``target``.
    """
    cw, ch, gap, left, top = 64, 34, 5, 96, 16
    width, height = left + len(cols) * (cw + gap), top + len(rows) * (ch + gap)
    low, high = _log_scale([c for row in losses for cell in row for c in cell], target)

    def y(values, i):
        v = np.log10(
            np.clip(np.nan_to_num(values, nan=_CLIP, posinf=_CLIP), 10**low, 10**high)
        )
        return top + i * (ch + gap) + (high - v) / (high - low) * ch

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="9">'
    ]
    for j, text in enumerate(cols):
        parts.append(
            f'<text x="{left + j * (cw + gap) + cw / 2}" y="11" text-anchor="middle">'
            f"{html.escape(text)}</text>"
        )
    for i, j in np.ndindex(len(rows), len(cols)):
        x0 = left + j * (cw + gap)
        if j == 0:
            parts.append(
                f'<text x="{left - 4}" y="{top + i * (ch + gap) + ch / 2 + 3}" '
                f'text-anchor="end">{html.escape(rows[i])}</text>'
            )
        ty = y(np.array([target]), i)[0]
        parts.append(
            f'<rect x="{x0}" y="{top + i * (ch + gap)}" width="{cw}" height="{ch}" '
            f'fill="none" stroke="#999"/><path d="M{x0} {ty:.1f}h{cw}" '
            f'stroke="#555" stroke-dasharray="2 2"/>'
        )
        for k, curve in enumerate(losses[i][j]):
            steps = np.unique(
                np.linspace(0, len(curve) - 1, points).round().astype(int)
            )
            xs = x0 + steps / (len(curve) - 1) * cw
            pts = " ".join(
                f"{a:.1f},{b:.1f}" for a, b in zip(xs, y(curve[steps], i), strict=True)
            )
            color = row_colors[i] if row_colors else COLORS[k % len(COLORS)]
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}"/>')
    svg = "".join(parts) + "</svg>"
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return (
        f'<img src="{uri}" alt="{html.escape(alt, quote=True)}" width="{width}" '
        f'height="{height}" style="max-width:100%;height:auto">'
    )


def _fmt(value: float) -> str:
    return "overflow" if not np.isfinite(value) else f"{value:.3g}"


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
        stats={"final": _fmt(final), "reached": reached, "diverged": diverged},
        exact=_exact([*path.thetas[-1], final]),
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
        f"size {record['batch_size']}, {order}: final MSE {_fmt(final)} after "
        f"{path.steps} steps; {where} {fate}."
    )


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
    lrs, seeds = _check_grid(lrs, "lrs"), _check_grid(seeds, "seeds", positive=False)
    steps = check_positive_int(steps, "steps")
    line = regression.make_line_data(**data)
    batch_sizes = tuple(
        check_batch_size(b, line.n) for b in _check_grid(batch_sizes, "batch_sizes")
    )
    limit = 2 / float(np.linalg.eigvalsh(regression.hessian(line)).max())
    records, results, views, index = [], [], {}, {}
    for (i, lr), (j, b), (k, seed) in _product(lrs, batch_sizes, seeds):
        key = (lr, b, seed if b != line.n else seeds[0])
        if key not in index:
            record = _line_record(lr, b, key[2], data, theta0, steps, line.n)
            path = rerun(record)
            _line_stats(record, path, target, limit, line.n)
            record.update(
                color=COLORS[0],
                steps=path.steps,
                theta=_compact(path.thetas, 4),
                loss=_compact(path.losses, 3),
            )
            index[key] = len(records)
            records.append(record)
            results.append(path)
        views[f"{i},{j},{k}"] = ([index[key]], 0)
    fig, axes = _draw_static(
        line, [("", p) for p in results], None, PARAM_WINDOW, legend=False
    )
    position = float(np.interp(np.log(limit), np.log(lrs), np.arange(len(lrs))))
    controls = [
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


def _product(*grids):
    for i, a in enumerate(grids[0]):
        for j, b in enumerate(grids[1]):
            for k, c in enumerate(grids[2]):
                yield (i, a), (j, b), (k, c)


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
        stats={"final": _fmt(run.final_loss), "reached": reached, "diverged": diverged},
        exact=_exact([*run.points[-1], run.final_loss]),
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
        f"loss {_fmt(run.final_loss)}; {fate}."
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
                    color=COLORS[1 + OPTIMIZERS.index(name)],
                    steps=run.steps,
                    theta=_compact(run.points, 4),
                    loss=_compact(run.losses, 3),
                )
                index[(name, lr, beta)] = len(records)
                records.append(record)
                results.append(run)
    return records, results, index


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
    lrs, momenta = _check_grid(lrs, "lrs"), _check_grid(momenta, "momenta")
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
    views = {}
    for (o, _), (i, lr), (k, beta) in _product(OPTIMIZERS, lrs, momenta):
        shown = [
            index[(n, lr, beta if n == "GD + momentum" else None)] for n in OPTIMIZERS
        ]
        views[f"{o},{i},{k}"] = (shown, o)
    fig, axes = _surface_static(f, window, minimum, results, target)
    controls = [
        Control("optimizer", "optimizer in focus", OPTIMIZERS, kind="select"),
        Control("lr", "learning rate", tuple(map(str, lrs)), default=1),
        Control(
            "beta",
            "momentum β",
            tuple(map(str, momenta)),
            default=momenta.index(0.9) if 0.9 in momenta else 0,
        ),
    ]
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
        row_colors=[COLORS[1 + OPTIMIZERS.index(n)] for n, _ in variants],
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
