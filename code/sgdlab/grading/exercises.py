"""The graded exercises, authored in the chapters, and their public cases.

An exercise is written once, next to the chapter's text (see the grading
page): inside its ``{exercise-start}`` block a ``{graded}`` block gives the id,
the function's name, the points, a hint, the chapter functions it must not
use, and the public cases (inputs only); its ``{solution-start}`` block holds
the cell that defines the function (the reference solution) and the cell that
calls ``check``.

From that one source come the student and the instructor notebooks
(:mod:`sgdlab.notebooks`), the public cases with their expected values
(``bank.json`` in this package, which :func:`sgdlab.grading.check` reads: no
reference solution ships with the package), and the hidden-case template
(:func:`sgdlab.grading.hidden.hidden_template`). The grader computes every expected value with the
reference solution, read from the chapter, in its own process.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
BANK_FILE = Path(__file__).with_name("bank.json")
#: The chapters in the book's order (``_toc.yml``): exercise ids start with
#: ``ch<number>-``.
CHAPTERS = (
    "epochs-and-minibatches",
    "epoch-rmse",
    "batch-size-and-time",
    "watching-sgd",
    "landscape",
    "adaptive-optimizers",
    "sgd-and-schedules",
)
OPTIONS = ("function", "points", "hint", "forbid", "aliases", "rtol", "atol")


@dataclass(frozen=True)
class Case:
    """Inputs of one call: positional and keyword arguments (JSON data)."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def describe(self, function: str) -> str:
        parts = [repr(a) for a in self.args] + [
            f"{k}={v!r}" for k, v in self.kwargs.items()
        ]
        text = f"{function}({', '.join(parts)})"
        return text if len(text) < 200 else text[:197] + "..."

    def as_json(self) -> dict:
        return {
            "args": list(self.args),
            **({"kwargs": self.kwargs} if self.kwargs else {}),
        }


@dataclass(frozen=True)
class Exercise:
    """One graded exercise, as its chapter defines it."""

    id: str
    chapter: str
    label: str
    function: str
    points: float
    hint: str
    public: tuple[Case, ...]
    expected: tuple = ()  # the public cases' expected values (JSON data)
    forbid: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    rtol: float = 1e-6
    atol: float = 1e-9

    @property
    def number(self) -> int:
        return CHAPTERS.index(self.chapter) + 1


# --------------------------------------------------------------------------
# Reading the chapters
# --------------------------------------------------------------------------
def book_dir() -> Path:
    """The chapters: ``$SGDLAB_BOOK`` if set, else the repository's ``book/``."""
    return Path(os.environ.get("SGDLAB_BOOK") or REPO / "book")


GRADED = re.compile(r"^```\{graded\} *(\S+)\n(.*?)^```", re.M | re.S)


def _parse_block(ex_id: str, body: str, chapter: str, label: str) -> Exercise:
    import yaml

    options: dict[str, str] = {}
    lines = body.splitlines()
    while lines and (m := re.match(r"^:([\w-]+):\s*(.*)$", lines[0])):
        options[m.group(1)] = m.group(2).strip()
        lines.pop(0)
    where = f"{chapter}.md, graded exercise {ex_id}"
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise ValueError(
            f"{where}: unknown option(s) {sorted(unknown)}; use {list(OPTIONS)}"
        )
    for needed in ("function", "hint"):
        if not options.get(needed):
            raise ValueError(f"{where}: the :{needed}: option is required")
    number = CHAPTERS.index(chapter) + 1
    if not ex_id.startswith(f"ch{number}-"):
        raise ValueError(
            f"{where}: the id must start with ch{number}- (chapter {number})"
        )
    cases = yaml.safe_load("\n".join(lines)) or []
    if not isinstance(cases, list) or not cases:
        raise ValueError(
            f"{where}: list the public cases, one '- args: [...]' per case"
        )
    public = tuple(_case(c, where) for c in cases)
    points = float(options.get("points", 1))
    if not points > 0:
        raise ValueError(f"{where}: :points: must be positive")
    return Exercise(
        ex_id,
        chapter,
        label,
        options["function"],
        points,
        options["hint"],
        public,
        forbid=tuple(options.get("forbid", "").split()),
        aliases=tuple(options.get("aliases", "").split()),
        rtol=float(options.get("rtol", 1e-6)),
        atol=float(options.get("atol", 1e-9)),
    )


def _case(data, where: str) -> Case:
    if (
        not isinstance(data, dict)
        or not set(data) <= {"args", "kwargs"}
        or not isinstance(data.get("args", []), list)
        or not isinstance(data.get("kwargs", {}), dict)
    ):
        raise ValueError(
            f'{where}: a case must be {{"args": [...], "kwargs": {{...}}}}, '
            f"got {data!r}"
        )
    return Case(tuple(data.get("args", [])), dict(data.get("kwargs", {})))


def read_chapter(chapter: str, book: str | os.PathLike | None = None) -> list[Exercise]:
    """The graded exercises defined in ``book/<chapter>.md`` (without expected values)."""
    text = (Path(book or book_dir()) / f"{chapter}.md").read_text()
    found = []
    for match in GRADED.finditer(text):
        before = text[: match.start()]
        labels = re.findall(r":::\{exercise-start\}\n:label: (\S+)", before)
        if not labels or before.rfind(":::{exercise-end}") > before.rfind(
            ":::{exercise-start}"
        ):
            raise ValueError(
                f"{chapter}.md: the graded block {match.group(1)} must be inside "
                "an {exercise-start} ... {exercise-end} block"
            )
        found.append(_parse_block(match.group(1), match.group(2), chapter, labels[-1]))
    return found


