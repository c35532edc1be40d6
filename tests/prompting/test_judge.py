"""The pairwise judge: position swap turns a position-biased verdict into a tie."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from llmprep.core.llm import StreamEvent
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    Message,
    ToolSpec,
    Usage,
)
from llmprep.core.scripted import ScriptedLLM
from llmprep.prompting.judge import PairJudgement, judge_pair, parse_verdict, position_bias

from .conftest import run

QUESTION = "What is the boiling point of water at sea level?"
GOOD = "100 degrees Celsius (212 degrees Fahrenheit) at standard pressure."
BAD = "About 90 degrees Celsius."


def always_first(messages: Sequence[Message]) -> str:
    """A judge with pure position bias: whatever it is shown first wins."""
    return "Both are fine, but the first is better.\nVerdict: A"


def fair(messages: Sequence[Message]) -> str:
    """A judge that recognises the right answer wherever it appears."""
    prompt = messages[-1].content
    return "Verdict: A" if prompt.index(GOOD) < prompt.index(BAD) else "Verdict: B"


@pytest.mark.parametrize(
    ("text", "verdict"),
    [("Verdict: A", "A"), ("verdict: b", "B"), ("**Verdict:** tie", "tie"), ("A wins", None)],
)
def test_parse_verdict(text: str, verdict: str | None) -> None:
    assert parse_verdict(text) == verdict


def test_a_fair_judge_agrees_with_itself_across_the_swap() -> None:
    llm = ScriptedLLM(fair)
    judgement = run(judge_pair(llm, QUESTION, GOOD, BAD))
    assert (judgement.original, judgement.swapped, judgement.winner) == ("a", "a", "a")
    assert judgement.consistent
    assert run(judge_pair(llm, QUESTION, BAD, GOOD)).winner == "b"
    # the two calls showed the answers in both orders
    first, second = (c.messages[-1].content for c in llm.calls[:2])
    assert first.index(GOOD) < first.index(BAD)
    assert second.index(BAD) < second.index(GOOD)


def test_the_swap_exposes_a_position_biased_judge() -> None:
    llm = ScriptedLLM(always_first)
    judgement = run(judge_pair(llm, QUESTION, GOOD, BAD))
    assert (judgement.original, judgement.swapped) == ("a", "b")  # it flipped with the order
    assert not judgement.consistent
    assert judgement.winner == "tie"
    bias = position_bias([judgement, run(judge_pair(llm, QUESTION, BAD, GOOD))])
    assert (bias.consistent_share, bias.first_position_wins) == (0.0, 1.0)


def test_position_bias_of_a_fair_judge_is_one_half() -> None:
    llm = ScriptedLLM(fair)
    pairs = [(GOOD, BAD), (BAD, GOOD)] * 3
    bias = position_bias([run(judge_pair(llm, QUESTION, a, b)) for a, b in pairs])
    assert (bias.judgements, bias.consistent_share, bias.first_position_wins) == (6, 1.0, 0.5)


def test_a_missing_verdict_is_not_consistent() -> None:
    judgement = run(judge_pair(ScriptedLLM(["I cannot decide.", "Verdict: A"]), "q", "x", "y"))
    assert judgement.original is None
    assert judgement.swapped == "b"
    assert judgement.winner == "tie"


class Rendezvous:
    """An LLM whose calls each wait until both have started: sequential calls never finish.

    This checks concurrency by behaviour, not by timing (no test here measures time).
    """

    def __init__(self, inner: ScriptedLLM) -> None:
        self.inner = inner
        self.in_flight = 0
        self.most = 0
        self.both_started = asyncio.Event()

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        if self.in_flight == 2:
            self.both_started.set()
        # A deadlock guard, not a timing assertion: a sequential judge never sets the event.
        await asyncio.wait_for(self.both_started.wait(), timeout=10)
        self.in_flight -= 1
        return await self.inner.complete(messages, settings=settings, tools=tools)

    def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        return self.inner.stream(messages, settings=settings, tools=tools)


def test_both_orders_are_judged_concurrently() -> None:
    llm = Rendezvous(ScriptedLLM(fair))
    judgement = run(judge_pair(llm, QUESTION, GOOD, BAD))
    assert llm.most == 2  # both orders were in flight at once
    assert len(llm.inner.calls) == 2
    assert judgement.winner == "a"


def test_position_bias_is_one_half_when_no_verdict_is_decisive() -> None:
    undecided = [
        PairJudgement("tie", "tie", Usage()),
        PairJudgement(None, "tie", Usage()),
        PairJudgement(None, None, Usage()),
    ]
    bias = position_bias(undecided)
    assert (bias.judgements, bias.first_position_wins) == (3, 0.5)
    assert bias.consistent_share == 1 / 3  # tie == tie survives the swap; no verdict does not
    with pytest.raises(ValueError, match="at least one"):
        position_bias([])
