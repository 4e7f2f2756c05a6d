"""Grading many submissions: one gradebook row, feedback and ``results.json``
per submission.

:func:`grade_many` grades a batch (files, folders of files, folders of
students' folders; see :mod:`sgdlab.grading.batch`) in parallel with
:func:`~sgdlab.grading.grader.grade_submission`. The feedback a student
reads and the Gradescope ``results.json`` are written here from a
:class:`~sgdlab.grading.grader.Grade`; the gradebooks (``grades.csv``, one row
per submission, and ``students.csv``, one row per student and chapter) in
:mod:`sgdlab.grading.gradebook_files`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import exercises, grader
from .batch import Entry, discover, name_students
from .exercises import CHAPTERS
from .gradebook_files import Gradebook, write_gradebook  # noqa: F401 - re-exported
from .grader import (
    DEFAULT_LIMITS,
    Grade,
    Plan,
    grade_submission,
    make_plan,
)
from .hidden import SAMPLE_WARNING, check_folder, default_hidden_dir, is_sample
from .isolation_modes import check_private, isolation, privilege_note
from .limits import Limits
from .sandbox import stop_all
from .submission import InvalidSubmission, chapter_of


def _grade_twice_if_crashed(
    path, plan: Plan, *, limits: Limits, mode: str | None, helpers=()
) -> Grade:
    """Grade ``path``; if its process crashed, grade it once more before saying so.

    A crash is the submission's fault when it repeats (``os._exit`` at top level
    crashes every time); a second run keeps a one-off failure of the machine
    from costing a student the exercise. The first crash stays in the message.
    """
    kwargs = {"limits": limits, "mode": mode}
    if helpers:
        kwargs["helpers"] = helpers
    grade = grade_submission(path, plan, **kwargs)
    if grade.status != "crashed" or grader.STOP.is_set():
        return grade
    again = grade_submission(path, plan, **kwargs)
    if again.status != "crashed":
        again.message = (
            f"{again.message} (graded a second time: the first run crashed: "
            f"{grade.message})"
        )
    return again


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
    current, hinted, hints = None, set(), []
    for exercise, number, hidden, case, _ in plan.cases:
        if exercise.id != current:
            current = exercise.id
            lines.append(
                f"{exercise.id} ({exercise.function}): "
                f"{_points(round(scores[exercise.id], 4))} / "
                f"{_points(plan.points[exercise.id])} "
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
        if not (result and result.passed) and exercise.id not in hinted:
            hinted.add(exercise.id)
            hints.append(f"hint for {exercise.id}: {by_id[exercise.id].hint}")
    return "\n".join(lines + ([""] + hints if hints else [])) + "\n"


def _case_text(exercise, case, result) -> str:
    """A public case as a student reads it on Gradescope: the call, what
    happened, and the hint when it fails."""
    what = case.describe(exercise.function)
    if result is not None and result.passed:
        return f"{what}: passed"
    detail = "not run" if result is None else result.message
    return f"{what}: {detail}\nHint: {exercise.hint}"


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
            output = _case_text(exercise, _case, result)
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


def _feedback_files(folder: Path, grade: Grade, plan: Plan | None) -> None:
    """A submission's ``results.json`` and ``feedback.txt``."""
    folder.mkdir(exist_ok=True)
    if plan is not None:
        results, feedback = results_json(grade, plan), feedback_text(grade, plan)
    else:
        results = {
            "score": 0.0,
            "output": f"{grade.status}: {grade.message}",
            "tests": [],
        }
        feedback = (
            f"Submission: {grade.submission}\nStatus: {grade.status}\n"
            f"Why: {grade.message}\n"
        )
    (folder / "results.json").write_text(json.dumps(results, indent=1))
    (folder / "feedback.txt").write_text(feedback)


class GradingInterrupted(Exception):
    """Ctrl-C: the rows finished are written; ``missing`` names the others."""

    def __init__(self, done: int, missing: list[str], gradebook: Path) -> None:
        super().__init__(
            f"interrupted: {done} submission(s) graded and written to {gradebook}; "
            f"{len(missing)} missing: {', '.join(missing[:10])}"
            + (" ..." if len(missing) > 10 else "")
        )
        self.done, self.missing = done, missing


@dataclass
class _Batch:
    """A batch ready to grade: its entries, the chapter and plan of each,
    and the rows known before any submission runs (invalid ones)."""

    entries: list[Entry]
    chapters: list[str | None]
    plans: dict[str, Plan]
    early: dict[int, Grade] = field(default_factory=dict)


def _chapter(entry: Entry, chapter: str | None) -> str:
    if entry.problem:
        raise InvalidSubmission(entry.problem)
    found = chapter_of(entry.path, chapter)
    if found not in CHAPTERS:
        raise InvalidSubmission(
            f"the notebook names an unknown chapter {found!r} in its metadata"
        )
    return found


def _prepare(entries, chapter, hidden_dir, book, mode) -> _Batch:
    """Chapters and plans; every hidden-case file is checked here, before any
    submission runs (a wrong one stops the run: nothing is written)."""
    hidden_dir = Path(hidden_dir) if hidden_dir else default_hidden_dir()
    if chapter and chapter not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}; choose one of {list(CHAPTERS)}")
    batch = _Batch(entries, [], {})
    for i, entry in enumerate(entries):
        try:
            batch.chapters.append(_chapter(entry, chapter))
        except InvalidSubmission as err:
            batch.chapters.append(None)
            batch.early[i] = Grade(entry.name, "invalid", mode, str(err))
    needed = set(filter(None, batch.chapters))
    book_dir_ = Path(book) if book else exercises.book_dir()
    check_private(
        mode,
        [book_dir_ / f"{c}.md" for c in needed]
        + [hidden_dir / f"{c}.json" for c in needed if not is_sample(hidden_dir)],
    )
    for c in [*check_folder(hidden_dir), *sorted(needed)]:
        if c not in batch.plans:
            batch.plans[c] = make_plan(c, hidden_dir, book)
    for c in list(batch.plans):
        if c not in needed:
            del batch.plans[c]
    return batch


