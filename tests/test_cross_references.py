"""What a reader follows from page to page: citations, references and the
Previous/Next links, read from the built pages.

- Every citation in the text names its work as the reference list does: the
  authors' surnames and the year ("Kingma and Ba, 2015"), and the entry it links
  to opens with those surnames and that year, in a list sorted by author.
- No reference doubles its own word ("exercise Exercise 1.4": the role already
  writes "Exercise").
- Previous and Next on every page name another page, by that page's title.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "_build" / "html" / "book"
BIB = ROOT / "book" / "references.bib"

#: The words with which sphinx-exercise, sphinx-proof and Sphinx's numref name
#: what they point to ("Exercise 1.4", "Theorem 2.2", "Fig. 4.1", "Table 6.1").
REFERENCE_WORDS = (
    "exercise|solution|figure|fig\\.|table|theorem|lemma|proposition|remark|"
    "definition|corollary|proof|algorithm|equation|eq\\.|section|chapter|listing"
)
_SAME = {"fig.": "figure", "eq.": "equation"}
_PAIR = re.compile(rf"\b({REFERENCE_WORDS})\s+({REFERENCE_WORDS})(?=[\s\d(])", re.I)


def doubled_reference_words(text: str) -> list[str]:
    """Places where a word like "exercise" is followed by the same word ("Exercise
    1.4", "Fig. 2"), case-insensitively: a reference written after its own name."""
    found = []
    for match in _PAIR.finditer(text):
        first, second = (_SAME.get(w.lower(), w.lower()) for w in match.groups())
        if first == second:
            found.append(text[max(0, match.start() - 40) : match.end() + 20])
    return found


def test_the_doubled_word_check_can_fail():
    assert doubled_reference_words("as (exercise Exercise 1.4 measures it)")
    assert doubled_reference_words("see figure Fig. 4.2 and")
    assert doubled_reference_words("in Table table 2")
    assert not doubled_reference_words("as Exercise 1.4 measures; see Fig. 4.2")
    assert not doubled_reference_words("the table of Table 6.1")


def _pages() -> list[Path]:
    return [BOOK / page for page in _toc_pages()]


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(), "html.parser")


def _main_text(soup: BeautifulSoup) -> str:
    main = soup.find("article") or soup
    for tag in main.find_all(["script", "style"]):
        tag.decompose()
    return re.sub(r"\s+", " ", main.get_text(" "))


def _toc_pages() -> list[str]:
    """Every page of ``_toc.yml``, as the build names its HTML file."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [
        c["file"] for part in toc["parts"] for c in part["chapters"]
    ]
    return [f"{Path(f).name}.html" for f in files]


@pytest.mark.parametrize("page", _toc_pages())
def test_no_reference_doubles_its_word(build, page):
    text = _main_text(_soup(BOOK / page))
    assert not doubled_reference_words(text), doubled_reference_words(text)


def _title(tag) -> str:
    """A page's title (its H1 or a Previous/Next label) without the pilcrow
    link and the chapter number, which the H1 does not show."""
    for link in tag.find_all("a", class_="headerlink"):
        link.decompose()
    text = re.sub(r"\s+", " ", tag.get_text(" ")).strip()
    return re.sub(r"^\d+(\.\d+)*\.\s+", "", text)


def test_previous_and_next_name_other_pages_by_their_titles(build):
    titles = {page.name: _title(_soup(page).find("h1")) for page in _pages()}
    assert len(set(titles.values())) == len(titles), titles
    for name in titles:
        links = _soup(BOOK / name).select(".prev-next-area a")
        assert links or name == "references.html", f"{name} has no Previous/Next"
        for link in links:
            target = Path(link["href"].split("#")[0]).name
            shown = _title(link.select_one(".prev-next-title"))
            assert target != name, f"{name}: {link['class']} links to itself"
            assert shown != titles[name], (
                f"{name}: {link['class']} shows the page's own title {shown!r}"
            )
            assert shown == titles[target], (name, target, shown, titles[target])


# --- citations --------------------------------------------------------------


@functools.cache
def _bib_entries() -> dict:
    from pybtex.database import parse_file

    return parse_file(str(BIB)).entries


@functools.cache
def _plain(text: str) -> str:
    """BibTeX's text as a page shows it: accents decoded, braces dropped."""
    from pybtex.richtext import Text

    return Text.from_latex(text).render_as("text")


def _surnames(entry) -> list[str]:
    return [
        _plain(" ".join(p.prelast_names + p.last_names))
        for p in entry.persons.get("author", [])
    ]


