"""A Llama/Qwen-style decoder in numpy, with a KV cache and token-by-token decoding.

The decoder-only transformer behind Llama 3, Qwen 2/3 and Mistral, small enough to read in one
sitting and exact enough to match Hugging Face `LlamaForCausalLM` logits (a test checks it
against a fixture; tests/foundations/fixtures/DECODER_REFERENCE.md says how that was made):

    ids -> embedding -> N x [ x += attention(RMSNorm(x)) ; x += SwiGLU(RMSNorm(x)) ]
        -> RMSNorm -> LM head -> logits (one row per position)

RMSNorm (arXiv:1910.07467) only rescales. RoPE (arXiv:2104.09864) rotates q and k by angles
proportional to position, so q.k depends only on the distance between tokens. In grouped-query
attention (GQA, arXiv:2305.13245) `n_heads` query heads share `n_kv_heads` key/value heads
(n_heads // n_kv_heads per group; n_kv_heads = n_heads is MHA, 1 is MQA). SwiGLU
(arXiv:2002.05202) is the gated MLP down(silu(gate(x)) * up(x)).

`prefill(prompt)` runs the prompt once and keeps every layer's keys and values in a KV cache;
`decode_step(token, cache)` runs one new token against them. The tests check that this gives
the logits of recomputing the whole sequence, for MHA, GQA and MQA.

subtle: RoPE here pairs dimensions (i, i + head_dim/2), the "half-split" (GPT-NeoX) layout HF
uses. Meta's original Llama checkpoints pair neighbours (2i, 2i+1), so HF's conversion script
permutes the rows of W_q and W_k in every head (`interleaved_to_half_split`). Skip it and the
model still runs, but talks nonsense.

Leaves out: batching and padding, sampling (see `sampling`), Qwen2's q/k/v biases, Qwen3's
QK-norm, sliding windows, MoE layers (see `moe`), YaRN's attention factor (see
`rope_scaling`), training, and low precision: everything is float64.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

type F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DecoderConfig:
    """The shape of the network. Defaults are a toy: 97 tokens, width 64, 2 layers, GQA 4:2."""

    vocab_size: int = 97
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 2
    head_dim: int = 16
    d_ff: int = 160
    rope_theta: float = 10_000.0
    rms_eps: float = 1e-6
    tie_embeddings: bool = False

    def __post_init__(self) -> None:
        if self.n_kv_heads < 1 or self.n_heads % self.n_kv_heads:
            raise ValueError(f"n_heads={self.n_heads} must be a multiple of n_kv_heads")
        if self.head_dim % 2:
            raise ValueError(f"RoPE rotates pairs, so head_dim must be even: {self.head_dim}")


@dataclass(frozen=True, slots=True)
class LayerWeights:
    """One block. Matrices are (in, out) so that `x @ w` applies them (PyTorch stores (out, in))."""

    attn_norm: F64  # (d_model,)
    wq: F64  # (d_model, n_heads * head_dim)
    wk: F64  # (d_model, n_kv_heads * head_dim)
    wv: F64  # (d_model, n_kv_heads * head_dim)
    wo: F64  # (n_heads * head_dim, d_model)
    mlp_norm: F64  # (d_model,)
    w_gate: F64  # (d_model, d_ff)
    w_up: F64  # (d_model, d_ff)
    w_down: F64  # (d_ff, d_model)


# Our field -> the HF tensor inside "model.layers.{i}." (plus ".weight").
HF_LAYER_NAMES = {
    "attn_norm": "input_layernorm",
    "wq": "self_attn.q_proj",
    "wk": "self_attn.k_proj",
    "wv": "self_attn.v_proj",
    "wo": "self_attn.o_proj",
    "mlp_norm": "post_attention_layernorm",
    "w_gate": "mlp.gate_proj",
    "w_up": "mlp.up_proj",
    "w_down": "mlp.down_proj",
}


def hf_weight_shapes(config: DecoderConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor of an HF `LlamaForCausalLM` with this config, by name; matrices (out, in).

    Example: hf_weight_shapes(DecoderConfig())["model.layers.0.self_attn.k_proj.weight"] -> (32, 64)
    """
    c = config
    d, q, kv, f = c.d_model, c.n_heads * c.head_dim, c.n_kv_heads * c.head_dim, c.d_ff
    per_layer = [(d,), (q, d), (kv, d), (kv, d), (d, q), (d,), (f, d), (f, d), (d, f)]
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (c.vocab_size, d)}
    for i in range(c.n_layers):
        for name, shape in zip(HF_LAYER_NAMES.values(), per_layer, strict=True):
            shapes[f"model.layers.{i}.{name}.weight"] = shape
    shapes["model.norm.weight"] = (d,)
    if not c.tie_embeddings:
        shapes["lm_head.weight"] = (c.vocab_size, d)
    return shapes


