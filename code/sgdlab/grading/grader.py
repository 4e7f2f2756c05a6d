"""Grading submissions: read, run in the sandbox, compare, write the gradebook.

One submission gives exactly one gradebook row, whatever it contains:

``graded``
    The cells ran (some may have raised; that is feedback, not a failure)
    and every case was called and compared.
``invalid``
    The file could not be read as a notebook or a Python file, is empty, or
    belongs to another chapter. Score 0 with the reason.
``timeout``
    A cell at top level ran past its time limit (an infinite loop?), or the
    whole run exceeded its budget. Score 0.
``crashed``
    The Python process ended while running the cells (``os._exit``, a
    segfault, the memory limit). Score 0.

A case that runs too long, raises, or returns the wrong type or shape fails
on its own; the sandbox is restarted for the next case when needed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .exercises import Case, Exercise, chapter_exercises, load_hidden
from .sandbox import Limits, SandboxError, Session, isolation
from .values import compare

STATUSES = ("graded", "invalid", "timeout", "crashed")
DEFAULT_LIMITS = Limits()
MAX_SUBMISSION_BYTES = 20 * 1024**2


class InvalidSubmission(ValueError):
    """The file is not a gradable submission; the message says why."""


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

    def exercise_scores(self, exercises: Sequence[Exercise], counts: dict[str, int]) -> dict:
        scores = {e.id: 0 for e in exercises}
        for case in self.cases:
            scores[case.exercise] += int(case.passed)
        return scores

    @property
    def score(self) -> int:
        return sum(c.passed for c in self.cases)


# --------------------------------------------------------------------------
# Reading a submission
# --------------------------------------------------------------------------
def read_cells(path: str | os.PathLike, chapter: str) -> list[str]:
    """The code cells of a ``.ipynb`` (or the text of a ``.py``) as a list of sources.

    Raises :class:`InvalidSubmission` with a message for the student when the
    file is empty, not UTF-8, not JSON, not a notebook, or a notebook made for
    another chapter (its ``metadata.sgdlab.chapter``).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InvalidSubmission(f"cannot read the file: {err.strerror}") from None
    if size == 0:
        raise InvalidSubmission("the file is empty")
    if size > MAX_SUBMISSION_BYTES:
        raise InvalidSubmission(f"the file is larger than {MAX_SUBMISSION_BYTES // 2**20} MB")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission("the file is not text (UTF-8); submit the .ipynb or .py") from None
    if path.suffix == ".py":
        if not text.strip():
            raise InvalidSubmission("the file is empty")
        return [text]
    if path.suffix != ".ipynb":
        raise InvalidSubmission(f"submit a .ipynb notebook or a .py file, not {path.suffix!r}")
    try:
        notebook = json.loads(text)
    except ValueError as err:
        raise InvalidSubmission(f"the notebook is not valid JSON ({err}); was it saved "
                                "completely?") from None  # fmt: skip
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise InvalidSubmission("the file is JSON but not a Jupyter notebook (no list of cells)")
    meta = notebook.get("metadata", {})
    meta = meta.get("sgdlab", {}) if isinstance(meta, dict) else {}
    other = meta.get("chapter") if isinstance(meta, dict) else None
    if other and other != chapter:
        raise InvalidSubmission(f"this notebook is for chapter {other!r}, but this run grades "
                                f"{chapter!r}")  # fmt: skip
    cells = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise InvalidSubmission("a code cell's source is neither text nor a list of lines")
        cells.append(source)
    return cells


# --------------------------------------------------------------------------
# Grading one submission
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """What to run for a chapter: every case with its expected value."""

    chapter: str
    exercises: tuple[Exercise, ...]
    cases: tuple[tuple[Exercise, int, bool, Case, object], ...]

    @property
    def counts(self) -> dict[str, int]:
        out = {e.id: 0 for e in self.exercises}
        for exercise, *_ in self.cases:
            out[exercise.id] += 1
        return out

    @property
    def max_score(self) -> int:
        return len(self.cases)


def make_plan(chapter: str, hidden_dir: str | os.PathLike | None = None) -> Plan:
    """Public and hidden cases of ``chapter`` with expected values from the references."""
    exercises = tuple(chapter_exercises(chapter))
    hidden = load_hidden(chapter, hidden_dir)
    cases = []
    for exercise in exercises:
        for i, case in enumerate(exercise.public, 1):
            cases.append((exercise, i, False, case, exercise.expected(case)))
        for i, case in enumerate(hidden.get(exercise.id, []), 1):
            cases.append((exercise, i, True, case, exercise.expected(case)))
    return Plan(chapter, exercises, tuple(cases))