def _expected_label(entry) -> str:
    """How an author–year citation names a work (sphinxcontrib-bibtex's rule)."""
    names = _surnames(entry)
    if not names:
        return _plain(entry.fields["title"])
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


def _year(entry) -> str:
    return entry.fields.get("year", "n.d.")


def _title_words(entry) -> str:
    return _words(_plain(entry.fields["title"]))


def _squeeze(text: str) -> str:
    """Text with the spaces that markup boundaries add taken out again."""
    text = re.sub(r"\s+", " ", text).strip()
    return text.replace(" ,", ",").replace("[ ", "[").replace(" ]", "]")


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _opens_with(text: str, entry) -> bool:
    """Whether a list entry is this work: its year in parentheses, then its title
    (or, for a work without authors, its title first)."""
    marker = f"({_year(entry)})"
    if marker not in text:
        return False
    after = text.split(marker, 1)[1] if _surnames(entry) else text
    return _words(after).startswith(_title_words(entry))


@functools.cache
def _reference_list() -> dict[str, tuple[str, object]]:
    """Each entry of the built reference list by its id: (its text, its bib entry)."""
    soup = _soup(BOOK / "references.html")
    entries = _bib_entries().values()
    listed = {}
    for item in soup.select("article li[id]"):
        text = re.sub(r"\s+", " ", item.get_text(" ")).strip()
        matches = [e for e in entries if _opens_with(text, e)]
        assert len(matches) == 1, f"cannot tell which work {text[:80]!r} is"
        listed[item["id"]] = (text, matches[0])
    return listed


def test_reference_list_is_author_year_sorted_and_complete(build):
    listed = _reference_list()
    assert len(listed) == len(_bib_entries()), "the list leaves works out"
    html = (BOOK / "references.html").read_text()
    assert not re.search(r'class="label"><span class="fn-bracket">\[', html), (
        "numbered labels in the list"
    )
    leads = []
    for text, entry in listed.values():
        head, _, _ = text.partition(f"({_year(entry)})")
        names = _surnames(entry) or [_plain(entry.fields["title"])]
        position = 0
        for name in names:  # every author, surname first, in order, before the year
            found = head.lower().find(name.lower(), position)
            assert found >= position, (name, text)
            position = found + len(name)
        assert head.lower().startswith(names[0].lower()), text
        leads.append(names[0].lower())
    assert leads == sorted(leads), "the list is not sorted by first author"


def test_every_citation_names_its_entry_as_the_list_does(build):
    listed = _reference_list()
    seen = 0
    for page in _pages():
        if page.name == "references.html":
            continue
        for citation in _soup(page).select("span.bibtex-citation"):
            text = _squeeze(citation.get_text(" "))
            links = citation.select("a.reference.internal")
            assert links, f"{page.name}: citation {text!r} links nowhere"
            for link in links:
                href = link["href"]
                assert href.startswith("references.html#"), (page.name, href)
                _, entry = listed[href.split("#", 1)[1]]
                label, year = _expected_label(entry), _year(entry)
                shown = _squeeze(link.get_text(" "))
                if shown == year:  # {cite:t}: "Keskar et al. [2016]"
                    assert text.startswith(f"{label} ["), (page.name, text, label)
                else:  # {cite:p}: "[Kingma and Ba, 2015]"
                    assert shown == f"{label}, {year}", (page.name, shown, label)
                seen += 1
    assert seen > 40, f"only {seen} citations found: has the markup changed?"


def test_no_citation_repeats_the_names_just_written(build):
    """ "Cohen et al. [Cohen et al., 2022]", "Pivarski's book [Pivarski, 2024]":
    a sentence that names the authors cites with {cite:t} ("Cohen et al. [2022]")."""
    titles = {_plain(e.fields["title"]) for e in _bib_entries().values()}
    for page in _pages():
        text = _squeeze(_main_text(_soup(page)))
        for match in re.finditer(r"\[([^\[\]]+?), (\d{4}|n\.d\.)\]", text):
            if match.group(1) in titles:  # a work without authors: no names
                continue
            first = match.group(1).split()[0]
            before = text[max(0, match.start() - 100) : match.start()]
            assert first not in before, (page.name, before + match.group(0))


def test_the_reference_style_covers_every_entry_type():
    from sgdlab_references import COVERED_TYPES

    types = {entry.type for entry in _bib_entries().values()}
    assert types <= COVERED_TYPES, types - COVERED_TYPES
