"""Print how long each chapter takes to execute, and the landscape grid speed.

Usage (from the repository root, with the requirements installed)::

    python benchmarks/chapter_time.py [CHAPTER ...]

A chapter is named by its file (``book/landscape.md``) or its stem (``landscape``).

Each chapter (default: all in ``book/``) is converted with jupytext and run
top to bottom in a fresh kernel with nbclient, as the build does; the time
includes starting the kernel. The grid figure is the median over 21 calls of
``sgdlab.landscape.evaluate_grid`` on the 200 x 200 pathological surface.
Torch uses one thread here (``torch.set_num_threads(1)``) so that the figures
do not depend on what else the 2 cores of a shared machine are doing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jupytext
import numpy as np
import torch
from nbclient import NotebookClient
from sgdlab import landscape
from sgdlab.timing import machine_info, median_time

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path) -> float:
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(names: list[str]) -> None:
    torch.set_num_threads(1)
    print(machine_info())
    w = np.linspace(-10, 10, 200)
    seconds = median_time(
        lambda: landscape.evaluate_grid(landscape.pathological_loss, w, w)
    )
    print(f"200 x 200 surface: {seconds * 1e3:.2f} ms per evaluation (median of 21)")
    chapters = [ROOT / "book" / f"{Path(n).stem}.md" for n in names] or sorted(
        (ROOT / "book").glob("*.md")
    )
    for path in chapters:
        if "kernelspec" not in path.read_text()[:400]:
            continue  # plain pages (intro, references) have nothing to execute
        print(f"{path.stem:>24}: {execute(path):6.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
