"""Similarity between embedding vectors: cosine, dot product and Euclidean distance, and when
they rank neighbors the same way.

For unit-length vectors the three agree: ||a - b||^2 = 2 - 2 cos(a, b) and a . b = cos(a, b),
so sorting by any of them gives the same order. For vectors of different lengths they do not:
the dot product favors long vectors, and Euclidean distance mixes angle with length. The
functions here make that checkable, and measure what shortening a vector does to its nearest
neighbors (which is why shortening needs a model trained for it, Matryoshka-style).

    scores(query, matrix, "cosine")   -> one higher-is-better score per row
    top_k(query, matrix, k, metric)   -> row indices, best first (ties broken by index)
    neighbor_overlap(vectors, dims)   -> how much of each row's top-k survives truncation
    unnormalized_embeddings(model, texts) -> MiniLM's vectors before their last normalization
    truncated_characters(tokenizer, texts, 256) -> characters an encoder silently ignores

Leaves out: approximate search (the architecture chapter's indexes) and any metric beyond the
three a vector database offers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

from llmprep.foundations.minilm import MiniLM, mean_pool

type Matrix = NDArray[np.floating]
type F64 = NDArray[np.float64]
type Metric = Literal["cosine", "dot", "l2"]
METRICS: tuple[Metric, ...] = get_args(Metric.__value__)


def _as_matrix(x: Matrix, name: str) -> F64:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows are vectors), got shape {a.shape}")
    return a


def normalize(vectors: Matrix) -> F64:
    """Rows scaled to length 1 (a zero row stays zero), so cosine becomes a dot product.

    Example: normalize(np.array([[3.0, 4.0]])) -> [[0.6, 0.8]]
    """
    a = _as_matrix(vectors, "vectors")
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return np.divide(a, norms, out=np.zeros_like(a), where=norms > 0)


def scores(query: Matrix, matrix: Matrix, metric: Metric) -> F64:
    """Higher-is-better scores of every row of `matrix` against one `query` vector.

    "cosine" is the cosine similarity, "dot" the raw inner product and "l2" the *negative*
    Euclidean distance, so that one sort order (descending) serves all three.

    Example: scores(np.array([1.0, 0.0]), np.array([[2.0, 0.0], [0.0, 1.0]]), "dot") -> [2, 0]
    """
    q = np.asarray(query, dtype=np.float64).reshape(-1)
    m = _as_matrix(matrix, "matrix")
    if m.shape[1] != q.shape[0]:
        got, want = q.shape[0], m.shape[1]
        raise ValueError(f"query has {got} dimensions but matrix rows have {want}")
    if metric == "dot":
        return m @ q
    if metric == "cosine":
        cosines: F64 = normalize(m) @ normalize(q[None, :])[0]
        return cosines
    if metric == "l2":
        distances: F64 = np.linalg.norm(m - q[None, :], axis=1)
        return -distances
    raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")


def top_k(
    query: Matrix,
    matrix: Matrix,
    k: int,
    metric: Metric = "cosine",
) -> list[int]:
    """Indices of the k best rows for `query`, best first; ties go to the lower index, so the
    result is deterministic."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    s = scores(query, matrix, metric)
    order = np.lexsort((np.arange(len(s)), -s))  # primary key: -score; then index
    return [int(i) for i in order[:k]]


def neighbor_sets(vectors: Matrix, k: int, metric: Metric = "cosine") -> list[set[int]]:
    """For each row, the set of its k nearest *other* rows (the row itself is excluded): the
    neighbors a query that looks like this row would retrieve."""
    a = _as_matrix(vectors, "vectors")
    if not 1 <= k < len(a):
        raise ValueError(f"k must be between 1 and {len(a) - 1} for {len(a)} rows, got {k}")
    out = []
    for i in range(len(a)):
        s = scores(a[i], a, metric)
        s[i] = -np.inf
        order = np.lexsort((np.arange(len(s)), -s))
        out.append({int(j) for j in order[:k]})
    return out


def mean_overlap(a: Sequence[set[int]], b: Sequence[set[int]]) -> float:
    """Average share of the sets in `a` that the matching sets in `b` keep (1.0: identical)."""
    if len(a) != len(b) or not a:
        raise ValueError(f"need two equally long, non-empty lists, got {len(a)} and {len(b)}")
    return float(np.mean([len(x & y) / len(x) for x, y in zip(a, b, strict=True)]))


def metric_agreement(vectors: Matrix, k: int = 10) -> dict[Metric, float]:
    """How much of each row's cosine top-k the dot product and L2 distance reproduce, averaged
    over rows. On unit vectors all three are 1.0; on vectors of mixed length they are not."""
    reference = neighbor_sets(vectors, k, "cosine")
    return {m: mean_overlap(reference, neighbor_sets(vectors, k, m)) for m in METRICS}


def truncate(vectors: Matrix, dim: int) -> F64:
    """The first `dim` coordinates of each row, renormalized to unit length: what "use a
    shorter embedding" means for a Matryoshka model (and what it does to any other model)."""
    a = _as_matrix(vectors, "vectors")
    if not 1 <= dim <= a.shape[1]:
        raise ValueError(f"dim must be between 1 and {a.shape[1]}, got {dim}")
    return normalize(a[:, :dim])


def unnormalized_embeddings(model: MiniLM, texts: Sequence[str], batch_size: int = 32) -> F64:
    """MiniLM's mean-pooled vectors *before* its final L2 normalization, one row per text.

    Real vectors of unequal length, for showing where dot product and cosine part ways;
    `normalize` of the result equals `model.encode(texts)` (up to float rounding).
    """
    if not texts:
        raise ValueError("need at least one text")
    out = np.zeros((len(texts), model.dim), dtype=np.float64)
    for start in range(0, len(texts), batch_size):
        ids, mask, _ = model.tokenize(texts[start : start + batch_size])
        hidden, _ = model.run(ids, mask)
        out[start : start + batch_size] = mean_pool(hidden, mask)
    return out


def neighbor_overlap(
    vectors: Matrix,
    dims: Sequence[int],
    k: int = 10,
) -> dict[int, float]:
    """For each target dimension, the mean share of every row's top-k neighbors (cosine, full
    vectors) that the shortened vectors still rank in their top-k.

    1.0 means shortening changed no one's neighbors; it is 1.0 for truncation at full
    dimension by construction.
    """
    full = neighbor_sets(normalize(vectors), k)
    return {d: mean_overlap(full, neighbor_sets(truncate(vectors, d), k)) for d in dims}


def truncated_characters(
    tokenizer: Tokenizer, texts: Sequence[str], max_seq_length: int
) -> list[int]:
    """For each text, how many of its characters an encoder that keeps `max_seq_length` tokens
    (special tokens included, as BERT-style models count them) never sees.

    The encoder does not warn: a chunk longer than its limit is embedded from its first part
    only, so everything after the cut is unfindable by dense search. `tokenizer` must not
    truncate itself (load a fresh one and call `no_truncation()`).

    Example: with MiniLM (256), a 2,000-character paragraph of English prose loses its tail.
    """
    special = tokenizer.num_special_tokens_to_add(is_pair=False)
    keep = max_seq_length - special
    if keep < 1:
        raise ValueError(
            f"max_seq_length {max_seq_length} leaves no room after {special} special tokens"
        )
    out = []
    for text in texts:
        encoding = tokenizer.encode(text, add_special_tokens=False)
        if len(encoding.ids) <= keep:
            out.append(0)
        else:
            out.append(len(text) - encoding.offsets[keep - 1][1])
    return out
