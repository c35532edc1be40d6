"""Single sample, majority, best-of-n, beam search and revision on constructed cases."""

from __future__ import annotations

import numpy as np
import pytest

from llmprep.reasoning.revision import Reviewer, solve_with_budget
from llmprep.reasoning.sampling import Outcome, best_of_n, majority, single_sample
from llmprep.reasoning.search import beam_search
from llmprep.reasoning.solver import ErrorModel, Solver, Trace
from llmprep.reasoning.task import Op, Problem, generate_problems
from llmprep.reasoning.verifiers import OutcomeVerifier, ProcessVerifier

P = Problem(0, 2, (Op("+", 3), Op("*", 2)))  # answer 10
PERFECT = ErrorModel(base=0.0, per_step=0.0, trap_per_step=0.0)


def t(answer: int | None, tokens: int = 10) -> Trace:
    return Trace(0, (), answer, tokens)


def test_single_and_majority_by_hand() -> None:
    traces = [t(12), t(10), t(12), t(None)]
    assert single_sample(traces) == Outcome(12, 10)
    assert majority(traces) == Outcome(12, 40)
    assert majority([t(10), t(12)]).answer == 10  # a tie goes to the first answer seen
    with pytest.raises(ValueError, match="none"):
        majority([])


def test_best_of_n_picks_the_top_score_and_pays_for_reading() -> None:
    scores = {12: 0.9, 10: 0.95, 11: 0.1}
    out = best_of_n(P, [t(12), t(10), t(11)], lambda _, tr: scores[tr.answer or 0])
    assert out == Outcome(10, 30, verifier_tokens=30)
    tied = best_of_n(P, [t(12), t(10)], lambda _, tr: 0.5)
    assert tied.answer == 12  # ties go to the earliest trace


def test_a_perfect_verifier_makes_best_of_n_an_oracle() -> None:
    orm = OutcomeVerifier(false_positive=0.0, false_negative=0.0)
    traces = [t(3), t(4), t(10), t(4)]
    assert best_of_n(P, traces, orm.score).answer == 10
    assert majority(traces).answer == 4  # the vote follows the wrong majority


def test_beam_search_with_a_perfect_prm_fixes_slips() -> None:
    solver = Solver(ErrorModel(base=0.3, per_step=0.0, trap_per_step=0.0))
    prm = ProcessVerifier(miss=0.0, false_alarm=0.0)
    rng = np.random.default_rng(0)
    problems = generate_problems(30, seed=1, min_steps=6, max_steps=6)
    wins = sum(
        beam_search(solver, prm, p, rng, beam=4, expand=4).outcome.answer == p.answer
        for p in problems
    )
    single = sum(solver.solve(p, rng).answer == p.answer for p in problems)
    assert wins >= 29 > single


def test_beam_search_cost_and_bad_input() -> None:
    solver = Solver(PERFECT)
    prm = ProcessVerifier()
    result = beam_search(solver, prm, P, np.random.default_rng(0), beam=1, expand=1)
    assert result.outcome.answer == 10
    assert result.outcome.generated_tokens == 2 * solver.step_tokens + solver.answer_tokens
    assert result.outcome.verifier_tokens == 2 * solver.step_tokens
    with pytest.raises(ValueError, match="0, 2"):
        beam_search(solver, prm, P, np.random.default_rng(0), beam=0, expand=2)


def test_budget_cuts_the_first_solve() -> None:
    solver = Solver(PERFECT)
    p = Problem(0, 1, tuple(Op("+", 1) for _ in range(5)))
    cut = solve_with_budget(solver, Reviewer(), p, np.random.default_rng(0), budget=30)
    assert cut.truncated
    assert len(cut.steps) == 2
    assert cut.answer == 3
    assert cut.tokens == 30 + solver.answer_tokens
    full = solve_with_budget(
        solver, Reviewer(false_alarm=0.0), p, np.random.default_rng(0), budget=10_000
    )
    assert not full.truncated
    assert full.answer == 6
    assert full.revisions == 0
    # one clean review pass, then it stops on its own
    assert full.tokens == 5 * 15 + 5 * Reviewer().check_tokens + solver.answer_tokens


def test_forced_thinking_spends_the_budget() -> None:
    solver = Solver(PERFECT)
    p = Problem(0, 1, tuple(Op("+", 1) for _ in range(5)))
    forced = solve_with_budget(
        solver, Reviewer(false_alarm=0.0), p, np.random.default_rng(0), budget=400, forced=True
    )
    assert 400 - Reviewer().check_tokens < forced.tokens - solver.answer_tokens <= 400


def test_a_perfect_reviewer_with_budget_beats_one_pass() -> None:
    solver = Solver(ErrorModel(base=0.15, per_step=0.0, trap_per_step=0.0))
    reviewer = Reviewer(detect=1.0, false_alarm=0.0)
    problems = generate_problems(200, seed=3, min_steps=5, max_steps=5)
    rng = np.random.default_rng(1)
    revised = np.mean(
        [
            solve_with_budget(solver, reviewer, p, rng, budget=2_000).answer == p.answer
            for p in problems
        ]
    )
    once = np.mean([solver.solve(p, rng).answer == p.answer for p in problems])
    assert revised > 0.97
    assert once < 0.6


def test_bad_reviewer_and_budget() -> None:
    with pytest.raises(ValueError, match=r"1\.5"):
        Reviewer(detect=1.5)
    with pytest.raises(ValueError, match=r"-1"):
        solve_with_budget(Solver(), Reviewer(), P, np.random.default_rng(0), budget=-1)
