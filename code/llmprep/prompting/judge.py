"""LLM-as-a-judge for pairwise comparison, with the position swap that exposes its bias.

Asking a model "which answer is better, A or B?" is a cheap evaluator, and a biased one: LLM
judges favour the answer in one position, the longer answer and their own style (Zheng et al.,
2023, "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", arXiv:2306.05685). The
standard defence against position bias is to ask twice with the order swapped:

    ask(question, a, b) -> "A"  means a wins          both say a wins  -> a
    ask(question, b, a) -> "B"  means a wins too      they disagree    -> tie (inconsistent)

A verdict that flips when only the order changed was about the order, not the answers, so it
counts as a tie. `position_bias` summarises many judgements: the share that were consistent,
and how often the answer shown first won (0.5 for an unbiased judge).

Leaves out: length and self-preference bias (control them in the data: compare answers of
similar length, use a judge from another model family), reference-guided and single-answer
grading, and the statistics of a win rate (confidence intervals, in the evaluation chapter).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from llmprep.core.llm import LLM
from llmprep.core.messages import DEFAULT_SETTINGS, GenerationSettings, Usage
from llmprep.prompting.templates import ChatTemplate

type Slot = Literal["A", "B", "tie"]  # what the judge says, by position
type Winner = Literal["a", "b", "tie"]  # what it means, by answer

JUDGE_PROMPT = ChatTemplate(
    "You are an impartial judge. Compare two answers to the user's question for accuracy, "
    "helpfulness and clarity. Do not let the order of the answers or their length "
    "influence you. End with one line: 'Verdict: A', 'Verdict: B' or 'Verdict: tie'.",
    "[Question]\n{question}\n\n[Answer A]\n{first}\n\n[Answer B]\n{second}",
)

_VERDICT = re.compile(r"verdict\s*:\s*\**\s*(A|B|tie)\b", re.I)


def parse_verdict(text: str) -> Slot | None:
    """The last "Verdict: A|B|tie" in the judge's reply, or None if there is none.

    Example: parse_verdict("A is clearer.\\nVerdict: A") == "A"
    """
    found = _VERDICT.findall(text)
    if not found:
        return None
    last = found[-1].upper()
    return "tie" if last == "TIE" else "A" if last == "A" else "B"


@dataclass(frozen=True, slots=True)
class PairJudgement:
    """Both verdicts, translated from positions to answers, and the combined winner."""

    original: Winner | None  # a shown first (None: the judge gave no verdict)
    swapped: Winner | None  # b shown first
    usage: Usage

    @property
    def consistent(self) -> bool:
        return self.original is not None and self.original == self.swapped

    @property
    def winner(self) -> Winner:
        """The agreed winner, or "tie" when the two orders disagree."""
        return self.original if self.consistent and self.original else "tie"


async def judge_pair(
    llm: LLM,
    question: str,
    a: str,
    b: str,
    *,
    template: ChatTemplate = JUDGE_PROMPT,
    settings: GenerationSettings = DEFAULT_SETTINGS,
) -> PairJudgement:
    """Judge a against b in both orders (concurrently) and combine the verdicts.

    Example: (await judge_pair(llm, "2+2?", "4", "5")).winner == "a"
    """
    ab = template.render(question=question, first=a, second=b)
    ba = template.render(question=question, first=b, second=a)
    first, second = await asyncio.gather(
        llm.complete(ab, settings=settings), llm.complete(ba, settings=settings)
    )
    as_is: dict[Slot, Winner] = {"A": "a", "B": "b", "tie": "tie"}
    flipped: dict[Slot, Winner] = {"A": "b", "B": "a", "tie": "tie"}
    v1, v2 = parse_verdict(first.text), parse_verdict(second.text)
    original = as_is[v1] if v1 else None
    swapped = flipped[v2] if v2 else None
    return PairJudgement(original, swapped, first.usage + second.usage)


@dataclass(frozen=True, slots=True)
class PositionBias:
    """How much the order of the answers swayed a judge over many comparisons."""

    judgements: int
    consistent_share: float  # verdicts that survived the swap
    first_position_wins: float  # of decisive verdicts, the share won by the answer shown first


def position_bias(judgements: Sequence[PairJudgement]) -> PositionBias:
    """Summarise position bias: an unbiased judge has first_position_wins near 0.5.

    Example: a judge that always says "A" has consistent_share 0.0, first_position_wins 1.0
    """
    if not judgements:
        raise ValueError("need at least one judgement")
    # the answer shown first is a in the original order and b in the swapped one
    verdicts = [(j.original, "a") for j in judgements]
    verdicts += [(j.swapped, "b") for j in judgements]
    decisive = [(w, first) for w, first in verdicts if w in ("a", "b")]
    wins = sum(w == first for w, first in decisive)
    return PositionBias(
        judgements=len(judgements),
        consistent_share=sum(j.consistent for j in judgements) / len(judgements),
        first_position_wins=wins / len(decisive) if decisive else 0.5,
    )
