"""Our BM25 gives the same scores as bm25s (Lucene variant) and rank_bm25 (Okapi variant, with
its idf floor), on a real chapter's chunks and on generated corpora; plus hand-checked cases."""

from __future__ import annotations

import math
from pathlib import Path

import bm25s  # type: ignore[import-untyped]
import numpy as np
import pytest
import rank_bm25  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from llmprep.rag.bm25 import BM25, ENGLISH_STOPWORDS, tokenize
from llmprep.rag.chunking import recursive_chunks
from llmprep.rag.documents import Document

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = ROOT / "chapters" / "_data" / "rag" / "corpus" / "prompt-patterns.md"
QUERIES = [
    "risk coverage threshold for abstaining",
    "map-reduce summarization of a long document",
    "the judge flips when the order is swapped",
    "the of a is",  # only very common words: Okapi's floored idf at work
    "zzz unknown words only",
]
RTOL = 1e-9  # float64 everywhere: ours, rank_bm25, and bm25s with dtype="float64"
RTOL_FLOAT32 = 1e-6  # bm25s's default dtype="float32" (measured: about 1e-7)


def chapter_tokens() -> list[list[str]]:
    doc = Document("prompt-patterns", PATTERNS.read_text(encoding="utf-8"))
    return [tokenize(c.text) for c in recursive_chunks(doc, 800)]


def bm25s_scores(
    corpus: list[list[str]], query: list[str], dtype: str = "float64"
) -> NDArray[np.float64]:
    reference = bm25s.BM25(method="lucene", k1=1.5, b=0.75, dtype=dtype)
    reference.index(corpus, show_progress=False)
    return np.asarray(reference.get_scores(query), dtype=np.float64)


def test_lucene_variant_matches_bm25s_on_a_real_chapter() -> None:
    corpus = chapter_tokens()
    ours = BM25(k1=1.5, b=0.75, variant="lucene").fit_tokens(corpus)
    for query in map(tokenize, QUERIES):
        expected = bm25s_scores(corpus, query)
        np.testing.assert_allclose(ours.scores(query), expected, rtol=RTOL, atol=0)
        float32 = bm25s_scores(corpus, query, dtype="float32")
        np.testing.assert_allclose(ours.scores(query), float32, rtol=RTOL_FLOAT32, atol=1e-12)
    assert ours.scores(tokenize(QUERIES[0])).max() > 0


def test_okapi_variant_matches_rank_bm25_on_a_real_chapter() -> None:
    corpus = chapter_tokens()
    ours = BM25(variant="okapi").fit_tokens(corpus)
    reference = rank_bm25.BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25)
    floored = [t for t, idf in reference.idf.items() if idf == 0.25 * reference.average_idf]
    assert {"the", "a", "of"} <= set(floored)  # the epsilon floor is exercised
    for query in map(tokenize, QUERIES):
        np.testing.assert_allclose(
            ours.scores(query), reference.get_scores(query), rtol=RTOL, atol=0
        )


WORDS = st.sampled_from(["cat", "dog", "the", "a", "bm25", "rare", "x", "y"])
CORPUS = st.lists(st.lists(WORDS, max_size=12), min_size=1, max_size=10).filter(
    lambda docs: any(docs)  # rank_bm25 divides by the average length
)


@given(corpus=CORPUS, query=st.lists(WORDS, min_size=1, max_size=5))
def test_both_variants_match_the_references_on_generated_corpora(
    corpus: list[list[str]], query: list[str]
) -> None:
    # A small vocabulary makes many terms appear in over half the documents (negative Okapi
    # idf, floored) and makes repeated query terms common (each repetition counts).
    lucene = BM25(variant="lucene").fit_tokens(corpus)
    np.testing.assert_allclose(lucene.scores(query), bm25s_scores(corpus, query), rtol=RTOL)
    okapi = BM25(variant="okapi").fit_tokens(corpus)
    reference = rank_bm25.BM25Okapi(corpus)
    np.testing.assert_allclose(okapi.scores(query), reference.get_scores(query), rtol=RTOL)


