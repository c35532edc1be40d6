"""The interview calculator gives the hand-computed numbers and behaves as a calculator must:
cost linear in traffic and in calls, caching never dearer, GPUs monotone in QPS and never below
the replica floor, memory deciding the replica size, autoscaling never above peak provisioning.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.foundations.hardware import H100_SXM
from llmprep.foundations.model_shapes import LLAMA_3_1_70B, QWEN3_8B
from llmprep.interview import capacity as c
from llmprep.production.cost import CACHE_PRICES

SUPPORT = c.Traffic(100_000, 4)  # 400,000 requests a day
TURN = c.TokenProfile(3_000, 300)


def test_traffic_hand_computed() -> None:
    assert SUPPORT.requests_per_day == 400_000
    assert SUPPORT.avg_qps == pytest.approx(400_000 / 86_400)
    assert SUPPORT.peak_qps == pytest.approx(3 * 4.6296, rel=1e-4)
    assert SUPPORT.scaled(2).requests_per_day == 800_000


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"daily_active_users": -1, "requests_per_user_per_day": 1}, ValueError, "-1"),
        (
            {"daily_active_users": 1, "requests_per_user_per_day": 1, "peak_to_average": 0.5},
            ValueError,
            "0.5",
        ),
        ({"daily_active_users": True, "requests_per_user_per_day": 1}, TypeError, "True"),
        ({"daily_active_users": "many", "requests_per_user_per_day": 1}, TypeError, "many"),
    ],
)
def test_traffic_rejects_bad_values_by_name(
    kwargs: dict[str, object], error: type[Exception], names: str
) -> None:
    with pytest.raises(error, match=names):
        c.Traffic(**kwargs)  # type: ignore[arg-type]


def test_token_profile_validates_and_counts() -> None:
    k = c.TokenProfile(3_001, 300, cached_input_share=0.5, llm_calls=3)
    assert k.cached_tokens == 1_500
    assert k.per_request == (9_003, 900)
    with pytest.raises(ValueError, match=r"1\.5"):
        c.TokenProfile(10, 10, cached_input_share=1.5)
    with pytest.raises(ValueError, match="llm_calls"):
        c.TokenProfile(10, 10, llm_calls=0)
    with pytest.raises(TypeError, match=r"2\.5"):
        c.TokenProfile(2.5, 10)  # type: ignore[arg-type]


def test_tokens_per_second_hand_computed() -> None:
    n_in, n_out = c.tokens_per_second(SUPPORT, TURN)
    assert n_in == pytest.approx(41_666.67, rel=1e-6)
    assert n_out == pytest.approx(4_166.67, rel=1e-6)
    avg_in, _ = c.tokens_per_second(SUPPORT, TURN, peak=False)
    assert avg_in == pytest.approx(n_in / 3)


def test_api_cost_hand_computed() -> None:
    # gpt-5-mini at $0.25 / $2.00 per MTok: 3,000 x 0.25 + 300 x 2 = $0.00135 a request.
    assert c.api_cost_per_day(SUPPORT, TURN, "gpt-5-mini") == Decimal("540")
    # Half the input read from cache at 0.1x: 1,500 x 0.25 + 1,500 x 0.025 + 600 = 1,012.5
    cached = c.TokenProfile(3_000, 300, cached_input_share=0.5)
    assert c.api_cost_per_day(SUPPORT, cached, "gpt-5-mini") == Decimal("405")
    # gemini-3.5-flash has no verified cache prices: full price, 4,500 + 2,700 = $0.0072.
    assert c.api_cost_per_day(SUPPORT, cached, "gemini-3.5-flash") == Decimal("2880")


def test_a_prefix_below_the_providers_minimum_is_not_cached() -> None:
    # Moderation: 600 input tokens, 80% shared: 480 cached tokens < OpenAI's 1,024, so
    # gpt-5-mini bills 600 x 0.25 + 20 x 2 = 190 micro-dollars a post, as if nothing cached.
    post = c.TokenProfile(600, 20, cached_input_share=0.8)
    assert c.cache_status(post, "gpt-5-mini") == "below cache minimum"
    assert c.api_cost_per_request(post, "gpt-5-mini") == Decimal("0.00019")
    # 1,500 cached tokens clear OpenAI's 1,024 but not the 4,096 of claude-haiku-4-5:
    # 3,000 x 1 + 300 x 5 = $0.0045 a turn, not the $0.00315 a discount would give.
    turn = c.TokenProfile(3_000, 300, cached_input_share=0.5)
    assert c.cache_status(turn, "gpt-5-mini") == "cached"
    assert c.api_cost_per_request(turn, "claude-haiku-4-5") == Decimal("0.0045")
    # At 4,096 cached tokens the discount applies: 904 x 1 + 4,096 x 0.1 + 300 x 5 = 2,813.6
    long = c.TokenProfile(5_000, 300, cached_input_share=0.8192)
    assert long.cached_tokens == 4_096
    assert c.api_cost_per_request(long, "claude-haiku-4-5") == Decimal("0.0028136")
    assert c.cache_status(TURN, "gpt-5-mini") == "not assumed"
    assert c.cache_status(turn, "gemini-3.5-flash") == "no cache price"
    # With no minimum on file the discount applies at any length.
    no_minimum = {m: replace(p, min_prefix_tokens=0) for m, p in CACHE_PRICES.items()}
    assert c.api_cost_per_request(post, "gpt-5-mini", cache_prices=no_minimum) < Decimal("0.00019")


def test_the_table_says_why_a_model_pays_full_input_price() -> None:
    post = c.TokenProfile(600, 20, cached_input_share=0.8)
    e = c.estimate("m", SUPPORT, post, models=["gpt-5-mini", "gemini-3.5-flash"])
    table = e.to_markdown()
    assert "API gpt-5-mini (below cache minimum)" in table
    assert "API gemini-3.5-flash (no cache price)" in table
    assert not e.api_option("gpt-5-mini").cache_discount


def test_unknown_model_names_the_model() -> None:
    with pytest.raises(KeyError, match="no-such-model"):
        c.api_cost_per_day(SUPPORT, TURN, "no-such-model")


@given(st.floats(1, 1e7), st.integers(1, 1000))
def test_api_cost_is_linear_in_traffic(users: float, factor: int) -> None:
    base = c.Traffic(users, 3)
    one = c.api_cost_per_day(base, TURN, "claude-haiku-4-5")
    many = c.api_cost_per_day(base.scaled(factor), TURN, "claude-haiku-4-5")
    assert float(many) == pytest.approx(factor * float(one), rel=1e-9)


@given(st.integers(1, 20))
def test_api_cost_is_linear_in_calls(calls: int) -> None:
    one = c.api_cost_per_request(TURN, "gpt-5.6-terra")
    many = c.api_cost_per_request(c.TokenProfile(3_000, 300, llm_calls=calls), "gpt-5.6-terra")
    assert many == calls * one


@given(st.floats(0, 1), st.sampled_from(["gpt-5-mini", "claude-haiku-4-5", "claude-opus-4-5"]))
def test_caching_never_costs_more(share: float, model: str) -> None:
    cached = c.TokenProfile(3_000, 300, cached_input_share=share)
    assert c.api_cost_per_request(cached, model) <= c.api_cost_per_request(TURN, model)


def test_gpu_plan_hand_computed() -> None:
    # Qwen3-8B on one H100: prefill (2 x 7.568e9 x 3000 + 2 x 36 x 3000^2 x 4096) / 494.75e12
    # = 97.1 ms; decode step at context 3,150: (15.14e9 + 32 x 3150 x 147,456) / 2.345e12
    # = 12.79 ms, the request's share 300 x 12.79 / 32 = 119.9 ms: 217 ms of GPU a request.
    # Peak load 13.89 QPS x 0.217 = 3.02 GPUs busy; at 60% target: ceil(5.03) = 6 GPUs.
    plan = c.gpu_plan(SUPPORT, TURN, c.SelfHosting(QWEN3_8B, H100_SXM, batch=32))
    assert plan.ttft_s == pytest.approx(0.0971, rel=1e-3)
    assert plan.gpu_seconds_per_request == pytest.approx(0.2171, rel=1e-3)
    assert plan.peak_gpu_load == pytest.approx(3.015, rel=1e-3)
    assert (plan.gpus_per_replica, plan.replicas, plan.gpus) == (1, 6, 6)
    assert plan.cost_per_day == 6 * 24 * 3.0
    assert c.gpus_needed(SUPPORT, TURN, QWEN3_8B, H100_SXM, batch=32) == 6


def test_memory_decides_the_replica_size() -> None:
    # Llama-3.1-70B in bf16: 141.1 GB of weights + 32 x 3,300 x 327,680 B = 34.6 GB of KV
    # cache = 175.7 GB, over 72 GB usable per H100: 3 GPUs a replica. In 8 bits: 2.
    bf16 = c.gpu_plan(SUPPORT, TURN, c.SelfHosting(LLAMA_3_1_70B, H100_SXM, batch=32))
    assert bf16.memory_per_replica == pytest.approx(175.7e9, rel=1e-3)
    assert bf16.gpus_per_replica == 3
    fp8 = c.SelfHosting(LLAMA_3_1_70B, H100_SXM, batch=32, weight_bits=8)
    assert c.gpu_plan(SUPPORT, TURN, fp8).gpus_per_replica == 2


def test_a_quiet_service_still_gets_the_replica_floor() -> None:
    quiet = c.Traffic(10, 1)
    plan = c.gpu_plan(quiet, TURN, c.SelfHosting(QWEN3_8B, H100_SXM, min_replicas=2))
    assert plan.gpus == 2


@given(st.floats(1, 1e7), st.floats(1, 1e7))
def test_gpus_are_monotone_in_qps(a: float, b: float) -> None:
    low, high = sorted((a, b))
    g_low = c.gpus_needed(c.Traffic(low, 4), TURN, QWEN3_8B, H100_SXM, batch=32)
    g_high = c.gpus_needed(c.Traffic(high, 4), TURN, QWEN3_8B, H100_SXM, batch=32)
    assert g_low <= g_high


def test_self_hosting_rejects_bad_operating_points() -> None:
    with pytest.raises(ValueError, match="mfu"):
        c.SelfHosting(QWEN3_8B, H100_SXM, mfu=0)
    with pytest.raises(ValueError, match="batch"):
        c.SelfHosting(QWEN3_8B, H100_SXM, batch=0)


@given(st.floats(1, 12))
def test_diurnal_profile_averages_one_and_peaks_at_the_ratio(ratio: float) -> None:
    w = c.diurnal_profile(ratio)
    assert len(w) == 24
    assert sum(w) / 24 == pytest.approx(1.0)
    assert max(w) == pytest.approx(ratio, rel=1e-6)
    assert min(w) > 0


def test_diurnal_profile_is_flat_at_ratio_one_and_rejects_impossible_ratios() -> None:
    assert c.diurnal_profile(1.0) == pytest.approx((1.0,) * 24)
    with pytest.raises(ValueError, match="30"):
        c.diurnal_profile(30.0)


@given(st.floats(1e4, 1e7))
def test_autoscaling_never_needs_more_than_peak_provisioning(users: float) -> None:
    traffic = c.Traffic(users, 4)
    hosting = c.SelfHosting(QWEN3_8B, H100_SXM)
    hours = c.autoscaled_gpu_hours(traffic, TURN, hosting)
    peak = c.gpu_plan(traffic, TURN, hosting).gpus
    assert len(hours) == 24
    assert max(hours) <= peak
    assert min(hours) >= hosting.min_replicas


def test_vector_index_bytes_hand_computed() -> None:
    # float16 768-d = 1,536 B, HNSW M=16 graph = 4 x (32 + 16/15) + 12 = 144.27 B a vector.
    hnsw = c.VectorIndex(10_000_000, 768, "float16")
    assert c.vector_index_bytes(hnsw) == pytest.approx(10_000_000 * (1_536 + 144.267), rel=1e-5)
    flat = c.VectorIndex(1_000, 384, "float32", hnsw_m=None, replicas=3)
    assert c.vector_index_bytes(flat) == 3 * 1_000 * 384 * 4
    assert "3 replicas" in flat.label


def test_log_bytes_hand_computed() -> None:
    # 400,000 a day x 30 days x (3,300 tokens x 4 B + 1,000 B) = 170.4 GB
    assert c.log_bytes(SUPPORT, TURN, c.LogPolicy()) == pytest.approx(170.4e9)
    metadata_only = c.LogPolicy(retention_days=10, sample_rate=0.0)
    assert c.log_bytes(SUPPORT, TURN, metadata_only) == 400_000 * 10 * 1_000


def test_latency_budget_splits_ttft_from_the_last_decode() -> None:
    budget = c.LatencyBudget(
        (c.Stage("net", 0.1), c.Stage("prefill", 0.2), c.Stage("decode", 3.0)), slo_s=0.5
    )
    assert budget.total == pytest.approx(3.3)
    assert budget.ttft == pytest.approx(0.3)
    assert budget.within_slo
    assert not c.LatencyBudget(budget.stages, slo_s=0.5, slo_metric="total").within_slo
    assert "within the 0.5 s SLO" in budget.to_markdown()
    with pytest.raises(ValueError, match="net"):
        c.Stage("net", -1)


def test_agent_calls_are_on_the_critical_path() -> None:
    hosting = c.SelfHosting(QWEN3_8B, H100_SXM)
    one = c.estimate("a", SUPPORT, TURN, models=["gpt-5-mini"], hosting=hosting)
    three = c.estimate(
        "b", SUPPORT, c.TokenProfile(3_000, 300, llm_calls=3), models=["gpt-5-mini"],
        hosting=hosting,
    )  # fmt: skip
    assert three.latency.stages[0].name == "2 LLM calls before the answer"
    assert three.latency.total > 2.5 * one.latency.total


def test_estimate_renders_every_number_as_a_table() -> None:
    e = c.estimate(
        "support",
        SUPPORT,
        TURN,
        models=["gpt-5-mini", "claude-haiku-4-5"],
        hosting=c.SelfHosting(QWEN3_8B, H100_SXM),
        index=c.VectorIndex(200_000, 768),
        stages=[c.Stage("retrieve", 0.05)],
    )
    table = e.to_markdown()
    assert table == e._repr_markdown_()
    assert table.startswith("| Quantity | Estimate |\n|:--|:--|")
    assert "| Requests per day | 400,000 |" in table
    assert "\\$540/day, \\$16,200/month" in table  # gpt-5-mini
    assert "6 GPUs" in table
    assert e.cheapest_api.model == "gpt-5-mini"
    assert (
        e.api_option("claude-haiku-4-5").per_month == 30 * e.api_option("claude-haiku-4-5").per_day
    )
    with pytest.raises(ValueError, match="gpt-9"):
        e.api_option("gpt-9")
    with pytest.raises(ValueError, match="support"):
        c.estimate("support", SUPPORT, TURN, models=[])


def test_money_and_bytes_formatting() -> None:
    assert c.usd(1234.5) == "\\$1,234"
    assert c.usd(Decimal("3.456"), markdown=False) == "$3.46"
    assert c.usd(Decimal("0.00645"), markdown=False) == "$0.0065"  # a per-request price
    assert c.gb(16.8e9) == "16.8 GB"
    assert c.gb(2.3e12) == "2.3 TB"
