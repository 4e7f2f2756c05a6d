"""Reader notebooks: a chapter as a notebook that reads like its page.

The Markdown half (MyST roles and directives to what JupyterLab renders) is
:mod:`sgdlab.notebooks.myst_markdown`; this module assembles the notebook and
fills in its numbers, from the outputs of the book's build where it has a
current one (:mod:`sgdlab.notebooks.from_build`), else from a run.

The launch button of a chapter opens ``notebooks/<chapter>.ipynb`` on Binder,
which ``.binder/postBuild`` writes with ``sgdlab notebooks --out notebooks
--reader`` (see :func:`sgdlab.notebooks.writing.write_all`: the student, the
instructor and the reader notebook come from the chapter by one mechanism).
A reader notebook is the chapter with its MyST turned into what JupyterLab
shows:

* ``{glue:text}``, ``{glue:md}`` numbers are the values the chapter computes
  (the notebook keeps the outputs of the build, or of one run when it is
  written);
* each ``glue:figure`` becomes a cell that shows the glued figure or player
  (:func:`~sgdlab.notebooks.in_kernel.show`), followed by its caption; a
  hidden first code cell records what the chapter glues
  (:func:`~sgdlab.notebooks.in_kernel.record_glue`);
* ``literalinclude`` listings are fenced code with the real source;
* cross-references are links to the other reader notebooks, or plain text
  ("Fig. 4.2", "Proposition 1");
* admonitions, theorems and proofs are block quotes and bold titles;
* exercises are numbered; their solutions are folded (Markdown in
  ``<details>``, code cells with source and output hidden), and absent from
  the class edition's graded exercises;
* cells the page hides (glue calls, assertions) keep running, with their
  source hidden (``jupyter.source_hidden``, which JupyterLab honours);
* a first note asks the reader to shut the kernel down before opening the
  next chapter (a Binder session's memory holds about two chapters).
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
SETUP = "from sgdlab.notebooks.in_kernel import record_glue, show\n\nrecord_glue()"
HIDDEN_TAGS = {"remove-cell", "remove-input", "hide-input", "hide-cell"}


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


MEMORY_NOTE = (
    "> **One chapter at a time.** A Binder session has 2 GB of memory for "
    "everything it runs, and a chapter's kernel holds its data and models until "
    "it is shut down. Before you open another chapter, shut this one's kernel "
    "down (*Kernel > Shut Down Kernel*); its outputs stay in the notebook."
)
UNRUN_NOTE = (
    "**This notebook was not run when it was written** (the run stopped with: "
    "`{reason}`). Run > Run All Cells computes its numbers, figures and players."
)


def reader_notebook(
    chapter: str,
    book: str | Path,
    *,
    class_edition: bool = False,
    execute: bool = True,
    timeout: int = 900,
    fallback: bool = False,
    log=None,
):
    """The reader notebook of ``chapter`` (an nbformat notebook).

    With ``execute`` (the default) it comes with its outputs, and the numbers
    in its text are the values the chapter glued: those of the book's build
    when ``book``'s build is current for the chapter (see
    :func:`sgdlab.notebooks.from_build.build_outputs`), else of one run, in
    ``book`` as the build runs it, with ``timeout`` seconds per cell. Without
    ``execute``, the numbers are left as ``{glue:text}`` roles and the
    notebook is only good for looking at its structure. With ``fallback``, a
    chapter whose run fails (a cell raises, the kernel dies, a cell runs past
    ``timeout``) is returned unrun, with a note at its top, instead of
    raising. ``log``, if given, is told where the outputs came from.
    """
    from .class_edition import strip_graded_solutions

    book = Path(book)
    path = book / f"{chapter}.md"
    text = path.read_text(encoding="utf-8")
    if class_edition:
        text = strip_graded_solutions(text)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["sgdlab"] = {"chapter": chapter, "kind": "reader"}
    note = nbformat.v4.new_markdown_cell(MEMORY_NOTE)
    note.metadata["tags"] = ["reader-memory-note"]
    nb.cells = [note, *reader_cells(text, chapter, path, Book(book))]
    if not execute:
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = PLACEHOLDER_RE.sub(
                    lambda m: f"{{glue:text}}`{m.group(2)}`", cell.source
                )
        return nb
    from .from_build import assemble, build_outputs

    found, why = build_outputs(chapter, book)
    if found is not None:
        assembled = assemble(nb, *found)
        if assembled is not None:
            _tell(log, f"{chapter}: outputs from the build ({why})")
            return assembled
        why = "its code cells differ from the build's"
    _tell(log, f"{chapter}: running it ({why})")
    return _run(nb, book, chapter, timeout=timeout, fallback=fallback, log=log)


def _tell(log, message: str) -> None:
    if log is not None:
        log(message)


def _run(nb, book: Path, chapter: str, *, timeout: int, fallback: bool, log):
    """``nb`` run once in a fresh kernel, its numbers filled in; with
    ``fallback``, unrun with a note where the run fails in any way."""
    import nbclient
    from nbclient.exceptions import (
        CellExecutionError,
        CellTimeoutError,
        DeadKernelError,
    )

    run = copy.deepcopy(nb)
    try:
        nbclient.NotebookClient(
            run,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(book)}},
        ).execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        if not fallback:
            raise
        # A chapter that fails here (a timing claim on a busy machine, a kernel
        # killed for memory, a cell that hangs) must not stop Binder's build:
        # the reader gets the notebook unrun, and it says so.
        lines = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip().splitlines()
        # An error's last line names it; a timeout's or a dead kernel's first.
        reason = type(err).__name__
        if lines:
            reason = lines[-1] if isinstance(err, CellExecutionError) else lines[0]
            reason = reason[:300].replace("`", "'")
        _tell(log, f"{chapter}: written unrun ({type(err).__name__}: {reason})")
        return unrun(nb, reason)
    fill_glue(run, glued_values(run), chapter)
    run.metadata["kernelspec"] = dict(KERNELSPEC)
    return run


def unrun(nb, reason: str):
    """``nb`` without outputs, its numbers replaced by a phrase, and a first
    note that says why it was not run."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = PLACEHOLDER_RE.sub(
                "(computed when you run the cells)", cell.source
            )
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(UNRUN_NOTE.format(reason=reason)))
    return nb
