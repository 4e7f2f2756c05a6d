"""Unique ids on every page (part of ``sgdlab_site``).

sphinx-exercise gives every exercise body the id ``exercise-content`` and every
solution body ``solution-content``; sphinx-proof repeats ``proof`` and
``proof-content``. A page with several repeats them (invalid HTML, and a fragment
link goes to the first). The second and later get a numbered suffix.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx


def unique_section_ids(app: Sphinx, doctree: nodes.document, docname: str) -> None:
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
