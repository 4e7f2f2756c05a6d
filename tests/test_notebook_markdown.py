"""The reader notebooks' Markdown (sgdlab.notebooks.myst_markdown): numbered
references, tables and citations come out as the built page shows them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sgdlab.notebooks.myst_markdown import Book, Converter

FIRST = """(ch-first)=
# First

## Setting up

Some text.

(sec-second)=
## The second section

```{code-cell} ipython3
# a comment, not a heading
## nor this
x = 1
```

(out-three)=
```{code-cell} ipython3
print(3)
```

```{table} Two numbers.
:name: tab-two

| a | b |
|---|---|
| 1 | 2 |
```
"""

SECOND = """(ch-second)=
# Second

See {numref}`Chapter %s <ch-first>`, {numref}`Section %s <sec-second>`,
{numref}`tab-two`, {ref}`the printout <out-three>` and {ref}`sec-second`.
As asked in {cite:p}`anon` and shown by {cite:t}`named`.
"""

BIB = """@misc{anon, title = {A {Question} without an author}}
@misc{named, author = {Doe, Jane and Roe, Rick}, title = {Work}, year = {2020}}
"""


@pytest.fixture
def book(tmp_path: Path) -> Book:
    (tmp_path / "first.md").write_text(FIRST)
    (tmp_path / "second.md").write_text(SECOND)
    (tmp_path / "refs.bib").write_text(BIB)
    return Book(tmp_path, chapters=["first", "second"])


def test_chapters_and_sections_are_numbered_as_on_the_page(book):
    # The headings inside the code cell do not count: the section is 1.2.
    assert book.numbers == {"ch-first": "1", "sec-second": "1.2", "ch-second": "2"}


def test_references_tables_and_citations(book, tmp_path):
    text = Converter(book, "second", tmp_path / "second.md").convert(SECOND)
    assert "[Chapter 1](first.ipynb#First)" in text
    assert "[Section 1.2](first.ipynb#The-second-section)" in text
    assert "Table 1.1" in text
    assert "the printout" in text and "out-three" not in text
    assert "(A Question without an author n.d.)" in text
    assert "Doe and Roe (2020)" in text


def test_a_table_keeps_its_number_caption_and_rows(book, tmp_path):
    table = FIRST[FIRST.index("```{table}") :]  # a Markdown cell of its own
    text = Converter(book, "first", tmp_path / "first.md").convert(table)
    assert "*Table 1.1. Two numbers.*" in text
    assert "| 1 | 2 |" in text and ":name:" not in text


def test_a_label_on_a_code_cell_needs_the_text_of_its_reference(book, tmp_path):
    converter = Converter(book, "second", tmp_path / "second.md")
    with pytest.raises(ValueError, match="needs its own text"):
        converter.convert("{ref}`out-three`")
