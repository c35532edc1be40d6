"""Drill: scaled dot-product attention and causal multi-head self-attention.

"Implement attention in numpy. First one head: softmax(Q K^T / sqrt(d)) V, with an
optional causal mask. Then multi-head self-attention over a sequence x with projection
matrices W_q, W_k, W_v and W_o, where each position attends only to itself and to the
positions before it."

numpy only; no loops over positions. Grade it: make drill NAME=attention
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

type F64 = NDArray[np.float64]


def scaled_dot_product_attention(q: F64, k: F64, v: F64, *, causal: bool = False) -> F64:
    """softmax(q k^T / sqrt(d)) v for one head: (n_q, d_v).

    q is (n_q, d), k is (n_k, d), v is (n_k, d_v). Each row of the softmax weights is a
    probability distribution over the keys. With causal=True, query i may see key j only
    if j <= i + (n_k - n_q): the queries are the *last* n_q positions of the sequence (as
    in decoding with a KV cache); with n_q == n_k that is j <= i. Must not overflow for
    large scores.
    """
    raise NotImplementedError("drill attention: implement scaled_dot_product_attention")


def multi_head_attention(
    x: F64,
    w_q: F64,
    w_k: F64,
    w_v: F64,
    w_o: F64,
    n_heads: int,
) -> F64:
    """Causal multi-head self-attention: (seq, d_model) -> (seq, d_model).

    x is (seq, d_model). w_q, w_k and w_v are (d_model, n_heads * head_dim) and applied as
    x @ w; head h uses columns h * head_dim to (h + 1) * head_dim - 1 of each projection.
    The heads' outputs are concatenated in head order, (seq, n_heads * head_dim), and
    projected by w_o, (n_heads * head_dim, d_model). Position i attends to positions <= i.
    If n_heads does not divide the projection width, raise ValueError.
    """
    raise NotImplementedError("drill attention: implement multi_head_attention")
