"""Grader for drill rrf: reciprocal rank fusion against a direct reading of its formula."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.drills.target import load

m = load("rrf")


def reference(
    rankings: Sequence[Sequence[str]], k: float = 60, weights: Sequence[float] | None = None
) -> dict[str, float]:
    """The fused score of every id, straight from the formula."""
    weights = weights if weights is not None else [1.0] * len(rankings)
    ids = {i for ranking in rankings for i in ranking}
    return {
        i: math.fsum(
            w / (k + ranking.index(i) + 1)
            for ranking, w in zip(rankings, weights, strict=True)
            if i in ranking
        )
        for i in ids
    }


def test_the_docstring_example() -> None:
    got = m.reciprocal_rank_fusion([["a", "b"], ["b", "c"]])
    assert [i for i, _ in got] == ["b", "a", "c"]
    assert [s for _, s in got] == pytest.approx([1 / 62 + 1 / 61, 1 / 61, 1 / 62], rel=1e-15)


def test_agreement_beats_one_first_place() -> None:
    bm25 = ["d1", "d2", "d3", "d4"]
    dense = ["d9", "d3", "d2", "d8"]
    got = [i for i, _ in m.reciprocal_rank_fusion([bm25, dense])]
    assert got[:2] == ["d2", "d3"], "found by both lists, they beat each list's first"
    assert set(got) == set(bm25) | set(dense)


def test_k_controls_how_much_the_top_rank_matters() -> None:
    rankings = [["a", "b", "c"], ["c", "b", "x"], ["a", "y", "z"]]
    small = dict(m.reciprocal_rank_fusion(rankings, k=0))
    assert small["a"] == pytest.approx(2.0)  # 1/1 + 1/1
    assert max(small, key=small.__getitem__) == "a"
    for k in (0, 1, 60, 1000):
        got = dict(m.reciprocal_rank_fusion(rankings, k=k))
        assert got == pytest.approx(reference(rankings, k))


def test_weights_multiply_each_lists_terms() -> None:
    rankings = [["a", "b"], ["b", "a"]]
    even = m.reciprocal_rank_fusion(rankings)
    assert even[0][1] == even[1][1]
    assert [i for i, _ in even] == ["a", "b"]
    leaning = m.reciprocal_rank_fusion(rankings, weights=[1.0, 2.0])
    assert [i for i, _ in leaning] == ["b", "a"]
    assert dict(leaning) == pytest.approx(reference(rankings, 60, [1.0, 2.0]))


def test_ties_are_broken_by_id_whatever_the_input_order() -> None:
    forward = m.reciprocal_rank_fusion([["z", "m"], ["a", "q"]])
    backward = m.reciprocal_rank_fusion([["a", "q"], ["z", "m"]])
    assert forward == backward
    assert [i for i, _ in forward] == ["a", "z", "m", "q"]


def test_nothing_in_nothing_out() -> None:
    assert m.reciprocal_rank_fusion([]) == []
    assert m.reciprocal_rank_fusion([[], []]) == []


@pytest.mark.parametrize(
    ("rankings", "kwargs", "named"),
    [
        ([["a"]], {"k": -1.0}, "-1"),
        ([["a"]], {"k": math.inf}, "inf"),
        ([["a"]], {"k": math.nan}, "nan"),
        ([["a"], ["b"]], {"weights": [1.0]}, "weights"),
        ([["a", "b", "a"]], {}, r"\ba\b"),
    ],
    ids=["negative k", "infinite k", "nan k", "weights length", "repeated id"],
)
def test_bad_input_is_a_value_error(
    rankings: list[list[str]], kwargs: dict[str, object], named: str
) -> None:
    with pytest.raises(ValueError, match=named):
        m.reciprocal_rank_fusion(rankings, **kwargs)


ids = st.sampled_from([f"doc{i}" for i in range(12)])
rankings_strategy = st.lists(st.lists(ids, unique=True, max_size=8), max_size=5)


@given(rankings=rankings_strategy, k=st.sampled_from([0, 1, 10, 60]))
def test_property_scores_and_order(rankings: list[list[str]], k: int) -> None:
    got = m.reciprocal_rank_fusion(rankings, k=k)
    expected = reference(rankings, k)
    assert sorted(i for i, _ in got) == sorted(expected)
    for i, score in got:
        assert score == pytest.approx(expected[i], rel=1e-12)
    assert got == sorted(got, key=lambda pair: (-pair[1], pair[0]))


@given(rankings=rankings_strategy, seed=st.randoms(use_true_random=False))
def test_property_the_order_of_the_lists_does_not_matter(
    rankings: list[list[str]], seed: random.Random
) -> None:
    shuffled = list(rankings)
    seed.shuffle(shuffled)
    assert m.reciprocal_rank_fusion(shuffled) == m.reciprocal_rank_fusion(rankings)
