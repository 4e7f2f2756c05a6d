"""MyST to the Markdown JupyterLab renders, for the reader notebooks.

The text half of :mod:`sgdlab.notebooks.reader`: what a chapter's roles and
directives become in a notebook (numbers from the glue placeholders, listings
with their real source, cross-references as links to the other reader
notebooks or plain text, admonitions and proofs as block quotes, exercises
numbered with their solutions folded). :class:`Book` knows the chapters' order,
titles, labels and figure numbers that the references need.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

FIGURE_FORMAT = "Fig. {}"
TABLE_FORMAT = "Table {}"

_PLACEHOLDER = "\x00glue:{}:{}:{}\x00"
PLACEHOLDER_RE = re.compile(r"\x00glue:(text|md|any):([^:\x00]+):([^\x00]*)\x00")
_FENCE = (
    r"^(?P<fence>{}{{3,}})\{{(?P<name>[\w:-]+)\}}[ \t]*(?P<arg>[^\n]*)\n(?P<body>.*?)"
)
_COLON_FENCE = re.compile(_FENCE.format(":") + r"^(?P=fence)[ \t]*$\n?", re.M | re.S)
_TICK_FENCE = re.compile(_FENCE.format("`") + r"^(?P=fence)[ \t]*$\n?", re.M | re.S)
_ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<content>[^`]+)`")
_LABEL_LINE = re.compile(r"^\(([\w:.-]+)\)=[ \t]*(?:\n|$)", re.M)
SOLUTION_START = re.compile(
    r"^:{3,}\{solution-start\}[^\n]*\n(?::[^\n]*\n)*:{3,}[ \t]*$\n?", re.M
)
SOLUTION_END = re.compile(r"^:{3,}\{solution-end\}[^\n]*\n:{3,}[ \t]*$\n?", re.M)
_PRF_NAMES = {
    "theorem": "Theorem",
    "lemma": "Lemma",
    "proposition": "Proposition",
    "remark": "Remark",
    "definition": "Definition",
    "corollary": "Corollary",
    "example": "Example",
    "algorithm": "Algorithm",
}


# --------------------------------------------------------------------------
# What a chapter's text refers to
# --------------------------------------------------------------------------
def _chapter_order(root: Path) -> list[str]:
    """Numbered chapters (doc names under book/) in table-of-contents order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    order = []
    for part in toc.get("parts", []):
        if part.get("numbered"):
            order += [Path(entry["file"]).name for entry in part.get("chapters", [])]
    return order


def _title(text: str) -> str:
    match = re.search(r"^# (.+)$", text, re.M)
    return match.group(1).strip() if match else "?"


def _anchor(heading: str) -> str:
    """JupyterLab's id for a Markdown heading."""
    return re.sub(r"\s+", "-", heading.strip())


