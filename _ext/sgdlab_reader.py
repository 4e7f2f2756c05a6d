"""What a reader on a phone needs from every page (part of ``sgdlab_site``).

A short inline script (``sgdlab_reader.js`` beside this file): a link in a
drawer closes the drawer, and a block that scrolls sideways is marked on the side
where there is more to see, which ``assets/sgdlab.css`` shades. The drawers
themselves open because ``_templates/sections/header.html`` drops the theme's
hidden duplicate buttons (pydata-sphinx-theme issue #2451).
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

SCRIPT = Path(__file__).with_name("sgdlab_reader.js")


def setup(app: Sphinx) -> dict:
    # Inline: no request; it only registers listeners for DOMContentLoaded.
    app.add_js_file(None, body=SCRIPT.read_text(encoding="utf-8"))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
