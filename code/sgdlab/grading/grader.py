"""Grading submissions: read, run in the sandbox, compare, write the gradebook.

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

from .exercises import (
    SAMPLE_WARNING,
    Case,
    Exercise,
    chapter_exercises,
    default_hidden_dir,
    expected_value,
    is_sample,
    load_hidden,
    reference,
)
from .sandbox import (
    GRACE_SECONDS,
    Limits,
    SandboxError,
    Session,
    isolation,
    privilege_note,
)
from .values import compare

STATUSES = ("graded", "invalid", "limit", "timeout", "crashed")
DEFAULT_LIMITS = Limits()
MAX_SUBMISSION_BYTES = 20 * 1024**2
#: The most a submission may take in all (cells, restarts and cases).
SUBMISSION_SECONDS = 600.0


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


# --------------------------------------------------------------------------
# Reading a submission
# --------------------------------------------------------------------------
def read_submission(path: str | os.PathLike) -> tuple[list[dict], str | None]:
    """The code cells of a ``.ipynb`` (or the text of a ``.py``), each as
    ``{"number": n, "source": text}`` where ``n`` counts every cell the student
    sees (Markdown too), and the chapter named in the notebook's metadata.

    Raises :class:`InvalidSubmission` with a message for the student when the
    file is empty, not UTF-8, not JSON or not a notebook.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise InvalidSubmission(f"cannot read the file: {err.strerror}") from None
    if size == 0:
        raise InvalidSubmission("the file is empty")
    if size > MAX_SUBMISSION_BYTES:
        raise InvalidSubmission(
            f"the file is larger than {MAX_SUBMISSION_BYTES // 2**20} MB"
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission(
            "the file is not text (UTF-8); submit the .ipynb or .py"
        ) from None
    if path.suffix == ".py":
        if not text.strip():
            raise InvalidSubmission("the file is empty")
        return [{"number": 1, "source": text}], None
    if path.suffix != ".ipynb":
        raise InvalidSubmission(
            f"submit a .ipynb notebook or a .py file, not {path.suffix!r}"
        )
    try:
        notebook = json.loads(text)
    except ValueError as err:
        raise InvalidSubmission(
            f"the notebook is not valid JSON ({err}); was it saved completely?"
        ) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise InvalidSubmission(
            "the file is JSON but not a Jupyter notebook (no list of cells)"
        )
    meta = notebook.get("metadata", {})
    meta = meta.get("sgdlab", {}) if isinstance(meta, dict) else {}
    chapter = meta.get("chapter") if isinstance(meta, dict) else None
    cells = []
    for number, cell in enumerate(notebook["cells"], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise InvalidSubmission(
                f"the source of cell {number} is neither text nor a list of lines"
            )
        cells.append({"number": number, "source": source})
    return cells, chapter if isinstance(chapter, str) else None


def read_cells(path: str | os.PathLike, chapter: str) -> list[dict]:
    """Like :func:`read_submission`, refusing a notebook made for another chapter."""
    cells, other = read_submission(path)
    if other and other != chapter:
        raise InvalidSubmission(
            f"this notebook is for chapter {other!r}, but this run grades {chapter!r}"
        )
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


def _grade_twice_if_crashed(
    path, plan: Plan, *, limits: Limits, mode: str | None
) -> Grade:
    """Grade ``path``; if its process crashed, grade it once more before saying so.

    A crash is the submission's fault when it repeats (``os._exit`` at top level
    crashes every time); a second run keeps a one-off failure of the machine
    from costing a student the exercise. The first crash stays in the message.
    """
    grade = grade_submission(path, plan, limits=limits, mode=mode)
    if grade.status != "crashed":
        return grade
    again = grade_submission(path, plan, limits=limits, mode=mode)
    if again.status != "crashed":
        again.message = (
            f"{again.message} (graded a second time: the first run crashed: "
            f"{grade.message})"
        )
    return again


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


# --------------------------------------------------------------------------
# Feedback and the gradebook
# --------------------------------------------------------------------------
def _points(value: float) -> str:
    return f"{value:g}"


def feedback_text(grade: Grade, plan: Plan) -> str:
    """Readable feedback: public cases with expected/got, hidden ones as pass/fail only."""
    lines = [
        f"Submission: {grade.submission}",
        f"Chapter: {plan.chapter}",
        f"Status: {grade.status} ({grade.isolation})",
        f"Score: {_points(grade.score)} / {_points(plan.max_score)} points "
        f"({grade.cases_passed} of {len(plan.cases)} cases pass)",
        "",
    ]
    if plan.sample:
        lines[0:0] = [SAMPLE_WARNING, ""]
    if grade.message and grade.status != "graded":
        lines += [f"Why: {grade.message}", ""]
    for err in grade.cell_errors:
        lines.append(f"Note: {err}")
    by_id = {e.id: e for e in plan.exercises}
    cases = {(c.exercise, c.number, c.hidden): c for c in grade.cases}
    scores = grade.exercise_scores(plan)
    current = None
    for exercise, number, hidden, case, _ in plan.cases:
        if exercise.id != current:
            current = exercise.id
            lines.append(
                f"{exercise.id} ({exercise.function}): "
                f"{_points(scores[exercise.id])} / {_points(plan.points[exercise.id])} "
                "points"
            )
        result = cases.get((exercise.id, number, hidden))
        mark = "PASS" if result and result.passed else "FAIL"
        if hidden:
            detail = (
                ""
                if result is None or result.passed
                else " (hidden case: inputs not shown)"
            )
            lines.append(f"  [{mark}] hidden case {number}{detail}")
        else:
            what = case.describe(exercise.function)
            detail = "not run" if result is None else result.message
            lines.append(f"  [{mark}] public case {number}: {what}: {detail}")
            if result is not None and not result.passed:
                lines.append(f"         hint: {by_id[exercise.id].hint}")
    return "\n".join(lines) + "\n"


def results_json(grade: Grade, plan: Plan) -> dict:
    """Gradescope's ``results.json`` for one submission: one test per case,
    worth its share of the exercise's points."""
    tests = []
    cases = {(c.exercise, c.number, c.hidden): c for c in grade.cases}
    counts = plan.counts
    for exercise, number, hidden, _case, _ in plan.cases:
        result = cases.get((exercise.id, number, hidden))
        passed = bool(result and result.passed)
        if hidden:
            output = "passed" if passed else "failed (hidden case)"
        else:
            output = "not run" if result is None else result.message
        worth = plan.points[exercise.id] / counts[exercise.id]
        tests.append(
            {
                "name": f"{exercise.id}: {'hidden' if hidden else 'public'} case {number}",
                "score": worth if passed else 0.0,
                "max_score": worth,
                "output": output,
                "visibility": "after_published" if hidden else "visible",
            }
        )
    output = f"{grade.status} ({grade.isolation}): {grade.message}" + "".join(
        f"\n{e}" for e in grade.cell_errors
    )
    if plan.sample:
        output = SAMPLE_WARNING + "\n" + output
    return {
        "score": grade.score,
        "execution_time": round(grade.seconds, 3),
        "output": output,
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _row(grade: Grade, plan: Plan | None, exercise_ids: list[str]) -> dict:
    row = {
        "submission": grade.submission,
        "chapter": grade.chapter,
        "status": grade.status,
        "isolation": grade.isolation,
        "score": grade.score if plan else 0,
        "max_score": plan.max_score if plan else "",
        "hidden_cases": ""
        if plan is None
        else ("SAMPLE (public)" if plan.sample else plan.hidden_source),
    }
    scores = grade.exercise_scores(plan) if plan else {}
    for ex_id in exercise_ids:
        row[ex_id] = scores.get(ex_id, "")
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


def chapter_of(path: Path, chapter: str | None) -> str:
    """The chapter to grade ``path`` for: ``chapter`` if given, else the one in
    the notebook's metadata. Raises :class:`InvalidSubmission` if neither."""
    if chapter:
        return chapter
    try:
        _, found = read_submission(path)
    except InvalidSubmission:
        raise
    if not found:
        raise InvalidSubmission(
            "the chapter is unknown: the file names none in its metadata "
            "(a .py file, or a notebook not made from the book); grade it "
            "with --chapter"
        )
    return found


def grade_many(
    submissions: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    chapter: str | None = None,
    hidden_dir: str | os.PathLike | None = None,
    book: str | os.PathLike | None = None,
    workers: int | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: bool = True,
) -> list[Grade]:
    """Grade ``submissions`` in parallel; write ``OUT/grades.csv`` and, per
    submission, ``OUT/<name>/results.json`` and ``OUT/<name>/feedback.txt``.

    Without ``chapter``, each notebook is graded for the chapter in its
    metadata, so a batch may mix chapters. The gradebook has exactly one row
    per submission and is rewritten after every finished one (atomically), so
    an interrupted run keeps every row it finished.

    It is longer than the package's other functions because ``finish`` and the
    worker pool share the gradebook's rows, columns and lock; the work on one
    submission is :func:`grade_submission`.
    """
    paths = [Path(p) for p in submissions]
    if not paths:
        raise ValueError("give at least one submission to grade")
    mode = isolation()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = _folder_names(paths)
    chapters: list[str | None] = []
    early: dict[int, Grade] = {}
    for i, p in enumerate(paths):
        try:
            chapters.append(chapter_of(p, chapter))
        except InvalidSubmission as err:
            chapters.append(None)
            early[i] = Grade(names[i], "invalid", mode, str(err))
    plans: dict[str, Plan] = {}
    for c in dict.fromkeys(c for c in chapters if c):
        try:
            plans[c] = make_plan(c, hidden_dir, book)
        except ValueError:
            if chapter:  # the instructor's own --chapter is wrong: stop
                raise
            for i, ci in enumerate(chapters):
                if ci == c:
                    early[i] = Grade(
                        names[i],
                        "invalid",
                        mode,
                        f"the notebook names an unknown chapter {c!r}",
                    )
    if any(p.sample for p in plans.values()):
        print(SAMPLE_WARNING, file=sys.stderr, flush=True)
    note = privilege_note(mode)
    if note:
        print("WARNING: " + note, file=sys.stderr, flush=True)
    exercise_ids = [e.id for p in plans.values() for e in p.exercises]
    columns = [
        "submission",
        "chapter",
        "status",
        "isolation",
        "score",
        "max_score",
        "hidden_cases",
        *exercise_ids,
        "message",
    ]
    workers = workers or os.cpu_count() or 1
    rows: dict[int, dict] = {}
    grades: dict[int, Grade] = {}
    lock = threading.Lock()
    gradebook = out / "grades.csv"

    def finish(i: int, grade: Grade) -> None:
        grade.submission = names[i]
        plan = plans.get(chapters[i] or "")
        grade.plan = plan
        grade.chapter = chapters[i] or ""
        folder = out / names[i]
        folder.mkdir(exist_ok=True)
        if plan is not None:
            (folder / "results.json").write_text(
                json.dumps(results_json(grade, plan), indent=1)
            )
            (folder / "feedback.txt").write_text(feedback_text(grade, plan))
        else:
            (folder / "results.json").write_text(
                json.dumps(
                    {
                        "score": 0.0,
                        "output": f"{grade.status}: {grade.message}",
                        "tests": [],
                    },
                    indent=1,
                )
            )
            (folder / "feedback.txt").write_text(
                f"Submission: {names[i]}\nStatus: {grade.status}\nWhy: {grade.message}\n"
            )
        with lock:
            rows[i] = _row(grade, plan, exercise_ids)
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

    for i, grade in early.items():
        finish(i, grade)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            pool.submit(
                _grade_twice_if_crashed, p, plans[chapters[i]], limits=limits, mode=mode
            ): i
            for i, p in enumerate(paths)
            if i not in early
        }
        for future in as_completed(futures):
            i = futures[future]
            try:
                grade = future.result()
            except BaseException as err:  # noqa: BLE001 - a dead worker costs one row, not all
                grade = Grade(
                    names[i],
                    "crashed",
                    mode,
                    f"grader error: {type(err).__name__}: {err}",
                )
            finish(i, grade)
    if any(p.sample for p in plans.values()):
        print(SAMPLE_WARNING, file=sys.stderr, flush=True)
    return [grades[i] for i in range(len(paths))]
