"""Solution to the attention drill: the book's attention code, behind the drill's names.

One head is `flash_attention.attention_reference` (the plain attention that the tiled
FlashAttention is tested against); the heads are `decoder.gqa_attention` with as many
KV heads as query heads (grouped-query attention with groups of one is multi-head
attention).
"""

from __future__ import annotations

from llmprep.foundations.decoder import F64, gqa_attention
from llmprep.foundations.flash_attention import attention_reference


def scaled_dot_product_attention(
    q: F64,
    k: F64,
    v: F64,
    *,
    causal: bool = False,
) -> F64:
    """One head: the output of `attention_reference`, without its logsumexp."""
    out, _ = attention_reference(q, k, v, causal=causal)
    return out


def multi_head_attention(
    x: F64,
    w_q: F64,
    w_k: F64,
    w_v: F64,
    w_o: F64,
    n_heads: int,
) -> F64:
    """Project, split into heads (heads, seq, head_dim), attend, merge, project."""
    if w_q.shape[1] % n_heads:
        raise ValueError(f"n_heads={n_heads} does not divide the width {w_q.shape[1]}")
    seq = x.shape[0]

    def heads(w: F64) -> F64:
        return (x @ w).reshape(seq, n_heads, -1).transpose(1, 0, 2)

    out = gqa_attention(heads(w_q), heads(w_k), heads(w_v), 0)
    merged: F64 = out.transpose(1, 0, 2).reshape(seq, -1) @ w_o
    return merged
