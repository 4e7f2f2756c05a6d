"""What every explorer shares: the :class:`Explorer` it returns, the compact
records of a grid of runs (:func:`rerun` computes one again), and the small
multiples that readers without scripts see.
"""

from __future__ import annotations

import base64
import html
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import landscape, optim, regression
from ..animation import _CLIP
from ..plotting.style import COLORS


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


def check_grid(values, name: str, *, positive: bool = True) -> tuple:
    """``values`` as a tuple of at least 2 distinct finite numbers (positive
    unless ``positive=False``), or a ValueError that names ``name``."""
    values = tuple(values)
    if len(values) < 2 or len(set(values)) != len(values):
        raise ValueError(f"{name} must list at least 2 distinct values, got {values!r}")
    for v in values:
        ok = (
            isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
        )
        if not ok or (positive and v <= 0):
            kind = "positive finite" if positive else "finite"
            raise ValueError(f"{name} must hold {kind} numbers, got {v!r}")
    if list(values) != sorted(values):
        raise ValueError(f"{name} must be in increasing order, got {values!r}")
    return values


#: Drawn coordinates are clipped here: far outside every panel, and short in JSON.
DRAW_CLIP = 1e4


def compact(values, digits: int) -> list[float]:
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


def exact_values(values) -> list:
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


def short_number(value: float) -> str:
    """Three significant digits, or "overflow" for a run that left the floats."""
    return "overflow" if not np.isfinite(value) else f"{value:.3g}"


def indexed_product(*grids):
    """Every combination of three grids, each value with its index."""
    for i, a in enumerate(grids[0]):
        for j, b in enumerate(grids[1]):
            for k, c in enumerate(grids[2]):
                yield (i, a), (j, b), (k, c)
