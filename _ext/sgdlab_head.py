"""Nothing render-blocking but one stylesheet (part of ``sgdlab_site``).

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
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import quote, unquote

import sgdlab_images
import sgdlab_lazy
from sgdlab_math import has_raw_math, lazy_mathjax
from sgdlab_stylesheet import (
    _ICON_NAME,
    _read_css,
    is_local,
    prune_css,
    subset_icon_fonts,
    trim_icons,
)

#: Scripts only the search page needs.
SEARCH_SCRIPTS = ("searchtools.js", "language_data.js", "searchindex.js")
#: The colour-mode script must run before the first paint: it stays inline and blocking.
COLOUR_MODE_MARK = "document.documentElement.dataset.mode"
#: Written into a rewritten <head>, so that a page is rewritten once.
MARK = "<!-- head rewritten by sgdlab_site -->"


_DESIGN_CLASS = re.compile(r'class="(?:[^"]* )?sd-')
_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>\s*')
_LINK_CSS = re.compile(r'<link\b[^>]*\brel="stylesheet"[^>]*>\s*')
_HREF = re.compile(r'\bhref="([^"]+)"')
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>\s*", re.S)


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
            text = subset_icon_fonts(text, self.static)
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
            elif is_local(href) and "media=" not in link:
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
                    return lazy_mathjax(src.group(1)) if has_math else ""
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
        text = sgdlab_images.extract_inline_images(text, page, self.outdir)
        text = sgdlab_images.extract_explorer_data(text, page, self.outdir)
        text = sgdlab_images.size_images(text, page, self.outdir)
        text = sgdlab_lazy.lazy_sections(sgdlab_lazy.focusable_code(text))
        # ARIA 1.3 deprecates the role doc-biblioentry (axe: aria-deprecated-role);
        # the entries stay in their citation list, with their ids and labels.
        text = text.replace(' role="doc-biblioentry"', "")
        page.write_text(text, encoding="utf-8")
        return True


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
