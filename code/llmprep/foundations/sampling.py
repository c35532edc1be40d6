"""Decoding: how a language model's logits become the next token.

A language model outputs one *logit* (an unnormalised score) per vocabulary entry. Decoding
turns those scores into a choice. Every knob you meet in an LLM API is a small function here:

    logits --penalties--> --temperature--> --top-k--> --top-p--> --min-p--> softmax --> draw

This is the order Hugging Face transformers uses in `generate()` (`_get_logits_processor` in
transformers 5.24: repetition penalty among the processors, then temperature, top-k, top-p,
min-p among the warpers). `apply_penalties` is the first step, on its own because it needs the
tokens generated so far; `sample` does the rest, in that order. Each filter sets rejected
logits to -inf, so the final softmax renormalises over what is left.

Also here: greedy decoding and a small beam search over any next-token function, with a toy
model that shows why greedy can miss the most likely sequence.

Leaves out: batching, typical-p / eta / epsilon sampling, constrained decoding, speculative
decoding, and the min_tokens_to_keep safety valve (we always keep at least one token anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

type FloatArray = NDArray[np.float64]

# A next-token function: given the tokens so far, return log-probabilities over the vocabulary.
type NextTokenLogProbs = Callable[[Sequence[int]], FloatArray]


# -----------------------------------------------------------------------------
# probabilities


def softmax(logits: ArrayLike, temperature: float = 1.0, axis: int = -1) -> FloatArray:
    """Turn logits into probabilities, optionally sharpened or flattened by a temperature.

    p_i = exp(z_i / T) / sum_j exp(z_j / T). We subtract the max before exponentiating:
    softmax is unchanged by adding a constant to every logit, and it keeps exp() from
    overflowing (exp(1000) is inf in float64; exp(0) is not).

    Temperature T < 1 sharpens the distribution, T > 1 flattens it. As T -> 0 all mass moves
    to the largest logit, so T = 0 is defined as that limit: a one-hot vector on the argmax
    (the first one on ties). That is why "temperature 0" in an API means greedy decoding.

    Logits of -inf (filtered tokens) get probability exactly 0.

    Example: softmax([2.0, 1.0, 0.0]) -> [0.665, 0.245, 0.090]
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    z = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        one_hot = np.zeros_like(z)
        best = np.expand_dims(np.argmax(z, axis=axis), axis)
        np.put_along_axis(one_hot, best, 1.0, axis=axis)
        return one_hot
    z = z / temperature
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    out: FloatArray = e / np.sum(e, axis=axis, keepdims=True)
    return out


def log_softmax(logits: ArrayLike, axis: int = -1) -> FloatArray:
    """Log-probabilities, computed stably: z - logsumexp(z).

    Beam search adds log-probabilities instead of multiplying probabilities: the product of
    50 probabilities of 0.1 is 1e-50, close to float underflow; the sum of their logs is -115.
    """
    z = np.asarray(logits, dtype=np.float64)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    out: FloatArray = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return out


def greedy(logits: ArrayLike) -> int:
    """Pick the highest-scoring token (the lowest id on ties). Deterministic, no randomness."""
    return int(np.argmax(np.asarray(logits)))


# -----------------------------------------------------------------------------
# filters: each returns a copy of the logits with rejected tokens set to -inf


def top_k_filter(logits: ArrayLike, k: int) -> FloatArray:
    """Keep only the k highest logits.

    Ties at the boundary are broken by token id (lower id kept), so exactly k tokens survive.
    Note: Hugging Face's TopKLogitsWarper keeps every token whose logit equals the k-th
    largest, so with ties it can keep more than k; without ties the two agree.

    Example: top_k_filter([1.0, 3.0, 2.0], k=2) -> [-inf, 3.0, 2.0]
    """
    z = np.asarray(logits, dtype=np.float64)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    # descending; "stable" keeps the lower id first on ties
    order = np.argsort(-z, kind="stable")
    out = np.full_like(z, -np.inf)
    keep = order[:k]
    out[keep] = z[keep]
    return out


def top_p_filter(logits: ArrayLike, p: float) -> FloatArray:
    """Nucleus (top-p) filtering: keep the SMALLEST set of most-likely tokens whose total
    probability reaches p (Holtzman et al., 2020).

    Sort tokens by probability, take the running sum, and cut just after the first token at
    which the sum is >= p. The nucleus grows when the model is unsure (flat distribution) and
    shrinks when it is confident, which a fixed top-k cannot do.

    Semantics match Hugging Face's TopPLogitsWarper (it keeps tokens whose cumulative
    probability from the *bottom* exceeds 1 - p, the same set up to rounding). Ties are broken
    by token id (lower id first), so the result is deterministic; torch.sort gives no such
    promise. The most likely token is always kept, and p = 1 keeps everything.

    Example: probabilities [0.5, 0.3, 0.2] with p = 0.7 -> keep tokens 0 and 1 (0.5 + 0.3 >= 0.7)
    """
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p must be in (0, 1], got {p}")
    z = np.asarray(logits, dtype=np.float64)
    probs = softmax(z)
    order = np.argsort(-probs, kind="stable")
    cumulative = np.cumsum(probs[order])
    # subtle: the first index where the running sum reaches p, +1 to include that token.
    # Rounding can leave the total a hair under 1.0, so clamp to the vocabulary size.
    n_keep = min(int(np.searchsorted(cumulative, p, side="left")) + 1, z.size)
    out = np.full_like(z, -np.inf)
    keep = order[:n_keep]
    out[keep] = z[keep]
    return out


