"""What every chapter and deck shares: the setup cell, printed source, study data, figure style.

- `setup_chapter` (`setup.py`): the one setup a chapter or deck runs in its hidden first cell;
- `show_source` (`source.py`): print a library function's real source as a Markdown code block,
  so the book shows the code the tests check;
- `bank`: the question bank and the glossary, loaded and validated with ``file:line`` errors;
- `plotting`: the house style for matplotlib figures.

A chapter's first cell is::

    from llmprep.book import setup_chapter, show_source
    setup_chapter()

`book` may use `llmprep.core`; the topic packages may use `book`, never the other way round.
"""

from llmprep.book.setup import PRINT_PRECISION, SEED, setup_chapter
from llmprep.book.source import PAGE_WIDTH, show_source, source_without_docstring

__all__ = [
    "PAGE_WIDTH",
    "PRINT_PRECISION",
    "SEED",
    "setup_chapter",
    "show_source",
    "source_without_docstring",
]