# -----------------------------------------------------------------------------
# the pieces


def rms_norm(x: F64, weight: F64, eps: float) -> F64:
    """x / sqrt(mean(x^2) + eps) * weight: fix each token vector's scale, keep its direction.

    Cheaper than LayerNorm (no mean, no bias) and works as well in practice.
    Example: rms_norm([3, 4], [1, 1], 0) -> [0.849, 1.131] (the RMS of [3, 4] is 3.54)
    """
    out: F64 = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight
    return out


def rope_inv_freq(head_dim: int, theta: float) -> F64:
    """Angular speed of each rotated pair: theta^(-2i/head_dim), i = 0 .. head_dim/2 - 1.

    Example: rope_inv_freq(4, 10_000) -> [1.0, 0.01] (wavelengths 6.3 and 628 tokens)
    """
    out: F64 = theta ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    return out


def rope_cos_sin(positions: NDArray[np.int64], inv_freq: F64) -> tuple[F64, F64]:
    """cos and sin of every (position, pair) angle, repeated for both halves: (seq, head_dim)."""
    angles = positions[:, None].astype(np.float64) * inv_freq[None, :]
    angles = np.concatenate([angles, angles], axis=-1)
    return np.cos(angles), np.sin(angles)


def rotate_half(x: F64) -> F64:
    """[x1, x2] -> [-x2, x1] over the last axis: a 90-degree turn of every (i, i + d/2) pair."""
    x1, x2 = np.split(x, 2, axis=-1)
    return np.concatenate([-x2, x1], axis=-1)


def apply_rope(x: F64, cos: F64, sin: F64) -> F64:
    """Rotate each pair by its angle: x cos + rotate_half(x) sin. x is (..., seq, head_dim)."""
    out: F64 = x * cos + rotate_half(x) * sin
    return out


