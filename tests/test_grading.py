"""The autograder, end to end: real notebooks, the real bubblewrap sandbox,
and a suite of hostile submissions."""

from __future__ import annotations

import csv
import json
import os
import socket
import threading
from pathlib import Path

import nbformat
import pytest
from sgdlab.grading import EXERCISES, check, exercises, grader, notebooks, sandbox
from sgdlab.grading.cli import main as cli_main
from sgdlab.grading.values import compare, encode

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted({e.chapter for e in EXERCISES.values()})
HIDDEN = ROOT / "grading" / "hidden-sample"
CI = bool(os.environ.get("CI"))

MODES = [sandbox.BWRAP, sandbox.REDUCED]


def _mode_or_skip(mode):
    if mode == sandbox.BWRAP and not sandbox.bwrap_works():
        if CI:
            pytest.fail("bubblewrap must work in CI (.ci/run installs it)")
        pytest.skip("bubblewrap is not available here")
    return mode


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("notebooks")
    notebooks.write_all(out)
    return out


def _notebook(path: Path, cells: list[str], chapter: str = "landscape") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["sgdlab"] = {"chapter": chapter}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path.write_text(nbformat.writes(nb))
    return path


SOLUTION = """
import numpy as np

def classify_hessian(hessian):
    ev = np.linalg.eigvalsh(np.asarray(hessian, dtype=float))
    pos, neg = ev > 1e-8, ev < -1e-8
    if pos.any() and neg.any():
        return "saddle"
    if pos.all():
        return "minimum"
    if neg.all():
        return "maximum"
    return "inconclusive"
"""


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_instructor_scores_full_marks_and_student_zero(generated, tmp_path, chapter):
    subs = [generated / f"{chapter}-instructor.ipynb", generated / f"{chapter}-student.ipynb"]
    grades = grader.grade_many(subs, tmp_path, chapter=chapter, hidden_dir=HIDDEN, progress=False)
    teacher, student = grades
    plan = grader.make_plan(chapter, HIDDEN)
    assert plan.max_score > len(plan.exercises)  # public and hidden cases
    assert (teacher.status, teacher.score) == ("graded", plan.max_score), teacher.cases
    assert (student.status, student.score) == ("graded", 0)
    assert all("NotImplementedError" in c.message for c in student.cases)
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert [r["submission"] for r in rows] == [s.name for s in subs]
    assert rows[0]["score"] == rows[0]["max_score"] == str(plan.max_score)
    for sub in subs:
        result = json.loads((tmp_path / sub.name / "results.json").read_text())
        assert {"score", "tests", "output", "execution_time"} <= set(result)
        assert all(
            {"name", "score", "max_score", "output", "visibility"} <= set(t)
            for t in result["tests"]
        )


def test_notebooks_come_from_the_chapters(generated):
    for chapter in CHAPTERS:
        student = nbformat.read(generated / f"{chapter}-student.ipynb", 4)
        teacher = nbformat.read(generated / f"{chapter}-instructor.ipynb", 4)
        assert student.metadata.sgdlab.chapter == chapter == teacher.metadata.sgdlab.chapter
        text = (ROOT / "book" / f"{chapter}.md").read_text()
        for exercise in exercises.chapter_exercises(chapter):
            _, solution, _ = notebooks.exercise_parts(text, exercise)
            assert any(c.source.strip() == solution.strip() for c in teacher.cells)
            stubs = [c.source for c in student.cells if f"def {exercise.function}(" in c.source]
            assert stubs and "NotImplementedError" in stubs[0]
            assert solution.strip().splitlines()[-1].strip() not in stubs[0]


def test_stub_keeps_signature_docstring_and_imports():
    source = 'import math\n\nX = 3\n\ndef f(a, b=2):\n    """Doc."""\n    return a + b\n'
    stub = notebooks.student_stub(source, "f")
    assert stub.startswith("import math\n")
    assert 'def f(a, b=2):\n    """Doc."""\n    raise NotImplementedError' in stub
    assert "X = 3" not in stub and "return a + b" not in stub


