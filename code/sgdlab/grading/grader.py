"""Grading one submission: read it, run it in the sandbox, compare with the
expected values.

One submission gives exactly one gradebook row, whatever it contains:

``graded``
    The cells ran (some may have raised or been stopped at their time limit;
    that is feedback, not a failure) and every case was called and compared.
``invalid``
    The file could not be read as a notebook or a Python file, is empty, or
    its chapter is unknown. Score 0 with the reason.
``limit``
    The submission broke a cap: it wrote more than the disk limit, or started
    more processes and threads than allowed. Score 0.
``timeout``
    The submission used up its whole time budget. Score 0.
``crashed``
    The Python process ended while running the cells (``os._exit``, a
    segfault, the memory limit), or the grader's worker for it failed.
    Score 0.

A cell that runs past its limit is stopped and reported; the other cells
still run. A case that runs too long, raises, or returns the wrong type or
shape fails on its own, under its own limit; the sandbox is restarted for the
next case when needed. Each exercise scores its points times the share of its
cases that pass.

Reading a file is :mod:`sgdlab.grading.submission`; grading many submissions
and writing the gradebook, :mod:`sgdlab.grading.gradebook`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .exercises import Case, Exercise, chapter_exercises, expected_value, reference
from .hidden import default_hidden_dir, is_sample, load_hidden
from .isolation_modes import isolation
from .sandbox import GRACE_SECONDS, Limits, SandboxError, Session
from .submission import InvalidSubmission, read_cells
from .values import compare

STATUSES = ("graded", "invalid", "limit", "timeout", "crashed")
DEFAULT_LIMITS = Limits()
#: The most a submission may take in all (cells, restarts and cases).
SUBMISSION_SECONDS = 600.0


@dataclass
class CaseResult:
    exercise: str
    number: int
    hidden: bool
    passed: bool
    message: str


@dataclass
class Grade:
    """The outcome for one submission."""

    submission: str
    status: str
    isolation: str
    message: str = ""
    cases: list[CaseResult] = field(default_factory=list)
    cell_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    chapter: str = ""
    plan: Plan | None = None

    def exercise_scores(self, plan: Plan | None = None) -> dict[str, float]:
        """Points per exercise: its points times the share of its cases passed."""
        plan = plan or self.plan
        if plan is None:
            return {}
        passed = {e.id: 0 for e in plan.exercises}
        for case in self.cases:
            passed[case.exercise] += int(case.passed)
        counts = plan.counts
        return {
            e.id: round(plan.points[e.id] * passed[e.id] / counts[e.id], 4)
            if counts[e.id]
            else 0.0
            for e in plan.exercises
        }

    @property
    def score(self) -> float:
        return round(sum(self.exercise_scores().values()), 4)

    @property
    def cases_passed(self) -> int:
        return sum(c.passed for c in self.cases)


@dataclass(frozen=True)
class Plan:
    """What to run for a chapter: every case with its expected value."""

    chapter: str
    exercises: tuple[Exercise, ...]
    cases: tuple[tuple[Exercise, int, bool, Case, object], ...]
    points: dict = field(default_factory=dict)
    hidden_source: str = ""
    sample: bool = False

    @property
    def counts(self) -> dict[str, int]:
        out = {e.id: 0 for e in self.exercises}
        for exercise, *_ in self.cases:
            out[exercise.id] += 1
        return out

    @property
    def max_score(self) -> float:
        return round(sum(self.points[e.id] for e in self.exercises), 4)


def make_plan(
    chapter: str,
    hidden_dir: str | os.PathLike | None = None,
    book: str | os.PathLike | None = None,
) -> Plan:
    """Public and hidden cases of ``chapter``, expected values from the
    reference solutions in the chapter, and the points of each exercise."""
    exercises = tuple(chapter_exercises(chapter))
    hidden_dir = Path(hidden_dir) if hidden_dir else default_hidden_dir()
    hidden = load_hidden(chapter, hidden_dir)
    cases = []
    for exercise in exercises:
        ref = reference(exercise, book)
        for i, case in enumerate(exercise.public, 1):
            cases.append((exercise, i, False, case, expected_value(ref, case)))
        for i, case in enumerate(hidden.cases.get(exercise.id, []), 1):
            cases.append((exercise, i, True, case, expected_value(ref, case)))
    points = {e.id: hidden.points.get(e.id, e.points) for e in exercises}
    return Plan(
        chapter, exercises, tuple(cases), points, hidden.source, is_sample(hidden_dir)
    )


class _Run:
    """The sandbox of one submission: runs the cells, restarts when needed and
    skips a cell that had to be killed."""

    def __init__(self, cells: list[dict], limits: Limits, mode: str, deadline: float):
        self.cells, self.limits, self.mode, self.deadline = (
            cells,
            limits,
            mode,
            deadline,
        )
        self.skip: set[int] = set()
        self.errors: list[str] = []
        self.session: Session | None = None
        self.first = True

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def start(self) -> Session:
        """A session whose cells have run, or SandboxError."""
        while True:
            if self.left() <= 0:
                raise SandboxError(
                    "timeout", f"the submission used up its {SUBMISSION_SECONDS:g} s"
                )
            session = Session(self.cells, self.limits, self.mode, frozenset(self.skip))
            current = None
            try:
                while True:
                    wait = (
                        self.limits.cell_seconds
                        if current is not None
                        else self.limits.cells_seconds
                    ) + GRACE_SECONDS
                    message = session.receive(
                        min(wait, max(self.left(), 0.1)),
                        "the cells" if current is None else self._name(current),
                    )
                    event = message.get("event")
                    if event == "cell_start":
                        current = int(message.get("cell", 0))
                        continue
                    text = str(message.get("message", "an error"))
                    if event in ("cell_error", "limit") and text not in self.errors:
                        self.errors.append(text)
                    if event == "limit":
                        raise SandboxError("limit", str(message.get("message")))
                    if event in ("cell_done", "cell_error"):
                        current = None
                    elif event == "ready":
                        if message.get("output_overflow") and self.first:
                            self.errors.append(
                                f"the output was cut at {self.limits.output_chars} characters"
                            )
                        self.first = False
                        self.session = session
                        return session
            except SandboxError as err:
                session.close()
                if err.kind != "timeout" or current is None:
                    raise
                # The cell ignored its interruption: kill it, skip it, run the rest again.
                self.skip.add(current)
                self.errors.append(
                    f"{self._name(current)} was stopped after "
                    f"{self.limits.cell_seconds:g} s (an endless loop?); "
                    "the other cells still ran"
                )
            except BaseException:
                session.close()
                raise

    def _name(self, index: int) -> str:
        return f"cell {self.cells[index]['number']}"

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


def grade_submission(
    path: str | os.PathLike,
    plan: Plan,
    *,
    limits: Limits = DEFAULT_LIMITS,
    mode: str | None = None,
) -> Grade:
    """Grade one file against ``plan``; never raises for anything in the file."""
    mode = mode or isolation()
    name = Path(path).name
    start = time.monotonic()
    grade = Grade(name, "graded", mode, chapter=plan.chapter, plan=plan)
    try:
        cells = read_cells(path, plan.chapter)
    except InvalidSubmission as err:
        grade.status, grade.message = "invalid", str(err)
        return grade
    run = _Run(cells, limits, mode, start + SUBMISSION_SECONDS)
    try:
        for exercise, number, hidden, case, expected in plan.cases:
            session = run.session or run.start()
            try:
                reply = session.call(exercise.function, list(case.args), case.kwargs)
            except SandboxError as err:
                run.close()
                if err.kind == "limit":
                    raise
                why = "timed out" if err.kind == "timeout" else "crashed the process"
                grade.cases.append(
                    CaseResult(exercise.id, number, hidden, False, f"{why}: {err}")
                )
                continue
            if reply.get("error") == "limit":
                raise SandboxError("limit", str(reply.get("message")))
            if "value" in reply:
                problem = compare(
                    expected, reply["value"], rtol=exercise.rtol, atol=exercise.atol
                )
            else:
                problem = str(reply.get("message", "no value returned"))
            grade.cases.append(
                CaseResult(
                    exercise.id, number, hidden, problem is None, problem or "passed"
                )
            )
    except SandboxError as err:
        grade.status = {"timeout": "timeout", "limit": "limit"}.get(err.kind, "crashed")
        grade.message = str(err)
        grade.cases = []
    except Exception as err:  # noqa: BLE001 - the grader itself failed: still one row
        grade.status = "crashed"
        grade.message = f"grader error: {type(err).__name__}: {err}"
        grade.cases = []
    finally:
        run.close()
        grade.cell_errors = run.errors
        grade.seconds = time.monotonic() - start
    if grade.status == "graded":
        failed = [c for c in grade.cases if not c.passed]
        grade.message = (
            "all cases pass" if not failed else f"{len(failed)} case(s) fail"
        )
    return grade
