"""Cost: exact Decimal arithmetic from the dated price table, budgets that refuse a call
before it is sent, alerts that fire once per threshold, and prompt-cache prices."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.llm import collect
from llmprep.core.messages import GenerationSettings, Message, Usage
from llmprep.core.pricing import PRICES, estimate_cost
from llmprep.core.scripted import ScriptedLLM
from llmprep.core.tokens import count_message_tokens
from llmprep.production.clock import ManualClock
from llmprep.production.cost import (
    CACHE_PRICES,
    BudgetExceededError,
    CostTracker,
    MeteredLLM,
    cache_break_even,
    estimate_request_cost,
    prompt_cache_cost,
)

HI = [Message.user("hi")]


def test_a_record_costs_what_the_price_table_says() -> None:
    tracker = CostTracker(clock=ManualClock(start=5.0))
    record = tracker.record(
        tenant="acme", feature="chat", model="gpt-5-mini", usage=Usage(1_000_000, 1_000_000)
    )
    assert record.cost == Decimal("2.25") == estimate_cost("gpt-5-mini", 1_000_000, 1_000_000)
    assert record.at == 5.0
    assert tracker.total() == tracker.total(tenant="acme", feature="chat") == Decimal("2.25")
    assert tracker.total(tenant="other") == 0


def test_cached_input_is_billed_at_the_cache_read_price() -> None:
    tracker = CostTracker()
    usage = Usage(1_000_000, 0)
    full = tracker.call_cost("gpt-5-mini", usage)
    cached = tracker.call_cost("gpt-5-mini", usage, cached_input_tokens=1_000_000)
    assert (full, cached) == (Decimal("0.25"), Decimal("0.025"))
    # No verified cache price: cached tokens are billed at the full input price.
    assert tracker.call_cost("gemini-3.5-flash", usage, 1_000_000) == Decimal("1.50")
    with pytest.raises(ValueError, match="11 exceed input_tokens 10"):
        tracker.call_cost("gpt-5-mini", Usage(10, 0), cached_input_tokens=11)


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**5)), max_size=30))
def test_totals_are_exact_sums_over_tenants_and_features(calls: list[tuple[int, int]]) -> None:
    tracker = CostTracker()
    for i, (n_in, n_out) in enumerate(calls):
        tenant, feature = f"t{i % 3}", f"f{i % 2}"
        tracker.record(
            tenant=tenant, feature=feature, model="claude-haiku-4-5", usage=Usage(n_in, n_out)
        )
    by_tenant = tracker.breakdown("tenant")
    assert sum(by_tenant.values(), Decimal(0)) == tracker.total()
    assert sum(tracker.breakdown("feature").values(), Decimal(0)) == tracker.total()
    assert list(by_tenant.values()) == sorted(by_tenant.values(), reverse=True)
    assert tracker.total() == sum(
        (estimate_cost("claude-haiku-4-5", a, b) for a, b in calls), Decimal(0)
    )


def test_alerts_fire_once_per_threshold_crossed() -> None:
    tracker = CostTracker(budgets={"acme": Decimal("1.00")})
    for _ in range(5):  # $0.25 each (1M gpt-5-mini input tokens)
        tracker.record(tenant="acme", feature="chat", model="gpt-5-mini", usage=Usage(1_000_000, 0))
    assert [(a.threshold, a.spent) for a in tracker.alerts] == [
        (0.5, Decimal("0.50")),
        (0.8, Decimal("1.00")),
        (1.0, Decimal("1.00")),
    ]
    assert tracker.remaining("acme") == 0
    assert tracker.remaining("nobody") is None


def test_check_refuses_a_call_that_could_pass_the_budget() -> None:
    tracker = CostTracker(budgets={"acme": Decimal("0.10")})
    tracker.check("acme", Decimal("0.10"))  # exactly the budget is allowed
    tracker.record(tenant="acme", feature="x", model="gpt-5-mini", usage=Usage(200_000, 0))
    with pytest.raises(BudgetExceededError, match="'acme'") as info:
        tracker.check("acme", Decimal("0.06"))
    assert info.value.spent == Decimal("0.05")
    assert not info.value.retryable
    tracker.check("no-budget-tenant", Decimal("1000"))


def test_the_estimate_is_the_worst_case_with_the_real_tokenizer() -> None:
    messages = [Message.system("Answer briefly."), Message.user("What is a token bucket?")]
    estimate = estimate_request_cost(messages, "gpt-5.6-terra", max_output_tokens=500)
    expected = estimate_cost("gpt-5.6-terra", count_message_tokens(messages), 500)
    assert estimate == expected
    assert estimate > estimate_request_cost(messages, "gpt-5.6-terra", max_output_tokens=10)


def test_metered_llm_records_usage_and_blocks_before_sending() -> None:
    llm = ScriptedLLM(lambda m: "an answer of a few tokens")
    tracker = CostTracker(budgets={"acme": Decimal("0.0001")})
    metered = MeteredLLM(llm, tracker, tenant="acme", feature="chat", model="gpt-5-mini")
    small = GenerationSettings(max_tokens=20)

    completion = asyncio.run(metered.complete(HI, settings=small))
    assert tracker.records[0].input_tokens == completion.usage.input_tokens
    assert tracker.records[0].cost == estimate_cost(
        "gpt-5-mini", completion.usage.input_tokens, completion.usage.output_tokens
    )
    # With no max_tokens the worst case is 1024 output tokens = $0.002048 > the budget.
    with pytest.raises(BudgetExceededError):
        asyncio.run(metered.complete(HI))
    assert len(llm.calls) == 1  # refused before the call


def test_metered_streams_record_the_final_usage() -> None:
    llm = ScriptedLLM(["streamed"], chunk_size=2)
    tracker = CostTracker()
    metered = MeteredLLM(llm, tracker, tenant="t", feature="f", model="claude-haiku-4-5")
    completion = asyncio.run(collect(metered.stream(HI)))
    assert [r.output_tokens for r in tracker.records] == [completion.usage.output_tokens]


def test_unknown_models_fail_when_the_wrapper_is_built() -> None:
    with pytest.raises(KeyError, match="no price on file"):
        MeteredLLM(ScriptedLLM(["x"]), CostTracker(), tenant="t", feature="f", model="gpt-9")


def test_prompt_cache_cost_uses_the_verified_multipliers() -> None:
    # claude-haiku-4-5: $1/MTok input; reads 0.1x, 5-minute writes 1.25x, 1-hour writes 2x.
    read = prompt_cache_cost(
        "claude-haiku-4-5", uncached_input_tokens=500, cache_read_tokens=10_000
    )
    assert read == Decimal("0.0015")
    write = prompt_cache_cost(
        "claude-haiku-4-5", uncached_input_tokens=0, cache_write_tokens=10_000
    )
    assert write == Decimal("0.0125")
    long = prompt_cache_cost(
        "claude-haiku-4-5", uncached_input_tokens=0, cache_write_tokens=10_000, write_ttl="1h"
    )
    assert long == Decimal("0.02")
    # gpt-5-mini: the cached-input price on its model page is $0.025/MTok.
    assert prompt_cache_cost("gpt-5-mini", uncached_input_tokens=0, cache_read_tokens=10**6) == (
        Decimal("0.025")
    )
    with pytest.raises(ValueError, match="one-hour"):
        prompt_cache_cost(
            "gpt-5-mini", uncached_input_tokens=1, cache_write_tokens=1, write_ttl="1h"
        )
    with pytest.raises(ValueError, match="claude-sonnet-5-5"):
        prompt_cache_cost("claude-sonnet-5-5", uncached_input_tokens=1)
    with pytest.raises(ValueError, match="'30m'"):  # used to be priced as a 5-minute write
        prompt_cache_cost("claude-haiku-4-5", uncached_input_tokens=1, write_ttl="30m")  # type: ignore[arg-type]


def test_a_prefix_below_the_providers_minimum_cannot_be_billed_as_cached() -> None:
    # claude-haiku-4-5 caches 4,096 tokens or more; gpt-5-mini 1,024 or more.
    with pytest.raises(ValueError, match=r"at least 4,096 tokens; a 4,095-token prefix"):
        prompt_cache_cost("claude-haiku-4-5", uncached_input_tokens=0, cache_read_tokens=4_095)
    # a first write caches only what it writes: 96 tokens are too few
    with pytest.raises(ValueError, match="a 96-token prefix"):
        prompt_cache_cost("claude-haiku-4-5", uncached_input_tokens=4_000, cache_write_tokens=96)
    # a 4,000-token read means a 4,000-token prefix was cached, which cannot happen
    with pytest.raises(ValueError, match="a 4,000-token prefix"):
        prompt_cache_cost(
            "claude-haiku-4-5", uncached_input_tokens=0, cache_read_tokens=4_000,
            cache_write_tokens=96,
        )  # fmt: skip
    extended = prompt_cache_cost(
        "claude-haiku-4-5", uncached_input_tokens=0, cache_read_tokens=4_096,
        cache_write_tokens=96,
    )  # fmt: skip
    # extending a cached 4,096-token prefix by 96 tokens: the new entry holds 4,192
    assert extended == Decimal("0.0005296")  # (4,096 x 0.1 + 96 x 1.25) / 1e6
    with pytest.raises(ValueError, match="1,024"):
        prompt_cache_cost("gpt-5-mini", uncached_input_tokens=10, cache_read_tokens=1_023)
    assert prompt_cache_cost("gpt-5-mini", uncached_input_tokens=1_023) == Decimal("0.00025575")


def test_every_cache_price_is_dated_sourced_and_for_a_priced_model() -> None:
    for model, cache in CACHE_PRICES.items():
        assert model in PRICES
        assert cache.source.startswith("https://")
        assert 0 < cache.read < 1 <= cache.write


def test_break_even_reads() -> None:
    assert cache_break_even("claude-opus-4-5") == 1  # 1.25x write, 0.1x reads
    assert cache_break_even("claude-opus-4-5", "1h") == 2  # 2x write
    assert cache_break_even("gpt-5-mini") == 0  # no write surcharge
    with pytest.raises(ValueError, match="one-hour"):  # not silently the 5-minute answer
        cache_break_even("gpt-5-mini", "1h")
    for model in CACHE_PRICES:
        n = cache_break_even(model)
        cache = CACHE_PRICES[model]
        assert cache.write + n * cache.read <= 1 + n


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"budgets": {"a": Decimal("-1")}}, "budget for 'a'"),
        ({"budgets": {"a": 5.0}}, "Decimal"),
        ({"alert_at": (0.0,)}, "alert"),
    ],
)
def test_bad_tracker_settings_name_the_bad_value(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CostTracker(**kwargs)  # type: ignore[arg-type]
