"""The verifiers' error rates are the stated ones, and their judgments are deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from llmprep.reasoning.solver import Step, Trace
from llmprep.reasoning.task import Op, Problem
from llmprep.reasoning.verifiers import OutcomeVerifier, ProcessVerifier, unit_hash

P = Problem(0, 2, (Op("+", 3), Op("*", 2)))  # 2 + 3 = 5, 5 * 2 = 10


def trace(answer: int | None, problem_id: int = 0) -> Trace:
    return Trace(problem_id, (), answer, 10)


def test_unit_hash_is_deterministic_and_uniform() -> None:
    assert unit_hash(1, "a", -3) == unit_hash(1, "a", -3)
    values = np.array([unit_hash(i) for i in range(5000)])
    assert values.min() >= 0.0
    assert values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.02


def test_a_perfect_outcome_verifier() -> None:
    orm = OutcomeVerifier(false_positive=0.0, false_negative=0.0)
    assert orm.accepts(P, trace(10))
    assert not orm.accepts(P, trace(11))
    assert not orm.accepts(P, trace(None))
    assert orm.score(P, trace(10)) >= 0.5 > orm.score(P, trace(11))


def test_outcome_false_positive_rate_is_as_stated() -> None:
    orm = OutcomeVerifier(false_positive=0.2, false_negative=0.1)
    wrong = [orm.accepts(P, trace(a)) for a in range(11, 5011)]
    assert abs(np.mean(wrong) - 0.2) < 0.02
    right = [orm.accepts(Problem(i, 2, P.ops), trace(10, i)) for i in range(5000)]
    assert abs(1 - np.mean(right) - 0.1) < 0.015


def test_judgment_depends_on_the_answer_not_the_sample() -> None:
    orm = OutcomeVerifier(false_positive=0.5)
    a = Trace(0, (), 11, 10)
    b = Trace(0, (Step(0, Op("+", 3), 2, 6),), 11, 99)
    assert orm.accepts(P, a) == orm.accepts(P, b)
    assert orm.score(P, a) == orm.score(P, b)


def test_process_verifier_rates_and_product() -> None:
    prm = ProcessVerifier(miss=0.0, false_alarm=0.0)
    good = Step(0, Op("+", 3), 2, 5)
    bad = Step(1, Op("*", 2), 5, 11)
    assert not prm.flags(P, good)
    assert prm.flags(P, bad)
    both = prm.prefix_score(P, (good, bad))
    assert both == min(prm.step_score(P, good), prm.step_score(P, bad))
    assert both < 0.5
    assert prm.score(P, Trace(0, (), None, 0)) == 1.0
    noisy = ProcessVerifier(miss=0.3, false_alarm=0.1)
    missed = [not noisy.flags(P, Step(1, Op("*", 2), 5, 10 + d)) for d in range(1, 4001)]
    assert abs(np.mean(missed) - 0.3) < 0.025


def test_sharpness_puts_right_items_higher_on_average() -> None:
    orm = OutcomeVerifier(false_positive=1.0, false_negative=0.0, sharpness=3.0)
    right = [orm.score(Problem(i, 2, P.ops), trace(10, i)) for i in range(2000)]
    wrong = [orm.score(Problem(i, 2, P.ops), trace(11, i)) for i in range(2000)]
    assert np.mean(right) > np.mean(wrong) + 0.1


def test_bad_rates_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"1\.2"):
        OutcomeVerifier(false_positive=1.2)
    with pytest.raises(ValueError, match=r"-0\.1"):
        ProcessVerifier(miss=-0.1)
    with pytest.raises(ValueError, match=r"0\.5"):
        ProcessVerifier(sharpness=0.5)
