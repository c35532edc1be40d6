"""LLM judges in production: rubric scores, agreement with people, and the biases to measure.

The pairwise judge with its position swap lives in `llmprep.prompting.judge`; this module
adds what an eval pipeline needs around it:

    judge_pointwise   a 1-5 score per rubric criterion, as JSON, validated against a schema
                      and repaired once (`prompting.structured.with_repair`) if malformed
    agreement_with_humans
                      accuracy and Cohen's kappa against human labels: is the judge worth
                      trusting? Kappa subtracts the agreement two raters reach by chance
    length_bias       does the longer answer win more often than people say it should?
    compare_all       many `judge_pair` calls (both orders each) with a concurrency limit,
                      whose results `prompting.judge.position_bias` summarises

Zheng et al. (2023) measured position, verbosity and self-enhancement biases in LLM judges
and found that a strong judge still agrees with human experts about as often as experts
agree with each other. Both halves matter: validate the judge on a few hundred human labels
before trusting it, and measure its biases, because a judge that prefers long answers will
steer a whole product towards padding.

Leaves out: reference-guided grading, judge ensembles and self-preference (judge with a
model from another family), calibration of scores into probabilities, and weighted kappa
variants other than quadratic.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from llmprep.core.llm import LLM
from llmprep.core.messages import GenerationSettings, Message, Usage
from llmprep.prompting.judge import PairJudgement, Winner, judge_pair
from llmprep.prompting.structured import json_schema_validator, with_repair

# -----------------------------------------------------------------------------
# pointwise rubric judging


@dataclass(frozen=True, slots=True)
class Criterion:
    """One thing the judge scores, described the way you would brief a human rater."""

    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Rubric:
    """Criteria scored on an integer scale (1-5 by default), with what the ends mean.

    Why a rubric: "rate this answer 1-10" gets a vague, drifting number. Named criteria with
    anchored ends ("1 = contradicts the source, 5 = every claim supported") get scores that
    two runs, and two raters, agree on more often.
    """

    criteria: tuple[Criterion, ...]
    low: int = 1
    high: int = 5
    anchors: str = "1 = fails the criterion completely, 5 = meets it fully"

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", tuple(self.criteria))
        if not self.criteria:
            raise ValueError("a rubric needs at least one criterion")
        names = [c.name for c in self.criteria]
        if len(set(names)) != len(names):
            raise ValueError(f"criterion names must be unique, got {names}")
        if not self.low < self.high:
            raise ValueError(f"scale must run low < high, got {self.low}..{self.high}")

    def schema(self) -> dict[str, Any]:
        """The JSON Schema the judge's reply must match (rationale first, then scores)."""
        score = {"type": "integer", "minimum": self.low, "maximum": self.high}
        return {
            "type": "object",
            "properties": {
                "rationale": {"type": "string"},
                "scores": {
                    "type": "object",
                    "properties": {c.name: score for c in self.criteria},
                    "required": [c.name for c in self.criteria],
                    "additionalProperties": False,
                },
            },
            "required": ["rationale", "scores"],
        }

    def prompt(self, question: str, answer: str) -> list[Message]:
        """System: the rubric and the reply format. User: the question and the answer."""
        lines = "\n".join(f"- {c.name}: {c.description}" for c in self.criteria)
        example = {"rationale": "...", "scores": {c.name: self.high for c in self.criteria}}
        system = (
            "You are a careful grader. Score the answer on each criterion, using integers "
            f"from {self.low} to {self.high} ({self.anchors}). Judge only what is written; "
            "length is not quality.\n"
            f"Criteria:\n{lines}\n"
            "Reply with JSON only, rationale first, in this shape: " + json.dumps(example)
        )
        return [
            Message.system(system),
            Message.user(f"[Question]\n{question}\n\n[Answer]\n{answer}"),
        ]


@dataclass(frozen=True, slots=True)
class RubricScore:
    """The judge's validated scores, its rationale, whether it needed a repair, and the cost."""

    scores: dict[str, int]
    rationale: str
    repaired: bool
    usage: Usage

    @property
    def mean(self) -> float:
        return sum(self.scores.values()) / len(self.scores)


JUDGE_SETTINGS = GenerationSettings(temperature=0.0)


async def judge_pointwise(
    llm: LLM,
    question: str,
    answer: str,
    rubric: Rubric,
    *,
    settings: GenerationSettings = JUDGE_SETTINGS,
    max_repairs: int = 1,
) -> RubricScore:
    """Score one answer on every criterion of `rubric`; a malformed reply is repaired once.

    The reply must be JSON matching `rubric.schema()`: every criterion present, integers in
    range, nothing else. Out-of-range or missing scores go back to the judge with the
    validation error; if the repair fails too, `StructuredOutputError` is raised (a judge
    that cannot follow the format should not be trusted with the score either).

    Example: (await judge_pointwise(llm, q, a, rubric)).scores == {"accuracy": 4, ...}
    """
    result = await with_repair(
        llm,
        rubric.prompt(question, answer),
        json_schema_validator(rubric.schema()),
        max_repairs=max_repairs,
        settings=settings,
    )
    value = result.value
    scores = {c.name: int(value["scores"][c.name]) for c in rubric.criteria}
    return RubricScore(scores, str(value["rationale"]), result.repaired, result.usage)


# -----------------------------------------------------------------------------
# agreement with human labels


