"""Speculative sampling: a cheap draft proposes, the target verifies, and the output is exact.

A draft model q proposes k tokens one at a time; the target model p scores all k positions
(and one more) in a single forward pass. Walking the draft left to right, token x is kept
with probability min(1, p(x) / q(x)); at the first rejection a replacement is drawn from the
residual norm(max(0, p - q)) and the round ends; if all k survive, the target's extra
position gives a bonus token for free (Leviathan et al. 2023, arXiv:2211.17192; Chen et al.
2023, arXiv:2302.01318, who name the target q and the draft p, the other way round).

Why the output is the target's distribution exactly: a token x comes out of one step either
as an accepted draft, with probability q(x) min(1, p(x)/q(x)) = min(p(x), q(x)), or as the
replacement after a rejection, with probability

    P(reject) x residual(x) = (1 - sum_y min(p, q)) x max(0, p(x) - q(x)) / sum_y max(0, p - q)

and since sum max(0, p - q) = 1 - sum min(p, q), the second term is max(0, p(x) - q(x)).
min(p, q) + max(0, p - q) = p. `first_token_distribution` computes exactly this sum and
the tests check it equals p for random p and q.

The acceptance probability of one draft token is beta = sum_x min(p(x), q(x)) = 1 - TV(p, q)
(`acceptance_rate`; Leviathan et al. call its expectation over contexts alpha). If each draft
token is accepted independently with probability alpha, one target call yields
(1 - alpha^(k+1)) / (1 - alpha) tokens on average (`expected_tokens_per_call`), and with a
draft step costing c target steps the expected wall-clock speed-up is that divided by
(k c + 1) (`expected_speedup`); both are Leviathan et al.'s. At temperature 0 both models
are one-hot, a draft token survives only if it is the target's argmax, and the output is the
target's greedy output token for token.

`speculative_generate` runs the loop on any `NextTokenModel` (one method, `probs`);
`TinyLMModel` adapts `foundations.tiny_lm.TinyLM`. Each `SpecStep` is one target forward
pass, so `SpecStats` can report measured tokens per target pass and a speed-up in model
calls. subtle: the adapter scores the k + 1 positions with k + 1 calls; a real target does it
in one batched pass, which is the whole trick, so a step counts as one target pass here.

Leaves out: EOS handling (the loop runs to `max_new_tokens`), top-k / top-p (only
temperature), batched and tree verification (Medusa, EAGLE, SpecInfer), KV-cache rollback
after a rejection, and the lossy "typical acceptance" variants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmprep.foundations.sampling import softmax
from llmprep.foundations.tiny_lm import TinyLM, forward

type F64 = NDArray[np.float64]


class NextTokenModel(Protocol):
    """Anything that gives a next-token distribution (at temperature 1) for a context."""

    def probs(self, context: Sequence[int]) -> F64: ...


@dataclass(frozen=True, slots=True)
class TinyLMModel:
    """`TinyLM` as a `NextTokenModel` over its character ids (PAD, id 0, has probability 0).

    Two TinyLMs trained on the same text share a vocabulary, so a small one can draft for a
    larger one.
    """

    lm: TinyLM

    def probs(self, context: Sequence[int]) -> F64:
        n = self.lm.context
        ids = np.asarray(list(context)[-n:], dtype=np.int64)
        x = np.concatenate([np.zeros(n - len(ids), dtype=np.int64), ids])
        logits, _, _ = forward(self.lm.params, x[None, :])
        z = logits[0].astype(np.float64)
        z[0] = -np.inf  # PAD marks "before the text", never a next character
        return softmax(z)


@dataclass(frozen=True, slots=True)
class SpecStep:
    """One target forward pass: how many draft tokens it checked, kept, and what it emitted
    (the kept drafts, then the replacement or the bonus token)."""

    proposed: int
    accepted: int
    tokens: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SpecStats:
    """Totals over a generation, in model calls."""

    tokens: int
    target_calls: int  # target forward passes (one per SpecStep)
    draft_calls: int  # draft forward passes (one per proposed token)
    proposed: int
    accepted: int
    checked: int  # draft tokens the target judged: the kept ones plus each round's rejection

    @property
    def tokens_per_target_call(self) -> float:
        return self.tokens / self.target_calls

    @property
    def acceptance(self) -> float:
        """Measured acceptance rate: kept / judged draft tokens (nan if none was judged).

        subtle: kept / proposed would understate it, since the drafts after a rejection are
        thrown away unjudged.
        """
        return self.accepted / self.checked if self.checked else float("nan")

    def speedup(self, cost_ratio: float) -> float:
        """Measured speed-up against plain decoding (one target pass per token), when a draft
        pass costs `cost_ratio` target passes: tokens / (target_calls + c x draft_calls)."""
        if cost_ratio < 0:
            raise ValueError(f"cost_ratio must be >= 0, got {cost_ratio!r}")
        return self.tokens / (self.target_calls + cost_ratio * self.draft_calls)


def stats(steps: Sequence[SpecStep]) -> SpecStats:
    """Add up the steps of one or more generations."""
    if not steps:
        raise ValueError("steps is empty: nothing was generated")
    return SpecStats(
        tokens=sum(len(s.tokens) for s in steps),
        target_calls=len(steps),
        draft_calls=sum(s.proposed for s in steps),
        proposed=sum(s.proposed for s in steps),
        accepted=sum(s.accepted for s in steps),
        checked=sum(s.accepted + (s.accepted < s.proposed) for s in steps),
    )


def _distribution(p: ArrayLike, name: str) -> F64:
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D distribution, got shape {arr.shape}")
    if np.any(arr < 0) or not np.isclose(arr.sum(), 1.0, atol=1e-6):
        raise ValueError(f"{name} must be non-negative and sum to 1, got sum {arr.sum()!r}")
    return arr


def acceptance_rate(p: ArrayLike, q: ArrayLike) -> float:
    """Probability that a token drawn from q survives verification against p:
    sum_x min(p(x), q(x)) = 1 - TV(p, q).

    Example: acceptance_rate([0.5, 0.5], [0.9, 0.1]) -> 0.6
    """
    pp, qq = _distribution(p, "p"), _distribution(q, "q")
    if pp.shape != qq.shape:
        raise ValueError(f"p and q differ in size: {pp.size} != {qq.size}")
    return float(np.minimum(pp, qq).sum())


def speculative_accept(p: ArrayLike, q: ArrayLike, draft_token: int, u: float) -> bool:
    """Keep `draft_token` (drawn from q) iff u < min(1, p(x) / q(x)), u uniform in [0, 1).

    Example: p(x) = 0.2, q(x) = 0.4 -> kept iff u < 0.5; p(x) >= q(x) -> always kept.
    """
    pp, qq = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if not 0 <= draft_token < len(qq):
        raise ValueError(f"draft_token {draft_token!r} is outside a vocabulary of {len(qq)}")
    if not 0.0 <= u < 1.0:
        raise ValueError(f"u must be in [0, 1), got {u!r}")
    qx = qq[draft_token]
    if qx <= 0:
        raise ValueError(f"draft_token {draft_token} has q = 0: the draft cannot propose it")
    return bool(u < min(1.0, pp[draft_token] / qx))


def residual_distribution(p: ArrayLike, q: ArrayLike) -> F64:
    """What to sample after a rejection: norm(max(0, p - q)), the mass p has and q lacks.

    subtle: when p == q a rejection has probability 0, but rounding can still produce one;
    the residual is then all zeros, and p itself is returned (any choice is exact there).

    Example: residual_distribution([0.5, 0.5], [0.9, 0.1]) -> [0.0, 1.0]
    """
    pp, qq = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if pp.shape != qq.shape:
        raise ValueError(f"p and q differ in size: {pp.size} != {qq.size}")
    r = np.maximum(pp - qq, 0.0)
    total = r.sum()
    if total <= 1e-12:
        out: F64 = pp / pp.sum()
        return out
    residual: F64 = r / total
    return residual


def first_token_distribution(p: ArrayLike, q: ArrayLike) -> F64:
    """The exact distribution of the first token one speculative step emits:
    q(x) min(1, p(x)/q(x)) + P(reject) residual(x). It equals p (the point of the method).
    """
    pp, qq = _distribution(p, "p"), _distribution(q, "q")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        keep = np.where(qq > 0, np.minimum(1.0, pp / np.where(qq > 0, qq, 1.0)), 0.0)
    accepted = qq * keep
    reject = 1.0 - accepted.sum()
    out: F64 = accepted + reject * residual_distribution(pp, qq)
    return out


def expected_tokens_per_call(alpha: float, k: int) -> float:
    """Expected tokens per target call with k draft tokens each accepted independently with
    probability alpha: 1 + alpha + ... + alpha^k = (1 - alpha^(k+1)) / (1 - alpha).

    Example: expected_tokens_per_call(0.8, 4) -> 3.3616; alpha = 1 -> k + 1
    """
    _check_alpha_k(alpha, k)
    if alpha == 1.0:
        return float(k + 1)
    return (1.0 - alpha ** (k + 1)) / (1.0 - alpha)


def expected_speedup(alpha: float, k: int, cost_ratio: float) -> float:
    """Expected wall-clock speed-up over plain decoding when one draft step costs
    `cost_ratio` (c) target steps: expected_tokens_per_call / (k c + 1).

    Example: expected_speedup(0.8, 4, 0.05) -> 3.3616 / 1.2 = 2.80
    """
    _check_alpha_k(alpha, k)
    if cost_ratio < 0:
        raise ValueError(f"cost_ratio must be >= 0, got {cost_ratio!r}")
    return expected_tokens_per_call(alpha, k) / (k * cost_ratio + 1.0)


def _check_alpha_k(alpha: float, k: int) -> None:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k!r}")


def _tempered(p: F64, temperature: float) -> F64:
    """p at a temperature: softmax(log p / T); T = 0 is one-hot on the argmax."""
    if temperature == 1.0:
        return p
    if temperature == 0.0:
        out = np.zeros_like(p)
        out[int(np.argmax(p))] = 1.0
        return out
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    return softmax(logp, temperature=temperature)


def _draw(p: F64, rng: np.random.Generator) -> int:
    """Inverse-CDF draw; a token with probability 0 is never returned."""
    cdf = np.cumsum(p)
    i = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
    return min(i, len(p) - 1)


def speculative_generate(
    target: NextTokenModel,
    draft: NextTokenModel,
    prompt: Sequence[int],
    *,
    k: int,
    max_new_tokens: int,
    temperature: float = 1.0,
    rng: np.random.Generator,
) -> tuple[list[int], list[SpecStep]]:
    """Generate `max_new_tokens` tokens after `prompt`, drafting up to k per target call.

    Returns the new tokens and one `SpecStep` per target call (`stats` adds them up). Near
    the end a round drafts fewer tokens (remaining - 1), so no token is thrown away. The
    tokens have exactly the distribution of sampling from the target at `temperature`.

    Both models' distributions are tempered the same way before drafting and verifying.
    subtle: exactness needs only that the q used to accept is the q the draft sampled
    from, whatever q is; tempering the draft too is what keeps the acceptance rate up
    (with draft == target every draft survives at any temperature).
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k!r}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens!r}")
    if not temperature >= 0:
        raise ValueError(f"temperature must be >= 0, got {temperature!r}")
    out: list[int] = []
    steps: list[SpecStep] = []
    while len(out) < max_new_tokens:
        context = [*prompt, *out]
        k_step = min(k, max_new_tokens - len(out) - 1)
        drafts: list[int] = []
        qs: list[F64] = []
        for _ in range(k_step):
            q = _tempered(_distribution(draft.probs(context + drafts), "draft probs"), temperature)
            drafts.append(_draw(q, rng))
            qs.append(q)
        # one target pass scores every prefix: context, context + d1, ..., context + d1..dk
        ps = [
            _tempered(
                _distribution(target.probs(context + drafts[:i]), "target probs"), temperature
            )
            for i in range(k_step + 1)
        ]
        if qs and qs[0].shape != ps[0].shape:
            raise ValueError(f"vocabularies differ: draft {qs[0].size}, target {ps[0].size}")
        emitted: list[int] = []
        for i, x in enumerate(drafts):
            if speculative_accept(ps[i], qs[i], x, rng.random()):
                emitted.append(x)
            else:
                emitted.append(_draw(residual_distribution(ps[i], qs[i]), rng))
                break
        else:
            emitted.append(_draw(ps[k_step], rng))  # every draft kept: the bonus token
        accepted = len(emitted) - 1
        steps.append(SpecStep(proposed=k_step, accepted=accepted, tokens=tuple(emitted)))
        out.extend(emitted)
    return out, steps


def sample_generate(
    model: NextTokenModel,
    prompt: Sequence[int],
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    rng: np.random.Generator,
) -> list[int]:
    """Plain autoregressive sampling, one model call per token: the reference to compare with."""
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens!r}")
    if not temperature >= 0:
        raise ValueError(f"temperature must be >= 0, got {temperature!r}")
    out: list[int] = []
    for _ in range(max_new_tokens):
        p = _tempered(_distribution(model.probs([*prompt, *out]), "probs"), temperature)
        out.append(_draw(p, rng))
    return out
