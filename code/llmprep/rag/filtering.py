"""Metadata filters and top-k: why filtering after the vector search starves the result.

A vector index returns the best `candidates` rows it found; a post-filter then drops the rows
the filter rejects. When only a fraction `s` of rows passes (the filter's selectivity), about
`candidates * s` survive, so once `s < k / candidates` the query returns fewer than k rows
even though thousands of matching rows exist. A pre-filter (restrict to matching rows, then
search them) always returns min(k, matches) rows, and an iterative scan (keep fetching more
candidates until k pass or a scan limit is reached, as pgvector 0.8 does with
`hnsw.iterative_scan`) sits between the two.

This module simulates the three strategies with exact candidate generation, so the only
error it shows is the filter's: recall is measured against an exact pre-filtered top-k. A
real ANN index adds its own approximation on top, and an HNSW graph searched with a very
selective in-graph filter can also lose connectivity, which this simulation does not model.

Leaves out: filters correlated with the query (they help post-filtering; uncorrelated filters,
simulated here, are the neutral case), cost models, and planners that pick a strategy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

type F32 = NDArray[np.float32]
type Mask = NDArray[np.bool_]
type Strategy = Literal["pre", "post", "iterative"]


@dataclass(frozen=True, slots=True)
class FilterRow:
    """One strategy at one selectivity: rows returned and recall against exact pre-filtering,
    averaged over queries, and how many candidates the strategy had to score."""

    strategy: str
    selectivity: float
    candidates: int
    mean_returned: float
    recall: float
    mean_scanned: float


def random_mask(n: int, selectivity: float, *, seed: int = 0) -> Mask:
    """A filter that each row passes independently with probability `selectivity`, with at
    least one passing row (an uncorrelated filter, such as a tenant id)."""
    if n < 1 or not 0 < selectivity <= 1:
        raise ValueError(f"need n >= 1 and 0 < selectivity <= 1, got n={n}, {selectivity}")
    rng = np.random.default_rng(seed)
    mask = rng.random(n) < selectivity
    if not mask.any():
        mask[rng.integers(0, n)] = True
    return mask


def _ranking(base: F32, query: F32) -> NDArray[np.int64]:
    scores = base @ query
    return np.argsort(-scores, kind="stable").astype(np.int64)


def pre_filter(base: F32, query: F32, mask: Mask, k: int) -> list[int]:
    """The exact answer: the top k of the rows that pass the filter."""
    order = _ranking(base, query)
    return [int(i) for i in order[mask[order]][:k]]


def post_filter(base: F32, query: F32, mask: Mask, k: int, candidates: int) -> list[int]:
    """Take the top `candidates` rows, then drop those the filter rejects; at most k remain.

    Example: with candidates=40 and 5% of rows passing, about 2 of k=10 rows come back.
    """
    if candidates < k:
        raise ValueError(f"candidates ({candidates}) must be >= k ({k})")
    top = _ranking(base, query)[:candidates]
    return [int(i) for i in top[mask[top]][:k]]


def iterative_filter(
    base: F32, query: F32, mask: Mask, k: int, candidates: int, max_scan: int
) -> tuple[list[int], int]:
    """Post-filter, but double the candidate list until k rows pass or `max_scan` candidates
    have been scored (pgvector's `hnsw.max_scan_tuples` plays the role of max_scan). Returns
    the ids and how many candidates were scanned."""
    if max_scan < candidates:
        raise ValueError(f"max_scan ({max_scan}) must be >= candidates ({candidates})")
    order = _ranking(base, query)
    scanned = candidates
    while True:
        top = order[:scanned]
        kept = top[mask[top]][:k]
        if len(kept) >= k or scanned >= min(max_scan, len(order)):
            return [int(i) for i in kept], scanned
        scanned = min(2 * scanned, max_scan, len(order))


def filter_sweep(
    base: F32,
    queries: F32,
    selectivities: Sequence[float],
    *,
    k: int = 10,
    candidates: int = 40,
    max_scan: int = 20_000,
    strategies: Sequence[Strategy] = ("pre", "post", "iterative"),
    seed: int = 0,
) -> list[FilterRow]:
    """Recall@k of each strategy as the filter lets fewer rows through, against exact
    pre-filtering. candidates=40 mirrors pgvector's default `hnsw.ef_search`.

    Why it matters: it shows the cliff at selectivity k/candidates that a post-filter falls
    off, which is the most common "filtered search returns nothing" bug in RAG systems.
    """
    rows = []
    for i, s in enumerate(selectivities):
        mask = random_mask(len(base), s, seed=seed + i)
        exact = [pre_filter(base, q, mask, k) for q in queries]
        for strategy in strategies:
            got: list[list[int]] = []
            scanned: list[int] = []
            for q in queries:
                if strategy == "pre":
                    got.append(pre_filter(base, q, mask, k))
                    scanned.append(int(mask.sum()))
                elif strategy == "post":
                    got.append(post_filter(base, q, mask, k, candidates))
                    scanned.append(candidates)
                else:
                    ids, n_scanned = iterative_filter(base, q, mask, k, candidates, max_scan)
                    got.append(ids)
                    scanned.append(n_scanned)
            recall = float(
                np.mean([len(set(g) & set(e)) / len(e) for g, e in zip(got, exact, strict=True)])
            )
            returned = float(np.mean([len(g) for g in got]))
            rows.append(
                FilterRow(strategy, s, candidates, returned, recall, float(np.mean(scanned)))
            )
    return rows
