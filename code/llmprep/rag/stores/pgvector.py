"""A vector store in PostgreSQL with pgvector: an HNSW index beside ordinary rows and SQL.

pgvector adds a `vector(n)` column type, distance operators (`<=>` is cosine distance) and two
approximate indexes; this store uses HNSW (Malkov and Yashunin, 2018, arXiv:1603.09320), a
layered graph walked greedily towards the query. Everything else is plain PostgreSQL: the
metadata is a `jsonb` column (tuple-valued fields become JSON arrays), a filter is a WHERE
clause, an upsert is INSERT ... ON CONFLICT, and a delete is DELETE.

    CREATE TABLE chunks (id text PRIMARY KEY, embedding vector(384) NOT NULL,
                         text text NOT NULL, metadata jsonb NOT NULL);
    CREATE INDEX ON chunks USING hnsw (embedding vector_cosine_ops)
        WITH (m = 16, ef_construction = 64);

    SELECT id, embedding <=> :q AS distance FROM chunks
    WHERE (metadata -> 'groups') ?| ARRAY['eng', 'staff']   -- any of these values
    ORDER BY distance LIMIT 10;

`?|` asks "is any of these strings in the JSON value?", and a JSON string counts as containing
itself, so one predicate serves string and tuple-valued fields alike, with exactly the meaning
of `documents.matches`.

The filtering trap, and pgvector 0.8's fix: an HNSW scan collects `ef_search` candidates (40
by default) and the WHERE clause is applied to those. If only 1% of rows pass the filter, about
0.4 of the 40 survive, and the query returns fewer than k rows although many rows match.
Iterative index scans (`SET hnsw.iterative_scan = relaxed_order`) keep walking the graph until
k rows pass (or `hnsw.max_scan_tuples` is reached). "Relaxed" means the rows may come slightly
out of distance order, so the query wraps the scan in a MATERIALIZED CTE and sorts its k rows
again, as the pgvector README recommends.

Leaves out: IVFFlat, half-precision and binary vectors, partial indexes per tenant, and
connection pooling.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

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

_TABLE = re.compile(r"[a-z_][a-z0-9_]{0,50}")  # room for the "_hnsw" suffix in 63 bytes


def vector_literal(vector: Vector) -> str:
    """pgvector's text form, '[1.0,2.5,...]', which the query casts with ::vector.

    Why text: it needs no adapter package, and it is exact; each float32 widens exactly to a
    Python float, whose repr parses back to the same float32.
    """
    return "[" + ",".join(repr(x) for x in vector.astype(np.float64).tolist()) + "]"


class PgVectorStore(ClosableStore):
    """Cosine search in a PostgreSQL table with an HNSW index (pgvector >= 0.8).

    Example:
        with postgres_server(folder) as conninfo:
            store = PgVectorStore(conninfo, "chunks", dim=384)
            store.upsert(records)
            store.search(query, k=5, where={"groups": ("eng", "staff")})
    """

    def __init__(
        self,
        conninfo: str,
        table: str,
        dim: int,
        *,
        m: int = 16,
        ef_construction: int = 64,
        ef_search: int = 40,
        iterative_scan: bool = True,
    ) -> None:
        self._dim = check_dim(dim)
        if not _TABLE.fullmatch(table):
            raise ValueError(f"table {table!r} must be a lowercase identifier of <= 51 chars")
        if not 2 <= m <= 100:
            raise ValueError(f"m must be in [2, 100] (pgvector's range), got {m}")
        if not 2 * m <= ef_construction <= 1000:
            raise ValueError(f"ef_construction must be in [2 m, 1000], got {ef_construction}")
        if not 1 <= ef_search <= 1000:
            raise ValueError(f"ef_search must be in [1, 1000], got {ef_search}")
        self.table = table
        self.m, self.ef_construction, self.ef_search = m, ef_construction, ef_search
        self.iterative_scan = iterative_scan
        self._conn = psycopg.connect(conninfo, autocommit=True)
        self._closed = False
        try:
            self._setup()
        except BaseException:
            self._conn.close()
            raise

    @property
    def dim(self) -> int:
        return self._dim

    def _sql(self, template: str) -> sql.Composed:
        """A statement with {t} (the table) and {index} filled in as quoted identifiers."""
        return sql.SQL(template).format(
            t=sql.Identifier(self.table), index=sql.Identifier(f"{self.table}_hnsw")
        )

    def _setup(self) -> None:
        self._conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        # Session settings: the candidate list of an HNSW search, and whether to keep scanning
        # when the filter rejects candidates.
        mode = "relaxed_order" if self.iterative_scan else "off"
        self.set_config("hnsw.ef_search", str(self.ef_search))
        self.set_config("hnsw.iterative_scan", mode)
        row = self._conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(%s) AND attname = 'embedding'",
            (self.table,),
        ).fetchone()
        if row is not None and row[0] != f"vector({self._dim})":
            raise ValueError(f"table {self.table!r} holds {row[0]}, not vector({self._dim})")
        with self._conn.transaction():
            self._conn.execute(
                self._sql(
                    "CREATE TABLE IF NOT EXISTS {t} (id text PRIMARY KEY, "
                    f"embedding vector({self._dim}) NOT NULL, text text NOT NULL, "
                    "metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb)"
                )
            )
            self._conn.execute(
                self._sql(
                    "CREATE INDEX IF NOT EXISTS {index} ON {t} "
                    "USING hnsw (embedding vector_cosine_ops) "
                    f"WITH (m = {self.m}, ef_construction = {self.ef_construction})"
                )
            )

    # -------------------------------------------------------------------------
    # writes

    def upsert(self, records: Sequence[Record]) -> None:
        self._check_open()
        rows = [
            (r.id, vector_literal(check_record(r, self._dim)), r.text, _json(r.metadata))
            for r in records
        ]
        statement = self._sql(
            "INSERT INTO {t} (id, embedding, text, metadata) "
            "VALUES (%s, %s::vector, %s, %s::jsonb) "
            "ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, "
            "text = EXCLUDED.text, metadata = EXCLUDED.metadata"
        )
        with self._conn.transaction(), self._conn.cursor() as cursor:
            cursor.executemany(statement, rows)  # one statement per row: a repeated id wins last

    def delete(self, ids: Sequence[str]) -> None:
        self._check_open()
        self._conn.execute(self._sql("DELETE FROM {t} WHERE id = ANY(%s)"), (list(ids),))

    # -------------------------------------------------------------------------
    # reads

    def get(self, id: str) -> Record | None:
        self._check_open()
        row = self._conn.execute(
            self._sql("SELECT embedding::real[], text, metadata FROM {t} WHERE id = %s"), (id,)
        ).fetchone()
        if row is None:
            return None
        values, text, metadata = row
        return Record(id, np.array(values, dtype=np.float32), text, metadata_from_json(metadata))

    def _query(self, query: Vector, k: int, where: Where | None) -> tuple[sql.Composed, list[Any]]:
        """The search statement: filtered nearest neighbours in a MATERIALIZED CTE, re-sorted."""
        q = check_vector(query, self._dim, "query")
        conditions = ["TRUE"]
        params: list[Any] = [vector_literal(q)]
        for key, values in where_sets(where).items():
            conditions.append("(metadata -> %s::text) ?| %s::text[]")
            params += [key, list(values)]
        statement = self._sql(
            "WITH nearest AS MATERIALIZED ("
            "SELECT id, text, metadata, embedding <=> %s::vector AS distance FROM {t} "
            f"WHERE {' AND '.join(conditions)} ORDER BY distance LIMIT %s) "
            "SELECT id, distance, text, metadata FROM nearest ORDER BY distance, id"
        )
        return statement, [*params, k]

    def search(self, query: Vector, k: int, where: Where | None = None) -> list[Hit]:
        self._check_open()
        statement, params = self._query(query, check_k(k), where)
        rows = self._conn.execute(statement, params).fetchall()
        hits = [
            Hit(id, cosine_from_distance(d), text, metadata_from_json(meta))
            for id, d, text, meta in rows
        ]
        return ranked(hits, k)

    def explain(self, query: Vector, k: int, where: Where | None = None) -> str:
        """PostgreSQL's plan for a search: shows whether the HNSW index is used."""
        self._check_open()
        statement, params = self._query(query, check_k(k), where)
        rows = self._conn.execute(sql.SQL("EXPLAIN (COSTS OFF) ") + statement, params)
        return "\n".join(str(line) for (line,) in rows.fetchall())

    def set_config(self, name: str, value: str) -> None:
        """Change a setting for this store's session (PostgreSQL's set_config).

        For experiments: on a small table the planner rightly prefers an exact scan to the
        index, so `set_config("enable_seqscan", "off")` is how to watch the index, and the
        filtering trap, at work without a million rows.
        """
        self._check_open()
        self._conn.execute("SELECT set_config(%s, %s, false)", (name, value))

    def count(self) -> int:
        self._check_open()
        row = self._conn.execute(self._sql("SELECT count(*) FROM {t}")).fetchone()
        assert row is not None
        return int(row[0])

    def _release(self) -> None:
        self._conn.close()


def _json(metadata: Metadata) -> str:
    return json.dumps(metadata_to_json(metadata))
