"""Mixture-of-experts routing in numpy: gates, capacity, balancing, and what a batch touches.

An MoE layer replaces one feed-forward network with E experts and a router. Each token is sent
to its top-k experts and gets their outputs mixed by gate weights, so a token pays for k
experts while the model stores E:

    x -> router logits (E) -> top-k -> y = sum_{i in top-k} g_i expert_i(x) [+ shared(x)]

Two gates are in use. Mixtral (arXiv:2401.04088; 8 experts, top-2) takes a softmax over all
experts, keeps the top k and renormalises them to sum to 1; gpt-oss-120b (arXiv:2508.10925;
128 experts, top-4) takes a softmax over the top-k logits, which is the same thing.
DeepSeek-V3 (arXiv:2412.19437; 256 routed experts, top-8, plus 1 shared expert every token
uses) scores each expert with a sigmoid, normalises the k chosen scores and multiplies by
routed_scaling_factor = 2.5. Qwen3-235B-A22B (arXiv:2505.09388) uses 128 experts, top-8, no
shared expert. Fine-grained, shared experts are the DeepSeekMoE design (arXiv:2401.06066).

Balancing. A router left alone sends most tokens to a few experts, which then train faster and
attract even more. Switch Transformer (arXiv:2101.03961) adds an auxiliary loss
N * sum_i f_i P_i (f_i: fraction of assignments to expert i, P_i: its mean router
probability), 1 when routing is uniform. DeepSeek-V3 instead adds a per-expert bias to the
scores used for *choosing* experts only (not for the gate weights) and nudges it after every
step: down by gamma if the expert was overloaded, up if underloaded (gamma = 0.001 for its first
14.3T tokens; Wang et al. 2024, arXiv:2408.15664). With a capacity factor (GShard,
arXiv:2006.16668; Switch), each expert takes at most ceil(cf * tokens * k / E) assignments and
drops the rest: a dropped token skips that expert and goes on through the residual.

Serving consequence: under uniform routing a batch of T tokens touches a fraction
1 - (1 - k/E)^T of the experts. Eight tokens touch 90% of Mixtral's experts but 22% of
DeepSeek-V3's, so "a decode step streams all the weights anyway" holds for Mixtral and not for
fine-grained MoEs at small batch (`expected_fraction_touched`).

Leaves out: expert parallelism and the all-to-all exchange, DeepSeek-V3's group-limited routing
(8 groups, 4 chosen) and sequence-wise balance loss, expert-choice routing, router jitter, and
training the experts; gradients are not computed anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

type F64 = NDArray[np.float64]
type Ids = NDArray[np.int64]


def top_k(scores: F64, k: int) -> Ids:
    """Indices (tokens, k) of each row's k largest scores, best first; ties go to the lower index.

    Example: top_k([[0.1, 0.5, 0.4]], 2) -> [[1, 2]]
    """
    out: Ids = np.argsort(-np.asarray(scores), axis=-1, kind="stable")[..., :k]
    return out


def softmax_topk_gate(logits: F64, k: int) -> tuple[Ids, F64]:
    """Mixtral's gate: softmax over all experts, keep the top k, renormalise them to sum to 1.

    Example: logits [[2, 1, 0, -1]], k=2 -> experts [[0, 1]], weights [[0.731, 0.269]]
    (the same as a softmax over the two kept logits).
    """
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs = z / z.sum(axis=-1, keepdims=True)
    idx = top_k(probs, k)
    chosen = np.take_along_axis(probs, idx, axis=-1)
    return idx, chosen / chosen.sum(axis=-1, keepdims=True)


def sigmoid_topk_gate(
    logits: F64, k: int, bias: F64 | None = None, routed_scaling: float = 1.0
) -> tuple[Ids, F64]:
    """DeepSeek-V3's gate: choose by sigmoid(logits) + bias, weigh by the unbiased scores.

    The bias only changes *which* experts are chosen; the weights are sigmoid scores of the
    chosen experts, normalised to sum to 1, times routed_scaling (2.5 in DeepSeek-V3).
    Example: logits [[0, 1, 2]], k=2 -> experts [[2, 1]]; with bias [5, 0, 0] -> [[0, 2]]
    """
    scores = 1.0 / (1.0 + np.exp(-logits))
    idx = top_k(scores if bias is None else scores + bias, k)
    chosen = np.take_along_axis(scores, idx, axis=-1)
    return idx, routed_scaling * chosen / chosen.sum(axis=-1, keepdims=True)


# -----------------------------------------------------------------------------
# capacity and the layer


def expert_capacity(tokens: int, n_experts: int, k: int, capacity_factor: float) -> int:
    """Assignments one expert accepts: ceil(cf * tokens * k / E). cf = 1 means no slack at all.

    Example: expert_capacity(tokens=16, n_experts=8, k=2, capacity_factor=1.25) -> 5
    """
    return math.ceil(capacity_factor * tokens * k / n_experts)


def capacity_mask(idx: Ids, n_experts: int, capacity: int) -> NDArray[np.bool_]:
    """Which (token, choice) assignments an expert accepts, (tokens, k) booleans.

    Priority goes by choice rank, then token order (GShard): every token's first choice is
    placed before any second choice. An expert that is full drops the rest.
    Example: idx [[0, 1], [0, 1], [0, 2]], capacity 2 -> [[T, T], [T, T], [F, T]]
    """
    keep = np.zeros(idx.shape, dtype=np.bool_)
    used = np.zeros(n_experts, dtype=np.int64)
    for rank in range(idx.shape[1]):
        for token in range(idx.shape[0]):
            expert = idx[token, rank]
            if used[expert] < capacity:
                keep[token, rank] = True
                used[expert] += 1
    return keep


@dataclass(frozen=True, slots=True)
class Expert:
    """A SwiGLU feed-forward network: down(silu(x @ gate) * (x @ up))."""

    w_gate: F64  # (d_model, d_expert)
    w_up: F64  # (d_model, d_expert)
    w_down: F64  # (d_expert, d_model)

    def __call__(self, x: F64) -> F64:
        g = x @ self.w_gate
        out: F64 = (g / (1.0 + np.exp(-g)) * (x @ self.w_up)) @ self.w_down
        return out


@dataclass(frozen=True, slots=True)
class Routing:
    experts: Ids  # (tokens, k) chosen experts
    weights: F64  # (tokens, k) gate weights (0 where dropped)
    kept: NDArray[np.bool_]  # (tokens, k) False where capacity dropped the assignment
    probs: F64  # (tokens, E) softmax of the router logits, for the auxiliary loss


def route(
    logits: F64,
    k: int,
    gate: Literal["softmax", "sigmoid"] = "softmax",
    bias: F64 | None = None,
    capacity_factor: float | None = None,
) -> Routing:
    """Choose experts and weights for every token, then apply the capacity limit (if any)."""
    if gate == "softmax":
        idx, weights = softmax_topk_gate(logits, k)
    else:
        idx, weights = sigmoid_topk_gate(logits, k, bias)
    kept = np.ones(idx.shape, dtype=np.bool_)
    if capacity_factor is not None:
        cap = expert_capacity(len(logits), logits.shape[1], k, capacity_factor)
        kept = capacity_mask(idx, logits.shape[1], cap)
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return Routing(idx, np.where(kept, weights, 0.0), kept, z / z.sum(axis=-1, keepdims=True))


def moe_layer(
    x: F64, routing: Routing, experts: Sequence[Expert], shared: Sequence[Expert] = ()
) -> F64:
    """y = sum over kept choices of weight * expert(x), plus every shared expert's output.

    Each expert runs once, on the batch of tokens routed to it: the grouping real kernels do.
    """
    y = np.zeros_like(x)
    for e, expert in enumerate(experts):
        tokens, slot = np.nonzero((routing.experts == e) & routing.kept)
        if len(tokens):
            y[tokens] += routing.weights[tokens, slot, None] * expert(x[tokens])
    for expert in shared:
        y += expert(x)
    return y


# -----------------------------------------------------------------------------
# balancing


def expert_load(idx: Ids, n_experts: int) -> Ids:
    """Assignments per expert. Example: expert_load([[0, 1], [0, 2]], 4) -> [2, 1, 1, 0]"""
    out: Ids = np.bincount(np.asarray(idx).ravel(), minlength=n_experts)
    return out


def switch_aux_loss(probs: F64, idx: Ids) -> float:
    """N * sum_i f_i P_i with f_i the share of assignments to expert i and P_i its mean prob.

    1.0 under perfectly uniform routing; N when all tokens pick one expert with certainty.
    subtle: HF's Mixtral `load_balancing_loss_func` counts f per choice rank, so its value is
    k times this one.
    """
    n = probs.shape[1]
    f = expert_load(idx, n) / idx.size
    return float(n * np.sum(f * probs.mean(axis=0)))


def router_z_loss(logits: F64) -> float:
    """ST-MoE's z-loss (arXiv:2202.08906): mean squared logsumexp; keeps router logits small."""
    m = logits.max(axis=-1)
    lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=-1))
    return float(np.mean(lse**2))


