"""Drill: greedy decoding and beam search over a next-token function.

"You get a function that, given the tokens so far, returns log-probabilities over the
vocabulary. Write greedy decoding, then beam search with a beam width, an end-of-sequence
token and a length penalty. Show a case where beam search beats greedy."

Grade it: make drill NAME=beam-search
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Given the tokens so far (prompt included), log-probabilities over the vocabulary.
type NextTokenLogProbs = Callable[[Sequence[int]], NDArray[np.float64]]


@dataclass(frozen=True, slots=True)
class Beam:
    """A candidate: all tokens (prompt included), the summed log-probability of the new
    tokens, how many tokens were generated, and whether the last one was end-of-sequence."""

    tokens: tuple[int, ...]
    logprob: float
    n_new: int
    finished: bool = False

    def score(self, length_penalty: float = 1.0) -> float:
        """logprob / max(n_new, 1) ** length_penalty (0 ranks by raw log-probability)."""
        raise NotImplementedError("drill beam-search: implement Beam.score")


def greedy_decode(
    next_logprobs: NextTokenLogProbs,
    prompt: Sequence[int],
    *,
    max_new_tokens: int,
    eos_id: int | None = None,
) -> Beam:
    """Append the most likely token (lowest id on ties) until max_new_tokens tokens or
    eos_id. max_new_tokens < 0 is a ValueError."""
    raise NotImplementedError("drill beam-search: implement greedy_decode")


def beam_search(
    next_logprobs: NextTokenLogProbs,
    prompt: Sequence[int],
    *,
    beam_width: int,
    max_new_tokens: int,
    eos_id: int | None = None,
    length_penalty: float = 1.0,
) -> list[Beam]:
    """The beam_width best sequences, best first, by Beam.score(length_penalty).

    Start from one beam holding the prompt. At every step, extend each unfinished beam
    by its beam_width most likely tokens (skip tokens with log-probability -inf), keep
    finished beams as they are, and keep the beam_width best candidates; ties go to the
    lexicographically smaller token tuple. Stop after max_new_tokens steps or when every
    kept beam is finished. beam_width = 1 is greedy decoding. beam_width < 1 or
    max_new_tokens < 0 is a ValueError.
    """
    raise NotImplementedError("drill beam-search: implement beam_search")
