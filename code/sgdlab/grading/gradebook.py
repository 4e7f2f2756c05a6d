"""Grading many submissions: one gradebook row, feedback and ``results.json``
per submission.

:func:`grade_many` grades a folder's worth of submissions in parallel with
:func:`~sgdlab.grading.grader.grade_submission` and writes the gradebook; the
feedback a student reads and the Gradescope ``results.json`` are written
here from a :class:`~sgdlab.grading.grader.Grade`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from .grader import DEFAULT_LIMITS, Grade, Plan, grade_submission, make_plan
from .hidden import SAMPLE_WARNING
from .isolation_modes import isolation, privilege_note
from .sandbox import Limits
from .submission import InvalidSubmission, chapter_of


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
