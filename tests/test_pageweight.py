"""Tests of tools/pageweight.py on a small site written here."""

from __future__ import annotations

import pytest
from pageweight import css_loads, main, page_weight


def _site(tmp_path):
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "a.js").write_bytes(b"x" * 100)
    (tmp_path / "_static" / "s.css").write_text(
        '@font-face{src:url("f.woff2") format("woff2"),url(f.ttf) format("truetype")}'
        "body{background:url(bg.png)}"
    )
    (tmp_path / "_static" / "f.woff2").write_bytes(b"w" * 1000)
    (tmp_path / "_static" / "f.ttf").write_bytes(b"t" * 5000)
    (tmp_path / "_static" / "bg.png").write_bytes(b"p" * 10)
    (tmp_path / "img.svg").write_bytes(b"s" * 30)
    page = tmp_path / "page.html"
    page.write_text(
        '<link rel="stylesheet" href="_static/s.css"><script src="_static/a.js"></script>'
        '<link rel="next" href="other.html"><a href="elsewhere.html">x</a>'
        '<img src="img.svg" alt="a"><img src="data:image/png;base64,AAAA" alt="b">'
        '<script src="https://cdn.example/x.js"></script><script src="_static/a.js"></script>'
    )
    return page


def test_counts_each_loaded_file_once_and_only_the_first_font_format(tmp_path):
    page = _site(tmp_path)
    weight = page_weight(page)
    names = sorted(p.name for p in weight.files)
    assert names == ["a.js", "bg.png", "f.woff2", "img.svg", "page.html", "s.css"]
    css = (tmp_path / "_static" / "s.css").stat().st_size
    assert weight.total == page.stat().st_size + 100 + css + 1000 + 10 + 30
    assert weight.missing == []


def test_reports_missing_files(tmp_path):
    page = tmp_path / "p.html"
    page.write_text('<script src="gone.js"></script>')
    assert page_weight(page).missing == ["gone.js"]


def test_css_loads():
    assert css_loads("@font-face{src:url(a.woff2),url(a.ttf)} x{y:url('b.png')}") == [
        "a.woff2",
        "b.png",
    ]


def test_command_line(tmp_path, capsys):
    page = _site(tmp_path)
    assert main([str(page)]) == 0
    assert "MB in all" in capsys.readouterr().out
    assert main([]) == 2
    with pytest.raises(FileNotFoundError, match="build the book"):
        page_weight(tmp_path / "nothing.html")


def test_a_site_directory_lists_its_pages_and_total(tmp_path, capsys):
    from pageweight import site_pages, site_weight

    page = _site(tmp_path)
    assert site_pages(tmp_path) == [page]  # _static holds no pages
    total = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert site_weight(tmp_path) == total
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "page.html" in out and "the whole site weighs" in out
