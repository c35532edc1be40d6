"""Late-2026 shapes: MoE and MLA parameter counts, windowed and latent KV caches, quantized sizes.

Expected values are either hand-computed from the configs (the arithmetic is spelled out) or
the publishers' own figures, with the tolerance stated next to each.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.foundations import moe
from llmprep.foundations.kv_cache import (
    KV_BF16,
    KV_CACHE_FORMATS,
    KV_FP8,
    KV_INT4,
    KVCacheFormat,
    cached_tokens_per_layer,
    compare_attention_variants,
    kv_bytes_per_token,
    kv_cache_bytes,
    kv_cache_bytes_for_context,
    kv_elements_per_token_per_layer,
    max_concurrent_sequences,
    mla_decompressed_kv_bytes_per_token,
)
from llmprep.foundations.model_shapes import (
    DEEPSEEK_V3,
    GPT_OSS_120B,
    LLAMA_3_1_8B,
    LLAMA_3_1_70B,
    MISTRAL_7B,
    MODEL_SHAPES,
    QWEN2_5_7B,
    QWEN3_8B,
    QWEN3_235B_A22B,
    SHAPES_2026,
    ModelShape,
    MoEConfig,
)
from llmprep.foundations.params import (
    GB,
    GIB,
    active_params,
    detailed_param_breakdown,
    ffn_share_of_layer,
    group_scale_bits,
    param_breakdown,
    param_count,
    quantized_checkpoint_size,
    weights_bytes,
)

KIB, MIB = 1024, 1024**2

# -----------------------------------------------------------------------------
# shapes: the configs, number by number


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        (
            DEEPSEEK_V3,
            {"n_layers": 61, "d_model": 7168, "n_heads": 128, "d_ff": 18432, "vocab_size": 129280},
        ),
        (
            GPT_OSS_120B,
            {
                "n_layers": 36,
                "d_model": 2880,
                "n_heads": 64,
                "n_kv_heads": 8,
                "head_dim": 64,
                "vocab_size": 201088,
                "sliding_window": 128,
                "tied_embeddings": False,
            },
        ),
        (
            QWEN3_235B_A22B,
            {"n_layers": 94, "d_model": 4096, "n_heads": 64, "n_kv_heads": 4, "head_dim": 128},
        ),
        (
            QWEN3_8B,
            {"n_layers": 36, "d_model": 4096, "n_heads": 32, "n_kv_heads": 8, "d_ff": 12288},
        ),
    ],
    ids=lambda v: v.name if isinstance(v, ModelShape) else "",
)
def test_new_shapes_carry_their_configs(shape: ModelShape, expected: dict[str, object]) -> None:
    for field, value in expected.items():
        assert getattr(shape, field) == value, field
    assert shape.source


def test_deepseek_v3_mla_and_moe_fields() -> None:
    mla, m = DEEPSEEK_V3.mla, DEEPSEEK_V3.moe
    assert mla is not None
    assert m is not None
    assert (mla.q_lora_rank, mla.kv_lora_rank) == (1536, 512)
    assert (mla.qk_rope_head_dim, mla.qk_nope_head_dim, mla.v_head_dim) == (64, 128, 128)
    assert mla.cached_dim == 576
    assert mla.qk_head_dim == 192 == DEEPSEEK_V3.head_dim
    assert (m.n_routed_experts, m.n_shared_experts, m.top_k) == (256, 1, 8)
    assert (m.d_expert, m.n_dense_layers) == (2048, 3)
    assert DEEPSEEK_V3.n_moe_layers == 58


def test_moe_fields_of_gpt_oss_and_qwen3() -> None:
    assert GPT_OSS_120B.moe == MoEConfig(128, 4, 2880, router_bias=True, expert_bias=True)
    assert QWEN3_235B_A22B.moe == MoEConfig(128, 8, 1536)
    assert QWEN3_235B_A22B.n_moe_layers == 94
    assert QWEN3_8B.n_moe_layers == 0


def test_gpt_oss_alternates_banded_and_full_layers_starting_banded() -> None:
    kinds = GPT_OSS_120B.layer_kinds
    assert kinds[:4] == ("local", "global", "local", "global")
    assert kinds.count("local") == kinds.count("global") == 18


def test_layer_kinds_default_from_the_window() -> None:
    assert MISTRAL_7B.layer_kinds == ("local",) * 32  # config: sliding_window 4096, all layers
    assert LLAMA_3_1_8B.layer_kinds == ("global",) * 32
    assert MISTRAL_7B.sliding_window == 4096


def test_shape_validation() -> None:
    with pytest.raises(ValueError, match="layer_pattern has 2 entries"):
        replace(LLAMA_3_1_8B, sliding_window=8, layer_pattern=("local", "global"))
    with pytest.raises(ValueError, match="need a sliding_window"):
        replace(LLAMA_3_1_8B, layer_pattern=("local",) * 32)
    with pytest.raises(ValueError, match="top_k"):
        replace(LLAMA_3_1_8B, moe=MoEConfig(4, 5, 16))


def test_the_chapter_tuple_is_unchanged() -> None:
    assert MODEL_SHAPES == (LLAMA_3_1_8B, MISTRAL_7B, QWEN2_5_7B, LLAMA_3_1_70B)
    assert len(SHAPES_2026) == 4
    assert not set(SHAPES_2026) & set(MODEL_SHAPES)


# -----------------------------------------------------------------------------
# parameters: total and active


def test_deepseek_v3_total_is_671b_by_hand() -> None:
    d, v = 7168, 129280
    mla = (
        d * 1536  # W_DQ: queries down to q_lora_rank
        + 1536  # its RMSNorm
        + 1536 * 128 * 192  # W_UQ: up to 128 heads of 128 + 64
        + d * (512 + 64)  # W_DKV plus the shared rotary key
        + 512  # the latent's RMSNorm
        + 512 * 128 * (128 + 128)  # W_UK and W_UV
        + 128 * 128 * d  # W_O
    )
    expert = 3 * d * 2048
    router = 256 * d + 256  # gate weight and its balancing bias
    total = 2 * v * d + 61 * (mla + 2 * d) + d + 3 * (3 * d * 18432) + 58 * (257 * expert + router)
    assert param_count(DEEPSEEK_V3) == detailed_param_breakdown(DEEPSEEK_V3).total == total
    assert total == 671_026_419_200
    assert total == pytest.approx(671e9, rel=1e-3)  # README / arXiv:2412.19437: 671B


def test_deepseek_v3_active_is_about_37b() -> None:
    # Published: "37B activated" (README), 36.7B "including 0.9B for Embedding and 0.9B for the
    # output Head" (README_WEIGHTS.md). We get 37.55B counting the embedding and 36.63B
    # without: the published 36.7B matches the count without it to 0.2%, and we cannot
    # reproduce DeepSeek's own split; both are within 2% of "37B".
    with_embedding = active_params(DEEPSEEK_V3)
    without = active_params(DEEPSEEK_V3, count_embedding=False)
    assert with_embedding - without == 129280 * 7168
    assert with_embedding == pytest.approx(37e9, rel=0.02)
    assert without == pytest.approx(36.7e9, rel=0.005)
    assert without == pytest.approx(37e9, rel=0.02)


def test_gpt_oss_120b_is_117b_total_5_1b_active() -> None:
    d, v = 2880, 201088
    attention = d * 64 * 64 + 64 * 64 + 2 * (d * 8 * 64 + 8 * 64)  # q, k, v with biases
    attention += 64 * 64 * d + d + 64  # out projection with bias, one sink per head
    expert = 3 * d * 2880 + 2 * 2880 + d  # gate/up and down matrices, their biases
    router = d * 128 + 128
    layer = attention + 2 * d + router
    total = 2 * v * d + 36 * (layer + 128 * expert) + d
    active = v * d + 36 * (layer + 4 * expert) + d  # no input embedding: the card's convention
    assert param_count(GPT_OSS_120B) == total == 116_829_156_672
    assert active_params(GPT_OSS_120B, count_embedding=False) == active == 5_132_849_472
    # Model card (arXiv:2508.10925): 116.8B total, 5.1B active; README: "117B ... 5.1B active"
    assert total == pytest.approx(116.8e9, rel=1e-3)
    assert total == pytest.approx(117e9, rel=5e-3)
    assert active == pytest.approx(5.1e9, rel=0.01)


def test_qwen3_235b_is_235b_total_22b_active_and_agrees_with_moe_py() -> None:
    total, active = param_count(QWEN3_235B_A22B), active_params(QWEN3_235B_A22B)
    assert (total, active) == moe.moe_param_counts(moe.QWEN3_235B_A22B)  # independent code
    assert total == pytest.approx(235e9, rel=1e-3)  # model card: 235B total
    assert active == pytest.approx(22e9, rel=0.01)  # 22.19B with the embedding
    assert active_params(QWEN3_235B_A22B, count_embedding=False) == pytest.approx(22e9, rel=0.02)


def test_mixtral_through_model_shape_matches_moe_py() -> None:
    mixtral = ModelShape(
        name="Mixtral-8x7B",
        n_layers=32,
        d_model=4096,
        n_heads=32,
        n_kv_heads=8,
        head_dim=128,
        d_ff=14336,
        vocab_size=32000,
        moe=MoEConfig(n_routed_experts=8, top_k=2, d_expert=14336),
    )
    assert (param_count(mixtral), active_params(mixtral)) == moe.moe_param_counts(moe.MIXTRAL_8X7B)


def test_qwen3_8b_matches_its_model_card() -> None:
    b = detailed_param_breakdown(QWEN3_8B)
    assert b.total == 8_190_735_360  # card: 8.2B
    assert b.total == pytest.approx(8.2e9, rel=0.002)
    assert b.non_embedding == pytest.approx(6.95e9, rel=0.001)  # card: 6.95B
    # q/k norms: 2 x 128 weights per layer
    assert b.total - param_count(replace(QWEN3_8B, qk_norm=False)) == 36 * 2 * 128


@pytest.mark.parametrize("shape", [*MODEL_SHAPES, QWEN3_8B], ids=lambda s: s.name)
def test_dense_shapes_are_all_active_and_breakdowns_agree(shape: ModelShape) -> None:
    b = detailed_param_breakdown(shape)
    assert active_params(shape) == b.total == param_count(shape)
    assert b.routed_experts == b.shared_experts == b.router == 0
    assert param_breakdown(shape).feed_forward == b.dense_ffn


@pytest.mark.parametrize("shape", SHAPES_2026, ids=lambda s: s.name)
def test_breakdowns_add_up(shape: ModelShape) -> None:
    b, pb = detailed_param_breakdown(shape), param_breakdown(shape)
    assert pb.total == b.total
    assert b.routed_experts_active <= b.routed_experts
    assert b.active(count_embedding=False) < b.active() <= b.total


def test_ffn_share_is_two_thirds_only_for_plain_mha() -> None:
    # Llama-3.1-8B: 3 x 4096 x 14336 = 176.2M of 218.1M per layer (GQA shrinks W_k, W_v)
    assert ffn_share_of_layer(LLAMA_3_1_8B) == pytest.approx(
        176_160_768 / (176_160_768 + 41_943_040 + 8192)
    )
    assert round(ffn_share_of_layer(LLAMA_3_1_8B), 2) == 0.81
    assert round(ffn_share_of_layer(LLAMA_3_1_70B), 2) == 0.82
    # MHA with an 8 d^2 SwiGLU (d_ff = 8d/3): 8 / (4 + 8) = two thirds, norms aside
    mha = ModelShape("mha", 1, 384, 6, 6, 64, 1024, 1000)
    assert ffn_share_of_layer(mha) == pytest.approx(2 / 3, abs=1e-3)


# -----------------------------------------------------------------------------
# quantized checkpoints


def test_group_scale_bits() -> None:
    assert group_scale_bits(128) == 0.125  # an fp16 scale per 128 weights
    assert group_scale_bits(128, zero_point_bits=4) == 0.15625
    assert group_scale_bits(32, scale_bits=8) == 0.25  # MXFP4: an 8-bit scale per 32
    with pytest.raises(ValueError, match="group_size"):
        group_scale_bits(0)


def test_llama_8b_int4_checkpoint_is_about_5_7_gb_not_4() -> None:
    size = quantized_checkpoint_size(LLAMA_3_1_8B, 4, group_size=128)
    norms = 32 * 2 * 4096 + 4096
    embeddings = 2 * 128256 * 4096  # embedding table and LM head, kept in 16-bit
    linear = param_count(LLAMA_3_1_8B) - embeddings - norms
    assert size.quantized_params == linear == 6_979_321_856
    assert size.total == pytest.approx(linear * (4 + 0.125) / 8 + (embeddings + norms) * 2)
    assert 5.6 * GB <= size.total <= 5.8 * GB  # review 3.1; a published AWQ checkpoint: 5.75 GB
    awq = quantized_checkpoint_size(LLAMA_3_1_8B, 4, group_size=128, zero_point_bits=4)
    assert awq.total == pytest.approx(5.75 * GB, rel=0.005)
    assert weights_bytes(param_count(LLAMA_3_1_8B), 4) / GB == pytest.approx(4.02, abs=0.01)


def test_quantizing_everything_at_16_bits_is_weights_bytes() -> None:
    n = param_count(LLAMA_3_1_8B)
    assert quantized_checkpoint_size(LLAMA_3_1_8B, 16).total == weights_bytes(n, 16)
    everything = quantized_checkpoint_size(LLAMA_3_1_8B, 4, quantize_embeddings=True)
    assert everything.high_precision_params == 32 * 2 * 4096 + 4096  # only the norms


def test_70b_int4_is_about_39_gb() -> None:
    assert quantized_checkpoint_size(LLAMA_3_1_70B, 4, group_size=128).total / GB == (
        pytest.approx(39.5, abs=0.1)
    )


def test_gpt_oss_mxfp4_experts_fit_one_80_gb_gpu() -> None:
    # MXFP4 on the expert matrices only: 4 bits + an 8-bit scale per 32 = 4.25 bits
    size = quantized_checkpoint_size(
        GPT_OSS_120B, 4, group_size=32, scale_bits=8, quantize="experts"
    )
    b = detailed_param_breakdown(GPT_OSS_120B)
    assert size.quantized_params == b.routed_experts
    assert size.total == pytest.approx(
        b.routed_experts * 4.25 / 8 + (b.total - b.routed_experts) * 2
    )
    assert size.total < 80 * GB < weights_bytes(b.total, 16)


# -----------------------------------------------------------------------------
# KV cache: MLA, windows, quantization


def test_deepseek_v3_caches_68_6_kib_per_token() -> None:
    assert kv_elements_per_token_per_layer(DEEPSEEK_V3) == 512 + 64
    assert kv_bytes_per_token(DEEPSEEK_V3) == 61 * 576 * 2 == 70_272
    assert kv_bytes_per_token(DEEPSEEK_V3) / KIB == pytest.approx(68.6, abs=0.05)
    assert kv_cache_bytes_for_context(DEEPSEEK_V3, seq_len=131_072) == 61 * 576 * 2 * 131_072
    # less than Llama-3.1-8B's 128 KiB, for an 84x larger model
    assert kv_bytes_per_token(DEEPSEEK_V3) < kv_bytes_per_token(LLAMA_3_1_8B)


def test_mla_versus_caching_every_heads_keys_and_values() -> None:
    naive = mla_decompressed_kv_bytes_per_token(DEEPSEEK_V3)
    assert naive == 61 * 128 * (128 + 64 + 128) * 2 == 4_997_120
    assert naive / kv_bytes_per_token(DEEPSEEK_V3) == pytest.approx(71.1, abs=0.05)
    with pytest.raises(ValueError, match="latent"):
        mla_decompressed_kv_bytes_per_token(LLAMA_3_1_8B)
    with pytest.raises(ValueError, match="latent attention"):
        compare_attention_variants(DEEPSEEK_V3, seq_len=1)


def test_gpt_oss_windows_half_its_layers() -> None:
    per_layer_token = 2 * 8 * 64 * 2  # K and V, 8 KV heads of 64, bf16: 2 KiB
    assert kv_bytes_per_token(GPT_OSS_120B) == 36 * per_layer_token  # 72 KiB, no window yet
    assert cached_tokens_per_layer(GPT_OSS_120B, 1000)[:2] == (128, 1000)
    assert kv_cache_bytes_for_context(GPT_OSS_120B, seq_len=1000) == per_layer_token * (
        18 * 128 + 18 * 1000
    )
    at_128k = kv_cache_bytes_for_context(GPT_OSS_120B, seq_len=131_072)
    assert at_128k == per_layer_token * (18 * 128 + 18 * 131_072)
    assert at_128k / GIB == pytest.approx(4.504, abs=1e-3)  # full attention: 9 GiB
    assert kv_cache_bytes(GPT_OSS_120B, seq_len=131_072) == 9 * GIB


def test_past_the_window_only_global_layers_grow() -> None:
    step = kv_cache_bytes_for_context(GPT_OSS_120B, seq_len=129) - kv_cache_bytes_for_context(
        GPT_OSS_120B, seq_len=128
    )
    assert step == 18 * 2 * 8 * 64 * 2


def test_mistral_sliding_window_caps_the_cache_and_the_old_formula_does_not() -> None:
    assert kv_cache_bytes_for_context(MISTRAL_7B, seq_len=32_768) == 4096 * 128 * KIB == 512 * MIB
    assert kv_cache_bytes(MISTRAL_7B, seq_len=32_768) == 4 * GIB  # unchanged: full attention
    assert max_concurrent_sequences(MISTRAL_7B, 40 * GB, seq_len=32_768) == 74
    assert max_concurrent_sequences(LLAMA_3_1_8B, 40 * GB, seq_len=32_768) == 9
    assert max_concurrent_sequences(LLAMA_3_1_8B, 40 * GB, seq_len=8192) == 37


@given(st.sampled_from(MODEL_SHAPES + SHAPES_2026), st.integers(0, 300_000), st.integers(1, 8))
def test_windowed_cache_never_exceeds_full_attention(
    shape: ModelShape, seq_len: int, batch: int
) -> None:
    windowed = kv_cache_bytes_for_context(shape, seq_len=seq_len, batch=batch)
    assert windowed <= kv_cache_bytes(shape, seq_len=seq_len, batch=batch)
    assert windowed == batch * kv_cache_bytes_for_context(shape, seq_len=seq_len)
    assert kv_cache_bytes_for_context(shape, seq_len=seq_len + 1) >= windowed / batch
    if shape.sliding_window is None:  # no window, so the two agree exactly
        assert windowed == kv_cache_bytes(shape, seq_len=seq_len, batch=batch)


def test_kv_cache_formats() -> None:
    assert [f.bytes_per_element for f in KV_CACHE_FORMATS] == [2.0, 1.0, 0.5625]
    assert KV_BF16.bits_per_element == 16
    assert KV_FP8.bits_per_element == 8
    assert KV_INT4.bits_per_element == 4 + (16 + 16) / 64  # fp16 scale and zero per 64
    assert KVCacheFormat("int4 symmetric, group 32", 4, group_size=32).bits_per_element == 4.5
    int4 = kv_cache_bytes_for_context(
        LLAMA_3_1_8B, seq_len=131_072, bytes_per_elem=KV_INT4.bytes_per_element
    )
    assert int4 == 16 * GIB * 0.5625 / 2 == 4.5 * GIB
    fp8 = kv_cache_bytes_for_context(
        DEEPSEEK_V3, seq_len=131_072, bytes_per_elem=KV_FP8.bytes_per_element
    )
    assert fp8 == 61 * 576 * 131_072


def test_new_functions_reject_negative_sizes() -> None:
    with pytest.raises(ValueError, match="seq_len and batch must be >= 0"):
        kv_cache_bytes_for_context(GPT_OSS_120B, seq_len=-1)
    with pytest.raises(ValueError, match="0 tokens"):
        max_concurrent_sequences(LLAMA_3_1_8B, GB, seq_len=0)