@dataclass(frozen=True, slots=True)
class Agreement:
    """How often the judge matches people, and how much of that is better than chance."""

    n: int
    accuracy: float  # observed agreement p_o
    chance: float  # agreement expected from the two label distributions alone, p_e
    kappa: float  # (p_o - p_e) / (1 - p_e); NaN when p_e == 1 (one label used throughout)


def agreement_with_humans(
    judge: Sequence[Hashable],
    human: Sequence[Hashable],
    *,
    weights: Literal["none", "quadratic"] = "none",
) -> Agreement:
    """Accuracy and Cohen's kappa between judge labels and human labels for the same items.

    Why kappa: if 90% of answers are "pass", a judge that always says "pass" agrees 90% of
    the time and knows nothing; its kappa is 0. With `weights="quadratic"` (for ordinal
    scores such as 1-5), a 4 against a 5 counts as a near miss, not a full disagreement.

    Example: agreement_with_humans(["y", "y", "n", "n"], ["y", "n", "n", "n"]).kappa == 0.5
    """
    if len(judge) != len(human):
        raise ValueError(f"need one judge label per human label, got {len(judge)} and {len(human)}")
    if not judge:
        raise ValueError("need at least one labelled item")
    n = len(judge)
    accuracy = sum(a == b for a, b in zip(judge, human, strict=True)) / n
    labels = sorted(set(judge) | set(human), key=repr)
    if weights == "quadratic":
        return _weighted(judge, human, labels, accuracy)
    if weights != "none":
        raise ValueError(f"weights must be 'none' or 'quadratic', got {weights!r}")
    pj, ph = Counter(judge), Counter(human)
    chance = sum(pj[label] * ph[label] for label in labels) / (n * n)
    kappa = (accuracy - chance) / (1 - chance) if chance < 1 else float("nan")
    return Agreement(n, accuracy, chance, kappa)


def _weighted(
    judge: Sequence[Hashable], human: Sequence[Hashable], labels: list[Hashable], accuracy: float
) -> Agreement:
    """Quadratic-weighted kappa: disagreement weight ((i - j) / (k - 1))^2 by label rank."""
    if not all(isinstance(x, int | float) for x in labels):
        raise TypeError(f"quadratic weights need numeric labels, got {labels!r}")
    values = sorted(labels, key=lambda x: float(x))  # type: ignore[arg-type]
    rank = {v: i for i, v in enumerate(values)}
    k, n = len(values), len(judge)
    if k < 2:
        return Agreement(n, accuracy, 1.0, float("nan"))

    def w(a: Hashable, b: Hashable) -> float:
        return ((rank[a] - rank[b]) / (k - 1)) ** 2

    observed = sum(w(a, b) for a, b in zip(judge, human, strict=True)) / n
    pj, ph = Counter(judge), Counter(human)
    expected = sum(pj[a] * ph[b] * w(a, b) for a in values for b in values) / (n * n)
    kappa = 1 - observed / expected if expected > 0 else float("nan")
    return Agreement(n, accuracy, 1 - expected, kappa)


# -----------------------------------------------------------------------------
# pairwise biases


async def compare_all(
    llm: LLM,
    items: Sequence[tuple[str, str, str]],
    *,
    concurrency: int = 8,
    settings: GenerationSettings = JUDGE_SETTINGS,
) -> list[PairJudgement]:
    """`judge_pair` (both orders) for every (question, a, b), at most `concurrency` at once.

    Example: position_bias(await compare_all(llm, [(q, a, b), ...])).consistent_share
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    gate = asyncio.Semaphore(concurrency)

    async def one(question: str, a: str, b: str) -> PairJudgement:
        async with gate:
            return await judge_pair(llm, question, a, b, settings=settings)

    return list(await asyncio.gather(*(one(*item) for item in items)))


@dataclass(frozen=True, slots=True)
class LengthBias:
    """How often the longer answer wins, for the judge and (if given) for people.

    `excess` is judge minus human: about 0 for a judge whose taste for length matches the
    people it stands in for, positive for a judge that rewards padding.
    """

    decisive: int  # comparisons with a winner and answers of different length
    judge_longer_wins: float
    human_longer_wins: float | None
    excess: float | None


def _longer_win_rate(
    pairs: Sequence[tuple[str, str]], winners: Sequence[Winner]
) -> tuple[int, float]:
    decisive = [
        (len(a) > len(b)) == (w == "a")
        for (a, b), w in zip(pairs, winners, strict=True)
        if w != "tie" and len(a) != len(b)
    ]
    return len(decisive), (sum(decisive) / len(decisive) if decisive else float("nan"))


def length_bias(
    pairs: Sequence[tuple[str, str]],
    judge_winners: Sequence[Winner],
    human_winners: Sequence[Winner] | None = None,
) -> LengthBias:
    """Share of decisive verdicts won by the longer answer, judge vs humans.

    Measure it on pairs where length and quality are unrelated (as many good short answers
    as good long ones): then an unbiased judge's longer-wins share is about the humans'.

    Example: a judge that always picks the longer answer has judge_longer_wins == 1.0
    """
    if len(pairs) != len(judge_winners):
        raise ValueError(f"need one verdict per pair, got {len(pairs)} and {len(judge_winners)}")
    decisive, judge_rate = _longer_win_rate(pairs, judge_winners)
    if human_winners is None:
        return LengthBias(decisive, judge_rate, None, None)
    if len(human_winners) != len(pairs):
        raise ValueError(f"need one human verdict per pair, got {len(human_winners)}")
    _, human_rate = _longer_win_rate(pairs, human_winners)
    return LengthBias(decisive, judge_rate, human_rate, judge_rate - human_rate)
