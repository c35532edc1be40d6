"""What two other test modules still take from here, now served by ``tools/check_sources.py``.

The Quarto-names checker that lived here moved into ``tools/check_sources.py`` (one checker for
the tests and for contributors). ``tests/book/test_book_outputs.py`` imports
:func:`listed_chapters` and ``tests/builder/test_print_outputs.py`` :func:`cells` from here;
this module only adapts them, so that no logic is duplicated.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from check_sources import listed_chapters, split_qmd

__all__ = ["cells", "listed_chapters"]


def cells(lines: list[str]) -> list[tuple[int, list[str]]]:
    """(line of the opening fence, body lines) of every executable cell in ``lines``."""
    return [(cell.line, cell.body) for cell in split_qmd("\n".join(lines)).cells]
