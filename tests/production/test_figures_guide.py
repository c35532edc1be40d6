"""The production guide's models behave as the chapter says: jitter spreads a retry herd and
serves more of it, caching pays only above its break-even hit rate, a cascade stops paying at
1 - small/large, fan-out makes the tail common, hedging trims it, and the self-hosting
break-even moves the right way with each price."""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.pricing import PRICES
from llmprep.foundations.hardware import H100_SXM
from llmprep.foundations.model_shapes import QWEN3_8B
from llmprep.production.figures import guide as g
from llmprep.production.retry import RetryPolicy, backoff_delay


def no_jitter(attempt: int, rng: random.Random) -> float:
    return min(20.0, 0.5 * 2.0 ** (attempt - 1))


def full_jitter(attempt: int, rng: random.Random) -> float:
    return rng.uniform(0.0, no_jitter(attempt, rng))


# -- retries ------------------------------------------------------------------------------


def test_without_jitter_every_retry_wave_lands_in_one_slot() -> None:
    r = g.simulate_herd(1000, no_jitter, capacity_per_s=200, slot=0.1, max_attempts=5)
    # Waves at 0, 0.5, 1.5, 3.5 and 7.5 s; each serves one slot's capacity (20).
    assert sorted({round(float(t), 6) for t in r.times}) == [0.0, 0.5, 1.5, 3.5, 7.5]
    assert r.served == 5 * 20
    assert r.success_rate == pytest.approx(0.1)


def test_full_jitter_spreads_the_herd_and_serves_more_of_it_with_fewer_attempts() -> None:
    herd = g.simulate_herd(1000, no_jitter, capacity_per_s=200, max_attempts=5, seed=1)
    spread = g.simulate_herd(1000, full_jitter, capacity_per_s=200, max_attempts=5, seed=1)
    assert spread.success_rate > 2 * herd.success_rate
    assert spread.attempts_per_client < herd.attempts_per_client
    # After the first burst, no slot sees anything like the synchronized wave.
    assert spread.per_slot(10.0)[1:].max() < herd.per_slot(10.0)[1:].max() / 2


def test_the_simulation_runs_on_the_retry_modules_backoff_delay() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=20.0, jitter="none")
    r = g.simulate_herd(100, lambda n, rng: backoff_delay(policy, n, rng), capacity_per_s=100)
    ours = g.simulate_herd(100, no_jitter, capacity_per_s=100)
    assert r.served == ours.served
    np.testing.assert_allclose(np.sort(r.times), np.sort(ours.times))


def test_a_server_with_room_for_everyone_serves_everyone_at_once() -> None:
    r = g.simulate_herd(50, full_jitter, capacity_per_s=1000, slot=0.1)
    assert r.success_rate == 1.0
    assert r.attempts_per_client == 1.0
    assert r.finished_at == 0.0


@given(st.integers(1, 300), st.integers(1, 6), st.integers(0, 10**6))
def test_served_never_exceeds_capacity_in_any_slot(clients: int, attempts: int, seed: int) -> None:
    r = g.simulate_herd(
        clients, full_jitter, capacity_per_s=50, slot=0.1, max_attempts=attempts, seed=seed
    )
    slots = np.floor(r.times[r.accepted] / r.slot).astype(int)
    assert np.bincount(slots).max(initial=0) <= r.capacity_per_slot
    assert r.served <= clients
    assert len(r.times) <= clients * attempts


def test_herd_rejects_bad_input_and_negative_waits() -> None:
    with pytest.raises(ValueError, match="clients"):
        g.simulate_herd(0, no_jitter, capacity_per_s=1)
    with pytest.raises(ValueError, match="negative"):
        g.simulate_herd(10, lambda n, rng: -1.0, capacity_per_s=1)


def test_herd_figure_has_one_panel_per_policy() -> None:
    runs = {
        name: g.simulate_herd(200, fn, capacity_per_s=100)
        for name, fn in (("none", no_jitter), ("full", full_jitter))
    }
    fig = g.herd_figure(runs, horizon=8.0)
    assert len(fig.axes) == 2
    assert "served" in fig.axes[0].get_title(loc="left")


# -- prompt caching -----------------------------------------------------------------------


def test_cache_cost_ratio_matches_the_hand_computed_case() -> None:
    assert g.cached_input_cost_ratio(0.9, 0.8, read=0.1, write=1.25) == pytest.approx(0.397)
    assert g.cached_input_cost_ratio(0.0, 0.5, read=0.1, write=1.25) == 1.0


@given(st.floats(0.05, 1.0), st.floats(0.0, 1.0))
def test_caching_pays_exactly_above_the_break_even_hit_rate(share: float, hit: float) -> None:
    read, write = 0.1, 1.25
    h_star = g.cache_break_even_hit_rate(read=read, write=write)
    ratio = g.cached_input_cost_ratio(share, hit, read=read, write=write)
    if hit > h_star + 1e-9:
        assert ratio < 1.0
    elif hit < h_star - 1e-9:
        assert ratio > 1.0


def test_free_writes_mean_caching_never_costs_more() -> None:
    assert g.cache_break_even_hit_rate(read=0.1, write=1.0) == 0.0
    assert g.cache_break_even_hit_rate(read=0.1, write=2.0) == pytest.approx(1 / 1.9)


def test_cache_ratio_rejects_shares_outside_zero_one() -> None:
    with pytest.raises(ValueError, match="hit_rate"):
        g.cached_input_cost_ratio(0.5, 1.5, read=0.1, write=1.25)


