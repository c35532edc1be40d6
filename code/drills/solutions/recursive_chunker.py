"""Solution to drill recursive-chunker: the library's `recursive_chunks`, adapted.

The library chunks a `Document` into `Chunk`s that remember their character spans; the
drill takes and returns plain strings, so the adapter wraps the text in a `Document` and
keeps only the chunk texts.
"""

from __future__ import annotations

from collections.abc import Callable

from llmprep.rag.chunking import SEPARATORS as SEPARATORS
from llmprep.rag.chunking import recursive_chunks as library_recursive_chunks
from llmprep.rag.documents import Document

__all__ = ["SEPARATORS", "recursive_chunks"]


def recursive_chunks(
    text: str,
    size: int,
    separators: tuple[str, ...] = SEPARATORS,
    *,
    length: Callable[[str], int] = len,
) -> list[str]:
    """The library's chunks of `text`, as strings."""
    doc = Document("drill", text)
    chunks = library_recursive_chunks(doc, size, separators, length=length)
    return [c.text for c in chunks]
