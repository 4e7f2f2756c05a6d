"""How much a built page weighs with everything it loads from the site itself.

Used to keep the book's pages light (chapter 4 has a budget of 4 MB, other
pages 3 MB). Counts the HTML file, and every local file it references through
``src=`` or ``href=`` of scripts, stylesheets, images and icons, plus what
those stylesheets load through ``url(...)`` (fonts, images), each file once.
External addresses (``http://``, ``https://``, ``//``) and ``data:`` URIs are
not fetched; a data URI already counts as part of the HTML.

Run it as ``python tools/pageweight.py _build/html/book/*.html``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

_REF = re.compile(
    r"""<(?:script|img|source|link|iframe|embed)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""",
    re.I,
)
_LINK_REL = re.compile(r"""<link\b[^>]*\brel\s*=\s*["']([^"']+)["'][^>]*>""", re.I)
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""", re.I)
#: <link rel=...> kinds that a browser loads while showing the page.
_LOADED_RELS = {
    "stylesheet",
    "icon",
    "shortcut",
    "preload",
    "modulepreload",
    "apple-touch-icon",
}


@dataclass
class PageWeight:
    """The weight of one page: its HTML and the local files it loads."""

    page: Path
    files: dict[Path, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Bytes of the page and every local file it loads."""
        return sum(self.files.values())


def _local(ref: str, base: Path) -> Path | None:
    parts = urlsplit(ref)
    if parts.scheme or ref.startswith("//") or not parts.path:
        return None
    return (base.parent / unquote(parts.path)).resolve()


def _loaded_links(text: str) -> set[str]:
    """hrefs of <link> tags that are loaded (stylesheets, icons), not navigated to."""
    refs = set()
    for tag in re.findall(r"<link\b[^>]*>", text, re.I):
        rel = _LINK_REL.search(tag)
        href = re.search(r"""\bhref\s*=\s*["']([^"']+)["']""", tag, re.I)
        if rel and href and set(rel.group(1).lower().split()) & _LOADED_RELS:
            refs.add(href.group(1))
    return refs


def page_weight(page: str | Path) -> PageWeight:
    """Weigh ``page`` (a built HTML file) with the local files it loads."""
    page = Path(page).resolve()
    if not page.is_file():
        raise FileNotFoundError(f"no built page at {page}: build the book first")
    weight = PageWeight(page)
    text = page.read_text(errors="ignore")
    weight.files[page] = page.stat().st_size
    refs = {m for m in _REF.findall(text) if not m.lower().startswith("data:")}
    link_refs = _loaded_links(text)
    # <a href> is navigation, not loading; keep <link> only when it is loaded.
    refs = {r for r in refs if r in link_refs or not _is_link_only(text, r)}
    queue = [(ref, page) for ref in sorted(refs)]
    while queue:
        ref, base = queue.pop()
        path = _local(ref, base)
        if path is None or path in weight.files:
            continue
        if not path.is_file():
            weight.missing.append(ref)
            continue
        weight.files[path] = path.stat().st_size
        if path.suffix == ".css":
            for url in css_loads(path.read_text(errors="ignore")):
                queue.append((url, path))
    return weight


_FONT_FACE = re.compile(r"@font-face\s*{([^}]*)}", re.I)


def css_loads(css: str) -> list[str]:
    """The ``url(...)`` a browser fetches for a stylesheet.

    In an ``@font-face`` rule the ``src`` lists the same font in several
    formats, best first; a browser fetches the first one it supports (woff2
    in every current browser), so only that one counts. Every other
    ``url(...)`` counts. ``data:`` URIs are part of the stylesheet already.
    """
    loads = []
    for block in _FONT_FACE.findall(css):
        urls = [u for u in _CSS_URL.findall(block) if not u.startswith("data:")]
        loads.extend(urls[:1])
    outside = _FONT_FACE.sub("", css)
    loads.extend(u for u in _CSS_URL.findall(outside) if not u.startswith("data:"))
    return loads


def _is_link_only(text: str, ref: str) -> bool:
    """True if ``ref`` appears only in <link> tags (so it needs a loading rel)."""
    pattern = re.escape(ref)
    in_link = re.search(rf"<link\b[^>]*{pattern}", text, re.I) is not None
    elsewhere = re.search(
        rf"<(?:script|img|source|iframe|embed)\b[^>]*{pattern}", text, re.I
    )
    return in_link and elsewhere is None


def site_pages(directory: str | Path) -> list[Path]:
    """The HTML pages of a built site (not the theme's or Sphinx's own folders)."""
    root = Path(directory)
    return sorted(
        p
        for p in root.rglob("*.html")
        if not p.relative_to(root).parts[0].startswith("_")
    )


def site_weight(directory: str | Path) -> int:
    """Bytes of every file of a built site."""
    return sum(p.stat().st_size for p in Path(directory).rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    """Print the weight of each page given on the command line.

    A directory (e.g. ``_build/html``) stands for all its pages, and its total
    weight is printed too.
    """
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(
            "usage: python tools/pageweight.py (PAGE.html | SITE_DIR) ...",
            file=sys.stderr,
        )
        return 2
    for name in args:
        pages = site_pages(name) if Path(name).is_dir() else [Path(name)]
        for page in pages:
            weight = page_weight(page)
            html_bytes = weight.files[weight.page]
            print(
                f"{page}: {weight.total / 1e6:.2f} MB in all "
                f"(HTML {html_bytes / 1e6:.2f} MB, {len(weight.files) - 1} local files)"
            )
            for ref in weight.missing:
                print(f"  missing: {ref}")
        if Path(name).is_dir():
            print(f"{name}: the whole site weighs {site_weight(name) / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
