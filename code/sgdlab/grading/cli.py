"""``sgdlab``: grade a class's submissions from the command line.

Examples::

    sgdlab grade submissions/*.ipynb --out graded/ --hidden ~/private/hidden-cases
    sgdlab grade alice.py --chapter epoch-rmse --out graded/ --hidden ~/private/hidden
    sgdlab grade canvas-download/ --out graded/ --preset gradescope --cell-timeout 60
    sgdlab notebooks --out notebooks/          # student and instructor notebooks
    sgdlab notebooks --out notebooks/ --reader # and the chapters as reader notebooks
    sgdlab exercises --update                  # bank.json from the chapters
    sgdlab exercises --template ~/private/hidden   # hidden-case templates
    sgdlab gradescope --chapter landscape --hidden ~/private/hidden --out autograder.zip
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from .isolation_modes import isolation
from .limits import OPTIONS, PRESETS


def _grade_parser(sub) -> None:
    grade = sub.add_parser("grade", help="grade submissions into a gradebook")
    grade.add_argument(
        "submissions",
        nargs="+",
        type=Path,
        help="notebooks (.ipynb) or .py files, folders of them, or folders of "
        "students' folders (Gradescope, Moodle exports)",
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
    _limit_options(grade)
    _output_options(grade)


def _limit_options(grade) -> None:
    grade.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="default",
        help="limits to start from: 'gradescope' fits its default container "
        "(768 MB, 600 s); the options below change single limits",
    )
    for option, (name, unit, text) in OPTIONS.items():
        default = getattr(PRESETS["default"], name) / unit
        grade.add_argument(
            option,
            type=float,
            default=None,
            help=f"{text} (default {default:g}; see --preset)",
        )


def _output_options(grade) -> None:
    grade.add_argument(
        "--student-pattern",
        default=None,
        help="regular expression with a group (?P<student>...) that finds the "
        "student id in a file or folder name (tried before the LMS patterns)",
    )
    grade.add_argument(
        "--results",
        type=Path,
        default=None,
        help="also write the one submission's results.json here (Gradescope); "
        "a folder given is then one student's submission",
    )
    grade.add_argument(
        "--classroom",
        action="store_true",
        help="print the points for GitHub Classroom and write its result",
    )
    grade.add_argument("--quiet", action="store_true", help="no progress bar")


def _other_parsers(sub) -> None:
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
        "--class-edition",
        action="store_true",
        default=None,
        help="withhold the solutions of the graded exercises (the instructor "
        "notebooks become a notice); default: as SGDLAB_CLASS_EDITION or the "
        "book's _config.yml say",
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


def _parser() -> argparse.ArgumentParser:
    """The ``sgdlab`` command line."""
    parser = argparse.ArgumentParser(
        prog="sgdlab",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _grade_parser(sub)
    _other_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"sgdlab {args.command}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sgdlab {args.command}: interrupted", file=sys.stderr)
        return 130


def _notebooks(args) -> int:
    from sgdlab.notebooks.class_edition import class_edition_requested
    from sgdlab.notebooks.writing import write_all

    from .exercises import book_dir

    chapters = [c.strip() for c in args.chapters.split(",")] if args.chapters else None
    book = Path(args.book) if args.book else book_dir()
    class_edition = args.class_edition or class_edition_requested(book.parent)
    if class_edition:
        print("class edition: graded solutions withheld", file=sys.stderr)
    for path in write_all(
        args.out,
        book,
        class_edition=class_edition,
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
            # Private from the start: hidden cases are for the grader only.
            path.touch(mode=0o600)
            path.write_text(json.dumps(hidden_template(chapter), indent=1) + "\n")
            print(path)
    return 0


def _gradescope(args) -> int:
    from .autograder import gradescope_zip

    path = gradescope_zip(args.chapter, args.hidden, args.out, args.book)
    print(path)
    return 0


def _check_sandbox(mode: str, limits) -> None:
    """Start one empty sandbox before grading: a machine that cannot run one
    stops here (exit 2) instead of giving every student 0 points."""
    from .sandbox import SandboxError, Session

    try:
        with Session(["pass"], limits, mode) as session:
            while session.receive(60, "an empty notebook").get("event") != "ready":
                pass
    except SandboxError as err:
        raise RuntimeError(
            f"the sandbox ({mode}) does not work on this machine, so nothing was "
            f"graded: {err}"
        ) from None


def _check_sandbox(mode: str, limits) -> None:
    """Start one empty sandbox before grading: a machine that cannot run one
    stops here (exit 2) instead of giving every student 0 points."""
    from .sandbox import SandboxError, Session

    try:
        with Session(["pass"], limits, mode) as session:
            while session.receive(60, "an empty notebook").get("event") != "ready":
                pass
    except SandboxError as err:
        raise RuntimeError(
            f"the sandbox ({mode}) does not work on this machine, so nothing was "
            f"graded: {err}"
        ) from None


def _grade(args) -> int:
    from .gradebook import GradingInterrupted, grade_many
    from .limits import from_options

    limits = from_options(args.preset, vars(args))
    # Ctrl-C stops the run even where the shell started it with SIGINT ignored
    # (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    mode = isolation()
    _check_sandbox(mode, limits)
    if not args.quiet:
        what = (
            f"of {args.chapter!r}" if args.chapter else "(chapters from the notebooks)"
        )
        print(f"grading {what} with {mode}", file=sys.stderr)
    try:
        grades = grade_many(
            args.submissions,
            args.out,
            chapter=args.chapter,
            hidden_dir=args.hidden,
            book=args.book,
            workers=args.workers,
            limits=limits,
            progress=not args.quiet,
            single=args.results is not None,
            student_pattern=args.student_pattern,
        )
    except GradingInterrupted as err:
        print(f"sgdlab grade: {err}", file=sys.stderr)
        return 130
    _report(args, grades)
    failed = [g.submission for g in grades if g.status == "error"]
    if failed:
        print(
            f"sgdlab grade: the grader's environment failed for {len(failed)} "
            f"submission(s) ({', '.join(failed[:5])}): grade them again",
            file=sys.stderr,
        )
        return 3
    return 0


def _report(args, grades) -> None:
    from .grader import STATUSES

    counts = {s: sum(g.status == s for g in grades) for s in STATUSES}
    print(
        f"{args.out / 'grades.csv'}: "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n or s == "graded")
    )
    if args.results is not None:
        from .autograder import single_results

        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(single_results(grades, args.out), indent=1))
    if args.classroom:
        from .autograder import classroom_report

        print(classroom_report(grades))


_COMMANDS = {
    "grade": _grade,
    "notebooks": _notebooks,
    "exercises": _exercises,
    "gradescope": _gradescope,
}


if __name__ == "__main__":
    sys.exit(main())
