"""Reader notebooks: a chapter as a notebook that reads like its page.

The Markdown half (MyST roles and directives to what JupyterLab renders) is
:mod:`sgdlab.grading.myst_markdown`; this module runs the chapter, fills in
its numbers and assembles the notebook.

The launch button of a chapter opens ``notebooks/<chapter>.ipynb`` on Binder,
which ``.binder/postBuild`` writes with ``sgdlab notebooks --out notebooks
--reader`` (see :func:`sgdlab.grading.notebooks.write_all`: the student, the
instructor and the reader notebook come from the chapter by one mechanism).
A reader notebook is the chapter with its MyST turned into what JupyterLab
shows:

* ``{glue:text}``, ``{glue:md}`` numbers are the values the chapter computes
  (the notebook is executed once when it is written, and keeps its outputs);
* each ``glue:figure`` becomes a cell that shows the glued figure or player
  (:func:`show`), followed by its caption; a hidden first cell records what
  the chapter glues (:func:`record_glue`);
* ``literalinclude`` listings are fenced code with the real source;
* cross-references are links to the other reader notebooks, or plain text
  ("Fig. 4.2", "Proposition 1");
* admonitions, theorems and proofs are block quotes and bold titles;
* exercises are numbered; their solutions are folded (Markdown in
  ``<details>``, code cells with source and output hidden), and absent from
  the class edition's graded exercises;
* cells the page hides (glue calls, assertions) keep running, with their
  source hidden (``jupyter.source_hidden``, which JupyterLab honours).
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import nbformat

from .myst_markdown import (
    PLACEHOLDER_RE,
    SOLUTION_END,
    SOLUTION_START,
    Book,
    Converter,
)

#: The reader notebooks' kernel: the one the Binder image (and a local
#: JupyterLab with ipykernel) offers, so opening a notebook changes nothing.
KERNELSPEC = {
    "name": "python3",
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
}
SETUP = "from sgdlab.grading.reader import record_glue, show\n\nrecord_glue()"
HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-input", "hide-cell"}
# --------------------------------------------------------------------------
# In the kernel: what the chapter glues, shown where the page shows it
# --------------------------------------------------------------------------
_GLUED: dict[str, object] = {}


def record_glue() -> None:
    """Make ``myst_nb.glue`` also keep each glued object, for :func:`show`.

    Chapters call ``glue(name, obj, display=False)`` (directly or through
    :func:`sgdlab.plotting.glue_figure`), which only emits the object for the
    book's build. The first cell of a reader notebook runs this, before the
    chapter imports ``glue``.
    """
    import myst_nb

    original = getattr(myst_nb.glue, "__wrapped__", myst_nb.glue)

    def glue(name, variable, display=True):
        _GLUED[name] = variable
        return original(name, variable, display)

    glue.__wrapped__ = original
    glue.__doc__ = original.__doc__
    myst_nb.glue = glue


def show(name: str):
    """Display what the chapter glued under ``name`` (a figure or a player)."""
    from IPython.display import display

    if name not in _GLUED:
        raise KeyError(
            f"nothing was glued under {name!r}: run the cells above first "
            "(Run > Run All Cells)"
        )
    display(_GLUED[name])


# --------------------------------------------------------------------------
# The notebook
# --------------------------------------------------------------------------
def _hide(cell, outputs: bool = False) -> None:
    jupyter = cell.metadata.setdefault("jupyter", {})
    jupyter["source_hidden"] = True
    if outputs:
        jupyter["outputs_hidden"] = True


def reader_cells(text: str, chapter: str, path: Path, book: Book) -> list:
    """The cells of the reader notebook of the chapter whose MyST source is ``text``
    (numbers not yet filled in: see :func:`fill_glue`)."""
    import jupytext

    source = jupytext.reads(text, fmt="md:myst")
    convert = Converter(book, chapter, path)
    setup = nbformat.v4.new_code_cell(SETUP)
    setup.metadata["tags"] = ["reader-setup"]
    _hide(setup)
    cells = [setup]
    in_solution = False
    for cell in source.cells:
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(cell.source)
            tags = list(cell.metadata.get("tags", []))
            if tags:
                new.metadata["tags"] = tags
            if in_solution:
                new.metadata.setdefault("tags", []).append("solution")
                _hide(new, outputs=True)
            elif HIDDEN_TAGS & set(tags):
                _hide(new, outputs="remove-cell" in tags or "remove-output" in tags)
            elif "remove-output" in tags:
                new.metadata["jupyter"] = {"outputs_hidden": True}
            cells.append(new)
            continue
        if cell.cell_type != "markdown":
            continue
        # Split at the solutions' start and end markers: what lies between is folded.
        pieces = re.split(
            f"({SOLUTION_START.pattern}|{SOLUTION_END.pattern})",
            cell.source,
            flags=re.M,
        )
        markdown: list[str] = []
        for piece in pieces:
            if piece is None:
                continue
            if SOLUTION_START.fullmatch(piece):
                in_solution = True
                markdown.append(
                    f"*Solution of exercise {convert.exercises}, folded: open "
                    "the text below; click a folded cell's bar to unfold "
                    "its code.*\n"
                )
                continue
            if SOLUTION_END.fullmatch(piece):
                in_solution = False
                continue
            converted = convert.convert(piece).strip("\n")
            if not converted.strip():
                continue
            if in_solution:
                converted = (
                    "<details><summary>Solution (text)</summary>\n\n"
                    f"{converted}\n\n</details>"
                )
            markdown.append(converted)
        # A figure splits the cell: the text before, a cell that shows it, its caption.
        for block in re.split(r"(\x00figure:[^\x00]+\x00)", "\n\n".join(markdown)):
            figure = re.fullmatch(r"\x00figure:([^\x00]+)\x00", block)
            if figure:
                show = nbformat.v4.new_code_cell(f'show("{figure.group(1)}")')
                show.metadata["tags"] = ["reader-figure"]
                _hide(show)
                cells.append(show)
            elif block.strip():
                cells.append(nbformat.v4.new_markdown_cell(block.strip("\n")))
    return cells


def glued_values(notebook) -> dict[str, dict]:
    """name -> MIME bundle of everything the executed ``notebook`` glued."""
    values: dict[str, dict] = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("scrapbook")
            if output.get("output_type") == "display_data" and meta:
                prefix = meta.get("mime_prefix", "application/papermill.record/")
                values[meta["name"]] = {
                    k[len(prefix) :]: v
                    for k, v in output["data"].items()
                    if k.startswith(prefix)
                }
    return values


def _format(
    kind: str, name: str, fmt: str, values: dict[str, dict], chapter: str
) -> str:
    if name not in values:
        raise ValueError(f"{chapter}: the text shows {name!r}, which no cell glues")
    bundle = values[name]
    if kind == "md":
        return bundle.get("text/markdown", bundle.get("text/plain", ""))
    text = bundle.get("text/plain", "")
    if fmt:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        try:
            return format(value, fmt)
        except (TypeError, ValueError):
            return text
    return text.strip("'\"") if re.fullmatch(r"'[^']*'|\"[^\"]*\"", text) else text


def fill_glue(notebook, values: dict[str, dict], chapter: str) -> None:
    """Put the glued values where the Markdown cells show them."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = PLACEHOLDER_RE.sub(
                lambda m: _format(m.group(1), m.group(2), m.group(3), values, chapter),
                cell.source,
            )


