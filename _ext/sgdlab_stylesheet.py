"""The site's one stylesheet (part of ``sgdlab_site``).

A page's local stylesheets are served as one concatenated file: ``@import``s
inlined, ``url()``s re-based; Font Awesome's rules cut to the icons the site
uses and its fonts subset to the glyphs the bundle still draws; the selectors
that need a class which no page or script of the site contains dropped.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote

_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")


def is_local(href: str) -> bool:
    """Whether ``href`` points inside the site (no scheme, not protocol-relative)."""
    return not re.match(r"^([a-z]+:|//)", href)


def _rebase_css(css: str, source: Path, static: Path) -> str:
    """Rewrite relative ``url()`` in ``css`` (from ``source``) to be relative to ``static``."""

    def rebase(match: re.Match) -> str:
        quote_char, url = match.groups()
        if not is_local(url) or url.startswith(("#", "/")):
            return match.group(0)
        path, _, rest = url.partition("?")
        path, hash_mark, fragment = path.partition("#")
        target = (source.parent / unquote(path)).resolve()
        try:
            rel = target.relative_to(static.resolve()).as_posix()
        except ValueError:
            return match.group(0)
        new = (
            rel
            + (hash_mark + fragment if hash_mark else "")
            + ("?" + rest if rest else "")
        )
        return f"url({quote_char}{new}{quote_char})"

    return _CSS_URL.sub(rebase, css)


_ICON_NAME = re.compile(r"\bfa-[a-z0-9-]+")
_ICON_RULE = re.compile(r"((?:\.fa-[a-z0-9-]+:+before,?)+)\{content:\s*\"[^\"]*\"\}")
#: A CSS string: an icon's code point is escaped in it (``"\\f071"``) or written as is.
_CSS_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\([0-9a-f]{1,6})\s?", re.I)
#: Unicode's Private Use Area, where Font Awesome puts its icons.
_PRIVATE_USE = range(0xE000, 0xF900)
_FONT_FACE = re.compile(r"@font-face\{[^}]*Font Awesome[^}]*\}")


def trim_icons(css: str, used: set[str]) -> str:
    """Drop the Font Awesome ``.fa-NAME:before`` rules of icons no page uses.

    Font Awesome's stylesheet carries about 1,900 of them (60 kB); a page of this
    site shows about a dozen icons.
    """

    def keep(match: re.Match) -> str:
        names = set(re.findall(r"\.(fa-[a-z0-9-]+):", match.group(1)))
        return match.group(0) if names & used else ""

    return _ICON_RULE.sub(keep, css)


def subset_font(source: Path, codepoints: set[int], static: Path) -> str:
    """Write ``source`` (a TrueType font) cut to ``codepoints`` as WOFF; return its name."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"  # WOFF2 would need the brotli module
    options.layout_features = []
    options.name_IDs = []
    options.notdef_outline = True
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    key = hashlib.sha256(
        source.read_bytes() + repr(sorted(codepoints)).encode()
    ).hexdigest()
    name = f"{source.stem}-{key[:10]}.woff"
    subset.save_font(font, str(static / name), options)
    return name


def css_blocks(css: str) -> list[tuple[str, str | None]]:
    """The top-level items of a stylesheet: ``(prelude, body)`` for a block
    (``sel{...}``, ``@media ...{...}``), ``(statement, None)`` for ``@import ...;``.
    Strings and comments are skipped over, so a brace inside them does not count."""
    items: list[tuple[str, str | None]] = []
    i, n, start, depth, body_start = 0, len(css), 0, 0, 0
    while i < n:
        c = css[i]
        if c in "\"'":
            j = i + 1
            while j < n and css[j] != c:
                j += 2 if css[j] == "\\" else 1
            i = j + 1
            continue
        if css.startswith("/*", i):
            end = css.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if c == "{":
            if depth == 0:
                body_start = i + 1
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                items.append((css[start : body_start - 1].strip(), css[body_start:i]))
                start = i + 1
        elif c == ";" and depth == 0:
            items.append((css[start : i + 1].strip(), None))
            start = i + 1
        i += 1
    return items


_GROUPING = ("@media", "@supports", "@layer", "@container", "@document")
_FUNCTIONAL = re.compile(r":[a-z-]+\((?:[^()]|\([^()]*\))*\)")
_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")


