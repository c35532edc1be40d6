"""Decoding: softmax, filters, penalties, sampling, greedy and beam search."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from llmprep.foundations.sampling import (
    TOY_VOCAB,
    NextTokenLogProbs,
    apply_penalties,
    beam_search,
    greedy,
    greedy_decode,
    log_softmax,
    min_p_filter,
    sample,
    softmax,
    top_k_filter,
    top_p_filter,
    toy_next_logprobs,
)

# Logit vectors with realistic magnitudes; duplicates (ties) are allowed on purpose.
logit_vectors = arrays(
    np.float64,
    st.integers(2, 40),
    elements=st.floats(-20, 20, allow_nan=False).map(lambda x: round(x, 1)),
)
probabilities = st.floats(0.01, 1.0)
seeds = st.integers(0, 2**32 - 1)


def kept(filtered: np.ndarray) -> np.ndarray:
    return np.isfinite(filtered)


# -----------------------------------------------------------------------------
# softmax and temperature


def test_softmax_known_values() -> None:
    np.testing.assert_allclose(softmax([2.0, 1.0, 0.0]), [0.66524, 0.24473, 0.09003], atol=1e-5)


@given(logit_vectors, st.floats(0.05, 5.0))
def test_softmax_is_a_distribution_and_shift_invariant(logits: np.ndarray, t: float) -> None:
    p = softmax(logits, temperature=t)
    assert p.min() >= 0
    assert p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(softmax(logits + 1000.0, temperature=t), p, atol=1e-12)


def test_softmax_survives_huge_logits() -> None:
    p = softmax([1000.0, 999.0])
    assert np.isfinite(p).all()
    assert p[0] == pytest.approx(1 / (1 + np.exp(-1)))


@given(logit_vectors)
def test_temperature_zero_is_one_hot_on_the_first_argmax(logits: np.ndarray) -> None:
    p = softmax(logits, temperature=0)
    assert p.sum() == 1.0
    assert p[int(np.argmax(logits))] == 1.0


def test_low_temperature_concentrates_on_argmax_and_high_flattens() -> None:
    logits = np.array([1.0, 2.0, 0.5, 1.9])
    top = [softmax(logits, t)[1] for t in (2.0, 1.0, 0.5, 0.1, 0.01)]
    assert top == sorted(top)  # sharpening is monotone
    assert top[-1] > 0.9999
    assert softmax(logits, 1e6).max() == pytest.approx(0.25, abs=1e-5)  # nearly uniform


def test_negative_temperature_is_rejected() -> None:
    with pytest.raises(ValueError, match="temperature"):
        softmax([1.0, 2.0], temperature=-1)


def test_log_softmax_agrees_with_log_of_softmax() -> None:
    logits = np.array([3.0, -1.0, 0.25, 7.0])
    np.testing.assert_allclose(log_softmax(logits), np.log(softmax(logits)), atol=1e-12)


# -----------------------------------------------------------------------------
# filters


@given(logit_vectors, st.integers(1, 50))
def test_top_k_keeps_exactly_the_k_largest(logits: np.ndarray, k: int) -> None:
    filtered = top_k_filter(logits, k)
    mask = kept(filtered)
    assert mask.sum() == min(k, logits.size)
    if not mask.all():
        assert logits[mask].min() >= logits[~mask].max()
    np.testing.assert_array_equal(filtered[mask], logits[mask])


def test_top_k_breaks_ties_by_lower_token_id() -> None:
    np.testing.assert_array_equal(kept(top_k_filter([1.0, 5.0, 5.0, 5.0], 2)), [0, 1, 1, 0])


@given(logit_vectors, probabilities)
def test_top_p_keeps_the_smallest_set_reaching_p(logits: np.ndarray, p: float) -> None:
    probs = softmax(logits)
    mask = kept(top_p_filter(logits, p))
    kept_probs = probs[mask]
    eps = 1e-9
    # the nucleus consists of the most likely tokens ...
    if not mask.all():
        assert kept_probs.min() >= probs[~mask].max()
    # ... its total reaches p (or it is the whole vocabulary) ...
    assert kept_probs.sum() >= p - eps or mask.all()
    # ... and it is minimal: without its least likely member it would fall short of p.
    assert kept_probs.sum() - kept_probs.min() < p + eps


def test_top_p_worked_example() -> None:
    logits = np.log([0.5, 0.3, 0.2])
    np.testing.assert_array_equal(kept(top_p_filter(logits, 0.7)), [True, True, False])
    np.testing.assert_array_equal(kept(top_p_filter(logits, 0.5)), [True, False, False])
    np.testing.assert_array_equal(kept(top_p_filter(logits, 0.81)), [True, True, True])
    assert kept(top_p_filter(logits, 1.0)).all()


def test_top_p_rejects_p_outside_zero_one() -> None:
    for p in (0.0, 1.5):
        with pytest.raises(ValueError, match="p must be"):
            top_p_filter([1.0, 2.0], p)


@given(logit_vectors, st.floats(0.0, 1.0))
def test_min_p_threshold_is_relative_to_the_top_probability(
    logits: np.ndarray, min_p: float
) -> None:
    probs = softmax(logits)
    mask = kept(min_p_filter(logits, min_p))
    np.testing.assert_array_equal(mask, probs >= min_p * probs.max())
    assert mask[np.argmax(probs)]


def test_min_p_worked_example() -> None:
    logits = np.log([0.6, 0.3, 0.1])
    np.testing.assert_array_equal(kept(min_p_filter(logits, 0.2)), [True, True, False])


@given(logit_vectors, st.integers(1, 10), probabilities, st.floats(0.0, 0.5))
def test_filtered_distributions_renormalise_to_one(
    logits: np.ndarray, k: int, p: float, min_p: float
) -> None:
    for filtered in (
        top_k_filter(logits, k),
        top_p_filter(logits, p),
        min_p_filter(logits, min_p),
        min_p_filter(top_p_filter(top_k_filter(logits, k), p), min_p),
    ):
        probs = softmax(filtered)
        assert probs.sum() == pytest.approx(1.0)
        assert np.all(probs[~kept(filtered)] == 0.0)


# -----------------------------------------------------------------------------
# penalties


def test_repetition_penalty_worked_example_and_no_mutation() -> None:
    logits = np.array([2.0, -1.0, 0.5])
    out = apply_penalties(logits, [0, 1, 1], repetition_penalty=2.0)
    np.testing.assert_allclose(out, [1.0, -2.0, 0.5])
    np.testing.assert_array_equal(logits, [2.0, -1.0, 0.5])


def test_frequency_and_presence_penalties_follow_the_openai_formula() -> None:
    out = apply_penalties(np.zeros(4), [2, 2, 2, 1], frequency_penalty=0.5, presence_penalty=1.0)
    np.testing.assert_allclose(out, [0.0, -1.5, -2.5, 0.0])


@pytest.mark.parametrize("generated", [[3], [-1], [0, 7]])
def test_penalties_reject_token_ids_outside_the_vocabulary(generated: list[int]) -> None:
    with pytest.raises(ValueError, match=r"must be in \[0, 3\)"):
        apply_penalties([1.0, 2.0, 3.0], generated, presence_penalty=1.0)


@given(logit_vectors, st.lists(st.integers(0, 1), max_size=5), st.floats(1.0, 3.0))
def test_repetition_penalty_never_raises_a_seen_token(
    logits: np.ndarray, generated: list[int], penalty: float
) -> None:
    out = apply_penalties(logits, generated, repetition_penalty=penalty)
    seen = np.zeros(logits.size, dtype=bool)
    seen[generated] = True
    assert np.all(out[seen] <= logits[seen])
    np.testing.assert_array_equal(out[~seen], logits[~seen])


# -----------------------------------------------------------------------------
# sampling


@given(logit_vectors, seeds)
def test_top_k_one_is_greedy(logits: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert sample(logits, rng, top_k=1) == greedy(logits)


@given(logit_vectors, seeds)
def test_temperature_zero_is_greedy_and_leaves_the_generator_alone(
    logits: np.ndarray, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    assert sample(logits, rng, temperature=0) == greedy(logits)
    assert rng.random() == np.random.default_rng(seed).random()


@given(logit_vectors, seeds, st.integers(1, 5), probabilities)
def test_sampling_is_deterministic_with_a_seed_and_respects_filters(
    logits: np.ndarray, seed: int, k: int, p: float
) -> None:
    def draw() -> list[int]:
        rng = np.random.default_rng(seed)
        return [sample(logits, rng, temperature=0.8, top_k=k, top_p=p) for _ in range(20)]

    first = draw()
    assert first == draw()
    allowed = kept(top_p_filter(top_k_filter(logits / 0.8, k), p))
    assert all(allowed[t] for t in first)


def test_sample_frequencies_follow_the_distribution() -> None:
    logits = np.log([0.5, 0.3, 0.15, 0.05])
    rng = np.random.default_rng(0)
    draws = [sample(logits, rng) for _ in range(20_000)]
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, [0.5, 0.3, 0.15, 0.05], atol=0.015)


# -----------------------------------------------------------------------------
# search


def words(tokens: Sequence[int]) -> str:
    return " ".join(TOY_VOCAB[t] for t in tokens if TOY_VOCAB[t] != "<eos>")


THE = TOY_VOCAB.index("The")
EOS = TOY_VOCAB.index("<eos>")


def test_greedy_commits_early_and_beam_search_finds_the_likelier_sentence() -> None:
    g = greedy_decode(toy_next_logprobs, [THE], max_new_tokens=5, eos_id=EOS)
    assert words(g.tokens) == "The nice woman"
    assert np.exp(g.logprob) == pytest.approx(0.20)

    best = beam_search(toy_next_logprobs, [THE], beam_width=2, max_new_tokens=5, eos_id=EOS)[0]
    assert words(best.tokens) == "The dog has"
    assert np.exp(best.logprob) == pytest.approx(0.36)
    assert best.finished


def test_beam_width_one_is_greedy() -> None:
    g = greedy_decode(toy_next_logprobs, [THE], max_new_tokens=5, eos_id=EOS)
    b = beam_search(toy_next_logprobs, [THE], beam_width=1, max_new_tokens=5, eos_id=EOS)
    assert b[0].tokens == g.tokens
    assert b[0].logprob == pytest.approx(g.logprob)


def test_zero_new_tokens_returns_the_prompt_and_negative_is_rejected() -> None:
    assert greedy_decode(toy_next_logprobs, [THE], max_new_tokens=0).tokens == (THE,)
    [only] = beam_search(toy_next_logprobs, [THE], beam_width=2, max_new_tokens=0)
    assert (only.tokens, only.n_new) == ((THE,), 0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        greedy_decode(toy_next_logprobs, [THE], max_new_tokens=-1)
    with pytest.raises(ValueError, match="max_new_tokens"):
        beam_search(toy_next_logprobs, [THE], beam_width=2, max_new_tokens=-1)
    with pytest.raises(ValueError, match="beam_width"):
        beam_search(toy_next_logprobs, [THE], beam_width=0, max_new_tokens=3)


def random_model(seed: int, vocab: int) -> NextTokenLogProbs:
    """A deterministic random next-token model: the distribution depends on the prefix."""
    cache: dict[tuple[int, ...], np.ndarray] = {}

    def next_logprobs(tokens: Sequence[int]) -> np.ndarray:
        key = tuple(tokens)
        if key not in cache:
            rng = np.random.default_rng([seed, *key])
            cache[key] = log_softmax(rng.normal(0, 2, size=vocab))
        return cache[key]

    return next_logprobs


@settings(max_examples=30)
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(1, 3))
def test_a_wide_enough_beam_finds_the_exact_best_sequence(seed: int, vocab: int, n: int) -> None:
    model = random_model(seed, vocab)

    def logprob(seq: tuple[int, ...]) -> float:
        total, prefix = 0.0, [0]
        for t in seq:
            total += float(model(prefix)[t])
            prefix.append(t)
        return total

    brute = max(itertools.product(range(vocab), repeat=n), key=logprob)
    best = beam_search(model, [0], beam_width=vocab**n, max_new_tokens=n, length_penalty=0.0)[0]
    assert best.tokens[1:] == brute
    assert best.logprob == pytest.approx(logprob(brute))


def test_beams_come_back_sorted_best_first() -> None:
    beams = beam_search(toy_next_logprobs, [THE], beam_width=3, max_new_tokens=5, eos_id=EOS)
    scores = [b.score() for b in beams]
    assert scores == sorted(scores, reverse=True)
    assert len({b.tokens for b in beams}) == len(beams)


def test_repetition_penalty_hits_prompt_tokens_when_they_are_passed() -> None:
    # Hugging Face penalizes every id in input_ids, prompt included (sampling.py docstring):
    # a name the answer must copy from the prompt gets the same penalty as a repeat.
    prompt, generated = [3], [1]
    hf_style = apply_penalties([1.0, 2.0, 0.5, 4.0], [*prompt, *generated], repetition_penalty=2.0)
    new_only = apply_penalties([1.0, 2.0, 0.5, 4.0], generated, repetition_penalty=2.0)
    assert hf_style[3] == 2.0
    assert new_only[3] == 4.0
    assert hf_style[1] == new_only[1] == 1.0
