"""The records a retrieval stack passes around: documents, chunks, stored records and hits.

A `Chunk` remembers where it came from (`doc_id`, `start`, `end`), so a citation can point back
at the exact characters of the source, an evaluation can tell whether a chunk holds the gold
passage, and a deleted or edited document can take its chunks with it.

Metadata values are strings, or tuples of strings for many-valued fields such as the groups
allowed to read a chunk; filters (`Where`) match a key to one value or to any of several.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

type Vector = NDArray[np.float32]
type MetaValue = str | tuple[str, ...]
type Metadata = Mapping[str, MetaValue]
type Where = Mapping[str, str | tuple[str, ...]]
"""A metadata filter: every key must match. A string value must equal the record's value (or
be one of its values, for a tuple field); a tuple value matches when any of its strings does."""


@dataclass(frozen=True, slots=True)
class Document:
    """A source text with an id that stays stable across re-ingestion."""

    id: str
    text: str
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A span of a document: `text == document.text[start:end]`."""

    id: str
    doc_id: str
    text: str
    start: int
    end: int
    metadata: Metadata = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"chunk {self.id!r}: bad span [{self.start}, {self.end})")
        if len(self.text) != self.end - self.start:
            raise ValueError(
                f"chunk {self.id!r}: text has {len(self.text)} characters "
                f"but the span [{self.start}, {self.end}) has {self.end - self.start}"
            )


@dataclass(frozen=True, slots=True)
class Record:
    """What a vector store holds: an id, a unit-length vector, the text and its metadata."""

    id: str
    vector: Vector
    text: str
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result. `score` is higher-is-better (cosine similarity for dense search,
    the BM25 score for lexical search, the fused score for hybrid search)."""

    id: str
    score: float
    text: str
    metadata: Metadata = field(default_factory=dict)


def matches(metadata: Metadata, where: Where | None) -> bool:
    """Whether a record's metadata passes a filter (the reference semantics every store
    implements; the contract tests hold each store to it)."""
    if not where:
        return True
    for key, wanted in where.items():
        have = metadata.get(key)
        if have is None:
            return False
        have_set = {have} if isinstance(have, str) else set(have)
        wanted_set = {wanted} if isinstance(wanted, str) else set(wanted)
        if not have_set & wanted_set:
            return False
    return True