def _selector_classes(selector: str) -> set[str]:
    """The class names a selector requires (not those under ``:not()``, ``:is()``...,
    nor dots in attribute values)."""
    selector = re.sub(r"\[[^\]]*\]", "", selector)
    selector = re.sub(r"/\*.*?\*/", "", selector, flags=re.S)
    return set(_CLASS.findall(_FUNCTIONAL.sub("", selector)))


def _split_selectors(prelude: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, c in enumerate(prelude):
        depth += c in "([" and 1 or c in ")]" and -1 or 0
        if c == "," and depth == 0:
            parts.append(prelude[start:i])
            start = i + 1
    return parts + [prelude[start:]]


def prune_css(css: str, used: set[str]) -> str:
    """``css`` less the selectors that need a class no page or script of the site has.

    The theme's stylesheet (400 kB, 66 kB compressed, the one resource that blocks
    a page's first paint) styles a whole framework; this site uses a part of it.
    A selector is kept when every class it names occurs as a word in some page or
    script (scripts add classes such as ``show`` at run time); a rule goes when
    none of its selectors is kept. ``@font-face``, ``@keyframes`` and the like stay.
    """
    out = []
    for prelude, body in css_blocks(css):
        # Comments before a rule (file names, licences) stay, apart from its selectors,
        # which may contain commas.
        comments = re.findall(r"/\*.*?\*/", prelude, flags=re.S)
        out += comments
        prelude = re.sub(r"/\*.*?\*/", "", prelude, flags=re.S).strip()
        if body is None or (
            prelude.startswith("@") and not prelude.startswith(_GROUPING)
        ):
            out.append(prelude if body is None else f"{prelude}{{{body}}}")
        elif prelude.startswith("@"):
            inner = prune_css(body, used)
            if inner.strip():
                out.append(f"{prelude}{{{inner}}}")
        else:
            kept = [
                sel
                for sel in _split_selectors(prelude)
                if _selector_classes(sel) <= used
            ]
            if kept:
                out.append(",".join(sel.strip() for sel in kept) + "{" + body + "}")
    return "\n".join(out)


_IMPORT = re.compile(r"@import\s+(?:url\(\s*)?['\"]?([^'\")\s;]+)['\"]?\s*\)?\s*;")


def _read_css(source: Path, static: Path, seen: frozenset = frozenset()) -> str:
    """``source`` with its ``@import``s inlined (an ``@import`` is only valid at the top
    of a stylesheet, so it cannot stay in the middle of a bundle) and ``url()``s rebased."""
    css = source.read_text(encoding="utf-8")
    css = re.sub(r'@charset\s+"[^"]*";', "", css)
    css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)

    imported: list[str] = []

    def inline(match: re.Match) -> str:
        target = (source.parent / unquote(match.group(1).split("?")[0])).resolve()
        if not is_local(match.group(1)) or target in seen or not target.is_file():
            return match.group(0)
        imported.append(_read_css(target, static, seen | {source.resolve()}))
        return f"\x00{len(imported) - 1}\x00"

    css = _rebase_css(_IMPORT.sub(inline, css), source, static)
    return re.sub("\x00(\\d+)\x00", lambda m: imported[int(m.group(1))], css)


def icon_codepoints(css: str) -> set[int]:
    """The Private Use Area code points in ``css``'s strings: the icons it can draw.

    Font Awesome's own rules escape them (``content:"\\f071"``); the theme's
    admonition icons are custom properties holding the character itself
    (``--pst-icon-exclamation-triangle:"\uf071"``), used as ``content:var(...)``.
    Missing either, the subset font draws an empty box for those icons.
    """
    points: set[int] = set()
    for string in _CSS_STRING.findall(css):
        points |= {int(code, 16) for code in _ESCAPE.findall(string)}
        points |= {ord(char) for char in _ESCAPE.sub("", string)}
    return {point for point in points if point in _PRIVATE_USE}


def subset_icon_fonts(css: str, static: Path) -> str:
    """Point ``css``'s Font Awesome faces (fonts in ``static``) at fonts cut to the
    glyphs ``css`` still draws."""
    codepoints = icon_codepoints(css)

    def subset_face(match: re.Match) -> str:
        face = match.group(0)
        ttf = re.search(r"url\(([^)]*\.ttf)\)", face)
        if not ttf or not codepoints:
            return face
        source = static / ttf.group(1)
        if not source.is_file():
            return face
        name = subset_font(source, codepoints, static)
        return re.sub(r"src:[^;}]*", f'src:url({name}) format("woff")', face)

    return _FONT_FACE.sub(subset_face, css)
