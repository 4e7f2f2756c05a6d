"""``sgdlab``: grade a class's submissions from the command line.

Examples::

    sgdlab grade submissions/*.ipynb --out graded/ --hidden ~/private/hidden-cases
    sgdlab grade alice.py --chapter epoch-rmse --out graded/ --hidden ~/private/hidden
    sgdlab notebooks --out notebooks/          # student and instructor notebooks
    sgdlab notebooks --out notebooks/ --reader # and the chapters as reader notebooks
    sgdlab exercises --update                  # bank.json from the chapters
    sgdlab exercises --template ~/private/hidden   # hidden-case templates
    sgdlab gradescope --chapter landscape --hidden ~/private/hidden --out autograder.zip
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .isolation_modes import isolation
from .sandbox import Limits


def _parser() -> argparse.ArgumentParser:
    """The ``sgdlab`` command line: one ``add_argument`` per option, in the order
    of the help it prints, which is why it is long."""
    parser = argparse.ArgumentParser(
        prog="sgdlab",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade submissions into a gradebook")
    grade.add_argument(
        "submissions",
        nargs="+",
        type=Path,
        help=".ipynb or .py files, or folders of them",
    )
    grade.add_argument(
        "--chapter",
        default=None,
        help="page name of the chapter, e.g. epochs-and-minibatches (default: "
        "each notebook's own, from its metadata; needed for .py files)",
    )
    grade.add_argument(
        "--out", required=True, type=Path, help="folder for the gradebook"
    )
    grade.add_argument(
        "--hidden",
        type=Path,
        default=None,
        help="folder of hidden cases, <chapter>.json (default: "
        "$SGDLAB_HIDDEN_CASES, else the repository's PUBLIC sample set)",
    )
    grade.add_argument(
        "--book",
        type=Path,
        default=None,
        help="folder of the chapters, source of the reference solutions "
        "(default: $SGDLAB_BOOK or the repository's book/)",
    )
    grade.add_argument(
        "--workers", type=int, default=None, help="parallel graders (cores)"
    )
    grade.add_argument(
        "--cell-timeout",
        type=float,
        default=Limits.cell_seconds,
        help="seconds per cell (default %(default)s)",
    )
    grade.add_argument(
        "--call-timeout",
        type=float,
        default=Limits.call_seconds,
        help="seconds per case (default %(default)s)",
    )
    grade.add_argument(
        "--results",
        type=Path,
        default=None,
        help="also write the one submission's results.json here (Gradescope)",
    )
    grade.add_argument(
        "--classroom",
        action="store_true",
        help="print the points for GitHub Classroom and write its result",
    )
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    notebooks = sub.add_parser(
        "notebooks", help="write student and instructor notebooks"
    )
    notebooks.add_argument("--out", required=True, type=Path)
    notebooks.add_argument(
        "--book", type=Path, default=None, help="folder of the chapters"
    )
    notebooks.add_argument(
        "--reader",
        action="store_true",
        help="also write each chapter as a reader notebook, <chapter>.ipynb, "
        "with the outputs of the book's build (_build/) where it is current, "
        "else running the chapter (minutes)",
    )
    notebooks.add_argument(
        "--chapters", default=None, help="comma-separated chapter names (default: all)"
    )
    notebooks.add_argument(
        "--timeout",
        type=int,
        default=900,
        help="seconds a cell may run when a reader notebook is run (default 900); "
        "past it, the notebook is written unrun, with a note",
    )
    exercises = sub.add_parser(
        "exercises", help="the exercise bank and hidden-case templates"
    )
    exercises.add_argument(
        "--book", type=Path, default=None, help="folder of the chapters"
    )
    exercises.add_argument(
        "--update",
        action="store_true",
        help="regenerate sgdlab/grading/bank.json from the chapters",
    )
    exercises.add_argument(
        "--template",
        type=Path,
        default=None,
        metavar="DIR",
        help="write DIR/<chapter>.json templates for hidden cases "
        "(existing files are kept)",
    )
    gradescope = sub.add_parser("gradescope", help="write a Gradescope autograder zip")
    gradescope.add_argument("--chapter", required=True)
    gradescope.add_argument("--hidden", required=True, type=Path)
    gradescope.add_argument("--out", required=True, type=Path)
    gradescope.add_argument("--book", type=Path, default=None)
    return parser


def _expand(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.suffix in (".ipynb", ".py")))
        else:
            out.append(p)
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"sgdlab {args.command}: {err}", file=sys.stderr)
        return 2


def _notebooks(args) -> int:
    from sgdlab.notebooks.writing import write_all

    chapters = [c.strip() for c in args.chapters.split(",")] if args.chapters else None
    for path in write_all(
        args.out,
        args.book,
        reader=args.reader,
        chapters=chapters,
        timeout=args.timeout,
        log=lambda message: print(message, file=sys.stderr, flush=True),
    ):
        print(path)
    return 0


def _exercises(args) -> int:
    from .exercises import BANK_FILE, CHAPTERS, read_chapter, write_bank
    from .hidden import hidden_template

    if not args.update and not args.template:
        print("sgdlab exercises: give --update and/or --template DIR", file=sys.stderr)
        return 2
    if args.update:
        changed = write_bank(args.book)
        print(f"{BANK_FILE}: {'updated' if changed else 'already up to date'}")
    if args.template:
        args.template.mkdir(parents=True, exist_ok=True)
        for chapter in CHAPTERS:
            if not read_chapter(chapter, args.book):
                continue
            path = args.template / f"{chapter}.json"
            if path.exists():
                print(f"{path}: exists, kept")
                continue
            path.write_text(json.dumps(hidden_template(chapter), indent=1) + "\n")
            print(path)
    return 0


def _gradescope(args) -> int:
    from .autograder import gradescope_zip

    path = gradescope_zip(args.chapter, args.hidden, args.out, args.book)
    print(path)
    return 0


def _grade(args) -> int:
    from .gradebook import grade_many

    submissions = _expand(args.submissions)
    missing = [str(p) for p in submissions if not p.is_file()]
    if missing:
        print(f"sgdlab grade: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not submissions:
        if args.results is not None:  # Gradescope: say so to the student
            from .autograder import single_results

            args.results.parent.mkdir(parents=True, exist_ok=True)
            args.results.write_text(json.dumps(single_results([], args.out), indent=1))
            return 0
        print("sgdlab grade: no .ipynb or .py file to grade", file=sys.stderr)
        return 2
    limits = Limits(cell_seconds=args.cell_timeout, call_seconds=args.call_timeout)
    mode = isolation()
    if not args.quiet:
        what = (
            f"of {args.chapter!r}" if args.chapter else "(chapters from the notebooks)"
        )
        print(
            f"grading {len(submissions)} submission(s) {what} with {mode}",
            file=sys.stderr,
        )
    grades = grade_many(
        submissions,
        args.out,
        chapter=args.chapter,
        hidden_dir=args.hidden,
        book=args.book,
        workers=args.workers,
        limits=limits,
        progress=not args.quiet,
    )
    counts = {
        s: sum(g.status == s for g in grades)
        for s in ("graded", "invalid", "limit", "timeout", "crashed")
    }
    print(
        f"{args.out / 'grades.csv'}: "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
    )
    if args.results is not None:
        from .autograder import single_results

        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(single_results(grades, args.out), indent=1))
    if args.classroom:
        from .autograder import classroom_report

        print(classroom_report(grades))
    return 0


_COMMANDS = {
    "grade": _grade,
    "notebooks": _notebooks,
    "exercises": _exercises,
    "gradescope": _gradescope,
}


if __name__ == "__main__":
    sys.exit(main())
