"""Drill: BM25, the lexical ranking function that hybrid search pairs with embeddings.

"Index a list of tokenized documents and score a tokenized query against every one of
them with BM25. Implement both variants you meet in practice: Lucene's (Elasticsearch,
OpenSearch) and the classic Okapi one (the `rank_bm25` package)."

    score(q, d) = sum over query terms t of
                  idf(t) * tf * C / (tf + k1 * (1 - b + b * |d| / avgdl))

tf is the count of t in d, |d| the length of d in tokens, avgdl the mean length, N the
number of documents and df(t) how many of them contain t.

    "lucene": idf = ln(1 + (N - df + 0.5) / (df + 0.5)), C = 1
    "okapi":  idf = ln((N - df + 0.5) / (df + 0.5)), C = k1 + 1; an idf below zero (a
              term in more than half the documents) is replaced by epsilon times the
              mean idf of the whole vocabulary (the mean taken before any replacement)

Rules the grader checks:
- A term repeated in the query counts once per repetition; unknown terms add 0.
- `idf(term)` is 0.0 for a term no document contains.
- `search` returns (index, score) pairs, best first, ties by the lower index, and
  leaves out documents scoring 0 or less (so fewer than k pairs may come back).
- `ValueError` for: k1 < 0, b outside [0, 1], an unknown variant (the message shows
  the bad value); k < 1 (the message names k); fitting an empty corpus (the message
  says "empty"); scoring before fitting (the message says "fit").
- Empty documents are allowed (length 0), even a corpus of nothing else.

Leaves out: tokenization (documents arrive as token lists), stemming, an on-disk
inverted index, BM25F (per-field weights).

Grade it: make drill NAME=bm25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Self

import numpy as np
from numpy.typing import NDArray

type Variant = Literal["lucene", "okapi"]


class BM25:
    """A BM25 index over a fixed corpus.

    Example: BM25().fit_tokens([["a", "cat"], ["a", "dog"]]).search(["cat"], 2)
    -> [(0, 0.277...)]  ("a dog" has no "cat" and is left out)
    """

    def __init__(
        self,
        k1: float = 1.5,
        b: float = 0.75,
        variant: Variant = "lucene",
        *,
        epsilon: float = 0.25,
    ) -> None:
        """Store the parameters; reject a bad k1, b or variant."""
        raise NotImplementedError("drill bm25: implement BM25.__init__")

    def fit_tokens(self, docs: Sequence[Sequence[str]]) -> Self:
        """Index documents given as token lists; return self."""
        raise NotImplementedError("drill bm25: implement BM25.fit_tokens")

    def idf(self, term: str) -> float:
        """The idf of one term after fitting (0.0 for a term the corpus never uses)."""
        raise NotImplementedError("drill bm25: implement BM25.idf")

    def scores(self, query: Sequence[str]) -> NDArray[np.float64]:
        """The BM25 score of every document for `query` (tokens), in corpus order."""
        raise NotImplementedError("drill bm25: implement BM25.scores")

    def search(self, query: Sequence[str], k: int) -> list[tuple[int, float]]:
        """The `k` best (document index, score) pairs, best first (see the rules)."""
        raise NotImplementedError("drill bm25: implement BM25.search")