def interleaved_to_half_split(w: F64, n_heads: int) -> F64:
    """Reorder a W_q or W_k (in, out) from Meta's (2i, 2i+1) pairing to HF's (i, i + d/2).

    Within each head, output column 2i moves to i and 2i+1 moves to i + d/2. Attention scores
    are unchanged; only the layout of the rotated pairs is.
    Example: one head, columns [a0, b0, a1, b1] -> [a0, a1, b0, b1]
    """
    d_in, d_out = w.shape
    head_dim = d_out // n_heads
    out: F64 = w.reshape(d_in, n_heads, head_dim // 2, 2).transpose(0, 1, 3, 2).reshape(d_in, -1)
    return out


def softmax(x: F64) -> F64:
    """Softmax over the last axis, shifted by the max so exp() cannot overflow."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out: F64 = e / e.sum(axis=-1, keepdims=True)
    return out


def gqa_attention(q: F64, k: F64, v: F64, start: int) -> F64:
    """Causal grouped-query attention for queries at positions start .. start + seq - 1.

    q is (n_heads, seq, head_dim); k and v are (n_kv_heads, start + seq, head_dim). Query head h
    reads KV head h // group_size (HF's `repeat_kv` order). Reshaping q into groups lets every
    group use its KV head directly, with no copy of K or V.
    """
    n_heads, seq, head_dim = q.shape
    n_kv, total, _ = k.shape
    groups = q.reshape(n_kv, n_heads // n_kv, seq, head_dim)
    scores = np.einsum("hgsd,htd->hgst", groups, k) / np.sqrt(head_dim)
    # (seq, total): query row i sits at position start + i
    visible = np.arange(total)[None, :] <= start + np.arange(seq)[:, None]
    weights = softmax(np.where(visible, scores, -np.inf))
    out: F64 = np.einsum("hgst,htd->hgsd", weights, v).reshape(n_heads, seq, head_dim)
    return out


def swiglu(x: F64, layer: LayerWeights) -> F64:
    """down(silu(x @ gate) * (x @ up)): a gated MLP; silu(z) = z * sigmoid(z)."""
    gate = x @ layer.w_gate
    out: F64 = (gate / (1.0 + np.exp(-gate)) * (x @ layer.w_up)) @ layer.w_down
    return out


# -----------------------------------------------------------------------------
# the KV cache and the model


@dataclass(slots=True)
class KVCache:
    """Per-layer keys and values, preallocated to `capacity` positions, of which `length` are
    filled. Preallocating avoids copying the whole cache every step (np.concatenate would);
    servers reserve cache memory up front for the same reason."""

    keys: list[F64]  # per layer: (n_kv_heads, capacity, head_dim)
    values: list[F64]
    length: int = 0

    @classmethod
    def allocate(cls, config: DecoderConfig, capacity: int) -> KVCache:
        shape = (config.n_kv_heads, capacity, config.head_dim)
        layers = range(config.n_layers)
        return cls([np.zeros(shape) for _ in layers], [np.zeros(shape) for _ in layers])

    @property
    def nbytes(self) -> int:
        """Bytes in use: 2 (K, V) x layers x kv_heads x length x head_dim x 8 bytes."""
        return 2 * sum(int(k[:, : self.length].nbytes) for k in self.keys)

    def store(self, layer: int, k: F64, v: F64) -> tuple[F64, F64]:
        """Write new keys/values after the filled part; return all so far (as views)."""
        end, capacity = self.length + k.shape[1], self.keys[layer].shape[1]
        if end > capacity:
            raise ValueError(f"KV cache full: {end} positions > capacity {capacity}")
        self.keys[layer][:, self.length : end] = k
        self.values[layer][:, self.length : end] = v
        return self.keys[layer][:, :end], self.values[layer][:, :end]


@dataclass(frozen=True, slots=True)
class Decoder:
    """A decoder-only LM. Example:
    model = Decoder.random(DecoderConfig(), seed=0)
    logits, cache = model.prefill([1, 2, 3])      # (3, 97)
    next_logits = model.decode_step(5, cache)     # (97,) == model.forward([1, 2, 3, 5])[-1]
    """

    config: DecoderConfig
    embed: F64  # (vocab, d_model)
    layers: tuple[LayerWeights, ...]
    final_norm: F64  # (d_model,)
    lm_head: F64  # (d_model, vocab); embed.T when the embeddings are tied
    inv_freq: F64  # (head_dim / 2,): rope_inv_freq(...) or a scaled one from `rope_scaling`

    @classmethod
    def random(cls, config: DecoderConfig, seed: int = 0) -> Decoder:
        """Random weights, matrices scaled by 1/sqrt(fan_in) so activations stay O(1)."""
        rng = np.random.default_rng(seed)
        state: dict[str, F64] = {}
        for name, shape in hf_weight_shapes(config).items():
            if len(shape) == 1:  # a norm's gain: close to 1
                state[name] = 1.0 + 0.1 * rng.standard_normal(shape)
            else:
                state[name] = rng.standard_normal(shape) / np.sqrt(shape[1])
        return cls.from_hf_state_dict(config, state)

    @classmethod
    def from_hf_state_dict(
        cls, config: DecoderConfig, state: Mapping[str, NDArray[Any]], inv_freq: F64 | None = None
    ) -> Decoder:
        """Load `LlamaForCausalLM.state_dict()` tensors (as numpy), transposing (out, in) once.

        inv_freq defaults to plain RoPE with config.rope_theta; pass a scaled one for Llama 3.1.
        """

        def load(name: str) -> F64:
            w = np.asarray(state[name], dtype=np.float64)
            return np.ascontiguousarray(w.T) if w.ndim == 2 else w

        layers = tuple(
            LayerWeights(
                **{f: load(f"model.layers.{i}.{n}.weight") for f, n in HF_LAYER_NAMES.items()}
            )
            for i in range(config.n_layers)
        )
        embed = np.asarray(state["model.embed_tokens.weight"], dtype=np.float64)
        head = embed.T if config.tie_embeddings else load("lm_head.weight")
        if inv_freq is None:
            inv_freq = rope_inv_freq(config.head_dim, config.rope_theta)
        return cls(config, embed, layers, load("model.norm.weight"), head, inv_freq)

    def _attention(
        self, h: F64, layer: LayerWeights, rope: tuple[F64, F64], cache: KVCache | None, i: int
    ) -> F64:
        c, seq = self.config, h.shape[0]
        q = (h @ layer.wq).reshape(seq, c.n_heads, c.head_dim).transpose(1, 0, 2)
        k = (h @ layer.wk).reshape(seq, c.n_kv_heads, c.head_dim).transpose(1, 0, 2)
        v = (h @ layer.wv).reshape(seq, c.n_kv_heads, c.head_dim).transpose(1, 0, 2)
        q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        start = 0
        if cache is not None:  # attend to everything cached so far, plus these tokens
            start = cache.length
            k, v = cache.store(i, k, v)
        out: F64 = gqa_attention(q, k, v, start).transpose(1, 0, 2).reshape(seq, -1) @ layer.wo
        return out

    def forward(self, tokens: Sequence[int], cache: KVCache | None = None) -> F64:
        """Logits (len(tokens), vocab). Without a cache: the whole sequence from position 0, the
        full recomputation. With one: positions cache.length onwards, appending to the cache."""
        c = self.config
        start = 0 if cache is None else cache.length
        rope = rope_cos_sin(np.arange(start, start + len(tokens)), self.inv_freq)
        x = self.embed[np.asarray(tokens, dtype=np.int64)]
        for i, layer in enumerate(self.layers):
            x = x + self._attention(rms_norm(x, layer.attn_norm, c.rms_eps), layer, rope, cache, i)
            x = x + swiglu(rms_norm(x, layer.mlp_norm, c.rms_eps), layer)
        if cache is not None:
            cache.length += len(tokens)
        out: F64 = rms_norm(x, self.final_norm, c.rms_eps) @ self.lm_head
        return out

    def prefill(self, tokens: Sequence[int], capacity: int | None = None) -> tuple[F64, KVCache]:
        """Run the prompt once, filling a new cache (default capacity: 2 x the prompt + 16)."""
        if not tokens:
            raise ValueError("prefill needs at least one token")
        cache = KVCache.allocate(self.config, capacity or 2 * len(tokens) + 16)
        return self.forward(tokens, cache), cache

    def decode_step(self, token: int, cache: KVCache) -> F64:
        """Logits (vocab,) for one new token: its query meets the cached keys, O(length) work
        instead of recomputing all length tokens."""
        out: F64 = self.forward([token], cache)[0]
        return out

    def generate_greedy(
        self, prompt: Sequence[int], n_new: int, *, use_cache: bool = True
    ) -> list[int]:
        """Append the argmax token n_new times; use_cache=False recomputes everything each step."""
        tokens = list(prompt)
        if not use_cache:
            for _ in range(n_new):
                tokens.append(int(np.argmax(self.forward(tokens)[-1])))
            return tokens
        logits, cache = self.prefill(tokens, capacity=len(tokens) + n_new)
        next_logits = logits[-1]
        for step in range(n_new):
            tokens.append(int(np.argmax(next_logits)))
            if step < n_new - 1:
                next_logits = self.decode_step(tokens[-1], cache)
        return tokens
