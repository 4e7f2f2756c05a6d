"""The code listings on the pages teach: each is one whole function that fits the page.

Every ``literalinclude`` in ``book/*.md`` is resolved the way Sphinx resolves
it (``pyobject``, ``lines``, ``start-at``/``start-after``, ``end-at``/
``end-before``) and the lines a reader sees must be one complete function or
class, ``def`` line included, no line wider than the page and not too many
lines to read at once.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

#: The width of a code block on the page, in characters.
MAX_WIDTH = 88
#: The longest listing a reader is asked to read in one go.
MAX_LINES = 40

DIRECTIVE = re.compile(
    r"^```\{literalinclude\}\s+(\S+)\n((?::[\w-]+:.*\n)*)", re.MULTILINE
)


def listings() -> list[tuple[str, str, dict[str, str]]]:
    """``(page, included file, options)`` of every literalinclude in the book."""
    found = []
    for page in sorted(BOOK.glob("*.md")):
        for match in DIRECTIVE.finditer(page.read_text()):
            options = dict(
                re.match(r":([\w-]+):\s*(.*)", line).groups()
                for line in match.group(2).splitlines()
            )
            found.append((page.name, match.group(1), options))
    return found


def _object_lines(source: str, name: str) -> tuple[int, int]:
    """1-based first and last line of ``name`` (``Class.method`` allowed),
    decorators included, as Sphinx's ``pyobject`` option finds it."""
    scope: list[ast.stmt] = ast.parse(source).body
    node = None
    for part in name.split("."):
        node = next(
            (
                n
                for n in scope
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and n.name == part
            ),
            None,
        )
        assert node is not None, f"no {name} to include"
        scope = node.body
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return first, node.end_lineno


def _select_lines(spec: str, lines: list[str]) -> list[str]:
    chosen: list[str] = []
    for piece in spec.split(","):
        start, _, end = piece.strip().partition("-")
        first = int(start)
        last = int(end) if end else (len(lines) if "-" in piece else first)
        chosen.extend(lines[first - 1 : last])
    return chosen


def _cut(lines: list[str], options: dict[str, str]) -> list[str]:
    for key in ("start-at", "start-after"):
        if key in options:
            at = next(i for i, line in enumerate(lines) if options[key] in line)
            lines = lines[at if key == "start-at" else at + 1 :]
    for key in ("end-at", "end-before"):
        if key in options:
            at = next(i for i, line in enumerate(lines) if options[key] in line)
            lines = lines[: at + 1 if key == "end-at" else at]
    return lines


def shown(path: str, options: dict[str, str]) -> list[str]:
    """The lines of ``path`` (relative to ``book/``) that the listing shows."""
    source = (BOOK / path).resolve().read_text()
    lines = source.splitlines()
    if "pyobject" in options:
        first, last = _object_lines(source, options["pyobject"])
        lines = lines[first - 1 : last]
    if "lines" in options:
        lines = _select_lines(options["lines"], lines)
    lines = _cut(lines, options)
    if "dedent" in options:
        lines = textwrap.dedent("\n".join(lines)).splitlines()
    return lines


LISTINGS = listings()


def test_the_book_has_listings():
    assert len(LISTINGS) >= 10


def problems(lines: list[str]) -> list[str]:
    """What keeps ``lines`` from being a listing that teaches (empty if nothing)."""
    found = []
    try:
        tree = ast.parse(textwrap.dedent("\n".join(lines)))
    except SyntaxError:
        return ["does not parse: it is cut mid-statement"]
    kinds = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    if len(tree.body) != 1 or not isinstance(tree.body[0], kinds):
        found.append("is not one whole function or class (def line included)")
    wide = [line for line in lines if len(line) > MAX_WIDTH]
    if wide:
        found.append(f"has {len(wide)} lines wider than {MAX_WIDTH}, e.g. {wide[0]!r}")
    if len(lines) > MAX_LINES:
        found.append(f"has {len(lines)} lines (at most {MAX_LINES})")
    return found


@pytest.mark.parametrize(
    "page, path, options",
    LISTINGS,
    ids=[f"{p}:{o.get('pyobject', f)}" for p, f, o in LISTINGS],
)
def test_a_listing_is_one_whole_function_that_fits_the_page(page, path, options):
    assert not problems(shown(path, options)), f"{page}: {path} {options}"


def test_the_rules_catch_a_listing_cut_mid_function():
    path = "../code/sgdlab/regression.py"
    whole = shown(path, {"pyobject": "sgd_line_fit"})
    assert not problems(whole)
    cut = shown(path, {"pyobject": "descend", "start-at": "lr = check_positive_number"})
    assert problems(cut) == ["is not one whole function or class (def line included)"]
    assert problems(["def f():", "    return " + "x" * 90])[0].startswith(
        "has 1 lines wider"
    )
