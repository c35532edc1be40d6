"""The freeze cache: hits when nothing changed, misses on every input that matters."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import MakeBook, quiet_build

CHAPTER = """\
# Data

Some prose.

```{python}
import os
import sys
from pathlib import Path

sys.path.insert(0, "code")
import toypkg.used

print(Path("data/values.txt").read_text().strip(), len(os.listdir("extra")), toypkg.used.VERSION)
```

The version is `{python} toypkg.used.VERSION`.
"""


@pytest.fixture
def book(make_book: MakeBook) -> Path:
    root = make_book(
        {
            "index.qmd": CHAPTER,
            "data/values.txt": "1 2 3",
            "extra/a.txt": "",
            "code/toypkg/__init__.py": "",
            "code/toypkg/used.py": "VERSION = 1\n",
            "code/toypkg/unused.py": "VERSION = 1\n",
            "requirements.lock": "numpy==2.0\n",
            "prose.qmd": "# Prose only\n\nNo cells here.\n",
        }
    )
    first = quiet_build(root)
    assert first.executed == ["index.qmd"]
    return root


def executed_after(root: Path, path: str, text: str) -> list[str]:
    (root / path).write_text(text)
    return quiet_build(root).executed


def test_unchanged_book_executes_nothing(book: Path) -> None:
    report = quiet_build(book)
    assert report.executed == []
    assert report.frozen == ["index.qmd"]


def test_prose_edit_does_not_reexecute(book: Path) -> None:
    edited = CHAPTER.replace("Some prose.", "New prose.").replace("The version", "Its version")
    assert executed_after(book, "index.qmd", edited) == []
    page = (book / "_book" / "index.html").read_text()
    assert "New prose." in page
    assert "Its version is 1." in page


def test_code_edit_reexecutes(book: Path) -> None:
    assert executed_after(book, "index.qmd", CHAPTER.replace("strip()", "strip() + '!'")) == [
        "index.qmd"
    ]
    assert "1 2 3! 1" in (book / "_book" / "index.html").read_text()


def test_data_file_edit_reexecutes(book: Path) -> None:
    assert executed_after(book, "data/values.txt", "4 5 6") == ["index.qmd"]
    assert "4 5 6 1" in (book / "_book" / "index.html").read_text()


def test_new_file_in_listed_folder_reexecutes(book: Path) -> None:
    assert executed_after(book, "extra/b.txt", "") == ["index.qmd"]


def test_edit_of_an_imported_module_reexecutes(book: Path) -> None:
    assert executed_after(book, "code/toypkg/used.py", "VERSION = 2\n") == ["index.qmd"]
    assert "The version is 2." in (book / "_book" / "index.html").read_text()


def test_edit_of_a_module_nobody_imported_does_not(book: Path) -> None:
    assert executed_after(book, "code/toypkg/unused.py", "VERSION = 2\n") == []


def test_inline_code_edit_reexecutes(book: Path) -> None:
    edited = CHAPTER.replace("`{python} toypkg.used.VERSION`", "`{python} toypkg.used.VERSION + 1`")
    assert executed_after(book, "index.qmd", edited) == ["index.qmd"]
    assert "The version is 2." in (book / "_book" / "index.html").read_text()


def test_figure_size_from_quarto_yml_is_part_of_the_key(book: Path) -> None:
    config = book / "_quarto.yml"
    config.write_text(config.read_text() + "format:\n  html:\n    fig-width: 5\n")
    assert quiet_build(book).executed == ["index.qmd"]


def test_lock_edit_reexecutes(book: Path) -> None:
    assert executed_after(book, "requirements.lock", "numpy==2.1\n") == ["index.qmd"]


def test_refresh_forces_execution(book: Path) -> None:
    assert quiet_build(book, refresh=True).executed == ["index.qmd"]


def test_corrupt_entry_is_a_miss(book: Path) -> None:
    entry = next((book / "_freeze").rglob("bookbuild.json"))
    entry.write_text("{not json")
    assert quiet_build(book).executed == ["index.qmd"]


def test_one_modules_edit_reexecutes_only_the_chapters_that_imported_it(
    make_book: MakeBook,
) -> None:
    def chapter(module: str) -> str:
        return (
            f"# {module}\n\n```{{python}}\nimport sys\nsys.path.insert(0, '..')\n"
            f"import pkg.{module} as m\nprint(m.VALUE)\n```\n"
        )

    root = make_book(
        {
            "index.qmd": "# Home\n",
            "chapters/a.qmd": chapter("a"),
            "chapters/b.qmd": chapter("b"),
            "pkg/__init__.py": "",
            "pkg/a.py": "VALUE = 'a1'\n",
            "pkg/b.py": "VALUE = 'b1'\n",
        }
    )
    assert sorted(quiet_build(root).executed) == ["chapters/a.qmd", "chapters/b.qmd"]
    assert executed_after(root, "pkg/b.py", "VALUE = 'b2'\n") == ["chapters/b.qmd"]
    assert "b2" in (root / "_book" / "chapters" / "b.html").read_text()
    assert executed_after(root, "pkg/__init__.py", "# shared by both\n") == [
        "chapters/a.qmd",
        "chapters/b.qmd",
    ]