def min_p_filter(logits: ArrayLike, min_p: float) -> FloatArray:
    """Min-p filtering: keep tokens whose probability is at least min_p x the top probability
    (Nguyen et al., ICLR 2025; arXiv:2407.01082).

    The threshold scales with the model's confidence: if the top token has p = 0.9 and
    min_p = 0.1, anything under 0.09 is dropped; if the top token has p = 0.2, the bar falls to
    0.02 and more alternatives survive. Same rule as Hugging Face's MinPLogitsWarper
    (tokens with probability < min_p * max_prob are removed).

    Example: probabilities [0.6, 0.3, 0.1] with min_p = 0.2 -> threshold 0.12, drop token 2
    """
    if not 0.0 <= min_p <= 1.0:
        raise ValueError(f"min_p must be in [0, 1], got {min_p}")
    z = np.asarray(logits, dtype=np.float64)
    probs = softmax(z)
    keep = probs >= min_p * probs.max()
    out: FloatArray = np.where(keep, z, -np.inf)
    return out


def apply_penalties(
    logits: ArrayLike,
    generated: Sequence[int],
    *,
    repetition_penalty: float = 1.0,
    frequency_penalty: float = 0.0,
    presence_penalty: float = 0.0,
) -> FloatArray:
    """Discourage tokens that were already generated (or, in Hugging Face, already present).

    - repetition_penalty (Keskar et al., 2019, as in Hugging Face's
      RepetitionPenaltyLogitsProcessor): for every token seen at least once, divide a
      positive logit by the penalty and multiply a negative one by it. Both moves lower the
      score when penalty > 1. Applied once per distinct token, however often it appeared.
      subtle: Hugging Face applies it to every id in `input_ids`, which includes the prompt,
      so words the answer should copy from the prompt (names, numbers, quoted passages in RAG
      or extraction) are penalized too. Pass the prompt's ids in `generated` to reproduce
      that; pass only the new tokens for the "already generated" reading.
    - frequency_penalty and presence_penalty (the OpenAI API's definitions):
      logit[j] -= count[j] * frequency_penalty + (count[j] > 0) * presence_penalty.
      Frequency grows with every repeat; presence is a flat fee for having appeared at all.

    Example: logits [2.0, -1.0, 0.5], generated [0, 1, 1], repetition_penalty 2.0
             -> [1.0, -2.0, 0.5]
    """
    z = np.array(logits, dtype=np.float64)  # a copy: never modify the caller's array
    ids = np.asarray(generated, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= z.size):
        raise ValueError(f"generated token ids must be in [0, {z.size}), got {list(generated)}")
    counts = np.bincount(ids, minlength=z.size)
    seen = counts > 0
    if repetition_penalty != 1.0:
        if repetition_penalty <= 0:
            raise ValueError(f"repetition_penalty must be > 0, got {repetition_penalty}")
        penalised = np.where(z < 0, z * repetition_penalty, z / repetition_penalty)
        z = np.where(seen, penalised, z)
    out: FloatArray = z - frequency_penalty * counts - presence_penalty * seen
    return out


# -----------------------------------------------------------------------------
# sampling


