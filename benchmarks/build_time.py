"""Print the cold build time and the no-change rebuild time of the whole book.

Usage (from the repository root, with the requirements installed)::

    python benchmarks/build_time.py [--keep DIR]

The cold build writes into a fresh folder (no execution cache, no Sphinx
environment), so every chapter is executed; the rebuild runs the same command
again with nothing changed. Both are strict builds (-W -n --keep-going), as
in CI. The figures depend on the machine and on what else it is doing: run
it on a quiet machine and report the machine with the numbers.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sgdlab.timing import machine_info

ROOT = Path(__file__).resolve().parents[1]


def build(output: Path) -> float:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [
        str(jupyter_book),
        "build",
        str(ROOT),
        "--path-output",
        str(output),
        "-W",
        "-n",
        "--keep-going",
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"build failed with exit code {result.returncode}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", type=Path, help="build here and keep it (default: a temp dir)"
    )
    args = parser.parse_args()
    output = args.keep or Path(tempfile.mkdtemp(prefix="book-bench-"))
    if (output / "_build").exists():
        shutil.rmtree(output / "_build")
    try:
        cold = build(output)
        warm = build(output)
    finally:
        if args.keep is None:
            shutil.rmtree(output, ignore_errors=True)
    info = machine_info()
    print(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}")
    print(f"cold build (every chapter executed): {cold:6.1f} s")
    print(f"no-change rebuild:                   {warm:6.1f} s")


if __name__ == "__main__":
    main()
