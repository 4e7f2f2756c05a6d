"""The grader on an instructor's batch (issue 26): each test first reproduced a
way a real class lost work or got wrong grades, and holds the fix.

A batch here is what an LMS export looks like: Canvas-named files, Moodle and
Gradescope folders per student, a typo'd hidden-case file, a looping exercise
beside a correct one, a bubblewrap without ``--size``, Ctrl-C mid-run."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from sgdlab.grading import gradebook, grader, isolation_modes
from sgdlab.grading.batch import discover, name_students
from sgdlab.grading.cli import main as cli_main
from sgdlab.grading.hidden import HiddenCaseError, check_folder
from sgdlab.grading.limits import PRESETS, Limits
from sgdlab.grading.submission import read_submission

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = ROOT / "grading" / "hidden-sample"
FAST = Limits(cell_seconds=8, call_seconds=2, cells_seconds=40)
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "code")}

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

def max_stable_lr(hessian):
    h = np.asarray(hessian, dtype=float)
    return float(2 / np.linalg.eigvalsh((h + h.T) / 2).max())
"""


def _notebook(path: Path, cells: list[str], chapter: str | None = "landscape") -> Path:
    nb = nbformat.v4.new_notebook()
    if chapter:
        nb.metadata["sgdlab"] = {"chapter": chapter}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb))
    return path


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _hidden(tmp_path: Path) -> Path:
    folder = tmp_path / "hidden"
    shutil.copytree(HIDDEN, folder)
    return folder


# --------------------------------------------------------------------------
# 1. A typo in a hidden-case file stops the run, names file, line and field
# --------------------------------------------------------------------------
TYPOS = {
    "bad JSON": (
        lambda t: t.replace('"ch5-max-stable-lr": [', '"ch5-max-stable-lr": [,', 1),
        "not valid JSON",
    ),
    "misspelled id": (
        lambda t: t.replace('"ch5-classify-hessian"', '"ch5-clasify-hessian"', 1),
        "did you mean 'ch5-classify-hessian'",
    ),
    "negative points": (
        lambda t: (
            t.replace(
                '"ch5-max-stable-lr": [',
                '"ch5-max-stable-lr": {"points": -1, "cases": [',
                1,
            )
            .rstrip()[:-1]
            .rstrip()
            + "}\n}\n"
        ),
        '"points" of ch5-max-stable-lr must be a number >= 0',
    ),
    "non-square matrix": (
        lambda t: t.replace(
            '"ch5-classify-hessian": [',
            '"ch5-classify-hessian": [\n{"args": [[[1.0, 2.0]]]},',
            1,
        ),
        "hidden case 1 of ch5-classify-hessian: args[0] is a non-square matrix",
    ),
    "wrong number of arguments": (
        lambda t: t.replace(
            '"ch5-max-stable-lr": [',
            '"ch5-max-stable-lr": [\n{"args": [[[1.0]], 2]},',
            1,
        ),
        "hidden case 1 of ch5-max-stable-lr: the reference solution cannot take it",
    ),
    "unedited template": (
        lambda t: t.replace(
            '"ch5-classify-hessian": [',
            '"ch5-classify-hessian": [\n{"args": [[[2.0, 0.0], [0.0, 3.0]]]},',
            1,
        ),
        "is public case",
    ),
}


