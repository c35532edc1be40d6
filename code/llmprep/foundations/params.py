"""Counting parameters and the memory they need.

"How big is an 8B model in memory?" is two multiplications, once you know where the
parameters live. For a Llama-style decoder layer:

    attention   W_q (d x h*d_h) + W_k, W_v (d x kv*d_h each) + W_o (h*d_h x d)
    feed-forward (SwiGLU)  W_gate, W_up (d x d_ff) + W_down (d_ff x d)  = 3 d d_ff
    norms       two RMSNorm weight vectors (d each)

plus the token embedding (vocab x d), a final norm, and an output head (vocab x d) unless it
is tied to the embedding. The feed-forward holds most of a layer, and how much depends on the
attention: two thirds in a plain multi-head layer with a 4 d MLP (4 d^2 attention, 8 d^2 MLP),
but about 81% in Llama-3.1-8B (176.2M of 218.1M per layer) and 82% in Llama-3.1-70B, because
grouped-query attention shrinks W_k and W_v (`ffn_share_of_layer`). For small models the
embeddings are a large share of the total.

Weights then cost bits/8 bytes each: 16-bit (bf16/fp16) is 2 bytes, int8 1, int4 half a byte.
`weights_bytes` is that multiplication alone. A real quantized checkpoint is bigger:
GPTQ/AWQ/bitsandbytes keep the embedding table, the LM head and the norms in 16-bit and store a
scale (sometimes a zero point too) per group of weights; `quantized_checkpoint_size` counts
both, which turns Llama-3.1-8B's naive "4.0 GB at 4 bits" into about 5.7 GB.

Mixture-of-experts and multi-head latent attention shapes (`model_shapes.SHAPES_2026`) are
counted by `detailed_param_breakdown`, which also gives the parameters a token actually uses
(`active_params`): DeepSeek-V3 about 671B total and 37B active, gpt-oss-120b 117B and 5.1B,
Qwen3-235B-A22B 235B and 22B. `param_breakdown` and `param_count` accept those shapes too.

Leaves out: biases other than those the shapes declare, multi-token-prediction modules and
vision towers. `bert_param_count` covers BERT-style encoders such as MiniLM.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from safetensors import safe_open

from llmprep.foundations.model_shapes import ModelShape

GIB = 1024**3  # a gibibyte: how GPU memory and KV caches are usually sized
GB = 10**9  # a gigabyte: how weight files and model cards are usually sized


@dataclass(frozen=True, slots=True)
class ParamBreakdown:
    """Where a decoder-only model's parameters live."""

    embedding: int
    attention: int  # all layers
    feed_forward: int  # all layers
    norms: int  # all layers + final norm
    lm_head: int  # 0 when tied to the embedding

    @property
    def total(self) -> int:
        return self.embedding + self.attention + self.feed_forward + self.norms + self.lm_head

    @property
    def non_embedding(self) -> int:
        """Parameters outside the embedding and output head (Kaplan et al.'s N)."""
        return self.attention + self.feed_forward + self.norms


def param_breakdown(shape: ModelShape) -> ParamBreakdown:
    """Parameter count of a Llama-style decoder, component by component.

    Grouped-query attention shows up in W_k and W_v: they project to n_kv_heads * head_dim
    columns, not n_heads * head_dim, so GQA saves parameters as well as KV cache.

    For mixture-of-experts shapes `feed_forward` is every expert (routed and shared), the
    router and any dense layers; `detailed_param_breakdown` keeps those apart and says which
    of them a token uses.
    """
    b = detailed_param_breakdown(shape)
    return ParamBreakdown(
        embedding=b.embedding,
        attention=b.attention,
        feed_forward=b.dense_ffn + b.shared_experts + b.routed_experts + b.router,
        norms=b.norms,
        lm_head=b.lm_head,
    )


