"""Explorers: a grid of runs computed at build time, chosen and drawn in the browser.

Used by chapters 4 and 6. Every run of the grid is computed here by sgdlab
(:func:`sgdlab.regression.descend`, :func:`sgdlab.landscape.trajectory`) and
embedded, rounded, in the page; the reader's sliders only choose which runs
the player of :mod:`sgdlab.player` draws. No algorithm runs in the browser.

Each run carries a *record*: every input needed to compute it again
(:func:`rerun`), and its end state at full precision (``exact``), so that a
test can recompute any run and compare. Readers without scripts get a grid of
small multiples of the same runs (loss against step).

:mod:`sgdlab.explorer.grid`
    What both explorers share: :class:`Explorer`, records, :func:`rerun`,
    the small multiples.
:mod:`sgdlab.explorer.line`
    Chapter 4: GD and mini-batch SGD on the line fit.
:mod:`sgdlab.explorer.optimizers`
    Chapter 6: GD, momentum, RMSProp and Adam on a loss surface.
"""

from .grid import DRAW_CLIP, Explorer, rerun, small_multiples
from .line import LINE_BATCHES, LINE_DATA, LINE_LRS, LINE_SEEDS, line_explorer
from .optimizers import MOMENTA, OPTIMIZERS, SURFACE_LRS, optimizer_explorer

__all__ = [
    "DRAW_CLIP",
    "Explorer",
    "LINE_BATCHES",
    "LINE_DATA",
    "LINE_LRS",
    "LINE_SEEDS",
    "MOMENTA",
    "OPTIMIZERS",
    "SURFACE_LRS",
    "line_explorer",
    "optimizer_explorer",
    "rerun",
    "small_multiples",
]
