"""Student and instructor notebooks, generated from the chapters themselves.

The one source is the chapter's MyST file: each graded exercise is a
``{exercise-start}`` block (its statement) and a ``{solution-start}`` block
whose first code cell defines the function and whose next cell calls
``check``. The instructor notebook takes those cells as they are; the student
notebook keeps the function's signature and docstring and replaces the body
with ``raise NotImplementedError``. Both carry ``metadata.sgdlab.chapter``, so
the grader can refuse a notebook of another chapter.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat

from .exercises import EXERCISES, Exercise, chapter_exercises

STUB = '    raise NotImplementedError("write your solution here")\n'
INTRO = """\
**{kind} notebook** for the chapter *{title}* of the course book *Epochs and
mini-batches*. {what}

Run it where `sgdlab` is installed (the book's Binder, or `pip install -r
requirements.txt` in a clone of the repository). After each exercise,
`check(...)` runs the public cases and tells you which pass. Your instructor
grades the saved notebook with more cases.
"""


def book_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "book"


def _block(text: str, start: str, end: str) -> str:
    i = text.find(start)
    if i < 0:
        raise ValueError(f"cannot find {start!r} in the chapter")
    j = text.find(end, i)
    if j < 0:
        raise ValueError(f"{start!r} has no matching {end!r}")
    return text[i + len(start) : j]


def _code_cells(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"```\{code-cell\}[^\n]*\n(.*?)```", text, re.S)]


def exercise_parts(chapter_text: str, exercise: Exercise) -> tuple[str, str, str]:
    """The statement (Markdown), solution cell and check cell of ``exercise``."""
    statement = _block(chapter_text, f":label: {exercise.label}\n:::\n", ":::{exercise-end}")
    solution = _block(chapter_text, f":::{{solution-start}} {exercise.label}\n",
                      ":::{solution-end}")  # fmt: skip
    cells = _code_cells(solution)
    defining = [c for c in cells if re.search(rf"^def {exercise.function}\(", c, re.M)]
    checking = [c for c in cells if f'check("{exercise.id}"' in c]
    if not defining or not checking:
        raise ValueError(
            f"the solution of {exercise.label} needs a cell defining "
            f"{exercise.function} and one calling check({exercise.id!r}, ...)"
        )
    return statement.strip(), defining[0].strip() + "\n", checking[0].strip() + "\n"


def student_stub(source: str, function: str) -> str:
    """``source`` with ``function``'s body replaced by ``raise NotImplementedError``;
    imports are kept, anything else is dropped."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.extend(lines[node.lineno - 1 : node.end_lineno])
        elif isinstance(node, ast.FunctionDef) and node.name == function:
            body = node.body
            has_doc = isinstance(body[0], ast.Expr) and isinstance(
                getattr(body[0], "value", None), ast.Constant
            ) and isinstance(body[0].value.value, str)  # fmt: skip
            keep_to = body[0].end_lineno if has_doc else body[0].lineno - 1
            start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
            if out:
                out.append("\n\n")
            out.extend(lines[start:keep_to])
            out.append(STUB)
    return "".join(out)


def _title(chapter_text: str) -> str:
    match = re.search(r"^# (.+)$", chapter_text, re.M)
    return match.group(1).strip() if match else "?"


def make_notebooks(chapter: str, book: str | os.PathLike | None = None):
    """The (student, instructor) notebooks of ``chapter`` as nbformat objects."""
    path = Path(book or book_dir()) / f"{chapter}.md"
    text = path.read_text()
    exercises = chapter_exercises(chapter)
    result = []
    for kind in ("student", "instructor"):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}  # fmt: skip
        nb.metadata["sgdlab"] = {"chapter": chapter, "kind": kind}
        what = (
            "Write each function where it says so; keep its name and arguments."
            if kind == "student"
            else "It holds the solutions and must score full marks."
        )
        nb.cells.append(nbformat.v4.new_markdown_cell(
            f"# {_title(text)}: graded exercises\n\n"
            + INTRO.format(kind=kind.capitalize(), title=_title(text), what=what)))  # fmt: skip
        nb.cells.append(nbformat.v4.new_code_cell("from sgdlab.grading import check"))
        for exercise in exercises:
            statement, solution, checking = exercise_parts(text, exercise)
            code = solution if kind == "instructor" else student_stub(solution, exercise.function)
            nb.cells.append(nbformat.v4.new_markdown_cell(
                f"## Exercise `{exercise.id}`\n\n{statement}"))  # fmt: skip
            nb.cells.append(nbformat.v4.new_code_cell(code.rstrip("\n")))
            nb.cells.append(nbformat.v4.new_code_cell(checking.rstrip("\n")))
        result.append(nb)
    return tuple(result)


def write_all(out: str | os.PathLike, book: str | os.PathLike | None = None) -> list[Path]:
    """Write ``<chapter>-student.ipynb`` and ``<chapter>-instructor.ipynb`` for every
    chapter with graded exercises; return the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in sorted({e.chapter for e in EXERCISES.values()}):
        for kind, nb in zip(("student", "instructor"), make_notebooks(chapter, book),
                            strict=True):  # fmt: skip
            path = out / f"{chapter}-{kind}.ipynb"
            text = nbformat.writes(nb)
            if not path.is_file() or path.read_text() != text:
                path.write_text(text)
            written.append(path)
    return written


def setup(app):
    """Sphinx extension: write the notebooks into ``_build/notebooks`` before the
    chapters are read, so ``{download}`` links in the chapters find them."""

    def generate(app):
        write_all(Path(app.srcdir) / "_build" / "notebooks", Path(app.srcdir) / "book")

    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
