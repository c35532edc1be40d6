"""Grader for the beam-search drill: greedy decoding, beam search, scores and end-of-sequence."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.foundations.sampling import TOY_VOCAB, toy_next_logprobs
from tests.drills.target import load

m = load("beam-search")
type Model = Callable[[Sequence[int]], np.ndarray]
EOS, THE = TOY_VOCAB.index("<eos>"), TOY_VOCAB.index("The")


def words(tokens: Sequence[int]) -> str:
    return " ".join(TOY_VOCAB[t] for t in tokens)


def random_model(seed: int, vocab: int = 3) -> Model:
    """A fixed random next-token distribution for every prefix (no end-of-sequence)."""

    def next_logprobs(tokens: Sequence[int]) -> np.ndarray:
        rng = np.random.default_rng([seed, *tokens])
        z = rng.standard_normal(vocab) * 2
        out: np.ndarray = z - np.log(np.exp(z).sum())
        return out

    return next_logprobs


def sequence_logprob(model: Model, prompt: Sequence[int], new: Sequence[int]) -> float:
    tokens, total = list(prompt), 0.0
    for t in new:
        total += float(model(tokens)[t])
        tokens.append(t)
    return total


def test_score_is_length_normalized() -> None:
    beam = m.Beam((1, 2, 3, 4), -6.0, 3)
    assert beam.score(1.0) == pytest.approx(-2.0)
    assert beam.score(0.0) == pytest.approx(-6.0)
    assert beam.score(2.0) == pytest.approx(-6.0 / 9)
    assert m.Beam((1,), 0.0, 0).score() == 0.0  # no new tokens: no division by zero


def test_greedy_takes_the_locally_best_token() -> None:
    beam = m.greedy_decode(toy_next_logprobs, [THE], max_new_tokens=5, eos_id=EOS)
    assert words(beam.tokens) == "The nice woman <eos>"
    assert beam.finished
    assert beam.n_new == 3
    assert beam.logprob == pytest.approx(np.log(0.5 * 0.4))


def test_greedy_stops_at_max_new_tokens() -> None:
    beam = m.greedy_decode(toy_next_logprobs, [THE], max_new_tokens=1, eos_id=EOS)
    assert words(beam.tokens) == "The nice"
    assert not beam.finished
    assert beam.n_new == 1
    assert m.greedy_decode(toy_next_logprobs, [THE], max_new_tokens=0).tokens == (THE,)


def test_beam_search_finds_the_sequence_greedy_misses() -> None:
    beams = m.beam_search(
        toy_next_logprobs, [THE], beam_width=2, max_new_tokens=4, eos_id=EOS, length_penalty=0
    )
    assert words(beams[0].tokens) == "The dog has <eos>"
    assert beams[0].logprob == pytest.approx(np.log(0.4 * 0.9))
    assert words(beams[1].tokens) == "The nice woman <eos>"
    assert all(b.finished for b in beams)


@given(st.integers(0, 10_000), st.integers(1, 3))
def test_width_one_is_greedy(seed: int, steps: int) -> None:
    model = random_model(seed)
    (beam,) = m.beam_search(model, [0], beam_width=1, max_new_tokens=steps, length_penalty=0)
    greedy = m.greedy_decode(model, [0], max_new_tokens=steps)
    assert beam.tokens == greedy.tokens
    assert beam.logprob == pytest.approx(greedy.logprob)


@given(st.integers(0, 10_000))
def test_a_wide_enough_beam_is_exhaustive_search(seed: int) -> None:
    model = random_model(seed)
    best = max(itertools.product(range(3), repeat=3), key=lambda s: sequence_logprob(model, [1], s))
    beams = m.beam_search(model, [1], beam_width=27, max_new_tokens=3, length_penalty=0)
    assert beams[0].tokens == (1, *best)
    assert len(beams) == 27


@given(st.integers(0, 10_000), st.integers(2, 4))
def test_beams_are_consistent_sorted_and_distinct(seed: int, width: int) -> None:
    model = random_model(seed)
    beams = m.beam_search(model, [2], beam_width=width, max_new_tokens=3, length_penalty=1.0)
    assert len(beams) == width
    assert len({b.tokens for b in beams}) == width
    scores = [b.score(1.0) for b in beams]
    assert scores == sorted(scores, reverse=True)
    for b in beams:
        assert b.tokens[0] == 2
        assert b.n_new == 3
        assert b.logprob == pytest.approx(sequence_logprob(model, [2], b.tokens[1:]))


def test_length_penalty_changes_the_winner() -> None:
    # End now (0.45), or continue (0.55) and then end (0.7): 0.45 > 0.385 on raw probability,
    # but per token the longer answer wins (log 0.385 / 2 > log 0.45).
    def model(tokens: Sequence[int]) -> np.ndarray:
        return np.log(np.array([0.45, 0.55] if len(tokens) == 1 else [0.7, 0.3]))

    raw = m.beam_search(model, [1], beam_width=2, max_new_tokens=3, eos_id=0, length_penalty=0)
    normalized = m.beam_search(model, [1], beam_width=2, max_new_tokens=3, eos_id=0)
    assert [b.tokens for b in raw] == [(1, 0), (1, 1, 0)]
    assert [b.tokens for b in normalized] == [(1, 1, 0), (1, 0)]
    assert normalized[0].score(1.0) == pytest.approx(np.log(0.55 * 0.7) / 2)
    assert raw[0].finished
    assert raw[0].n_new == 1


def test_bad_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the starter fixes no message
        m.beam_search(toy_next_logprobs, [THE], beam_width=0, max_new_tokens=2)
    with pytest.raises(ValueError):  # noqa: PT011 - the starter fixes no message
        m.beam_search(toy_next_logprobs, [THE], beam_width=2, max_new_tokens=-1)
    with pytest.raises(ValueError):  # noqa: PT011 - the starter fixes no message
        m.greedy_decode(toy_next_logprobs, [THE], max_new_tokens=-1)