def reader_notebook(
    chapter: str,
    book: str | Path,
    *,
    class_edition: bool = False,
    execute: bool = True,
    timeout: int = 900,
    fallback: bool = False,
):
    """The reader notebook of ``chapter`` (an nbformat notebook).

    With ``execute`` (the default) it is run once, in ``book`` as the build
    runs it, and keeps its outputs; the numbers in its text are the values
    this run glued. Without, the numbers are left as ``{glue:text}`` roles
    and the notebook is only good for looking at its structure. With
    ``fallback``, a chapter whose run fails is returned unrun, with a note
    at its top, instead of raising.
    """
    from .notebooks import strip_graded_solutions

    book = Path(book)
    path = book / f"{chapter}.md"
    text = path.read_text(encoding="utf-8")
    if class_edition:
        text = strip_graded_solutions(text)
    catalogue = Book(book)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["sgdlab"] = {"chapter": chapter, "kind": "reader"}
    nb.cells = reader_cells(text, chapter, path, catalogue)
    if not execute:
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = PLACEHOLDER_RE.sub(
                    lambda m: f"{{glue:text}}`{m.group(2)}`", cell.source
                )
        return nb
    import nbclient
    from nbclient.exceptions import CellExecutionError

    run = copy.deepcopy(nb)
    try:
        nbclient.NotebookClient(
            run,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(book)}},
        ).execute()
    except CellExecutionError as err:
        if not fallback:
            raise
        # A chapter that fails here (a timing claim on a busy machine) must not
        # stop Binder's build: the reader gets the notebook unrun, and says so.
        message = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()
        first = message.splitlines()[-1][:300] if message else "an error"
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = PLACEHOLDER_RE.sub(
                    "(computed when you run the cells)", cell.source
                )
        nb.cells.insert(
            0,
            nbformat.v4.new_markdown_cell(
                "**This notebook was not run when it was written** "
                f"(the run stopped with: `{first}`). Run > Run All Cells computes "
                "its numbers, figures and players."
            ),
        )
        return nb
    fill_glue(run, glued_values(run), chapter)
    run.metadata["kernelspec"] = dict(KERNELSPEC)
    return run
