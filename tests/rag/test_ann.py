"""ANN sweeps against exact search. Query times are measured but never asserted."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from llmprep.rag.ann import (
    clustered_unit_vectors,
    exact_neighbors,
    flat_row,
    index_bytes,
    noisy_queries,
    recall_at_k,
    sweep_hnsw,
    sweep_ivf,
    sweep_ivfpq,
    sweep_pq,
)
from llmprep.rag.index_math import hnsw_graph_bytes_per_vector

N, DIM, K = 4000, 32, 10


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    base, centers = clustered_unit_vectors(N, DIM, n_clusters=64, spread=0.12, seed=0)
    queries = noisy_queries(centers, 50, spread=0.12, seed=1)
    return base, queries, exact_neighbors(base, queries, K)


def test_vectors_are_unit_and_deterministic() -> None:
    a, _ = clustered_unit_vectors(100, 16, n_clusters=4, spread=0.1, seed=3)
    b, _ = clustered_unit_vectors(100, 16, n_clusters=4, spread=0.1, seed=3)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, b)


def test_recall_at_k_by_hand() -> None:
    found = np.array([[1, 2, 3], [4, 5, 6]])
    truth = np.array([[3, 2, 9], [7, 8, 9]])
    assert recall_at_k(found, truth) == pytest.approx((2 / 3 + 0) / 2)
    with pytest.raises(ValueError, match="shapes"):
        recall_at_k(found, truth[:, :2])


def test_flat_is_exact(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    base, queries, truth = data
    row = flat_row(base, queries, truth)
    assert row.recall == 1.0
    assert row.bytes_per_vector == pytest.approx(4 * DIM, rel=0.01)


def test_hnsw_recall_rises_with_ef_search(
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    base, queries, truth = data
    rows = sweep_hnsw(base, queries, truth, m=8, ef_construction=40, ef_search=(10, 40, 200))
    recalls = [r.recall for r in rows]
    assert recalls == sorted(recalls)
    assert recalls[-1] > 0.95


def test_ivf_recall_rises_with_nprobe(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    base, queries, truth = data
    rows = sweep_ivf(base, queries, truth, nlist=64, nprobe=(1, 4, 64))
    recalls = [r.recall for r in rows]
    assert recalls == sorted(recalls)
    assert recalls[-1] == 1.0  # scanning every cell is exhaustive


def test_pq_code_memory_is_n_m_nbits_over_8(
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    base, queries, truth = data
    rows = sweep_pq(base, queries, truth, m_values=(4, 8, 16), train_size=N)
    for row in rows:
        index = faiss.IndexPQ(DIM, row.value, 8, faiss.METRIC_INNER_PRODUCT)
        index.train(base)
        index.add(base)
        assert index.codes.size() == N * row.value * 8 // 8
    assert rows[-1].recall > rows[0].recall


def test_ivfpq_recall_is_capped_below_one(
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    base, queries, truth = data
    rows = sweep_ivfpq(base, queries, truth, nlist=32, m=4, nprobe=(1, 32), train_size=N)
    assert rows[0].recall <= rows[1].recall < 1.0


def test_hnsw_graph_formula_matches_faiss() -> None:
    rng = np.random.default_rng(0)
    n, dim, m = 5000, 16, 16
    x = rng.standard_normal((n, dim)).astype(np.float32)
    index = faiss.IndexHNSWFlat(dim, m)
    index.add(x)
    per_vector = index_bytes(index) / n - 4 * dim
    assert per_vector == pytest.approx(hnsw_graph_bytes_per_vector(m), rel=0.02)


def test_timed_rows_report_positive_times(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    # The warm-up and best-of-three timing must not change what the index returns.
    base, queries, truth = data
    row = flat_row(base, queries, truth)
    assert row.query_ms > 0
    assert row.recall == 1.0
