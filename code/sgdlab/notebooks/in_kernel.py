"""What a reader notebook's hidden cells run in the reader's kernel.

Its first code cell runs :func:`record_glue`; each figure of the page is a
cell that runs :func:`show`. Nothing here imports more than the chapter does.
"""

from __future__ import annotations

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


__all__ = ["record_glue", "show"]