def _warn(plans: dict[str, Plan], mode: str) -> None:
    if any(p.sample for p in plans.values()):
        print(SAMPLE_WARNING, file=sys.stderr, flush=True)
    note = privilege_note(mode)
    if note:
        print("WARNING: " + note, file=sys.stderr, flush=True)


def _progress(done: int, total: int, name: str, status: str) -> None:
    bar = "#" * (30 * done // total)
    line = f"[{bar:<30}] {done}/{total} {name[:30]:<30} {status}"
    if sys.stderr.isatty():  # one line redrawn in place
        end = "" if done < total else "\n"
        print("\r" + line, end=end, file=sys.stderr, flush=True)
    else:  # logs: one line per submission
        print(line, file=sys.stderr, flush=True)


def _finish(batch: _Batch, book: Gradebook, out: Path, i: int, grade: Grade) -> None:
    """Record one finished submission: its files and its gradebook row."""
    entry = batch.entries[i]
    grade.submission = entry.name
    grade.plan = batch.plans.get(batch.chapters[i] or "")
    grade.chapter = batch.chapters[i] or ""
    _feedback_files(out / entry.name, grade, grade.plan)
    book.add(entry, grade, i)


def _pool(batch, book, out, *, workers, limits, mode, progress) -> list[Grade]:
    """Grade what is left of the batch, ``workers`` at a time; Ctrl-C stops
    every sandbox, keeps the rows finished and raises :class:`GradingInterrupted`."""
    grades: dict[int, Grade] = {}
    lock = threading.Lock()
    total = len(batch.entries)

    def done(i: int, grade: Grade) -> None:
        with lock:
            _finish(batch, book, out, i, grade)
            grades[i] = grade
            if progress:
                _progress(len(grades), total, batch.entries[i].name, grade.status)

    for i, grade in batch.early.items():
        done(i, grade)
    grader.STOP.clear()
    pool = ThreadPoolExecutor(max_workers=workers)
    futures = {
        pool.submit(
            _grade_twice_if_crashed,
            batch.entries[i].path,
            batch.plans[batch.chapters[i]],
            limits=limits,
            mode=mode,
            helpers=batch.entries[i].helpers,
        ): i
        for i in range(total)
        if i not in batch.early
    }
    try:
        for future in as_completed(futures):
            done(
                futures[future], _outcome(future, batch.entries[futures[future]], mode)
            )
    except KeyboardInterrupt:
        _stop(pool, futures)
        missing = [e.name for i, e in enumerate(batch.entries) if i not in grades]
        raise GradingInterrupted(len(grades), missing, book.path) from None
    pool.shutdown()
    return [grades[i] for i in range(total)]


def _outcome(future, entry: Entry, mode: str) -> Grade:
    try:
        return future.result()
    except BaseException as err:  # noqa: BLE001 - a dead worker costs one row, not all
        return Grade(
            entry.name, "crashed", mode, f"grader error: {type(err).__name__}: {err}"
        )


def _stop(pool: ThreadPoolExecutor, futures: dict) -> None:
    """Stop every grade in progress and kill its sandbox; wait for the workers."""
    grader.STOP.set()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        stop_all()
        # (a future cancelled by shutdown is done but never "notified": wait()
        # would count it as running)
        if all(f.done() for f in futures):
            break
        time.sleep(0.1)
    grader.STOP.clear()


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
    single: bool = False,
    student_pattern: str | None = None,
) -> list[Grade]:
    """Grade ``submissions`` (files, or folders: see :func:`~sgdlab.grading.batch.discover`)
    in parallel; write ``OUT/grades.csv``, ``OUT/students.csv`` and, per
    submission, ``OUT/<name>/results.json`` and ``OUT/<name>/feedback.txt``.

    Without ``chapter``, each notebook is graded for the chapter in its
    metadata, so a batch may mix chapters. Every hidden-case file is checked
    before anything runs or is written. The gradebook has exactly one row per
    submission; rows of an earlier run into the same ``out`` are kept (a row
    of the same name is replaced). It is rewritten after every finished
    submission (atomically), so an interrupted run keeps every row it finished.
    """
    entries = discover([Path(p) for p in submissions], single=single)
    if not entries:
        raise ValueError("give at least one submission to grade")
    name_students(entries, student_pattern)
    mode = isolation()
    batch = _prepare(entries, chapter, hidden_dir, book, mode)
    _warn(batch.plans, mode)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the gradebook")
    out.mkdir(parents=True, exist_ok=True)
    gradebook = Gradebook(out, list(batch.plans.values()))
    grades = _pool(
        batch,
        gradebook,
        out,
        workers=workers or os.cpu_count() or 1,
        limits=limits,
        mode=mode,
        progress=progress,
    )
    if any(p.sample for p in batch.plans.values()):
        print(SAMPLE_WARNING, file=sys.stderr, flush=True)
    return grades
