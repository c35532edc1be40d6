"""Counting parameters and the memory they need.

"How big is an 8B model in memory?" is two multiplications, once you know where the
parameters live. For a Llama-style decoder layer:

    attention   W_q (d x h*d_h) + W_k, W_v (d x kv*d_h each) + W_o (h*d_h x d)
    feed-forward (SwiGLU)  W_gate, W_up (d x d_ff) + W_down (d_ff x d)  = 3 d d_ff
    norms       two RMSNorm weight vectors (d each)

plus the token embedding (vocab x d), a final norm, and an output head (vocab x d) unless it
is tied to the embedding. The feed-forward holds about two thirds of a layer; for small models
the embeddings are a large share of the total.

Weights then cost bits/8 bytes each: 16-bit (bf16/fp16) is 2 bytes, int8 1, int4 half a byte
(plus a little for quantisation scales, ignored here).

Leaves out: mixture-of-experts layers, biases other than Qwen2's q/k/v biases, and vision
towers. `bert_param_count` covers BERT-style encoders such as MiniLM.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    """
    d = shape.d_model
    attention = d * shape.q_dim + 2 * d * shape.kv_dim + shape.q_dim * d
    if shape.qkv_bias:
        attention += shape.q_dim + 2 * shape.kv_dim
    feed_forward = 3 * d * shape.d_ff  # SwiGLU: gate, up and down projections
    norms = 2 * d  # RMSNorm before attention and before the feed-forward
    embedding = shape.vocab_size * d
    return ParamBreakdown(
        embedding=embedding,
        attention=shape.n_layers * attention,
        feed_forward=shape.n_layers * feed_forward,
        norms=shape.n_layers * norms + d,  # + the final norm
        lm_head=0 if shape.tied_embeddings else embedding,
    )


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
    """
    return n_params * bits / 8


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
