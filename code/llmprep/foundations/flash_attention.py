"""FlashAttention in numpy: online softmax, tiling, IO counts and the Flash-Decoding combine.

Attention for one query row is o = sum_j e^(s_j) v_j / sum_j e^(s_j), with s_j = q.k_j / sqrt(d).
Plain attention writes the whole N x N matrix of scores to GPU memory (HBM), reads it back for
the softmax, writes the probabilities, reads them again for P V. FlashAttention (Dao et al.
2022, arXiv:2205.14135) never forms that matrix: it streams blocks of keys through fast on-chip
SRAM and keeps, per query row, three running quantities (online softmax; Milakov & Gimelshein
2018, arXiv:1805.02867):

    m    the largest score seen so far
    ell  sum of e^(s_j - m) over the keys seen so far (the paper's l)
    acc  sum of e^(s_j - m) v_j over the keys seen so far (a d-vector)

A new block of scores s_B arrives. Let m' = max(m, max s_B). The old terms were scaled by
e^(-m); they must be scaled by e^(-m') instead, so multiply them by e^(m - m'):

    ell' = e^(m - m') ell + sum_B e^(s_j - m')
    acc' = e^(m - m') acc + sum_B e^(s_j - m') v_j

By induction every seen term ends up as e^(s_j - m_final), the shift a stable softmax uses, so
acc / ell is exactly softmax(s) V and m + ln ell is the row's logsumexp. No exponent is ever
positive, so scores of 1e4 do not overflow. Two partial results over disjoint keys merge by the
same rule (m = max of both, each side rescaled by e^(m_side - m)); the merge is associative,
which is what lets Flash-Decoding split a long KV cache across thread blocks for a single query
and combine the pieces at the end (`flash_decode`).

Why faster, not only leaner: attention is memory-bound, and tiling cuts HBM traffic from
Theta(N d + N^2) to Theta(N^2 d^2 / M) for SRAM of M elements (Theorem 2 of the paper;
`standard_attention_hbm`, `flash_attention_hbm`). FlashAttention-2 (arXiv:2307.08691) swaps
the loops (query blocks outside, as `flash_attention` here) and defers the division by ell to
the end; FlashAttention-3 (arXiv:2407.08608) overlaps matmul and softmax asynchronously on
Hopper and adds FP8.

Leaves out: the backward pass (which recomputes the score tiles from Q, K and the saved
logsumexp instead of storing P), dropout, batches and heads (an outer loop), and everything
about warps, shared memory and kernels: numpy shows the arithmetic, not the speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
from numpy.typing import NDArray

type F64 = NDArray[np.float64]


def _visible(
    n_q: int, n_k: int, q_start: int, k_start: int, rows: int, cols: int
) -> NDArray[np.bool_]:
    """Causal mask for a tile, aligned bottom-right: query i sees keys j <= i + (n_k - n_q)."""
    i = q_start + np.arange(rows)[:, None] + (n_k - n_q)
    j = k_start + np.arange(cols)[None, :]
    out: NDArray[np.bool_] = j <= i
    return out


def attention_reference(
    q: F64, k: F64, v: F64, *, causal: bool = False, scale: float | None = None
) -> tuple[F64, F64]:
    """Plain softmax attention, the whole (n_q, n_k) score matrix at once: (output, logsumexp).

    q is (n_q, d), k and v are (n_k, d). Stable (shifted by the row max), so it is the
    reference the tiled version must equal.
    """
    s = (q @ k.T) * (scale if scale is not None else 1 / math.sqrt(q.shape[1]))
    if causal:
        s = np.where(_visible(len(q), len(k), 0, 0, len(q), len(k)), s, -np.inf)
    m = s.max(axis=1, keepdims=True)
    p = np.exp(s - m)
    ell = p.sum(axis=1, keepdims=True)
    out: F64 = p @ v / ell
    lse: F64 = (m + np.log(ell))[:, 0]
    return out, lse


# -----------------------------------------------------------------------------
# online softmax


def online_softmax_stats(x: F64, block_size: int) -> tuple[float, float]:
    """One pass over x in blocks: (max, sum e^(x - max)), without a separate pass for the max.

    Example: online_softmax_stats([1, 3, 2], 1) -> (3.0, e^-2 + 1 + e^-1 = 1.503)
    """
    m, ell = -math.inf, 0.0
    for start in range(0, len(x), block_size):
        block = x[start : start + block_size]
        m_new = max(m, float(block.max()))
        ell = ell * math.exp(m - m_new) + float(np.exp(block - m_new).sum())
        m = m_new
    return m, ell


@dataclass(frozen=True, slots=True)
class Partial:
    """Running softmax state for n_q query rows over some of the keys (unnormalised, FA-2 style)."""

    m: F64  # (n_q,) running max of the scores
    ell: F64  # (n_q,) sum of e^(s - m)
    acc: F64  # (n_q, d) sum of e^(s - m) v

    @classmethod
    def empty(cls, n_q: int, d: int) -> Partial:
        return cls(np.full(n_q, -np.inf), np.zeros(n_q), np.zeros((n_q, d)))

    def finish(self) -> tuple[F64, F64]:
        """(output, logsumexp): acc / ell and m + ln ell."""
        out: F64 = self.acc / self.ell[:, None]
        lse: F64 = self.m + np.log(self.ell)
        return out, lse


def online_update(state: Partial, scores: F64, v_block: F64) -> Partial:
    """Fold one block of scores (n_q, b) and values (b, d) into the running state.

    subtle: every row must have seen at least one finite score by the end of its first block,
    or e^(m - m') would be e^(-inf + inf). `flash_attention` guarantees it: key block 0, which
    holds key 0, is every query's first block and key 0 is visible to all of them.
    """
    m_new = np.maximum(state.m, scores.max(axis=1))
    rescale = np.exp(state.m - m_new)  # 0 on the first block (m = -inf)
    p = np.exp(scores - m_new[:, None])  # masked scores (-inf) give exactly 0
    return Partial(
        m_new, rescale * state.ell + p.sum(axis=1), rescale[:, None] * state.acc + p @ v_block
    )


def merge(a: Partial, b: Partial) -> Partial:
    """Combine partial results over disjoint key sets (the Flash-Decoding reduction)."""
    m = np.maximum(a.m, b.m)
    ra, rb = np.exp(a.m - m), np.exp(b.m - m)
    return Partial(m, ra * a.ell + rb * b.ell, ra[:, None] * a.acc + rb[:, None] * b.acc)


# -----------------------------------------------------------------------------
# tiled attention and split-KV decoding


@overload
def flash_attention(
    q: F64,
    k: F64,
    v: F64,
    *,
    causal: bool = ...,
    block_q: int = ...,
    block_k: int = ...,
    scale: float | None = ...,
    return_lse: Literal[False] = ...,
) -> F64: ...
@overload
def flash_attention(
    q: F64,
    k: F64,
    v: F64,
    *,
    causal: bool = ...,
    block_q: int = ...,
    block_k: int = ...,
    scale: float | None = ...,
    return_lse: Literal[True],
) -> tuple[F64, F64]: ...
def flash_attention(
    q: F64,
    k: F64,
    v: F64,
    *,
    causal: bool = False,
    block_q: int = 64,
    block_k: int = 64,
    scale: float | None = None,
    return_lse: bool = False,
) -> F64 | tuple[F64, F64]:
    """Tiled attention: for each block of queries, stream blocks of keys through `online_update`.

    Equal to `attention_reference` up to rounding, for any block sizes (they need not divide the
    lengths). With causal=True, key blocks entirely in a query block's future are skipped: about
    half the work. The logsumexp per row is what the backward pass keeps instead of P.
    """
    n_q, n_k = len(q), len(k)
    if causal and n_k < n_q:
        raise ValueError(f"causal attention needs n_k >= n_q, got {n_k} < {n_q}")
    q = q * (scale if scale is not None else 1 / math.sqrt(q.shape[1]))
    out, lse = np.zeros((n_q, v.shape[1])), np.zeros(n_q)
    for qs in range(0, n_q, block_q):
        qb = q[qs : qs + block_q]
        state = Partial.empty(len(qb), v.shape[1])
        for ks in range(0, n_k, block_k):
            if causal and ks > qs + len(qb) - 1 + (n_k - n_q):
                break  # this and every later key block is in the future of all these queries
            s = qb @ k[ks : ks + block_k].T
            if causal:
                s = np.where(_visible(n_q, n_k, qs, ks, *s.shape), s, -np.inf)
            state = online_update(state, s, v[ks : ks + block_k])
        out[qs : qs + block_q], lse[qs : qs + block_q] = state.finish()
    return (out, lse) if return_lse else out


def flash_decode(
    q: F64, k: F64, v: F64, n_splits: int, scale: float | None = None
) -> tuple[F64, F64]:
    """Split-KV attention (Flash-Decoding): split the cache into chunks, attend to each
    independently (in parallel on a GPU), then `merge` the partial (m, ell, acc).

    At decode time there is one query per sequence, too little work to fill a GPU if one
    thread block walks the whole cache; splitting the keys restores the parallelism.
    Returns (output, logsumexp) for q (n_q, d), typically n_q = 1.
    """
    q = q * (scale if scale is not None else 1 / math.sqrt(q.shape[1]))
    chunks = [c for c in np.array_split(np.arange(len(k)), n_splits) if len(c)]
    parts = [online_update(Partial.empty(len(q), v.shape[1]), q @ k[c].T, v[c]) for c in chunks]
    total = parts[0]
    for part in parts[1:]:
        total = merge(total, part)
    return total.finish()


# -----------------------------------------------------------------------------
# IO complexity: counting HBM reads and writes (in elements)


@dataclass(frozen=True, slots=True)
class HBMTraffic:
    reads: int
    writes: int

    @property
    def total(self) -> int:
        return self.reads + self.writes


def standard_attention_hbm(n: int, d: int) -> HBMTraffic:
    """Algorithm 0 of the paper, self-attention over n tokens of head dim d.

    Read Q, K, write S (n^2); read S, write P (n^2 each); read P and V, write O.
    reads = 3nd + 2n^2, writes = nd + 2n^2: Theta(nd + n^2).
    Example: standard_attention_hbm(8, 2) -> reads 176, writes 144
    """
    return HBMTraffic(reads=3 * n * d + 2 * n * n, writes=n * d + 2 * n * n)


def flash_block_sizes(d: int, sram: int) -> tuple[int, int]:
    """The paper's block sizes for SRAM of `sram` elements: B_c = ceil(M/4d), B_r = min(B_c, d)."""
    b_c = math.ceil(sram / (4 * d))
    return min(b_c, d), b_c


def flash_attention_hbm(n: int, d: int, sram: int) -> HBMTraffic:
    """Algorithm 1 of the paper (K/V blocks outside, query blocks inside), line by line.

    Write O, l, m once to initialise (nd + 2n). For each of T_c = ceil(n / B_c) key blocks:
    read K_j and V_j (2nd over all j) and, for every query block, read Q_i, O_i, l_i, m_i and
    write O_i, l_i, m_i back: n(2d + 2) reads and n(d + 2) writes per key block. So
    T_c n (3d + 4) + ..., and with T_c ~ 4nd / M that is Theta(n^2 d^2 / M).
    Example: flash_attention_hbm(8, 2, 16) -> reads 224, writes 160 (worse than standard:
    tiling only pays when M >> d^2)
    """
    _, b_c = flash_block_sizes(d, sram)
    t_c = math.ceil(n / b_c)
    reads = 2 * n * d + t_c * n * (2 * d + 2)
    writes = n * d + 2 * n + t_c * n * (d + 2)
    return HBMTraffic(reads, writes)
