"""Formulas typeset when the site is built (part of ``sgdlab_site``).

``<meta name="viewport">``: the second goes.
**Formulas typeset when the site is built.** MathJax in the browser costs a
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

Where node is missing, :func:`lazy_mathjax` is the small loader that replaces
MathJax's ``<script>`` on the pages that still have TeX.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

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

    texts = [keep_brackets(text) for text in texts]
    pages = []
    for text in texts:
        formulas = []
        for match in _MATH.finditer(text):
            tex = _raw_tex(match.group(1), match.group(2))
            if tex is None:
                continue
            if match.group(1) == "div":
                formulas += [
                    {"tex": part, "display": True} for part in display_parts(tex)
                ]
            else:
                formulas.append({"tex": tex, "display": False})
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


#: An inline formula (still TeX), the "(" before it and the punctuation after it.
_BRACKETED = re.compile(
    r'(\(?)(<span class="math notranslate nohighlight">\\\((.*?)\\\)</span>)([)\].,;:]*)',
    re.S,
)
#: Longer formulas may be wider than a phone's line: they are left free to wrap.
GLUED_TEX = 40


def keep_brackets(text: str) -> str:
    """``text`` with each short inline formula kept on one line with the "(" that
    opens it and the punctuation that follows it.

    A browser may break a line between a formula typeset as an SVG (an atomic
    inline) and the bracket or comma beside it, leaving "(" alone at a line's
    end or starting the next line with ","; they go in one ``sgdlab-nobr`` span
    (``white-space: nowrap``, ``assets/sgdlab.css``)."""

    def glue(m: re.Match) -> str:
        before, formula, tex, after = m.groups()
        if not (before or after) or len(tex) > GLUED_TEX:
            return m.group(0)
        return f'<span class="sgdlab-nobr">{before}{formula}{after}</span>'

    return _BRACKETED.sub(glue, text)


#: A display formula's parts, side by side where the column is wide enough, else
#: one under the other, centred (``assets/sgdlab.css``).
PARTS = '<span class="sgdlab-parts">%s</span>'
_SPLIT_OPEN, _SPLIT_CLOSE = "\\begin{split}", "\\end{split}"
_SPLIT_WORD = re.compile(r"\\(begin|end|left|right|qquad)(?![a-zA-Z])|\\.|[{}]", re.S)


def display_parts(tex: str) -> list[str]:
    """A display formula's TeX cut at its top-level ``\\qquad``s (outside braces,
    environments and ``\\left...\\right``), where it sets formulas side by side
    (``A, \\qquad B``). MathJax 3 does not break a long formula across lines;
    typeset as separate formulas, the parts wrap onto lines of their own in a
    phone's column. A formula with a top-level line break stays whole. Sphinx
    wraps a formula that holds ``\\\\`` (in an ``aligned`` block, say) in
    ``split``: the parts are looked for inside that wrapper."""
    inner = tex.strip()
    if inner.startswith(_SPLIT_OPEN) and inner.endswith(_SPLIT_CLOSE):
        parts = display_parts(inner[len(_SPLIT_OPEN) : -len(_SPLIT_CLOSE)])
        return parts if len(parts) > 1 else [tex]
    parts, depth, start = [], 0, 0
    for word in _SPLIT_WORD.finditer(tex):
        token, name = word.group(0), word.group(1)
        if token == "{" or name in ("begin", "left"):
            depth += 1
        elif token == "}" or name in ("end", "right"):
            depth -= 1
        elif token == "\\\\" and depth == 0:
            return [tex]
        elif name == "qquad" and depth == 0:
            parts.append(tex[start : word.start()])
            start = word.end()
    parts = [part.strip() for part in [*parts, tex[start:]] if part.strip()]
    return parts if len(parts) > 1 else [tex]


#: An inline formula wider than this (in ex; 8 px each) may not fit in a phone's
#: column, inside a box (about 250 CSS px at 320 px): it may scroll sideways.
WIDE_INLINE_EX = 24.0
_INLINE_OPEN = '<mjx-container class="MathJax" jax="SVG" style="position: relative;">'
_INLINE_SVG = re.compile(
    re.escape(_INLINE_OPEN)
    + r'<svg style="vertical-align: (-?[\d.]+(?:ex)?);"[^>]*?\swidth="([\d.]+)ex"'
)


def mark_wide_inline(svg: str) -> str:
    """An inline formula (``svg``, MathJax's ``<mjx-container>``) wider than
    :data:`WIDE_INLINE_EX`, classed ``sgdlab-wide``: a box that scrolls sideways
    where the column is narrower (``assets/sgdlab.css``), set on the text's
    baseline by the formula's own depth (a scrolling box's baseline is its bottom)."""
    found = _INLINE_SVG.match(svg)
    if not found or float(found.group(2)) <= WIDE_INLINE_EX:
        return svg
    opening = (
        '<mjx-container class="MathJax sgdlab-wide" jax="SVG" '
        f'style="position: relative; vertical-align: {found.group(1)};">'
    )
    return opening + svg[len(_INLINE_OPEN) :]


def _put_formulas(text: str, typeset: list[str], defs: str) -> str:
    """``text`` with its TeX formulas replaced, in order, by ``typeset``; ``defs`` (the
    glyphs' paths, once per page, which the formulas draw with ``<use>``) after ``<body>``."""
    formulas = iter(typeset)

    def replace(match: re.Match) -> str:
        tag, inner = match.group(1), match.group(2)
        if _raw_tex(tag, inner) is None:
            return match.group(0)
        if tag == "span":
            svg = mark_wide_inline(next(formulas))
        else:
            # A display formula wider than the column scrolls sideways: a keyboard
            # reader must be able to focus it to scroll it (as MathJax in the browser allows).
            parts = [
                next(formulas).replace(
                    "<mjx-container ", '<mjx-container tabindex="0" ', 1
                )
                for _ in display_parts(_raw_tex(tag, inner))
            ]
            svg = parts[0] if len(parts) == 1 else PARTS % "".join(parts)
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


def lazy_mathjax(src: str) -> str:
    """A small inline loader in place of ``<script src=MathJax>``.

    MathJax's start-up and its typesetting of a whole page are one long task
    (one to two seconds with Lighthouse's 4x slower CPU on the chapters with
    most math), which blocks a phone's main thread. It starts when a formula is
    within one screen height of the viewport, and typesets the formulas as
    they come near, six per task, so the page paints and responds first.
    """
    return _MATHJAX_LOADER % html.escape(src, quote=True)
