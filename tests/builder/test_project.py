"""Reading _quarto.yml: the book's structure, and clear errors when it is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.errors import BuildError
from bookbuild.project import load_project

from .conftest import FIXTURE_BOOK, MakeBook, quiet_build


def test_reads_parts_and_chapters_in_order() -> None:
    project = load_project(FIXTURE_BOOK)
    assert project.title == "Fixture Book"
    assert [(c.path, c.part) for c in project.chapters] == [
        ("index.qmd", None),
        ("chapters/one.qmd", "Part One"),
        ("chapters/two.qmd", "Part Two"),
        ("chapters/references.qmd", None),
    ]
    assert project.chapters[1].html_name == "chapters/one.html"
    assert project.bibliography == FIXTURE_BOOK / "references.bib"
    assert project.fig_size == (6.0, 3.5)


def test_missing_chapter_is_named_with_its_line(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n"}, chapters=["index.qmd", "chapters/gone.qmd"])
    with pytest.raises(BuildError) as caught:
        load_project(root)
    assert caught.value.file == "_quarto.yml"
    assert caught.value.line == 7
    assert "chapters/gone.qmd' is listed but missing" in caught.value.message


def test_chapter_listed_twice(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n"}, chapters=["index.qmd", "index.qmd"])
    with pytest.raises(BuildError, match="listed twice"):
        load_project(root)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "_quarto.yml").write_text("project:\n  type: book\nbook:\n  title: [oops\n")
    with pytest.raises(BuildError) as caught:
        load_project(tmp_path)
    assert caught.value.file == "_quarto.yml"
    assert caught.value.line == 5
    assert "malformed YAML" in caught.value.message


def test_not_a_book(tmp_path: Path) -> None:
    (tmp_path / "_quarto.yml").write_text("project:\n  type: website\n")
    with pytest.raises(BuildError, match=r"project\.type must be 'book'"):
        load_project(tmp_path)


def test_missing_bibliography(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n"})
    config = root / "_quarto.yml"
    config.write_text(config.read_text() + "bibliography: nowhere.bib\n")
    with pytest.raises(BuildError, match=r"bibliography 'nowhere\.bib' not found"):
        load_project(root)


@pytest.mark.parametrize(
    ("addition", "message", "line"),
    [
        ("  date: someday\n", "book.date 'someday' is not a date", 5),
        ("  downloads: [pdf, docx]\n", "book.downloads: 'docx' is not built here", 5),
        ("  repo-actions: [edit]\n", "book.repo-actions needs book.repo-url", 5),
        ("format:\n  typst:\n    papersize: a5\n", "papersize 'a5' is not one of", 9),
        ("format:\n  html:\n    fig-width: wide\n", "fig-width must be a positive number", 9),
        (
            "format:\n  html:\n    other-links:\n      - href: cards.csv\n",
            "needs a 'text' and an 'href'",
            10,
        ),
        ("number-depth: 9\n", "number-depth must be a whole number", 7),
    ],
)
def test_config_mistakes_name_their_line_before_anything_runs(
    make_book: MakeBook, addition: str, message: str, line: int
) -> None:
    root = make_book({"index.qmd": "# Home\n\n```{python}\nprint(1)\n```\n"})
    config = root / "_quarto.yml"
    text = config.read_text()
    if addition.startswith("  "):  # a book: key goes right after the title
        text = text.replace('  title: "Tiny"\n', '  title: "Tiny"\n' + addition)
    else:
        text += addition
    config.write_text(text)
    with pytest.raises(BuildError) as caught:
        quiet_build(root)
    assert caught.value.file == "_quarto.yml"
    assert message in caught.value.message
    assert caught.value.line == line
    assert not (root / "_freeze").exists()  # nothing executed


def test_typed_values_have_one_default_each(make_book: MakeBook) -> None:
    project = load_project(make_book({"index.qmd": "# Home\n"}))
    assert project.lang == "en"
    assert project.fig_size == (7.0, 4.2)
    assert project.paper_size == "a4"
    assert project.date_text == "1970-01-01"
    assert project.sidebar_links() == []