@dataclass(frozen=True, slots=True)
class DetailedParamBreakdown:
    """Where a decoder's parameters live, with mixture-of-experts layers taken apart.

    A dense model has only embedding, attention, dense_ffn, norms and lm_head; the expert
    fields are 0. `routed_experts_active` is the part of `routed_experts` one token uses
    (top_k experts in every MoE layer).
    """

    embedding: int
    attention: int  # projections of all layers, with their biases, q/k norms, MLA norms, sinks
    dense_ffn: int  # feed-forward of the dense layers (all layers for a dense model)
    shared_experts: int  # experts every token uses, all MoE layers
    routed_experts: int  # every routed expert of every MoE layer (with expert biases)
    routed_experts_active: int  # top_k routed experts per MoE layer
    router: int  # router weights (and biases) of all MoE layers
    norms: int  # the two RMSNorms of every layer + the final norm
    lm_head: int  # 0 when tied to the embedding

    @property
    def total(self) -> int:
        return (
            self.embedding
            + self.attention
            + self.dense_ffn
            + self.shared_experts
            + self.routed_experts
            + self.router
            + self.norms
            + self.lm_head
        )

    @property
    def non_embedding(self) -> int:
        """Everything but the embedding table and the output head."""
        return self.total - self.embedding - self.lm_head

    def active(self, *, count_embedding: bool = True) -> int:
        """Parameters one token uses: everything except the routed experts it was not sent to.

        count_embedding=False leaves out the input embedding table: a token reads one row of
        it, with no matrix multiply. Publishers differ here: gpt-oss's 5.1B leaves it out,
        DeepSeek's 36.7B says it includes it (see `active_params`).
        """
        used = self.total - self.routed_experts + self.routed_experts_active
        return used if count_embedding else used - self.embedding


def _attention_params_per_layer(shape: ModelShape) -> int:
    d = shape.d_model
    if shape.mla is not None:
        m = shape.mla
        q_out = shape.n_heads * m.qk_head_dim
        if m.q_lora_rank is None:
            q = d * q_out
        else:  # down-projection, its RMSNorm, up-projection
            q = d * m.q_lora_rank + m.q_lora_rank + m.q_lora_rank * q_out
        kv_down = d * (m.kv_lora_rank + m.qk_rope_head_dim)  # latent + the shared rotary key
        kv_up = m.kv_lora_rank * shape.n_heads * (m.qk_nope_head_dim + m.v_head_dim)
        out = shape.n_heads * m.v_head_dim * d
        return q + kv_down + m.kv_lora_rank + kv_up + out  # + the latent's RMSNorm
    attention = d * shape.q_dim + 2 * d * shape.kv_dim + shape.q_dim * d
    if shape.qkv_bias:
        attention += shape.q_dim + 2 * shape.kv_dim
    if shape.o_bias:
        attention += d
    if shape.qk_norm:
        attention += 2 * shape.head_dim  # one RMSNorm weight vector for q, one for k
    if shape.attention_sinks:
        attention += shape.n_heads
    return attention


def detailed_param_breakdown(shape: ModelShape) -> DetailedParamBreakdown:
    """Parameters of any shape in `model_shapes`: dense or MoE, GQA or MLA.

    Each SwiGLU feed-forward (dense, shared expert or routed expert) is 3 d x width. An MoE
    layer adds a router (d x n_routed_experts, plus a bias where the model has one). MLA
    replaces W_q, W_k, W_v by low-rank down- and up-projections (see `model_shapes.MLAConfig`).

    Example: detailed_param_breakdown(DEEPSEEK_V3).total -> 671_026_419_200
    """
    d = shape.d_model
    attention = shape.n_layers * _attention_params_per_layer(shape)
    norms = 2 * d * shape.n_layers + d
    embedding = shape.vocab_size * d
    lm_head = 0 if shape.tied_embeddings else embedding
    moe = shape.moe
    if moe is None:
        return DetailedParamBreakdown(
            embedding=embedding,
            attention=attention,
            dense_ffn=shape.n_layers * 3 * d * shape.d_ff,
            shared_experts=0,
            routed_experts=0,
            routed_experts_active=0,
            router=0,
            norms=norms,
            lm_head=lm_head,
        )
    n_moe = shape.n_moe_layers
    expert = 3 * d * moe.d_expert
    if moe.expert_bias:
        expert += 2 * moe.d_expert + d  # gpt-oss: gate/up bias and down bias
    router = d * moe.n_routed_experts + (moe.n_routed_experts if moe.router_bias else 0)
    return DetailedParamBreakdown(
        embedding=embedding,
        attention=attention,
        dense_ffn=moe.n_dense_layers * 3 * d * shape.d_ff,
        shared_experts=n_moe * moe.n_shared_experts * 3 * d * moe.d_expert,
        routed_experts=n_moe * moe.n_routed_experts * expert,
        routed_experts_active=n_moe * moe.top_k * expert,
        router=n_moe * router,
        norms=norms,
        lm_head=lm_head,
    )