class Book:
    """Labels, numbers and titles of every page, for cross-references."""

    def __init__(self, book: Path, chapters: Iterable[str] | None = None):
        self.book = Path(book)
        root = self.book.parent
        self.chapters = list(chapters) if chapters is not None else _chapter_order(root)
        self.titles: dict[str, str] = {}
        self.targets: dict[
            str, tuple[str, str, str]
        ] = {}  # label -> (doc, text, anchor)
        self.numbers: dict[str, str] = {}  # chapter or section label -> "5", "5.3"
        for path in sorted(self.book.glob("*.md")):
            doc = path.stem
            text = path.read_text(encoding="utf-8")
            self.titles[doc] = _title(text)
            number = self.chapters.index(doc) + 1 if doc in self.chapters else None
            self._scan(doc, text, number)
        self.citations = self._bibliography()

    def _scan(self, doc: str, text: str, number: int | None) -> None:
        # Section labels: "(label)=" before a heading; a chapter's is numbered
        # like the page ("5"), a section's like its heading ("5.3").
        prose = _TICK_FENCE.sub("", text)  # headings outside code cells only
        for match in re.finditer(r"^\(([\w:.-]+)\)=[ \t]*\n+(#+) (.+)$", prose, re.M):
            heading = match.group(3).strip()
            self.targets[match.group(1)] = (doc, heading, _anchor(heading))
            level = len(match.group(2))
            if number is not None and level == 1:
                self.numbers[match.group(1)] = str(number)
            elif number is not None and level == 2:
                sections = len(re.findall(r"^## ", prose[: match.start(2)], re.M)) + 1
                self.numbers[match.group(1)] = f"{number}.{sections}"
        # A label before a code cell: it has no anchor in a notebook, and the
        # text names it ({ref}`the printout <label>`).
        for match in re.finditer(
            r"^\(([\w:.-]+)\)=[ \t]*\n+```\{code-cell\}", text, re.M
        ):
            self.targets[match.group(1)] = (doc, "", "")
        figures = tables = 0
        fences = sorted(
            [*_COLON_FENCE.finditer(text), *_TICK_FENCE.finditer(text)],
            key=lambda m: m.start(),
        )
        for match in fences:
            name, body = match.group("name"), match.group("body")
            label = re.search(r"^:name: (\S+)", body, re.M)
            if name in ("glue:figure", "figure"):
                figures += 1
                if label:
                    shown = f"{number}.{figures}" if number else str(figures)
                    self.targets[label.group(1)] = (
                        doc,
                        FIGURE_FORMAT.format(shown),
                        "",
                    )
            if name == "table":
                tables += 1
                if label:
                    shown = f"{number}.{tables}" if number else str(tables)
                    self.targets[label.group(1)] = (doc, TABLE_FORMAT.format(shown), "")
        counts: dict[str, int] = {}
        for match in re.finditer(
            r"^:{3,}\{prf:(\w+)\}[^\n]*\n((?::[^\n]*\n)*)", text, re.M
        ):
            kind = match.group(1)
            if kind == "proof":
                continue
            counts[kind] = counts.get(kind, 0) + 1
            label = re.search(r"^:label: (\S+)", match.group(2), re.M)
            if label:
                shown = _PRF_NAMES.get(kind, kind.capitalize())
                self.targets[label.group(1)] = (doc, f"{shown} {counts[kind]}", "")
        for k, match in enumerate(
            re.finditer(r"^:{3,}\{exercise-start\}[^\n]*\n:label: (\S+)", text, re.M), 1
        ):
            self.targets[match.group(1)] = (doc, f"Exercise {k}", "")

    def _bibliography(self) -> dict[str, tuple[str, str]]:
        """key -> (authors as cited, year)."""
        from pybtex.database import parse_file

        cited: dict[str, tuple[str, str]] = {}
        for bib in self.book.glob("*.bib"):
            for key, entry in parse_file(str(bib)).entries.items():
                people = (
                    entry.persons.get("author") or entry.persons.get("editor") or []
                )
                names = [
                    " ".join(p.last_names).replace("{", "").replace("}", "")
                    for p in people
                ]
                if len(names) > 2:
                    who = f"{names[0]} et al."
                elif len(names) == 2:
                    who = f"{names[0]} and {names[1]}"
                else:  # a work without authors is cited by its title
                    who = names[0] if names else entry.fields.get("title", key)
                    who = who.replace("{", "").replace("}", "")
                cited[key] = (who, entry.fields.get("year", "n.d."))
        return cited

    def link(self, doc: str, here: str, text: str, anchor: str = "") -> str:
        """A Markdown link to ``doc``'s reader notebook, or ``text`` where it has none."""
        if doc not in self.chapters:
            return text
        target = "" if doc == here else f"{doc}.ipynb"
        fragment = f"#{anchor}" if anchor else ""
        if not target and not fragment:
            return text
        return f"[{text}]({target}{fragment})"


# --------------------------------------------------------------------------
# Markdown: MyST -> what JupyterLab renders
# --------------------------------------------------------------------------
def _options(body: str) -> tuple[dict[str, str], str]:
    """A directive's ``:key: value`` lines and the rest of its body."""
    options: dict[str, str] = {}
    lines = body.split("\n")
    i = 0
    while i < len(lines) and (match := re.match(r"^:([\w-]+):[ \t]*(.*)$", lines[i])):
        options[match.group(1)] = match.group(2)
        i += 1
    return options, "\n".join(lines[i:]).strip("\n")


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.split("\n"))


def pyobject_source(path: Path, name: str) -> str:
    """The source of ``name`` (``func`` or ``Class.method``) in the file at ``path``."""
    source = path.read_text(encoding="utf-8")
    nodes = ast.parse(source).body
    node = None
    for part in name.split("."):
        node = next((n for n in nodes if getattr(n, "name", None) == part), None)
        if node is None:
            raise ValueError(f"literalinclude: {path} has no {name!r}")
        nodes = getattr(node, "body", [])
    lines = source.splitlines(keepends=True)
    start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    return "".join(lines[start : node.end_lineno])


