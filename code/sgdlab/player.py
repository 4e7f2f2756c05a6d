"""The web player of sgdlab's animations and explorers: one script, one look.

Used by :mod:`sgdlab.animation` (chapter 4's players) and :mod:`sgdlab.explorer`
(the explorers of chapters 4 and 6). matplotlib draws the parts that do not move
once, as one SVG image per panel (axes); a small script draws the parts that
move (a fitted line, a path, a loss curve) over them, from runs embedded as
JSON. The script (``window.sgdlabPlayer``) is the same for every player; an
animation adds a play button and a frame slider, an explorer adds form
controls that choose among runs computed beforehand. Nothing is computed in
the browser but the mapping of data to the panel's coordinates. On a phone the
player shows one panel at a time, chosen by tabs, with its play button under it;
on a laptop the whole player fits the screen. The stylesheet
and the scripts themselves are in :mod:`sgdlab.player_assets`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._checks import check_positive_int
from .player_assets import _ANIMATION_JS, _EXPLORER_JS, _PLAYER_CSS, _PLAYER_LIB_JS
from .plotting.style import SVG_HASHSALT, SVG_METADATA


def _panel_crops(fig: Figure, axes: list) -> list[tuple[float, float]]:
    """Horizontal extent of each panel, labels and title included (points, left to right).

    Neighbouring panels split the gap between their drawn extents in the middle,
    so the crops tile the figure's width without cutting a label.
    """
    width = fig.get_size_inches()[0] * 72
    renderer = fig.canvas.get_renderer()
    scale = 72 / fig.dpi
    extents = [ax.get_tightbbox(renderer) for ax in axes]
    spans = [(box.x0 * scale, box.x1 * scale) for box in extents]
    cuts = [0.0]
    for (_, right), (left, _) in zip(spans, spans[1:], strict=False):
        cuts.append((right + left) / 2)
    cuts.append(width)
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def _axes_boxes(
    fig: Figure, axes: list, crops: list[tuple[float, float]]
) -> list[dict]:
    """Where each axes sits in its panel's SVG (points, y down) and what it maps."""
    width, height = fig.get_size_inches() * 72
    boxes = []
    for ax, (left, _) in zip(axes, crops, strict=True):
        pos = ax.get_position()
        boxes.append(
            {
                "box": [
                    pos.x0 * width - left,
                    (1 - pos.y1) * height,
                    pos.width * width,
                    pos.height * height,
                ],
                "xlim": list(ax.get_xlim()),
                "ylim": list(ax.get_ylim()),
                "logy": ax.get_yscale() == "log",
            }
        )
    return boxes


def _panel_svgs(fig: Figure, axes: list, crops: list[tuple[float, float]]) -> list[str]:
    """One SVG data URI per panel: that axes alone, cropped to its extent."""
    from matplotlib.transforms import Bbox

    height = fig.get_size_inches()[1]
    uris = []
    for i, (left, right) in enumerate(crops):
        for j, ax in enumerate(axes):
            ax.set_visible(i == j)
        bbox = Bbox([[left / 72, 0], [right / 72, height]])
        uris.append(_svg_data_uri(fig, bbox))
    for ax in axes:
        ax.set_visible(True)
    return uris


def _svg_data_uri(fig: Figure, bbox=None) -> str:
    buffer = io.BytesIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": SVG_HASHSALT}):
        fig.savefig(buffer, format="svg", metadata=SVG_METADATA, bbox_inches=bbox)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _payload(spec: dict) -> str:
    """``spec`` as JSON that is safe inside a ``<script>`` element."""
    return json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")


def _panels(
    fig: Figure, axes: list, kinds: list[str], description: str
) -> tuple[str, list]:
    """The panels' images and overlays (HTML), and the axes' geometry for the script."""
    crops = _panel_crops(fig, axes)
    boxes = _axes_boxes(fig, axes, crops)
    for box, kind in zip(boxes, kinds, strict=True):
        box["kind"] = kind
    images = _panel_svgs(fig, axes, crops)
    titles = [ax.get_title() for ax in axes]
    height = fig.get_size_inches()[1] * 72
    alt = html.escape(description.strip(), quote=True)
    panels = []
    for i, (image, (left, right), title) in enumerate(
        zip(images, crops, titles, strict=True)
    ):
        # The first image carries the description; the others say which panel they are.
        text = (
            alt if i == 0 else html.escape(f"{title} (panel {i + 1} of {len(images)})")
        )
        w = right - left
        panels.append(
            f'<div style="position:relative">'
            f'<img src="{image}" alt="{text}" width="{w * 4 / 3:.0f}" height="{height * 4 / 3:.0f}"'
            f' style="width:100%;height:auto;display:block">'
            f'<svg viewBox="0 0 {w:.2f} {height:.2f}" aria-hidden="true"'
            f' style="position:absolute;left:0;top:0;width:100%;height:100%"></svg></div>'
        )
    main = _main_panel(kinds)
    panels[main] = panels[main].replace(
        "<div style=", '<div class="sgdlab-on" style=', 1
    )
    widths = [right - left for left, right in crops]
    grid = (
        f'<div class="sgdlab-panels n{len(panels)}" style="--sgdlab-aspect:'
        f'{sum(widths) / len(widths) / height:.3f}">\n' + "\n".join(panels) + "\n</div>"
    )
    return _tabs(kinds, main) + grid, boxes


