"""The grading copy of ``sgdlab``: what a submission may import while graded.

A submission must not score with the course's own answer. The reference
solutions are not in the package at all (they are the chapters' solution
cells, read by the grader from the book), and the sandbox gets a copy of the
package in which

* ``sgdlab.grading`` holds only the runner and a ``check`` that says it is
  not available while grading (no public expected values, no exercise bank);
* every chapter function that *is* the answer of a graded exercise (each
  exercise names them as ``forbid``, e.g. ``sgdlab.optim.step_decay_factor``)
  keeps its signature but raises when called;
* everything else, the functions a student may build on, is unchanged.

Bubblewrap mounts the copy where the package is; with reduced isolation the
runner imports it first (the real package stays readable there, see the
grading page).
"""

from __future__ import annotations

import ast
import atexit
import functools
import shutil
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
KEEP_IN_GRADING = ("runner.py", "values.py")
STUB_GRADING = '''"""sgdlab.grading inside the grader's sandbox: check() is not available here."""


class _NotWhileGrading:
    all_passed = False

    def __repr__(self):
        return "check() does not run while your notebook is graded; the grader runs the cases."


def check(exercise_id, function):
    """Does nothing while grading (the grader runs every case itself)."""
    return _NotWhileGrading()
'''


def _stub_source(source: str, names: list[str], module: str) -> str:
    """``source`` with the bodies of ``names`` (``f`` or ``Class.method``)
    replaced by a ``raise``; signatures are kept so imports still work."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    spans = []
    for name in names:
        node = _find(tree.body, name.split("."))
        if node is None:
            raise ValueError(f"forbid: {module}.{name} does not exist")
        first, last = node.body[0], node.body[-1]
        indent = " " * first.col_offset
        message = (
            f"{module}.{name} gives the answer of a graded exercise; it is not "
            "available while grading: write it yourself"
        )
        spans.append(
            (
                first.lineno - 1,
                last.end_lineno,
                f"{indent}raise RuntimeError({message!r})\n",
            )
        )
    for start, end, text in sorted(spans, reverse=True):
        lines[start:end] = [text]
    return "".join(lines)


def _find(body, parts):
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and (
            node.name == parts[0]
        ):
            if len(parts) == 1:
                return node
            return _find(node.body, parts[1:])
    return None


def build_copy(destination: Path, forbidden: list[str]) -> Path:
    """Write the grading copy of the package to ``destination/sgdlab``."""
    target = destination / "sgdlab"
    shutil.copytree(
        PACKAGE,
        target,
        ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", "grading", "__main__.py", "*.egg-info"
        ),
    )
    (target / "grading").mkdir()
    for name in KEEP_IN_GRADING:
        shutil.copy(PACKAGE / "grading" / name, target / "grading" / name)
    (target / "grading" / "__init__.py").write_text(STUB_GRADING)
    by_module: dict[str, list[str]] = {}
    for dotted in forbidden:
        module, _, name = dotted.partition(".")[2].partition(".")
        by_module.setdefault(module, []).append(name)
        if not dotted.startswith("sgdlab."):
            raise ValueError(f"forbid: {dotted!r} is not in sgdlab")
    for module, names in by_module.items():
        path = target / f"{module}.py"
        if not path.is_file():
            raise ValueError(f"forbid: sgdlab.{module} is not a module of sgdlab")
        path.write_text(_stub_source(path.read_text(), names, f"sgdlab.{module}"))
    for path in [destination, *destination.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@functools.cache
def grading_copy() -> Path:
    """The grading copy for this process (built once, removed at exit)."""
    from .exercises import forbidden_names

    folder = Path(tempfile.mkdtemp(prefix="sgdlab-grading-copy-"))
    atexit.register(shutil.rmtree, folder, True)
    return build_copy(folder, forbidden_names())
