"""Rubric judging, agreement with humans, and position and length bias with scripted judges."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence

import pytest

from llmprep.core.messages import (
    Message,
)
from llmprep.core.scripted import Rule, ScriptedLLM
from llmprep.production.clock import run_virtual
from llmprep.production.judging import (
    Criterion,
    Rubric,
    agreement_with_humans,
    compare_all,
    judge_pointwise,
    length_bias,
)
from llmprep.prompting.judge import Winner, position_bias
from llmprep.prompting.structured import StructuredOutputError
from tests.support.llms import InFlight

RUBRIC = Rubric(
    (
        Criterion("accuracy", "Every claim is correct."),
        Criterion("completeness", "The whole question is answered."),
    )
)


def reply(accuracy: int, completeness: int, rationale: str = "ok") -> str:
    return json.dumps(
        {"rationale": rationale, "scores": {"accuracy": accuracy, "completeness": completeness}}
    )


# -- pointwise ---------------------------------------------------------------------------


def test_rubric_prompt_and_schema() -> None:
    system, user = RUBRIC.prompt("What is 2+2?", "4")
    assert "accuracy: Every claim is correct." in system.content
    assert "from 1 to 5" in system.content
    assert user.content == "[Question]\nWhat is 2+2?\n\n[Answer]\n4"
    scores = RUBRIC.schema()["properties"]["scores"]
    assert scores["required"] == ["accuracy", "completeness"]
    assert scores["properties"]["accuracy"] == {"type": "integer", "minimum": 1, "maximum": 5}


def test_judge_pointwise_parses_a_valid_reply() -> None:
    llm = ScriptedLLM([f"Here you go:\n```json\n{reply(4, 5, 'correct, complete')}\n```"])
    score = asyncio.run(judge_pointwise(llm, "2+2?", "4", RUBRIC))
    assert score.scores == {"accuracy": 4, "completeness": 5}
    assert score.mean == 4.5
    assert score.rationale == "correct, complete"
    assert not score.repaired
    assert llm.calls[0].settings.temperature == 0.0


def test_an_out_of_range_score_is_repaired_once() -> None:
    llm = ScriptedLLM([reply(7, 5), reply(5, 5)])
    score = asyncio.run(judge_pointwise(llm, "2+2?", "4", RUBRIC))
    assert score.repaired
    assert score.scores == {"accuracy": 5, "completeness": 5}
    repair_prompt = llm.calls[1].messages[-1].content
    assert "accuracy" in repair_prompt
    assert "maximum" in repair_prompt or "greater than" in repair_prompt


def test_a_judge_that_cannot_follow_the_format_fails_loudly() -> None:
    llm = ScriptedLLM(["I'd say a 4.", json.dumps({"rationale": "x", "scores": {"accuracy": 4}})])
    with pytest.raises(StructuredOutputError, match="completeness"):
        asyncio.run(judge_pointwise(llm, "2+2?", "4", RUBRIC))
    assert len(llm.calls) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"criteria": ()}, "at least one criterion"),
        ({"criteria": (Criterion("a", "x"), Criterion("a", "y"))}, "unique"),
        ({"criteria": (Criterion("a", "x"),), "low": 5, "high": 1}, "low < high"),
    ],
)
def test_bad_rubrics_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Rubric(**kwargs)  # type: ignore[arg-type]


# -- agreement ------------------------------------------------------------------------------


def test_kappa_against_a_hand_computation() -> None:
    """10 items, labels good/ok/bad.

    judge: g g g g o o o b b b     human: g g g o o o b b b g
    agreements: items 1-3, 5-6, 8-9 -> p_o = 7/10
    judge counts g4 o3 b3, human counts g4 o3 b3 -> p_e = (16 + 9 + 9) / 100 = 0.34
    kappa = (0.70 - 0.34) / (1 - 0.34) = 0.36 / 0.66 = 0.5454...
    """
    judge = list("gggg") + list("ooo") + list("bbb")
    human = list("ggg") + list("ooo") + list("bbb") + ["g"]
    result = agreement_with_humans(judge, human)
    assert result.n == 10
    assert result.accuracy == pytest.approx(0.7)
    assert result.chance == pytest.approx(0.34)
    assert result.kappa == pytest.approx(0.36 / 0.66)


def test_a_judge_that_always_says_pass_has_high_accuracy_and_zero_kappa() -> None:
    human = ["pass"] * 90 + ["fail"] * 10
    result = agreement_with_humans(["pass"] * 100, human)
    assert result.accuracy == 0.9
    assert result.kappa == pytest.approx(0.0)


def test_perfect_and_undefined_agreement() -> None:
    assert agreement_with_humans([1, 2, 3], [1, 2, 3]).kappa == 1.0
    single = agreement_with_humans(["x", "x"], ["x", "x"])
    assert single.accuracy == 1.0
    assert single.kappa != single.kappa  # NaN: one label only, chance agreement is 1


def test_quadratic_kappa_counts_near_misses_as_partial_agreement() -> None:
    """Scores 1-3. judge 1 2 3 3, human 1 3 3 2. Weights ((i-j)/2)^2: 0, 1/4, 0, 1/4.

    observed disagreement = (0 + 0.25 + 0 + 0.25) / 4 = 0.125
    judge counts {1:1, 2:1, 3:2}, human {1:1, 2:1, 3:2}
    expected = sum_ab pj[a] ph[b] w(a, b) / 16
             = (1*1*.25 + 1*2*1 + 1*1*.25 + 1*2*.25 + 2*1*1 + 2*1*.25) / 16 = 5.5 / 16
    kappa = 1 - 0.125 / (5.5 / 16) = 1 - 2 / 5.5 = 0.6363...
    """
    result = agreement_with_humans([1, 2, 3, 3], [1, 3, 3, 2], weights="quadratic")
    assert result.kappa == pytest.approx(1 - 2 / 5.5)
    unweighted = agreement_with_humans([1, 2, 3, 3], [1, 3, 3, 2])
    assert result.kappa > unweighted.kappa


def test_agreement_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="one judge label per human label"):
        agreement_with_humans([1, 2], [1])
    with pytest.raises(ValueError, match="at least one"):
        agreement_with_humans([], [])
    with pytest.raises(TypeError, match="numeric"):
        agreement_with_humans(["a", "b"], ["a", "a"], weights="quadratic")


# -- scripted judges with known biases ----------------------------------------------------

QUESTION = "Name the largest planet in the solar system."
RIGHT_SHORT = "Jupiter."
RIGHT_LONG = "Jupiter, the fifth planet from the Sun, is the largest: over 300 Earth masses."
WRONG_SHORT = "Saturn."
WRONG_LONG = "Saturn is the largest planet, famous for its rings and its dozens of moons."
# Length and quality are unrelated here: the right answer is longer in half the pairs.
PAIRS = [
    (RIGHT_SHORT, WRONG_LONG),
    (WRONG_LONG, RIGHT_SHORT),
    (RIGHT_LONG, WRONG_SHORT),
    (WRONG_SHORT, RIGHT_LONG),
]
HUMANS: list[Winner] = ["a" if "Jupiter" in a else "b" for a, _ in PAIRS]


def answers(messages: Sequence[Message]) -> tuple[str, str]:
    match = re.search(r"\[Answer A\]\n(.*)\n\n\[Answer B\]\n(.*)", messages[-1].content, re.S)
    assert match is not None
    return match.group(1), match.group(2)


def always_a(messages: Sequence[Message]) -> str:
    return "Both are plausible; the first is better.\nVerdict: A"


def prefers_longer(messages: Sequence[Message]) -> str:
    first, second = answers(messages)
    return "More detail is better.\nVerdict: " + ("A" if len(first) > len(second) else "B")


def fair(messages: Sequence[Message]) -> str:
    first, _ = answers(messages)
    return "Verdict: " + ("A" if "Jupiter" in first else "B")


def run_pairs(rule: Rule) -> list[Winner]:
    llm = ScriptedLLM(rule)
    judgements = asyncio.run(compare_all(llm, [(QUESTION, a, b) for a, b in PAIRS]))
    assert len(llm.calls) == 2 * len(PAIRS)  # every pair asked in both orders
    return [j.winner for j in judgements]


def test_compare_all_keeps_to_its_concurrency_limit() -> None:
    llm = InFlight(ScriptedLLM(fair, latency=1.0))
    items = [(QUESTION, a, b) for a, b in PAIRS] * 4
    run_virtual(compare_all(llm, items, concurrency=2))
    assert llm.peak == 2 * 2  # two pairs at a time, each asked in both orders at once


def test_the_swap_turns_a_position_biased_judge_into_ties() -> None:
    llm = ScriptedLLM(always_a)
    judgements = asyncio.run(compare_all(llm, [(QUESTION, a, b) for a, b in PAIRS]))
    bias = position_bias(judgements)
    assert bias.first_position_wins == 1.0
    assert bias.consistent_share == 0.0
    assert {j.winner for j in judgements} == {"tie"}  # the defence: no fake winner


def test_a_fair_judge_survives_the_swap() -> None:
    llm = ScriptedLLM(fair)
    judgements = asyncio.run(compare_all(llm, [(QUESTION, a, b) for a, b in PAIRS]))
    assert position_bias(judgements).consistent_share == 1.0
    assert position_bias(judgements).first_position_wins == 0.5
    assert [j.winner for j in judgements] == HUMANS


def test_the_swap_does_not_catch_length_bias_but_the_measurement_does() -> None:
    verbose = run_pairs(prefers_longer)
    assert "tie" not in verbose  # consistent in both orders: the swap sees nothing wrong
    bias = length_bias(PAIRS, verbose, HUMANS)
    assert bias.decisive == 4
    assert bias.judge_longer_wins == 1.0
    assert bias.human_longer_wins == 0.5
    assert bias.excess == 0.5
    assert agreement_with_humans(verbose, HUMANS).kappa == pytest.approx(0.0)


def test_a_fair_judge_has_no_excess_length_preference() -> None:
    winners = run_pairs(fair)
    bias = length_bias(PAIRS, winners, HUMANS)
    assert bias.excess == 0.0
    assert agreement_with_humans(winners, HUMANS).kappa == 1.0


def test_length_bias_ignores_ties_and_equal_lengths() -> None:
    pairs = [("aa", "b"), ("x", "y"), ("long one", "s")]
    bias = length_bias(pairs, ["a", "a", "tie"])
    assert bias.decisive == 1
    assert bias.judge_longer_wins == 1.0
    assert bias.human_longer_wins is None


def test_pairwise_helpers_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="one verdict per pair"):
        length_bias([("a", "b")], [])
    with pytest.raises(ValueError, match="one human verdict"):
        length_bias([("a", "bb")], ["a"], [])
    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(compare_all(ScriptedLLM(fair), [], concurrency=0))
