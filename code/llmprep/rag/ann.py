"""Approximate nearest-neighbor indexes measured against exact search, with faiss.

Every approximate index trades recall for speed and memory through a few parameters. This
module builds faiss's flat (exact), IVF, HNSW, PQ and IVF-PQ indexes over the same unit
vectors and sweeps the parameter that trades recall for speed at query time (nprobe for IVF,
efSearch for HNSW) or memory at build time (the number of PQ sub-vectors m). Each sweep
returns rows of (index, parameter, value, recall@k against exact search, mean query time in
ms, bytes per vector of the serialized index), so a chapter can plot the trade-off it teaches.

Inner product on unit vectors is cosine similarity, so every index here uses
`METRIC_INNER_PRODUCT` on L2-normalized rows.

Query times are measured with one thread (`faiss.omp_set_num_threads(1)`) over a whole batch
and divided by the batch size, as the best of three timed runs after one untimed warm-up run
(a single cold run lets first-touch costs reorder neighboring points of a sweep): they depend
on the machine, so tests never assert them.

Leaves out: GPU indexes, OPQ rotations, refinement (`IndexRefine`), ScaNN, DiskANN, and
measuring build time; `clustered_unit_vectors` is synthetic data, not a real embedding set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np
from numpy.typing import NDArray

type F32 = NDArray[np.float32]
type Ids = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One measured configuration: recall@k against exact search, mean query time, memory."""

    index: str
    param: str
    value: int
    recall: float
    query_ms: float
    bytes_per_vector: float


