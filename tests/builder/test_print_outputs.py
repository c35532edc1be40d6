"""The fixture book's PDF, EPUB and notebooks: structure, fonts, Unicode, validity."""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bookbuild.errors import BuildError

from ..conftest import ARTIFACTS
from ..support import epub, notebooks, pdf
from ..support.pdf import squash
from ..support.quarto import cells
from .conftest import FIXTURE_BOOK, MakeBook, quiet_build

EPUBCHECK = Path("/usr/share/java/epubcheck.jar")


@pytest.fixture
def book_pdf(fixture_book_site: Path) -> Path:
    return fixture_book_site / "fixture-book.pdf"


def test_pdf_opens_with_metadata_and_plausible_size(book_pdf: Path) -> None:
    meta = pdf.info(book_pdf)
    assert meta["Title"] == "Fixture Book"
    assert meta["Author"] == "The builder's tests"
    assert meta["Page size"].startswith("595.276 x 841.89")  # A4, the default
    assert 6 <= int(meta["Pages"]) <= 20


def test_every_font_is_embedded(book_pdf: Path) -> None:
    fonts = pdf.fonts(book_pdf)
    assert fonts
    assert [name for name, embedded in fonts if not embedded] == []


def test_titles_and_captions_are_text(book_pdf: Path) -> None:
    text = " ".join(pdf.text(book_pdf).split())
    for phrase in (
        "Chapter One",
        "Chapter Two",
        "Figure 1.1: Bars from a data file",
        "Table 1.1: Squares of small numbers.",
        "Attention Is All You Need",
    ):
        assert phrase.replace(" ", "") in text.replace(" ", "").replace("\u00a0", ""), phrase


def test_outline_nests_parts_and_chapters_in_order(book_pdf: Path) -> None:
    top = [(d, t) for d, t in pdf.outline(book_pdf) if d <= 1]
    assert top == [
        (0, "Preface"),
        (0, "Part One"),
        (1, "1 Chapter One"),
        (0, "Part Two"),
        (1, "2 Chapter Two"),
        (0, "References"),
    ]


def test_unicode_in_prose_and_code_has_glyphs(book_pdf: Path) -> None:
    text = pdf.text(book_pdf)
    for sample in ("café", "你好", "नमस्ते", "🚀", "∑"):
        assert sample in text
    assert pdf.missing_glyphs(book_pdf) == set()


def test_title_page_and_chapters_open_on_their_bookmarked_pages(book_pdf: Path) -> None:
    pages = pdf.pages(book_pdf)
    assert squash("Fixture Book") in squash(pages[0])
    assert squash("Every feature the builder supports") in squash(pages[0])
    assert squash("The builder's tests") in squash(pages[0])
    starts = [(t, p) for d, t, p in pdf.outline_pages(book_pdf) if d <= 1]
    assert [p for _, p in starts] == sorted({p for _, p in starts})  # in order, one page each
    for title, page in starts:
        assert squash(title) in squash(pages[page]), f"{title!r} is not on page {page + 1}"
    rendered = pdf.render(book_pdf, ARTIFACTS / "fixture-pdf", 1, 4)  # for a human to look at
    assert [p.name for p in rendered if pdf.is_blank(p)] == []


def test_captions_are_numbered_by_chapter_and_references_resolve(book_pdf: Path) -> None:
    captions = pdf.captions(book_pdf)
    assert [(c.label, c.text) for c in captions] == [
        ("Figure 1", "A straight line drawn in the preface."),
        ("Figure 1.1", "Bars from a data file, for Section 1.2."),
        ("Table 1.1", "Squares of small numbers."),
        ("Table 1.2", "Two toy models."),
    ]
    starts = [
        (page, title.split()[0] if title[0].isdigit() else None)
        for depth, title, page in pdf.outline_pages(book_pdf)
        if depth <= 1
    ]
    assert pdf.numbering_problems(captions, starts) == []
    text = " ".join(pdf.text(book_pdf).split())
    for resolved in ("The next chapter is Chapter 2.", "Equation (1.1)", "to Section 1.1."):
        assert resolved in text, resolved
    assert "??" not in text


def test_epub_nav_lists_parts_and_chapters_in_order(fixture_book_site: Path) -> None:
    book = fixture_book_site / "fixture-book.epub"
    entries = epub.nav(book)
    listed = [(e.depth, re.sub(r"^(?:\d+ )+", "", e.text)) for e in entries if e.depth <= 1]
    assert listed == [
        (0, "Preface"),
        (0, "Part One"),
        (1, "Chapter One"),
        (0, "Part Two"),
        (1, "Chapter Two"),
        (0, "References"),
    ]
    assert epub.broken_links(book, entries) == []