@pytest.mark.parametrize("typo", sorted(TYPOS))
def test_a_typo_in_a_hidden_file_stops_before_anything_runs(tmp_path, typo, capsys):
    edit, said = TYPOS[typo]
    hidden = _hidden(tmp_path)
    path = hidden / "landscape.json"
    path.write_text(edit(path.read_text()))
    sub = _notebook(tmp_path / "alice.ipynb", [SOLUTION])
    out = tmp_path / "out"
    code = cli_main(
        ["grade", str(sub), "--out", str(out), "--hidden", str(hidden), "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert str(path) in err and said in err, err
    assert ", line " in err
    assert not out.exists()  # nothing written


def test_the_typo_line_is_the_line_of_the_field(tmp_path):
    hidden = _hidden(tmp_path)
    path = hidden / "landscape.json"
    text = path.read_text().replace(
        '"ch5-classify-hessian"', '"ch5-clasify-hessian"', 1
    )
    path.write_text(text)
    with pytest.raises(HiddenCaseError) as info:
        check_folder(hidden)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "clasify" in s)
    assert info.value.line == line


def test_a_misnamed_hidden_file_is_an_error(tmp_path):
    hidden = _hidden(tmp_path)
    (hidden / "landscape.json").rename(hidden / "landscpe.json")
    with pytest.raises(HiddenCaseError, match="did you mean landscape.json"):
        check_folder(hidden)


# --------------------------------------------------------------------------
# 2. Ctrl-C stops promptly and keeps the rows finished
# --------------------------------------------------------------------------
def test_ctrl_c_stops_promptly_and_keeps_finished_rows(tmp_path):
    batch = tmp_path / "batch"
    for i in range(2):
        _notebook(batch / f"a{i}-fast.ipynb", [SOLUTION])
    for i in range(4):
        _notebook(batch / f"b{i}-slow.ipynb", [SOLUTION, "import time\ntime.sleep(60)"])
    out = tmp_path / "out"
    before = set(Path("/tmp").glob("sgdlab-*"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sgdlab",
            "grade",
            str(batch),
            "--out",
            str(out),
            "--hidden",
            str(HIDDEN),
            "--workers",
            "2",
            "--cell-timeout",
            "90",
            "--cells-timeout",
            "120",
        ],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (out / "grades.csv").is_file() and len(_rows(out / "grades.csv")) >= 2:
            break
        time.sleep(0.2)
    time.sleep(1.0)  # two slow ones are now in their sandboxes
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 10, "Ctrl-C did not stop the run promptly"
    assert proc.returncode == 130, err
    rows = _rows(out / "grades.csv")
    assert sorted(r["submission"] for r in rows) == ["a0-fast.ipynb", "a1-fast.ipynb"]
    assert all(r["status"] == "graded" for r in rows)
    assert "4 missing" in err, err
    assert "Traceback" not in err
    # Nothing of the run is left lying in /tmp.
    assert not (set(Path("/tmp").glob("sgdlab-*")) - before)


# --------------------------------------------------------------------------
# 3. A looping exercise costs only its looping cases; the cells run once
# --------------------------------------------------------------------------
def test_a_looping_exercise_does_not_zero_a_correct_one(tmp_path):
    loop = "    if len(hessian) == 3:\n        while True:\n            pass\n    ev = "
    training = "import time\ntime.sleep(3)  # ordinary training\n"
    sub = _notebook(
        tmp_path / "loops.ipynb", [training, SOLUTION.replace("    ev = ", loop, 1)]
    )
    plan = grader.make_plan("landscape", HIDDEN)
    grade = grader.grade_submission(sub, plan, limits=FAST)
    assert grade.status == "graded", grade.message
    assert grade.starts == 1  # the cells ran once
    looped = [c for c in grade.cases if "timed out" in c.message]
    n3 = sum(
        len(case.args[0]) == 3
        for ex, _, _, case, _ in plan.cases
        if ex.id == "ch5-classify-hessian"
    )
    assert len(looped) == n3 >= 1
    passed = {
        ex: sum(c.passed for c in grade.cases if c.exercise == ex) for ex in plan.counts
    }
    assert passed["ch5-max-stable-lr"] == plan.counts["ch5-max-stable-lr"]
    assert passed["ch5-classify-hessian"] == plan.counts["ch5-classify-hessian"] - n3
    # Each looping case costs about its own 2 s, not a re-run of the cells.
    assert grade.seconds < 3 + n3 * (2 + 1.5) + 10


def test_a_cap_broken_in_an_ungraded_cell_costs_no_case(tmp_path):
    cells = [
        SOLUTION,
        "import threading, time\nfor _ in range(80):\n"
        "    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()",
        "import os\nos._exit(1)",
    ]
    sub = _notebook(tmp_path / "explore.ipynb", cells)
    plan = grader.make_plan("landscape", HIDDEN)
    grade = grader.grade_submission(sub, plan, limits=FAST)
    assert grade.status == "graded", grade.message
    assert all(c.passed for c in grade.cases), [c.message for c in grade.cases]
    notes = " ".join(grade.cell_errors)
    assert "cell 3" in notes and "skipped" in notes, notes


# --------------------------------------------------------------------------
# Hidden inputs never reach a message a student sees
# --------------------------------------------------------------------------
def test_hidden_inputs_do_not_leak_between_exercises(tmp_path):
    spy = SOLUTION.replace(
        "def classify_hessian(hessian):\n",
        "SEEN = []\ndef classify_hessian(hessian):\n    SEEN.append(hessian)\n",
    ).replace(
        "def max_stable_lr(hessian):\n",
        "def max_stable_lr(hessian):\n    if SEEN:\n        raise ValueError(repr(SEEN))\n",
    )
    sub = _notebook(tmp_path / "spy.ipynb", [spy])
    plan = grader.make_plan("landscape", HIDDEN)
    grade = grader.grade_submission(sub, plan, limits=FAST)
    assert all(c.passed for c in grade.cases), [c.message for c in grade.cases]
    shown = gradebook.feedback_text(grade, plan) + json.dumps(
        gradebook.results_json(grade, plan)
    )
    for _ex, _, hidden, case, _ in plan.cases:
        if hidden:
            assert repr(case.args[0]) not in shown


# --------------------------------------------------------------------------
# 4. One folder per student; LMS names; every file a row; a second run merges
# --------------------------------------------------------------------------
def _class_batch(tmp_path: Path) -> Path:
    batch = tmp_path / "download"
    _notebook(batch / "doejane_12345_700001_landscape.ipynb", [SOLUTION])
    _notebook(batch / "doejane_12345_700002_landscape.ipynb", [SOLUTION])  # resubmitted
    _notebook(
        batch / "Zoë Müller_23456_assignsubmission_file_" / "ch5.ipynb", [SOLUTION]
    )
    (batch / "Zoë Müller_23456_assignsubmission_file_" / "helper.py").write_text(
        "X = 1\n"
    )
    _notebook(batch / "submission_999" / "work" / "mine.ipynb", [SOLUTION])
    (batch / "submission_999" / "submission_metadata.yml").write_text(
        ":submitters:\n- :name: Ann Lee\n  :sid: '34567'\n"
    )
    _notebook(batch / "smith_45678_700003_CH5.IPYNB", [SOLUTION])
    (batch / "smith_45678_700002_notes.pdf").write_bytes(b"%PDF-1.4")
    (batch / "roe_56789_700004_report.pdf").write_bytes(b"%PDF-1.4")
    (batch / "roe_56789_700005_work.zip").write_bytes(b"PK\x03\x04")
    return batch


def test_folders_lms_names_and_every_file_a_row(tmp_path):
    batch = _class_batch(tmp_path)
    out = tmp_path / "out"
    # The folder above the download (a common slip) gives the same rows.
    assert [e.name for e in discover([tmp_path])] == [e.name for e in discover([batch])]
    grades = gradebook.grade_many(
        [batch], out, hidden_dir=HIDDEN, limits=FAST, progress=False
    )
    rows = {r["submission"]: r for r in _rows(out / "grades.csv")}
    assert len(rows) == len(grades) == 8
    assert rows["Zoë Müller_23456_assignsubmission_file_"]["status"] == "graded"
    assert rows["Zoë Müller_23456_assignsubmission_file_"]["student"] == "23456"
    assert rows["submission_999"]["student"] == "34567"
    assert rows["smith_45678_700003_CH5.IPYNB"]["status"] == "graded"
    assert "PDF" in rows["roe_56789_700004_report.pdf"]["message"]
    assert ".zip" in rows["roe_56789_700005_work.zip"]["message"]
    for name in rows:
        if rows[name]["status"] == "graded":
            assert rows[name]["score"] == rows[name]["max_score"], name
    students = _rows(out / "students.csv")
    jane = [r for r in students if r["student"] == "12345"]
    assert len(jane) == 1
    assert jane[0]["submission"] == "doejane_12345_700002_landscape.ipynb"
    assert jane[0]["other_submissions"] == "doejane_12345_700001_landscape.ipynb"
    smith = [r for r in students if r["student"] == "45678"]
    assert len(smith) == 1 and smith[0]["chapter"] == "landscape"
    assert smith[0]["other_submissions"] == "smith_45678_700002_notes.pdf (invalid)"
    assert len(students) == 5  # one row per student and chapter
    raw = (out / "students.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a spreadsheet opens accents as they are
    assert "Zoë Müller" in raw.decode("utf-8-sig")
    header = next(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert header.index("ch5-classify-hessian") < header.index("ch5-max-stable-lr")


def test_a_second_run_into_the_same_gradebook_keeps_the_first(tmp_path):
    batch = tmp_path / "b"
    _notebook(batch / "alice.ipynb", [SOLUTION])
    _notebook(batch / "bob.ipynb", [SOLUTION])
    (tmp_path / "carol.py").write_text(SOLUTION)
    out = tmp_path / "out"
    gradebook.grade_many([batch], out, hidden_dir=HIDDEN, limits=FAST, progress=False)
    gradebook.grade_many(
        [tmp_path / "carol.py"],
        out,
        chapter="landscape",
        hidden_dir=HIDDEN,
        limits=FAST,
        progress=False,
    )
    names = sorted(r["submission"] for r in _rows(out / "grades.csv"))
    assert names == ["alice.ipynb", "bob.ipynb", "carol.py"]


def test_gradescope_folder_with_a_helper_is_one_submission(tmp_path):
    submission = tmp_path / "submission"
    (submission / "hw").mkdir(parents=True)
    (submission / "hw" / "linalg_helpers.py").write_text(
        "import numpy as np\n\n\ndef eig(h):\n"
        "    return np.linalg.eigvalsh(np.asarray(h, dtype=float))\n"
    )
    solution = SOLUTION.replace(
        "    ev = np.linalg.eigvalsh(np.asarray(hessian, dtype=float))",
        "    from linalg_helpers import eig\n    ev = eig(hessian)",
    )
    _notebook(submission / "hw" / "landscape.ipynb", [solution])
    (submission / "notes.py").write_text("X = 1\n")
    entries = discover([submission], single=True)
    assert [e.path.name for e in entries] == ["landscape.ipynb"]
    assert [h.name for h in entries[0].helpers] == ["linalg_helpers.py"]
    results = tmp_path / "results.json"
    code = cli_main(
        [
            "grade",
            str(submission),
            "--chapter",
            "landscape",
            "--out",
            str(tmp_path / "o"),
            "--hidden",
            str(HIDDEN),
            "--results",
            str(results),
            "--quiet",
        ]
    )
    assert code == 0
    data = json.loads(results.read_text())
    assert data["score"] > 0
    assert math.isclose(data["score"], sum(t["max_score"] for t in data["tests"]))


def test_student_pattern_is_configurable():
    entries = discover([ROOT / "grading" / "hidden-sample" / "landscape.json"])
    entries[0].name = "hw5-s1234567-final.ipynb"
    name_students(entries, r"^hw\d+-(?P<student>s\d+)-")
    assert entries[0].student == "s1234567"


# --------------------------------------------------------------------------
# 5. A bubblewrap without --size (Ubuntu 22.04's 0.6)
# --------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
def test_a_bwrap_without_size_still_grades(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text(
        '#!/bin/sh\nfor a in "$@"; do\n  if [ "$a" = --size ]; then\n'
        "    echo 'bwrap: Unknown option --size' >&2; exit 1\n  fi\ndone\n"
        f'exec {shutil.which("bwrap")} "$@"\n'
    )
    (fake / "bwrap").chmod(0o755)
    sub = _notebook(tmp_path / "alice.ipynb", [SOLUTION])
    bomb = _notebook(
        tmp_path / "bomb.ipynb",
        [
            SOLUTION,
            "for i in range(13):\n    open(f'/tmp/f{i}', 'wb').write(b'x' * 8 * 2**20)",
        ],
    )
    env = {**ENV, "PATH": f"{fake}:{os.environ['PATH']}", "SGDLAB_SANDBOX": "bwrap"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sgdlab",
            "grade",
            str(sub),
            str(bomb),
            "--out",
            str(tmp_path / "out"),
            "--hidden",
            str(HIDDEN),
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {r["submission"]: r for r in _rows(tmp_path / "out" / "grades.csv")}
    assert rows["alice.ipynb"]["status"] == "graded"
    assert rows["alice.ipynb"]["isolation"] == isolation_modes.BWRAP
    assert rows["alice.ipynb"]["score"] == rows["alice.ipynb"]["max_score"]
    if os.geteuid() == 0:  # the measured cap replaces --size
        assert (
            "disk"
            in rows["bomb.ipynb"]["message"]
            + (tmp_path / "out" / "bomb.ipynb" / "feedback.txt").read_text()
        )


def test_a_broken_sandbox_is_not_the_students_fault(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text(
        "#!/bin/sh\necho 'bwrap: setting up uid map: denied' >&2\nexit 1\n"
    )
    (fake / "bwrap").chmod(0o755)
    if shutil.which("bwrap") is None:
        pytest.skip("needs bubblewrap for the probe to pass first")
    sub = _notebook(tmp_path / "alice.ipynb", [SOLUTION])
    env = {**ENV, "PATH": f"{fake}:{os.environ['PATH']}", "SGDLAB_SANDBOX": "bwrap"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sgdlab",
            "grade",
            str(sub),
            "--out",
            str(tmp_path / "out"),
            "--hidden",
            str(HIDDEN),
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert (
        "bubblewrap" in proc.stderr and not (tmp_path / "out" / "grades.csv").exists()
    )


def test_setup_and_classroom_install_the_cpu_build_of_torch():
    from sgdlab.grading.autograder import SETUP_SH

    index = "--extra-index-url https://download.pytorch.org/whl/cpu"
    assert index in SETUP_SH
    assert index in (ROOT / "grading" / "classroom" / "classroom.yml").read_text()


# --------------------------------------------------------------------------
# Jupyter-compatible execution, limits as options
# --------------------------------------------------------------------------
def test_code_that_runs_in_jupyter_runs_in_the_grader(tmp_path):
    nb = _notebook(
        tmp_path / "display.ipynb",
        ["%matplotlib inline\n!echo hi\ndisplay('x')\n" + SOLUTION],
    )
    exported = tmp_path / "exported.py"
    exported.write_bytes(
        (
            "\ufeff#!/usr/bin/env python\n# coding: utf-8\n\n# In[1]:\n\n\n"
            "get_ipython().run_line_magic('matplotlib', 'inline')\n\n\n# In[2]:\n\n\n"
            + SOLUTION
        )
        .replace("\n", "\r\n")
        .encode()
    )
    cells, _ = read_submission(exported)
    assert len(cells) == 3
    plan = grader.make_plan("landscape", HIDDEN)
    for sub in (nb, exported):
        grade = grader.grade_submission(sub, plan, limits=FAST)
        assert grade.cases and all(c.passed for c in grade.cases), (
            sub.name,
            grade.cell_errors,
            [c.message for c in grade.cases],
        )


def test_limits_are_options_and_gradescope_has_a_preset(tmp_path):
    from sgdlab.grading.cli import _parser
    from sgdlab.grading.limits import from_options

    args = _parser().parse_args(
        [
            "grade",
            "x.ipynb",
            "--out",
            "o",
            "--preset",
            "gradescope",
            "--cells-timeout",
            "200",
        ]
    )
    limits = from_options(args.preset, vars(args))
    assert limits.cells_seconds == 200
    assert limits.memory_bytes == PRESETS["gradescope"].memory_bytes <= 1024**3
    assert limits.submission_seconds < 600  # inside Gradescope's default timeout
    # A chapter's own training fits in the preset.
    plan = grader.make_plan("landscape", HIDDEN)
    sub = _notebook(tmp_path / "a.ipynb", ["import torch\n" + SOLUTION])
    grade = grader.grade_submission(sub, plan, limits=limits)
    assert grade.score == plan.max_score, (grade.message, grade.cell_errors)


def test_scores_are_rounded_once():
    plan = grader.make_plan("landscape", HIDDEN)
    grade = grader.Grade("x", "graded", "", plan=plan)
    plan.points.update({"ch5-classify-hessian": 4.0, "ch5-max-stable-lr": 4.0})
    counts = plan.counts
    for ex, n, hidden, _, _ in plan.cases:
        keep = n <= counts[ex.id] // 3 if not hidden else False
        grade.cases.append(grader.CaseResult(ex.id, n, hidden, keep, ""))
    total = sum(grade.exercise_scores().values())
    assert grade.score == round(total, 4)


def test_out_pointing_at_a_file_is_a_clear_error(tmp_path, capsys):
    target = tmp_path / "grades.txt"
    target.write_text("x")
    sub = _notebook(tmp_path / "a.ipynb", [SOLUTION])
    assert cli_main(["grade", str(sub), "--out", str(target), "--quiet"]) == 2
    assert "is a file" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(
    os.geteuid() != 0, reason="submissions get user ids of their own as root"
)
def test_reduced_isolation_refuses_a_readable_book(tmp_path, monkeypatch):
    monkeypatch.setenv("SGDLAB_SANDBOX", "rlimits")
    monkeypatch.delenv("SGDLAB_READABLE_OK", raising=False)
    public = Path(f"/tmp/sgdlab-test-book-{os.getpid()}")
    shutil.copytree(ROOT / "book", public, dirs_exist_ok=True)
    try:
        public.chmod(0o755)
        (public / "landscape.md").chmod(0o644)
        sub = _notebook(tmp_path / "blank.ipynb", ["pass"])
        with pytest.raises(ValueError, match="could read the reference solutions"):
            gradebook.grade_many(
                [sub], tmp_path / "out", hidden_dir=HIDDEN, book=public, progress=False
            )
        assert not (tmp_path / "out").exists()
        public.chmod(0o700)  # made private: graded
        grades = gradebook.grade_many(
            [sub],
            tmp_path / "out",
            hidden_dir=HIDDEN,
            book=public,
            limits=FAST,
            progress=False,
        )
        assert grades[0].status == "graded"
    finally:
        shutil.rmtree(public)


def test_a_hidden_template_is_written_private(tmp_path):
    assert cli_main(["exercises", "--template", str(tmp_path)]) == 0
    assert (tmp_path / "landscape.json").stat().st_mode & 0o077 == 0


def test_outputs_do_not_count_toward_the_size_limit(tmp_path):
    path = _notebook(tmp_path / "plots.ipynb", [SOLUTION])
    nb = nbformat.read(path, as_version=4)
    picture = "A" * (25 * 2**20)  # an embedded plot of 25 MB
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": picture})
    ]
    path.write_text(nbformat.writes(nb))
    assert path.stat().st_size > 20 * 2**20
    cells, chapter = read_submission(path)
    assert chapter == "landscape" and "classify_hessian" in cells[0]["source"]


def test_an_environment_failure_mid_run_is_not_a_students_zero(tmp_path, monkeypatch):
    from sgdlab.grading import sandbox

    def broken(*args, **kwargs):
        raise sandbox.SandboxError(
            "environment", "the sandbox could not start: bwrap: ..."
        )

    sub = _notebook(tmp_path / "alice.ipynb", [SOLUTION])
    monkeypatch.setattr(grader, "Session", broken)
    grade = grader.grade_submission(
        sub, grader.make_plan("landscape", HIDDEN), limits=FAST
    )
    assert grade.status == "error" and "not the submission's fault" in grade.message
    monkeypatch.setattr(gradebook, "grade_submission", lambda *a, **k: grade)
    monkeypatch.setattr("sgdlab.grading.cli._check_sandbox", lambda *a: None)
    code = cli_main(["grade", str(sub), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 3
