"""Drill: reciprocal rank fusion, how hybrid search merges BM25 and vector results.

"You have ranked lists of document ids from several retrievers, say BM25 and a vector
search. Their scores are not comparable (BM25 is unbounded, cosine lies in [-1, 1]).
Merge the lists into one ranking, using ranks only."

    RRF(d) = sum over the lists r that contain d of  weight_r / (k + rank_r(d))

where rank 1 is the best.

Rules the grader checks:
- Returns an (id, fused score) pair for every id in any list, best first.
- Equal fused scores are ordered by id (ascending), so the result does not depend on
  the order of the input lists. Sum each id's terms with `math.fsum`, so the same set of
  ranks gives exactly the same score whatever order the lists come in.
- `weights` (one per list, default all 1.0) multiply that list's terms.
- `ValueError` whose message names the problem and the bad value (k's value, the word
  "weights", the repeated id) for: k negative or not finite, a weights list of the
  wrong length, an id that appears twice in one list.
- No lists, or only empty lists, give [].

Leaves out: score-based fusion (CombSUM, CombMNZ), learning the weights.

Grade it: make drill NAME=rrf
"""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60
"""The constant of Cormack, Clarke and Buettcher (2009)."""


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]],
    k: float = RRF_K,
    *,
    weights: Sequence[float] | None = None,
) -> list[tuple[str, float]]:
    """Fuse ranked id lists into one list of (id, score), best first.

    Example: reciprocal_rank_fusion([["a", "b"], ["b", "c"]])
    -> [("b", 1/62 + 1/61), ("a", 1/61), ("c", 1/62)]
    """
    raise NotImplementedError("drill rrf: implement reciprocal_rank_fusion")