#: What a panel's tab says, by the kind of the panel (a second path panel is the zoom).
_TAB_NAMES = {"line": "data", "path": "path", "loss": "loss"}


def _main_panel(kinds: list[str]) -> int:
    """The panel a phone shows first: the path of the parameters where there is one."""
    return kinds.index("path") if "path" in kinds else 0


def _tabs(kinds: list[str], main: int) -> str:
    """Buttons that choose the one panel shown where the player is narrow (a phone),
    so that the panel and the play button fit on the screen together."""
    names, buttons = [], []
    for i, kind in enumerate(kinds):
        name = _TAB_NAMES[kind] if _TAB_NAMES[kind] not in names else "zoom"
        names.append(name)
        pressed = "true" if i == main else "false"
        buttons.append(
            f'<button type="button" data-panel="{i}" aria-pressed="{pressed}">'
            f"{name}</button>"
        )
    return (
        '<div class="sgdlab-tabs" role="group" aria-label="panel shown">'
        + "".join(buttons)
        + "</div>"
    )


def _play_controls(uid: str, n_frames: int) -> str:
    return f"""<div class="sgdlab-bar">
<button type="button" class="sgdlab-play" aria-pressed="false" aria-controls="{uid}"
 >&#9654; Play</button>
<input type="range" class="sgdlab-frame" min="0" max="{n_frames - 1}" value="0" step="1"
 aria-label="frame">
<output class="sgdlab-step" aria-live="off">step 0</output>
</div>"""


def check_description(description: str) -> str:
    """Refuse a text alternative too short to say what a player shows."""
    if not isinstance(description, str) or len(description.strip()) < 20:
        raise ValueError(
            "description must be a sentence that says what the animation shows"
        )
    return description


def animation_html(
    fig: Figure, axes: list, kinds: list[str], spec: dict, description: str
) -> str:
    """The player of an animation: the panels of ``fig`` (closed here), a play button
    and a frame slider; ``spec`` has ``frames``, ``interval`` and ``runs``."""
    grid, spec["axes"] = _panels(fig, axes, kinds, description)
    width = fig.get_size_inches()[0] * 72
    plt.close(fig)
    payload = _payload(spec)
    # The id is a digest of what the player shows: repeatable from build to build,
    # and distinct for different animations on one page.
    digest = hashlib.sha1((payload + description).encode()).hexdigest()[:10]
    uid = "sgdlab-anim-" + digest
    alt = html.escape(description.strip(), quote=True)
    fragment = f"""<div class="sgdlab-animation" id="{uid}" role="group" aria-label="{alt}"
 style="max-width:{width * 1.35:.0f}px">
<style>{_PLAYER_CSS}</style>
<div class="sgdlab-stage">
{grid}
{_play_controls(uid, len(spec["frames"]))}
</div>
<script type="application/json">{payload}</script>
<script>{_PLAYER_LIB_JS}{_ANIMATION_JS % {"id": uid}}</script>
</div>"""
    return fragment


@dataclass(frozen=True)
class Control:
    """One form control of an explorer: which value of one parameter to show.

    ``labels`` are the values as the reader reads them; the control's value is
    the index of the chosen one. ``kind`` is ``"range"`` (a slider, for ordered
    values) or ``"select"``. ``marks`` are ``(position, text)`` pairs drawn
    under a slider's scale, ``position`` in units of the index (may fall
    between two values).
    """

    name: str
    label: str
    labels: tuple[str, ...]
    kind: str = "range"
    default: int = 0
    marks: tuple[tuple[float, str], ...] = ()


def _check_controls(controls) -> list[Control]:
    controls = list(controls)
    if not controls or not all(isinstance(c, Control) for c in controls):
        raise ValueError("controls must be a non-empty list of sgdlab.player.Control")
    for c in controls:
        if c.kind not in ("range", "select"):
            raise ValueError(
                f"control {c.name!r}: kind must be 'range' or 'select', got {c.kind!r}"
            )
        if not c.name.isidentifier() or len(c.labels) < 2:
            raise ValueError(
                f"control {c.name!r} needs an identifier name and at least 2 values"
            )
        if not 0 <= c.default < len(c.labels):
            raise ValueError(
                f"control {c.name!r}: default must index its labels, got {c.default}"
            )
    return controls


