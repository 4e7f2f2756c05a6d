"""Cost of the explorers of chapters 4 and 6, printed as figures.

Usage (from the repository root, with the requirements installed)::

    python benchmarks/explorer.py

With one torch thread (stated in the output), it builds each explorer as its
chapter does and prints

- the build time (seconds, best of ``--repeat`` runs, default 2): what the
  explorer adds to the chapter's execution;
- the number of runs and the bytes of the HTML fragment, of its embedded data
  (the ``<script type="application/json">``), of the panels' images and of
  the static grid for readers without scripts (the images become lazy files
  in the built site);
- if the book has been built (``_build/html``), the weight of chapters 4 and
  6 with everything they load (``sgdlab.pageweight``) against their budgets
  (4 MB and 3 MB).
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import torch
from sgdlab import explorer
from sgdlab.pageweight import page_weight
from sgdlab.timing import machine_info

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTION = "Explorer built by the benchmark, with the arguments of its chapter."
BUILDS = {
    "chapter 4, line_explorer": lambda: explorer.line_explorer(
        theta0=(-1.0, 1.0), steps=100, description=DESCRIPTION
    ),
    "chapter 6, optimizer_explorer": lambda: explorer.optimizer_explorer(
        start=(-4.0, 5.0), steps=300, target=0.1, description=DESCRIPTION
    ),
}
PAGES = {"watching-sgd.html": 4_000_000, "adaptive-optimizers.html": 3_000_000}


def parts(fragment: str) -> dict[str, int]:
    """Bytes of the data, the panels' images and the static grid in a fragment."""
    data = re.search(r'<script class="sgdlab-data"[^>]*>(.*?)</script>', fragment, re.S)
    static = re.search(r"<noscript>(.*?)</noscript>", fragment, re.S).group(1)
    images = re.findall(r'src="(data:image/[^"]+)"', fragment)
    return {
        "data": len(data.group(1).encode()),
        "panel images (base64)": sum(len(i) for i in images) - len(static),
        "static grid (base64)": len(static),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(machine_info(), "(1 torch thread)")
    for name, build in BUILDS.items():
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            built = build()
            times.append(time.perf_counter() - start)
        print(
            f"{name}: {min(times):.1f} s (best of {args.repeat}), {len(built.records)} runs, "
            f"fragment {built.nbytes / 1e3:.0f} kB"
        )
        for part, size in parts(built.html).items():
            print(f"    {part}: {size / 1e3:.0f} kB")
    for page, budget in PAGES.items():
        path = ROOT / "_build" / "html" / "book" / page
        if path.is_file():
            weight = page_weight(path)
            html_kb = path.stat().st_size / 1e3
            print(
                f"{page}: {weight.total / 1e6:.2f} MB with what it loads "
                f"(budget {budget / 1e6:.0f} MB), HTML {html_kb:.0f} kB"
            )


if __name__ == "__main__":
    main()