def active_params(shape: ModelShape, *, count_embedding: bool = True) -> int:
    """Parameters one token uses. For a dense model this is every parameter.

    What "active" includes is a convention, and publishers pick differently:
    - gpt-oss-120b's "5.1B active" leaves out the input embedding (a lookup, no FLOPs):
      active_params(GPT_OSS_120B, count_embedding=False) -> 5_132_849_472 (5.13B).
    - DeepSeek-V3's "37B activated" (36.7B in README_WEIGHTS.md, which says it includes
      0.9B of embedding) comes out 37.55B with the embedding and 36.63B without: the
      published 36.7B sits closer to the count without it, but both are "about 37B".
    - Qwen3-235B-A22B: 22.2B with the embedding, 21.6B without; either rounds to "A22B".
    """
    return detailed_param_breakdown(shape).active(count_embedding=count_embedding)


def ffn_share_of_layer(shape: ModelShape) -> float:
    """Fraction of one decoder layer's parameters in its feed-forward (norms included in
    the layer). For MoE shapes, every expert of a MoE layer counts, and the router with them.

    Example: ffn_share_of_layer(LLAMA_3_1_8B) -> 0.808 (not the two thirds of a plain MHA
    layer: GQA makes attention smaller)
    """
    d = shape.d_model
    attention = _attention_params_per_layer(shape)
    if shape.moe is None:
        ffn = 3 * d * shape.d_ff
    else:
        b = detailed_param_breakdown(shape)
        n_moe = shape.n_moe_layers
        ffn = (b.routed_experts + b.shared_experts + b.router) // n_moe
    return ffn / (attention + ffn + 2 * d)


def param_count(shape: ModelShape) -> int:
    """Total parameters. Example: param_count(LLAMA_3_1_8B) -> 8_030_261_248 (the "8B")."""
    return param_breakdown(shape).total


def llama_ffn_dim(d_model: int, ffn_dim_multiplier: float | None, multiple_of: int) -> int:
    """The feed-forward width rule in Meta's Llama reference code (llama3/model.py).

    Start from 4 d, take 2/3 of it (SwiGLU has three matrices instead of two, so this keeps
    the parameter count near a plain 4 d MLP), scale by ffn_dim_multiplier, round up to a
    multiple of `multiple_of` (friendly to GPU kernels).

    Example: llama_ffn_dim(4096, 1.3, 1024) -> 14336 (Llama 3.1 8B's intermediate_size)
    """
    hidden = int(2 * (4 * d_model) / 3)
    if ffn_dim_multiplier is not None:
        hidden = int(ffn_dim_multiplier * hidden)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


def weights_bytes(n_params: int | float, bits: float = 16) -> float:
    """Memory for the weights alone: n_params * bits / 8.

    Example: weights_bytes(8.03e9, 16) / 1e9 -> 16.06 (GB in bf16); at 4 bits, 4.0 GB.
    Serving needs more: KV cache, activations and framework overhead come on top.
    Every parameter is assumed to be at `bits`; a real 4-bit checkpoint keeps the embeddings
    and head in 16-bit and adds scales, so use `quantized_checkpoint_size` for those.
    """
    return n_params * bits / 8


def group_scale_bits(group_size: int, scale_bits: float = 16, zero_point_bits: float = 0) -> float:
    """Extra bits per weight for group-wise quantization: each group of `group_size` weights
    stores one scale (and, for asymmetric schemes such as AWQ and GPTQ, one zero point).

    Example: group_scale_bits(128) -> 0.125 (an fp16 scale per 128 weights);
             group_scale_bits(128, zero_point_bits=4) -> 0.15625 (plus a packed 4-bit zero)
    """
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}")
    return (scale_bits + zero_point_bits) / group_size


