"""Techniques compared on one question: the prompts they send and the tokens they cost."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from llmprep.core.messages import Message
from llmprep.core.pricing import estimate_cost
from llmprep.core.scripted import ScriptedLLM
from llmprep.prompting.fewshot import Example
from llmprep.prompting.techniques import (
    STEP_BY_STEP,
    TECHNIQUES,
    compare_techniques,
    technique_messages,
)

from .conftest import run

QUESTION = "A shop sells pens at 3 for $2. How much do 12 pens cost?"
EXAMPLES = [Example("Apples are 2 for $1. How much are 6?", "The answer is $3.")]
REASONING = (
    "12 pens is 12 / 3 = 4 groups of three. Each group costs $2, so 4 x $2 = $8. The answer is $8."
)


def scripted_solver(messages: Sequence[Message]) -> str:
    """Reasons at length when asked to think step by step, else answers directly."""
    return REASONING if messages[0].content == STEP_BY_STEP else "The answer is $8."


def test_each_technique_sends_its_own_prompt() -> None:
    zero = technique_messages("zero-shot", QUESTION)
    few = technique_messages("few-shot", QUESTION, EXAMPLES)
    cot = technique_messages("chain-of-thought", QUESTION)
    assert zero[-1] == few[-1] == cot[-1] == Message.user(QUESTION)
    assert few[1:3] == [Message.user(EXAMPLES[0].input), Message.assistant(EXAMPLES[0].output)]
    assert "step by step" in cot[0].content
    assert "step by step" not in zero[0].content
    assert technique_messages("self-consistency", QUESTION) == cot
    with pytest.raises(ValueError, match="few-shot needs examples"):
        technique_messages("few-shot", QUESTION)


def test_costs_grow_from_zero_shot_to_self_consistency() -> None:
    runs = run(compare_techniques(ScriptedLLM(scripted_solver), QUESTION, examples=EXAMPLES))
    assert [r.technique for r in runs] == list(TECHNIQUES)
    assert all(r.answer == "$8" for r in runs)
    zero, few, cot, sc = runs
    assert few.usage.input_tokens > zero.usage.input_tokens  # examples lengthen the prompt
    assert cot.usage.output_tokens > 5 * zero.usage.output_tokens  # reasoning lengthens the reply
    assert (sc.calls, sc.usage.input_tokens) == (5, 5 * cot.usage.input_tokens)
    assert sc.usage.output_tokens == 5 * cot.usage.output_tokens
    model = "gpt-5-mini"
    costs = [r.cost(model) for r in runs]
    assert costs == sorted(costs)
    assert costs[-1] == 5 * costs[2]
    expected = estimate_cost(model, cot.usage.input_tokens, cot.usage.output_tokens)
    assert costs[2] == expected
    assert isinstance(expected, Decimal)
