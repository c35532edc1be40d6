"""Quantizing a real model: every linear weight of all-MiniLM-L6-v2, measured on embeddings.

The foundations chapter runs the real MiniLM encoder in numpy (`llmprep.foundations.minilm`).
This module replaces each of its 36 linear weights (query, key, value, attention output and
the two feed-forward matrices of six layers) by its quantized-and-dequantized copy under a
`QuantScheme` (INT8 per tensor, INT4 per channel, INT4 in groups of 32 inputs, ...), runs
the encoder again, and measures what a user of the embeddings would notice:

    cosine(fp32 embedding, quantized embedding)       mean and worst case over the sentences
    Spearman correlation of the two similarity matrices  (is the ranking of pairs kept?)
    top-k neighbor agreement                            (does search return the same hits?)

It also records the inputs of every linear layer, to show the *activation outliers* that make
activation quantization hard (a few channels far larger than the rest, Dettmers et al. 2022),
and measures how SmoothQuant's smoothing (Xiao et al. 2023) changes the W8A8 error of one
real layer.

The sentences are the prompts of `chapters/_data/production/cache_pairs.yml` (short support
and developer questions), so the measurement uses the traffic the book's semantic cache sees.

Leaves out: the embedding table and LayerNorms (kept in float32, as LLM toolkits keep
embeddings and norms in 16-bit), real integer kernels (fake quantization measures the same
error in float), and calibration-based methods (GPTQ, AWQ). A 22.7 M-parameter encoder is a
small model; small models are *more* sensitive to quantization than 7B+ decoders, so these
numbers are a pessimistic guide for large LLMs, not a prediction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import spearmanr

from llmprep.foundations.minilm import (
    F32,
    LayerWeights,
    Mask,
    MiniLM,
    attention,
    embed,
    gelu,
    layer_norm,
    linear,
    merge_heads,
    split_heads,
)
from llmprep.inference.quantization import QuantScheme, fake_quantize
from llmprep.production.cache import load_cache_pairs

LINEARS = ("q_w", "k_w", "v_w", "o_w", "ff1_w", "ff2_w")

SCHEMES: tuple[QuantScheme, ...] = (
    QuantScheme("INT8 per tensor", 8, "tensor"),
    QuantScheme("INT8 per channel", 8, "channel"),
    QuantScheme("INT4 per channel", 4, "channel"),
    QuantScheme("INT4 g=128", 4, "group", 128),
    QuantScheme("INT4 g=64", 4, "group", 64),
    QuantScheme("INT4 g=32", 4, "group", 32),
    QuantScheme("INT3 g=32", 3, "group", 32),
)


def sentences() -> list[str]:
    """The unique prompts of the semantic-cache pairs, in file order (283 as of 2026-12-02)."""
    pairs = load_cache_pairs()
    return list(dict.fromkeys(text for p in pairs for text in (p.a, p.b)))


def quantize_minilm(model: MiniLM, scheme: QuantScheme) -> MiniLM:
    """A copy of `model` whose linear weights are fake-quantized under `scheme`.

    MiniLM stores weights (in, out) for `x @ w`; quantization works on PyTorch's (out, in)
    layout, so per-channel means per output feature and groups run along the inputs.
    Biases, embeddings and LayerNorms are untouched.
    """
    layers = []
    for layer in model.layers:
        changes = {
            name: fake_quantize(getattr(layer, name).T, scheme).T.astype(np.float32)
            for name in LINEARS
        }
        layers.append(dataclasses.replace(layer, **changes))
    return dataclasses.replace(model, layers=tuple(layers))


@dataclass(frozen=True, slots=True)
class WeightError:
    """The error of all linear weights of the model under one scheme, taken together."""

    bits_per_weight: float  # including scales (16-bit), averaged over the weights
    sqnr_db: float  # 10 log10(sum w^2 / sum (w - w')^2)
    relative_rmse: float  # ||w - w'|| / ||w||
    max_abs: float  # the largest single-weight error


def weight_error(model: MiniLM, scheme: QuantScheme) -> WeightError:
    """Quantize every linear weight and measure the error over all of them at once."""
    signal = noise = bits = 0.0
    count = 0
    worst = 0.0
    for layer in model.layers:
        for name in LINEARS:
            w = getattr(layer, name).T.astype(np.float64)  # (out, in)
            err = w - fake_quantize(w, scheme)
            signal += float(np.sum(w**2))
            noise += float(np.sum(err**2))
            worst = max(worst, float(np.max(np.abs(err))))
            bits += scheme.bits_per_weight(w.shape[1]) * w.size
            count += w.size
    sqnr = float("inf") if noise == 0 else 10 * float(np.log10(signal / noise))
    return WeightError(bits / count, sqnr, float(np.sqrt(noise / signal)), worst)


@dataclass(frozen=True, slots=True)
class EmbeddingAgreement:
    """How closely quantized embeddings reproduce the fp32 ones, in the terms a search uses."""

    cosine_mean: float  # mean of cos(e_fp32, e_quant) over the sentences
    cosine_min: float  # the worst sentence
    spearman: float  # rank correlation of all pairwise similarities (upper triangle)
    top_k: float  # mean share of each sentence's k nearest neighbors that stay the same
    k: int


def _neighbors(emb: NDArray[np.floating], k: int) -> NDArray[np.int64]:
    sims = emb @ emb.T
    np.fill_diagonal(sims, -np.inf)  # a sentence is not its own neighbor
    out: NDArray[np.int64] = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return out


def agreement(
    reference: NDArray[np.floating], other: NDArray[np.floating], *, k: int = 5
) -> EmbeddingAgreement:
    """Compare two sets of unit-length embeddings of the same sentences (rows)."""
    if reference.shape != other.shape or reference.ndim != 2:
        raise ValueError(f"need two (n, d) arrays of one shape: {reference.shape}, {other.shape}")
    n = reference.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be in 1..{n - 1} for {n} sentences, got {k}")
    ref = reference.astype(np.float64)
    oth = other.astype(np.float64)
    cos = np.sum(ref * oth, axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(oth, axis=1))
    upper = np.triu_indices(n, 1)
    rho = float(spearmanr((ref @ ref.T)[upper], (oth @ oth.T)[upper]).statistic)
    a, b = _neighbors(ref, k), _neighbors(oth, k)
    overlap = np.mean([len(set(a[i]) & set(b[i])) / k for i in range(n)])
    return EmbeddingAgreement(float(cos.mean()), float(cos.min()), rho, float(overlap), k)


def compare_schemes(
    model: MiniLM,
    texts: Sequence[str],
    schemes: Sequence[QuantScheme] = SCHEMES,
    *,
    reference: F32 | None = None,
    k: int = 5,
) -> dict[str, EmbeddingAgreement]:
    """Encode `texts` with each quantized copy of `model` and compare with fp32.

    Pass `reference` (the fp32 embeddings of `texts`) to skip the fp32 run.
    """
    ref = model.encode(texts) if reference is None else reference
    return {s.name: agreement(ref, quantize_minilm(model, s).encode(texts), k=k) for s in schemes}


# ------------------------------------------------------------------------------------------
# activations: what the linear layers see


def _layer_capturing(
    x: F32, mask: Mask, layer: LayerWeights, n_heads: int, eps: float, out: dict[str, F32]
) -> F32:
    """`minilm.encoder_layer`, step by step, recording each linear layer's input."""
    out["qkv"] = x
    q = split_heads(linear(x, layer.q_w, layer.q_b), n_heads)
    k = split_heads(linear(x, layer.k_w, layer.k_b), n_heads)
    v = split_heads(linear(x, layer.v_w, layer.v_b), n_heads)
    heads, _ = attention(q, k, v, mask)
    merged = merge_heads(heads)
    out["o"] = merged
    x = layer_norm(x + linear(merged, layer.o_w, layer.o_b), layer.ln1_gamma, layer.ln1_beta, eps)
    out["ff1"] = x
    hidden = gelu(linear(x, layer.ff1_w, layer.ff1_b))
    out["ff2"] = hidden
    return layer_norm(
        x + linear(hidden, layer.ff2_w, layer.ff2_b), layer.ln2_gamma, layer.ln2_beta, eps
    )


