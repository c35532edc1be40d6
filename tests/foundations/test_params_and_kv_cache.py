"""Parameter counts, weight memory and KV-cache sizes on real model shapes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from llmprep.foundations.kv_cache import (
    compare_attention_variants,
    kv_bytes_per_token,
    kv_cache_bytes,
    max_cached_tokens,
)
from llmprep.foundations.minilm import MiniLMConfig, model_dir
from llmprep.foundations.model_shapes import (
    LLAMA_3_1_8B,
    LLAMA_3_1_70B,
    MISTRAL_7B,
    MODEL_SHAPES,
    QWEN2_5_7B,
    ModelShape,
)
from llmprep.foundations.params import (
    GB,
    GIB,
    bert_param_count,
    llama_ffn_dim,
    param_breakdown,
    param_count,
    safetensors_param_count,
    weights_bytes,
)

# -----------------------------------------------------------------------------
# shapes


@pytest.mark.parametrize("shape", MODEL_SHAPES, ids=lambda s: s.name)
def test_shapes_are_self_consistent(shape: ModelShape) -> None:
    assert shape.n_heads * shape.head_dim == shape.d_model
    assert shape.n_heads % shape.n_kv_heads == 0
    assert shape.source


def test_llama_ffn_width_rule_reproduces_the_configs() -> None:
    assert llama_ffn_dim(4096, 1.3, 1024) == LLAMA_3_1_8B.d_ff == 14336
    assert llama_ffn_dim(8192, 1.3, 4096) == LLAMA_3_1_70B.d_ff == 28672
    assert llama_ffn_dim(4096, None, 256) == 11008  # Llama 2 7B's width, for comparison


# -----------------------------------------------------------------------------
# parameter counts


def test_llama_3_1_8b_has_8_03_billion_parameters() -> None:
    assert param_count(LLAMA_3_1_8B) == 8_030_261_248
    assert param_count(LLAMA_3_1_8B) / 1e9 == pytest.approx(8.03, abs=0.005)


@pytest.mark.parametrize(
    ("shape", "exact"),
    [
        (LLAMA_3_1_8B, 8_030_261_248),
        (MISTRAL_7B, 7_241_732_096),
        (QWEN2_5_7B, 7_615_616_512),
        (LLAMA_3_1_70B, 70_553_706_496),
    ],
    ids=lambda v: v.name if isinstance(v, ModelShape) else str(v),
)
def test_counts_match_the_published_sizes(shape: ModelShape, exact: int) -> None:
    assert param_count(shape) == exact
    assert shape.published_params is not None
    assert param_count(shape) == pytest.approx(shape.published_params, rel=0.01)


def test_qwen_non_embedding_count_matches_its_model_card() -> None:
    assert param_breakdown(QWEN2_5_7B).non_embedding / 1e9 == pytest.approx(6.53, abs=0.005)


def test_breakdown_adds_up_and_the_ffn_dominates_each_layer() -> None:
    b = param_breakdown(LLAMA_3_1_8B)
    assert b.total == b.embedding + b.attention + b.feed_forward + b.norms + b.lm_head
    assert b.feed_forward > 2 * b.attention
    assert b.lm_head == b.embedding == 128256 * 4096


def test_tying_embeddings_removes_the_output_head() -> None:
    tied = replace(LLAMA_3_1_8B, tied_embeddings=True)
    assert param_count(LLAMA_3_1_8B) - param_count(tied) == 128256 * 4096


def test_gqa_saves_parameters_in_the_key_value_projections() -> None:
    mha = replace(LLAMA_3_1_8B, n_kv_heads=LLAMA_3_1_8B.n_heads)
    saved = param_count(mha) - param_count(LLAMA_3_1_8B)
    assert saved == 32 * 2 * 4096 * (32 - 8) * 128


def test_minilm_count_from_the_formula_equals_the_safetensors_file() -> None:
    cfg = MiniLMConfig.from_dir(model_dir())
    formula = bert_param_count(
        vocab_size=cfg.vocab_size,
        d_model=cfg.d_model,
        n_layers=cfg.n_layers,
        d_ff=cfg.d_ff,
        max_position=cfg.max_position,
    )
    from_file = safetensors_param_count(model_dir() / "model.safetensors")
    assert formula == from_file == 22_713_216  # "22.7M"; position_ids (int64) not counted


def test_weight_memory_at_common_precisions() -> None:
    n = param_count(LLAMA_3_1_8B)
    assert weights_bytes(n, 16) / GB == pytest.approx(16.06, abs=0.01)
    assert weights_bytes(n, 8) == weights_bytes(n, 16) / 2
    assert weights_bytes(n, 4) == weights_bytes(n, 16) / 4
    assert weights_bytes(param_count(LLAMA_3_1_70B), 16) / GB > 140  # more than one 80 GB GPU


# -----------------------------------------------------------------------------
# KV cache


def test_llama_8b_kv_cache_is_128_kib_per_token_and_16_gib_at_128k() -> None:
    assert kv_bytes_per_token(LLAMA_3_1_8B) == 2 * 32 * 8 * 128 * 2 == 128 * 1024
    assert kv_cache_bytes(LLAMA_3_1_8B, seq_len=131_072) == 16 * GIB


def test_kv_cache_grows_linearly_with_length_batch_and_precision() -> None:
    base = kv_cache_bytes(MISTRAL_7B, seq_len=1000, batch=1)
    assert kv_cache_bytes(MISTRAL_7B, seq_len=2000, batch=1) == 2 * base
    assert kv_cache_bytes(MISTRAL_7B, seq_len=1000, batch=8) == 8 * base
    assert kv_cache_bytes(MISTRAL_7B, seq_len=1000, bytes_per_elem=1) == base / 2


@pytest.mark.parametrize(
    "bad", [{"seq_len": -1}, {"seq_len": 8, "batch": -2}, {"seq_len": 8, "bytes_per_elem": 0}]
)
def test_kv_cache_rejects_negative_sizes(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="seq_len and batch must be >= 0"):
        kv_cache_bytes(LLAMA_3_1_8B, **bad)


def test_max_cached_tokens_is_the_inverse() -> None:
    budget = 40 * GB
    n = max_cached_tokens(LLAMA_3_1_8B, budget)
    assert kv_cache_bytes(LLAMA_3_1_8B, seq_len=n) <= budget
    assert kv_cache_bytes(LLAMA_3_1_8B, seq_len=n + 1) > budget


def test_mha_gqa_mqa_comparison() -> None:
    rows = compare_attention_variants(LLAMA_3_1_8B, seq_len=8192, batch=4)
    assert [r.name for r in rows] == ["MHA", "GQA", "MQA"]
    assert [r.n_kv_heads for r in rows] == [32, 8, 1]
    assert [r.relative_to_mha for r in rows] == [1.0, 0.25, 1 / 32]
    assert rows[1].kv_cache_bytes == kv_cache_bytes(LLAMA_3_1_8B, seq_len=8192, batch=4)
    # Qwen2.5-7B groups 7 query heads per KV head
    assert compare_attention_variants(QWEN2_5_7B, seq_len=1)[1].relative_to_mha == 4 / 28
