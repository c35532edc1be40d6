"""Classification with abstention: answer above the threshold, abstain below it."""

from __future__ import annotations

import pytest

from llmprep.core.messages import GenerationSettings
from llmprep.core.scripted import ScriptedLLM
from llmprep.prompting.classify import (
    CoveragePoint,
    classify,
    classify_by_vote,
    decide,
    risk_coverage,
)

from .conftest import run

LABELS = ["refund", "shipping", "account"]


def test_decide_answers_at_or_above_the_threshold_and_abstains_below() -> None:
    assert decide({"refund": 0.8, "shipping": 0.2}, threshold=0.7).label == "refund"
    assert decide({"refund": 0.7}, threshold=0.7).label == "refund"
    low = decide({"refund": 0.55, "shipping": 0.45}, threshold=0.7)
    assert low.abstained
    assert low.confidence == 0.55
    assert "below the threshold 0.70" in low.reason
    with pytest.raises(ValueError, match="threshold"):
        decide({"refund": 1.0}, threshold=1.5)


def test_decide_breaks_a_tie_toward_the_first_label() -> None:
    assert decide({"refund": 0.5, "shipping": 0.5}, threshold=0.5).label == "refund"
    assert decide({"shipping": 0.5, "refund": 0.5}, threshold=0.5).label == "shipping"
    three = decide({"account": 0.2, "refund": 0.4, "shipping": 0.4}, threshold=0.0)
    assert (three.label, three.confidence) == ("refund", 0.4)


def test_classify_uses_the_models_confidence_and_abstains_when_it_is_low() -> None:
    sure = ScriptedLLM(['{"label": "shipping", "confidence": 0.92}'])
    decision = run(classify(sure, "Where is my parcel?", LABELS, threshold=0.7))
    assert (decision.label, decision.confidence) == ("shipping", 0.92)
    unsure = ScriptedLLM(['{"label": "refund", "confidence": 0.4}'])
    decision = run(classify(unsure, "It is complicated.", LABELS, threshold=0.7))
    assert decision.abstained
    assert decision.confidence == 0.4
    # the prompt lists the labels and fences the text
    prompt = unsure.calls[0].messages
    assert "refund, shipping, account" in prompt[0].content
    assert prompt[1].content == "<text>\nIt is complicated.\n</text>"


def test_an_unknown_label_is_repaired_once_then_abstains() -> None:
    llm = ScriptedLLM(['{"label": "billing", "confidence": 0.9}'] * 2)
    decision = run(classify(llm, "Charge twice?", LABELS))
    assert decision.abstained
    assert "unusable output" in decision.reason
    assert "'billing' is not one of" in decision.reason
    assert len(llm.calls) == 2


def test_classify_by_vote_uses_the_vote_share_as_confidence() -> None:
    llm = ScriptedLLM(["shipping", "Shipping.", "refund", "shipping", "no idea"])
    decision = run(classify_by_vote(llm, "Parcel late and damaged", LABELS, n=5, threshold=0.6))
    assert (decision.label, decision.confidence) == ("shipping", 0.6)
    split = ScriptedLLM(["shipping", "refund", "account", "refund", "shipping"])
    assert run(classify_by_vote(split, "?", LABELS, n=5, threshold=0.6)).abstained
    assert all(c.settings.temperature == 0.7 for c in split.calls)  # sampled, not greedy


def test_classify_by_vote_sends_the_settings_it_is_given() -> None:
    # e.g. a reasoning model that accepts only its default temperature: send none
    provider_default = GenerationSettings()
    llm = ScriptedLLM(["shipping"] * 3)
    decision = run(classify_by_vote(llm, "?", LABELS, n=3, settings=provider_default))
    assert decision.label == "shipping"
    assert len(llm.calls) == 3
    assert all(c.settings == provider_default for c in llm.calls)
    assert all(c.settings.temperature is None for c in llm.calls)
    capped = GenerationSettings(temperature=1.0, max_tokens=5)
    llm = ScriptedLLM(["refund"] * 2)
    run(classify_by_vote(llm, "?", LABELS, n=2, settings=capped))
    assert [c.settings for c in llm.calls] == [capped, capped]


def test_risk_coverage_trades_coverage_for_accuracy() -> None:
    confidences = [0.95, 0.9, 0.8, 0.6, 0.5, 0.3]
    correct = [True, True, True, False, True, False]
    points = risk_coverage(confidences, correct, [0.0, 0.55, 0.85, 0.99])
    assert points == [
        CoveragePoint(0.0, 1.0, 4 / 6),
        CoveragePoint(0.55, 4 / 6, 3 / 4),
        CoveragePoint(0.85, 2 / 6, 1.0),
        CoveragePoint(0.99, 0.0, None),
    ]
