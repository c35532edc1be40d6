"""Drill: temperature, top-k and top-p (nucleus) sampling.

"Here are a model's logits for the next token. Write the sampler an LLM API runs:
apply a temperature, keep only the k most likely tokens, keep the smallest set of
tokens whose probability reaches p, and draw one token id with a seeded generator."

numpy only. A filtered token gets the logit -inf, so the final softmax gives it
probability exactly 0. Grade it: make drill NAME=sampling
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

type FloatArray = NDArray[np.float64]


def softmax(logits: ArrayLike, temperature: float = 1.0) -> FloatArray:
    """Probabilities exp(z_i / T) / sum_j exp(z_j / T), without overflow.

    temperature = 0 means the limit T -> 0: a one-hot vector on the argmax (the first
    one on ties). A negative temperature is a ValueError. A logit of -inf gets
    probability 0.
    """
    raise NotImplementedError("drill sampling: implement softmax")


def top_k_filter(logits: ArrayLike, k: int) -> FloatArray:
    """A copy of the logits with all but the k largest set to -inf (k < 1: ValueError).

    Example: top_k_filter([1.0, 3.0, 2.0], k=2) -> [-inf, 3.0, 2.0]
    """
    raise NotImplementedError("drill sampling: implement top_k_filter")


def top_p_filter(logits: ArrayLike, p: float) -> FloatArray:
    """Keep the smallest set of most likely tokens whose total probability is >= p.

    The most likely token is always kept; p = 1 keeps everything; p outside (0, 1] is a
    ValueError. Example: probabilities [0.5, 0.3, 0.2], p = 0.7 -> keep tokens 0 and 1.
    """
    raise NotImplementedError("drill sampling: implement top_p_filter")


def sample(
    logits: ArrayLike,
    rng: np.random.Generator,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> int:
    """Draw one token id: divide by the temperature, then top-k, then top-p, then draw.

    temperature = 0 is greedy decoding (the argmax) and must not touch `rng`. The same
    seed gives the same token; a filtered token is never returned.
    """
    raise NotImplementedError("drill sampling: implement sample")