def test_cache_figure_draws_one_line_per_hit_rate_per_scheme() -> None:
    fig = g.prompt_cache_savings_figure({"a": (0.1, 1.25), "b": (0.1, 1.0)}, [0.2, 0.9])
    assert [len(ax.lines) for ax in fig.axes] == [3, 3]  # two hit rates and the zero line


# -- routing ------------------------------------------------------------------------------

SMALL, LARGE = PRICES["claude-haiku-4-5"], PRICES["claude-opus-4-5"]
WORK = g.Workload(2000, 400)


def test_strategy_costs_match_the_price_table() -> None:
    assert g.strategy_cost("always small", SMALL, LARGE, WORK, 0.3) == Decimal("0.004")
    assert g.strategy_cost("always large", SMALL, LARGE, WORK, 0.3) == Decimal("0.02")
    assert g.strategy_cost("cascade", SMALL, LARGE, WORK, 0.3) == Decimal("0.010")


@given(st.floats(0.0, 1.0))
def test_a_cascade_pays_the_small_call_again_for_every_escalation(share: float) -> None:
    cascade = g.strategy_cost("cascade", SMALL, LARGE, WORK, share)
    router = g.strategy_cost("router", SMALL, LARGE, WORK, share)
    small = g.strategy_cost("always small", SMALL, LARGE, WORK, share)
    assert cascade >= small
    # The router pays a classification call on every request; the cascade pays a wasted
    # small answer on every escalated one: cascade - router = f * small - classification.
    route = SMALL.cost(WORK.input_tokens, WORK.router_output_tokens)
    assert float(cascade - router) == pytest.approx(share * float(small) - float(route))


def test_cascade_break_even_is_one_minus_the_price_ratio() -> None:
    f = g.cascade_break_even(SMALL, LARGE, WORK)
    assert f == pytest.approx(0.8)
    at = g.strategy_cost("cascade", SMALL, LARGE, WORK, f)
    assert float(at) == pytest.approx(float(LARGE.cost(2000, 400)))


def test_unknown_strategy_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="'oracle'"):
        g.strategy_cost("oracle", SMALL, LARGE, WORK, 0.5)


def test_routing_figure_draws_four_strategies() -> None:
    fig = g.routing_cost_figure(SMALL, LARGE, WORK)
    assert len(fig.axes[0].lines) == 5  # four strategies and the break-even point


# -- tail latency -------------------------------------------------------------------------


def test_fan_out_makes_the_tail_the_common_case() -> None:
    assert g.p_any_slow(0.01, 1) == pytest.approx(0.01)
    assert g.p_any_slow(0.01, 100) == pytest.approx(1 - 0.99**100)
    values = [g.p_any_slow(0.05, n) for n in range(60)]
    assert values == sorted(values)
    assert values[0] == 0.0


def test_hedging_never_slows_a_request_and_costs_the_share_slower_than_the_hedge() -> None:
    lat = g.synthetic_latencies(20_000, seed=1)
    backup = g.synthetic_latencies(20_000, seed=2)
    after = float(np.percentile(lat, 95))
    h = g.hedge(lat, backup, after)
    assert np.all(h.latencies <= lat)
    assert h.extra_calls == pytest.approx(0.05, abs=0.002)
    assert np.percentile(h.latencies, 99) < 0.7 * np.percentile(lat, 99)
    assert np.percentile(h.latencies, 50) == pytest.approx(np.percentile(lat, 50))


def test_an_earlier_hedge_costs_more_calls() -> None:
    lat = g.synthetic_latencies(5000, seed=3)
    backup = g.synthetic_latencies(5000, seed=4)
    early = g.hedge(lat, backup, float(np.percentile(lat, 50)))
    late = g.hedge(lat, backup, float(np.percentile(lat, 95)))
    assert early.extra_calls > late.extra_calls


def test_tail_figure_has_two_panels() -> None:
    lat = g.synthetic_latencies(1000)
    fig = g.tail_latency_figure([0.01], lat, {"hedge": g.hedge(lat, lat[::-1].copy(), 1.5)})
    assert len(fig.axes) == 2


# -- self-hosting -------------------------------------------------------------------------


def test_self_hosting_figure_draws_every_line() -> None:
    fig = g.self_hosting_figure(
        {"m": 0.002}, [2.0, 4.0], requests_per_gpu_day=1e5, volumes=np.logspace(3, 7, 20)
    )
    assert len(fig.axes[0].lines) == 3


# -- streaming ----------------------------------------------------------------------------


def test_a_cached_prefix_shortens_the_prefill_and_not_the_decode() -> None:
    cold = g.stream_timeline(QWEN3_8B, H100_SXM, prompt_tokens=32_000, output_tokens=300)
    warm = g.stream_timeline(
        QWEN3_8B, H100_SXM, prompt_tokens=32_000, cached_tokens=30_000, output_tokens=300
    )
    assert warm.prefill < cold.prefill / 5
    assert warm.decode == cold.decode
    assert warm.ttft < cold.ttft < cold.total


def test_streaming_timeline_rejects_a_cache_longer_than_the_prompt() -> None:
    with pytest.raises(ValueError, match="cached_tokens"):
        g.stream_timeline(
            QWEN3_8B, H100_SXM, prompt_tokens=100, cached_tokens=200, output_tokens=10
        )


def test_stream_figure_marks_ttft_for_every_scenario() -> None:
    t = g.stream_timeline(QWEN3_8B, H100_SXM, prompt_tokens=2000, output_tokens=300)
    fig = g.stream_timeline_figure({"a": t, "b": t})
    texts = [x.get_text() for x in fig.axes[0].texts]
    assert len(texts) == 2
    assert all("TTFT" in x for x in texts)
