"""How fast the autograder grades a class, printed as figures.

Usage (from the repository root, with the requirements installed)::

    python benchmarks/grading.py [N]

Grades N (default 100) submissions of the chapter ``landscape``: copies of
the instructor notebook, the blank student notebook and a few hostile ones
(a syntax error, an infinite loop on a hidden case, ``os._exit``), with one
worker per core, in the sandbox this machine supports
(``SGDLAB_SANDBOX=rlimits`` measures reduced isolation). Prints the total
time, the time per submission, and the per-submission overhead: the time to
start a sandbox and run an empty notebook (median of 11).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from sgdlab import notebooks
from sgdlab.grading import gradebook, grader, isolation_modes, sandbox

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = ROOT / "grading" / "hidden-sample"


def _notebook(path: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["sgdlab"] = {"chapter": "landscape"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path.write_text(nbformat.writes(nb))
    return path


def main(n: int) -> None:
    mode = isolation_modes.isolation()
    print(f"{os.cpu_count()} cores, sandbox: {mode}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        generated = notebooks.write_all(tmp / "nb")
        teacher = next(p for p in generated if p.name == "landscape-instructor.ipynb")
        student = next(p for p in generated if p.name == "landscape-student.ipynb")
        hostile = [
            _notebook(tmp / "syntax.ipynb", ["def f(:\n  pass"]),
            _notebook(tmp / "exit.ipynb", ["import os\nos._exit(1)"]),
        ]
        subs = []
        for i in range(n):
            source = [teacher, student, *hostile][i % 4] if i % 10 < 4 else teacher
            subs.append(shutil.copy(source, tmp / f"student{i:03d}.ipynb"))

        empty = _notebook(tmp / "empty-cells.ipynb", ["pass"])
        plan = grader.make_plan("landscape", HIDDEN)
        overhead = []
        for _ in range(11):
            start = time.perf_counter()
            with sandbox.Session(["pass"], mode=mode) as session:
                while session.receive(10, "cells").get("event") != "ready":
                    pass
            overhead.append(time.perf_counter() - start)
        one = []
        for _ in range(5):
            start = time.perf_counter()
            grader.grade_submission(teacher, plan, mode=mode)
            one.append(time.perf_counter() - start)
        del empty

        start = time.perf_counter()
        grades = gradebook.grade_many(
            subs, tmp / "out", chapter="landscape", hidden_dir=HIDDEN, progress=False
        )
        total = time.perf_counter() - start
    statuses = {s: sum(g.status == s for g in grades) for s in grader.STATUSES}
    print(
        f"sandbox start + empty notebook: {statistics.median(overhead) * 1e3:.0f} ms "
        "(median of 11)"
    )
    print(
        f"one instructor notebook, {len(plan.cases)} cases, alone: "
        f"{statistics.median(one) * 1e3:.0f} ms (median of 5)"
    )
    print(
        f"{n} submissions: {total:.1f} s in all, {total / n * 1e3:.0f} ms each "
        f"(target: 100 in 120 s); {statuses}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
