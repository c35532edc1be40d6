"""Reciprocal rank fusion and MMR on cases small enough to compute by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.rag.fusion import mmr, reciprocal_rank_fusion


def test_rrf_by_hand_with_the_default_k() -> None:
    bm25 = ["a", "b", "c"]
    dense = ["c", "a", "d"]
    fused = reciprocal_rank_fusion([bm25, dense])
    # a: 1/(60+1) + 1/(60+2) = 0.016393 + 0.016129 = 0.032522
    # c: 1/(60+3) + 1/(60+1) = 0.015873 + 0.016393 = 0.032266
    # b: 1/(60+2)            = 0.016129
    # d: 1/(60+3)            = 0.015873
    assert [i for i, _ in fused] == ["a", "c", "b", "d"]
    expected = [1 / 61 + 1 / 62, 1 / 63 + 1 / 61, 1 / 62, 1 / 63]
    assert [s for _, s in fused] == pytest.approx(expected, rel=1e-15)


def test_rrf_rewards_agreement_over_one_first_place() -> None:
    # x is 1st in one list only; y is 2nd in both: 2/62 = 0.03226 > 1/61 = 0.01639.
    fused = reciprocal_rank_fusion([["x", "y"], ["z", "y"]])
    assert fused[0][0] == "y"
    # With k = 0 the curve is steep: x gets 1/1 = 1.0, y gets 1/2 + 1/2 = 1.0, a tie.
    steep = dict(reciprocal_rank_fusion([["x", "y"], ["z", "y"]], k=0))
    assert steep["x"] == steep["y"] == steep["z"] == 1.0


def test_rrf_breaks_ties_by_id_whatever_the_order_of_the_lists() -> None:
    # "q" and "p" are both 1st in one list: 1/61 each, a tie, so "p" comes before "q".
    assert [i for i, _ in reciprocal_rank_fusion([["q"], ["p"]])] == ["p", "q"]
    assert [i for i, _ in reciprocal_rank_fusion([["p"], ["q"]])] == ["p", "q"]


@given(
    st.lists(st.lists(st.sampled_from("abcdefgh"), unique=True, max_size=8), min_size=1, max_size=4)
)
def test_rrf_is_independent_of_the_order_of_the_rankings(rankings: list[list[str]]) -> None:
    # math.fsum makes the same set of rank terms sum to exactly the same float.
    assert reciprocal_rank_fusion(rankings) == reciprocal_rank_fusion(rankings[::-1])
    assert {i for i, _ in reciprocal_rank_fusion(rankings)} == {i for r in rankings for i in r}


def test_rrf_weights_scale_each_list() -> None:
    fused = dict(reciprocal_rank_fusion([["a"], ["b"]], weights=[2.0, 1.0]))
    assert fused == {"a": 2 / 61, "b": 1 / 61}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: reciprocal_rank_fusion([["a", "a"]]), "'a' appears more than once"),
        (lambda: reciprocal_rank_fusion([["a"]], k=-1), "k must be"),
        (lambda: reciprocal_rank_fusion([["a"]], weights=[1, 2]), "2 weights for 1 rankings"),
    ],
)
def test_rrf_bad_input(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=message):
        call()


# q = (1, 0). Rows 0 and 1 are the same vector (0.8, 0.6): cos to q = 0.8.
# Row 2 is (0.6, -0.8): cos to q = 0.6, and cos to row 0 = 0.8*0.6 + 0.6*(-0.8) = 0.
Q = np.array([1.0, 0.0], dtype=np.float32)
ROWS = np.array([[0.8, 0.6], [0.8, 0.6], [0.6, -0.8]], dtype=np.float32)


def test_mmr_by_hand_skips_the_duplicate() -> None:
    # Pick 1: the most relevant, rows 0 and 1 tie at 0.8 -> the lower index, 0.
    # Pick 2 (lambda 0.5): row 1: 0.5*0.8 - 0.5*1.0 = -0.1; row 2: 0.5*0.6 - 0.5*0.0 = 0.3 -> 2.
    # Pick 3: row 1 is all that is left.
    assert mmr(Q, ROWS, k=3, lambda_=0.5) == [0, 2, 1]


def test_mmr_lambda_trades_relevance_against_novelty() -> None:
    # lambda 1: relevance only, 0.8, 0.8, 0.6 -> [0, 1, 2].
    assert mmr(Q, ROWS, k=3, lambda_=1.0) == [0, 1, 2]
    # lambda 0.9, pick 2: row 1: 0.9*0.8 - 0.1*1.0 = 0.62; row 2: 0.9*0.6 - 0.1*0.0 = 0.54.
    assert mmr(Q, ROWS, k=2, lambda_=0.9) == [0, 1]
    # lambda 0.8, pick 2: row 1: 0.8*0.8 - 0.2*1.0 = 0.44; row 2: 0.8*0.6 - 0 = 0.48.
    assert mmr(Q, ROWS, k=2, lambda_=0.8) == [0, 2]
    # lambda 0: novelty only after the first pick; row 2 (cos 0 to row 0) beats row 1 (cos 1).
    assert mmr(Q, ROWS, k=2, lambda_=0.0) == [0, 2]


def test_mmr_k_larger_than_n_zero_rows_and_k_zero() -> None:
    assert mmr(Q, ROWS, k=10) == [0, 2, 1]
    assert mmr(Q, ROWS, k=0) == []
    with_zero = np.vstack([ROWS, np.zeros((1, 2), dtype=np.float32)])
    assert mmr(Q, with_zero, k=4, lambda_=1.0) == [0, 1, 2, 3]  # a zero row has cos 0


@given(seed=st.integers(0, 1000), k=st.integers(0, 12), lambda_=st.floats(0, 1))
def test_mmr_returns_distinct_indices_starting_with_the_most_relevant(
    seed: int, k: int, lambda_: float
) -> None:
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((8, 5)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    query = rows[0] + 0.1 * rng.standard_normal(5).astype(np.float32)
    query /= np.linalg.norm(query)
    picked = mmr(query, rows, k, lambda_)
    assert len(picked) == min(k, 8) == len(set(picked))
    if picked:
        assert picked[0] == int(np.argmax(rows.astype(np.float64) @ query.astype(np.float64)))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mmr(Q, ROWS, 2, lambda_=1.5), r"lambda_ must be in \[0, 1\], got 1.5"),
        (lambda: mmr(Q, ROWS, 2, lambda_=-0.1), "lambda_ must be in"),
        (lambda: mmr(Q, ROWS, -1), "k must be >= 0"),
        (lambda: mmr(np.ones(3, dtype=np.float32), ROWS, 2), "query must have shape"),
        (lambda: mmr(Q, ROWS[0], 2), "query must have shape"),
    ],
)
def test_mmr_bad_input(call: object, message: str) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match=message):
        call()