def sample(
    logits: ArrayLike,
    rng: np.random.Generator,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
) -> int:
    """Draw one token id: temperature, then top-k, top-p and min-p, then softmax and a draw.

    Temperature 0 returns the greedy choice and does not touch the random generator. With a
    seeded `np.random.default_rng(seed)` the whole draw is reproducible.

    The draw itself is inverse-CDF sampling: pick u uniformly in [0, total) and return the
    first token whose cumulative probability exceeds u. A token with probability 0 (filtered
    to -inf) can never be returned.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    z = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return greedy(z)
    z = z / temperature
    if top_k is not None:
        z = top_k_filter(z, top_k)
    if top_p is not None and top_p < 1.0:
        z = top_p_filter(z, top_p)
    if min_p is not None and min_p > 0.0:
        z = min_p_filter(z, min_p)
    cdf = np.cumsum(softmax(z))
    u = rng.random() * cdf[-1]
    return int(np.searchsorted(cdf, u, side="right"))


# -----------------------------------------------------------------------------
# search: greedy and beam search over a next-token function


@dataclass(frozen=True, slots=True)
class Beam:
    """A candidate sequence: all tokens (prompt included), the log-probability of the new
    tokens, how many tokens were generated, and whether it ended with the end-of-sequence token.
    """

    tokens: tuple[int, ...]
    logprob: float
    n_new: int
    finished: bool = False

    def score(self, length_penalty: float = 1.0) -> float:
        """Log-probability divided by (new tokens) ** length_penalty, as Hugging Face does.

        Without it, beam search favours short outputs: every extra token adds a negative
        log-probability. length_penalty = 0 ranks by raw log-probability.
        """
        return float(self.logprob / max(self.n_new, 1) ** length_penalty)


def greedy_decode(
    next_logprobs: NextTokenLogProbs,
    prompt: Sequence[int],
    *,
    max_new_tokens: int,
    eos_id: int | None = None,
) -> Beam:
    """Append the single most likely token until max_new_tokens or end-of-sequence."""
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    tokens = list(prompt)
    logprob = 0.0
    for step in range(max_new_tokens):
        lp = next_logprobs(tokens)
        token = greedy(lp)
        tokens.append(token)
        logprob += float(lp[token])
        if token == eos_id:
            return Beam(tuple(tokens), logprob, step + 1, finished=True)
    return Beam(tuple(tokens), logprob, max_new_tokens)


def beam_search(
    next_logprobs: NextTokenLogProbs,
    prompt: Sequence[int],
    *,
    beam_width: int,
    max_new_tokens: int,
    eos_id: int | None = None,
    length_penalty: float = 1.0,
) -> list[Beam]:
    """Keep the `beam_width` best partial sequences at every step; return them best first.

    Greedy decoding commits to the best *next* token; beam search keeps alternatives alive,
    so a token that looks worse now can win if it leads somewhere more likely. beam_width = 1
    is greedy decoding. Cost: beam_width model calls per step instead of one.

    Ranking uses `Beam.score(length_penalty)`; ties go to the lexicographically smaller
    token sequence, so the result is deterministic.

    This is a simplified beam search, not Hugging Face's algorithm: here finished beams stay
    in the pool and compete with running ones, so each one that ends occupies a slot and
    narrows the search. Hugging Face keeps `num_beams` running hypotheses every step, moves
    finished ones to a separate heap of the best `num_beams` completed sequences, and stops
    according to `early_stopping` (True, False or "never"). Both rank by the same
    length-normalized score; on the toy model here they agree.
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be >= 1, got {beam_width}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    beams = [Beam(tuple(prompt), 0.0, 0)]
    for _ in range(max_new_tokens):
        candidates: list[Beam] = []
        for beam in beams:
            if beam.finished:
                candidates.append(beam)
                continue
            lp = next_logprobs(beam.tokens)
            # Only the beam_width best extensions of each beam can make the final cut.
            for token in np.argsort(-lp, kind="stable")[:beam_width]:
                t = int(token)
                if not np.isfinite(lp[t]):
                    continue
                candidates.append(
                    Beam(
                        (*beam.tokens, t),
                        beam.logprob + float(lp[t]),
                        beam.n_new + 1,
                        finished=t == eos_id,
                    )
                )
        candidates.sort(key=lambda b: (-b.score(length_penalty), b.tokens))
        beams = candidates[:beam_width]
        if all(b.finished for b in beams):
            break
    return beams


# -----------------------------------------------------------------------------
# a toy next-token model where greedy and beam search disagree

TOY_VOCAB = ("<eos>", "The", "nice", "dog", "car", "woman", "house", "guy", "has", "runs", "is")

# P(next word | words so far), for a handful of prefixes; anything else ends the sentence.
_TOY_TABLE: dict[tuple[str, ...], dict[str, float]] = {
    ("The",): {"nice": 0.5, "dog": 0.4, "car": 0.1},
    ("The", "nice"): {"woman": 0.4, "house": 0.3, "guy": 0.3},
    ("The", "dog"): {"has": 0.9, "runs": 0.1},
    ("The", "car"): {"is": 1.0},
}


def toy_next_logprobs(tokens: Sequence[int]) -> FloatArray:
    """A made-up language model over `TOY_VOCAB` for demonstrating search.

    After "The", greedy takes "nice" (0.5) and ends with "The nice woman", probability
    0.5 x 0.4 = 0.20. Beam search with width 2 also keeps "dog" (0.4) and finds
    "The dog has", probability 0.4 x 0.9 = 0.36: the better sequence hides behind a worse
    first step.
    """
    words = tuple(TOY_VOCAB[t] for t in tokens)
    probs = np.zeros(len(TOY_VOCAB))
    table = _TOY_TABLE.get(words, {"<eos>": 1.0})
    for word, p in table.items():
        probs[TOY_VOCAB.index(word)] = p
    with np.errstate(divide="ignore"):
        return np.log(probs)
