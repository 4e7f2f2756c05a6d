"""Gradescope and GitHub Classroom: the zip an instructor uploads, and the
result GitHub Classroom's autograding reporter reads.

Gradescope runs ``setup.sh`` once when it builds the image and
``run_autograder`` for every submission, with the zip's files in
``/autograder/source``, the submission in ``/autograder/submission`` and the
result expected in ``/autograder/results/results.json``. Our
``run_autograder`` takes that root from ``$AUTOGRADER_ROOT`` (default
``/autograder``), so that it can be tried on a folder laid out the same way.
"""

from __future__ import annotations

import base64
import json
import os
import zipfile
from pathlib import Path

from .exercises import CHAPTERS, REPO, book_dir, chapter_exercises
from .hidden import is_sample, load_hidden

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euxo pipefail
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv bubblewrap
python3.11 -m venv /autograder/venv
cd /autograder/source
# PyTorch's CPU index: without it pip pulls several GB of CUDA packages.
/autograder/venv/bin/python -m pip install -r requirements.txt \
    --extra-index-url https://download.pytorch.org/whl/cpu
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. AUTOGRADER_ROOT (default
# /autograder) is the folder laid out as Gradescope does: source/ (this zip),
# submission/ (the student's files) and results/ (results.json goes there).
set -uo pipefail
ROOT=${{AUTOGRADER_ROOT:-/autograder}}
PYTHON=${{SGDLAB_PYTHON:-$ROOT/venv/bin/python}}
mkdir -p "$ROOT/results"
# The hidden cases, the reference solutions and the package's source are for
# the grader only: a submission runs under a user id of its own, which must not
# read them (it imports a grading copy of the package).
chmod -R go-rwx "$ROOT/source"
"$PYTHON" -m sgdlab grade "$ROOT/submission" --chapter {chapter} \\
    --hidden "$ROOT/source/hidden" --book "$ROOT/source/book" \\
    --out "$ROOT/graded" --results "$ROOT/results/results.json" --quiet \
    --preset gradescope
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  printf '{{"score": 0, "tests": [], "output": "%s"}}\\n' \\
    "The autograder failed (exit status $status); please tell your instructor." \\
    > "$ROOT/results/results.json"
fi
exit 0
"""

PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "requirements.txt")


def gradescope_zip(
    chapter: str,
    hidden: str | os.PathLike,
    out: str | os.PathLike,
    book: str | os.PathLike | None = None,
) -> Path:
    """Write the autograder zip of ``chapter`` with the hidden cases of ``hidden``."""
    if chapter not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}; choose one of {list(CHAPTERS)}")
    chapter_exercises(chapter)
    load_hidden(chapter, hidden)  # a wrong file fails here, not on Gradescope
    if is_sample(hidden):
        raise ValueError(
            f"{hidden} is the repository's PUBLIC sample of hidden cases, which "
            "every student can read; pass a folder of cases of your own"
        )
    book = Path(book or book_dir())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:

        def add(path: Path, name: str, mode: int = 0o644) -> None:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())

        def text(content: str, name: str, mode: int = 0o755) -> None:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)

        text(SETUP_SH, "setup.sh")
        text(RUN_AUTOGRADER.format(chapter=chapter), "run_autograder")
        for name in PACKAGE_FILES:
            add(REPO / name, name)
        for path in sorted((REPO / "code" / "sgdlab").rglob("*")):
            if (
                path.is_file()
                and "__pycache__" not in path.parts
                and path.suffix != ".pyc"
            ):
                add(path, str(path.relative_to(REPO)))
        add(book / f"{chapter}.md", f"book/{chapter}.md")
        add(Path(hidden) / f"{chapter}.json", f"hidden/{chapter}.json")
    return out


def single_results(grades, out: str | os.PathLike) -> dict:
    """Gradescope's ``results.json`` for a run that graded one submission."""
    if len(grades) == 1:
        return json.loads(
            (Path(out) / grades[0].submission / "results.json").read_text()
        )
    names = ", ".join(g.submission for g in grades) or "none"
    why = f"Submit exactly one notebook (.ipynb) or .py file; found {names}."
    return {"score": 0.0, "tests": [], "output": why}


def classroom_result(grades) -> dict:
    """The result in the form GitHub Classroom's autograding reporter reads
    (``education/autograding-grading-reporter``): one test per exercise,
    worth its points, scored with partial credit."""
    tests, max_score = [], 0.0
    for grade in grades:
        plan = grade.plan
        if plan is None:
            tests.append(
                {
                    "name": grade.submission,
                    "status": "error",
                    "score": 0,
                    "message": f"{grade.status}: {grade.message}",
                    "line_no": 0,
                    "execution_time": f"{grade.seconds:.1f}s",
                }
            )
            continue
        scores = grade.exercise_scores(plan)
        for ex in plan.exercises:
            max_score += plan.points[ex.id]
            full = scores[ex.id] >= plan.points[ex.id]
            tests.append(
                {
                    "name": f"{grade.submission}: {ex.id}",
                    "status": "pass" if full and grade.status == "graded" else "fail",
                    "score": scores[ex.id],
                    "message": f"{scores[ex.id]:g} of {plan.points[ex.id]:g} points"
                    + (
                        ""
                        if grade.status == "graded"
                        else f" ({grade.status}: {grade.message})"
                    ),
                    "line_no": 0,
                    "execution_time": f"{grade.seconds:.1f}s",
                }
            )
    status = "pass" if tests and all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": 1, "status": status, "max_score": max_score, "tests": tests}


def classroom_report(grades) -> str:
    """``Points X/Y``, as Classroom shows it; also writes ``result=<base64 JSON>``
    to ``$GITHUB_OUTPUT`` when run in GitHub Actions."""
    result = classroom_result(grades)
    total = sum(t["score"] for t in result["tests"])
    encoded = base64.b64encode(json.dumps(result).encode()).decode()
    output = os.environ.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a") as f:
            f.write(f"result={encoded}\n")
    return f"Points {total:g}/{result['max_score']:g}"
