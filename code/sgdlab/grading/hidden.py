"""Hidden cases: the instructor's private cases of each graded exercise.

Kept outside the package (``--hidden DIR`` or ``$SGDLAB_HIDDEN_CASES``); the
repository ships a sample set that every student can read, and grading with
it says so. ``sgdlab exercises --template DIR`` writes files to start from
(:func:`hidden_template`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .exercises import REPO, Case, _case, chapter_exercises, load_bank

SAMPLE_HIDDEN = REPO / "grading" / "hidden-sample"
SAMPLE_WARNING = (
    "WARNING: graded with the SAMPLE hidden cases of the repository "
    "(grading/hidden-sample), which every student can read; pass --hidden DIR "
    "(or set SGDLAB_HIDDEN_CASES) with cases of your own"
)


def default_hidden_dir() -> Path:
    """``$SGDLAB_HIDDEN_CASES`` if set, else the repository's sample set (public!)."""
    env = os.environ.get("SGDLAB_HIDDEN_CASES")
    return Path(env) if env else SAMPLE_HIDDEN


def is_sample(directory: str | os.PathLike) -> bool:
    """Whether ``directory`` is the repository's public sample set."""
    try:
        return Path(directory).resolve() == SAMPLE_HIDDEN.resolve()
    except OSError:
        return False


@dataclass
class Hidden:
    """The hidden cases of one chapter and the instructor's points."""

    cases: dict[str, list[Case]]
    points: dict[str, float]
    source: str


def load_hidden(chapter: str, directory: str | os.PathLike) -> Hidden:
    """Hidden cases of ``chapter`` from ``DIRECTORY/<chapter>.json``.

    The file maps exercise ids (current or former) to a list of cases
    ``{"args": [...], "kwargs": {...}}``, or to ``{"points": P, "cases": [...]}``
    to weight the exercise as the instructor chooses. A missing or malformed
    file is an error that names it.
    """
    path = Path(directory) / f"{chapter}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no hidden cases for chapter {chapter!r}: {path} does not exist "
            "(pass --hidden DIR or set SGDLAB_HIDDEN_CASES; `sgdlab exercises --template DIR` "
            "writes a template)"
        )
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    known = {e.id for e in chapter_exercises(chapter)}
    bank = load_bank()
    if not isinstance(data, dict) or not all(
        k.startswith("_") or (k in bank and bank[k].id in known) for k in data
    ):
        raise ValueError(
            f"{path} must map exercise ids of {chapter!r} ({sorted(known)}) "
            "to lists of cases"
        )
    hidden = Hidden({}, {}, str(path))
    for key, value in data.items():
        if key.startswith("_"):
            continue
        ex_id = bank[key].id
        if isinstance(value, dict):
            if "points" in value:
                points = value["points"]
                if (
                    isinstance(points, bool)
                    or not isinstance(points, int | float)
                    or points < 0
                ):
                    raise ValueError(f"{path}: points of {key} must be a number >= 0")
                hidden.points[ex_id] = float(points)
            value = value.get("cases", [])
        if not isinstance(value, list):
            raise ValueError(
                f"{path}: the cases of {key} must be a list of "
                '{"args": [...], "kwargs": {...}} objects'
            )
        hidden.cases[ex_id] = [_case(c, str(path)) for c in value]
    return hidden


def hidden_template(chapter: str) -> dict:
    """A starting point for a chapter's hidden cases: each exercise with its
    points and its public cases as examples to replace."""
    out: dict = {
        "_about": "Hidden cases of the chapter " + chapter + ": replace the example "
        "cases (copies of the public ones) with your own; points weight each exercise."
    }
    for ex in chapter_exercises(chapter):
        out[ex.id] = {"points": ex.points, "cases": [c.as_json() for c in ex.public]}
    return out