@dataclass(frozen=True, slots=True)
class CheckpointSize:
    """The bytes of a quantized checkpoint, by what they hold."""

    quantized_params: int  # stored at `bits`
    high_precision_params: int  # kept at high_precision_bits (embeddings, head, norms, router)
    quantized_bytes: float
    scale_bytes: float  # group scales and zero points of the quantized weights
    high_precision_bytes: float

    @property
    def total(self) -> float:
        return self.quantized_bytes + self.scale_bytes + self.high_precision_bytes


def quantized_checkpoint_size(
    shape: ModelShape,
    bits: float,
    *,
    group_size: int | None = None,
    scale_bits: float = 16,
    zero_point_bits: float = 0,
    quantize_embeddings: bool = False,
    quantize: Literal["linear", "experts"] = "linear",
    high_precision_bits: float = 16,
) -> CheckpointSize:
    """Size of a weight-quantized checkpoint, the way GPTQ, AWQ and bitsandbytes store one.

    By default the linear layers inside the blocks (attention projections and feed-forward or
    expert matrices) are stored at `bits`, and the embedding table, the LM head, the norms and
    any MoE router stay at 16 bits: those are what the common toolkits skip. A group_size adds
    `group_scale_bits(group_size, scale_bits, zero_point_bits)` per quantized weight.
    quantize="experts" quantizes only the expert matrices (gpt-oss's MXFP4 release: 4-bit
    values with one 8-bit scale per 32, i.e. bits=4, group_size=32, scale_bits=8).
    Biases, q/k norms and attention sinks are counted with their projections (< 0.1%).

    Example (Llama-3.1-8B, INT4, group 128, fp16 scales):
        quantized_checkpoint_size(LLAMA_3_1_8B, 4, group_size=128).total / 1e9 -> 5.70
    against 4.02 from weights_bytes(param_count(LLAMA_3_1_8B), 4); a published AWQ
    checkpoint of Llama-3.1-8B-Instruct is 5.75 GB (its 4-bit zero points add 0.03 GB).
    """
    b = detailed_param_breakdown(shape)
    experts = b.routed_experts + b.shared_experts
    linear = b.attention + b.dense_ffn + experts  # every matrix inside the blocks
    quantized = experts if quantize == "experts" else linear
    if quantize_embeddings:
        quantized += b.embedding + b.lm_head
    high = b.total - quantized
    overhead = (
        0.0 if group_size is None else group_scale_bits(group_size, scale_bits, zero_point_bits)
    )
    return CheckpointSize(
        quantized_params=quantized,
        high_precision_params=high,
        quantized_bytes=quantized * bits / 8,
        scale_bytes=quantized * overhead / 8,
        high_precision_bytes=high * high_precision_bits / 8,
    )


def bert_param_count(
    *,
    vocab_size: int,
    d_model: int,
    n_layers: int,
    d_ff: int,
    max_position: int,
    type_vocab_size: int = 2,
    pooler: bool = True,
) -> int:
    """Parameters of a BERT-style encoder (every Linear and LayerNorm has a bias).

    Embeddings: word + learned position + token type tables, and a LayerNorm.
    Each layer: Q, K, V and output projections (d x d + d each), LayerNorm, the two
    feed-forward matrices (d x d_ff + d_ff, d_ff x d + d), LayerNorm. Then the pooler (d x d + d).

    Example: MiniLM-L6 (30522, 384, 6, 1536, 512) -> 22_713_216
    """
    layer_norm = 2 * d_model
    embeddings = (vocab_size + max_position + type_vocab_size) * d_model + layer_norm
    attention = 4 * (d_model * d_model + d_model) + layer_norm
    feed_forward = (d_model * d_ff + d_ff) + (d_ff * d_model + d_model) + layer_norm
    head = d_model * d_model + d_model if pooler else 0
    return embeddings + n_layers * (attention + feed_forward) + head


def safetensors_param_count(path: Path | str) -> int:
    """Count the floating-point parameters in a .safetensors file, reading only its header.

    Integer tensors are buffers, not parameters (BERT checkpoints store `position_ids`, the
    integers 0..511, alongside the weights), so they are skipped.
    """
    total = 0
    with safe_open(str(path), framework="numpy") as f:
        for name in f.keys():  # noqa: SIM118 - safe_open is not a dict
            tensor = f.get_slice(name)
            if tensor.get_dtype().startswith(("F", "BF")):
                n = 1
                for dim in tensor.get_shape():
                    n *= dim
                total += n
    return total
