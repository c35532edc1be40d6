"""KV-cache arithmetic: why long contexts and big batches run out of GPU memory.

When a decoder generates token t, attention needs the keys and values of tokens 0..t-1.
Recomputing them every step would cost O(t) extra work per token, so servers keep them: the
KV cache. Per token, every layer stores one key and one value vector per KV head:

    bytes = 2 (K and V) x layers x kv_heads x head_dim x seq_len x batch x bytes_per_elem

Unlike the weights, this grows with context length and with the number of concurrent
requests. For Llama-3.1-8B in bf16 it is 128 KiB per token, so one 128k-token conversation
holds 16 GiB of cache, as much as the weights themselves.

Multi-query (MQA, Shazeer 2019) and grouped-query attention (GQA, Ainslie et al. 2023) shrink
the cache by letting several query heads share one key/value head: MHA has kv_heads = heads,
MQA has 1, GQA sits in between (Llama-3.1-8B: 32 query heads, 8 KV heads, a 4x saving).

Leaves out: paged allocation (vLLM), sliding-window attention (which caps seq_len), KV
quantisation beyond choosing bytes_per_elem, and multi-head latent attention (DeepSeek).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from llmprep.foundations.model_shapes import ModelShape


def kv_cache_bytes(
    shape: ModelShape, *, seq_len: int, batch: int = 1, bytes_per_elem: float = 2
) -> float:
    """Size of the KV cache for `batch` sequences of `seq_len` tokens.

    Example: kv_cache_bytes(LLAMA_3_1_8B, seq_len=131072) / 2**30 -> 16.0 (GiB, bf16)
    """
    if seq_len < 0 or batch < 0 or bytes_per_elem <= 0:
        raise ValueError(
            "seq_len and batch must be >= 0 and bytes_per_elem > 0, got "
            f"seq_len={seq_len}, batch={batch}, bytes_per_elem={bytes_per_elem}"
        )
    return 2 * shape.n_layers * shape.n_kv_heads * shape.head_dim * seq_len * batch * bytes_per_elem


def kv_bytes_per_token(shape: ModelShape, bytes_per_elem: float = 2) -> float:
    """Cache added by one more token of context (one sequence)."""
    return kv_cache_bytes(shape, seq_len=1, batch=1, bytes_per_elem=bytes_per_elem)


def max_cached_tokens(shape: ModelShape, budget_bytes: float, bytes_per_elem: float = 2) -> int:
    """How many tokens (summed over all sequences in a batch) fit in a memory budget.

    Example: 40 GB left after loading weights, Llama-3.1-8B in bf16 -> about 305k tokens,
    e.g. 37 concurrent requests at 8k tokens each.
    """
    return int(budget_bytes // kv_bytes_per_token(shape, bytes_per_elem))


@dataclass(frozen=True, slots=True)
class AttentionVariant:
    """One row of an MHA / GQA / MQA comparison for a fixed model and workload."""

    name: str  # "MHA", "GQA", "MQA"
    n_kv_heads: int
    kv_cache_bytes: float
    relative_to_mha: float  # 1.0 for MHA, 0.25 for 4x GQA, ...


def compare_attention_variants(
    shape: ModelShape, *, seq_len: int, batch: int = 1, bytes_per_elem: float = 2
) -> list[AttentionVariant]:
    """The same model with every query head its own KV head (MHA), with the model's own
    grouping (GQA) and with a single shared KV head (MQA).

    Only the cache is compared; quality is not free (MQA can lose accuracy, which is why
    GQA became the common middle ground).
    """
    variants = [("MHA", shape.n_heads), ("GQA", shape.n_kv_heads), ("MQA", 1)]
    mha = kv_cache_bytes(
        replace(shape, n_kv_heads=shape.n_heads),
        seq_len=seq_len,
        batch=batch,
        bytes_per_elem=bytes_per_elem,
    )
    rows = []
    for name, kv_heads in variants:
        size = kv_cache_bytes(
            replace(shape, n_kv_heads=kv_heads),
            seq_len=seq_len,
            batch=batch,
            bytes_per_elem=bytes_per_elem,
        )
        rows.append(AttentionVariant(name, kv_heads, size, size / mha))
    return rows
