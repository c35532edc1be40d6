"""Pre-, post- and iterative filtering on small hand-checkable data."""

from __future__ import annotations

import numpy as np
import pytest

from llmprep.rag.ann import unit_rows
from llmprep.rag.filtering import (
    filter_sweep,
    iterative_filter,
    post_filter,
    pre_filter,
    random_mask,
)


def _line() -> tuple[np.ndarray, np.ndarray]:
    # 10 vectors at angles 0..9 degrees from the query: similarity falls with the index.
    angles = np.deg2rad(np.arange(10, dtype=np.float64))
    base = unit_rows(np.stack([np.cos(angles), np.sin(angles)], axis=1))
    query = np.array([1.0, 0.0], dtype=np.float32)
    return base, query


def test_pre_filter_returns_best_matching_rows() -> None:
    base, query = _line()
    mask = np.array([i % 2 == 1 for i in range(10)])  # odd ids pass
    assert pre_filter(base, query, mask, 3) == [1, 3, 5]


def test_post_filter_starves() -> None:
    base, query = _line()
    mask = np.zeros(10, dtype=bool)
    mask[[7, 8, 9]] = True  # only the three worst rows pass
    # top 4 candidates are 0..3; none passes
    assert post_filter(base, query, mask, 2, candidates=4) == []
    assert pre_filter(base, query, mask, 2) == [7, 8]


def test_iterative_doubles_until_k_found() -> None:
    base, query = _line()
    mask = np.zeros(10, dtype=bool)
    mask[[7, 8, 9]] = True
    ids, scanned = iterative_filter(base, query, mask, 2, candidates=2, max_scan=10)
    assert ids == [7, 8]
    assert scanned == 10  # 2 -> 4 -> 8 (only 7 passes) -> 10
    ids, scanned = iterative_filter(base, query, mask, 2, candidates=2, max_scan=4)
    assert ids == []  # hit the scan limit first
    assert scanned == 4


def test_bad_arguments() -> None:
    base, query = _line()
    mask = np.ones(10, dtype=bool)
    with pytest.raises(ValueError, match="candidates"):
        post_filter(base, query, mask, 5, candidates=3)
    with pytest.raises(ValueError, match="selectivity"):
        random_mask(10, 0.0)


def test_random_mask_never_empty() -> None:
    assert random_mask(5, 1e-9).sum() == 1


def test_sweep_post_filter_recall_falls_with_selectivity() -> None:
    rng = np.random.default_rng(0)
    base = unit_rows(rng.standard_normal((5000, 16)))
    queries = unit_rows(rng.standard_normal((20, 16)))
    rows = filter_sweep(base, queries, [1.0, 0.25, 0.05, 0.01], k=10, candidates=40)
    post = [r.recall for r in rows if r.strategy == "post"]
    pre = [r.recall for r in rows if r.strategy == "pre"]
    iterative = [r.recall for r in rows if r.strategy == "iterative"]
    assert pre == [1.0] * 4
    assert post[0] == 1.0
    assert post[-1] < 0.2  # about 40 * 0.01 = 0.4 rows of 10 survive
    assert post == sorted(post, reverse=True)
    assert iterative == [1.0] * 4  # 5000 rows fit under max_scan, so it always finds k
