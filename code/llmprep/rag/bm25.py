"""BM25: the lexical ranking function that dense retrieval is still measured against.

BM25 (Robertson & Zaragoza, 2009, "The Probabilistic Relevance Framework: BM25 and Beyond",
Foundations and Trends in Information Retrieval 3(4)) scores a document d for a query q as a
sum over the query's terms t:

    score(q, d) = sum_t  idf(t) * tf(t, d) * C / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))

idf(t) rewards rare terms: a word in every document says nothing about which one you want.
The fraction is the term-frequency part, with two knobs:
  k1 (>= 0) is term-frequency saturation: the 1st occurrence of a term adds the most, each
     further one less, and the fraction can never exceed C. k1 = 0 ignores counts altogether
     (a term is present or not); a large k1 keeps counts nearly linear. Typical: 1.2 to 2.
  b (0..1) is length normalisation: a long document contains more terms by chance, so its
     counts are discounted by |d| / avgdl (its length over the average). b = 0 ignores length;
     b = 1 normalises fully. Typical: 0.75.

Two variants, named after the implementations they reproduce (Kamphuis et al., 2020, "Which
BM25 Do You Mean? A Large-Scale Reproducibility Study of Scoring Variants", ECIR, compares
these and more):
  "lucene"  idf = ln(1 + (N - df + 0.5) / (df + 0.5)), always positive, and C = 1 (Lucene 8+
            dropped the constant factor k1 + 1, which changes no ranking). Same scores as
            `bm25s.BM25(method="lucene")`.
  "okapi"   idf = ln((N - df + 0.5) / (df + 0.5)), negative for a term in more than half of the
            documents; those get a floor of epsilon * (the mean idf over the vocabulary), and
            C = k1 + 1. Same scores as `rank_bm25.BM25Okapi`.
N is the number of documents, df(t) the number that contain t. A query term repeated counts once
per repetition, as in both reference libraries.

Leaves out: an inverted index on disk, stemming, phrase and proximity scoring, BM25F (fields
with their own weights) and query-side term weighting.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from typing import Literal, Self

import numpy as np
from numpy.typing import NDArray

type Variant = Literal["lucene", "okapi"]
type Tokenizer = Callable[[str], list[str]]

_WORD = re.compile(r"\w+")

ENGLISH_STOPWORDS: frozenset[str] = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is"}
    | {"it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "which", "with"}
)
"""A short list for `tokenize(text, ENGLISH_STOPWORDS)`. BM25's idf already discounts such
words; dropping them mainly makes the index smaller and queries faster."""


def tokenize(text: str, stopwords: Collection[str] = ()) -> list[str]:
    """Lowercase word tokens (runs of letters, digits and "_"), minus `stopwords`.

    Example: tokenize("BM25's k1, b=0.75") == ["bm25", "s", "k1", "b", "0", "75"]
    """
    return [t for t in _WORD.findall(text.lower()) if t not in stopwords]


class BM25:
    """A BM25 index over a fixed list of documents, scored exactly (no approximation).

    Example: BM25().fit(["a cat", "a dog", "cat cat dog"]).search("cat", 3)
    -> [(2, 0.246), (0, 0.201)]  (two "cat"s beat one, but saturation keeps it far from double;
    "a dog" has no "cat" and is left out)
    """

    def __init__(
        self,
        k1: float = 1.5,
        b: float = 0.75,
        variant: Variant = "lucene",
        *,
        epsilon: float = 0.25,
        tokenizer: Tokenizer = tokenize,
    ) -> None:
        if not (math.isfinite(k1) and k1 >= 0):
            raise ValueError(f"k1 must be a finite number >= 0, got {k1}")
        if not 0 <= b <= 1:
            raise ValueError(f"b must be in [0, 1], got {b}")
        if variant not in ("lucene", "okapi"):
            raise ValueError(f"variant must be 'lucene' or 'okapi', got {variant!r}")
        self.k1, self.b, self.variant, self.epsilon = k1, b, variant, epsilon
        self.tokenizer = tokenizer
        self._idf: dict[str, float] = {}
        # term -> (indices of the documents that contain it, its count in each)
        self._postings: dict[str, tuple[NDArray[np.intp], NDArray[np.float64]]] = {}
        self._norm: NDArray[np.float64] = np.zeros(0)  # k1 * (1 - b + b * |d| / avgdl)
        self.avgdl = 0.0

    # ------------------------------------------------------------ indexing

    def fit(self, texts: Sequence[str]) -> Self:
        """Index `texts`, tokenized with `self.tokenizer`."""
        return self.fit_tokens([self.tokenizer(text) for text in texts])

    def fit_tokens(self, docs: Sequence[Sequence[str]]) -> Self:
        """Index documents that are already token lists (how the reference libraries take them)."""
        if not docs:
            raise ValueError("cannot fit BM25 on an empty corpus")
        lengths = np.array([len(doc) for doc in docs], dtype=np.float64)
        self.avgdl = float(lengths.sum()) / len(docs)
        ratio = lengths / self.avgdl if self.avgdl > 0 else np.ones_like(lengths)
        self._norm = self.k1 * ((1 - self.b) + self.b * ratio)

        counts: dict[str, tuple[list[int], list[int]]] = {}
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                where, how_many = counts.setdefault(term, ([], []))
                where.append(i)
                how_many.append(tf)
        self._postings = {
            term: (np.array(where, dtype=np.intp), np.array(tfs, dtype=np.float64))
            for term, (where, tfs) in counts.items()
        }
        n = len(docs)
        df = {term: len(where) for term, (where, _) in counts.items()}
        self._idf = {term: self._raw_idf(d, n) for term, d in df.items()}
        if self.variant == "okapi":
            self._floor_negative_idf()
        return self

    def _raw_idf(self, df: int, n: int) -> float:
        if self.variant == "lucene":
            return math.log(1 + (n - df + 0.5) / (df + 0.5))
        return math.log(n - df + 0.5) - math.log(df + 0.5)  # rank_bm25's exact expression

    def _floor_negative_idf(self) -> None:
        """Okapi's idf is negative for terms in more than half the documents, which would make
        matching such a term count against a document; rank_bm25 replaces those values with
        epsilon times the mean idf of the vocabulary (taken before the replacement)."""
        mean = sum(self._idf.values()) / len(self._idf) if self._idf else 0.0
        floor = self.epsilon * mean
        self._idf = {t: (floor if v < 0 else v) for t, v in self._idf.items()}

    # ------------------------------------------------------------ querying

    @property
    def n_docs(self) -> int:
        return len(self._norm)

    def idf(self, term: str) -> float:
        """The idf of one term (0.0 for a term the corpus never uses)."""
        return self._idf.get(term, 0.0)

    def scores(self, query: str | Sequence[str]) -> NDArray[np.float64]:
        """The BM25 score of every document for `query` (a string, or a list of tokens).

        Example: BM25().fit(["a cat", "a dog"]).scores("cat") -> array([0.277, 0.])
        """
        if not self.n_docs:
            raise ValueError("BM25 has no documents: call fit() or fit_tokens() first")
        terms = self.tokenizer(query) if isinstance(query, str) else query
        total = np.zeros(self.n_docs)
        for term in terms:
            if term not in self._postings:
                continue
            where, tf = self._postings[term]
            saturation = tf / (tf + self._norm[where])
            if self.variant == "okapi":
                saturation *= self.k1 + 1
            total[where] += self._idf[term] * saturation
        return total

    def search(self, query: str | Sequence[str], k: int) -> list[tuple[int, float]]:
        """The `k` best (document index, score) pairs, best first, ties by index.

        Documents scoring 0 or less (no query term in them) are left out, so fewer than `k`
        pairs come back when fewer documents match.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        scores = self.scores(query)
        order = np.lexsort((np.arange(len(scores)), -scores))  # by score desc, then index
        return [(int(i), float(scores[i])) for i in order[:k] if scores[i] > 0]
