"""Retrieval metrics on hand-computed cases (the arithmetic is in the comments) and their edge
cases: no relevant ids, k beyond the list, repeated ids, graded gains."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.rag.metrics import (
    hit_rate,
    mrr,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
)

RETRIEVED = ["d3", "d7", "d1", "d9", "d2"]
RELEVANT = {"d1", "d2", "d4"}  # d1 at rank 3, d2 at rank 5, d4 never retrieved


def test_recall_and_precision_by_hand() -> None:
    # top 3 = d3 d7 d1: one hit (d1) of 3 relevant -> recall 1/3; precision 1/3 (1 of 3 slots)
    assert recall_at_k(RETRIEVED, RELEVANT, 3) == 1 / 3
    assert precision_at_k(RETRIEVED, RELEVANT, 3) == 1 / 3
    # top 5: hits d1, d2 -> recall 2/3, precision 2/5
    assert recall_at_k(RETRIEVED, RELEVANT, 5) == 2 / 3
    assert precision_at_k(RETRIEVED, RELEVANT, 5) == 2 / 5
    # top 1 = d3: no hit
    assert recall_at_k(RETRIEVED, RELEVANT, 1) == precision_at_k(RETRIEVED, RELEVANT, 1) == 0


def test_k_larger_than_the_list() -> None:
    # k = 10 > 5 retrieved: recall counts what is there (2/3); precision divides by k: 2/10.
    assert recall_at_k(RETRIEVED, RELEVANT, 10) == 2 / 3
    assert precision_at_k(RETRIEVED, RELEVANT, 10) == 2 / 10
    # An empty list finds nothing.
    assert recall_at_k([], RELEVANT, 3) == precision_at_k([], RELEVANT, 3) == 0.0
    assert reciprocal_rank([], RELEVANT) == 0.0


def test_reciprocal_rank_and_mrr_by_hand() -> None:
    assert reciprocal_rank(RETRIEVED, RELEVANT) == 1 / 3  # first hit d1 at rank 3
    assert reciprocal_rank(RETRIEVED, RELEVANT, k=2) == 0.0  # not in the top 2
    # Three queries: first hits at ranks 1, 3 and none -> (1 + 1/3 + 0) / 3 = 4/9
    runs = [["a", "b"], RETRIEVED, ["x", "y"]]
    gold = [{"a"}, RELEVANT, {"z"}]
    assert mrr(runs, gold) == pytest.approx(4 / 9, rel=1e-15)
    # MRR@2: the second query's hit is at rank 3, beyond k -> (1 + 0 + 0) / 3
    assert mrr(runs, gold, k=2) == pytest.approx(1 / 3, rel=1e-15)


def test_hit_rate_by_hand() -> None:
    runs = [["a", "b"], RETRIEVED, ["x", "y"]]
    gold = [{"a"}, RELEVANT, {"z"}]
    assert hit_rate(runs, gold, 1) == 1 / 3  # only the first query hits at rank 1
    assert hit_rate(runs, gold, 3) == 2 / 3  # the second hits at rank 3
    assert hit_rate(runs, gold, 100) == 2 / 3  # the third never hits


def test_ndcg_binary_by_hand() -> None:
    # DCG@5 = 1/log2(3+1) + 1/log2(5+1) = 0.5 + 0.386853 = 0.886853   (hits at ranks 3, 5)
    # IDCG@5: 3 relevant ids at ranks 1..3 = 1/log2(2) + 1/log2(3) + 1/log2(4)
    #       = 1 + 0.630930 + 0.5 = 2.130930
    # nDCG@5 = 0.886853 / 2.130930 = 0.416181
    dcg = 1 / math.log2(4) + 1 / math.log2(6)
    idcg = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(RETRIEVED, RELEVANT, 5) == pytest.approx(dcg / idcg, rel=1e-12)
    assert ndcg_at_k(RETRIEVED, RELEVANT, 5) == pytest.approx(0.416181, abs=1e-6)
    # nDCG@2: no hit in the top 2 -> 0. nDCG@1 of a perfect list -> 1.
    assert ndcg_at_k(RETRIEVED, RELEVANT, 2) == 0.0
    assert ndcg_at_k(["d1", "d2", "d4"], RELEVANT, 3) == pytest.approx(1.0)
    # The ideal DCG@k uses only the best k relevant ids: with k = 1 and d1 at rank 1,
    # DCG = 1, IDCG = 1 (one slot), so nDCG@1 = 1 even though d2 and d4 are missing.
    assert ndcg_at_k(["d1", "x"], RELEVANT, 1) == 1.0


def test_ndcg_graded_by_hand() -> None:
    gains = {"a": 3.0, "b": 2.0, "c": 1.0, "z": 0.0}  # z is judged, not relevant
    retrieved = ["c", "a", "x", "b"]
    # DCG@4 = 1/log2(2) + 3/log2(3) + 0/log2(4) + 2/log2(5)
    #       = 1 + 1.892789 + 0 + 0.861353 = 3.754142
    # IDCG@4 = 3/log2(2) + 2/log2(3) + 1/log2(4) = 3 + 1.261860 + 0.5 = 4.761860
    # nDCG@4 = 3.754142 / 4.761860 = 0.788377
    dcg = 1 + 3 / math.log2(3) + 2 / math.log2(5)
    idcg = 3 + 2 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(retrieved, gains, 4) == pytest.approx(dcg / idcg, rel=1e-12)
    assert ndcg_at_k(retrieved, gains, 4) == pytest.approx(0.788377, abs=1e-6)
    # Binary metrics read a gain dict as "gain > 0 is relevant": a, b, c (not z).
    assert recall_at_k(retrieved, gains, 2) == 2 / 3
    assert recall_at_k(["z"], gains, 1) == 0.0


@given(
    st.lists(st.sampled_from("abcdefg"), unique=True, max_size=7),
    st.dictionaries(st.sampled_from("abcdefg"), st.integers(1, 3), min_size=1),
    st.integers(1, 8),
)
def test_metrics_stay_in_range_and_the_ideal_order_scores_one(
    retrieved: list[str], gains: dict[str, int], k: int
) -> None:
    graded = {i: float(g) for i, g in gains.items()}
    for value in (
        recall_at_k(retrieved, graded, k),
        precision_at_k(retrieved, graded, k),
        reciprocal_rank(retrieved, graded, k),
        ndcg_at_k(retrieved, graded, k),
    ):
        assert 0.0 <= value <= 1.0 + 1e-12
    ideal = sorted(graded, key=lambda i: -graded[i])
    assert ndcg_at_k(ideal, graded, k) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "metric",
    [
        lambda rel: recall_at_k(["a"], rel, 1),
        lambda rel: precision_at_k(["a"], rel, 1),
        lambda rel: reciprocal_rank(["a"], rel),
        lambda rel: ndcg_at_k(["a"], rel, 1),
        lambda rel: mrr([["a"]], [rel]),
        lambda rel: hit_rate([["a"]], [rel], 1),
    ],
)
@pytest.mark.parametrize("relevant", [set(), {"z": 0.0}])
def test_no_relevant_ids_is_an_error_not_a_zero(metric: object, relevant: object) -> None:
    assert callable(metric)
    with pytest.raises(ValueError, match="no relevant ids"):
        metric(relevant)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: recall_at_k(["a"], {"a"}, 0), "k must be at least 1, got 0"),
        (lambda: precision_at_k(["a", "b", "a"], {"a"}, 2), "'a' appears more than once"),
        (lambda: ndcg_at_k(["a"], {"a": -1.0}, 1), "gain of 'a' must be"),
        (lambda: ndcg_at_k(["a"], {"a": math.nan}, 1), "gain of 'a' must be"),
        (lambda: recall_at_k(["a"], "a", 1), "not the string 'a'"),
        (lambda: recall_at_k("ab", {"a"}, 1), "not the string 'ab'"),
        (lambda: mrr([["a"]], [{"a"}, {"b"}]), "1 retrieved lists for 2 queries"),
        (lambda: hit_rate([], [], 1), "no queries"),
    ],
)
def test_bad_input_raises_value_errors(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=message):
        call()
