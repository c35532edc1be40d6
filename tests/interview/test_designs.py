"""The eight worked designs: stable keys (the deck uses two of them), every one estimable with
priced models and a latency path that ends in the answer's decode, one chapter section each,
and the support design's numbers as computed by hand."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from llmprep.core.pricing import PRICES
from llmprep.interview.designs import DESIGNS, Design

CHAPTER = Path(__file__).parents[2] / "chapters" / "06-interview" / "system-design.qmd"
KEYS = (
    "support",
    "enterprise-rag",
    "coding-assistant",
    "extraction",
    "booking-agent",
    "semantic-search",
    "moderation",
    "gateway",
)


def test_the_eight_keys_are_stable() -> None:
    assert tuple(DESIGNS) == KEYS
    with pytest.raises(TypeError):
        DESIGNS["new"] = DESIGNS["support"]  # type: ignore[index]


@pytest.mark.parametrize("key", KEYS)
def test_every_design_estimates(key: str) -> None:
    design = DESIGNS[key]
    assert design.key == key
    assert design.section == "sec-sd-" + key
    assert all(m in PRICES for m in design.models)
    e = design.estimate()
    assert e.traffic.requests_per_day > 0
    assert len(e.api) == len(design.models)
    assert e.gpu is not None
    assert e.gpu.gpus >= design.hosting.min_replicas
    assert e.latency.stages[-1].name.startswith("decode of")
    assert e.latency.stages[-1].source == "computed"
    assert (e.index is None) == (design.index is None)
    table = e.to_markdown()
    assert table.count("\n") == len(e.rows()) + 1
    sentence = design.assumptions()
    assert "{" not in sentence
    assert " 1 " + design.requests not in sentence  # singular after one


@pytest.mark.parametrize("key", KEYS)
def test_the_chapter_has_a_section_for_every_design(key: str) -> None:
    assert "{#" + DESIGNS[key].section + "}" in CHAPTER.read_text(encoding="utf-8")


def test_support_numbers_by_hand() -> None:
    d: Design = DESIGNS["support"]
    e = d.estimate()
    # 100,000 customers x 4 turns; half of 3,000 input tokens cached at 0.1x on gpt-5-mini:
    # (1,500 x 0.25 + 1,500 x 0.025 + 300 x 2.00) / 1e6 = $0.0010125 a turn, $405 a day.
    assert e.traffic.requests_per_day == 400_000
    assert e.api_option("gpt-5-mini").per_day == Decimal("405")
    assert e.cheapest_api.model == "gpt-5-mini"
    assert d.assumptions().startswith("Assumed: 100,000 customers contacting support a day, 4 ")


def test_moderation_prefix_is_too_short_to_cache_by_hand() -> None:
    # 20M posts; 80% of 600 input tokens = 480 shared tokens, under OpenAI's 1,024-token
    # minimum: (600 x 0.25 + 20 x 2.00) / 1e6 = $0.00019 a post, $3,800 a day.
    e = DESIGNS["moderation"].estimate()
    mini = e.api_option("gpt-5-mini")
    assert mini.cache == "below cache minimum"
    assert mini.per_day == Decimal("3800")
    assert "API gpt-5-mini (below cache minimum)" in e.to_markdown()
    # The support turn's 1,500-token prefix clears OpenAI's minimum, not claude-opus-4-5's 4,096:
    # (3,000 x 5 + 300 x 25) / 1e6 = $0.0225 a turn, $9,000 a day.
    support = DESIGNS["support"].estimate()
    assert support.api_option("gpt-5-mini").cache == "cached"
    assert support.api_option("claude-opus-4-5").per_day == Decimal("9000")


def test_an_agent_is_slower_than_one_call_and_the_table_says_so() -> None:
    agent = DESIGNS["booking-agent"].estimate()
    assert agent.tokens.llm_calls > 1
    assert agent.latency.stages[-3].name.endswith("LLM calls before the answer")
    verdict = "within" if agent.latency.within_slo else "over"
    assert f"{verdict} the" in agent.latency.to_markdown()


def test_the_framework_fills_45_minutes_with_distinct_timed_phases() -> None:
    from llmprep.interview.designs import FRAMEWORK, framework_minutes

    assert framework_minutes() == 45
    assert len({phase.name for phase in FRAMEWORK}) == len(FRAMEWORK)
    assert all(phase.minutes > 0 and phase.actions and phase.listens_for for phase in FRAMEWORK)
    assert [p.name for p in FRAMEWORK[:3]] == ["Clarify requirements", "Estimate", "Architecture"]
    assert framework_minutes(FRAMEWORK[:3]) == 20
