"""Classification with abstention: answer only when confident, and route the rest to a human.

A classifier that must always answer is wrong on its hardest inputs. Selective prediction
lets it say "I don't know": pick the top label if its confidence clears a threshold, else
abstain. Raising the threshold trades *coverage* (the share answered) for *accuracy on what
is answered*; `risk_coverage` computes that curve so you can pick the threshold from data.

Where the confidence comes from matters more than the rule:

- `classify` asks the model for a label and a confidence in JSON (validated, one repair).
  Cheap, one call, but verbalised confidence tends to be overconfident (Xiong et al., 2024,
  ICLR, arXiv:2306.13063);
- `classify_by_vote` samples n answers and uses the vote share (as in self-consistency): n
  calls, and in Xiong et al.'s comparison consistency across samples was less overconfident
  than the verbalised number (not a guarantee of calibration: measure it on your data);
- `decide` takes any probabilities, e.g. a softmax over label logits from a model you host.

Leaves out: calibration itself (temperature scaling, isotonic regression), multi-label
classification, and per-class thresholds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llmprep.core.llm import LLM
from llmprep.core.messages import GenerationSettings, Message
from llmprep.prompting.selfconsistency import SAMPLING, majority_vote
from llmprep.prompting.structured import (
    StructuredOutputError,
    json_schema_validator,
    with_repair,
)
from llmprep.prompting.templates import ChatTemplate, PromptTemplate

CLASSIFY_PROMPT = ChatTemplate(
    "You classify texts. Labels: {labels}. Reply with JSON only: "
    '{{"label": <one of the labels>, "confidence": <a number from 0 to 1>}}.',
    "<text>\n{text}\n</text>",
)

VOTE_PROMPT = PromptTemplate("Classify the text as one of: {labels}. Reply with the label only.")


@dataclass(frozen=True, slots=True)
class Decision:
    """A label, or None to abstain, with the confidence behind it and why."""

    label: str | None
    confidence: float
    reason: str = ""

    @property
    def abstained(self) -> bool:
        return self.label is None


def decide(probabilities: Mapping[str, float], threshold: float) -> Decision:
    """The most probable label if its probability is at least `threshold`, else abstain.

    A tie for the top probability goes to the label that comes first in `probabilities`
    (insertion order), so callers can order the labels to say which one wins a tie.

    Example: decide({"spam": 0.55, "ham": 0.45}, threshold=0.7).abstained is True
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    if not probabilities:
        return Decision(None, 0.0, "no labels scored")
    label, p = max(probabilities.items(), key=lambda kv: kv[1])
    if p < threshold:
        why = f"confidence {p:.2f} is below the threshold {threshold:.2f}"
        return Decision(None, p, why)
    return Decision(label, p)


async def classify(
    llm: LLM, text: str, labels: Sequence[str], *, threshold: float = 0.7
) -> Decision:
    """One call: the model names a label and its own confidence; abstain below `threshold`.

    Output that stays invalid after one repair (an unknown label, say) abstains too.
    """
    schema = {
        "type": "object",
        "properties": {
            "label": {"enum": list(labels)},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["label", "confidence"],
    }
    messages = CLASSIFY_PROMPT.render(labels=", ".join(labels), text=text)
    try:
        result = await with_repair(llm, messages, json_schema_validator(schema))
    except StructuredOutputError as err:
        return Decision(None, 0.0, f"unusable output: {err.attempts[-1].error}")
    return decide({result.value["label"]: float(result.value["confidence"])}, threshold)


async def classify_by_vote(
    llm: LLM,
    text: str,
    labels: Sequence[str],
    *,
    n: int = 5,
    threshold: float = 0.6,
    settings: GenerationSettings | None = None,
) -> Decision:
    """n sampled labels; the confidence is the most common label's share of all n samples.

    Replies that are not one of `labels` count against the confidence, not for any label.

    `settings` are sent with every call; None means `SAMPLING` (temperature 0.7), since the
    vote needs diverse samples. Some models reject a temperature: OpenAI's reasoning models
    (gpt-5-mini among them) accept only their default of 1, which already samples, so pass
    `GenerationSettings()` (temperature None: the provider's default) for them.

    Example: await classify_by_vote(llm, text, labels, settings=GenerationSettings())
    """
    sampling = SAMPLING if settings is None else settings
    instruction = VOTE_PROMPT.render(labels=", ".join(labels))
    messages = [Message.system(instruction), Message.user(text)]
    calls = (llm.complete(messages, settings=sampling) for _ in range(n))
    replies = await asyncio.gather(*calls)
    known = {label.lower(): label for label in labels}
    vote = majority_vote(known.get(r.text.strip().strip(".").lower()) for r in replies)
    if vote.winner is None:
        return Decision(None, 0.0, "no reply named a known label")
    return decide({vote.winner: vote.tally[0][1] / n}, threshold)


@dataclass(frozen=True, slots=True)
class CoveragePoint:
    """At this threshold: the share of inputs answered, and the accuracy on those."""

    threshold: float
    coverage: float
    accuracy: float | None  # None when nothing is answered


def risk_coverage(
    confidences: Sequence[float], correct: Sequence[bool], thresholds: Sequence[float]
) -> list[CoveragePoint]:
    """Coverage and selective accuracy at each threshold (answer iff confidence >= it).

    Example: risk_coverage([0.9, 0.4], [True, False], [0.5])[0] == CoveragePoint(0.5, 0.5, 1.0)
    """
    if len(confidences) != len(correct) or not confidences:
        raise ValueError("need one correctness flag per confidence, and at least one")
    points = []
    for t in thresholds:
        answered = [ok for c, ok in zip(confidences, correct, strict=True) if c >= t]
        accuracy = sum(answered) / len(answered) if answered else None
        points.append(CoveragePoint(t, len(answered) / len(confidences), accuracy))
    return points
