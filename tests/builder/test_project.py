"""Reading _quarto.yml: the book's structure, and clear errors when it is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.errors import BuildError
from bookbuild.project import load_project

from .conftest import FIXTURE_BOOK, MakeBook


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
    assert project.format_options("html")["fig-width"] == 6


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
