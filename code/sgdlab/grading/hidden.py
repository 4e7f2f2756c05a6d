"""Hidden cases: the instructor's private cases of each graded exercise.

Kept outside the package (``--hidden DIR`` or ``$SGDLAB_HIDDEN_CASES``); the
repository ships a sample set that every student can read, and grading with
it says so. ``sgdlab exercises --template DIR`` writes files to start from
(:func:`hidden_template`).
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .exercises import CHAPTERS, REPO, Case, _case, chapter_exercises, load_bank
from .json_lines import value_lines

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


class HiddenCaseError(ValueError):
    """A hidden-case file is wrong; the message names its file, line and field."""

    def __init__(self, path, line: int, message: str) -> None:
        super().__init__(f"{path}, line {line}: {message}")
        self.path, self.line = str(path), line


@dataclass
class Hidden:
    """The hidden cases of one chapter, the instructor's points, and the line
    of each case in its file (for messages)."""

    cases: dict[str, list[Case]]
    points: dict[str, float]
    source: str
    lines: dict = field(default_factory=dict)


def _exercise_key(key: str, chapter: str, path: Path, line: int) -> str:
    """The current id of the exercise ``key`` names, or an error."""
    known = [e.id for e in chapter_exercises(chapter)]
    bank = load_bank()
    if key in bank and bank[key].id in known:
        return bank[key].id
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise HiddenCaseError(
        path,
        line,
        f"{key!r} is not an exercise of {chapter!r} (its exercises: "
        f"{', '.join(known)}){hint}",
    )


def _points(value, key: str, path: Path, line: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise HiddenCaseError(
            path, line, f'"points" of {key} must be a number >= 0, got {value!r}'
        )
    return float(value)


def _parse(path: Path) -> tuple[object, dict]:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    try:
        data = json.loads(text)
    except ValueError as err:
        raise HiddenCaseError(
            path,
            getattr(err, "lineno", 1),
            f"not valid JSON: {getattr(err, 'msg', err)}",
        ) from None
    return data, value_lines(text)


def load_hidden(chapter: str, directory: str | os.PathLike) -> Hidden:
    """Hidden cases of ``chapter`` from ``DIRECTORY/<chapter>.json``.

    The file maps exercise ids (current or former) to a list of cases
    ``{"args": [...], "kwargs": {...}}``, or to ``{"points": P, "cases": [...]}``
    to weight the exercise as the instructor chooses; keys starting with ``_``
    are comments. Anything else is a :class:`HiddenCaseError` that names the
    file, the line and the field; so is a hidden case that repeats a public
    one (an unedited template).
    """
    path = Path(directory) / f"{chapter}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"no hidden cases for chapter {chapter!r}: {path} does not exist "
            "(pass --hidden DIR or set SGDLAB_HIDDEN_CASES; `sgdlab exercises --template DIR` "
            "writes a template)"
        )
    data, lines = _parse(path)
    if not isinstance(data, dict):
        raise HiddenCaseError(
            path, 1, "must be an object mapping exercise ids to cases"
        )
    hidden = Hidden({}, {}, str(path))
    for key, value in data.items():
        if not key.startswith("_"):
            _load_exercise(hidden, key, value, chapter, path, lines)
    return hidden


def _load_exercise(hidden: Hidden, key, value, chapter, path, lines) -> None:
    ex_id = _exercise_key(key, chapter, path, lines[(key,)])
    where: tuple = (key,)
    if isinstance(value, dict):
        extra = set(value) - {"points", "cases"}
        if extra:
            raise HiddenCaseError(
                path,
                lines[(key,)],
                f'{key}: unknown field(s) {sorted(extra)}; use "points" and "cases"',
            )
        if "points" in value:
            hidden.points[ex_id] = _points(
                value["points"], key, path, lines[(key, "points")]
            )
        where = (key, "cases")
        value = value.get("cases", [])
    if not isinstance(value, list):
        raise HiddenCaseError(
            path,
            lines.get(where, lines[(key,)]),
            f'the cases of {key} must be a list of {{"args": [...], "kwargs": {{...}}}}',
        )
    public = {
        json.dumps(c.as_json(), sort_keys=True): i
        for i, c in enumerate(load_bank()[ex_id].public, 1)
    }
    cases = []
    for i, raw in enumerate(value):
        line = lines[(*where, i)]
        try:
            case = _case(raw, f"hidden case {i + 1} of {key}")
        except ValueError as err:
            raise HiddenCaseError(path, line, str(err)) from None
        shape = _shape_problem(case, load_bank()[ex_id].public)
        if shape:
            raise HiddenCaseError(path, line, f"hidden case {i + 1} of {key}: {shape}")
        same = public.get(json.dumps(case.as_json(), sort_keys=True))
        if same:
            raise HiddenCaseError(
                path,
                line,
                f"hidden case {i + 1} of {key} is public case {same} (an unedited "
                "template?): every student sees it; replace it with a case of your own",
            )
        hidden.lines[(ex_id, i + 1)] = line
        cases.append(case)
    hidden.cases[ex_id] = cases


def _kind(value) -> tuple:
    """(kind, depth, rectangular, square) of a JSON value: what the public
    cases fix about an argument."""
    if isinstance(value, bool):
        return ("bool", 0, None, None)
    if isinstance(value, int | float):
        return ("number", 0, None, None)
    if not isinstance(value, list):
        return (type(value).__name__, 0, None, None)
    inner = [_kind(v) for v in value]
    depth = 1 + max((k[1] for k in inner), default=0)
    if depth != 2:
        return ("list", depth, None, None)
    rectangular = len({len(row) for row in value}) <= 1
    square = rectangular and all(len(row) == len(value) for row in value)
    return ("list", depth, rectangular, square)


def _shape_problem(case: Case, public: tuple[Case, ...]) -> str:
    """Why a hidden case's arguments are not of the kind every public case
    passes in the same place (a flat list for a matrix, a ragged or
    non-square matrix where all are square), or ``""``."""
    for i, arg in enumerate(case.args):
        seen = [_kind(c.args[i]) for c in public if len(c.args) > i]
        if not seen:
            continue
        kind = _kind(arg)
        if all(s[:2] != kind[:2] for s in seen):
            want = f"{seen[0][0]} of depth {seen[0][1]}" if seen[0][1] else seen[0][0]
            got = f"{kind[0]} of depth {kind[1]}" if kind[1] else kind[0]
            return f"args[{i}] is a {got}; the public cases pass a {want}"
        matrices = [s for s in seen if s[1] == 2]
        if kind[1] == 2 and matrices:
            if not kind[2] and all(s[2] for s in matrices):
                return (
                    f"args[{i}] has rows of different lengths; the public cases' do not"
                )
            if not kind[3] and all(s[3] for s in matrices):
                return f"args[{i}] is a non-square matrix; the public cases pass square ones"
    return ""


def check_folder(directory: str | os.PathLike) -> list[str]:
    """Check every ``*.json`` of a hidden-case folder (raises
    :class:`HiddenCaseError` at the first problem); the chapters it has."""
    found = []
    for path in sorted(Path(directory).glob("*.json")):
        if path.stem not in CHAPTERS:
            close = difflib.get_close_matches(path.stem, CHAPTERS, n=1)
            hint = f"; did you mean {close[0]}.json?" if close else ""
            raise HiddenCaseError(
                path, 1, f"{path.stem!r} is not a chapter of the book{hint}"
            )
        load_hidden(path.stem, directory)
        found.append(path.stem)
    return found


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