def update_bias(bias: F64, load: Ids, gamma: float = 0.001) -> F64:
    """DeepSeek-V3's auxiliary-loss-free step: b_i -= gamma * sign(load_i - mean load).

    Example: update_bias([0, 0, 0], load=[6, 3, 0], gamma=0.1) -> [-0.1, 0.0, 0.1]
    """
    out: F64 = bias - gamma * np.sign(load - load.mean())
    return out


def expected_fraction_touched(n_experts: int, top_k: int, tokens: int) -> float:
    """Share of experts used by at least one of `tokens` tokens under uniform routing.

    A token picks k of n distinct experts, so it misses a given one with probability
    C(n-1, k) / C(n, k) = 1 - k/n; tokens are independent: 1 - (1 - k/n)^tokens.
    Example: expected_fraction_touched(8, 2, 8) -> 0.900; (256, 8, 8) -> 0.224
    """
    return 1.0 - (1.0 - top_k / n_experts) ** tokens


# -----------------------------------------------------------------------------
# parameter arithmetic


@dataclass(frozen=True, slots=True)
class MoEShape:
    """A GQA decoder whose MLPs are MoE layers (SwiGLU experts, no biases)."""

    vocab_size: int
    d_model: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    n_experts: int
    top_k: int
    d_expert: int  # each expert's intermediate size
    n_shared: int = 0  # shared experts of size d_expert, used by every token
    n_dense_layers: int = 0  # leading layers with a dense MLP of size d_dense
    d_dense: int = 0
    qk_norm: bool = False  # Qwen3: an RMSNorm over q and over k in every head
    tied: bool = False


