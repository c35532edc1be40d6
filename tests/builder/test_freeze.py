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
from pathlib import Path
print(Path("data/values.txt").read_text().strip(), len(os.listdir("extra")))
```
"""


@pytest.fixture
def book(make_book: MakeBook) -> Path:
    root = make_book(
        {
            "index.qmd": CHAPTER,
            "data/values.txt": "1 2 3",
            "extra/a.txt": "",
            "code/llmprep/__init__.py": "VERSION = 1\n",
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
    assert executed_after(book, "index.qmd", CHAPTER.replace("Some prose.", "New prose.")) == []
    assert "New prose." in (book / "_book" / "index.html").read_text()


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


def test_package_edit_reexecutes(book: Path) -> None:
    assert executed_after(book, "code/llmprep/__init__.py", "VERSION = 2\n") == ["index.qmd"]


def test_lock_edit_reexecutes(book: Path) -> None:
    assert executed_after(book, "requirements.lock", "numpy==2.1\n") == ["index.qmd"]


def test_refresh_forces_execution(book: Path) -> None:
    assert quiet_build(book, refresh=True).executed == ["index.qmd"]


def test_corrupt_entry_is_a_miss(book: Path) -> None:
    entry = next((book / "_freeze").rglob("bookbuild.json"))
    entry.write_text("{not json")
    assert quiet_build(book).executed == ["index.qmd"]
