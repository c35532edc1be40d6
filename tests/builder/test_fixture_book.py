"""End to end: build the fixture book (every builder feature) and check the web book."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bookbuild.linkcheck import check_links
from tests.builder.golden_files import build_fixture, page_diffs

from .conftest import copy_fixture, quiet_build


@pytest.fixture
def site(fixture_book_site: Path) -> Path:
    return fixture_book_site


def page(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def test_one_page_per_chapter_plus_assets(site: Path) -> None:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert pages == [
        "chapters/one.html",
        "chapters/references.html",
        "chapters/two.html",
        "index.html",
    ]
    for asset in ("book.css", "book.js", "minisearch.js", "search-index.js"):
        assert (site / "site_libs" / asset).is_file()


def test_pages_match_golden_files(site: Path) -> None:
    assert page_diffs(site) == [], "pages changed; run `make golden` and review the diff"


def test_numbering_is_book_wide(site: Path) -> None:
    one, two = page(site, "chapters/one.html"), page(site, "chapters/two.html")
    assert '<span class="header-section-number">1</span> Chapter One' in one
    assert "<figcaption>Figure\u00a01.1: Bars from a data file" in one
    assert "<caption>Table\u00a01.1: Squares of small numbers.</caption>" in one
    assert "<caption>Table\u00a01.2: Two toy models.</caption>" in one
    assert "(1.1)</annotation>" in one
    assert '<a href="one.html#fig-bars" class="quarto-xref">Figure\u00a01.1</a>' in two
    assert '<a href="one.html#eq-attention" class="quarto-xref">Equation\u00a0(1.1)</a>' in two
    assert '<a href="one.html#sec-callouts">callouts</a>' in two
    assert "Figure\u00a01: A straight line" in page(site, "index.html")


def test_callouts_render_with_titles_and_collapse(site: Path) -> None:
    one = page(site, "chapters/one.html")
    assert one.count('class="callout callout-') == 5
    assert '<details class="callout callout-important">' in one
    assert '<details class="callout callout-caution" open>' in one
    assert "A warning titled by a header" in one


def test_citations_link_to_the_references_page(site: Path) -> None:
    one = page(site, "chapters/one.html")
    assert 'href="references.html#ref-vaswani2017attention">Vaswani et al. 2017</a>' in one
    refs = page(site, "chapters/references.html")
    assert 'id="ref-vaswani2017attention"' in refs
    assert "Attention Is All You Need" in refs


def test_math_is_mathml_and_no_javascript_math(site: Path) -> None:
    one = page(site, "chapters/one.html")
    assert '<math display="block"' in one
    assert "mathjax" not in one.lower()
    assert "katex" not in one.lower()


def test_figures_are_svg_with_alt_text(site: Path) -> None:
    one = page(site, "chapters/one.html")
    assert re.search(
        r'<img src="one_files/figure-html/fig-bars-1.svg" alt="Eight vertical bars', one
    )
    svg = (site / "chapters/one_files/figure-html/fig-bars-1.svg").read_text()
    assert svg.startswith("<svg")
    assert "<!DOCTYPE" not in svg


def test_sidebar_toc_and_neighbours(site: Path) -> None:
    one = page(site, "chapters/one.html")
    assert '<span class="part-title">Part One</span>' in one
    assert 'aria-current="page" class="active"' in one
    assert '<a href="#sec-callouts">1.1 Callouts</a>' in one
    assert 'rel="prev" href="../index.html"' in one
    assert 'rel="next" href="two.html"' in one


def test_search_index_holds_every_section(site: Path) -> None:
    text = (site / "site_libs" / "search-index.js").read_text()
    docs = json.loads(text.removeprefix("window.BOOK_SEARCH_DOCS = ").rstrip(";\n"))
    unique = [d for d in docs if "zebracorn" in d["text"]]
    assert [d["url"] for d in unique] == ["chapters/two.html#sec-unique"]
    assert unique[0]["title"] == "2.1 A section with a unique phrase"


def test_nothing_loads_from_the_network(site: Path) -> None:
    for html in site.rglob("*.html"):
        for match in re.finditer(r'(?:src|href)="([^"]+)"', html.read_text()):
            url = match.group(1)
            if url.startswith(("http:", "https:", "//")):
                assert match.group(0).startswith("href"), f"{html}: loads {url}"


def test_every_internal_link_resolves(site: Path) -> None:
    assert check_links(site) == []


def test_link_checker_reports_missing_files_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        '<p id="here"><a href="#here">ok</a><a href="b.html#x">b</a>\n'
        '<a href="#gone">x</a><img src="pic.svg"></p>'
    )
    (tmp_path / "b.html").write_text('<h1 id="y">B</h1>')
    problems = check_links(tmp_path)
    assert problems == [
        "a.html:1: link to missing anchor 'b.html#x'",
        "a.html:2: link to missing anchor '#gone'",
        "a.html:2: link to missing file 'pic.svg'",
    ]


def test_two_clean_builds_are_byte_identical(site: Path, tmp_path: Path) -> None:
    other = build_fixture(tmp_path / "again")
    first = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    second = {p.relative_to(other): p.read_bytes() for p in other.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_rebuild_with_nothing_changed_executes_nothing(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "book")
    assert sorted(quiet_build(root).executed) == [
        "chapters/one.qmd",
        "chapters/two.qmd",
        "index.qmd",
    ]
    again = quiet_build(root)
    assert again.executed == []
    assert sorted(again.frozen) == ["chapters/one.qmd", "chapters/two.qmd", "index.qmd"]
    (root / "chapters/two.qmd").write_text(
        (root / "chapters/two.qmd").read_text().replace("sum(", "max(")
    )
    assert quiet_build(root).executed == ["chapters/two.qmd"]


def test_repo_actions_link_each_page_to_its_source(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "book")
    config = root / "_quarto.yml"
    config.write_text(
        config.read_text().replace(
            "  downloads: [pdf, epub]\n",
            "  downloads: [pdf, epub]\n  repo-url: https://example.org/me/book/\n"
            "  repo-actions: [edit, issue]\n",
        )
    )
    quiet_build(root)
    one = page(root / "_book", "chapters/one.html")
    assert (
        '<a href="https://example.org/me/book/edit/main/chapters/one.qmd">Edit this page</a>' in one
    )
    assert 'href="https://example.org/me/book/issues/new?title=1%E2%80%82Chapter%20One' in one
