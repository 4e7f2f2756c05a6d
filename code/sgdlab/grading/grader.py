"""Grading one submission: read it, run it in the sandbox, compare with the
expected values.

One submission gives exactly one gradebook row, whatever it contains:

``graded``
    The cells ran (some may have raised or been stopped at their time limit;
    that is feedback, not a failure) and every case was called and compared.
``invalid``
    The file could not be read as a notebook or a Python file, is empty, or
    its chapter is unknown. Score 0 with the reason.
``timeout``
    The cells did not finish within the submission's whole time budget.
    Score 0.
``crashed``
    The Python process could not be started for the submission, or the
    grader's worker for it failed. Score 0.
``error``
    The grader's environment failed (bubblewrap could not start): not the
    submission's fault; grade it again once the machine is fixed.

(``limit`` is kept in :data:`STATUSES` for gradebooks of earlier versions.)

A cell that runs past its limit, breaks a cap (disk, processes, memory) or
ends the Python process is stopped, reported and skipped: the other cells run
(again, in a fresh sandbox, when the process had to be killed), so an
exploratory cell costs no graded case. The cells run once; each case then
runs in a process forked from theirs, under its own time limit: a case that
loops, raises, crashes or returns the wrong type or shape fails alone. All
public cases run before any hidden one, and each in a process of its own, so
no message shown to a student can carry a hidden input. Each exercise scores
its points times the share of its cases that pass.

Reading a file is :mod:`sgdlab.grading.submission`; grading many submissions
and writing the gradebook, :mod:`sgdlab.grading.gradebook`.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .exercises import Case, Exercise, chapter_exercises, expected_value, reference
from .hidden import Hidden, HiddenCaseError, default_hidden_dir, is_sample, load_hidden
from .isolation_modes import isolation
from .limits import Limits
from .sandbox import GRACE_SECONDS, SandboxError, Session
from .submission import InvalidSubmission, helper_files, read_cells
from .values import compare

STATUSES = ("graded", "invalid", "limit", "timeout", "crashed", "error")
DEFAULT_LIMITS = Limits()
#: The most a submission may take in all, by default (cells, restarts, cases).
SUBMISSION_SECONDS = DEFAULT_LIMITS.submission_seconds
#: Set on Ctrl-C: every grade in progress stops (:class:`Interrupted`).
STOP = threading.Event()


class Interrupted(Exception):
    """The run was interrupted (Ctrl-C): this submission has no grade."""


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
    starts: int = 0  # how many times its cells ran (1 unless a cell was killed)

    def exercise_scores(self, plan: Plan | None = None) -> dict[str, float]:
        """Points per exercise: its points times the share of its cases passed
        (not rounded: the total is rounded once, so 4/3 + 4/3 is 2.6667)."""
        plan = plan or self.plan
        if plan is None:
            return {}
        passed = {e.id: 0 for e in plan.exercises}
        for case in self.cases:
            passed[case.exercise] += int(case.passed)
        counts = plan.counts
        return {
            e.id: plan.points[e.id] * passed[e.id] / counts[e.id]
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
            cases.append((exercise, i, True, case, _expected(ref, case, hidden, i)))
    points = {e.id: hidden.points.get(e.id, e.points) for e in exercises}
    return Plan(
        chapter, exercises, tuple(cases), points, hidden.source, is_sample(hidden_dir)
    )


def _expected(ref, case: Case, hidden: Hidden, number: int):
    """The reference's value on a hidden case; an error naming the case's
    file and line if the reference cannot take it (a typo in the case)."""
    try:
        return expected_value(ref, case)
    except Exception as err:  # noqa: BLE001 - any failure is the case's
        ex_id = next(k for k, v in hidden.cases.items() if case in v)
        raise HiddenCaseError(
            hidden.source,
            hidden.lines.get((ex_id, number), 1),
            f"hidden case {number} of {ex_id}: the reference solution cannot take "
            f"it ({type(err).__name__}: {err}); check its args",
        ) from None


class _Run:
    """The sandbox of one submission: runs the cells once, and again without a
    cell that had to be killed (it looped past its interruption, broke a cap
    or ended the process)."""

    def __init__(self, cells: list[dict], limits: Limits, mode: str, deadline: float):
        self.cells, self.limits, self.mode = cells, limits, mode
        self.deadline = deadline
        self.skip: set[int] = set()
        self.errors: list[str] = []
        self.session: Session | None = None
        self.starts = 0
        self.files: dict[str, str] = {}

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def start(self) -> Session:
        """A session whose cells have run, or SandboxError."""
        while True:
            if STOP.is_set():
                raise Interrupted()
            if self.left() <= 0:
                raise SandboxError(
                    "timeout",
                    f"the submission used up its {self.limits.submission_seconds:g} s",
                )
            self.starts += 1
            session = Session(
                self.cells, self.limits, self.mode, frozenset(self.skip), self.files
            )
            self._current: int | None = None
            try:
                self._run_cells(session)
            except SandboxError as err:
                session.close()
                if STOP.is_set():
                    raise Interrupted() from None
                if err.kind == "environment" or self._current is None:
                    raise
                self._skip(self._current, err)
                continue
            except BaseException:
                session.close()
                raise
            self.session = session
            return session

    def _skip(self, index: int, err: SandboxError) -> None:
        """Note why cell ``index`` was killed; the next start skips it."""
        self.skip.add(index)
        name = self._name(index)
        why = {
            "timeout": f"{name} was stopped after {self.limits.cell_seconds:g} s "
            "(an endless loop?)",
            "limit": f"{name} broke a limit: {err}",
        }.get(err.kind, f"{name} ended the Python process ({err})")
        self.errors.append(f"{why}; it was skipped and the other cells ran")

    def _run_cells(self, session: Session) -> None:
        """Receive the cells' events until ``ready``."""
        while True:
            wait = (
                self.limits.cell_seconds
                if self._current is not None
                else self.limits.cells_seconds
            ) + GRACE_SECONDS
            where = "the cells" if self._current is None else self._name(self._current)
            message = session.receive(min(wait, max(self.left(), 0.1)), where)
            event = message.get("event")
            if event == "cell_start":
                self._current = int(message.get("cell", 0))
                continue
            text = str(message.get("message", "an error"))
            if event == "limit" and self._current is not None:
                # Threads or files the cell left would hold the cap: skip it.
                raise SandboxError("limit", text)
            if event == "cell_error" and text not in self.errors:
                self.errors.append(text)
            if event in ("cell_done", "cell_error", "limit"):
                self._current = None
            elif event == "ready":
                overflow = (
                    f"the output was cut at {self.limits.output_chars} characters"
                )
                if message.get("output_overflow") and overflow not in self.errors:
                    self.errors.append(overflow)
                return

    def _name(self, index: int) -> str:
        return f"cell {self.cells[index]['number']}"

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


