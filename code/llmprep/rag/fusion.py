"""Combining and diversifying result lists: reciprocal rank fusion and maximal marginal relevance.

Reciprocal rank fusion (Cormack, Clarke & Buettcher, 2009, "Reciprocal Rank Fusion
outperforms Condorcet and individual Rank Learning Methods", SIGIR) merges rankings from
retrievers whose scores are not comparable (BM25 scores are unbounded, cosine similarities lie
in [-1, 1]) by using ranks alone:

    RRF(d) = sum over rankings r that contain d of  1 / (k + rank_r(d))      rank 1 = best

k = 60 (the paper's value) flattens the curve, so being 1st instead of 2nd in one list matters
little, while appearing in several lists matters a lot. That is why hybrid search (BM25 + dense)
fuses with RRF instead of adding raw scores.

Maximal marginal relevance (Carbonell & Goldstein, 1998, "The Use of MMR, Diversity-Based
Reranking for Reordering Documents and Producing Summaries", SIGIR) picks results one at a time,
each maximising

    lambda_ * sim(d, query) - (1 - lambda_) * max over already picked s of sim(d, s)

so a near-duplicate of something already picked loses to a slightly less relevant chunk that
says something new. lambda_ = 1 is plain relevance order; lambda_ = 0 only avoids repetition.

Leaves out: score-based fusion (CombSUM/CombMNZ over normalised scores) and learned fusion
weights; MMR over anything but cosine similarity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from llmprep.rag.documents import Vector

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]],
    k: float = RRF_K,
    *,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Fuse ranked id lists into one: (id, fused score) pairs, best first.

    `weights` (one per ranking, default all 1) multiply each list's terms, a common way to
    lean a hybrid search towards BM25 or towards dense retrieval. Ties in the fused score are
    broken by id, so the result does not depend on the order of the input lists; the terms of
    each score are summed with `math.fsum`, so equal rank sets give exactly equal scores.

    Example: reciprocal_rank_fusion([["a", "b"], ["b", "c"]])
    -> [("b", 1/62 + 1/61), ("a", 1/61), ("c", 1/62)]
    """
    if not (math.isfinite(k) and k >= 0):
        raise ValueError(f"k must be a finite number >= 0, got {k}")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"got {len(weights)} weights for {len(rankings)} rankings")
    terms: dict[str, list[float]] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if len(set(ranking)) != len(ranking):
            repeated = next(i for i in ranking if ranking.count(i) > 1)
            raise ValueError(f"id {repeated!r} appears more than once in one ranking")
        for rank, item in enumerate(ranking, start=1):
            terms.setdefault(item, []).append(weight / (k + rank))
    fused = [(item, math.fsum(parts)) for item, parts in terms.items()]
    return sorted(fused, key=lambda pair: (-pair[1], pair[0]))


def mmr(query: Vector, candidates: Vector, k: int, lambda_: float = 0.5) -> list[int]:
    """Pick `k` rows of `candidates` (n, d) that are relevant to `query` (d,) but not redundant.

    Returns row indices in the order picked. The first pick is always the row most similar to
    the query (with nothing picked yet there is nothing to be redundant with). Similarity is
    cosine (the dot product for the unit vectors embedders return; a zero row has similarity 0
    to everything). Ties go to the lower index. k larger than n returns every row.

    Example: query (1, 0), candidates (0.8, 0.6), (0.8, 0.6), (0.6, -0.8), lambda_ 0.5
    -> [0, 2, 1]: after row 0, its duplicate scores 0.5*0.8 - 0.5*1.0 = -0.1, while row 2
    scores 0.5*0.6 - 0.5*0.0 = 0.3.
    """
    if not 0 <= lambda_ <= 1:
        raise ValueError(f"lambda_ must be in [0, 1], got {lambda_}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if candidates.ndim != 2 or query.shape != (candidates.shape[1],):
        raise ValueError(
            f"query must have shape (d,) and candidates (n, d); got {query.shape} "
            f"and {candidates.shape}"
        )
    rows = _unit_rows(candidates.astype(np.float64))
    relevance = rows @ _unit_rows(query.astype(np.float64)[None, :])[0]
    similarity = rows @ rows.T
    picked: list[int] = []
    left = list(range(len(rows)))
    while left and len(picked) < k:
        if picked:
            redundancy = similarity[np.ix_(left, picked)].max(axis=1)
            gain = lambda_ * relevance[left] - (1 - lambda_) * redundancy
        else:
            gain = relevance[left]
        best = left[int(np.argmax(gain))]  # argmax returns the first maximum: lowest index
        picked.append(best)
        left.remove(best)
    return picked


def _unit_rows(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows scaled to unit length; zero rows stay zero."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
