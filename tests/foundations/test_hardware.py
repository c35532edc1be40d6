"""Accelerator table, machine balance and the batch-1 decode bound."""

from __future__ import annotations

import pytest

from llmprep.foundations.hardware import (
    A100_80GB_SXM,
    ACCELERATORS,
    B200,
    H100_SXM,
    H200_SXM,
    MI300X,
    Accelerator,
    decode_bytes_per_token,
    decode_step_ms_lower_bound,
    decode_tokens_per_s_upper_bound,
)
from llmprep.foundations.model_shapes import DEEPSEEK_V3, GPT_OSS_120B, LLAMA_3_1_8B, LLAMA_3_1_70B
from llmprep.foundations.params import param_count, weights_bytes

# The vendors' figures, as the datasheets print them (sparse ones marked): the table in
# hardware.py must reproduce them, dense, with no retyping mistakes.
DATASHEETS = {
    # name: (GB, TB/s, bf16 TFLOPS, fp8 TFLOPS, fp4 TFLOPS, bf16/fp8/fp4 printed with sparsity?)
    "A100 80GB SXM": (80, 2.039, 312, None, None, False),
    "H100 SXM": (80, 3.35, 1979, 3958, None, True),
    "H200 SXM": (141, 4.8, 1979, 3958, None, True),
    "B200": (180, 7.7, 4500, 9000, 18000, True),
    "MI300X": (192, 5.3, 1307.4, 2614.9, None, False),
}


@pytest.mark.parametrize("acc", ACCELERATORS, ids=lambda a: a.name)
def test_table_matches_the_datasheets(acc: Accelerator) -> None:
    gb, tb_s, bf16, fp8, fp4, sparse = DATASHEETS[acc.name]
    factor = 2 if sparse else 1
    assert (acc.hbm_gb, acc.hbm_tb_s) == (gb, tb_s)
    assert acc.bf16_tflops * factor == bf16
    assert (acc.fp8_tflops and acc.fp8_tflops * factor) == fp8
    assert (acc.fp4_tflops and acc.fp4_tflops * factor) == fp4
    assert acc.source.startswith("https://")


def test_h200_is_an_h100_with_more_and_faster_memory() -> None:
    assert H200_SXM.bf16_tflops == H100_SXM.bf16_tflops == 989.5
    assert H200_SXM.hbm_gb > H100_SXM.hbm_gb
    assert H200_SXM.hbm_tb_s > H100_SXM.hbm_tb_s


def test_machine_balance() -> None:
    assert H100_SXM.machine_balance() == pytest.approx(989.5 / 3.35)  # about 295 FLOPs/byte
    assert round(H100_SXM.machine_balance()) == 295
    assert round(A100_80GB_SXM.machine_balance()) == 153
    assert H100_SXM.machine_balance("fp8") == pytest.approx(2 * H100_SXM.machine_balance())
    assert B200.machine_balance("fp4") == pytest.approx(9000 / 7.7)
    assert MI300X.machine_balance() == pytest.approx(1307.4 / 5.3)


def test_missing_formats_raise() -> None:
    with pytest.raises(ValueError, match="no fp8 tensor cores"):
        A100_80GB_SXM.flops_per_s("fp8")
    with pytest.raises(ValueError, match="no fp4 tensor cores"):
        H100_SXM.machine_balance("fp4")


def test_llama_8b_decode_bound_on_an_h100() -> None:
    # active weights without the input embedding table: 8,030,261,248 - 128256 x 4096
    weights = (8_030_261_248 - 128_256 * 4096) * 2
    assert decode_bytes_per_token(LLAMA_3_1_8B) == weights == 15_009_849_344
    rate = decode_tokens_per_s_upper_bound(weights, H100_SXM)
    assert rate == pytest.approx(3.35e12 / weights)
    assert round(rate) == 223


def test_decode_bytes_include_the_kv_cache() -> None:
    with_cache = decode_bytes_per_token(LLAMA_3_1_8B, context=131_072)
    assert with_cache - decode_bytes_per_token(LLAMA_3_1_8B) == 16 * 1024**3
    fp8 = decode_bytes_per_token(DEEPSEEK_V3, weight_bits=8, context=0)
    assert fp8 == pytest.approx(36.63e9, rel=1e-3)  # one token's experts at one byte each


def test_70b_across_four_h100s_matches_the_review() -> None:
    # review 5.5: 141 GB of bf16 weights over 4 x 3.35 TB/s -> about 10.5 ms a step
    weights = weights_bytes(param_count(LLAMA_3_1_70B), 16)
    step = decode_step_ms_lower_bound(weights, H100_SXM, n_devices=4)
    assert step == pytest.approx(10.5, abs=0.05)
    assert decode_tokens_per_s_upper_bound(weights, H100_SXM, n_devices=4) <= 95


def test_bound_scales_with_devices_and_bandwidth() -> None:
    b = decode_bytes_per_token(GPT_OSS_120B, weight_bits=4.25)
    one = decode_tokens_per_s_upper_bound(b, H100_SXM)
    assert decode_tokens_per_s_upper_bound(b, H100_SXM, n_devices=2) == pytest.approx(2 * one)
    assert decode_tokens_per_s_upper_bound(b, H200_SXM) / one == pytest.approx(4.8 / 3.35)
    with pytest.raises(ValueError, match="bytes_per_token"):
        decode_tokens_per_s_upper_bound(0, H100_SXM)
    with pytest.raises(ValueError, match="n_devices"):
        decode_tokens_per_s_upper_bound(b, H100_SXM, n_devices=0)
