"""Sphinx extension: the built pages paint fast on a phone and say what they are.

Enabled in ``_config.yml`` under ``sphinx: local_extensions``. It lives outside
``code/`` on purpose: it changes how pages are delivered, never what a chapter
computes, so editing it must not clear the execution cache (``_ext/sgdlab_cache.py``
watches ``code/`` and ``data/``).

What it does, and why (Lighthouse's mobile preset: slow 4G, a 4x slower CPU):

1. **A description per page.** ``<meta name="description">`` from the page's
   front matter (``description:``) or else its first paragraph of prose, cut
   at a word near 160 characters. Search engines show it; Lighthouse's SEO
   score needs it.
2. **Unique ids.** sphinx-exercise gives every exercise body the id
   ``exercise-content`` and every solution body ``solution-content``; a page
   with several exercises repeats them (invalid HTML, and a fragment link goes
   to the first). Each gets its exercise's or solution's label as a prefix.
3. **Nothing render-blocking but one stylesheet.** After the build, every page's
   ``<head>`` is rewritten: its stylesheets are served as one concatenated file
   (one request instead of a dozen; ``@import``s inlined, ``url()``s re-based;
   Font Awesome's rules cut to the icons the site uses, and its fonts subset to
   their glyphs: a few kB instead of 300 kB; the selectors that need a class
   which no page or script of the site contains dropped: 30 kB compressed
   instead of 64 kB); every script file is deferred,
   in order (the short inline scripts that need ``documentation_options.js``
   become deferred ``data:`` URLs after it; other inline scripts, which only
   set variables, stay inline: they cost no request); the search scripts
   (``searchtools.js``, ``language_data.js`` and the whole book's
   ``searchindex.js``) are loaded only by the search page, the only page that
   uses them (the theme's search-as-you-type is off); sphinx-thebe's script,
   with Thebe off, is not loaded, nor are its styles; sphinx-design's styles and
   tab script (8 kB and 3 kB compressed) are dropped from pages that use none of
   its components (all, in this book); Sphinx's layout and the theme each write a
   ``<meta name="viewport">``: the second goes.
4. **Formulas typeset when the site is built.** MathJax in the browser costs a
   phone the 325 kB script, its fonts and a start-up task of about 0.7 s (4x
   slower CPU), and the first paragraph's formulas, typeset last, became the
   page's Largest Contentful Paint. After the build, node runs MathJax
   (npm ``mathjax-full``, installed by ``npm ci``; ``typeset_math.cjs`` beside
   this file) on every formula of the site: each becomes an SVG drawn with
   paths (no web font), hidden from assistive technology, beside the same
   formula in MathML, which screen readers read (MathJax's "assistive MathML",
   as in the browser). A page then loads no MathJax at all. Where node or the
   npm package is missing (a reader who only ran ``pip install``), the pages
   keep their TeX and MathJax, served from the site, typesets it in the
   browser, starting when a formula comes within a screen of the viewport.
5. **Images with explicit sizes, and not inline.** Large ``data:`` SVG images
   (the animation players' panels) are written to ``_images/`` and loaded
   lazily, so the text of the page arrives first; so are the explorers' runs
   (a JSON file each, fetched as the explorer nears the screen). Figures are
   SVG files without ``width`` and ``height`` attributes, so the browser
   cannot reserve their space before they load and the text below them
   jumps. Each local SVG or PNG ``<img>`` gets the image's intrinsic size (the
   theme's CSS still scales it to the column).
6. **A chapter laid out as the reader nears it** (on a phone): its sections and
   formulas are skipped by layout until they come near the screen, and the
   theme's script no longer forces a layout of every code block on load; see
   ``sgdlab_lazy.py`` beside this file.
7. **No deprecated ARIA role.** docutils marks each bibliography entry
   ``role="doc-biblioentry"``, which ARIA 1.3 deprecates (axe flags it); it
   is dropped.
"""

from __future__ import annotations

