"""The measurements: pass@k against an independent computation, monotone where it must be,
and reproducible from the seed."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest

from llmprep.reasoning import experiments as ex
from llmprep.reasoning.revision import Reviewer
from llmprep.reasoning.solver import Solver
from llmprep.reasoning.task import check_answer, generate_problems
from llmprep.reasoning.verifiers import OutcomeVerifier, ProcessVerifier

PROBLEMS = generate_problems(24, seed=0)
SOLVER = Solver()
POOL = ex.sample_pool(SOLVER, PROBLEMS, 16, seed=1)
KS = [1, 2, 4, 8, 16]


def test_pool_is_deterministic_and_independent_per_problem() -> None:
    assert ex.sample_pool(SOLVER, PROBLEMS, 16, seed=1) == POOL
    first_two = ex.sample_pool(SOLVER, PROBLEMS[:2], 16, seed=1)
    assert first_two == POOL[:2]


def test_pass_at_k_matches_the_binomial_definition() -> None:
    for k in KS:
        direct = []
        for p, pool in zip(PROBLEMS, POOL, strict=True):
            c = sum(check_answer(p, t.answer) for t in pool)
            direct.append(1 - comb(16 - c, k) / comb(16, k))
        assert ex.pass_at(PROBLEMS, POOL, k) == pytest.approx(np.mean(direct))


def test_more_samples_never_lower_oracle_pass_at_k() -> None:
    values = [p.accuracy for p in ex.pass_curve(PROBLEMS, POOL, KS)]
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(values))


def test_pass_at_k_bounds_every_selection_rule() -> None:
    orm = OutcomeVerifier()
    passed = ex.pass_curve(PROBLEMS, POOL, KS)
    for scorer in (None, orm.score, ProcessVerifier().score):
        picked = ex.subset_curve(PROBLEMS, POOL, KS, scorer=scorer, name="x", seed=2)
        # a rule that picks one of k samples can only be right if one of them is;
        # the subsets are a sample, so allow their sampling noise
        for a, b in zip(picked, passed, strict=True):
            assert a.accuracy <= b.accuracy + 0.05


def test_k1_is_the_single_sample_rate_for_every_rule() -> None:
    single = np.mean(
        [check_answer(p, t.answer) for p, pool in zip(PROBLEMS, POOL, strict=True) for t in pool]
    )
    assert ex.pass_at(PROBLEMS, POOL, 1) == pytest.approx(single)
    maj = ex.subset_curve(PROBLEMS, POOL, [1], scorer=None, name="m", seed=2)[0]
    assert abs(maj.accuracy - single) < 0.08


def test_tokens_grow_with_k() -> None:
    maj = ex.subset_curve(PROBLEMS, POOL, KS, scorer=None, name="m", seed=2)
    tokens = [p.generated_tokens for p in maj]
    assert tokens == sorted(tokens)
    assert tokens[-1] == pytest.approx(16 * tokens[0], rel=0.2)
    assert maj[0].tokens_per_solved == pytest.approx(maj[0].tokens / maj[0].accuracy)


def test_curves_are_reproducible() -> None:
    prm = ProcessVerifier()
    a = ex.beam_curve(SOLVER, prm, PROBLEMS, [1, 2], seed=3, repeats=1)
    assert a == ex.beam_curve(SOLVER, prm, PROBLEMS, [1, 2], seed=3, repeats=1)
    b = ex.budget_curve(SOLVER, Reviewer(), PROBLEMS, [50, 400], seed=4, repeats=1)
    assert b == ex.budget_curve(SOLVER, Reviewer(), PROBLEMS, [50, 400], seed=4, repeats=1)
    assert b[0].accuracy < b[1].accuracy  # 50 tokens cannot finish most chains


def test_bad_k_is_rejected() -> None:
    with pytest.raises(ValueError, match="got 17"):
        ex.subset_curve(PROBLEMS, POOL, [17], scorer=None, name="m", seed=0)