def _listing(arg: str, body: str, chapter_path: Path) -> str:
    options, _ = _options(body)
    path = (chapter_path.parent / arg.strip()).resolve()
    code = (
        pyobject_source(path, options["pyobject"])
        if "pyobject" in options
        else path.read_text()
    )
    lines = code.splitlines(keepends=True)
    if "start-at" in options:
        at = next(i for i, line in enumerate(lines) if options["start-at"] in line)
        lines = lines[at:]
    if "end-before" in options:
        lines = lines[
            : next(i for i, line in enumerate(lines) if options["end-before"] in line)
        ]
    code = "".join(lines)
    indent = min(
        (len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0
    )
    code = "".join(line[indent:] if line.strip() else "\n" for line in lines)
    caption = f"*{options['caption']}*\n\n" if "caption" in options else ""
    root = chapter_path.resolve().parent.parent
    where = path.relative_to(root) if path.is_relative_to(root) else path.name
    return f"{caption}```{options.get('language', 'python')}\n# from {where}\n{code.rstrip()}\n```"


class Converter:
    """Turns one chapter's Markdown cells into what JupyterLab renders: roles
    with :meth:`role`, fenced directives with :meth:`directive`, numbering the
    chapter's figures, exercises and theorems as the page does."""

    def __init__(self, book: Book, chapter: str, path: Path):
        self.book, self.chapter, self.path = book, chapter, path
        self.figures = 0
        self.tables = 0
        self.exercises = 0
        self.prf: dict[str, int] = {}

    # -- roles ------------------------------------------------------------
    def role(self, match: re.Match) -> str:
        role, content = match.group("role"), match.group("content")
        explicit = re.match(r"^(.*?)\s*<([^<>]+)>$", content, re.S)
        text, target = (
            (explicit.group(1), explicit.group(2)) if explicit else (None, content)
        )
        if role in ("glue:text", "glue", "glue:", "glue:md"):
            name, _, fmt = content.partition(":")
            kind = {"glue:text": "text", "glue:md": "md"}.get(role, "any")
            return _PLACEHOLDER.format(kind, name.strip(), fmt)
        if role == "doc":
            doc = Path(target).name
            return self.book.link(
                doc, self.chapter, text or self.book.titles.get(doc, doc)
            )
        if role in ("ref", "numref", "prf:ref"):
            if target not in self.book.targets:
                raise ValueError(f"{self.chapter}: unknown reference {content!r}")
            doc, shown, anchor = self.book.targets[target]
            if text:
                number = self.book.numbers.get(target) or shown.split(" ")[-1]
                shown = text.replace("%s", number) if "%s" in text else text
            if not shown:
                raise ValueError(
                    f"{self.chapter}: the reference {content!r} needs its own text"
                )
            return self.book.link(doc, self.chapter, shown, anchor)
        if role == "download":
            name = Path(target).name
            return f"[{text or name}]({name})"
        if role.startswith("cite"):
            keys = [k.strip() for k in content.split(",")]
            missing = [k for k in keys if k not in self.book.citations]
            if missing:
                raise ValueError(f"{self.chapter}: no bibliography entry for {missing}")
            if role == "cite:t":
                return "; ".join(
                    f"{self.book.citations[k][0]} ({self.book.citations[k][1]})"
                    for k in keys
                )
            return "(" + "; ".join(" ".join(self.book.citations[k]) for k in keys) + ")"
        if role in ("math",):
            return f"${content}$"
        raise ValueError(
            f"{self.chapter}: the reader notebook cannot show the role {{{role}}}"
        )

    # -- directives -------------------------------------------------------
    def directive(self, match: re.Match) -> str:
        name, arg, body = (
            match.group("name"),
            match.group("arg").strip(),
            match.group("body"),
        )
        options, content = _options(body)
        if name == "literalinclude":
            return _listing(arg, body, self.path) + "\n"
        if name == "graded":
            import yaml

            cases = yaml.safe_load(content) or []
            function = options.get("function", "f")
            return (
                f"**Graded, {float(options.get('points', 1)):g} points.** {len(cases)} "
                f'public cases; in your notebook, `check("{arg}", {function})` runs '
                "them.\n"
            )
        if name == "glue:figure":
            self.figures += 1
            number = self.book.chapters.index(self.chapter) + 1
            caption = self.convert(content).strip()
            label = FIGURE_FORMAT.format(f"{number}.{self.figures}")
            return f"\x00figure:{arg}\x00*{label}. {caption}*\n"
        if name == "table":
            self.tables += 1
            number = self.book.chapters.index(self.chapter) + 1
            label = TABLE_FORMAT.format(f"{number}.{self.tables}")
            return (
                f"*{label}. {self.convert(arg).strip()}*\n\n{self.convert(content)}\n"
            )
        if name == "exercise-start":
            self.exercises += 1
            title = f" ({self.convert(arg)})" if arg else ""
            return f"---\n\n**Exercise {self.exercises}**{title}\n"
        if name == "exercise-end":
            return ""
        if name.startswith("prf:"):
            kind = name[4:]
            inner = self.convert(content)
            if kind == "proof":
                return f"*Proof.* {inner} $\\square$\n"
            self.prf[kind] = self.prf.get(kind, 0) + 1
            title = f" ({self.convert(arg)})" if arg else ""
            head = f"**{_PRF_NAMES.get(kind, kind.capitalize())} {self.prf[kind]}{title}.**"
            return _quote(f"{head} {inner}") + "\n"
        if name in (
            "admonition",
            "note",
            "warning",
            "tip",
            "important",
            "caution",
            "seealso",
        ):
            title = self.convert(arg) if name == "admonition" else name.capitalize()
            if "dropdown" in options.get("class", "").split():  # folded, as on the page
                return (
                    f"<details><summary>{title}</summary>\n\n"
                    f"{self.convert(content)}\n\n</details>\n"
                )
            return _quote(f"**{title}**\n\n{self.convert(content)}") + "\n"
        raise ValueError(
            f"{self.chapter}: the reader notebook cannot show the directive {{{name}}}"
        )

    def convert(self, text: str) -> str:
        text = _LABEL_LINE.sub("", text)
        for fence in (_TICK_FENCE, _COLON_FENCE):
            while fence.search(text):
                text = fence.sub(self.directive, text)
        return _ROLE.sub(self.role, text)
