"""Grader for drill cosine-top-k: exact top-k against a brute-force numpy reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from tests.drills.target import load

m = load("cosine-top-k")

type F64 = NDArray[np.float64]


def reference_scores(query: F64, matrix: F64, metric: str) -> F64:
    """The higher-is-better score of every row, computed row by row in plain Python."""
    scores = np.empty(len(matrix))
    for i, row in enumerate(matrix):
        if metric == "dot":
            scores[i] = float(np.dot(row, query))
        elif metric == "l2":
            scores[i] = -float(np.sqrt(np.sum((row - query) ** 2)))
        else:
            norms = float(np.linalg.norm(row)) * float(np.linalg.norm(query))
            scores[i] = float(np.dot(row, query)) / norms if norms > 0 else 0.0
    return scores


def brute_force(query: F64, matrix: F64, k: int, metric: str) -> list[int]:
    """Sort every row by (-score, index): the reference answer."""
    scores = reference_scores(query, matrix, metric)
    return sorted(range(len(matrix)), key=lambda i: (-scores[i], i))[:k]


def random_case(seed: int, n: int = 200, d: int = 16) -> tuple[F64, F64]:
    rng = np.random.default_rng(seed)
    # rows of very different lengths, so the three metrics disagree
    matrix = rng.normal(size=(n, d)) * rng.uniform(0.1, 10.0, size=(n, 1))
    return rng.normal(size=d), matrix


@pytest.mark.parametrize("metric", ["cosine", "dot", "l2"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force(metric: str, seed: int) -> None:
    query, matrix = random_case(seed)
    got = m.top_k(query, matrix, 10, metric)
    assert got == brute_force(query, matrix, 10, metric)
    assert all(type(i) is int for i in got), "return Python ints, not numpy integers"


def test_cosine_is_the_default_and_ignores_length() -> None:
    query = np.array([1.0, 0.0])
    matrix = np.array([[10.0, 10.0], [0.1, 0.0], [0.0, 5.0]])
    assert m.top_k(query, matrix, 3) == [1, 0, 2]  # direction, not length
    assert m.top_k(query, matrix, 3, "dot") == [0, 1, 2]  # the long row wins on dot (10 > 0.1)


def test_the_metrics_disagree_on_vectors_of_mixed_length() -> None:
    query, matrix = random_case(7)
    answers = {
        metric: tuple(m.top_k(query, matrix, 5, metric)) for metric in ("cosine", "dot", "l2")
    }
    assert len(set(answers.values())) == 3


def test_the_metrics_agree_on_unit_vectors() -> None:
    query, matrix = random_case(3)
    matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    query = query / np.linalg.norm(query)
    expected = brute_force(query, matrix, 8, "cosine")
    for metric in ("cosine", "dot", "l2"):
        assert m.top_k(query, matrix, 8, metric) == expected


def test_ties_go_to_the_lower_index() -> None:
    matrix = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    assert m.top_k(np.array([1.0, 0.0]), matrix, 4) == [1, 2, 3, 0]


def test_zero_vectors_score_zero_not_nan() -> None:
    matrix = np.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 1.0]])
    assert m.top_k(np.array([1.0, 0.0]), matrix, 3) == [2, 0, 1]  # 0.707, 0, -1
    assert m.top_k(np.zeros(2), matrix, 3) == [0, 1, 2]  # all zero: index order


def test_k_larger_than_n_returns_every_row() -> None:
    query, matrix = random_case(4, n=5)
    assert sorted(m.top_k(query, matrix, 50)) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("query", "matrix", "k", "named"),
    [
        (np.ones(3), np.ones((4, 3)), 0, r"\bk\b"),
        (np.ones(3), np.ones((4, 2)), 1, r"[23]"),
        (np.ones(3), np.ones(3), 1, r"(?i)2-?d|dim|shape|matrix"),
    ],
    ids=["k=0", "width mismatch", "1-D matrix"],
)
def test_bad_input_is_a_value_error(query: F64, matrix: F64, k: int, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        m.top_k(query, matrix, k)


@given(
    n=st.integers(1, 30),
    d=st.integers(1, 6),
    k=st.integers(1, 35),
    seed=st.integers(0, 2**32 - 1),
    metric=st.sampled_from(["cosine", "dot", "l2"]),
    rounded=st.booleans(),
)
def test_property_returns_the_k_best_scores_in_order(
    n: int, d: int, k: int, seed: int, metric: str, rounded: bool
) -> None:
    """On any input, the rows returned are distinct and carry the k best scores, best first
    (compared within float rounding, since a tie can then fall either way)."""
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(n, d))
    query = rng.normal(size=d)
    if rounded:  # small integers: many exact ties, and some zero rows
        matrix, query = np.round(matrix), np.round(query)
    got = m.top_k(query, matrix, k, metric)
    assert len(got) == min(k, n)
    assert len(set(got)) == len(got)
    scores = reference_scores(query, matrix, metric)
    best = np.sort(scores)[::-1][: len(got)]
    np.testing.assert_allclose(scores[got], best, rtol=0, atol=1e-9)
