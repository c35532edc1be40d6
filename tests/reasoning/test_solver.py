"""The solver's error model does what its docstring says, and is reproducible from a seed."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from llmprep.reasoning.solver import ErrorModel, Solver, Step, misconception, trap_index
from llmprep.reasoning.task import Op, Problem, generate_problems

PERFECT = ErrorModel(base=0.0, per_step=0.0, trap_per_step=0.0)


def test_slip_and_trap_rates_by_hand() -> None:
    errors = ErrorModel()
    five = Problem(0, 1, tuple(Op("+", 2) for _ in range(5)))
    three = Problem(1, 1, tuple(Op("+", 2) for _ in range(3)))
    assert errors.slip(five) == pytest.approx(0.06)
    assert errors.trap(five) == pytest.approx(0.30)
    assert errors.trap(three) == 0.0  # below trap_min_steps
    long = Problem(2, 1, tuple(Op("+", 2) for _ in range(20)))
    assert errors.trap(long) == errors.trap_cap


def test_rates_out_of_range_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"1\.5"):
        ErrorModel(base=1.5)


def test_misconception_by_hand() -> None:
    assert misconception(Op("*", 3), 5) == 8  # adds instead of multiplying
    assert misconception(Op("+", 3), 5) == 9  # operand off by one
    assert misconception(Op("-", 3), 5) == 1


def test_a_perfect_solver_is_always_right() -> None:
    solver = Solver(PERFECT)
    rng = np.random.default_rng(0)
    for p in generate_problems(20, seed=1):
        trace = solver.solve(p, rng)
        assert trace.answer == p.answer
        assert trace.all_steps_correct
        assert trace.tokens == p.steps * solver.step_tokens + solver.answer_tokens


def test_steps_chain_and_errors_propagate() -> None:
    rng = np.random.default_rng(3)
    solver = Solver(ErrorModel(base=0.5))
    p = generate_problems(1, seed=2, min_steps=6, max_steps=6)[0]
    trace = solver.solve(p, rng)
    for prev, nxt in zip(trace.steps, trace.steps[1:], strict=False):
        assert nxt.before == prev.after
    assert trace.steps[0].before == p.start
    assert trace.answer == trace.steps[-1].after


def test_a_slipped_value_never_comes_back() -> None:
    # +, - and * by 2 or more keep a nonzero difference nonzero
    step = Step(0, Op("+", 2), 5, 8)
    assert not step.correct
    p = Problem(0, 5, (Op("+", 2), Op("*", 3), Op("-", 4)))
    solver = Solver(PERFECT)
    rest = solver.continue_steps(p, [step], np.random.default_rng(0))
    assert rest[-1].after != p.answer


def test_trace_accuracy_matches_the_exact_formula() -> None:
    solver = Solver()
    rng = np.random.default_rng(11)
    p = Problem(5, 4, (Op("+", 3), Op("-", 2), Op("+", 7), Op("-", 5), Op("+", 4), Op("+", 6)))
    assert trap_index(p) == (5 * 7 + 3) % 6
    n = 4000
    hits = sum(solver.solve(p, rng).answer == p.answer for _ in range(n))
    expected = solver.p_trace_correct(p)
    assert abs(hits / n - expected) < 4 * np.sqrt(expected * (1 - expected) / n)


def test_trap_errors_agree_and_slips_scatter() -> None:
    p = Problem(1, 4, tuple(Op("+", 3) for _ in range(10)))
    solver = Solver()
    traces = solver.sample(p, 400, np.random.default_rng(0))
    wrong = [t.answer for t in traces if t.answer != p.answer]
    trap_answer = p.answer + 1  # the trap adds operand + 1 once
    (top, top_count), (_, second_count) = Counter(wrong).most_common(2)
    assert top == trap_answer
    assert top_count > 2 * second_count


def test_same_seed_same_traces() -> None:
    p = generate_problems(1, seed=0, min_steps=8, max_steps=8)[0]
    a = Solver().sample(p, 10, np.random.default_rng(42))
    b = Solver().sample(p, 10, np.random.default_rng(42))
    assert a == b
    with pytest.raises(ValueError, match="got 0"):
        Solver().sample(p, 0, np.random.default_rng(0))
