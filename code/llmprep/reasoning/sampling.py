"""Parallel test-time compute: one sample, a majority vote over n, best-of-n with a verifier.

All three start from the same n independent traces; they differ only in how they pick the
answer, and so in what extra they pay:

    single sample      the first trace's answer                 n = 1, no verifier
    majority of n      the most common answer (self-consistency) n traces, no verifier
    best-of-n          the trace the verifier scores highest      n traces + n verifier reads

The vote reuses `llmprep.prompting.selfconsistency.majority_vote` (ties go to the answer seen
first). A verifier read costs the tokens of the trace it reads, counted apart from generated
tokens because they are usually priced as input.

Leaves out: weighted voting (sum of verifier scores per answer, which Uesato et al. and
Lightman et al. also report), early stopping once a vote is decided, and sampling the n
traces adaptively.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from llmprep.prompting.selfconsistency import majority_vote
from llmprep.reasoning.solver import Trace
from llmprep.reasoning.task import Problem

type Scorer = Callable[[Problem, Trace], float]
"""A verifier's score for one trace: `OutcomeVerifier.score` or `ProcessVerifier.score`."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a strategy answered and what it spent: generated and verifier-read tokens."""

    answer: int | None
    generated_tokens: int
    verifier_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.generated_tokens + self.verifier_tokens


def _check(traces: Sequence[Trace]) -> None:
    if not traces:
        raise ValueError("need at least one trace, got none")


def single_sample(traces: Sequence[Trace]) -> Outcome:
    """The first trace's answer: the baseline every other strategy must beat."""
    _check(traces)
    return Outcome(traces[0].answer, traces[0].tokens)


def majority(traces: Sequence[Trace]) -> Outcome:
    """The most common answer among the traces (self-consistency).

    Example: answers 12, 13, 12 -> 12, at the cost of all three traces
    """
    _check(traces)
    vote = majority_vote(t.answer for t in traces)
    return Outcome(vote.winner, sum(t.tokens for t in traces))


def best_of_n(problem: Problem, traces: Sequence[Trace], score: Scorer) -> Outcome:
    """The answer of the highest-scoring trace; the verifier reads every trace.

    Ties go to the earliest trace, so the result depends only on the traces and the scorer.
    """
    _check(traces)
    best = max(range(len(traces)), key=lambda i: (score(problem, traces[i]), -i))
    tokens = sum(t.tokens for t in traces)
    return Outcome(traces[best].answer, tokens, verifier_tokens=tokens)
