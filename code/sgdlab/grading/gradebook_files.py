"""The gradebooks an instructor opens or imports into an LMS.

``grades.csv``
    One row per submission (file or student folder) ever graded into this
    folder: a second run adds its rows and replaces rows of the same name,
    it never drops the others.
``students.csv``
    One row per student and chapter: the latest submission's grade (by the
    LMS's submission or attempt number, then the file's time), the student's
    other submissions listed in ``other_submissions``.

Exercise columns follow the book's order. Both files are UTF-8 with a byte
order mark, so that a spreadsheet (Excel) opens accented names as they are.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime
from pathlib import Path

from .exercises import EXERCISES

ENCODING = "utf-8-sig"
HEAD = ["submission", "student", "chapter", "status", "isolation", "score", "max_score"]
TAIL = ["hidden_cases", "message", "submitted", "order", "file"]
STUDENT_HEAD = ["student", "chapter", "submission", "status", "score", "max_score"]


def write_gradebook(path: Path, rows: list[dict], columns: list[str]) -> None:
    """Write a CSV atomically (a temporary file, then a rename), with a BOM."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(buffer.getvalue(), encoding=ENCODING)
    os.replace(tmp, path)


def _exercise_order(ex_id: str) -> tuple:
    order = list(EXERCISES)
    return (order.index(ex_id) if ex_id in order else len(order), ex_id)


def _submitted(path: Path | None) -> str:
    if path is None:
        return ""
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


class Gradebook:
    """``grades.csv`` and ``students.csv`` of one output folder, rewritten
    after every row (callers hold a lock)."""

    def __init__(self, out: Path, plans: list) -> None:
        self.path = out / "grades.csv"
        self.students_path = out / "students.csv"
        self.rows: dict[str, dict] = {}
        self.order: dict[str, tuple] = {}  # earlier rows first, then the batch's
        self.exercises = {e.id for plan in plans for e in plan.exercises}
        if self.path.is_file():
            self._read_earlier()
        self.kept = len(self.rows)

    def _read_earlier(self) -> None:
        with self.path.open(encoding=ENCODING, newline="") as f:
            reader = csv.DictReader(f)
            if "submission" not in (reader.fieldnames or []):
                raise ValueError(
                    f"{self.path} is not a gradebook of sgdlab (no 'submission' "
                    "column); choose another --out"
                )
            known = set(HEAD + TAIL)
            self.exercises |= {c for c in reader.fieldnames if c not in known}
            for i, row in enumerate(reader):
                self.rows[row["submission"]] = row
                self.order[row["submission"]] = (0, i)

    def columns(self) -> list[str]:
        return [*HEAD, *sorted(self.exercises, key=_exercise_order), *TAIL]

    def add(self, entry, grade, index: int = 0) -> None:
        plan = grade.plan
        row = {
            "submission": entry.name,
            "student": entry.student,
            "chapter": grade.chapter,
            "status": grade.status,
            "isolation": grade.isolation,
            "score": grade.score if plan else 0,
            "max_score": plan.max_score if plan else "",
            "hidden_cases": ""
            if plan is None
            else ("SAMPLE (public)" if plan.sample else plan.hidden_source),
            "message": grade.message,
            "submitted": _submitted(entry.path),
            "order": entry.order,
            "file": str(entry.path or ""),
        }
        scores = grade.exercise_scores(plan) if plan else {}
        row.update({k: round(v, 4) for k, v in scores.items()})
        self.rows[entry.name] = row
        self.order.setdefault(entry.name, (1, index))
        rows = sorted(self.rows.values(), key=lambda r: self.order[r["submission"]])
        write_gradebook(self.path, rows, self.columns())
        self._write_students()

    def _write_students(self) -> None:
        latest: dict[tuple, list[dict]] = {}
        for row in self.rows.values():
            key = (row.get("student") or row["submission"], row.get("chapter", ""))
            latest.setdefault(key, []).append(row)
        graded_students = {s for s, c in latest if c}
        unread = {s: rows for (s, c), rows in latest.items() if not c}
        out = []
        for (student, chapter), rows in sorted(latest.items()):
            if not chapter and student in graded_students:
                continue  # listed under the student's chapters instead
            rows.sort(
                key=lambda r: (
                    int(r.get("order") or 0),
                    r.get("submitted", ""),
                    r["submission"],
                )
            )
            row = {**rows[-1], "student": student, "chapter": chapter}
            others = [r["submission"] for r in rows[:-1]]
            if chapter:
                others += [
                    f"{r['submission']} (invalid)" for r in unread.get(student, [])
                ]
            row["other_submissions"] = "; ".join(others)
            out.append(row)
        exercises = sorted(self.exercises, key=_exercise_order)
        columns = [*STUDENT_HEAD, *exercises, "other_submissions", "message"]
        write_gradebook(self.students_path, out, columns)
