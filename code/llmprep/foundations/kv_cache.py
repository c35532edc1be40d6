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

That formula (`kv_cache_bytes`) is exact for MHA, GQA and MQA with full attention in every
layer. Late-2026 models break it in three ways, which `kv_cache_bytes_for_context` handles:

- Multi-head latent attention (DeepSeek-V2/V3, Kimi K2) caches one latent of kv_lora_rank
  plus one rotary key of qk_rope_head_dim per token per layer, shared by all heads:
  DeepSeek-V3 holds 61 x (512 + 64) x 2 bytes = 68.6 KiB per token in bf16, about half of
  Llama-3.1-8B's 128 KiB for an 84x larger model, and 71x less than caching its 128 heads'
  keys and values (`mla_decompressed_kv_bytes_per_token`).
- Sliding-window ("local") layers attend only to the last `sliding_window` tokens, so their
  cache stops growing there. gpt-oss-120b alternates 128-token banded layers with full ones:
  past 128 tokens only half of its layers grow. Mistral-7B-v0.1 windows every layer at 4,096.
- The cache can itself be quantized. `KVCacheFormat` states the bytes per element, including
  the per-group scales an int4 cache needs (`KV_BF16`, `KV_FP8`, `KV_INT4`).

Leaves out: paged allocation (vLLM) and its block rounding, linear-attention and state-space
layers (Jamba, Qwen3-Next), cache eviction (H2O, StreamingLLM's sinks), prefix sharing, and
MLA caches that keep the rotary key in higher precision than the latent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from llmprep.foundations.model_shapes import ModelShape


def kv_cache_bytes(
    shape: ModelShape, *, seq_len: int, batch: int = 1, bytes_per_elem: float = 2
) -> float:
    """Size of the KV cache for `batch` sequences of `seq_len` tokens.

    Every layer is assumed to keep every token (full attention): a sliding window in the
    shape is ignored here, so this is the eq-kv-cache number. For an MLA shape the cached
    element count is the latent's (see `kv_elements_per_token_per_layer`). Use
    `kv_cache_bytes_for_context` to cap local layers at their window.

    Example: kv_cache_bytes(LLAMA_3_1_8B, seq_len=131072) / 2**30 -> 16.0 (GiB, bf16)
    """
    _check_sizes(seq_len, batch, bytes_per_elem)
    if shape.mla is not None:
        return shape.n_layers * shape.mla.cached_dim * seq_len * batch * bytes_per_elem
    return 2 * shape.n_layers * shape.n_kv_heads * shape.head_dim * seq_len * batch * bytes_per_elem


def _check_sizes(seq_len: int, batch: int, bytes_per_elem: float) -> None:
    if seq_len < 0 or batch < 0 or bytes_per_elem <= 0:
        raise ValueError(
            "seq_len and batch must be >= 0 and bytes_per_elem > 0, got "
            f"seq_len={seq_len}, batch={batch}, bytes_per_elem={bytes_per_elem}"
        )


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
    if shape.mla is not None:
        raise ValueError(
            f"{shape.name} uses multi-head latent attention: it has no KV heads to regroup "
            "(compare kv_bytes_per_token with mla_decompressed_kv_bytes_per_token instead)"
        )
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


# -----------------------------------------------------------------------------
# Late-2026 layouts: MLA, sliding-window layers, quantized caches


def kv_elements_per_token_per_layer(shape: ModelShape) -> int:
    """Numbers one layer caches for one token.

    MHA/GQA/MQA: a key and a value per KV head, 2 x n_kv_heads x head_dim.
    MLA: the latent and the shared rotary key, kv_lora_rank + qk_rope_head_dim.

    Example: LLAMA_3_1_8B -> 2 x 8 x 128 = 2048; DEEPSEEK_V3 -> 512 + 64 = 576
    """
    if shape.mla is not None:
        return shape.mla.cached_dim
    return 2 * shape.n_kv_heads * shape.head_dim


def cached_tokens_per_layer(shape: ModelShape, seq_len: int) -> tuple[int, ...]:
    """Tokens each layer holds after `seq_len` tokens: all of them on a global layer, at most
    `sliding_window` on a local one.

    Example: cached_tokens_per_layer(GPT_OSS_120B, 1000)[:2] -> (128, 1000)
    """
    window = shape.sliding_window
    return tuple(
        min(seq_len, window) if kind == "local" and window is not None else seq_len
        for kind in shape.layer_kinds
    )


def kv_cache_bytes_for_context(
    shape: ModelShape, *, seq_len: int, batch: int = 1, bytes_per_elem: float = 2
) -> float:
    """KV cache for `batch` sequences of `seq_len` tokens, layer by layer: local layers
    capped at the sliding window, MLA layers caching their latent.

    bytes_per_elem is the cache's storage cost per number; for a quantized cache pass a
    format's `bytes_per_element` (e.g. KV_INT4.bytes_per_element = 0.5625).

    Examples (bf16, one sequence):
        DEEPSEEK_V3 at 128k tokens: 61 x 576 x 2 x 131072 bytes = 8.58 GiB
        GPT_OSS_120B at 128k: 18 global layers x 131072 + 18 local x 128 tokens, each
        2 x 8 x 64 x 2 bytes -> 4.5 GiB (9.0 GiB if every layer were global)
        MISTRAL_7B at 32k: capped at 4,096 tokens -> 512 MiB (kv_cache_bytes: 4 GiB)
    """
    _check_sizes(seq_len, batch, bytes_per_elem)
    per_layer_token = kv_elements_per_token_per_layer(shape) * bytes_per_elem
    return per_layer_token * sum(cached_tokens_per_layer(shape, seq_len)) * batch


def mla_decompressed_kv_bytes_per_token(shape: ModelShape, bytes_per_elem: float = 2) -> float:
    """What an MLA model would cache per token if it stored every head's key and value, as the
    naive implementation does: n_heads x (qk_nope + qk_rope + v_head_dim) per layer.

    Example: DEEPSEEK_V3 -> 61 x 128 x (128 + 64 + 128) x 2 bytes = 4.77 MiB, 71x its latent
    """
    if shape.mla is None:
        raise ValueError(f"{shape.name} does not use multi-head latent attention")
    m = shape.mla
    return shape.n_layers * shape.n_heads * (m.qk_head_dim + m.v_head_dim) * bytes_per_elem


def max_concurrent_sequences(
    shape: ModelShape, budget_bytes: float, *, seq_len: int, bytes_per_elem: float = 2
) -> int:
    """How many sequences of `seq_len` tokens fit their KV cache in a memory budget, with
    windows and MLA accounted for (`kv_cache_bytes_for_context`).

    Example: 40 GB for Llama-3.1-8B's cache at 8k tokens in bf16 -> 37 sequences
    """
    per_sequence = kv_cache_bytes_for_context(shape, seq_len=seq_len, bytes_per_elem=bytes_per_elem)
    if per_sequence == 0:
        raise ValueError("a sequence of 0 tokens needs no cache")
    return int(budget_bytes // per_sequence)


@dataclass(frozen=True, slots=True)
class KVCacheFormat:
    """How the cache stores each number: `bits` per element, plus, for group-wise formats, one
    scale (and optionally one zero point) of `scale_bits` per `group_size` elements.

    Per-tensor or per-head scales (group_size None) cost a few bytes per layer: counted as 0.
    """

    name: str
    bits: float
    group_size: int | None = None
    scale_bits: float = 16
    zero_point: bool = False

    @property
    def bits_per_element(self) -> float:
        if self.group_size is None:
            return self.bits
        per_group = self.scale_bits * (2 if self.zero_point else 1)
        return self.bits + per_group / self.group_size

    @property
    def bytes_per_element(self) -> float:
        return self.bits_per_element / 8


KV_BF16 = KVCacheFormat("bf16", bits=16)
# FP8 (e4m3) caches in vLLM and TensorRT-LLM use one scale per tensor (or per head): free.
KV_FP8 = KVCacheFormat("fp8 e4m3, per-tensor scale", bits=8)
# An assumption stated here, not a standard: asymmetric int4 (KIVI-style) with an fp16 scale
# and an fp16 zero point per group of 64 elements, so 4 + 32/64 = 4.5 bits per element.
KV_INT4 = KVCacheFormat("int4, group 64, fp16 scale + zero", bits=4, group_size=64, zero_point=True)
KV_CACHE_FORMATS: tuple[KVCacheFormat, ...] = (KV_BF16, KV_FP8, KV_INT4)
