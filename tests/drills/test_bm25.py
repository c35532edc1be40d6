"""Grader for drill bm25: scores against rank_bm25 (Okapi) and bm25s (Lucene), plus rules."""

from __future__ import annotations

import math
import re

import bm25s  # type: ignore[import-untyped]
import numpy as np
import pytest
import rank_bm25  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from tests.drills.target import load

m = load("bm25")

CORPUS = [
    ["the", "cat", "sat", "on", "the", "mat"],
    ["the", "dog", "sat", "on", "the", "log"],
    ["cats", "and", "dogs", "are", "pets"],
    ["a", "cat", "is", "a", "small", "cat", "that", "purrs"],
    ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"],
    ["retrieval", "augmented", "generation", "grounds", "the", "model", "in", "documents"],
    [
        "bm25",
        "ranks",
        "documents",
        "by",
        "term",
        "frequency",
        "and",
        "inverse",
        "document",
        "frequency",
    ],
    ["the", "the", "the", "the"],
]
QUERIES = [
    ["cat"],
    ["the", "cat"],
    ["dog", "log", "dog"],  # a repeated query term counts twice
    ["documents", "frequency"],
    ["the"],  # in more than half the documents: Okapi's idf floor
    ["unknown", "words"],
]

words = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h"])
corpora = st.lists(st.lists(words, min_size=0, max_size=12), min_size=1, max_size=12)


def lucene_reference(
    docs: list[list[str]], query: list[str], k1: float, b: float
) -> NDArray[np.float64]:
    index = bm25s.BM25(method="lucene", k1=k1, b=b, dtype="float64")
    index.index(docs, show_progress=False)
    return np.asarray(index.get_scores(query), dtype=np.float64)


@pytest.mark.parametrize(("k1", "b"), [(1.5, 0.75), (1.2, 0.5), (2.0, 1.0), (0.9, 0.0)])
def test_okapi_matches_rank_bm25(k1: float, b: float) -> None:
    reference = rank_bm25.BM25Okapi(CORPUS, k1=k1, b=b, epsilon=0.25)
    ours = m.BM25(k1=k1, b=b, variant="okapi").fit_tokens(CORPUS)
    for query in QUERIES:
        np.testing.assert_allclose(ours.scores(query), reference.get_scores(query), rtol=1e-9)


@pytest.mark.parametrize(("k1", "b"), [(1.5, 0.75), (1.2, 0.5), (2.0, 1.0)])
def test_lucene_matches_bm25s(k1: float, b: float) -> None:
    ours = m.BM25(k1=k1, b=b, variant="lucene").fit_tokens(CORPUS)
    for query in QUERIES:
        if not set(query) & {t for doc in CORPUS for t in doc}:
            continue  # bm25s does not accept a query of unknown words only
        expected = lucene_reference(CORPUS, query, k1, b)
        np.testing.assert_allclose(ours.scores(query), expected, rtol=1e-9, atol=1e-12)


def test_lucene_is_the_default_and_follows_the_formula() -> None:
    docs = [["a", "cat"], ["a", "dog"], ["cat", "cat", "dog"]]
    ours = m.BM25().fit_tokens(docs)
    n, df, avgdl, k1, b = 3, 2, 7 / 3, 1.5, 0.75
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    assert ours.idf("cat") == pytest.approx(idf, rel=1e-12)
    expected = [
        idf * tf / (tf + k1 * (1 - b + b * dl / avgdl)) for tf, dl in ((1, 2), (0, 2), (2, 3))
    ]
    np.testing.assert_allclose(ours.scores(["cat"]), expected, rtol=1e-12)
    assert ours.idf("zebra") == 0.0


def test_okapi_floors_negative_idf_with_epsilon_times_the_mean() -> None:
    docs = [["x", "y"], ["x", "z"], ["x"]]
    ours = m.BM25(variant="okapi", epsilon=0.5).fit_tokens(docs)
    raw = {"x": math.log(0.5 / 3.5), "y": math.log(2.5 / 1.5), "z": math.log(2.5 / 1.5)}
    floor = 0.5 * sum(raw.values()) / 3
    assert ours.idf("x") == pytest.approx(floor, rel=1e-12)
    assert ours.idf("y") == pytest.approx(raw["y"], rel=1e-12)


def test_search_orders_best_first_ties_by_index_and_drops_non_matches() -> None:
    docs = [["dog"], ["cat", "dog"], ["cat"], ["cat"], ["bird"]]
    ours = m.BM25().fit_tokens(docs)
    hits = ours.search(["cat"], 10)
    assert [i for i, _ in hits] == [2, 3, 1]  # the short documents tie; index breaks it
    assert hits[0][1] == hits[1][1] > hits[2][1] > 0
    assert all(type(i) is int and type(s) is float for i, s in hits)
    assert ours.search(["cat"], 1) == hits[:1]
    assert ours.search(["zebra"], 3) == []


def test_saturation_and_length_normalisation() -> None:
    docs = [["t"], ["t", "t"], ["t", "t", "t", "t"], ["t", "o", "o", "o"], ["o"] * 8]
    ours = m.BM25(k1=1.2, b=0.75).fit_tokens(docs)
    s = ours.scores(["t"])
    assert s[2] < 2 * s[1], "a second and third occurrence add less than the first"
    assert s[0] > s[3], "the same tf in a longer document scores lower when b > 0"
    flat = m.BM25(k1=1.2, b=0.0).fit_tokens(docs).scores(["t"])
    assert flat[0] == pytest.approx(flat[3]), "b = 0 ignores document length"
    presence = m.BM25(k1=0.0).fit_tokens(docs).scores(["t"])
    assert presence[0] == pytest.approx(presence[2]), "k1 = 0 ignores term counts"


def test_empty_documents_are_allowed() -> None:
    ours = m.BM25().fit_tokens([[], ["a"], []])
    assert list(ours.scores(["a"]) > 0) == [False, True, False]
    assert m.BM25().fit_tokens([[], []]).search(["a"], 2) == []


@pytest.mark.parametrize(
    "kwargs", [{"k1": -0.1}, {"b": 1.5}, {"b": -0.1}, {"variant": "bm42"}], ids=str
)
def test_bad_parameters_are_value_errors_naming_the_value(kwargs: dict[str, object]) -> None:
    (value,) = kwargs.values()
    with pytest.raises(ValueError, match=re.escape(str(value))):
        m.BM25(**kwargs)


def test_bad_use_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"(?i)empty|no doc"):
        m.BM25().fit_tokens([])
    with pytest.raises(ValueError, match=r"(?i)fit|no doc"):
        m.BM25().scores(["a"])
    with pytest.raises(ValueError, match=r"\bk\b"):
        m.BM25().fit_tokens([["a"]]).search(["a"], 0)


@given(
    docs=corpora,
    query=st.lists(words, min_size=1, max_size=5),
    variant=st.sampled_from(["okapi", "lucene"]),
)
def test_property_matches_the_reference_libraries(
    docs: list[list[str]], query: list[str], variant: str
) -> None:
    ours = m.BM25(variant=variant).fit_tokens(docs).scores(query)
    if variant == "okapi":
        if all(not doc for doc in docs):
            return  # rank_bm25 divides by a zero average length here
        expected = rank_bm25.BM25Okapi(docs, epsilon=0.25).get_scores(query)
    else:
        if not set(query) & {t for doc in docs for t in doc}:
            np.testing.assert_array_equal(ours, np.zeros(len(docs)))
            return
        expected = lucene_reference(docs, query, 1.5, 0.75)
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-12)
