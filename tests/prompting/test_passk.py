"""pass@k: hand-computed values, its edge cases, and agreement with the binomial definition."""

from __future__ import annotations

from math import comb

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.prompting.passk import pass_at_k


def test_hand_computed_values() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    assert pass_at_k(4, 2, 2) == pytest.approx(5 / 6)


def test_no_pass_is_zero_and_too_few_failures_is_one() -> None:
    assert pass_at_k(8, 0, 3) == 0.0
    assert pass_at_k(8, 6, 3) == 1.0  # only 2 failures: every 3 samples hold a pass


@given(
    st.integers(1, 60).flatmap(
        lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))
    )
)
def test_equals_the_binomial_definition(nck: tuple[int, int, int]) -> None:
    n, c, k = nck
    assert pass_at_k(n, c, k) == pytest.approx(1 - comb(n - c, k) / comb(n, k), abs=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(0, 0, 1), (5, 6, 1), (5, 2, 0), (5, 2, 6), (5, -1, 1)])
def test_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match=f"n={n}, c={c}, k={k}"):
        pass_at_k(n, c, k)


@pytest.mark.parametrize(("n", "c", "k"), [(10.0, 3, 1), (10, 2.5, 1), (10, 3, 1.5), (10, True, 1)])
def test_non_integer_counts_are_rejected_by_name(n: object, c: object, k: object) -> None:
    with pytest.raises(TypeError, match="must be an integer"):
        pass_at_k(n, c, k)  # type: ignore[arg-type]