def _block(text: str, start: str, end: str) -> str:
    i = text.find(start)
    if i < 0:
        raise ValueError(f"cannot find {start!r} in the chapter")
    j = text.find(end, i)
    if j < 0:
        raise ValueError(f"{start!r} has no matching {end!r}")
    return text[i + len(start) : j]


def _code_cells(text: str) -> list[str]:
    return [
        m.group(1) for m in re.finditer(r"```\{code-cell\}[^\n]*\n(.*?)```", text, re.S)
    ]


def exercise_parts(chapter_text: str, exercise: Exercise) -> tuple[str, str, str]:
    """The statement (Markdown, without the graded block), the solution cell and
    the check cell of ``exercise``."""
    statement = _block(
        chapter_text, f":label: {exercise.label}\n:::\n", ":::{exercise-end}"
    )
    statement = GRADED.sub("", statement)
    solution = _block(
        chapter_text, f":::{{solution-start}} {exercise.label}\n", ":::{solution-end}"
    )
    cells = _code_cells(solution)
    defining = [c for c in cells if re.search(rf"^def {exercise.function}\(", c, re.M)]
    checking = [c for c in cells if re.match(rf'check\("{exercise.id}"', c.strip())]
    if not defining or not checking:
        raise ValueError(
            f"the solution of {exercise.label} needs a cell defining "
            f"{exercise.function} and one calling check({exercise.id!r}, ...)"
        )
    return statement.strip(), defining[0].strip() + "\n", checking[0].strip() + "\n"


def reference(exercise: Exercise, book: str | os.PathLike | None = None):
    """The reference solution: the chapter's solution cell, run in a fresh namespace."""
    text = (Path(book or book_dir()) / f"{exercise.chapter}.md").read_text()
    _, solution, _ = exercise_parts(text, exercise)
    namespace: dict = {
        "__name__": f"sgdlab_reference_{exercise.chapter.replace('-', '_')}"
    }
    exec(
        compile(
            solution, f"<{exercise.chapter}.md: solution of {exercise.id}>", "exec"
        ),
        namespace,
    )
    return namespace[exercise.function]


def expected_value(function, case: Case):
    from .values import encode

    return encode(function(*case.args, **case.kwargs))


# --------------------------------------------------------------------------
# The bank: public cases with expected values, shipped with the package
# --------------------------------------------------------------------------
def build_bank(book: str | os.PathLike | None = None) -> dict:
    """The bank as JSON data, computed from the chapters."""
    exercises = []
    seen: set[str] = set()
    for chapter in CHAPTERS:
        for ex in read_chapter(chapter, book):
            for name in (ex.id, *ex.aliases):
                if name in seen:
                    raise ValueError(f"exercise id {name!r} is used twice")
                seen.add(name)
            ref = reference(ex, book)
            exercises.append(
                {
                    "id": ex.id,
                    "chapter": ex.chapter,
                    "label": ex.label,
                    "function": ex.function,
                    "points": ex.points,
                    "hint": ex.hint,
                    "forbid": list(ex.forbid),
                    "aliases": list(ex.aliases),
                    "rtol": ex.rtol,
                    "atol": ex.atol,
                    "public": [
                        {**c.as_json(), "expected": expected_value(ref, c)}
                        for c in ex.public
                    ],
                }
            )
    return {
        "about": "Generated from the chapters by `sgdlab exercises --update`; do not edit.",
        "exercises": exercises,
    }


def bank_text(book: str | os.PathLike | None = None) -> str:
    return json.dumps(build_bank(book), indent=1, ensure_ascii=False) + "\n"


def write_bank(book: str | os.PathLike | None = None) -> bool:
    """Regenerate ``bank.json``; True if it changed."""
    text = bank_text(book)
    if BANK_FILE.is_file() and BANK_FILE.read_text() == text:
        return False
    BANK_FILE.write_text(text)
    load_bank.cache_clear()
    return True


@functools.cache
def load_bank() -> dict[str, Exercise]:
    """Every exercise of ``bank.json`` by id (aliases included)."""
    data = json.loads(BANK_FILE.read_text())
    out: dict[str, Exercise] = {}
    for e in data["exercises"]:
        ex = Exercise(
            e["id"],
            e["chapter"],
            e["label"],
            e["function"],
            float(e["points"]),
            e["hint"],
            tuple(
                Case(tuple(c["args"]), dict(c.get("kwargs", {}))) for c in e["public"]
            ),
            tuple(c["expected"] for c in e["public"]),
            tuple(e["forbid"]),
            tuple(e["aliases"]),
            float(e["rtol"]),
            float(e["atol"]),
        )
        for name in (ex.id, *ex.aliases):
            out[name] = ex
    return out


class _Exercises(dict):
    """``EXERCISES[id]``: the bank by current id (aliases resolve too)."""

    def _data(self) -> dict[str, Exercise]:
        return {k: v for k, v in load_bank().items() if k == v.id}

    def __getitem__(self, key):
        return load_bank()[key]

    def __contains__(self, key):
        return key in load_bank()

    def __iter__(self):
        return iter(self._data())

    def __len__(self):
        return len(self._data())

    def keys(self):
        return self._data().keys()

    def values(self):
        return self._data().values()

    def items(self):
        return self._data().items()


EXERCISES = _Exercises()


def forbidden_names() -> list[str]:
    return sorted({name for ex in EXERCISES.values() for name in ex.forbid})


def chapter_exercises(chapter: str) -> list[Exercise]:
    """The graded exercises of ``chapter`` (a page name such as ``"landscape"``)."""
    found = [e for e in EXERCISES.values() if e.chapter == chapter]
    if not found:
        raise ValueError(
            f"no graded exercises for chapter {chapter!r}; choose one of "
            f"{list(CHAPTERS)}"
        )
    return found
