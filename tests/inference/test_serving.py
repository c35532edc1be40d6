"""Serving simulator: hand-checked step times and schedules on two requests, determinism,
every request finishing, and the policy comparisons the chapter draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmprep.foundations.hardware import H100_SXM
from llmprep.foundations.model_shapes import LLAMA_3_1_8B
from llmprep.inference.serving import (
    Request,
    ServerConfig,
    SimResult,
    StepCostModel,
    fixed,
    goodput,
    lognormal,
    percentiles,
    poisson_requests,
    request_throughput,
    simulate,
    slo_attainment,
    throughput,
    uniform,
)
from llmprep.production.capacity import decode_step_seconds, prefill_flops

# round numbers: 100 tokens/s of compute, 100 bytes/s of memory, 10 bytes of weights,
# 1 byte of KV per cached token, no attention FLOPs
TOY = StepCostModel(
    weight_bytes=10.0,
    kv_bytes_per_token=1.0,
    flops_per_token=1.0,
    attn_flops_coeff=0.0,
    flops_per_s=100.0,
    bytes_per_s=100.0,
)
LLAMA = StepCostModel.from_shape(LLAMA_3_1_8B, H100_SXM)


def test_step_time_by_hand() -> None:
    # two decodes on 4 and 2 cached tokens: memory (10 + 5 + 3) / 100 beats compute 2 / 100
    assert TOY.step_seconds([4, 2]) == pytest.approx(0.18)
    # a 300-token prompt: memory (10 + 300) / 100 = 3.1 s still beats compute 300 / 100 = 3 s
    assert TOY.step_seconds(prefill_chunks=[(0, 300)]) == pytest.approx(3.1)
    # with 10x the bandwidth and 2 FLOPs per token, compute wins: 600 / 100 = 6 s
    compute_bound = StepCostModel(10.0, 1.0, 2.0, 0.0, 100.0, 1000.0)
    assert compute_bound.step_seconds(prefill_chunks=[(0, 300)]) == pytest.approx(6.0)
    # the attention term: a chunk of 3 after 2 cached tokens adds (5^2 - 2^2) = 21 units
    attn = StepCostModel(0.0, 0.0, 0.0, 1.0, 1.0, 1.0, overhead_s=0.5)
    assert attn.step_seconds(prefill_chunks=[(2, 3)]) == pytest.approx(21.5)
    assert attn.step_seconds([9]) == pytest.approx(0.5 + 19)  # decode: 10^2 - 9^2


def test_from_shape_agrees_with_the_capacity_calculators() -> None:
    for n in (1, 512, 4000):
        chunk_flops = LLAMA.flops_per_token * n + LLAMA.attn_flops_coeff * n**2
        assert chunk_flops == pytest.approx(prefill_flops(LLAMA_3_1_8B, n))
    # one decode on an empty context: the weights over the achieved bandwidth
    reference = decode_step_seconds(LLAMA_3_1_8B, H100_SXM, batch=1, context=0)
    assert LLAMA.step_seconds([0]) == pytest.approx(reference, rel=1e-4)
    assert LLAMA.step_seconds([0]) == pytest.approx(15.0e9 / (3.35e12 * 0.7), rel=0.01)


def _two(b_arrival: float) -> list[Request]:
    return [Request(0, 0.0, 4, 3), Request(1, b_arrival, 2, 2)]


def test_two_requests_continuous_by_hand() -> None:
    r = simulate(_two(0.0), TOY, ServerConfig())
    # step 1 prefills both (kv 6): 0.16; step 2 decodes both (kv 5 + 3): 0.18 -> B done;
    # step 3 decodes A (kv 6): 0.16 -> A done
    np.testing.assert_allclose(r.step_end, [0.16, 0.34, 0.50])
    np.testing.assert_allclose(r.ttft, [0.16, 0.16])
    np.testing.assert_allclose(r.tpot, [0.17, 0.18])
    np.testing.assert_allclose(r.e2e, [0.50, 0.34])
    assert list(r.step_decodes) == [0, 2, 1]
    assert list(r.step_prefill_tokens) == [6, 0, 0]


def test_two_requests_static_vs_continuous_by_hand() -> None:
    static = simulate(_two(0.1), TOY, ServerConfig("static"))
    # A alone: prefill 0.14, decodes 0.15 and 0.16 -> 0.45; only then B: 0.12 and 0.13
    np.testing.assert_allclose(static.step_end, [0.14, 0.29, 0.45, 0.57, 0.70])
    assert static.ttft[1] == pytest.approx(0.47)
    cont = simulate(_two(0.1), TOY, ServerConfig())
    # B joins A's first decode step: (10 + 5 + 2) / 100 = 0.17, then both decode: 0.19
    np.testing.assert_allclose(cont.step_end, [0.14, 0.31, 0.50])
    assert cont.ttft[1] == pytest.approx(0.21)
    assert cont.finish[1] == pytest.approx(0.50)


def test_chunked_prefill_by_hand() -> None:
    # budget 3: the 4-token prompt goes in as 3 + 1; the first token comes with the 2nd chunk
    r = simulate([Request(0, 0.0, 4, 2)], TOY, ServerConfig(chunked_prefill=True, token_budget=3))
    # chunk (0, 3): kv 3 -> 0.13; chunk (3, 1): kv 4 -> 0.14; decode on 4 cached: 0.15
    np.testing.assert_allclose(r.step_end, [0.13, 0.27, 0.42])
    assert list(r.step_prefill_tokens) == [3, 1, 0]
    assert r.ttft[0] == pytest.approx(0.27)


def test_kv_cap_of_one_request_serializes_everything() -> None:
    reqs = [Request(i, 0.0, 10, 5) for i in range(4)]
    r = simulate(reqs, TOY, ServerConfig(kv_capacity_tokens=15))
    assert all(r.first_token[i] >= r.finish[i - 1] for i in range(1, 4))
    unlimited = simulate(reqs, TOY, ServerConfig())
    assert unlimited.finish.max() < r.finish.max()
    with pytest.raises(ValueError, match="kv_capacity_tokens"):
        simulate(reqs, TOY, ServerConfig(kv_capacity_tokens=14))


def _workload(rate: float, n: int = 400, seed: int = 3) -> list[Request]:
    return poisson_requests(
        n,
        rate,
        prompt=lognormal(800, 0.8, high=8000),
        output=lognormal(200, 0.7, high=1000),
        seed=seed,
    )


def test_same_seed_same_result() -> None:
    a = simulate(_workload(10), LLAMA, ServerConfig(chunked_prefill=True))
    b = simulate(_workload(10), LLAMA, ServerConfig(chunked_prefill=True))
    np.testing.assert_array_equal(a.finish, b.finish)
    np.testing.assert_array_equal(a.step_end, b.step_end)
    c = simulate(_workload(10, seed=4), LLAMA, ServerConfig(chunked_prefill=True))
    assert not np.array_equal(a.finish, c.finish)


def _check_complete(r: SimResult) -> None:
    assert np.all(np.isfinite(r.finish))
    assert np.all(r.first_token > r.arrival)
    assert np.all(r.finish >= r.first_token)
    # every output token is accounted for: the first by a prefill step, the rest by decodes
    assert int(r.step_decodes.sum()) == int(r.output_tokens.sum()) - len(r.requests)
    assert int(r.step_prefill_tokens.sum()) == sum(q.prompt_tokens for q in r.requests)
    assert np.all(np.diff(r.step_end) > 0)


@pytest.mark.parametrize(
    "config",
    [
        ServerConfig("static", max_batch=16),
        ServerConfig(max_batch=16),
        ServerConfig(max_batch=16, chunked_prefill=True, token_budget=256),
        ServerConfig(max_batch=16, kv_capacity_tokens=20_000),
    ],
)
def test_every_request_finishes(config: ServerConfig) -> None:
    _check_complete(simulate(_workload(8), LLAMA, config))


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.tuples(st.integers(1, 40), st.integers(1, 12)), min_size=1, max_size=12),
    gaps=st.lists(st.floats(0, 0.5), min_size=12, max_size=12),
    policy=st.sampled_from(["static", "continuous", "chunked"]),
    max_batch=st.integers(1, 5),
)
def test_any_small_workload_finishes(
    lengths: list[tuple[int, int]], gaps: list[float], policy: str, max_batch: int
) -> None:
    arrivals = np.cumsum(gaps[: len(lengths)])
    reqs = [
        Request(i, float(a), p, o)
        for i, (a, (p, o)) in enumerate(zip(arrivals, lengths, strict=True))
    ]
    config = ServerConfig(
        "static" if policy == "static" else "continuous",
        max_batch=max_batch,
        chunked_prefill=policy == "chunked",
        token_budget=16,
    )
    _check_complete(simulate(reqs, TOY, config))


def test_continuous_batching_beats_static_at_load() -> None:
    reqs = _workload(15)
    static = simulate(reqs, LLAMA, ServerConfig("static"))
    cont = simulate(reqs, LLAMA, ServerConfig())
    assert throughput(cont) > 1.3 * throughput(static)
    assert percentiles(cont.ttft)[50] < percentiles(static.ttft)[50]


def test_light_load_throughput_is_the_arrival_rate_for_both() -> None:
    reqs = _workload(2)
    static = simulate(reqs, LLAMA, ServerConfig("static"))
    cont = simulate(reqs, LLAMA, ServerConfig())
    assert throughput(cont) >= throughput(static) * 0.99
    assert request_throughput(cont) == pytest.approx(2.0, rel=0.15)


def test_chunked_prefill_lowers_p99_tpot_for_long_prompts() -> None:
    reqs = poisson_requests(300, 6, prompt=uniform(3000, 8000), output=fixed(150), seed=5)
    plain = simulate(reqs, LLAMA, ServerConfig())
    chunked = simulate(reqs, LLAMA, ServerConfig(chunked_prefill=True, token_budget=512))
    assert percentiles(chunked.tpot)[99] < 0.8 * percentiles(plain.tpot)[99]


def test_goodput_never_exceeds_request_throughput() -> None:
    for rate in (5, 15):
        r = simulate(_workload(rate), LLAMA, ServerConfig())
        rps = request_throughput(r)
        for ttft_slo, tpot_slo in ((0.2, 0.02), (1.0, 0.05), (1e9, 1e9)):
            good = goodput(r, ttft_slo=ttft_slo, tpot_slo=tpot_slo)
            assert good <= rps + 1e-12
            share = slo_attainment(r, ttft_slo=ttft_slo, tpot_slo=tpot_slo)
            assert good == pytest.approx(share * rps)
        assert goodput(r, ttft_slo=1e9, tpot_slo=1e9) == pytest.approx(rps)


def test_one_token_answers_have_no_tpot_and_meet_any_tpot_slo() -> None:
    r = simulate([Request(0, 0.0, 5, 1)], TOY, ServerConfig())
    assert np.isnan(r.tpot[0])
    assert r.finish[0] == r.first_token[0]
    assert slo_attainment(r, ttft_slo=1.0, tpot_slo=1e-9) == 1.0


def test_poisson_arrivals_and_lengths() -> None:
    reqs = poisson_requests(5000, 4.0, prompt=uniform(10, 20), output=fixed(7), seed=0)
    gaps = np.diff([q.arrival for q in reqs])
    assert reqs[0].arrival == 0.0
    assert gaps.mean() == pytest.approx(0.25, rel=0.05)
    assert gaps.std() == pytest.approx(0.25, rel=0.05)  # exponential: std = mean
    assert {q.output_tokens for q in reqs} == {7}
    assert min(q.prompt_tokens for q in reqs) == 10
    assert max(q.prompt_tokens for q in reqs) == 20
    skewed = lognormal(100, 1.0, high=300)(np.random.default_rng(0), 10_000)
    assert np.median(skewed) == pytest.approx(100, rel=0.05)
    assert skewed.max() == 300


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="policy"):
        ServerConfig("greedy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunked_prefill"):
        ServerConfig("static", chunked_prefill=True)
    with pytest.raises(ValueError, match="max_batch"):
        ServerConfig(max_batch=0)
    with pytest.raises(ValueError, match="rate"):
        poisson_requests(3, 0.0, prompt=fixed(1), output=fixed(1))
    with pytest.raises(ValueError, match="request 0"):
        simulate([Request(0, 0.0, 0, 3)], TOY)
    with pytest.raises(ValueError, match="empty"):
        simulate([], TOY)
    with pytest.raises(ValueError, match="SLOs"):
        goodput(simulate([Request(0, 0.0, 1, 1)], TOY), ttft_slo=0.0, tpot_slo=1.0)
    with pytest.raises(ValueError, match="mfu"):
        StepCostModel.from_shape(LLAMA_3_1_8B, H100_SXM, mfu=0.0)
    with pytest.raises(ValueError, match="contexts"):
        TOY.step_seconds([-1])


def test_from_shape_applies_mfu_and_bandwidth_efficiency() -> None:
    assert LLAMA.flops_per_s == pytest.approx(H100_SXM.flops_per_s("bf16") * 0.5)
    assert LLAMA.bytes_per_s == pytest.approx(H100_SXM.bandwidth_bytes_per_s * 0.7)
    slow = StepCostModel.from_shape(LLAMA_3_1_8B, H100_SXM, mfu=0.25, bandwidth_efficiency=0.35)
    assert slow.flops_per_s == pytest.approx(LLAMA.flops_per_s / 2)
    assert slow.bytes_per_s == pytest.approx(LLAMA.bytes_per_s / 2)
    # half the bandwidth doubles a memory-bound decode step (no overhead here)
    assert slow.step_seconds([0]) == pytest.approx(2 * LLAMA.step_seconds([0]))


def test_chunked_steps_never_exceed_the_budget_even_with_a_larger_max_batch() -> None:
    # decodes are never deferred, but a prompt only starts decoding after a step spent budget
    # on it, so at most `budget` sequences decode at once and no step exceeds the budget
    reqs = [Request(i, 0.01 * i, 1 + i % 3, 30) for i in range(12)]
    budget = 4
    config = ServerConfig(max_batch=12, chunked_prefill=True, token_budget=budget)
    r = simulate(reqs, TOY, config)
    tokens = r.step_decodes + r.step_prefill_tokens
    assert tokens.max() == budget  # the budget is used and never exceeded
    assert r.step_decodes.max() == budget  # max_batch=12 is never reached
    assert np.all(r.step_prefill_tokens[r.step_decodes == budget] == 0)
    unchunked = simulate(reqs, TOY, ServerConfig(max_batch=12))
    assert unchunked.step_decodes.max() > budget


def test_fractional_counts_are_rejected_naming_the_value() -> None:
    with pytest.raises(TypeError, match=r"max_batch.*2.5"):
        ServerConfig(max_batch=2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"token_budget.*100.0"):
        ServerConfig(chunked_prefill=True, token_budget=100.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"length.*2.5"):
        fixed(2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"high.*9.5"):
        uniform(1, 9.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"prompt_tokens.*3.5"):
        simulate([Request(0, 0.0, 3.5, 2)], TOY)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"max_batch.*True"):
        ServerConfig(max_batch=True)
    ServerConfig(max_batch=np.int64(8))  # type: ignore[arg-type]  # numpy integers are fine