def test_epub_nav_shows_each_chapter_number_once(fixture_book_site: Path) -> None:
    chapters = [e.text for e in epub.nav(fixture_book_site / "fixture-book.epub") if e.depth == 1]
    assert chapters == ["1 Chapter One", "2 Chapter Two"]


def test_epub_passes_epubcheck(fixture_book_site: Path) -> None:
    epub = fixture_book_site / "fixture-book.epub"
    done = subprocess.run(
        ["java", "-jar", str(EPUBCHECK), str(epub)], capture_output=True, text=True, check=False
    )
    assert "0 fatals / 0 errors" in done.stdout + done.stderr, done.stdout + done.stderr


def source_cells(path: Path) -> list[str]:
    """The text of every executable cell of a chapter, ``#|`` options included."""
    return ["\n".join(body) for _, body in cells(path.read_text(encoding="utf-8").splitlines())]


def stream_outputs(nb: Any) -> list[list[tuple[str, str]]]:
    """Per code cell: (stream name, text) of its printed outputs."""
    return [
        [(o["name"], o["text"]) for o in c.outputs if o["output_type"] == "stream"]
        for c in nb.cells
        if c.cell_type == "code"
    ]


def test_notebooks_are_valid_with_outputs(fixture_book_site: Path) -> None:
    notebook = fixture_book_site / "chapters" / "one.ipynb"
    nb = notebooks.read(notebook)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.source for c in code] == source_cells(FIXTURE_BOOK / "chapters" / "one.qmd")
    assert len(code) == 10
    assert code[1].source.startswith("#| echo: false")
    assert code[1].outputs[0]["text"] == "echo false: only this output shows\n"
    assert code[6].outputs == []  # eval: false
    assert code[6].execution_count is None
    assert any(o.get("output_type") == "display_data" for c in code for o in c.outputs)
    assert not (fixture_book_site / "chapters" / "references.ipynb").exists()  # no cells


def test_notebook_reexecutes_in_a_fresh_kernel(fixture_book_site: Path, tmp_path: Path) -> None:
    import nbformat

    built = notebooks.read(fixture_book_site / "chapters" / "two.ipynb")
    code = [c for c in built.cells if c.cell_type == "code"]
    assert [c.source for c in code] == source_cells(FIXTURE_BOOK / "chapters" / "two.qmd")
    prose = "\n".join(c.source for c in built.cells if c.cell_type == "markdown")
    assert "The quick brown zebracorn jumps over the lazy dog." in prose
    rerun = notebooks.execute(copy.deepcopy(built), FIXTURE_BOOK / "chapters", timeout=120)
    nbformat.validate(rerun)
    assert stream_outputs(rerun) == stream_outputs(built) == [[("stdout", "31\n")]]


def test_typst_warning_fails_the_build_naming_the_chapter(make_book: MakeBook) -> None:
    chapter = '# Home\n\n```{=typst}\n#text(font: "No Such Font Anywhere")[x]\n```\n'
    root = make_book({"index.qmd": "# Preface\n", "chapters/odd.qmd": chapter})
    with pytest.raises(BuildError) as caught:
        quiet_build(root, formats=("typst",))
    assert caught.value.file == "chapters/odd.qmd"
    assert "Typst warning" in caught.value.message
    assert not (root / "_book").exists()


def test_typst_error_names_the_chapter(make_book: MakeBook) -> None:
    root = make_book(
        {"index.qmd": "# Preface\n", "b.qmd": "# B\n\n```{=typst}\n#nonexistent()\n```\n"}
    )
    with pytest.raises(BuildError) as caught:
        quiet_build(root, formats=("typst",))
    assert caught.value.file == "b.qmd"
    assert "Typst error" in caught.value.message


def test_tex_math_typst_cannot_show_is_an_error(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n\nText.\n\n$\\hbox{box}$\n"})
    with pytest.raises(BuildError) as caught:
        quiet_build(root, formats=("typst",))
    assert caught.value.render().startswith("index.qmd:5: TeX math that Typst cannot show")


def test_paper_size_is_one_option(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n"})
    config = root / "_quarto.yml"
    config.write_text(config.read_text() + "format:\n  typst:\n    papersize: us-letter\n")
    quiet_build(root, formats=("typst",))
    assert pdf.info(root / "_book" / "tiny.pdf")["Page size"].startswith("612 x 792")