def _start(cells: list[str], limits: Limits, mode: str) -> tuple[Session, list[str]]:
    """Start a session and run the cells; returns it with the cells' error messages."""
    session = Session(cells, limits, mode)
    errors: list[str] = []
    try:
        while True:
            message = session.receive(limits.cell_seconds, "a cell")
            event = message.get("event")
            if event == "cell_start":
                cell = int(message.get("cell", 0)) + 1
                deadline_what = f"cell {cell}"
                message = session.receive(limits.cell_seconds, deadline_what)
                event = message.get("event")
            if event == "cell_error":
                errors.append(str(message.get("message", "an error")))
            elif event == "ready":
                if message.get("output_overflow"):
                    errors.append(f"the output was cut at {limits.output_chars} characters")
                return session, errors
    except BaseException:
        session.close()
        raise


def grade_submission(
    path: str | os.PathLike, plan: Plan, *, limits: Limits = DEFAULT_LIMITS, mode: str | None = None
) -> Grade:
    """Grade one file against ``plan``; never raises for anything in the file."""
    mode = mode or isolation()
    name = Path(path).name
    start = time.monotonic()
    grade = Grade(name, "graded", mode)
    try:
        cells = read_cells(path, plan.chapter)
    except InvalidSubmission as err:
        grade.status, grade.message = "invalid", str(err)
        return grade
    session = None
    try:
        session, grade.cell_errors = _start(cells, limits, mode)
        for exercise, number, hidden, case, expected in plan.cases:
            if session is None:
                session, _ = _start(cells, limits, mode)
            try:
                reply = session.call(exercise.function, list(case.args), case.kwargs)
            except SandboxError as err:
                session.close()
                session = None
                why = "timed out" if err.kind == "timeout" else "crashed the process"
                grade.cases.append(CaseResult(exercise.id, number, hidden, False,
                                              f"{why}: {err}"))  # fmt: skip
                continue
            if "value" in reply:
                problem = compare(expected, reply["value"], rtol=exercise.rtol, atol=exercise.atol)
            else:
                problem = str(reply.get("message", "no value returned"))
            grade.cases.append(CaseResult(exercise.id, number, hidden, problem is None,
                                          problem or "passed"))  # fmt: skip
    except SandboxError as err:
        grade.status = "timeout" if err.kind == "timeout" else "crashed"
        grade.message = str(err)
        grade.cases = []
    except Exception as err:  # noqa: BLE001 - the grader itself failed: still one row
        grade.status = "crashed"
        grade.message = f"grader error: {type(err).__name__}: {err}"
        grade.cases = []
    finally:
        if session is not None:
            session.close()
        grade.seconds = time.monotonic() - start
    if grade.status == "graded":
        failed = [c for c in grade.cases if not c.passed]
        grade.message = "all cases pass" if not failed else f"{len(failed)} case(s) fail"
    return grade


# --------------------------------------------------------------------------
# Feedback and the gradebook
# --------------------------------------------------------------------------
def feedback_text(grade: Grade, plan: Plan) -> str:
    """Readable feedback: public cases with expected/got, hidden ones as pass/fail only."""
    lines = [f"Submission: {grade.submission}", f"Chapter: {plan.chapter}",
             f"Status: {grade.status} ({grade.isolation})",
             f"Score: {grade.score} / {plan.max_score}", ""]  # fmt: skip
    if grade.message and grade.status != "graded":
        lines += [f"Why: {grade.message}", ""]
    for err in grade.cell_errors:
        lines.append(f"Note: {err}")
    by_id = {e.id: e for e in plan.exercises}
    cases = {(c.exercise, c.number, c.hidden): c for c in grade.cases}
    for exercise, number, hidden, case, _ in plan.cases:
        result = cases.get((exercise.id, number, hidden))
        mark = "PASS" if result and result.passed else "FAIL"
        if hidden:
            detail = "" if result is None or result.passed else " (hidden case: inputs not shown)"
            lines.append(f"[{mark}] {exercise.id} hidden case {number}{detail}")
        else:
            what = case.describe(exercise.function)
            detail = "not run" if result is None else result.message
            lines.append(f"[{mark}] {exercise.id} public case {number}: {what}: {detail}")
            if result is not None and not result.passed:
                lines.append(f"       hint: {by_id[exercise.id].hint}")
    return "\n".join(lines) + "\n"