def unit_rows(x: NDArray[Any]) -> F32:
    """Rows scaled to unit L2 norm, as float32 (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.asarray(x / np.maximum(norms, 1e-12), dtype=np.float32)


def clustered_unit_vectors(
    n: int, dim: int, *, n_clusters: int, spread: float, seed: int = 0
) -> tuple[F32, F32]:
    """Synthetic embeddings: n points around `n_clusters` random unit centers, per-coordinate
    Gaussian noise of standard deviation `spread`, projected back to the unit sphere. Returns
    (points, centers). Clustered data is what makes IVF work and what real embeddings look
    like more than uniform noise does; it stands in where a real corpus is too slow to embed.

    Example: clustered_unit_vectors(1000, 384, n_clusters=20, spread=0.05)[0].shape -> (1000, 384)
    """
    if n < 1 or dim < 2 or n_clusters < 1 or spread < 0:
        raise ValueError(
            f"need n >= 1, dim >= 2, n_clusters >= 1, spread >= 0; got {n}, {dim}, "
            f"{n_clusters}, {spread}"
        )
    rng = np.random.default_rng(seed)
    centers = unit_rows(rng.standard_normal((n_clusters, dim)))
    labels = rng.integers(0, n_clusters, n)
    noise = spread * rng.standard_normal((n, dim))
    return unit_rows(centers[labels] + noise), centers


def noisy_queries(centers: F32, n: int, *, spread: float, seed: int = 1) -> F32:
    """Queries drawn like the data (a random center plus noise), from a different seed."""
    rng = np.random.default_rng(seed)
    picks = centers[rng.integers(0, len(centers), n)]
    return unit_rows(picks + spread * rng.standard_normal(picks.shape))


def exact_neighbors(base: F32, queries: F32, k: int) -> Ids:
    """The true top-k by inner product (brute force): the ground truth every sweep uses."""
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    _, ids = index.search(queries, k)
    return np.asarray(ids, dtype=np.int64)


def recall_at_k(found: Ids, truth: Ids) -> float:
    """Mean over queries of |found ∩ truth| / k: the share of the true top-k an index returns.

    Example: recall_at_k(np.array([[1, 2]]), np.array([[2, 3]])) -> 0.5
    """
    if found.shape != truth.shape:
        raise ValueError(f"shapes differ: found {found.shape}, truth {truth.shape}")
    k = int(truth.shape[1])
    hits = [len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits)) / k


def index_bytes(index: Any) -> int:
    """Size of the serialized index: what it costs to hold in memory, near enough."""
    return int(faiss.serialize_index(index).nbytes)


def _timed_search(index: Any, queries: F32, k: int, *, repeats: int = 3) -> tuple[Ids, float]:
    """Search once untimed (warm caches, lazy allocations), then keep the fastest of `repeats`
    timed runs: the minimum is the least noisy estimate of what the index itself costs."""
    faiss.omp_set_num_threads(1)
    _, ids = index.search(queries, k)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        index.search(queries, k)
        best = min(best, time.perf_counter() - start)
    return np.asarray(ids, dtype=np.int64), 1000.0 * best / len(queries)


def _sweep(
    name: str,
    param: str,
    index: Any,
    set_param: Callable[[int], None],
    values: Sequence[int],
    queries: F32,
    truth: Ids,
    n: int,
) -> list[SweepRow]:
    per_vector = index_bytes(index) / n
    rows = []
    for value in values:
        set_param(value)
        found, ms = _timed_search(index, queries, truth.shape[1])
        rows.append(SweepRow(name, param, value, recall_at_k(found, truth), ms, per_vector))
    return rows


def flat_row(base: F32, queries: F32, truth: Ids) -> SweepRow:
    """Exact search (IndexFlatIP): recall 1.0 by definition, the latency baseline."""
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    found, ms = _timed_search(index, queries, truth.shape[1])
    per_vector = index_bytes(index) / len(base)
    return SweepRow("flat", "-", 0, recall_at_k(found, truth), ms, per_vector)


def sweep_hnsw(
    base: F32,
    queries: F32,
    truth: Ids,
    *,
    m: int = 16,
    ef_construction: int = 64,
    ef_search: Sequence[int] = (10, 20, 40, 80, 160),
) -> list[SweepRow]:
    """HNSW (IndexHNSWFlat) with graph degree M, swept over efSearch, the size of the
    candidate list kept during a query: recall rises with it, and so does query time."""
    index = faiss.IndexHNSWFlat(base.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(base)

    def set_ef(value: int) -> None:
        index.hnsw.efSearch = value

    return _sweep(f"HNSW M={m}", "efSearch", index, set_ef, ef_search, queries, truth, len(base))


def build_ivf_flat(base: F32, nlist: int, *, train_size: int = 20_000, seed: int = 0) -> Any:
    """IndexIVFFlat: k-means into nlist cells (trained on a sample), full vectors in lists."""
    quantizer = faiss.IndexFlatIP(base.shape[1])
    index = faiss.IndexIVFFlat(quantizer, base.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(_sample(base, train_size, seed))
    index.add(base)
    return index


def sweep_ivf(
    base: F32,
    queries: F32,
    truth: Ids,
    *,
    nlist: int = 256,
    nprobe: Sequence[int] = (1, 2, 4, 8, 16, 32),
) -> list[SweepRow]:
    """IVF-Flat swept over nprobe, the number of cells scanned per query: each extra cell
    costs about n/nlist distance computations and can only raise recall."""
    index = build_ivf_flat(base, nlist)

    def set_nprobe(value: int) -> None:
        index.nprobe = value

    return _sweep(f"IVF{nlist}", "nprobe", index, set_nprobe, nprobe, queries, truth, len(base))


def sweep_pq(
    base: F32,
    queries: F32,
    truth: Ids,
    *,
    m_values: Sequence[int] = (8, 16, 32, 48, 96),
    nbits: int = 8,
    train_size: int = 2_560,
    kmeans_iterations: int = 10,
) -> list[SweepRow]:
    """Flat PQ (IndexPQ) for several numbers of sub-vectors m: each vector becomes m codes of
    nbits, so memory is m*nbits/8 bytes per vector, and recall rises with m. Training runs
    `kmeans_iterations` of k-means per sub-quantizer on `train_size` points (faiss's defaults
    are 25 iterations and at least 39 points per centroid; this sweep accepts 10 points per
    centroid to keep the book's build fast, which costs PQ some recall)."""
    rows = []
    sample = _sample(base, train_size, 0)
    for m in m_values:
        index = faiss.IndexPQ(base.shape[1], m, nbits, faiss.METRIC_INNER_PRODUCT)
        index.pq.cp.niter = kmeans_iterations
        index.pq.cp.min_points_per_centroid = 5  # silence faiss's 39-points warning
        index.train(sample)
        index.add(base)
        found, ms = _timed_search(index, queries, truth.shape[1])
        per_vector = index_bytes(index) / len(base)
        rows.append(SweepRow(f"PQ x{nbits}", "m", m, recall_at_k(found, truth), ms, per_vector))
    return rows


def sweep_ivfpq(
    base: F32,
    queries: F32,
    truth: Ids,
    *,
    nlist: int = 256,
    m: int = 48,
    nbits: int = 8,
    nprobe: Sequence[int] = (1, 2, 4, 8, 16, 32),
    train_size: int = 20_000,
) -> list[SweepRow]:
    """IVF-PQ: IVF cells holding PQ codes (of the residual to the cell center), swept over
    nprobe. Compressed and fast, but recall is capped by the PQ error however many cells you
    scan, which is why production systems rescore the candidates with full vectors."""
    quantizer = faiss.IndexFlatIP(base.shape[1])
    index = faiss.IndexIVFPQ(quantizer, base.shape[1], nlist, m, nbits, faiss.METRIC_INNER_PRODUCT)
    index.train(_sample(base, train_size, 0))
    index.add(base)

    def set_nprobe(value: int) -> None:
        index.nprobe = value

    name = f"IVF{nlist}-PQ{m}"
    return _sweep(name, "nprobe", index, set_nprobe, nprobe, queries, truth, len(base))


def _sample(base: F32, size: int, seed: int) -> F32:
    if len(base) <= size:
        return base
    rng = np.random.default_rng(seed)
    return np.ascontiguousarray(base[rng.choice(len(base), size, replace=False)])
