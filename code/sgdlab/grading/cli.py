"""``sgdlab grade``: grade a class's submissions from the command line.

Examples::

    sgdlab grade submissions/*.ipynb --chapter landscape --out graded/
    python -m sgdlab grade alice.ipynb bob.py --chapter epoch-rmse --out graded/ \\
        --hidden ~/private/hidden-cases
    sgdlab notebooks --out notebooks/      # student and instructor notebooks
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .sandbox import Limits, isolation


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sgdlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade submissions into a gradebook")
    grade.add_argument("submissions", nargs="+", type=Path, help=".ipynb or .py files")
    grade.add_argument(
        "--chapter", required=True, help="page name of the chapter, e.g. epochs-and-minibatches"
    )
    grade.add_argument("--out", required=True, type=Path, help="folder for the gradebook")
    grade.add_argument(
        "--hidden",
        type=Path,
        default=None,
        help="folder of hidden cases (default: $SGDLAB_HIDDEN_CASES or the "
        "repository's sample set)",
    )
    grade.add_argument("--workers", type=int, default=None, help="parallel graders (cores)")
    grade.add_argument("--cell-timeout", type=float, default=10.0, help="seconds per cell")
    grade.add_argument("--call-timeout", type=float, default=5.0, help="seconds per case")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    notebooks = sub.add_parser("notebooks", help="write student and instructor notebooks")
    notebooks.add_argument("--out", required=True, type=Path)
    notebooks.add_argument("--book", type=Path, default=None, help="folder of the chapters")
    return parser  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "notebooks":
        from .notebooks import write_all

        for path in write_all(args.out, args.book):
            print(path)
        return 0
    from .grader import grade_many

    missing = [str(p) for p in args.submissions if not p.is_file()]
    if missing:
        print(f"sgdlab grade: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    limits = Limits(cell_seconds=args.cell_timeout, call_seconds=args.call_timeout)
    try:
        mode = isolation()
        if not args.quiet:
            print(f"grading {len(args.submissions)} submission(s) of {args.chapter!r} "
                  f"with {mode}", file=sys.stderr)  # fmt: skip
        grades = grade_many(args.submissions, args.out, chapter=args.chapter,
                            hidden_dir=args.hidden, workers=args.workers, limits=limits,
                            progress=not args.quiet)  # fmt: skip
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"sgdlab grade: {err}", file=sys.stderr)
        return 2
    counts = {s: sum(g.status == s for g in grades) for s in ("graded", "invalid", "timeout",
                                                               "crashed")}  # fmt: skip
    print(f"{args.out / 'grades.csv'}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