import hashlib
import html
import re
import struct
from pathlib import Path
from urllib.parse import quote, unquote

import sgdlab_lazy  # in _ext/, on the path that local_extensions sets
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

DESCRIPTION_LENGTH = 160
#: Containers whose paragraphs are not the page's own prose.
_NOT_PROSE = (
    nodes.Admonition,  # note, warning, tip... and generic admonitions
    nodes.topic,
    nodes.sidebar,
    nodes.footnote,
    nodes.citation,
    nodes.table,
    nodes.field_list,
    nodes.compound,
)
#: Scripts only the search page needs.
SEARCH_SCRIPTS = ("searchtools.js", "language_data.js", "searchindex.js")
#: The colour-mode script must run before the first paint: it stays inline and blocking.
COLOUR_MODE_MARK = "document.documentElement.dataset.mode"
#: Written into a rewritten <head>, so that a page is rewritten once.
MARK = "<!-- head rewritten by sgdlab_site -->"


# --- 1. descriptions -------------------------------------------------------------------------


def shorten(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """``text`` on one line, cut at the last word boundary within ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-–—(.")
    return cut + "…"


def _is_prose(paragraph: nodes.paragraph) -> bool:
    parent = paragraph.parent
    while parent is not None:
        if isinstance(parent, _NOT_PROSE) or "cell" in parent.get("classes", []):
            return False
        if parent.tagname in ("exercise_node", "solution_node", "enumerable_node"):
            return False
        parent = parent.parent
    return True


def plain_text(node: nodes.Node) -> str:
    """The text of ``node`` with inline math as plain characters: a description
    is shown as text by search engines, so ``$10^{-3}$`` becomes ``10^-3``."""
    if isinstance(node, nodes.math):
        return re.sub(r"[{}$\\]", "", node.astext())
    if isinstance(node, nodes.Text):
        return node.astext()
    return "".join(plain_text(child) for child in node.children)


def first_paragraph(doctree: nodes.document, enough: int = 100) -> str:
    """The first paragraphs of prose (not in a box, a table or a cell), joined until
    they make ``enough`` characters: a one-line tagline alone says too little."""
    texts: list[str] = []
    for paragraph in doctree.findall(nodes.paragraph):
        if not _is_prose(paragraph):
            continue
        text = " ".join(plain_text(paragraph).split())
        if len(text) < 20:  # bylines and one-word lead-ins
            continue
        texts.append(text)
        if len(" ".join(texts)) >= enough:
            break
    return " ".join(texts)


def page_description(metadata: dict, doctree, title: str, project: str) -> str:
    """Front matter's ``description``, else the first paragraph, else a sentence from the title."""
    given = metadata.get("description") if metadata else None
    if isinstance(given, str) and given.strip():
        return shorten(given)
    text = first_paragraph(doctree) if doctree is not None else ""
    if text:
        return shorten(text)
    return shorten(f"{title}: {project}, an open course book." if title else project)


def _add_description(app: Sphinx, pagename, templatename, context, doctree) -> None:
    metadata = (
        app.env.metadata.get(pagename, {}) if pagename in app.env.all_docs else {}
    )
    title = re.sub(r"<[^>]+>", "", context.get("title") or "")
    if pagename == "search":
        title = "Search"
    elif pagename == "genindex":
        title = "Index"
    book = app.config.html_title or app.config.project
    description = page_description(metadata, doctree, html.unescape(title), book)
    tag = f'<meta name="description" content="{html.escape(description, quote=True)}" />\n'
    context["metatags"] = context.get("metatags", "") + tag


# --- 2. unique ids ---------------------------------------------------------------------------


def _unique_section_ids(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Rename the second and later uses of an id on a page (``exercise-content``,
    ``solution-content`` from sphinx-exercise; ``proof``, ``proof-content`` from
    sphinx-proof). A link to such an id already led to its first use, so none
    that worked breaks."""
    used: set[str] = set()
    for node in doctree.findall(nodes.Element):
        ids = node.get("ids")
        if not ids:
            continue
        for i, name in enumerate(ids):
            if name in used:
                n = 2
                while f"{name}-{n}" in used:
                    n += 1
                ids[i] = name = f"{name}-{n}"
            used.add(name)


# --- 3. formulas typeset when the site is built ----------------------------------------------

#: A formula as Sphinx writes it: inline ``<span>\(...\)</span>``, display ``<div>\[...\]</div>``
#: (a numbered one also holds its ``<span class="eqno">``).
_MATH = re.compile(r'<(span|div) class="math notranslate nohighlight">(.*?)</\1>', re.S)
_DISPLAY_TEX = re.compile(r"\\\[(.*?)\\\]", re.S)
#: The node script, beside this file, and the npm package it needs (``npm ci``).
TYPESET_SCRIPT = Path(__file__).with_name("typeset_math.cjs")
MATH_CSS = "mathjax-svg.css"


def has_raw_math(text: str) -> bool:
    """Whether the page holds a formula still in TeX, for MathJax to typeset in the browser."""
    return any(
        _raw_tex(m.group(1), m.group(2)) is not None for m in _MATH.finditer(text)
    )


def _raw_tex(tag: str, inner: str) -> str | None:
    """The TeX of a formula element's content, or ``None`` when it is typeset already."""
    if "<mjx-container" in inner:
        return None
    if tag == "span":
        tex = inner.strip()
        if tex.startswith("\\(") and tex.endswith("\\)"):
            tex = tex[2:-2]
        return html.unescape(tex)
    found = _DISPLAY_TEX.search(inner)
    return html.unescape(found.group(1) if found else re.sub(r"<[^>]+>", "", inner))


def typesetter(root: Path) -> list[str] | None:
    """The command that typesets math at build time, or ``None`` where node or the npm
    package ``mathjax-full`` (``npm ci``) is missing: MathJax then typesets in the browser."""
    import shutil

    node = shutil.which("node")
    if node is None or not (root / "node_modules" / "mathjax-full" / "js").is_dir():
        return None
    return [node, str(TYPESET_SCRIPT)]


def typeset_pages(
    texts: list[str], command: list[str], cwd: Path
) -> tuple[list[str], str]:
    """``texts`` (pages' HTML) with every formula as SVG plus assistive MathML, and the
    CSS those need. One node process for all the pages. A formula that MathJax cannot
    parse raises, naming it."""
    import json
    import subprocess

    pages = []
    for text in texts:
        formulas = []
        for match in _MATH.finditer(text):
            tex = _raw_tex(match.group(1), match.group(2))
            if tex is not None:
                formulas.append({"tex": tex, "display": match.group(1) == "div"})
        pages.append(formulas)
    result = subprocess.run(
        command,
        input=json.dumps({"pages": pages}),
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"typesetting the math failed ({' '.join(command)}):\n{result.stderr.strip()}\n"
            "Fix the formula's TeX in its chapter."
        )
    answer = json.loads(result.stdout)
    out = [
        _put_formulas(text, typeset["html"], typeset["defs"])
        if typeset["html"]
        else text
        for text, typeset in zip(texts, answer["pages"], strict=True)
    ]
    return out, answer["css"]


def _put_formulas(text: str, typeset: list[str], defs: str) -> str:
    """``text`` with its TeX formulas replaced, in order, by ``typeset``; ``defs`` (the
    glyphs' paths, once per page, which the formulas draw with ``<use>``) after ``<body>``."""
    formulas = iter(typeset)

    def replace(match: re.Match) -> str:
        tag, inner = match.group(1), match.group(2)
        if _raw_tex(tag, inner) is None:
            return match.group(0)
        svg = next(formulas)
        if tag == "div":
            # A display formula wider than the column scrolls sideways: a keyboard
            # reader must be able to focus it to scroll it (as MathJax in the browser allows).
            svg = svg.replace("<mjx-container ", '<mjx-container tabindex="0" ', 1)
        found = _DISPLAY_TEX.search(inner) if tag == "div" else None
        if found:  # keep a numbered equation's <span class="eqno"> beside it
            inner = (inner[: found.start()] + svg + inner[found.end() :]).strip()
        else:
            inner = svg
        return f'<{tag} class="math notranslate nohighlight">{inner}</{tag}>'

    text = _MATH.sub(replace, text)
    hidden = (
        '<svg xmlns="http://www.w3.org/2000/svg" id="MJX-SVG-global-cache" '
        f'style="display: none" aria-hidden="true" focusable="false">{defs}</svg>'
    )
    body = re.search(r"<body\b[^>]*>", text)
    return text[: body.end()] + "\n" + hidden + text[body.end() :]


# --- 4. the <head> ---------------------------------------------------------------------------

_DESIGN_CLASS = re.compile(r'class="(?:[^"]* )?sd-')
_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>\s*')
_LINK_CSS = re.compile(r'<link\b[^>]*\brel="stylesheet"[^>]*>\s*')
_HREF = re.compile(r'\bhref="([^"]+)"')
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>\s*", re.S)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")


def _local(href: str) -> bool:
    return not re.match(r"^([a-z]+:|//)", href)


def _rebase_css(css: str, source: Path, static: Path) -> str:
    """Rewrite relative ``url()`` in ``css`` (from ``source``) to be relative to ``static``."""

    def rebase(match: re.Match) -> str:
        quote_char, url = match.groups()
        if not _local(url) or url.startswith(("#", "/")):
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
_CONTENT_ESCAPE = re.compile(r"content:\s*\"\\([0-9a-f]{4,5})\"", re.I)
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
        if not _local(match.group(1)) or target in seen or not target.is_file():
            return match.group(0)
        imported.append(_read_css(target, static, seen | {source.resolve()}))
        return f"\x00{len(imported) - 1}\x00"

    css = _rebase_css(_IMPORT.sub(inline, css), source, static)
    return re.sub("\x00(\\d+)\x00", lambda m: imported[int(m.group(1))], css)


class HeadRewriter:
    """Rewrites the ``<head>`` of built pages; one bundle per distinct set of stylesheets."""

    def __init__(self, outdir: Path, thebe: bool = False, extra_css: str | None = None):
        self.thebe = thebe
        self.extra_css = extra_css  # a stylesheet in _static that every page gets
        self.outdir = outdir
        self.static = outdir / "_static"
        self.bundles: dict[tuple[str, ...], str] = {}
        self._icons: set[str] | None = None
        self._words: set[str] | None = None

    def _bundle(self, files: tuple[str, ...]) -> str:
        """Concatenate ``files`` (paths under the site) into ``_static/site-<hash>.css``."""
        if files not in self.bundles:
            parts = []
            for rel in files:
                source = self.outdir / rel
                parts.append(f"/* {rel} */\n" + _read_css(source, self.static))
            text = trim_icons("\n".join(parts), self.used_icons())
            text = prune_css(text, self.used_words())
            text = self._subset_icon_fonts(text)
            digest = hashlib.sha256(text.encode()).hexdigest()[:12]
            name = f"site-{digest}.css"
            (self.static / name).write_text(text, encoding="utf-8")
            self.bundles[files] = name
        return self.bundles[files]

    def used_words(self) -> set[str]:
        """Every word (letters, digits, ``-``, ``_``) of the site's pages and scripts:
        a superset of the class names they use or add."""
        if self._words is None:
            words: set[str] = set()
            for path in self.outdir.rglob("*"):
                if path.suffix in (".html", ".js") and path.name != "fontawesome.js":
                    text = path.read_text(encoding="utf-8", errors="replace")
                    words |= set(re.findall(r"[\w-]+", text))
            # Added to the pages by this rewrite, after the bundle is cut.
            self._words = words | {sgdlab_lazy.LAZY_CLASS}
        return self._words

    def used_icons(self) -> set[str]:
        """Every ``fa-*`` class name that a page or a script of the site can use."""
        if self._icons is None:
            names: set[str] = set()
            files = [p for p in self.outdir.rglob("*") if p.suffix in (".html", ".js")]
            for path in files:
                if (
                    path.name != "fontawesome.js"
                ):  # the unused icon script names them all
                    text = path.read_text(encoding="utf-8", errors="replace")
                    names |= set(_ICON_NAME.findall(text))
            self._icons = names
        return self._icons

    def _subset_icon_fonts(self, css: str) -> str:
        """Point the Font Awesome faces at fonts cut to the glyphs ``css`` still uses."""
        codepoints = {int(code, 16) for code in _CONTENT_ESCAPE.findall(css)}

        def subset_face(match: re.Match) -> str:
            face = match.group(0)
            ttf = re.search(r"url\(([^)]*\.ttf)\)", face)
            if not ttf or not codepoints:
                return face
            source = self.static / ttf.group(1)
            if not source.is_file():
                return face
            name = subset_font(source, codepoints, self.static)
            return re.sub(r"src:[^;}]*", f'src:url({name}) format("woff")', face)

        return _FONT_FACE.sub(subset_face, css)

    def rewrite(self, page: Path) -> bool:
        text = page.read_text(encoding="utf-8")
        start, end = text.find("<head>"), text.find("</head>")
        if start < 0 or end < 0:
            return False
        head = text[start:end]
        if MARK in head:  # an unchanged page of an incremental build: already done
            return False
        root = "../" * (len(page.relative_to(self.outdir).parts) - 1)
        is_search = page.relative_to(self.outdir).as_posix() == "search.html"

        if self.extra_css:
            href = f"{root}_static/{self.extra_css}"
            head += f'<link rel="stylesheet" type="text/css" href="{href}" />\n'
        # Stylesheets: the local ones become one bundle, where the first one was.
        links = _LINK_CSS.findall(head)
        # sphinx-design's styles and tab script serve only pages with its components
        # (none, in this book); sphinx-thebe's styles, only where Thebe is on.
        uses_design = bool(_DESIGN_CLASS.search(text[end:]))
        local = []
        for link in links:
            href = _HREF.search(link).group(1)
            name = href.split("?")[0].rsplit("/", 1)[-1]
            if (name.startswith("sphinx-design") and not uses_design) or (
                name == "sphinx-thebe.css" and not self.thebe
            ):
                head = head.replace(link, "", 1)
            elif _local(href) and "media=" not in link:
                local.append((link, href))
        if local:
            files = tuple(
                (page.parent / unquote(href.split("?")[0]))
                .resolve()
                .relative_to(self.outdir.resolve())
                .as_posix()
                for _, href in local
            )
            bundle = f'<link rel="stylesheet" href="{root}_static/{self._bundle(files)}" />\n'
            head = head.replace(local[0][0], "\x00BUNDLE\x00", 1)
            for link, _ in local[1:]:
                head = head.replace(link, "", 1)
            head = head.replace("\x00BUNDLE\x00", bundle)

        # Formulas still in TeX (no node at build time) are typeset by MathJax in the browser.
        has_math = has_raw_math(text[end:])

        # Scripts: deferred, in order; search scripts on the search page only; MathJax
        # only where there is math, and only once a formula comes near the screen.
        def script(match: re.Match) -> str:
            attrs, body = match.group(1), match.group(2)
            src = re.search(r'\bsrc="([^"]+)"', attrs)
            if src:
                name = src.group(1).split("?")[0].rsplit("/", 1)[-1]
                if name in SEARCH_SCRIPTS and not is_search:
                    return ""
                if name == "sphinx-thebe.js" and not self.thebe:
                    return ""
                if name == "design-tabs.js" and not uses_design:
                    return ""
                if "mathjax" in src.group(1).lower():
                    return _lazy_mathjax(src.group(1)) if has_math else ""
                if re.search(r"\b(defer|async)\b", attrs) or 'type="module"' in attrs:
                    return match.group(0)
                return f"<script defer{attrs}></script>\n"
            if "THEBE_JS_URL" in body and not self.thebe:
                return ""
            if body.lstrip().startswith("window.MathJax") and not has_math:
                return ""
            if COLOUR_MODE_MARK in body:
                return _resolve_auto_theme(match.group(0))
            if "DOCUMENTATION_OPTIONS" in body:
                # Needs documentation_options.js, which is now deferred: defer it too,
                # as a data: URL, so that it runs after it, in document order.
                uri = "data:text/javascript," + quote(body.strip())
                return f'<script defer{attrs} src="{uri}"></script>\n'
            return match.group(0)  # inline and short: no request, nothing to wait for

        head = _SCRIPT.sub(script, head)
        # Sphinx's layout and the theme's each write <meta name="viewport">: keep the first.
        viewports = _VIEWPORT.findall(head)
        for duplicate in viewports[1:]:
            head = head.replace(duplicate, "", 1)
        # A preload of a script that is now deferred anyway only competes with the CSS.
        head = re.sub(r'<link rel="preload" as="script"[^>]*>\s*', "", head)
        head += MARK + "\n"
        text = text[:start] + head + text[end:]
        text = extract_inline_images(text, page, self.outdir)
        text = extract_explorer_data(text, page, self.outdir)
        text = _size_images(text, page, self.outdir)
        text = sgdlab_lazy.lazy_sections(sgdlab_lazy.focusable_code(text))
        # ARIA 1.3 deprecates the role doc-biblioentry (axe: aria-deprecated-role);
        # the entries stay in their citation list, with their ids and labels.
        text = text.replace(' role="doc-biblioentry"', "")
        page.write_text(text, encoding="utf-8")
        return True


_MATHJAX_LOADER = """<script>
(function () {
  /* MathJax starts when a formula comes within a screen of the viewport, and
     typesets the formulas as they come near, a few per task, not the whole page
     at once. sgdlabTypesetAll() typesets everything (printing, tests). */
  var started = false, pending = [], busy = false;
  function typesetSome() {
    if (busy || !pending.length || !(window.MathJax && MathJax.typesetPromise)) return;
    busy = true;
    MathJax.typesetPromise(pending.splice(0, 6)).catch(function () {}).then(function () {
      busy = false; setTimeout(typesetSome, 0);
    });
  }
  function load() {
    if (started) return;
    started = true;
    window.MathJax = window.MathJax || {};
    MathJax.startup = Object.assign(MathJax.startup || {}, {typeset: false,
      ready: function () { MathJax.startup.defaultReady();
                           MathJax.startup.promise.then(typesetSome); }});
    var s = document.createElement("script");
    s.src = "%s"; s.async = true; s.id = "MathJax-script";
    document.head.appendChild(s);
  }
  window.sgdlabTypesetAll = function () {
    load();
    return new Promise(function (resolve) {
      (function wait() {
        var mj = window.MathJax;
        if (mj && mj.startup && mj.startup.promise && mj.typesetPromise) {
          mj.startup.promise.then(function () { return mj.typesetPromise(); }).then(resolve);
        } else { setTimeout(wait, 50); }
      })();
    });
  };
  window.addEventListener("beforeprint", function () { window.sgdlabTypesetAll(); });
  document.addEventListener("DOMContentLoaded", function () {
    var math = document.querySelectorAll(".math");
    if (!math.length) return;
    if (!("IntersectionObserver" in window)) { window.sgdlabTypesetAll(); return; }
    var near = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { near.unobserve(e.target); pending.push(e.target); }
      });
      if (pending.length) { load(); typesetSome(); }
    }, {rootMargin: "100%% 0px"});
    math.forEach(function (m) { near.observe(m); });
  });
})();
</script>
"""


def _resolve_auto_theme(script: str) -> str:
    """Set ``data-theme`` to ``light`` or ``dark`` before the first paint, not ``auto``.

    The theme's inline script writes the stored mode, ``auto`` by default; its
    deferred script later turns ``auto`` into ``light`` or ``dark``, and that
    change restyles and lays out the whole page again after it was painted: on
    a long chapter, with a 4x slower CPU, a task of more than a second. Resolving
    it here, from the reader's system setting, paints the right colours at once.
    """
    resolved = (
        "document.documentElement.dataset.theme = (function (t) {\n"
        '      return t === "light" || t === "dark" ? t\n'
        '        : (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");\n'
        '    })(localStorage.getItem("theme") || document.documentElement.dataset.mode);'
    )
    return re.sub(
        r"document\.documentElement\.dataset\.theme = [^;]*;",
        lambda m: resolved,
        script,
    )


def _lazy_mathjax(src: str) -> str:
    """A small inline loader in place of ``<script src=MathJax>``.

    MathJax's start-up and its typesetting of a whole page are one long task
    (one to two seconds with Lighthouse's 4x slower CPU on the chapters with
    most math), which blocks a phone's main thread. It starts when a formula is
    within one screen height of the viewport, and typesets the formulas as
    they come near, six per task, so the page paints and responds first.
    """
    return _MATHJAX_LOADER % html.escape(src, quote=True)


# --- 5. image sizes --------------------------------------------------------------------------

_IMG = re.compile(r"<img\b[^>]*>")
_SVG_SIZE = re.compile(r"<svg\b[^>]*>", re.S)


def _length_px(value: str) -> float | None:
    match = re.fullmatch(r"\s*([0-9.]+)\s*(pt|px|in|cm|mm)?\s*", value or "")
    if not match:
        return None
    factor = {"pt": 4 / 3, "px": 1, None: 1, "in": 96, "cm": 96 / 2.54, "mm": 96 / 25.4}
    return float(match.group(1)) * factor[match.group(2)]


def image_size(path: Path) -> tuple[int, int] | None:
    """Intrinsic size in CSS pixels of an SVG or PNG file, or ``None``."""
    if path.suffix == ".svg":
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        tag = _SVG_SIZE.search(head)
        if not tag:
            return None
        w = re.search(r'\bwidth="([^"]+)"', tag.group(0))
        h = re.search(r'\bheight="([^"]+)"', tag.group(0))
        width = _length_px(w.group(1)) if w else None
        height = _length_px(h.group(1)) if h else None
        if width and height:
            return round(width), round(height)
        box = re.search(r'\bviewBox="[-0-9.\s]+?\s([0-9.]+)\s+([0-9.]+)"', tag.group(0))
        return (round(float(box.group(1))), round(float(box.group(2)))) if box else None
    if path.suffix == ".png":
        with path.open("rb") as handle:
            header = handle.read(24)
        if header[:8] == b"\x89PNG\r\n\x1a\n":
            return struct.unpack(">II", header[16:24])
    return None


def _size_images(text: str, page: Path, outdir: Path) -> str:
    def add_size(match: re.Match) -> str:
        tag = match.group(0)
        if re.search(r"\s(width|height)=", tag):
            return tag
        src = re.search(r'\bsrc="([^"]+)"', tag)
        if not src or not _local(src.group(1)):
            return tag
        path = (page.parent / unquote(src.group(1).split("?")[0])).resolve()
        if not path.is_file() or outdir.resolve() not in path.parents:
            return tag
        size = image_size(path)
        if size is None:
            return tag
        end = -2 if tag.endswith("/>") else -1
        return tag[:end].rstrip() + f' width="{size[0]}" height="{size[1]}"' + tag[end:]

    return _IMG.sub(add_size, text)


_DATA_IMG = re.compile(
    r'<img\b([^>]*?)\ssrc="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"([^>]*)>'
)
#: Inline images above this size (bytes of base64) become files.
INLINE_LIMIT = 4096


def _asset(data: bytes, prefix: str, suffix: str, page: Path, outdir: Path) -> str:
    """Write ``data`` to ``_images/<prefix>-<hash><suffix>`` (once: the name is its
    content's digest) and return its URL relative to ``page``."""
    name = f"{prefix}-{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
    images = outdir / "_images"
    images.mkdir(exist_ok=True)
    if not (images / name).exists():
        (images / name).write_bytes(data)
    root = "../" * (len(page.relative_to(outdir).parts) - 1)
    return f"{root}_images/{name}"


def extract_inline_images(text: str, page: Path, outdir: Path) -> str:
    """Large ``data:`` SVG images (the animation players' panels) become files.

    Inline, they are part of the HTML that must arrive before the first
    paragraph can be shown: chapter 4 weighed 580 kB (143 kB compressed) for
    about 150 kB of text. As files in ``_images/`` with ``loading="lazy"``, the
    page's text arrives first and each panel loads when it nears the screen.
    """

    def extract(match: re.Match) -> str:
        before, data, after = match.groups()
        if len(data) < INLINE_LIMIT:
            return match.group(0)
        import base64

        src = _asset(base64.b64decode(data), "inline", ".svg", page, outdir)
        lazy = (
            "" if "loading=" in before + after else ' loading="lazy" decoding="async"'
        )
        after = after.rstrip("/").rstrip()
        return f'<img{before} src="{src}"{after}{lazy}>'

    return _DATA_IMG.sub(extract, text)


_EXPLORER_DATA = re.compile(
    r'<script class="sgdlab-data" type="application/json">(.*?)</script>', re.S
)


def extract_explorer_data(text: str, page: Path, outdir: Path) -> str:
    """An explorer's runs (``sgdlab.explorer``) become a JSON file in ``_images/``.

    Inline, chapter 4's 128 runs were 315 kB of the page's 580 kB, all to arrive
    before the first paragraph is shown. The explorer's script fetches the file
    (``data-src``) as the explorer nears the screen.
    """

    def extract(match: re.Match) -> str:
        data = match.group(1).encode("utf-8")  # JSON, with "</" written "<\/"
        src = _asset(data, "explorer", ".json", page, outdir)
        return (
            '<script class="sgdlab-data" type="application/json" '
            f'data-src="{src}"></script>'
        )

    return _EXPLORER_DATA.sub(extract, text)


def _rewrite_pages(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    outdir = Path(app.outdir)
    launch = (app.config.html_theme_options or {}).get("launch_buttons", {}) or {}
    pages = [
        page
        for page in sorted(outdir.rglob("*.html"))
        if not page.relative_to(outdir).parts[0].startswith("_")
        and MARK not in page.read_text(encoding="utf-8")  # done in an earlier build
    ]
    command = typesetter(Path(app.confdir))
    if command is None:
        logger.info(
            "sgdlab_site: node or npm's mathjax-full missing (npm ci): "
            "MathJax will typeset the formulas in the browser"
        )
    elif pages:
        texts, css = typeset_pages(
            [p.read_text(encoding="utf-8") for p in pages], command, Path(app.confdir)
        )
        (outdir / "_static" / MATH_CSS).write_text(css, encoding="utf-8")
        for page, text in zip(pages, texts, strict=True):
            page.write_text(text, encoding="utf-8")
    sgdlab_lazy.patch_theme_script(outdir)
    rewriter = HeadRewriter(
        outdir, thebe=bool(launch.get("thebe")), extra_css=MATH_CSS if command else None
    )
    count = sum(rewriter.rewrite(page) for page in pages)
    logger.info(
        "sgdlab_site: rewrote the <head> of %d pages (%d stylesheet bundle(s))",
        count,
        len(rewriter.bundles),
    )


def setup(app: Sphinx) -> dict:
    app.connect("doctree-resolved", _unique_section_ids)
    app.connect("html-page-context", _add_description, priority=900)
    # Last: the theme, myst-nb, sphinx-exercise and sphinx-proof write or overwrite
    # stylesheets (pygments.css, mystnb.css, exercise.css...) in their own handlers.
    app.connect("build-finished", _rewrite_pages, priority=999)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
