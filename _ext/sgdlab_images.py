"""Images with explicit sizes, and not inline (part of ``sgdlab_site``).

browser, starting when a formula comes within a screen of the viewport.
**Images with explicit sizes, and not inline.** Large ``data:`` SVG images
(the animation players' panels) are written to ``_images/`` and loaded
lazily, so the text of the page arrives first; so are the explorers' runs
(a JSON file each, fetched as the explorer nears the screen). Figures are
SVG files without ``width`` and ``height`` attributes, so the browser
cannot reserve their space before they load and the text below them
jumps. Each local SVG or PNG ``<img>`` gets the image's intrinsic size (the
theme's CSS still scales it to the column).
6. **A chapter laid out as the reader nears it** (on a phone): its sections and
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from pathlib import Path
from urllib.parse import unquote

from sgdlab_stylesheet import is_local

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


def size_images(text: str, page: Path, outdir: Path) -> str:
    def add_size(match: re.Match) -> str:
        tag = match.group(0)
        if re.search(r"\s(width|height)=", tag):
            return tag
        src = re.search(r'\bsrc="([^"]+)"', tag)
        if not src or not is_local(src.group(1)):
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
