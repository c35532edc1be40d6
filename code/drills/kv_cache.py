"""Drill: a KV cache for incremental decoding, with grouped-query attention.

"A decoder generates one token at a time. Instead of recomputing the keys and values of
the whole sequence at every step, keep them in a cache. Write the cache (preallocated, one
buffer per layer) and the attention of new queries against it. Incremental decoding must
give the same logits as recomputing everything."

The model calls your cache like this, for each layer i of a forward pass over new tokens:
    k_all, v_all = cache.store(i, k_new, v_new)      # then attends over k_all, v_all
and after the last layer it adds the number of new tokens to cache.length itself.
numpy only. Grade it: make drill NAME=kv-cache
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

type F64 = NDArray[np.float64]


class CacheShape(Protocol):
    """What the cache needs to know about the model (a `DecoderConfig` has these)."""

    n_layers: int
    n_kv_heads: int
    head_dim: int


@dataclass(slots=True)
class KVCache:
    """Per-layer keys and values, each (n_kv_heads, capacity, head_dim), of which the
    first `length` positions are filled."""

    keys: list[F64]
    values: list[F64]
    length: int = 0

    @classmethod
    def allocate(cls, config: CacheShape, capacity: int) -> KVCache:
        """An empty cache: zero buffers of `capacity` positions for every layer."""
        raise NotImplementedError("drill kv-cache: implement KVCache.allocate")

    @property
    def nbytes(self) -> int:
        """Bytes holding cached positions (the first `length`), keys and values together."""
        raise NotImplementedError("drill kv-cache: implement KVCache.nbytes")

    def store(self, layer: int, k: F64, v: F64) -> tuple[F64, F64]:
        """Write k and v (n_kv_heads, new, head_dim) at positions length .. length + new - 1
        of `layer`; return that layer's keys and values for positions 0 .. length + new - 1
        (views, not copies). Does not change `length`. If it would overflow: a ValueError
        whose message says "capacity" or "full" (check first; do not rely on numpy's).
        """
        raise NotImplementedError("drill kv-cache: implement KVCache.store")


def gqa_attention(q: F64, k: F64, v: F64, start: int) -> F64:
    """Causal grouped-query attention for new queries at positions start, start + 1, ...

    q is (n_heads, seq, head_dim); k and v are (n_kv_heads, start + seq, head_dim), the
    cached positions plus the new ones. Query head h reads KV head h // (n_heads //
    n_kv_heads). The query at position start + i sees keys 0 .. start + i. Scale the
    scores by 1 / sqrt(head_dim). Returns (n_heads, seq, head_dim).
    """
    raise NotImplementedError("drill kv-cache: implement gqa_attention")