def linear_inputs(model: MiniLM, texts: Sequence[str]) -> dict[str, F32]:
    """The input of every linear layer, real tokens only, as (tokens, in_features) arrays.

    Keys are "L<layer>.<site>" with site qkv (shared by q, k, v), o, ff1 or ff2; the last
    hidden state is under "final". Padding positions are dropped.
    """
    ids, mask, _ = model.tokenize(list(texts))
    cfg = model.config
    x = embed(ids, model.embeddings, cfg.layer_norm_eps)
    found: dict[str, F32] = {}
    for i, layer in enumerate(model.layers):
        sites: dict[str, F32] = {}
        x = _layer_capturing(x, mask, layer, cfg.n_heads, cfg.layer_norm_eps, sites)
        for site, value in sites.items():
            found[f"L{i}.{site}"] = value[mask]
    found["final"] = x[mask]
    return found


def outlier_ratio(x: NDArray[np.floating]) -> float:
    """Largest per-channel max |activation| over the median channel's: 1 means no outliers."""
    per_channel = np.max(np.abs(x), axis=0)
    return float(per_channel.max() / np.median(per_channel))


def weight_for_site(layer: LayerWeights, site: str) -> F32:
    """The (in, out) weight that consumes the input recorded at `site` (q_w for qkv)."""
    names = {"qkv": "q_w", "o": "o_w", "ff1": "ff1_w", "ff2": "ff2_w"}
    if site not in names:
        raise ValueError(f"unknown site {site!r}; expected one of {sorted(names)}")
    w: F32 = getattr(layer, names[site])
    return w
