"""Book-wide problems: cross-references, labels and citations, each located in the source."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.errors import BuildError

from .conftest import MakeBook, quiet_build

BIB = """\
@article{known2020,
  title = {A Known Paper},
  author = {Doe, Jane},
  journal = {Journal of Tests},
  year = {2020}
}
"""


def book_with_bib(make_book: MakeBook, chapter: str, bib: str = BIB) -> Path:
    root = make_book({"index.qmd": "# Home\n", "chapters/a.qmd": chapter, "refs.bib": bib})
    config = root / "_quarto.yml"
    config.write_text(config.read_text() + "bibliography: refs.bib\n")
    return root


def test_unknown_cross_reference_names_file_and_line(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n\nLine three.\n\nSee @fig-nowhere.\n"})
    with pytest.raises(BuildError) as caught:
        quiet_build(root)
    assert caught.value.render() == "index.qmd:5: unknown cross-reference '@fig-nowhere'"


def test_duplicate_label_across_chapters(make_book: MakeBook) -> None:
    root = make_book(
        {"index.qmd": "# Home {#sec-same}\n", "b.qmd": "# B\n\n## Again {#sec-same}\n"}
    )
    with pytest.raises(BuildError) as caught:
        quiet_build(root)
    assert caught.value.render() == "b.qmd:3: duplicate label 'sec-same' (also in index.qmd)"


def test_repeated_automatic_ids_are_renamed_not_errors(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n\n## Summary\n", "b.qmd": "# B\n\n## Summary\n"})
    quiet_build(root)
    assert 'id="summary-2"' in (root / "_book" / "b.html").read_text()


def test_unknown_citation_key(make_book: MakeBook) -> None:
    root = book_with_bib(make_book, "# A\n\nCited [@known2020].\n\nAnd [@missing2021].\n")
    with pytest.raises(BuildError) as caught:
        quiet_build(root)
    assert caught.value.render() == (
        "chapters/a.qmd:5: unknown citation key '@missing2021' (not in refs.bib)"
    )


def test_uncited_bibliography_entry_is_an_error(make_book: MakeBook) -> None:
    extra = (
        BIB
        + "\n@book{unused2019,\n  title = {Unused},\n  author = {Roe, R.},\n  year = {2019}\n}\n"
    )
    root = book_with_bib(make_book, "# A\n\nCited [@known2020].\n", extra)
    with pytest.raises(BuildError) as caught:
        quiet_build(root)
    assert caught.value.render() == "refs.bib:8: bibliography entries never cited: unused2019"


def test_malformed_bibliography(make_book: MakeBook) -> None:
    root = book_with_bib(
        make_book, "# A\n\n[@known2020]\n", BIB + "\n@article{broken,\n title = {x\n"
    )
    with pytest.raises(BuildError) as caught:
        quiet_build(root)
    assert caught.value.file == "refs.bib"


def test_link_to_missing_anchor_fails_the_build(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n\n[dangling](#no-such-id)\n"})
    with pytest.raises(BuildError) as caught:
        quiet_build(root)
    assert caught.value.render() == (
        "index.qmd:3: link to '#no-such-id', which is not an anchor anywhere in the book"
    )
    assert not (root / "_book").exists()


def test_link_to_qmd_becomes_link_to_page(make_book: MakeBook) -> None:
    root = make_book(
        {"index.qmd": "# Home\n\n[B's part](chapters/b.qmd#sec-part)\n",
         "chapters/b.qmd": "# B\n\n## Part {#sec-part}\n"}
    )  # fmt: skip
    quiet_build(root)
    assert 'href="chapters/b.html#sec-part"' in (root / "_book" / "index.html").read_text()


def test_images_by_relative_path_are_copied_beside_their_page(make_book: MakeBook) -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>'
    root = make_book(
        {
            "index.qmd": "# Home\n",
            "chapters/c.qmd": '# C\n\n![A dot.](img/dot.svg){#fig-dot fig-alt="A dot."}\n',
            "chapters/img/dot.svg": svg,
        }
    )
    quiet_build(root)
    assert 'src="img/dot.svg"' in (root / "_book" / "chapters" / "c.html").read_text()
    assert (root / "_book" / "chapters" / "img" / "dot.svg").read_text() == svg


def test_appendices_are_lettered_and_grouped_as_quarto_does(make_book: MakeBook) -> None:
    root = make_book(
        {"index.qmd": "# Home\n\nSee @sec-drills and @sec-drill-one.\n",
         "a.qmd": "# A chapter\n\n## Part {#sec-part}\n",
         "drills.qmd": "# Drills {#sec-drills}\n\n## One {#sec-drill-one}\n",
         "more.qmd": "# More\n\n## Two\n"},
        chapters=["index.qmd", "a.qmd"],
    )  # fmt: skip
    config = root / "_quarto.yml"
    config.write_text(config.read_text() + "  appendices:\n    - drills.qmd\n    - more.qmd\n")
    quiet_build(root)
    index = (root / "_book" / "index.html").read_text()
    assert "Appendix\u00a0A</a>" in index  # a reference to an appendix names it so
    assert "Section\u00a0A.1</a>" in index
    drills = (root / "_book" / "drills.html").read_text()
    assert '<span class="header-section-number">A</span>' in drills
    more = (root / "_book" / "more.html").read_text()
    assert '<span class="header-section-number">B.1</span>' in more
    assert "Appendices" in index  # the sidebar lists them under Quarto's heading
    chapter = (root / "_book" / "a.html").read_text()
    assert '<span class="header-section-number">1.1</span>' in chapter  # chapters unchanged


@pytest.mark.parametrize(
    ("n", "label"), [(1, "A"), (26, "Z"), (27, "AA"), (28, "AB"), (703, "AAA")]
)
def test_appendix_letters_continue_past_z(n: int, label: str) -> None:
    from bookbuild.resolve import appendix_letter

    assert appendix_letter(n) == label