def moe_param_counts(s: MoEShape) -> tuple[int, int]:
    """(total, active per token) parameters, counting embeddings and head as active.

    Attention, norms, router, shared experts and the embeddings are always used; of the routed
    experts, only top_k. That is why "8x7B" Mixtral is 46.7B, not 56B (attention and
    embeddings are not repeated), and runs like a 12.9B model.
    Example: moe_param_counts(MIXTRAL_8X7B) -> (46_702_792_704, 12_879_925_248)
    """
    d = s.d_model
    attn = d * s.head_dim * (2 * s.n_heads + 2 * s.n_kv_heads) + 2 * d
    attn += 2 * s.head_dim if s.qk_norm else 0
    expert = 3 * d * s.d_expert
    moe_layers = s.n_layers - s.n_dense_layers
    always = s.n_layers * attn + s.n_dense_layers * 3 * d * s.d_dense
    always += moe_layers * (d * s.n_experts + s.n_shared * expert)
    always += s.vocab_size * d * (1 if s.tied else 2) + d
    return always + moe_layers * s.n_experts * expert, always + moe_layers * s.top_k * expert


# From the models' config.json (see the module docstring for the sources).
MIXTRAL_8X7B = MoEShape(32000, 4096, 32, 32, 8, 128, n_experts=8, top_k=2, d_expert=14336)
QWEN3_235B_A22B = MoEShape(
    151936, 4096, 94, 64, 4, 128, n_experts=128, top_k=8, d_expert=1536, qk_norm=True
)
