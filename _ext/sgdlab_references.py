"""The reference list in the author–year form that the text cites in.

The chapters cite with sphinxcontrib-bibtex's ``author_year`` style: "[Kingma
and Ba, 2015]", or "Keskar et al. [2016]" with ``{cite:t}``. pybtex's ``plain``
style would list the same work as "[8] Diederik P. Kingma and Jimmy Ba. Adam: …
2015.", numbered, first names first and the year last, so a reader holding
"Kingma and Ba, 2015" has to scan the whole list. The ``authoryear`` style
registered here writes every entry as it is cited: surnames first, the year
right after them, in a list sorted by author, year and title::

    Kingma, Diederik P. and Ba, Jimmy (2015). Adam: a method for stochastic
    optimization. In 3rd International Conference on Learning Representations
    (ICLR). arXiv:1412.6980.

It covers the entry types that ``book/references.bib`` uses (article, book,
inproceedings, misc; online is misc). Another type would fall back to the
plain template, year last; the test suite fails on one, so that it gets a
template here first.

Enabled in ``_config.yml`` (``local_extensions``, ``bibtex_default_style:
authoryear``). ``CitationsAsList`` then draws the list as a plain bulleted
list, without the numbered label column of a docutils citation list.
"""

from __future__ import annotations

from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.formatting.unsrt import pages as _pages
from pybtex.style.sorting.author_year_title import SortingStyle
from pybtex.style.template import (
    field,
    first_of,
    join,
    optional,
    optional_field,
    sentence,
    tag,
    words,
)
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

STYLE_NAME = "authoryear"
#: The entry types with a template of their own here (the test suite checks that
#: ``book/references.bib`` uses no other).
COVERED_TYPES = frozenset({"article", "book", "inproceedings", "misc", "online"})


class _ByLead(SortingStyle):
    """Author, year, title; a work without an author sorts by its title, where
    its entry puts the title (plain's order would put all of them first)."""

    def sorting_key(self, entry):
        author, year, title = super().sorting_key(entry)
        return (author or title.lower().strip("{}"), year, title)


class AuthorYearStyle(PlainStyle):
    """pybtex's plain style with "Surname, First (year)." at the head of each entry."""

    default_name_style = "lastfirst"
    default_sorting_style = "author_year_title"

    def __init__(self, **options):
        options.setdefault("abbreviate_names", True)
        super().__init__(**options)
        self.sort = _ByLead().sort

    def _head(self, e):
        """ "Surname, I. and Surname, I. (year)": the name the text cites it by.

        A work without an author (a question on a forum) is cited by its title,
        a work without a date with "n.d.", as the in-text labels of
        sphinxcontrib-bibtex's ``author_year`` style do.
        """
        year = join["(", first_of[optional[field("year")], "n.d."], ")"]
        if "author" in e.persons:
            lead = self.format_names("author", as_sentence=False)
        else:
            lead = self.format_title(e, "title", as_sentence=False)
        return sentence[join(sep=" ")[lead, year]]

    def _title(self, e):
        """The title, unless it already leads the entry in place of the authors."""
        return self.format_title(e, "title") if "author" in e.persons else ""

    def get_article_template(self, e):
        volume_and_pages = first_of[
            optional[
                join[field("volume"), optional["(", field("number"), ")"], ":", _pages]
            ],
            words["pages", _pages],
        ]
        return toplevel[
            self._head(e),
            self._title(e),
            sentence[tag("em")[field("journal")], optional[volume_and_pages]],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_book_template(self, e):
        return toplevel[
            self._head(e),
            self.format_btitle(e, "title"),
            sentence[field("publisher"), optional_field("address")],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_inproceedings_template(self, e):
        return toplevel[
            self._head(e),
            self._title(e),
            words[
                "In",
                sentence[
                    self.format_btitle(e, "booktitle", as_sentence=False),
                    optional[_pages],
                ],
            ],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_misc_template(self, e):
        return toplevel[
            self._head(e),
            self._title(e),
            sentence[optional[field("howpublished")]],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]

    def get_online_template(self, e):
        return self.get_misc_template(e)


class CitationsAsList(SphinxPostTransform):
    """The reference list as a plain bulleted list, without "[1]"-style labels.

    sphinxcontrib-bibtex links citations only to a bibliography of the
    ``citation`` kind, which docutils draws with a label column ("[8]", or a
    wide "[Kingma and Ba, 2015]" that squeezes the entries on a phone). Once
    the bibliography is built (its transform has priority 5) and before the
    references are resolved (10), each such list becomes a ``<ul>`` whose items
    keep the entries' ids, so every citation still lands on its entry; the
    entry itself opens with the authors and the year.
    """

    default_priority = 7

    def run(self, **kwargs) -> None:
        for container in list(self.document.findall(nodes.container)):
            children = list(container.children)
            if not children or not all(isinstance(c, nodes.citation) for c in children):
                continue
            items = nodes.bullet_list(classes=["sgdlab-references"])
            for citation in children:
                item = nodes.list_item(ids=citation["ids"])
                item.extend(
                    child.deepcopy()
                    for child in citation.children
                    if not isinstance(child, nodes.label)
                )
                items += item
            container.replace_self(items)


def setup(app: Sphinx) -> dict:
    register_plugin("pybtex.style.formatting", STYLE_NAME, AuthorYearStyle)
    app.add_post_transform(CitationsAsList)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
