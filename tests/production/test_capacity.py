"""The self-hosting arithmetic in `llmprep.production.capacity`, tested where it now lives:
hand-computed prefill and decode cases, monotonicity in batch, bandwidth and prices, and the
re-export from the production guide's figures module (the same objects, not copies)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.foundations.hardware import A100_80GB_SXM, H100_SXM
from llmprep.foundations.model_shapes import LLAMA_3_1_8B, QWEN3_8B
from llmprep.production import capacity as c
from llmprep.production.figures import guide


def test_the_guide_reexports_the_same_objects() -> None:
    names = (
        "Workload",
        "prefill_flops",
        "decode_step_seconds",
        "gpu_seconds_per_request",
        "self_hosted_cost_per_day",
        "break_even_requests_per_day",
    )
    for name in names:
        assert getattr(guide, name) is getattr(c, name)


def test_prefill_flops_hand_computed() -> None:
    # Llama-3.1-8B: 2 x 7.50e9 non-embedding weights x 2,000 tokens = 3.0e13, plus attention
    # 2 x 32 layers x 2000^2 x 4096 = 1.05e12: 3.107e13 in all.
    assert c.prefill_flops(LLAMA_3_1_8B, 2000) == pytest.approx(3.107e13, rel=1e-3)
    assert c.prefill_flops(LLAMA_3_1_8B, 0) == 0.0
    with pytest.raises(ValueError, match="-1"):
        c.prefill_flops(LLAMA_3_1_8B, -1)


def test_decode_step_hand_computed() -> None:
    # Qwen3-8B, batch 64, context 1,150: 15.14 GB of weights + 64 x 1,150 x 147,456 B of KV
    # cache over 0.7 x 3.35e12 B/s = 11.08 ms.
    step = c.decode_step_seconds(QWEN3_8B, H100_SXM, batch=64, context=1150)
    assert step == pytest.approx(0.01108, rel=5e-3)
    with pytest.raises(ValueError, match="0"):
        c.decode_step_seconds(QWEN3_8B, H100_SXM, batch=0, context=10)
    with pytest.raises(ValueError, match=r"1\.5"):
        c.decode_step_seconds(QWEN3_8B, H100_SXM, batch=1, context=10, bandwidth_efficiency=1.5)


def test_gpu_seconds_per_request_hand_computed() -> None:
    work = c.Workload(input_tokens=1000, output_tokens=300)
    sec = c.gpu_seconds_per_request(QWEN3_8B, H100_SXM, work, batch=64)
    assert sec == pytest.approx(0.0312 + 0.0519, rel=5e-3)


def test_decode_scales_with_bandwidth() -> None:
    fast = c.decode_step_seconds(QWEN3_8B, H100_SXM, batch=1, context=2000)
    slow = c.decode_step_seconds(QWEN3_8B, A100_80GB_SXM, batch=1, context=2000)
    assert slow / fast == pytest.approx(3.35 / 2.039)


@given(st.integers(1, 255), st.integers(1, 255))
def test_larger_batch_means_less_gpu_time_per_request(a: int, b: int) -> None:
    small, large = sorted((a, b))
    work = c.Workload(input_tokens=500, output_tokens=200)
    t_small = c.gpu_seconds_per_request(QWEN3_8B, H100_SXM, work, batch=small)
    t_large = c.gpu_seconds_per_request(QWEN3_8B, H100_SXM, work, batch=large)
    assert t_large <= t_small


def test_self_hosted_bill_is_a_staircase_with_a_floor() -> None:
    def bill(volume: float) -> float:
        return c.self_hosted_cost_per_day(
            volume, requests_per_gpu_day=1000.0, gpu_hour_usd=1.0, min_gpus=2
        )

    assert bill(0) == bill(2000) == 48
    assert bill(2001) == 72
    with pytest.raises(ValueError, match="-1"):
        c.self_hosted_cost_per_day(1, requests_per_gpu_day=1, gpu_hour_usd=-1)


def test_break_even_hand_computed_and_none_when_the_api_is_cheaper() -> None:
    # Two GPUs at $2/h are $96 a day; at $0.001 a request the API costs that at 96,000/day.
    be = c.break_even_requests_per_day(0.001, requests_per_gpu_day=1e5, gpu_hour_usd=2.0)
    assert be == pytest.approx(96_000)
    # A GPU-day ($48) serving 100,000 requests is $0.00048 each: dearer than $0.0004.
    assert c.break_even_requests_per_day(0.0004, requests_per_gpu_day=1e5, gpu_hour_usd=2) is None
    with pytest.raises(ValueError, match="0"):
        c.break_even_requests_per_day(0, requests_per_gpu_day=1e5, gpu_hour_usd=2)
