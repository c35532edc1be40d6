"""Retrieval metrics: did the ranked list find what the question needs, and how high up?

Every function takes one query's `retrieved` ids (a ranked list, best first) and its
`relevant` ids: a set, or a dict id -> gain for graded judgements (ids with gain 0 count as not
relevant). The per-query metrics:

    recall_at_k      share of the relevant ids found in the top k      "did we fetch it at all?"
    precision_at_k   share of the top k that is relevant               "how much is noise?"
    reciprocal_rank  1 / rank of the first relevant id (0 if none)     "how far down is it?"
    ndcg_at_k        DCG of the top k over the best possible DCG       "are the best ones first?"

and two means over a set of queries: `mrr` (mean reciprocal rank) and `hit_rate` (share of
queries with at least one relevant id in the top k). For RAG, recall@k is usually the number
that matters: the generator can only use what the top k hands it.

Conventions (each raises ValueError, naming the bad value, otherwise):
- A query with no relevant ids is an error, not a 0: every metric but precision is undefined
  for it, and a gold-less query in an evaluation set is a labelling bug. Drop such queries.
- k >= 1. A list shorter than k is not padded or penalised beyond what is missing:
  precision@k still divides by k (empty slots count as misses), the others just find less.
- An id may appear only once in `retrieved` (a repeat would count one hit twice).

Leaves out: the exponential gain 2**rel - 1 of Burges et al. (2005) (gains here are linear, as
in scikit-learn's `ndcg_score`), average precision (MAP), and judged-only (condensed) lists.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

type Relevant = Collection[str] | Mapping[str, float]


def recall_at_k(retrieved: Sequence[str], relevant: Relevant, k: int) -> float:
    """Relevant ids in the top k, over all relevant ids.

    Example: recall_at_k(["a", "x", "b"], {"a", "b", "c"}, 2) == 1/3
    """
    gains = _gains(relevant)
    return len(set(_top(retrieved, k)) & gains.keys()) / len(gains)


def precision_at_k(retrieved: Sequence[str], relevant: Relevant, k: int) -> float:
    """Relevant ids in the top k, over k (not over the list's length).

    Example: precision_at_k(["a", "x", "b"], {"a", "b", "c"}, 2) == 1/2
    """
    gains = _gains(relevant)
    return len(set(_top(retrieved, k)) & gains.keys()) / k


def reciprocal_rank(retrieved: Sequence[str], relevant: Relevant, k: int | None = None) -> float:
    """1 / (rank of the first relevant id), ranks from 1; 0.0 if none is in the top k (the
    whole list when k is None).

    Example: reciprocal_rank(["x", "y", "a"], {"a"}) == 1/3
    """
    gains = _gains(relevant)
    top = _top(retrieved, max(len(retrieved), 1) if k is None else k)
    return next((1 / rank for rank, i in enumerate(top, start=1) if i in gains), 0.0)


def ndcg_at_k(retrieved: Sequence[str], relevant: Relevant, k: int) -> float:
    """Normalised discounted cumulative gain (Järvelin & Kekäläinen, 2002): each hit's gain is
    discounted by log2(1 + rank), then divided by the same sum for the best possible order of
    the relevant ids (the ideal DCG), so 1.0 means "the most relevant ids, best first".

    Binary relevance (a set) gives gain 1 to every relevant id; a dict gives graded gains.

    Example: ndcg_at_k(["x", "a"], {"a"}, 2) == (1 / log2(3)) / (1 / log2(2)) == 0.6309...
    """
    gains = _gains(relevant)
    dcg = _dcg([gains.get(i, 0.0) for i in _top(retrieved, k)])
    ideal = _dcg(sorted(gains.values(), reverse=True)[:k])
    return dcg / ideal


def mrr(
    retrieved_lists: Sequence[Sequence[str]],
    relevant_lists: Sequence[Relevant],
    k: int | None = None,
) -> float:
    """Mean reciprocal rank over queries (MRR@k when k is given, as in MS MARCO's MRR@10).

    Example: mrr([["a"], ["x", "b"]], [{"a"}, {"b"}]) == (1 + 1/2) / 2 == 0.75
    """
    _check_queries(retrieved_lists, relevant_lists)
    ranks = [reciprocal_rank(r, g, k) for r, g in zip(retrieved_lists, relevant_lists, strict=True)]
    return math.fsum(ranks) / len(ranks)


def hit_rate(
    retrieved_lists: Sequence[Sequence[str]], relevant_lists: Sequence[Relevant], k: int
) -> float:
    """Share of queries with at least one relevant id in their top k.

    Example: hit_rate([["a"], ["x", "b"]], [{"a"}, {"b"}], 1) == 1/2
    """
    _check_queries(retrieved_lists, relevant_lists)
    hits = [
        bool(set(_top(r, k)) & _gains(g).keys())
        for r, g in zip(retrieved_lists, relevant_lists, strict=True)
    ]
    return sum(hits) / len(hits)


# ---------------------------------------------------------------- checks and helpers


def _gains(relevant: Relevant) -> dict[str, float]:
    """id -> gain for the relevant ids (gain > 0); ValueError if there are none."""
    if isinstance(relevant, str):
        raise ValueError(f"relevant must be a collection of ids, not the string {relevant!r}")
    if isinstance(relevant, Mapping):
        for item, gain in relevant.items():
            if not (math.isfinite(gain) and gain >= 0):
                raise ValueError(f"gain of {item!r} must be a finite number >= 0, got {gain}")
        gains = {item: float(gain) for item, gain in relevant.items() if gain > 0}
    else:
        gains = dict.fromkeys(relevant, 1.0)
    if not gains:
        raise ValueError("no relevant ids: the metric is undefined for this query; drop it")
    return gains


def _top(retrieved: Sequence[str], k: int) -> Sequence[str]:
    """The first k ids, after checking k and that no id repeats."""
    if isinstance(retrieved, str):
        raise ValueError(f"retrieved must be a list of ids, not the string {retrieved!r}")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if len(set(retrieved)) != len(retrieved):
        repeated = next(i for i in retrieved if retrieved.count(i) > 1)
        raise ValueError(f"id {repeated!r} appears more than once in the retrieved list")
    return retrieved[:k]


def _dcg(gains: Sequence[float]) -> float:
    return math.fsum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def _check_queries(
    retrieved_lists: Sequence[Sequence[str]], relevant_lists: Sequence[Relevant]
) -> None:
    if len(retrieved_lists) != len(relevant_lists):
        raise ValueError(
            f"got {len(retrieved_lists)} retrieved lists for {len(relevant_lists)} queries"
        )
    if not retrieved_lists:
        raise ValueError("no queries: a mean over zero queries is undefined")
