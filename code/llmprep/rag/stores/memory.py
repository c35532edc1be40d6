"""The exact store: every record in memory, every query compared with every vector.

Brute force is the reference point for every other index: it is exact (recall 1.0 by
definition), needs no build step, and one matrix-vector product scores the whole corpus. An
approximate index earns its place only when the corpus outgrows that.

    scores = V_allowed @ q / (|V_allowed| |q|)      cosine similarity to every allowed record
    hits   = the k best, ties broken by id

The filter runs first (pre-filtering), so a selective filter never costs results.

Leaves out: persistence (see sqlite_vec.py) and approximate search (see pgvector.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from llmprep.rag.documents import Hit, Record, Vector, Where, matches
from llmprep.rag.stores import (
    ClosableStore,
    check_dim,
    check_k,
    check_record,
    check_vector,
    where_sets,
)


class NumpyStore(ClosableStore):
    """Exact cosine search over records held in a dict.

    Example:
        store = NumpyStore(dim=3)
        store.upsert([Record("a", np.array([1, 0, 0], np.float32), "alpha")])
        store.search(np.array([1, 0, 0], np.float32), k=1)[0].id == "a"
    """

    def __init__(self, dim: int) -> None:
        self._dim = check_dim(dim)
        self._records: dict[str, Record] = {}
        self._units: dict[str, Vector] = {}  # each vector scaled to length 1, for scoring
        self._matrix: tuple[list[str], Vector] | None = None  # the units stacked, until a write
        self._closed = False

    @property
    def dim(self) -> int:
        return self._dim

    def upsert(self, records: Sequence[Record]) -> None:
        self._check_open()
        checked = [(r, check_record(r, self._dim)) for r in records]  # all or nothing
        for record, vector in checked:
            vector = vector.copy()  # the caller may reuse its array; the store keeps its own
            self._records[record.id] = Record(record.id, vector, record.text, record.metadata)
            self._units[record.id] = vector / np.linalg.norm(vector)
        self._matrix = None

    def delete(self, ids: Sequence[str]) -> None:
        self._check_open()
        for id in ids:
            self._records.pop(id, None)
            self._units.pop(id, None)
        self._matrix = None

    def get(self, id: str) -> Record | None:
        self._check_open()
        return self._records.get(id)

    def search(self, query: Vector, k: int, where: Where | None = None) -> list[Hit]:
        self._check_open()
        check_k(k)
        q = check_vector(query, self._dim, "query")
        wanted = where_sets(where)  # validates the filter even when the store is empty
        ids, matrix = self._stacked()
        # subtle: not `matrix @ q`. BLAS may treat rows differently (it works in blocks of
        # rows), so two identical vectors can get scores that differ in the last bit, and
        # "ties broken by id" would fail. A row-wise sum runs the same code for every row.
        scores = (matrix * (q / np.linalg.norm(q))).sum(axis=1)  # cosine to every record
        allowed = [i for i, id in enumerate(ids) if matches(self._records[id].metadata, wanted)]
        best = sorted(allowed, key=lambda i: (-scores[i], ids[i]))[:k]  # ties broken by id
        return [self._hit(ids[i], float(scores[i])) for i in best]

    def count(self) -> int:
        self._check_open()
        return len(self._records)

    def _release(self) -> None:
        self._records.clear()
        self._units.clear()

    def _stacked(self) -> tuple[list[str], Vector]:
        """All ids and their unit vectors as one (n, dim) matrix, rebuilt after a write."""
        if self._matrix is None:
            ids = list(self._units)
            rows = [self._units[id] for id in ids]
            matrix = np.stack(rows) if rows else np.zeros((0, self._dim), np.float32)
            self._matrix = (ids, matrix)
        return self._matrix

    def _hit(self, id: str, score: float) -> Hit:
        record = self._records[id]
        return Hit(id, score, record.text, record.metadata)