#: What a failed call's reply means, said to the student.
_WHY = {
    "timeout": "timed out",
    "limit": "broke a limit",
    "crashed": "crashed its process",
}


def _call_case(run: _Run, exercise: Exercise, case: Case, expected) -> str | None:
    """Run one case; None if it passes, else why it fails."""
    session = run.session or run.start()
    try:
        reply = session.call(exercise.function, list(case.args), case.kwargs)
    except SandboxError as err:
        run.close()
        if STOP.is_set():
            raise Interrupted() from None
        if err.kind == "environment":
            raise
        return f"{_WHY.get(err.kind, 'crashed the process')}: {err}"
    error = reply.get("error")
    if error in _WHY:
        return f"{_WHY[error]}: {reply.get('message')}"
    if "value" in reply:
        return compare(expected, reply["value"], rtol=exercise.rtol, atol=exercise.atol)
    return str(reply.get("message", "no value returned"))


def call_order(plan: Plan) -> list:
    """Every case, public ones first: nothing a student is shown (a public
    case's message) can then carry a hidden input."""
    return sorted(plan.cases, key=lambda item: item[2])


def grade_submission(
    path: str | os.PathLike,
    plan: Plan,
    *,
    limits: Limits = DEFAULT_LIMITS,
    mode: str | None = None,
    helpers=(),
) -> Grade:
    """Grade one file against ``plan`` (``helpers``: the student's ``.py``
    files beside it); never raises for anything in the file (raises
    :class:`Interrupted` after Ctrl-C)."""
    mode = mode or isolation()
    start = time.monotonic()
    grade = Grade(Path(path).name, "graded", mode, chapter=plan.chapter, plan=plan)
    try:
        cells = read_cells(path, plan.chapter)
    except InvalidSubmission as err:
        grade.status, grade.message = "invalid", str(err)
        return grade
    run = _Run(cells, limits, mode, start + limits.submission_seconds)
    run.files = helper_files(helpers)
    try:
        _grade_cases(run, plan, grade)
    except SandboxError as err:
        grade.status = {"timeout": "timeout", "environment": "error"}.get(
            err.kind, "crashed"
        )
        grade.message = (
            f"not the submission's fault: {err}"
            if err.kind == "environment"
            else str(err)
        )
        grade.cases = []
    except Interrupted:
        raise
    except Exception as err:  # noqa: BLE001 - the grader itself failed: still one row
        grade.status = "crashed"
        grade.message = f"grader error: {type(err).__name__}: {err}"
        grade.cases = []
    finally:
        run.close()
        grade.cell_errors = run.errors
        grade.starts = run.starts
        grade.seconds = time.monotonic() - start
    if grade.status == "graded":
        failed = [c for c in grade.cases if not c.passed]
        missing = len(plan.cases) - len(grade.cases)
        grade.message = (
            "all cases pass" if not failed else f"{len(failed)} case(s) fail"
        )
        if missing:
            grade.message += (
                f"; {missing} case(s) not run: the submission used up its "
                f"{limits.submission_seconds:g} s"
            )
    return grade


def _grade_cases(run: _Run, plan: Plan, grade: Grade) -> None:
    """Call every case of ``plan`` into ``grade.cases``, public ones first;
    stop (keeping what was graded) when the submission's time is up."""
    for exercise, number, hidden, case, expected in call_order(plan):
        if STOP.is_set():
            raise Interrupted()
        if grade.cases and run.left() <= 0:
            return
        problem = _call_case(run, exercise, case, expected)
        grade.cases.append(
            CaseResult(
                exercise.id, number, hidden, problem is None, problem or "passed"
            )
        )
