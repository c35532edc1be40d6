"""Task generation and answer checking, against hand-computed chains."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.reasoning.task import Op, Problem, by_steps, check_answer, generate_problems


def test_a_hand_computed_chain() -> None:
    # 7 + 5 = 12, 12 * 3 = 36, 36 - 4 = 32
    p = Problem(0, 7, (Op("+", 5), Op("*", 3), Op("-", 4)))
    assert p.answer == 32
    assert p.steps == 3
    assert p.text() == "Start with 7, + 5, * 3, - 4."


def test_check_answer_is_exact() -> None:
    p = Problem(0, 2, (Op("*", 3),))
    assert check_answer(p, 6)
    assert not check_answer(p, 7)
    assert not check_answer(p, None)


def test_bad_input_names_the_value() -> None:
    with pytest.raises(ValueError, match="'/'"):
        Op("/", 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one operation"):
        Problem(3, 1, ())
    with pytest.raises(ValueError, match="got 0"):
        generate_problems(0, seed=0)
    with pytest.raises(ValueError, match="5, 2"):
        generate_problems(3, seed=0, min_steps=5, max_steps=2)


def test_generation_is_deterministic_and_spreads_difficulty() -> None:
    a = generate_problems(30, seed=4, min_steps=2, max_steps=6)
    assert a == generate_problems(30, seed=4, min_steps=2, max_steps=6)
    assert a != generate_problems(30, seed=5, min_steps=2, max_steps=6)
    assert [p.steps for p in a[:5]] == [2, 3, 4, 5, 6]
    assert len(by_steps(a, 4)) == 6
    assert [p.id for p in a] == list(range(30))


@given(st.integers(0, 10_000), st.integers(1, 8))
def test_answer_is_the_left_to_right_fold(seed: int, steps: int) -> None:
    (p,) = generate_problems(1, seed=seed, min_steps=steps, max_steps=steps)
    value = p.start
    for op in p.ops:
        value = {"+": value + op.operand, "-": value - op.operand, "*": value * op.operand}[op.kind]
    assert p.answer == value
