"""The book's side of its notebooks (a local Sphinx extension, see ``_config.yml``).

The notebooks themselves are made by the package, from the chapters
(:mod:`sgdlab.notebooks`: student, instructor and reader notebooks);
this extension is what the site needs of them, kept out of the package so
that ``import sgdlab`` is the course, not the site machinery:

* renders the ``{graded}`` block of an exercise as one line for the reader
  (id, points, number of public cases, the ``check`` call);
* writes the student and instructor notebooks into ``_build/notebooks`` for
  the chapters' download links, and warns (an error in the strict build)
  when ``bank.json`` no longer matches the chapters;
* builds the **class edition** when ``sgdlab_class_edition`` is true (in
  ``_config.yml``) or ``SGDLAB_CLASS_EDITION=1``: the solutions of graded
  exercises are removed from the source before it is parsed or executed, so
  they are absent from the pages, the executed notebooks, the search index
  and the page sources offered for download, and the instructor notebooks
  are replaced by a notice;
* points each chapter's **launch button** at its reader notebook,
  ``notebooks/<chapter>.ipynb``, which Binder's ``postBuild`` writes (the
  theme would name the chapter's MyST source, which JupyterLab opens as
  text, or as a notebook full of raw MyST).
"""

from __future__ import annotations

from pathlib import Path

from sgdlab.grading.exercises import (
    BANK_FILE,
    CHAPTERS,
    GRADED,
    OPTIONS,
    bank_text,
    book_dir,
)
from sgdlab.notebooks.class_edition import (
    class_edition_from_env,
    strip_graded_solutions,
)
from sgdlab.notebooks.writing import write_all

#: Where ``.binder/postBuild`` writes the reader notebooks, relative to the
#: repository's root (ignored by git: opening them changes nothing tracked).
READER_DIR = "notebooks"


def reader_path(pagename: str) -> str | None:
    """The reader notebook, relative to the repository, of the page ``pagename``
    (``book/<chapter>``), or ``None`` for a page that is not a chapter."""
    name = pagename.rsplit("/", 1)[-1]
    return f"{READER_DIR}/{name}.ipynb" if name in CHAPTERS else None


def launch_to_reader(app, pagename, templatename, context, doctree) -> None:
    """Rewrite the Binder button's ``urlpath`` (set by sphinx-book-theme from the
    page's source) to the reader notebook; drop the launch buttons of a page
    that has none."""
    buttons = context.get("header_buttons") or []
    groups = [b for b in buttons if b.get("label") == "launch-buttons"]
    if not groups:
        return
    target = reader_path(pagename)
    for group in groups:
        if target is None:
            buttons.remove(group)
            continue
        for button in group.get("buttons", []):
            url = button.get("url", "")
            if "urlpath=" in url:
                base, _, urlpath = url.partition("urlpath=")
                prefix = urlpath.split("/tree/")[0]  # lab or the classic tree
                button["url"] = f"{base}urlpath={prefix}/tree/{target}"


def class_edition(app) -> bool:
    return bool(app.config.sgdlab_class_edition)


def _class_edition_from_env(app, config) -> None:
    """``SGDLAB_CLASS_EDITION=1`` sets the config value, so Sphinx sees a changed
    configuration and re-reads every page."""
    from_env = class_edition_from_env()
    if from_env is not None:
        config.sgdlab_class_edition = from_env


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
                raise self.error(
                    f"graded {ex_id}: the cases are not valid YAML: {err}"
                ) from None
            para = nodes.paragraph(classes=["sgdlab-graded"])
            para += nodes.strong(text=f"Graded, {points:g} points. ")
            para += nodes.Text(f"{len(cases)} public cases; in your notebook, ")
            para += nodes.literal(text=f'check("{ex_id}", {function})')
            para += nodes.Text(" runs them.")
            return [para]

    return Graded


def setup(app):
    """Sphinx extension: the {graded} block, the notebooks, the class edition,
    the launch buttons."""
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    app.add_config_value("sgdlab_class_edition", False, "env", [bool])
    app.add_directive("graded", _graded_directive())
    stripped: dict[str, str] = {}

    def generate(app):
        book = Path(app.srcdir) / "book"
        write_all(
            Path(app.srcdir) / "_build" / "notebooks",
            book,
            class_edition=class_edition(app),
        )
        if book.resolve() == book_dir().resolve() and (
            not BANK_FILE.is_file() or BANK_FILE.read_text() != bank_text(book)
        ):
            logger.warning(
                "sgdlab/grading/bank.json does not match the graded exercises of "
                "the chapters: run `sgdlab exercises --update`"
            )

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
    # After sphinx-book-theme's add_launch_buttons (priority 501), before the
    # page is rendered.
    app.connect("html-page-context", launch_to_reader, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


__all__ = ["READER_DIR", "launch_to_reader", "reader_path", "strip_graded_solutions"]
