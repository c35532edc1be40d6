"""Shared helpers for the builder's tests: small throwaway books written into tmp_path."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bookbuild.build import BuildOptions, BuildReport, build
from bookbuild.cache import OutputCache
from bookbuild.context import FORMATS, BookContext
from bookbuild.execute import ExecutedChapter, KernelSettings, kernel_environment
from bookbuild.pandoc import api_version
from bookbuild.progress import quiet
from bookbuild.project import load_project
from bookbuild.qmd import Document
from bookbuild.resolve import ResolvedBook

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


def quiet_build(root: Path, formats: tuple[str, ...] = ("html",), **options: object) -> BuildReport:
    """Build only the formats a test checks (the web book by default), without printing
    progress (tests read the report instead)."""
    chosen = frozenset(FORMATS if formats == ("all",) else formats)
    return build(root, BuildOptions(quiet=True, formats=chosen, **options))  # type: ignore[arg-type]


def copy_fixture(target: Path) -> Path:
    shutil.copytree(
        FIXTURE_BOOK, target, ignore=shutil.ignore_patterns("_book", "_freeze", ".build")
    )
    return target


def kernel_settings(state: Path, timeout: float = 60) -> KernelSettings:
    """What a build gives its kernels: the default figure size and a hermetic environment."""
    return KernelSettings((7.0, 4.2), kernel_environment(state), timeout)


def deck_context(
    root: Path, decks: list[Document], executed: dict[str, ExecutedChapter], work: Path
) -> BookContext:
    """A build context holding only decks (what the slide format reads), for rendering one."""
    work.mkdir(parents=True, exist_ok=True)
    store = OutputCache(work / "cache-root")
    book = ResolvedBook({"blocks": []}, [], {}, {})
    return BookContext(load_project(root), book, [], decks, executed, {}, api_version(store),
                       store, kernel_environment(work / "state"), work, frozenset(FORMATS),
                       quiet(), "", "")  # fmt: skip
