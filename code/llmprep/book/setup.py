"""The one setup every chapter and deck runs before its own cells.

Each source starts with one hidden cell::

    ```{python}
    #| include: false
    from llmprep.book import setup_chapter
    setup_chapter()
    ```

so a change to how figures look or how arrays print is made here once, not in every chapter.
What it does not do: anything the builder owns (the working folder, deterministic SVG output,
recording which files a chapter reads).
"""

from __future__ import annotations

import random

import numpy as np

from llmprep.book.plotting import use_house_style
from llmprep.book.source import PAGE_WIDTH

SEED = 0
"""Seeds the global random generators, so a cell that forgets its own generator still prints
the same numbers on every build. Cells that draw random numbers should still make their own
(``np.random.default_rng(0)``), which says in the code that the result is reproducible."""

PRINT_PRECISION = 4
"""Decimals numpy prints for a float array: enough to compare values, few enough to read."""


def setup_chapter(seed: int = SEED) -> None:
    """Apply the book's shared settings for the rest of the session.

    Sets the figure house style (`llmprep.book.plotting`); makes numpy print floats with
    `PRINT_PRECISION` decimals, without scientific notation for small values, wrapped at the
    printed page's width (`PAGE_WIDTH`, the limit `show_source` enforces too); and seeds Python's
    and numpy's global random generators with `seed`. Calling it again restores the same state,
    so re-running a notebook's first cell resets it.
    """
    use_house_style()
    np.set_printoptions(precision=PRINT_PRECISION, suppress=True, linewidth=PAGE_WIDTH)
    random.seed(seed)
    np.random.seed(seed)  # the legacy global generator, for cells that use it