# --------------------------------------------------------------------------
# Hostile submissions
# --------------------------------------------------------------------------
def _hostile(tmp: Path, server_port: int) -> dict[str, tuple[Path, str, object]]:
    """name -> (file, expected status, expected score or a check on the grade)."""
    hidden_file = HIDDEN / "landscape.json"
    gradebook = tmp / "out" / "grades.csv"
    cases: dict[str, tuple[Path, str, object]] = {}

    def nb(name, cells, status, score, chapter="landscape"):
        cases[name] = (_notebook(tmp / f"{name}.ipynb", cells, chapter), status, score)

    (tmp / "malformed.ipynb").write_text('{"cells": [')
    cases["malformed"] = (tmp / "malformed.ipynb", "invalid", 0)
    (tmp / "empty.ipynb").write_text("")
    cases["empty"] = (tmp / "empty.ipynb", "invalid", 0)
    (tmp / "picture.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    cases["binary"] = (tmp / "picture.ipynb", "invalid", 0)
    (tmp / "list.ipynb").write_text("[1, 2, 3]")
    cases["json-not-notebook"] = (tmp / "list.ipynb", "invalid", 0)
    (tmp / "essay.docx").write_text("my answer")
    cases["wrong-extension"] = (tmp / "essay.docx", "invalid", 0)
    nb("other-chapter", [SOLUTION], "invalid", 0, chapter="epoch-rmse")
    nb("syntax-error", [SOLUTION, "def broken(:\n    pass"], "graded", 8)
    nb("syntax-only", ["x = 1\nif x\n  y = 2"], "graded", 0)
    nb("loop-top-level", [SOLUTION, "while True:\n    pass"], "timeout", 0)
    loop = "    if len(hessian) == 3:\n        while True:\n            pass\n    ev = "
    nb("loop-on-hidden", [SOLUTION.replace("    ev = ", loop)],
       "graded", 7)  # fmt: skip
    nb("exit-top-level", ["import os\nos._exit(3)"], "crashed", 0)
    nb("exit-in-call", [SOLUTION.replace(
        "    ev = ", "    if len(hessian) == 3:\n        import os; os._exit(0)\n    ev = ")],
       "graded", 7)  # fmt: skip
    nb("huge-output", [SOLUTION, 'print("x" * 300_000_000)'], "graded", 8)
    nb("missing-function", ["def classify(h):\n    return 'minimum'"], "graded", 0)
    nb("wrong-type", ["def classify_hessian(h):\n    return {1, 2}"], "graded", 0)
    nb("wrong-shape", ["def classify_hessian(h):\n    return [1.0, 2.0]"], "graded", 0)
    nb("raises", ["def classify_hessian(h):\n    raise RuntimeError('no')"], "graded", 0)
    nb("patch-checker", [
        "import sgdlab.grading.values as v, sgdlab.grading as g\n"
        "v.compare = lambda *a, **k: None\ng.check = lambda *a, **k: None\n"
        "def classify_hessian(h):\n    return 'minimum'"], "graded", 2)  # fmt: skip
    # Reads and sockets: a correct solution that answers wrongly whenever it
    # can see what it should not, so only a sealed sandbox gets full marks.
    spy = SOLUTION.replace(
        "    ev = ",
        f"""    for path in ({str(hidden_file)!r}, {str(gradebook)!r},
                 {str(ROOT / "book" / "landscape.md")!r}, {str(tmp / "syntax-error.ipynb")!r}):
        try:
            open(path).read()
            return "I read " + path
        except OSError:
            pass
    import socket
    try:
        socket.create_connection(("127.0.0.1", {server_port}), timeout=1).close()
        return "I reached the network"
    except OSError:
        pass
    import os
    if set(os.environ) - {{"PATH", "HOME", "TMPDIR", "PYTHONHASHSEED", "OMP_NUM_THREADS",
                          "MPLBACKEND", "PYTHONDONTWRITEBYTECODE", "LC_CTYPE", "PWD"}}:
        return "I saw the environment: " + " ".join(sorted(os.environ))
    ev = """,
    )
    nb("spy", [spy], "graded", 8)
    (tmp / "script.py").write_text(SOLUTION)
    cases["python-file"] = (tmp / "script.py", "graded", 8)
    return cases


@pytest.fixture
def server():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    stop = threading.Event()

    def accept():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                conn.close()
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join()
    sock.close()


def test_hostile_submissions_are_graded_as_expected(tmp_path, server, monkeypatch):
    _mode_or_skip(sandbox.BWRAP)
    monkeypatch.setenv("SGDLAB_SANDBOX", "bwrap")
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    cases = _hostile(tmp_path, server)
    limits = sandbox.Limits(cell_seconds=4, call_seconds=2, total_seconds=40)
    out = tmp_path / "out"
    grades = grader.grade_many(
        [c[0] for c in cases.values()],
        out,
        chapter="landscape",
        hidden_dir=HIDDEN,
        limits=limits,
        progress=False,
    )
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == len(cases)
    for (name, (_, status, score)), grade in zip(cases.items(), grades, strict=True):
        detail = (grade.message, grade.cell_errors, [c.message for c in grade.cases])
        assert grade.status == status, (name, detail)
        assert grade.score == score, (name, detail)
        assert grade.isolation == "bubblewrap"
        assert grade.message, name
    by = dict(zip(cases, grades, strict=True))
    assert "cell 2, line 1" in " ".join(by["syntax-error"].cell_errors)
    assert "line 2" in " ".join(by["syntax-only"].cell_errors)
    assert "cell 2" in by["loop-top-level"].message
    assert "timed out" in " ".join(c.message for c in by["loop-on-hidden"].cases)
    assert "cut at" in " ".join(by["huge-output"].cell_errors)
    assert "no function named 'classify_hessian'" in by["missing-function"].cases[0].message
    assert "type set" in by["wrong-type"].cases[0].message
    assert "expected" in by["wrong-shape"].cases[0].message
    assert "another" in by["other-chapter"].message or "for chapter" in by["other-chapter"].message
    assert "JSON" in by["malformed"].message and "empty" in by["empty"].message
    # Feedback never shows a hidden case's inputs.
    feedback = (out / "loop-on-hidden.ipynb" / "feedback.txt").read_text()
    assert "[[4.0, 1.0, 0.0]" not in feedback and "hidden case 2" in feedback
    assert "[[2.0, 0.0], [0.0, 3.0]]" in feedback or "PASS" in feedback


def test_reduced_isolation_still_limits_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("SGDLAB_SANDBOX", "rlimits")
    subs = [
        _notebook(tmp_path / "ok.ipynb", [SOLUTION]),
        _notebook(tmp_path / "loop.ipynb", ["while True: pass"]),
        _notebook(tmp_path / "exit.ipynb", ["import os; os._exit(1)"]),
        _notebook(tmp_path / "hog.ipynb", ["x = bytearray(8 * 1024**3)"]),
    ]
    limits = sandbox.Limits(cell_seconds=3, call_seconds=2, total_seconds=30)
    grades = grader.grade_many(
        subs,
        tmp_path / "out",
        chapter="landscape",
        hidden_dir=HIDDEN,
        limits=limits,
        progress=False,
    )
    assert [g.status for g in grades] == ["graded", "timeout", "crashed", "graded"]
    assert grades[0].score == 8
    assert "MemoryError" in " ".join(grades[3].cell_errors)
    rows = list(csv.DictReader((tmp_path / "out" / "grades.csv").open()))
    assert {r["isolation"] for r in rows} == {"reduced isolation"}


def test_graded_runs_repeat(tmp_path):
    cells = [
        "import random, numpy as np\nA = random.random() + np.random.rand()",
        "def classify_hessian(h):\n    return 'minimum' if A > 0 else 'saddle'",
    ]
    sub = _notebook(tmp_path / "seeded.ipynb", cells)
    plan = grader.make_plan("landscape", HIDDEN)
    with sandbox.Session(cells) as s:
        while s.receive(10, "cells").get("event") != "ready":
            pass
        first = s.call("classify_hessian", [[[1.0]]])
    assert first == {"value": "minimum"}
    a = grader.grade_submission(sub, plan)
    b = grader.grade_submission(sub, plan)
    assert [c.passed for c in a.cases] == [c.passed for c in b.cases]


def test_gradebook_is_written_atomically(tmp_path, monkeypatch):
    book = tmp_path / "grades.csv"
    grader.write_gradebook(book, [{"submission": "a", "score": 1}], ["submission", "score"])
    before = book.read_text()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        grader.write_gradebook(book, [{"submission": "b", "score": 2}], ["submission", "score"])
    assert book.read_text() == before


def test_cli_console_script_and_module(tmp_path, generated):
    sub = generated / "sgd-and-schedules-instructor.ipynb"
    assert (
        cli_main(
            [
                "grade",
                str(sub),
                "--chapter",
                "sgd-and-schedules",
                "--out",
                str(tmp_path / "a"),
                "--quiet",
            ]
        )
        == 0
    )
    rows = list(csv.DictReader((tmp_path / "a" / "grades.csv").open()))
    assert rows[0]["status"] == "graded" and rows[0]["score"] == rows[0]["max_score"]
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "sgdlab", "grade", str(sub), "--chapter",
                           "nonexistent", "--out", str(tmp_path / "b")],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2 and "no graded exercises" in proc.stderr
    console = Path(sys.executable).with_name("sgdlab")
    proc = subprocess.run([str(console), "grade", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--hidden" in proc.stdout


def test_hidden_cases_load_from_the_instructors_path(tmp_path):
    (tmp_path / "landscape.json").write_text(json.dumps(
        {"ch5-classify-hessian": [{"args": [[[5.0]]]}]}))  # fmt: skip
    plan = grader.make_plan("landscape", tmp_path)
    assert sum(hidden for _, _, hidden, _, _ in plan.cases) == 1
    with pytest.raises(FileNotFoundError, match="landscape.json"):
        exercises.load_hidden("landscape", tmp_path / "nowhere")
    (tmp_path / "landscape.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        exercises.load_hidden("landscape", tmp_path)
    (tmp_path / "landscape.json").write_text('{"ch1-optimizer-steps": []}')
    with pytest.raises(ValueError, match="exercise ids"):
        exercises.load_hidden("landscape", tmp_path)


def test_check_gives_feedback_in_process():
    def wrong(n_rows, batch_size, epochs, accumulation_steps=1):
        return epochs * (n_rows // batch_size)

    result = check("ch1-optimizer-steps", wrong)
    assert not result.all_passed and result.passed < result.total
    assert "expected 16" in str(result) and "Hint" in str(result)
    good = check("ch5-step-decay", lambda step, every, factor=0.5: factor ** (step // every))
    assert good.all_passed and "all 3 public cases pass" in str(good)
    with pytest.raises(ValueError, match="unknown exercise"):
        check("nope", wrong)
    with pytest.raises(ValueError, match="pass your function"):
        check("ch5-step-decay", 3)


def test_values_round_trip_and_compare():
    import numpy as np
    import torch

    assert encode(np.arange(3.0)) == [0.0, 1.0, 2.0]
    assert encode(torch.tensor([[1, 2]])) == [[1, 2]]
    assert encode(float("nan")) == {"float": "nan"}
    assert compare({"float": "nan"}, {"float": "nan"}) is None
    assert compare(1.0, 1.0 + 1e-9) is None
    assert "expected 1" in compare(1.0, 1.1)
    assert "shape" in compare([1.0, 2.0], [1.0])
    assert "expected a number" in compare(1.0, "1.0")
    assert compare("saddle", "minimum") is not None
    with pytest.raises(TypeError, match="set"):
        encode({1, 2})
