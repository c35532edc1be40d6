"""What every output format receives: the book, resolved once, and where to keep its results.

The build (:mod:`bookbuild.build`) makes one :class:`BookContext`; each format module in
:mod:`bookbuild.formats` is a function ``render(ctx) -> Outputs`` that reads it and returns the
files it makes, by path in the output folder. Formats import no other format: what two of them
share (names of outputs, assets, the cache) lives here, in :mod:`bookbuild.project` or in
:mod:`bookbuild.toolchain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .cache import OutputCache, key, sha
from .execute import ExecutedChapter
from .progress import Progress
from .project import Project
from .qmd import Document
from .resolve import ResolvedBook

# An output file: its bytes, or a file in the output cache to hard-link.
Output = bytes | Path
Outputs = dict[str, Output]

FORMATS = ("ipynb", "html", "revealjs", "typst", "epub", "post-render")


@dataclass(frozen=True, slots=True)
class BookContext:
    project: Project
    book: ResolvedBook
    chapters: list[Document]
    decks: list[Document]
    executed: dict[str, ExecutedChapter]
    figures: dict[str, bytes]  # root-relative path -> bytes, for every executed figure
    version: list[int]  # pandoc's AST API version
    store: OutputCache
    env: dict[str, str]  # hermetic environment for the engines that keep state (Chromium)
    work: Path  # scratch folder for engines that need files on disk
    formats: frozenset[str]
    progress: Progress
    figures_key: str  # one hash over every figure, for the keys of formats that embed them
    book_key: str  # one hash over everything the resolved book was made from

    def write_figures(self, folder: Path) -> None:
        """Put every figure under ``folder`` at its root-relative path (for pandoc or Typst)."""
        for path, data in self.figures.items():
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def figures_digest(figures: dict[str, bytes]) -> str:
    return key(sorted((path, sha(data)) for path, data in figures.items()))