@given(
    corpus=CORPUS,
    query=st.lists(WORDS, min_size=1, max_size=5),
    k1=st.floats(0.01, 3),  # rank_bm25 computes 0/0 = nan for absent terms when k1 = 0
    b=st.floats(0, 1),
)
def test_okapi_matches_rank_bm25_for_any_k1_and_b(
    corpus: list[list[str]], query: list[str], k1: float, b: float
) -> None:
    ours = BM25(k1, b, "okapi").fit_tokens(corpus)
    reference = rank_bm25.BM25Okapi(corpus, k1=k1, b=b)
    np.testing.assert_allclose(ours.scores(query), reference.get_scores(query), rtol=RTOL)


def test_scores_by_hand() -> None:
    model = BM25().fit(["a cat", "a dog"])  # N = 2, avgdl = 2, both documents have length 2
    # idf(cat) = ln(1 + (2 - 1 + 0.5) / (1 + 0.5)) = ln 2; |d| = avgdl, so the length factor
    # is 1 and tf part = 1 / (1 + 1.5 * 1) = 0.4; score = 0.4 ln 2 = 0.2773
    assert model.idf("cat") == pytest.approx(math.log(2))
    np.testing.assert_allclose(model.scores("cat"), [0.4 * math.log(2), 0.0])
    okapi = BM25(variant="okapi").fit(["a cat", "a dog"])
    # Okapi: idf(cat) = ln(1.5 / 1.5) = 0, so "cat" cannot separate the two documents at all.
    assert okapi.idf("cat") == 0.0


def test_k1_saturates_term_frequency_and_b_normalises_length() -> None:
    docs = ["cat", "cat cat", "cat cat cat cat", "dog"]
    # b = 0: no length normalisation, so the score grows with tf but saturates below idf * 1.
    flat = BM25(k1=1.5, b=0.0).fit(docs).scores("cat")
    assert flat[0] < flat[1] < flat[2] < BM25(b=0.0).fit(docs).idf("cat")
    assert flat[2] - flat[1] < flat[1] - flat[0]  # each extra occurrence adds less
    # k1 = 0: only presence counts.
    presence = BM25(k1=0.0).fit(docs).scores("cat")
    assert presence[0] == presence[1] == presence[2] > 0
    # b = 1 with one occurrence in a doubled document: "cat dog" scores below "cat".
    full = BM25(b=1.0).fit(["cat", "cat dog", "dog"]).scores("cat")
    assert full[0] > full[1] > 0


def test_search_returns_the_best_matches_and_leaves_out_non_matches() -> None:
    model = BM25().fit(["a cat", "a dog", "cat cat dog"])
    hits = model.search("cat", 3)
    assert [i for i, _ in hits] == [2, 0]  # "a dog" has no "cat": not returned
    assert hits[0][1] == pytest.approx(0.24598320782954392)
    ties = BM25().fit(["cat", "cat", "dog"]).search("cat", 5)
    assert [i for i, _ in ties] == [0, 1]  # equal scores: lower index first


def test_tokenize_lowercases_and_drops_stopwords() -> None:
    assert tokenize("BM25's k1, b=0.75") == ["bm25", "s", "k1", "b", "0", "75"]
    assert tokenize("The cat is on the mat", ENGLISH_STOPWORDS) == ["cat", "mat"]


def test_an_all_empty_corpus_scores_zero() -> None:
    model = BM25().fit(["", "..."])
    np.testing.assert_array_equal(model.scores("anything"), [0.0, 0.0])
    assert model.search("anything", 3) == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BM25(k1=-1), "k1 must be"),
        (lambda: BM25(b=1.5), "b must be in [0, 1], got 1.5"),
        (lambda: BM25(variant="bm25+"), "variant must be"),  # type: ignore[arg-type]
        (lambda: BM25().fit([]), "empty corpus"),
        (lambda: BM25().scores("cat"), "call fit()"),
        (lambda: BM25().fit(["cat"]).search("cat", 0), "k must be at least 1"),
    ],
)
def test_bad_input_raises_value_errors(make: object, message: str) -> None:
    assert callable(make)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make()
