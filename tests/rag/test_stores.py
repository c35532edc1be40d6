"""One contract, three stores: numpy (exact), sqlite-vec (file) and pgvector (a real server).

Every test that takes `make_store` runs once per store. The reference for ranking is brute
force written out below, and the reference for filtering is `documents.matches`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import ArrayLike

from llmprep.rag.documents import Record, Vector, Where, matches
from llmprep.rag.stores import VectorStore
from llmprep.rag.stores.memory import NumpyStore
from llmprep.rag.stores.pgvector import PgVectorStore, vector_literal
from llmprep.rag.stores.sqlite_vec import MISSING, SqliteVecStore

DIM = 8
FILTER_KEYS = ("source", "lang")  # one string per record
TUPLE_KEYS = ("groups",)  # several strings per record (an ACL)
SOURCES = ("handbook", "wiki", "tickets")
GROUPS = ("eng", "hr", "legal", "sales")
KINDS = ("numpy", "sqlite-vec", "pgvector")

_tables = itertools.count()  # every pgvector test gets its own tables in the shared server


class MakeStore(Protocol):
    def __call__(
        self, dim: int = DIM, *, name: str = "main", ef_search: int = 100
    ) -> VectorStore: ...


@pytest.fixture(params=KINDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeStore]:
    """Opens stores of one kind; the same `name` reopens the same file or table."""
    kind: str = request.param
    prefix = f"t{next(_tables)}"
    opened: list[VectorStore] = []

    def make(dim: int = DIM, *, name: str = "main", ef_search: int = 100) -> VectorStore:
        store: VectorStore
        if kind == "numpy":
            store = NumpyStore(dim)
        elif kind == "sqlite-vec":
            path = tmp_path / f"{name}.db"
            store = SqliteVecStore(path, dim, FILTER_KEYS, tuple_keys=TUPLE_KEYS)
        else:  # ef_search 100 > the small test sets: HNSW then visits every vector
            conninfo: str = request.getfixturevalue("pg_conninfo")
            store = PgVectorStore(conninfo, f"{prefix}_{name}", dim, ef_search=ef_search)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


# -----------------------------------------------------------------------------
# data and the brute-force reference


def unit(v: ArrayLike) -> Vector:
    x = np.asarray(v, dtype=np.float32)
    out: Vector = x / np.linalg.norm(x)
    return out


def random_records(n: int, seed: int, dim: int = DIM) -> list[Record]:
    """Records with a string field, an often-missing string field and a tuple field (ACL).

    Some records lack a key, some have an empty ACL, some hold one group as a plain string:
    every shape `documents.matches` has to handle.
    """
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        meta: dict[str, str | tuple[str, ...]] = {"source": str(rng.choice(SOURCES))}
        if rng.random() < 0.7:
            meta["lang"] = str(rng.choice(("en", "de")))
        shape = rng.random()
        if shape < 0.7:
            chosen = rng.choice(GROUPS, size=int(rng.integers(0, 4)), replace=False)
            meta["groups"] = tuple(sorted(str(g) for g in chosen))
        elif shape < 0.85:
            meta["groups"] = str(rng.choice(GROUPS))
        vector = unit(rng.standard_normal(dim))
        records.append(Record(f"r{i:03d}", vector, f"text of record {i}", meta))
    return records


def brute_force(
    records: Sequence[Record], query: Vector, k: int, where: Where | None = None
) -> list[tuple[str, float]]:
    """(id, cosine) of the k best records that pass the filter, ties broken by id."""
    q = query.astype(np.float64) / np.linalg.norm(query)
    scored = [
        (r.id, float(r.vector.astype(np.float64) @ q / np.linalg.norm(r.vector)))
        for r in records
        if matches(r.metadata, where)
    ]
    return sorted(scored, key=lambda pair: (-pair[1], pair[0]))[:k]


def assert_same_hits(
    store: VectorStore, records: Sequence[Record], query: Vector, k: int, where: Where | None = None
) -> None:
    expected = brute_force(records, query, k, where)
    hits = store.search(query, k, where)
    assert [h.id for h in hits] == [i for i, _ in expected], where
    np.testing.assert_allclose([h.score for h in hits], [s for _, s in expected], atol=1e-5)


RECORDS = random_records(60, seed=1)
QUERIES = [unit(v) for v in np.random.default_rng(2).standard_normal((5, DIM))]


# -----------------------------------------------------------------------------
# the contract


def test_an_empty_store_finds_nothing(make_store: MakeStore) -> None:
    store = make_store()
    assert store.dim == DIM
    assert store.count() == 0
    assert store.get("nothing") is None
    assert store.search(QUERIES[0], 5) == []
    assert store.search(QUERIES[0], 5, {"groups": "eng"}) == []
    store.delete(["nothing"])  # deleting an unknown id is not an error


def test_upsert_then_get_returns_the_record_unchanged(make_store: MakeStore) -> None:
    store = make_store()
    store.upsert(RECORDS)
    assert store.count() == len(RECORDS)
    for record in RECORDS[:10]:
        got = store.get(record.id)
        assert got is not None
        np.testing.assert_array_equal(got.vector, record.vector)  # float32, bit for bit
        assert got.vector.dtype == np.float32
        assert (got.id, got.text, dict(got.metadata)) == (
            record.id,
            record.text,
            dict(record.metadata),
        )


def test_upsert_of_a_stored_id_replaces_vector_text_and_metadata(make_store: MakeStore) -> None:
    store = make_store()
    store.upsert(RECORDS)
    old = RECORDS[0]
    new = Record(old.id, unit(np.ones(DIM)), "rewritten", {"source": "wiki", "groups": ("hr",)})
    store.upsert([new])
    assert store.count() == len(RECORDS)
    got = store.get(old.id)
    assert got is not None
    assert (got.text, dict(got.metadata)) == ("rewritten", {"source": "wiki", "groups": ("hr",)})
    # The old metadata no longer matches anything, the new one does.
    for where in ({"source": str(old.metadata["source"])}, {"groups": ("hr",)}, None):
        assert_same_hits(store, [new, *RECORDS[1:]], new.vector, len(RECORDS), where)
    assert store.search(new.vector, 1)[0].id == old.id


def test_the_last_of_repeated_ids_in_one_batch_wins(make_store: MakeStore) -> None:
    store = make_store()
    first, second = (Record("same", unit(v), t) for v, t in [([1, 0] * 4, "a"), ([0, 1] * 4, "b")])
    store.upsert([first, second])
    got = store.get("same")
    assert store.count() == 1
    assert got is not None
    assert got.text == "b"


def test_delete_removes_records_from_get_count_search_and_filters(make_store: MakeStore) -> None:
    store = make_store()
    store.upsert(RECORDS)
    gone = [r.id for r in RECORDS[::3]]
    store.delete([*gone, "never-stored"])
    kept = [r for r in RECORDS if r.id not in gone]
    assert store.count() == len(kept)
    assert all(store.get(i) is None for i in gone)
    assert_same_hits(store, kept, QUERIES[0], len(RECORDS))
    assert_same_hits(store, kept, QUERIES[0], len(RECORDS), {"groups": GROUPS})


@pytest.mark.parametrize("k", [1, 5, 20, 200])
def test_top_k_agrees_with_brute_force(make_store: MakeStore, k: int) -> None:
    records = random_records(150, seed=3, dim=16)
    store = make_store(dim=16)
    store.upsert(records)
    for query in np.random.default_rng(4).standard_normal((4, 16)).astype(np.float32):
        assert_same_hits(store, records, query, k)  # k = 200 > 150: every record, in order


def test_ties_are_broken_by_id(make_store: MakeStore) -> None:
    store = make_store()
    v = unit(np.arange(1, DIM + 1))
    store.upsert([Record(i, v, i) for i in ("c", "a", "b")])
    assert [h.id for h in store.search(v, 3)] == ["a", "b", "c"]


_FILTER_VALUE = st.one_of(
    st.sampled_from([*SOURCES, "en", "de", *GROUPS, "unknown"]),
    st.lists(st.sampled_from([*SOURCES, "en", "de", *GROUPS]), max_size=3).map(tuple),
)
_WHERE = st.dictionaries(st.sampled_from([*FILTER_KEYS, *TUPLE_KEYS]), _FILTER_VALUE, max_size=3)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=_WHERE, q=st.integers(0, len(QUERIES) - 1))
def test_filters_agree_with_documents_matches(
    make_store: MakeStore, where: dict[str, str | tuple[str, ...]], q: int
) -> None:
    store = make_store()  # the same store for every example (searches do not change it)
    if store.count() == 0:
        store.upsert(RECORDS)
    assert_same_hits(store, RECORDS, QUERIES[q], len(RECORDS), where)  # everything that passes
    assert_same_hits(store, RECORDS, QUERIES[q], 3, where)  # and the best three of it


def test_a_selective_filter_still_returns_k_rows(make_store: MakeStore) -> None:
    """1% of 2000 records pass the filter; k = 10 of them must come back (pre-filtering)."""
    rng = np.random.default_rng(5)
    records = [
        Record(
            f"r{i}",
            unit(rng.standard_normal(DIM)),
            "",
            {"source": "rare" if i % 100 == 0 else "common"},
        )
        for i in range(2000)
    ]
    store = make_store(ef_search=40)  # pgvector's default candidate list: 40 << 2000
    store.upsert(records)
    if isinstance(store, PgVectorStore):
        store.set_config("enable_seqscan", "off")  # small table: make the planner use HNSW
        assert "Index Scan using" in store.explain(QUERIES[0], 10, {"source": "rare"})
    hits = store.search(QUERIES[0], 10, {"source": "rare"})
    assert len(hits) == 10
    assert all(h.metadata["source"] == "rare" for h in hits)


def test_bad_input_raises_value_error_naming_it(make_store: MakeStore) -> None:
    store = make_store()
    store.upsert(RECORDS[:3])
    wrong = Record("wrong", np.ones(DIM + 1, np.float32), "")
    with pytest.raises(ValueError, match=r"'wrong' has shape \(9,\)"):
        store.upsert([RECORDS[3], wrong])
    assert store.count() == 3  # a failed batch stores nothing
    with pytest.raises(ValueError, match="query has shape"):
        store.search(np.ones(DIM - 1, np.float32), 3)
    with pytest.raises(ValueError, match="zero vector"):
        store.upsert([Record("zero", np.zeros(DIM, np.float32), "")])
    with pytest.raises(ValueError, match="NaN"):
        store.search(np.full(DIM, np.nan, np.float32), 3)
    with pytest.raises(ValueError, match="k must be"):
        store.search(QUERIES[0], 0)
    with pytest.raises(ValueError, match="filter 'groups'"):
        store.search(QUERIES[0], 3, {"groups": 7})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="metadata 'groups'"):
        store.upsert([Record("bad-meta", QUERIES[0], "", {"groups": ["eng"]})])  # type: ignore[dict-item]


def test_close_releases_the_store(make_store: MakeStore) -> None:
    store = make_store()
    store.upsert(RECORDS[:2])
    store.close()
    store.close()  # closing twice is harmless
    with pytest.raises(ValueError, match="closed"):
        store.count()
    with pytest.raises(ValueError, match="closed"):
        store.search(QUERIES[0], 1)


def test_persistent_stores_find_their_data_after_reopening(make_store: MakeStore) -> None:
    store = make_store()
    if isinstance(store, NumpyStore):
        pytest.skip("NumpyStore lives in memory only")
    store.upsert(RECORDS)
    store.delete([RECORDS[0].id])
    store.close()
    reopened = make_store()
    assert reopened.count() == len(RECORDS) - 1
    assert_same_hits(reopened, RECORDS[1:], QUERIES[1], 5, {"groups": ("eng", "legal")})
    with pytest.raises(ValueError, match=r"holds \D*8\D*, not \D*16"):
        make_store(dim=DIM * 2)  # the file or table holds 8-dimensional vectors


# -----------------------------------------------------------------------------
# sqlite-vec: what the filter design implies


def test_sqlite_vec_filters_only_declared_keys(tmp_path: Path) -> None:
    with SqliteVecStore(tmp_path / "s.db", DIM, ("source",), tuple_keys=("groups",)) as store:
        store.upsert(RECORDS[:5])
        with pytest.raises(ValueError, match="cannot filter on 'lang'"):
            store.search(QUERIES[0], 3, {"lang": "en"})
        with pytest.raises(ValueError, match="declare it in tuple_keys"):
            store.upsert([Record("x", QUERIES[0], "", {"source": ("a", "b")})])


def test_sqlite_vec_stores_missing_keys_as_a_value_no_filter_can_name(tmp_path: Path) -> None:
    with SqliteVecStore(tmp_path / "s.db", DIM, ("lang",)) as store:
        store.upsert(
            [Record("no-lang", QUERIES[0], ""), Record("en", QUERIES[1], "", {"lang": "en"})]
        )
        assert [h.id for h in store.search(QUERIES[0], 5, {"lang": ("en", "de")})] == ["en"]
        with pytest.raises(ValueError, match="NUL"):
            store.search(QUERIES[0], 5, {"lang": MISSING})


def test_sqlite_vec_checks_the_declared_schema_when_reopened(tmp_path: Path) -> None:
    SqliteVecStore(tmp_path / "s.db", DIM, ("source",)).close()
    with pytest.raises(ValueError, match="was created with"):
        SqliteVecStore(tmp_path / "s.db", DIM, ("source", "lang"))
    with pytest.raises(ValueError, match="plain identifier"):
        SqliteVecStore(tmp_path / "t.db", DIM, ("two words",))


# -----------------------------------------------------------------------------
# pgvector: the filtering trap that iterative index scans fix


def test_without_iterative_scan_a_selective_filter_loses_rows(pg_conninfo: str) -> None:
    """The trap: HNSW hands the filter only its ef_search = 40 best candidates."""
    rng = np.random.default_rng(5)
    records = [
        Record(
            f"r{i}", unit(rng.standard_normal(DIM)), "", {"team": "rare" if i % 100 == 0 else "x"}
        )
        for i in range(2000)
    ]
    counts = {}
    for iterative in (False, True):
        name = f"trap_{next(_tables)}"
        with PgVectorStore(pg_conninfo, name, DIM, iterative_scan=iterative) as store:
            store.upsert(records)
            store.set_config("enable_seqscan", "off")
            counts[iterative] = len(store.search(QUERIES[0], 10, {"team": "rare"}))
    # 20 rows match; about 40 x 1% = 0.4 of the candidates pass without iterative scanning.
    assert counts[False] < 10
    assert counts[True] == 10


def test_vector_literal_is_exact_for_float32() -> None:
    v = np.array([0.1, -1 / 3, 1e-8, 3.4e38], dtype=np.float32)
    text = vector_literal(v)
    assert text[0] + text[-1] == "[]"
    np.testing.assert_array_equal(np.array(text[1:-1].split(","), dtype=np.float32), v)


def test_pgvector_rejects_bad_index_parameters(pg_conninfo: str) -> None:
    with pytest.raises(ValueError, match="ef_construction"):
        PgVectorStore(pg_conninfo, "bad", DIM, m=40, ef_construction=64)
    with pytest.raises(ValueError, match="table"):
        PgVectorStore(pg_conninfo, "Bad-Name", DIM)