def _control_html(uid: str, c: Control) -> str:
    cid = f"{uid}-{c.name}"
    if c.kind == "select":
        options = "".join(
            f'<option value="{i}"{" selected" if i == c.default else ""}>{html.escape(t)}</option>'
            for i, t in enumerate(c.labels)
        )
        return (
            f'<div><label for="{cid}">{html.escape(c.label)}</label>'
            f'<select id="{cid}" data-param="{c.name}">{options}</select></div>'
        )
    ticks = "".join(f"<span>{html.escape(t)}</span>" for t in c.labels)
    for position, text in c.marks:
        left = 100 * position / (len(c.labels) - 1)
        # the mark's text runs away from the nearer end of the scale, so it stays inside
        where = (
            f'" style="left:{left:.1f}%"'
            if left <= 50
            else f' end" style="right:{100 - left:.1f}%"'
        )
        ticks += f'<span class="sgdlab-mark{where}>{html.escape(text)}</span>'
    return (
        f'<div><label for="{cid}">{html.escape(c.label)}: '
        f'<output for="{cid}">{html.escape(c.labels[c.default])}</output></label>'
        f'<input type="range" id="{cid}" data-param="{c.name}" min="0" '
        f'max="{len(c.labels) - 1}" step="1" value="{c.default}" '
        f'aria-valuetext="{html.escape(c.labels[c.default], quote=True)}">'
        f'<div class="sgdlab-ticks" aria-hidden="true">{ticks}</div></div>'
    )


def _check_kinds_and_runs(axes: list, kinds: list[str], runs: list[dict]) -> None:
    if len(kinds) != len(axes) or not set(kinds) <= {"line", "path", "loss"}:
        raise ValueError("kinds must name one of 'line', 'path', 'loss' for every axes")
    if not runs or not all(isinstance(run, dict) and "steps" in run for run in runs):
        raise ValueError(
            "runs must be a non-empty list of run dicts (label, color, steps, ...)"
        )


def _race_table(race_columns: tuple[str, ...] | None) -> str:
    """The empty table the script fills with every run of the view ("" without
    ``race_columns``)."""
    if not race_columns:
        return ""
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in race_columns)
    return f'<table class="sgdlab-race"><thead><tr>{head}</tr></thead><tbody></tbody></table>'


def explorer_player(
    fig: Figure,
    axes: list,
    kinds: list[str],
    *,
    runs: list[dict],
    views: Mapping[str, tuple[list[int], int]],
    controls: list[Control],
    description: str,
    race_columns: tuple[str, ...] | None = None,
    static: str = "",
    interval_ms: int = 40,
) -> str:
    """The player with form controls that choose among runs computed beforehand.

    ``fig``/``axes`` hold the parts that do not move; ``kinds`` says what each
    axes shows (``line``, ``path``, ``loss``). ``runs`` are dicts with
    ``label, color, steps, theta, loss, stats, summary`` (and whatever else
    the caller records, such as the inputs that reproduce the run). ``views``
    maps the controls' indices joined by commas (``"2,0,1"``) to the runs to
    draw and which of them is in focus (its summary is announced). With
    ``race_columns``, a table lists every run of the view. ``static`` is HTML
    shown to readers without scripts. Used by :mod:`sgdlab.explorer`.
    """
    controls = _check_controls(controls)
    check_description(description)
    _check_kinds_and_runs(axes, kinds, runs)
    steps = max(run["steps"] for run in runs)
    spec = {
        "frames": list(range(steps + 1)),
        "interval": check_positive_int(interval_ms, "interval_ms"),
        "runs": runs,
        "views": dict(views),
        "params": [{"name": c.name, "labels": list(c.labels)} for c in controls],
    }
    expected = int(np.prod([len(c.labels) for c in controls]))
    if len(spec["views"]) != expected:
        raise ValueError(
            f"views must cover all {expected} settings, got {len(spec['views'])}"
        )
    grid, spec["axes"] = _panels(fig, axes, kinds, description)
    width = fig.get_size_inches()[0] * 72
    plt.close(fig)
    payload = _payload(spec)
    uid = (
        "sgdlab-explore-"
        + hashlib.sha1((payload + description).encode()).hexdigest()[:10]
    )
    alt = html.escape(description.strip(), quote=True)
    table = _race_table(race_columns)
    inputs = "\n".join(_control_html(uid, c) for c in controls)
    return f"""<div class="sgdlab-explorer" id="{uid}" role="group" aria-label="{alt}"
 style="max-width:{max(width * 1.35, 560):.0f}px">
<style>{_PLAYER_CSS}</style>
<div class="sgdlab-stage">
{grid}
{_play_controls(uid, steps + 1)}
</div>
<div class="sgdlab-controls">
{inputs}
</div>
<p class="sgdlab-summary" role="status" aria-live="polite"></p>
{table}
<noscript>{static}</noscript>
<script class="sgdlab-data" type="application/json">{payload}</script>
<script>{_PLAYER_LIB_JS}{_EXPLORER_JS % {"id": uid}}</script>
</div>"""
