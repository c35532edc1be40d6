"""Self-consistency: sample several reasoning paths and take the majority answer.

Chain-of-thought makes one reasoning path explicit; a single path can go wrong at any step.
Self-consistency (Wang et al., 2023, ICLR, arXiv:2203.11171) samples n paths at a temperature
above zero, extracts each final answer and returns the most common one:

    prompt --sample n times--> n reasonings --extract--> answers --majority--> answer

Paths that go wrong tend to go wrong in different ways, while correct ones agree, so the vote
is more accurate than one greedy path. It costs n times the tokens (see `techniques`), and the
vote share doubles as a confidence: 5 of 5 agreeing is a safer answer than 2 of 5.

Leaves out: weighting votes by the model's probability of each path (the paper finds the plain
vote about as good), early stopping once a majority is certain, and answers that need a
semantic rather than exact match (normalise them in `extract`).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

from llmprep.core.llm import LLM
from llmprep.core.messages import Completion, GenerationSettings, Message, Usage

_ANSWER = re.compile(r"answer\s*(?:is|:)\s*\**\s*([^\n*]+?)\s*\**\s*\.?\s*$", re.I | re.M)
_NUMBER = re.compile(r"[-+]?[\d,]*\.?\d+")  # "1,234" counts the same as "1234"

SAMPLING = GenerationSettings(temperature=0.7)
"""Self-consistency needs diverse paths: greedy decoding would sample one path n times."""


@dataclass(frozen=True, slots=True)
class Vote[T]:
    """The outcome of a vote: the winner (None if nothing could be counted) and the tally."""

    winner: T | None
    tally: tuple[tuple[T, int], ...]  # most votes first; ties in order of first appearance
    abstained: int = 0  # answers that could not be extracted

    @property
    def votes(self) -> int:
        return sum(count for _, count in self.tally)

    @property
    def share(self) -> float:
        """The winner's share of the counted votes: the vote's own confidence."""
        return self.tally[0][1] / self.votes if self.tally else 0.0


def majority_vote[T: Hashable](answers: Iterable[T | None]) -> Vote[T]:
    """Count the answers (None = could not extract one) and pick the most common.

    Ties go to the answer seen first, so the result does not depend on hashing order.

    Example: majority_vote(["4", "5", "4", None]).winner == "4"  (share 2/3)
    """
    counted = list(answers)
    # most_common sorts stably, so tied answers stay in order of first appearance
    tally = Counter(a for a in counted if a is not None).most_common()
    winner = tally[0][0] if tally else None
    return Vote(winner, tuple(tally), abstained=sum(a is None for a in counted))


def extract_answer(text: str) -> str | None:
    """The final answer in "... The answer is 42." or "Answer: 42" (the last one), or None.

    Example: extract_answer("3 + 4 = 7, so the answer is 7.") == "7"
    """
    found = _ANSWER.findall(text)
    if not found:
        return None
    answer: str = found[-1].strip()
    return answer.replace(",", "") if _NUMBER.fullmatch(answer) else answer


@dataclass(frozen=True, slots=True)
class SelfConsistency[T]:
    """A self-consistency run: the vote, every sampled completion, and the total cost."""

    vote: Vote[T]
    completions: tuple[Completion, ...]
    usage: Usage


async def self_consistency[T: Hashable](
    llm: LLM,
    messages: Sequence[Message],
    *,
    n: int = 5,
    extract: Callable[[str], T | None],
    settings: GenerationSettings = SAMPLING,
) -> SelfConsistency[T]:
    """Sample `n` answers concurrently and vote on what `extract` pulls out of each.

    Example: (await self_consistency(llm, msgs, n=5, extract=extract_answer)).vote.winner
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    completions = await asyncio.gather(
        *(llm.complete(messages, settings=settings) for _ in range(n))
    )
    usage = sum((c.usage for c in completions), Usage())
    vote = majority_vote(extract(c.text) for c in completions)
    return SelfConsistency(vote, tuple(completions), usage)
