"""A vector store in one SQLite file, with sqlite-vec: embedded, persistent, filtered in-query.

sqlite-vec (Alex Garcia) adds a `vec0` virtual table to SQLite. Its KNN query is exact (a brute
force scan over compact chunks of vectors, no approximate index), and it can filter *inside*
the scan, so a selective filter still returns k rows:

    SELECT rowid, distance FROM chunks_vec
    WHERE embedding MATCH :query AND k = 10          -- the KNN itself
      AND m_lang IN ('en')                           -- a vec0 metadata column
      AND rowid IN (SELECT rid FROM chunks_tags      -- a tuple-valued field (side table)
                    WHERE key = 'groups' AND value IN ('eng', 'staff'))

One file holds four tables (for a store named "chunks"):

    chunks_vec      vec0: rowid, the vector (cosine distance), one text column per filter key
    chunks_records  rowid -> id, text, metadata (JSON): what a hit returns
    chunks_tags     (key, value, rowid) for every value of every tuple-valued filter key
    chunks_config   dim and the declared keys, checked again when the file is reopened

Which metadata can be filtered is declared up front, as with any database column:

- `filter_keys`: one string per record (a source, a language, a tenant). Each becomes a vec0
  metadata column, which vec0 compares while it scans. vec0 columns cannot be NULL, so a record
  without the key stores MISSING ("\\x00"), a value no metadata string may contain.
- `tuple_keys`: several strings per record (the groups allowed to read a chunk). vec0 columns
  hold one value, so each (key, value, rowid) goes into the side table, and the filter becomes
  `rowid IN (...)`, which vec0 also applies inside the scan (one such constraint per query, so
  several tuple keys are combined with INTERSECT).

A filter on a key that was not declared raises ValueError rather than silently filtering after
the KNN, which is what returns fewer than k results.

Leaves out: partition keys (vec0 can shard its scan by one key, e.g. a tenant, which speeds up
queries that always name it), quantised (int8, bit) vectors and approximate indexes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sqlite_vec  # type: ignore[import-untyped]  # 0.1.9 ships no type hints or py.typed

from llmprep.rag.documents import Hit, Metadata, Record, Vector, Where
from llmprep.rag.stores import (
    ClosableStore,
    check_dim,
    check_k,
    check_record,
    check_vector,
    cosine_from_distance,
    metadata_from_json,
    metadata_to_json,
    ranked,
    where_sets,
)

if TYPE_CHECKING:
    import sqlite3  # pysqlite3 is the standard library's sqlite3, rebuilt: the same API
else:
    # subtle: pyenv's Python is built without loadable-extension support
    # (enable_load_extension is missing), so use pysqlite3-binary, which bundles its own SQLite.
    from pysqlite3 import dbapi2 as sqlite3

MISSING = "\x00"  # what a filter-key column holds for a record without that key
MAX_K = 4096  # sqlite-vec's limit on k in one KNN query
MAX_FILTER_KEYS = 16  # vec0 allows at most 16 metadata columns
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # vec0's constructor does not accept quoting


def _identifier(name: str, what: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"{what} {name!r} must be a plain identifier (letters, digits, _)")
    return name


class SqliteVecStore(ClosableStore):
    """Cosine search in a sqlite-vec `vec0` table, persisted in one SQLite file.

    Example:
        store = SqliteVecStore("index.db", dim=384, filter_keys=("lang",),
                               tuple_keys=("groups",))
        store.upsert(records)
        store.search(query, k=5, where={"lang": "en", "groups": ("eng", "staff")})
    """

    def __init__(
        self,
        path: str | Path,
        dim: int,
        filter_keys: Sequence[str] = (),
        *,
        tuple_keys: Sequence[str] = (),
        table: str = "chunks",
    ) -> None:
        self._dim = check_dim(dim)
        self.filter_keys = tuple(_identifier(k, "filter key") for k in filter_keys)
        self.tuple_keys = tuple(_identifier(k, "tuple key") for k in tuple_keys)
        self.table = _identifier(table, "table name")
        if len(self.filter_keys) > MAX_FILTER_KEYS:
            raise ValueError(f"vec0 allows at most {MAX_FILTER_KEYS} filter keys")
        both = set(self.filter_keys) & set(self.tuple_keys)
        if both:
            raise ValueError(f"keys declared both as filter and tuple keys: {sorted(both)}")
        self._conn = sqlite3.connect(str(path))
        self._conn.enable_load_extension(True)
        sqlite_vec.load(self._conn)
        self._conn.enable_load_extension(False)
        self._closed = False
        self._open_or_create()

    @property
    def dim(self) -> int:
        return self._dim

    # -------------------------------------------------------------------------
    # schema

    def _config(self) -> dict[str, object]:
        return {"dim": self._dim, "filter_keys": self.filter_keys, "tuple_keys": self.tuple_keys}

    def _open_or_create(self) -> None:
        t = self.table
        exists = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (f"{t}_config",)
        ).fetchone()
        if exists:
            rows = self._conn.execute(f"SELECT key, value FROM {t}_config").fetchall()
            stored = {key: json.loads(value) for key, value in rows}
            wanted = json.loads(json.dumps(self._config()))  # tuples compare as JSON lists
            if stored != wanted:
                self._conn.close()
                if stored["dim"] != self._dim:
                    raise ValueError(
                        f"store {t!r} holds {stored['dim']}-dimensional vectors, not {self._dim}"
                    )
                raise ValueError(f"store {t!r} was created with {stored}, not {wanted}")
            return
        columns = "".join(f", m_{key} text" for key in self.filter_keys)
        with self._conn:
            self._conn.execute(
                f"CREATE VIRTUAL TABLE {t}_vec USING vec0("
                f"embedding float[{self._dim}] distance_metric=cosine{columns})"
            )
            self._conn.execute(
                f"CREATE TABLE {t}_records (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
                "text TEXT NOT NULL, metadata TEXT NOT NULL)"
            )
            self._conn.execute(
                f"CREATE TABLE {t}_tags (key TEXT NOT NULL, value TEXT NOT NULL, "
                "rid INTEGER NOT NULL, PRIMARY KEY (key, value, rid)) WITHOUT ROWID"
            )
            self._conn.execute(f"CREATE INDEX {t}_tags_rid ON {t}_tags (rid)")
            self._conn.execute(f"CREATE TABLE {t}_config (key TEXT PRIMARY KEY, value TEXT)")
            self._conn.executemany(
                f"INSERT INTO {t}_config VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in self._config().items()],
            )

    # -------------------------------------------------------------------------
    # writes

    def _column_values(self, record: Record) -> list[str]:
        """The record's value for each filter key, MISSING where it has none."""
        values = []
        for key in self.filter_keys:
            value = record.metadata.get(key, MISSING)
            if not isinstance(value, str):
                raise ValueError(
                    f"record {record.id!r}: filter key {key!r} holds one string per record, "
                    f"got {value!r} (declare it in tuple_keys instead)"
                )
            if value != MISSING and "\x00" in value:
                raise ValueError(f"record {record.id!r}: {key!r} contains a NUL character")
            values.append(value)
        return values

    def _tags(self, metadata: Metadata, rid: int) -> list[tuple[str, str, int]]:
        rows = []
        for key in self.tuple_keys:
            value = metadata.get(key)
            values = () if value is None else (value,) if isinstance(value, str) else value
            rows += [(key, v, rid) for v in sorted(set(values))]
        return rows

    def upsert(self, records: Sequence[Record]) -> None:
        self._check_open()
        checked = [(r, check_record(r, self._dim), self._column_values(r)) for r in records]
        t = self.table
        names = ", ".join(["rowid", "embedding", *(f"m_{key}" for key in self.filter_keys)])
        marks = ", ".join("?" * (2 + len(self.filter_keys)))
        with self._conn:  # one transaction: all records or none
            for record, vector, columns in checked:
                meta = json.dumps(metadata_to_json(record.metadata))
                rid = self._rid(record.id)
                if rid is None:
                    cursor = self._conn.execute(
                        f"INSERT INTO {t}_records (id, text, metadata) VALUES (?, ?, ?)",
                        (record.id, record.text, meta),
                    )
                    assert cursor.lastrowid is not None
                    rid = cursor.lastrowid
                else:  # overwrite: same rowid, fresh vector, columns and tags
                    self._conn.execute(
                        f"UPDATE {t}_records SET text = ?, metadata = ? WHERE rid = ?",
                        (record.text, meta, rid),
                    )
                    self._delete_rows(rid, keep_record=True)
                self._conn.execute(
                    f"INSERT INTO {t}_vec ({names}) VALUES ({marks})",
                    (rid, vector.tobytes(), *columns),
                )
                self._conn.executemany(
                    f"INSERT INTO {t}_tags VALUES (?, ?, ?)", self._tags(record.metadata, rid)
                )

    def delete(self, ids: Sequence[str]) -> None:
        self._check_open()
        with self._conn:
            for id in ids:
                rid = self._rid(id)
                if rid is not None:
                    self._delete_rows(rid, keep_record=False)

    def _rid(self, id: str) -> int | None:
        row = self._conn.execute(f"SELECT rid FROM {self.table}_records WHERE id = ?", (id,))
        found = row.fetchone()
        return None if found is None else int(found[0])

    def _delete_rows(self, rid: int, *, keep_record: bool) -> None:
        t = self.table
        self._conn.execute(f"DELETE FROM {t}_vec WHERE rowid = ?", (rid,))
        self._conn.execute(f"DELETE FROM {t}_tags WHERE rid = ?", (rid,))
        if not keep_record:
            self._conn.execute(f"DELETE FROM {t}_records WHERE rid = ?", (rid,))

    # -------------------------------------------------------------------------
    # reads

    def get(self, id: str) -> Record | None:
        self._check_open()
        t = self.table
        row = self._conn.execute(
            f"SELECT r.text, r.metadata, v.embedding FROM {t}_records AS r "
            f"JOIN {t}_vec AS v ON v.rowid = r.rid WHERE r.id = ?",
            (id,),
        ).fetchone()
        if row is None:
            return None
        text, meta, blob = row
        vector = np.frombuffer(blob, dtype=np.float32).copy()
        return Record(id, vector, text, metadata_from_json(json.loads(meta)))

    def _filter_sql(self, where: Where | None) -> tuple[str, list[str]] | None:
        """SQL conditions for the KNN query and their parameters; None if nothing can match."""
        conditions: list[str] = []
        params: list[str] = []
        tag_queries: list[str] = []
        tag_params: list[str] = []
        for key, values in where_sets(where).items():
            if not values:
                return None  # an empty tuple accepts nothing
            marks = ", ".join("?" * len(values))
            if key in self.filter_keys:
                if any("\x00" in v for v in values):
                    raise ValueError(f"filter {key!r} contains a NUL character")
                conditions.append(f"AND m_{key} IN ({marks})")
                params += values
            elif key in self.tuple_keys:
                tag_queries.append(
                    f"SELECT rid FROM {self.table}_tags WHERE key = ? AND value IN ({marks})"
                )
                tag_params += [key, *values]
            else:
                raise ValueError(
                    f"cannot filter on {key!r}: declare it in filter_keys or tuple_keys when "
                    f"the store is created (declared: {self.filter_keys + self.tuple_keys})"
                )
        if tag_queries:
            conditions.append(f"AND rowid IN ({' INTERSECT '.join(tag_queries)})")
        return " ".join(conditions), params + tag_params

    def search(self, query: Vector, k: int, where: Where | None = None) -> list[Hit]:
        self._check_open()
        check_k(k)
        q = check_vector(query, self._dim, "query")
        filters = self._filter_sql(where)
        k = min(k, self.count())
        if filters is None or k == 0:
            return []
        if k > MAX_K:
            raise ValueError(f"sqlite-vec returns at most {MAX_K} neighbours per query, not {k}")
        conditions, params = filters
        t = self.table
        rows = self._conn.execute(
            f"WITH knn AS (SELECT rowid, distance FROM {t}_vec "
            f"WHERE embedding MATCH ? AND k = ? {conditions}) "
            f"SELECT r.id, knn.distance, r.text, r.metadata FROM knn "
            f"JOIN {t}_records AS r ON r.rid = knn.rowid",
            (q.tobytes(), k, *params),
        ).fetchall()
        hits = [
            Hit(id, cosine_from_distance(d), text, metadata_from_json(json.loads(meta)))
            for id, d, text, meta in rows
        ]
        return ranked(hits, k)

    def count(self) -> int:
        self._check_open()
        (n,) = self._conn.execute(f"SELECT count(*) FROM {self.table}_records").fetchone()
        return int(n)

    def _release(self) -> None:
        self._conn.close()
