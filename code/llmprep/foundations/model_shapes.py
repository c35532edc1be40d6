"""Real model shapes: the handful of numbers from a config.json that size everything else.

Parameter counts, weight memory, KV-cache memory and FLOPs all follow from these fields.
Each shape below was checked (November 2026) against the model's published configuration;
the source is recorded next to it. Field names map to Hugging Face config.json keys:

    n_layers    num_hidden_layers      n_kv_heads  num_key_value_heads
    d_model     hidden_size            head_dim    head_dim (or hidden_size / heads)
    n_heads     num_attention_heads    d_ff        intermediate_size
    vocab_size  vocab_size             tied_embeddings  tie_word_embeddings

All four are decoder-only Llama-style models: RMSNorm, rotary positions (no learned
position table), a SwiGLU feed-forward with three matrices, and grouped-query attention.

Late-2026 shapes need more than those numbers, so `ModelShape` also carries (all optional, so
the four 2023-24 shapes above read exactly as before):

    sliding_window, layer_pattern   sliding_window, layer_types ("sliding_attention" is local)
    qk_norm                         Qwen3's RMSNorm over each head's q and k
    o_bias, attention_sinks         gpt-oss: a bias on W_o, one learned sink logit per head
    mla: MLAConfig                  q_lora_rank, kv_lora_rank, qk_nope/rope_head_dim, v_head_dim
    moe: MoEConfig                  n_routed_experts, num_experts_per_tok, moe_intermediate_size,
                                    n_shared_experts, first_k_dense_replace

`SHAPES_2026` holds three such models, each checked on 2026-12-01 against its configuration:
Qwen3-8B (dense, GQA, q/k norms), gpt-oss-120b (MoE, alternating banded/full attention,
attention sinks) and DeepSeek-V3 (MoE with a shared expert, multi-head latent attention).
They are kept out of `MODEL_SHAPES` on purpose: that tuple feeds the chapter's table of plain
GQA shapes, and the new shapes are not `n_heads * head_dim == d_model` models.

Leaves out: multi-token-prediction modules (DeepSeek-V3 ships one, 14B parameters, not part of
its 671B), vision towers, and RoPE settings (see `rope_scaling`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

type LayerKind = Literal["global", "local"]
"""A layer's attention span: "global" sees every earlier token, "local" only the last
`sliding_window` (Hugging Face layer_types: "full_attention" / "sliding_attention")."""


@dataclass(frozen=True, slots=True)
class MLAConfig:
    """Multi-head latent attention (DeepSeek-V2/V3): keys and values are rebuilt from a small
    latent, so the cache holds the latent, not per-head keys and values.

    Per token and layer the cache keeps the kv_lora_rank-wide latent c_KV plus one
    qk_rope_head_dim-wide rotary key shared by all heads (the "decoupled RoPE" part, which
    cannot be folded into the up-projection because RoPE depends on position).
    """

    kv_lora_rank: int  # width of the compressed key/value latent (d_c)
    qk_rope_head_dim: int  # rotary part of each query/key head, shared key across heads
    qk_nope_head_dim: int  # non-rotary part of each query/key head
    v_head_dim: int  # each value head
    q_lora_rank: int | None = None  # queries are compressed too when set (d_c')

    @property
    def cached_dim(self) -> int:
        """Elements cached per token per layer. DeepSeek-V3: 512 + 64 = 576."""
        return self.kv_lora_rank + self.qk_rope_head_dim

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim


@dataclass(frozen=True, slots=True)
class MoEConfig:
    """Mixture-of-experts feed-forward layers: each token uses top_k of n_routed_experts
    SwiGLU experts of width d_expert, plus every shared expert; the first n_dense_layers
    layers keep a dense feed-forward of width `ModelShape.d_ff` instead."""

    n_routed_experts: int
    top_k: int  # experts chosen per token (num_experts_per_tok)
    d_expert: int  # each expert's intermediate size (moe_intermediate_size)
    n_shared_experts: int = 0  # experts every token uses, each of width d_expert
    n_dense_layers: int = 0  # leading dense layers (DeepSeek's first_k_dense_replace)
    router_bias: bool = False  # gpt-oss's router bias; DeepSeek-V3's balancing bias
    expert_bias: bool = False  # gpt-oss: biases inside every expert (2 d_expert + d_model)


@dataclass(frozen=True, slots=True)
class ModelShape:
    """The architecture numbers of a decoder-only transformer."""

    name: str
    n_layers: int
    d_model: int
    n_heads: int  # query heads
    n_kv_heads: int  # key/value heads: = n_heads is MHA, 1 is MQA, in between is GQA
    head_dim: int
    d_ff: int  # width of the feed-forward hidden layer
    vocab_size: int
    tied_embeddings: bool = False  # output head reuses the input embedding matrix
    qkv_bias: bool = False  # Qwen2 adds biases to the q, k and v projections
    published_params: float | None = None  # as stated by the model's publisher
    source: str = ""
    # --- added for late-2026 shapes; the defaults describe the four shapes above -------
    sliding_window: int | None = None  # tokens a "local" layer attends to (itself included)
    layer_pattern: tuple[LayerKind, ...] | None = None  # per layer; None: see layer_kinds
    qk_norm: bool = False  # Qwen3: RMSNorm (head_dim weights) on q and on k in every layer
    o_bias: bool = False  # gpt-oss: the output projection has a bias too
    attention_sinks: bool = False  # gpt-oss: one learned sink logit per query head per layer
    mla: MLAConfig | None = None  # multi-head latent attention (DeepSeek-V3)
    moe: MoEConfig | None = None  # mixture-of-experts feed-forward layers
    published_active_params: float | None = None  # MoE: active per token, as published

    @property
    def q_dim(self) -> int:
        return self.n_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.n_kv_heads * self.head_dim

    @property
    def group_size(self) -> int:
        """Query heads sharing one key/value head (1 for MHA)."""
        return self.n_heads // self.n_kv_heads

    @property
    def layer_kinds(self) -> tuple[LayerKind, ...]:
        """Every layer's attention span. With no layer_pattern, a sliding_window applies to
        all layers (Mistral-7B-v0.1) and without one every layer is global.

        Example: GPT_OSS_120B.layer_kinds[:3] -> ("local", "global", "local")
        """
        if self.layer_pattern is not None:
            return self.layer_pattern
        kind: LayerKind = "local" if self.sliding_window is not None else "global"
        return (kind,) * self.n_layers

    @property
    def n_moe_layers(self) -> int:
        """Layers whose feed-forward is a mixture of experts (0 for a dense model)."""
        return 0 if self.moe is None else self.n_layers - self.moe.n_dense_layers

    def __post_init__(self) -> None:
        if self.layer_pattern is not None:
            if len(self.layer_pattern) != self.n_layers:
                raise ValueError(
                    f"{self.name}: layer_pattern has {len(self.layer_pattern)} entries for "
                    f"{self.n_layers} layers"
                )
            if "local" in self.layer_pattern and self.sliding_window is None:
                raise ValueError(f"{self.name}: local layers need a sliding_window")
        if self.moe is not None and not 0 < self.moe.top_k <= self.moe.n_routed_experts:
            raise ValueError(f"{self.name}: top_k must be in [1, n_routed_experts]")


# Sources: Meta's llama-models repo, models/sku_list.py (dim, n_layers, n_heads, n_kv_heads,
# vocab_size, ffn_dim_multiplier 1.3, multiple_of 1024) and models/llama3/model.py (the FFN
# width rule, giving 14336; see params.llama_ffn_dim), cross-checked with Hugging Face copies of
# meta-llama/Llama-3.1-8B config.json (hidden_size 4096, intermediate_size 14336,
# num_hidden_layers 32, num_attention_heads 32, num_key_value_heads 8, head_dim 128,
# vocab_size 128256, tie_word_embeddings false). "8.03B params" on the model page.
LLAMA_3_1_8B = ModelShape(
    name="Llama-3.1-8B",
    n_layers=32,
    d_model=4096,
    n_heads=32,
    n_kv_heads=8,
    head_dim=128,
    d_ff=14336,
    vocab_size=128256,
    published_params=8.03e9,
    source="meta-llama/llama-models sku_list.py; meta-llama/Llama-3.1-8B config.json",
)

# Same sources as 8B: dim 8192, 80 layers, 64 heads, 8 KV heads, multiple_of 4096 -> 28672;
# config.json copies of meta-llama/Meta-Llama-3.1-70B(-Instruct) agree. Hugging Face lists
# the Llama 3.x 70B checkpoints (same architecture) as "70.6B params".
LLAMA_3_1_70B = ModelShape(
    name="Llama-3.1-70B",
    n_layers=80,
    d_model=8192,
    n_heads=64,
    n_kv_heads=8,
    head_dim=128,
    d_ff=28672,
    vocab_size=128256,
    published_params=70.6e9,
    source="meta-llama/llama-models sku_list.py; meta-llama/Llama-3.1-70B config.json",
)

# transformers' MistralConfig defaults, documented as Mistral-7B-v0.1 (transformers 5.24,
# configuration_mistral.py), and copies of mistralai/Mistral-7B-v0.1 config.json:
# 4096 / 14336 / 32 layers / 32 heads / 8 KV heads / vocab 32000, untied. The published
# figure is "7.3B" (Mistral's announcement); the exact count from this shape is 7.24B.
# The same config.json sets "sliding_window": 4096 on every layer; `kv_cache_bytes` ignores it
# (it shows what full attention with this shape would cache, as the chapter's table does) and
# `kv_cache_bytes_for_context` applies it.
MISTRAL_7B = ModelShape(
    name="Mistral-7B-v0.1",
    n_layers=32,
    d_model=4096,
    n_heads=32,
    n_kv_heads=8,
    head_dim=128,
    d_ff=14336,
    vocab_size=32000,
    published_params=7.3e9,
    source="mistralai/Mistral-7B-v0.1 config.json; transformers MistralConfig defaults",
    sliding_window=4096,
)

# Copies of Qwen/Qwen2.5-7B config.json (and -Instruct): hidden_size 3584, intermediate_size
# 18944, 28 layers, 28 heads, 4 KV heads, vocab_size 152064, tie_word_embeddings false;
# Qwen2 attention has q/k/v biases (transformers modeling_qwen2.py: bias=True).
# Qwen's model card: 7.61B parameters, 6.53B non-embedding.
QWEN2_5_7B = ModelShape(
    name="Qwen2.5-7B",
    n_layers=28,
    d_model=3584,
    n_heads=28,
    n_kv_heads=4,
    head_dim=128,
    d_ff=18944,
    vocab_size=152064,
    qkv_bias=True,
    published_params=7.61e9,
    source="Qwen/Qwen2.5-7B config.json; transformers Qwen2Attention",
)

MODEL_SHAPES: tuple[ModelShape, ...] = (LLAMA_3_1_8B, MISTRAL_7B, QWEN2_5_7B, LLAMA_3_1_70B)


# -----------------------------------------------------------------------------
# Late-2026 shapes. Each was checked on 2026-12-01; the sources are given per model.

# Qwen3-8B (dense). Source: Qwen/Qwen3-8B config.json, https://huggingface.co/Qwen/Qwen3-8B
# (read through Hugging Face's "Copy config.json from Qwen/Qwen3-8B" commits, e.g.
# https://huggingface.co/thejaminator/qwen-hook-layer-9/commit/478fb720f1f3ced834fce0275b55b2732d438edc,
# checked 2026-12-01): hidden_size 4096, intermediate_size 12288, num_hidden_layers 36,
# num_attention_heads 32, num_key_value_heads 8, head_dim 128, vocab_size 151936,
# tie_word_embeddings false, attention_bias false, sliding_window null. Qwen3 adds q/k
# RMSNorms (Qwen3 model card: "qk layernorm for all models"). The model card states 8.2B
# parameters, 6.95B non-embedding, 36 layers, 32 query / 8 KV heads; this shape gives
# 8,190,735,360 and 6,946,075,648 (`params.param_count`).
QWEN3_8B = ModelShape(
    name="Qwen3-8B",
    n_layers=36,
    d_model=4096,
    n_heads=32,
    n_kv_heads=8,
    head_dim=128,
    d_ff=12288,
    vocab_size=151936,
    qk_norm=True,
    published_params=8.2e9,
    source="Qwen/Qwen3-8B config.json and model card (huggingface.co/Qwen/Qwen3-8B)",
)

# gpt-oss-120b (MoE). Source: OpenAI's reference implementation, github.com/openai/gpt-oss,
# gpt_oss/torch/model.py at commit 7b583341 (2026-07-24), fetched 2026-12-01: ModelConfig
# num_hidden_layers 36, num_experts 128, experts_per_token 4, vocab_size 201088,
# hidden_size 2880, intermediate_size 2880, head_dim 64, num_attention_heads 64,
# num_key_value_heads 8, sliding_window 128; AttentionBlock applies the window "to every other
# layer" (layer_idx % 2 == 0, so layer 0 is banded), has a learned `sinks` vector (one per
# head), a qkv Linear and an out Linear with biases (torch default); MLPBlock has a gate
# (router) Linear with bias and per-expert biases mlp1_bias (2 x intermediate) and mlp2_bias
# (hidden); `unembedding` is a separate Linear (untied). Hugging Face copies of
# openai/gpt-oss-120b config.json agree (layer_types alternating "sliding_attention",
# "full_attention"; attention_bias true; num_local_experts 128; tie_word_embeddings false).
# Published: "117B parameters with 5.1B active" (README of github.com/openai/gpt-oss) and
# 116.8B total in the model card (arXiv:2508.10925). This shape gives 116,829,156,672 total
# and 5,132,849,472 active without the input embedding (the model card's convention).
GPT_OSS_120B = ModelShape(
    name="gpt-oss-120b",
    n_layers=36,
    d_model=2880,
    n_heads=64,
    n_kv_heads=8,
    head_dim=64,
    d_ff=2880,
    vocab_size=201088,
    qkv_bias=True,
    o_bias=True,
    attention_sinks=True,
    sliding_window=128,
    layer_pattern=("local", "global") * 18,
    moe=MoEConfig(n_routed_experts=128, top_k=4, d_expert=2880, router_bias=True, expert_bias=True),
    published_params=116.8e9,
    published_active_params=5.1e9,
    source="github.com/openai/gpt-oss gpt_oss/torch/model.py (ModelConfig); arXiv:2508.10925",
)

# DeepSeek-V3 (MoE + MLA). Source: github.com/deepseek-ai/DeepSeek-V3, fetched 2026-12-01 at
# commit 9b4e9788 (2025-08-28): inference/configs/config_671B.json: vocab_size 129280,
# dim 7168, inter_dim 18432, moe_inter_dim 2048, n_layers 61, n_dense_layers 3, n_heads 128,
# n_routed_experts 256, n_shared_experts 1, n_activated_experts 8, q_lora_rank 1536,
# kv_lora_rank 512, qk_nope_head_dim 128, qk_rope_head_dim 64, v_head_dim 128; and
# inference/model.py: MLA (wq_a, q_norm, wq_b, wkv_a of width kv_lora_rank + qk_rope_head_dim,
# kv_norm, wkv_b, wo; no biases; its "absorb" path caches kv_lora_rank + qk_rope_head_dim per
# token), Gate with a per-expert bias for dim 7168, a separate output head (untied). The Hugging
# Face config.json names these first_k_dense_replace 3, num_experts_per_tok 8, and
# num_key_value_heads 128. head_dim below is the query/key head width 128 + 64 = 192 (there is
# no single head_dim in MLA). Published: 671B total, 37B activated (README; technical report
# arXiv:2412.19437); README_WEIGHTS.md: 36.7B activated "including 0.9B for Embedding and 0.9B
# for the output Head", plus a 14B multi-token-prediction module not counted in the 671B.
DEEPSEEK_V3 = ModelShape(
    name="DeepSeek-V3",
    n_layers=61,
    d_model=7168,
    n_heads=128,
    n_kv_heads=128,
    head_dim=192,
    d_ff=18432,
    vocab_size=129280,
    mla=MLAConfig(
        kv_lora_rank=512,
        qk_rope_head_dim=64,
        qk_nope_head_dim=128,
        v_head_dim=128,
        q_lora_rank=1536,
    ),
    moe=MoEConfig(
        n_routed_experts=256,
        top_k=8,
        d_expert=2048,
        n_shared_experts=1,
        n_dense_layers=3,
        router_bias=True,
    ),
    published_params=671e9,
    published_active_params=37e9,
    source="github.com/deepseek-ai/DeepSeek-V3 inference/configs/config_671B.json, model.py",
)

# Qwen3-235B-A22B (MoE, no shared expert). Source: Qwen/Qwen3-235B-A22B config.json,
# https://huggingface.co/Qwen/Qwen3-235B-A22B. The official file is not in the stored corpus
# this was checked against (2026-12-01); three independent copies agree on every number here:
# Ascend MindSpeed-RL configs/model/qwen3_235b_a22b.yaml, AI-Hypercomputer/maxtext
# configs/models/qwen3-235b-a22b.yml, and the config.json of an FP8 derivative on Hugging Face
# (hidden_size 4096, intermediate_size 12288, moe_intermediate_size 1536, 94 layers,
# 64 query / 4 KV heads, head_dim 128, num_experts 128, num_experts_per_tok 8,
# mlp_only_layers [] so every layer is MoE, vocab_size 151936, untied embeddings, q/k norms).
# `moe.QWEN3_235B_A22B` records the same shape. Published: "235B in total and 22B activated"
# (model card; Qwen3 technical report, arXiv:2505.09388).
QWEN3_235B_A22B = ModelShape(
    name="Qwen3-235B-A22B",
    n_layers=94,
    d_model=4096,
    n_heads=64,
    n_kv_heads=4,
    head_dim=128,
    d_ff=12288,
    vocab_size=151936,
    qk_norm=True,
    moe=MoEConfig(n_routed_experts=128, top_k=8, d_expert=1536),
    published_params=235e9,
    published_active_params=22e9,
    source="Qwen/Qwen3-235B-A22B config.json and model card; arXiv:2505.09388",
)

SHAPES_2026: tuple[ModelShape, ...] = (QWEN3_8B, GPT_OSS_120B, QWEN3_235B_A22B, DEEPSEEK_V3)
"""Current shapes for the chapter's 2026 tables: one dense, three MoE, one with MLA."""
