"""Shared helpers for the builder's tests: small throwaway books written into tmp_path."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bookbuild.build import BuildOptions, BuildReport, build

FIXTURE_BOOK = Path(__file__).parent / "fixture_book"

QUARTO_YML = """\
project:
  type: book
book:
  title: "Tiny"
  chapters:
{chapters}
"""

MakeBook = Callable[..., Path]


def write_book(root: Path, files: dict[str, str], chapters: list[str] | None = None) -> Path:
    """Write ``files`` (path -> text, dedented) and a _quarto.yml listing ``chapters``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    if "_quarto.yml" not in files:
        listed = chapters if chapters is not None else [n for n in files if n.endswith(".qmd")]
        lines = "\n".join(f"    - {c}" for c in listed)
        (root / "_quarto.yml").write_text(QUARTO_YML.format(chapters=lines), encoding="utf-8")
    return root


@pytest.fixture
def make_book(tmp_path: Path) -> MakeBook:
    def make(files: dict[str, str], chapters: list[str] | None = None) -> Path:
        return write_book(tmp_path / "book", files, chapters)

    return make


def quiet_build(root: Path, **options: object) -> BuildReport:
    """Build without printing progress (tests read the report instead)."""
    return build(root, BuildOptions(log=lambda _: None, **options))  # type: ignore[arg-type]


def copy_fixture(target: Path) -> Path:
    shutil.copytree(
        FIXTURE_BOOK, target, ignore=shutil.ignore_patterns("_book", "_freeze", ".build")
    )
    return target
