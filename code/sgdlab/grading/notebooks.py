"""Student and instructor notebooks, and the book's side of grading.

The one source is the chapter's MyST file (see :mod:`sgdlab.grading.exercises`).
The instructor notebook takes each graded exercise's solution and check cells
as they are; the student notebook keeps the function's signature and
docstring and replaces the body with ``raise NotImplementedError``. Both carry
``metadata.sgdlab.chapter``, from which the grader infers the chapter.

As a Sphinx extension this module also

* renders the ``{graded}`` block of an exercise as one line for the reader
  (id, points, number of public cases, the ``check`` call);
* writes the notebooks into ``_build/notebooks`` for the chapters' download
  links, and warns (an error in the strict build) when ``bank.json`` no longer
  matches the chapters;
* builds the **class edition** when ``sgdlab_class_edition`` is true (in
  ``_config.yml``) or ``SGDLAB_CLASS_EDITION=1``: the solutions of graded
  exercises are removed from the source before it is parsed or executed, so
  they are absent from the pages, the executed notebooks, the search index
  and the page sources offered for download, and the instructor notebooks
  are replaced by a notice.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat

from .exercises import (
    CHAPTERS,
    GRADED,
    OPTIONS,
    Exercise,
    book_dir,
    chapter_exercises,
    exercise_parts,
    read_chapter,
)

STUB = '    raise NotImplementedError("write your solution here")\n'
INTRO = """\
**{kind} notebook** for the chapter *{title}* of the course book *Epochs and
mini-batches*. {what}

Run it where `sgdlab` is installed (the book's Binder, or `pip install -r
requirements.txt` in a clone of the repository). After each exercise,
`check(...)` runs the public cases and tells you which pass. Your instructor
grades the saved notebook with more cases.
"""
WITHHELD = """\
# {title}: instructor notebook withheld

This site is the **class edition** of the course book: the solutions of the
graded exercises are not published here. Instructors generate the instructor
notebooks from the book's sources with `sgdlab notebooks --out DIR`.
"""


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
    exercises = read_chapter(chapter, book)
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
            heading = f"## Exercise `{exercise.id}` ({exercise.points:g} points)"
            nb.cells.append(nbformat.v4.new_markdown_cell(f"{heading}\n\n{statement}"))
            nb.cells.append(nbformat.v4.new_code_cell(code.rstrip("\n")))
            nb.cells.append(nbformat.v4.new_code_cell(checking.rstrip("\n")))
        result.append(nb)
    return tuple(result)


def _write(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


def write_all(out: str | os.PathLike, book: str | os.PathLike | None = None, *,
              class_edition: bool = False) -> list[Path]:  # fmt: skip
    """Write ``<chapter>-student.ipynb`` and ``<chapter>-instructor.ipynb`` for every
    chapter with graded exercises; return the paths. In the class edition the
    instructor notebook is a notice that the solutions are withheld."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for chapter in CHAPTERS:
        if not (Path(book or book_dir()) / f"{chapter}.md").is_file():
            continue
        if not read_chapter(chapter, book):
            continue
        student, teacher = make_notebooks(chapter, book)
        if class_edition:
            title = _title((Path(book or book_dir()) / f"{chapter}.md").read_text())
            teacher = nbformat.v4.new_notebook()
            teacher.metadata["sgdlab"] = {"chapter": chapter, "kind": "withheld"}
            teacher.cells.append(nbformat.v4.new_markdown_cell(WITHHELD.format(title=title)))
        for kind, nb in (("student", student), ("instructor", teacher)):
            path = out / f"{chapter}-{kind}.ipynb"
            _write(path, nbformat.writes(nb))
            written.append(path)
    return written


# --------------------------------------------------------------------------
# The class edition
# --------------------------------------------------------------------------
def strip_graded_solutions(text: str) -> str:
    """``text`` without the solution blocks of its graded exercises."""
    for match in list(GRADED.finditer(text)):
        before = text[: match.start()]
        labels = re.findall(r":::\{exercise-start\}\n:label: (\S+)", before)
        if not labels:
            continue
        label = re.escape(labels[-1])
        text = re.sub(rf"\n:::\{{solution-start\}} {label}\n.*?\n:::\{{solution-end\}}\n:::\n",
                      "\n", text, flags=re.S)  # fmt: skip
    return text


def class_edition(app) -> bool:
    return bool(app.config.sgdlab_class_edition)


def _class_edition_from_env(app, config) -> None:
    """``SGDLAB_CLASS_EDITION=1`` sets the config value, so Sphinx sees a changed
    configuration and re-reads every page."""
    env = os.environ.get("SGDLAB_CLASS_EDITION", "").strip().lower()
    if env:
        config.sgdlab_class_edition = env in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------
# The {graded} block on the page
# --------------------------------------------------------------------------
def _graded_directive():
    from docutils import nodes
    from docutils.parsers.rst import Directive, directives

    class Graded(Directive):
        """Shows a graded exercise's id, points and check call; the block's
        options and cases are read by :mod:`sgdlab.grading.exercises`."""

        required_arguments = 1
        has_content = True
        option_spec = dict.fromkeys(OPTIONS, directives.unchanged)

        def run(self):
            import yaml

            ex_id = self.arguments[0]
            function = self.options.get("function", "f")
            points = float(self.options.get("points", 1))
            try:
                cases = yaml.safe_load("\n".join(self.content)) or []
            except yaml.YAMLError as err:
                raise self.error(f"graded {ex_id}: the cases are not valid YAML: {err}") from None
            para = nodes.paragraph(classes=["sgdlab-graded"])
            para += nodes.strong(text=f"Graded, {points:g} points. ")
            para += nodes.Text(f"{len(cases)} public cases; in your notebook, ")
            para += nodes.literal(text=f'check("{ex_id}", {function})')
            para += nodes.Text(" runs them.")
            return [para]

    return Graded


def setup(app):
    """Sphinx extension: the {graded} block, the notebooks, the class edition."""
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    app.add_config_value("sgdlab_class_edition", False, "env", [bool])
    app.add_directive("graded", _graded_directive())
    stripped: dict[str, str] = {}

    def generate(app):
        from .exercises import BANK_FILE, bank_text

        book = Path(app.srcdir) / "book"
        write_all(Path(app.srcdir) / "_build" / "notebooks", book,
                  class_edition=class_edition(app))  # fmt: skip
        if book.resolve() == book_dir().resolve() and (
            not BANK_FILE.is_file() or BANK_FILE.read_text() != bank_text(book)
        ):
            logger.warning("sgdlab/grading/bank.json does not match the graded exercises of "
                           "the chapters: run `sgdlab exercises --update`")  # fmt: skip

    def source_read(app, docname, source):
        if class_edition(app) and GRADED.search(source[0]):
            source[0] = strip_graded_solutions(source[0])
            stripped[docname] = source[0]

    def finished(app, exception):
        # Sphinx copies the sources offered for download from disk: overwrite
        # them with what was built.
        if exception is None and stripped and app.builder.format == "html":
            for docname, text in stripped.items():
                for suffix in (".md", ".md.txt"):
                    target = Path(app.outdir) / "_sources" / (docname + suffix)
                    if target.is_file():
                        target.write_text(text)

    app.connect("config-inited", _class_edition_from_env)
    app.connect("builder-inited", generate)
    app.connect("source-read", source_read)
    app.connect("build-finished", finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


__all__ = ["Exercise", "chapter_exercises", "make_notebooks", "strip_graded_solutions",
           "student_stub", "write_all"]  # fmt: skip