def results_json(grade: Grade, plan: Plan) -> dict:
    """Gradescope's ``results.json`` for one submission."""
    tests = []
    cases = {(c.exercise, c.number, c.hidden): c for c in grade.cases}
    for exercise, number, hidden, _case, _ in plan.cases:
        result = cases.get((exercise.id, number, hidden))
        passed = bool(result and result.passed)
        if hidden:
            output = "passed" if passed else "failed (hidden case)"
        else:
            output = "not run" if result is None else result.message
        tests.append({
            "name": f"{exercise.id}: {'hidden' if hidden else 'public'} case {number}",
            "score": 1.0 if passed else 0.0,
            "max_score": 1.0,
            "output": output,
            "visibility": "after_published" if hidden else "visible",
        })  # fmt: skip
    return {
        "score": float(grade.score),
        "execution_time": round(grade.seconds, 3),
        "output": f"{grade.status} ({grade.isolation}): {grade.message}"
        + "".join(f"\n{e}" for e in grade.cell_errors),
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _row(grade: Grade, plan: Plan) -> dict:
    row = {
        "submission": grade.submission,
        "status": grade.status,
        "isolation": grade.isolation,
        "score": grade.score,
        "max_score": plan.max_score,
    }
    row.update(grade.exercise_scores(plan.exercises, plan.counts))
    row["message"] = grade.message
    return row


def write_gradebook(path: Path, rows: list[dict], columns: list[str]) -> None:
    """Write the CSV atomically: a temporary file, then a rename."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(buffer.getvalue())
    os.replace(tmp, path)


def _folder_names(paths: Sequence[Path]) -> list[str]:
    names, seen = [], {}
    for p in paths:
        base = p.name.replace(os.sep, "_")
        count = seen.get(base, 0)
        seen[base] = count + 1
        names.append(base if count == 0 else f"{base}-{count + 1}")
    return names


def grade_many(
    submissions: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    chapter: str,
    hidden_dir: str | os.PathLike | None = None,
    workers: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: bool = True,
) -> list[Grade]:
    """Grade ``submissions`` in parallel; write ``OUT/grades.csv`` and, per
    submission, ``OUT/<name>/results.json`` and ``OUT/<name>/feedback.txt``.

    The gradebook is rewritten after every finished submission (atomically),
    so an interrupted run keeps every row it finished.
    """
    paths = [Path(p) for p in submissions]
    if not paths:
        raise ValueError("give at least one submission to grade")
    plan = make_plan(chapter, hidden_dir)
    mode = isolation()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = _folder_names(paths)
    columns = ["submission", "status", "isolation", "score", "max_score",
               *[e.id for e in plan.exercises], "message"]  # fmt: skip
    workers = workers or os.cpu_count() or 1
    rows: dict[int, dict] = {}
    grades: dict[int, Grade] = {}
    lock = threading.Lock()
    gradebook = out / "grades.csv"

    def finish(i: int, grade: Grade) -> None:
        grade.submission = names[i]
        folder = out / names[i]
        folder.mkdir(exist_ok=True)
        (folder / "results.json").write_text(json.dumps(results_json(grade, plan), indent=1))
        (folder / "feedback.txt").write_text(feedback_text(grade, plan))
        with lock:
            rows[i] = _row(grade, plan)
            grades[i] = grade
            write_gradebook(gradebook, [rows[k] for k in sorted(rows)], columns)
            if progress:
                done = len(rows)
                bar = "#" * (30 * done // len(paths))
                line = f"[{bar:<30}] {done}/{len(paths)} {names[i][:30]:<30} {grade.status}"
                if sys.stderr.isatty():  # one line redrawn in place
                    end = "" if done < len(paths) else "\n"
                    print("\r" + line, end=end, file=sys.stderr, flush=True)
                else:  # logs: one line per submission
                    print(line, file=sys.stderr, flush=True)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(grade_submission, p, plan, limits=limits, mode=mode): i
                   for i, p in enumerate(paths)}  # fmt: skip
        for future in as_completed(futures):
            finish(futures[future], future.result())
    return [grades[i] for i in range(len(paths))]
