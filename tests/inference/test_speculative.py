"""Speculative sampling: exactness (analytic and statistical), greedy equivalence, the
expected-speed-up formulas by hand, and call counting."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy import stats as sps

from llmprep.foundations.sampling import greedy
from llmprep.foundations.tiny_lm import train
from llmprep.inference.speculative import (
    NextTokenModel,
    SpecStep,
    TinyLMModel,
    acceptance_rate,
    expected_speedup,
    expected_tokens_per_call,
    first_token_distribution,
    residual_distribution,
    sample_generate,
    speculative_accept,
    speculative_generate,
    stats,
)


@dataclass(frozen=True)
class HashModel:
    """A context-dependent toy model: a fixed random distribution per (last two tokens)."""

    vocab: int
    seed: int
    sharpness: float = 1.0

    def probs(self, context: Sequence[int]) -> NDArray[np.float64]:
        key = (self.vocab, self.seed, self.sharpness, *context[-2:])
        if key not in _TABLE:
            rng = np.random.default_rng([self.seed, len(context[-2:]), *context[-2:]])
            logits = rng.standard_normal(self.vocab) * self.sharpness
            e = np.exp(logits - logits.max())
            _TABLE[key] = e / e.sum()
        return _TABLE[key]


_TABLE: dict[tuple[float, ...], NDArray[np.float64]] = {}


@dataclass
class Counting:
    """Wraps a model and counts its calls."""

    inner: NextTokenModel
    calls: int = 0

    def probs(self, context: Sequence[int]) -> NDArray[np.float64]:
        self.calls += 1
        return self.inner.probs(context)


def distributions(n: int) -> st.SearchStrategy[NDArray[np.float64]]:
    weights = st.lists(st.floats(0.0, 10.0), min_size=n, max_size=n).filter(lambda w: sum(w) > 1e-3)
    return weights.map(lambda w: np.asarray(w) / np.sum(w))


@given(st.integers(2, 8).flatmap(lambda n: st.tuples(distributions(n), distributions(n))))
def test_one_step_output_is_exactly_p(pq: tuple[NDArray[np.float64], NDArray[np.float64]]) -> None:
    p, q = pq
    np.testing.assert_allclose(first_token_distribution(p, q), p, atol=1e-12)


@given(st.integers(2, 8).flatmap(lambda n: st.tuples(distributions(n), distributions(n))))
def test_acceptance_rate_is_one_minus_total_variation(
    pq: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> None:
    p, q = pq
    assert acceptance_rate(p, q) == pytest.approx(1 - 0.5 * np.abs(p - q).sum())
    assert acceptance_rate(p, q) == pytest.approx(float(np.minimum(p, q).sum()))


def test_hand_cases() -> None:
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    assert acceptance_rate(p, q) == pytest.approx(0.6)
    np.testing.assert_allclose(residual_distribution(p, q), [0.0, 1.0])
    # token 0: p/q = 5/9, kept iff u < 0.5556; token 1: p/q = 5 -> always kept
    assert speculative_accept(p, q, 0, 0.55)
    assert not speculative_accept(p, q, 0, 0.56)
    assert speculative_accept(p, q, 1, 0.999)
    assert acceptance_rate(p, p) == pytest.approx(1.0)
    np.testing.assert_allclose(residual_distribution(p, p), p)  # the degenerate case


def test_expected_formulas_by_hand() -> None:
    assert expected_tokens_per_call(0.8, 4) == pytest.approx(1 + 0.8 + 0.64 + 0.512 + 0.4096)
    assert expected_tokens_per_call(0.8, 4) == pytest.approx(3.3616)
    assert expected_tokens_per_call(0.0, 5) == 1.0
    assert expected_tokens_per_call(1.0, 5) == 6.0
    assert expected_tokens_per_call(0.5, 0) == 1.0
    assert expected_speedup(0.8, 4, 0.05) == pytest.approx(3.3616 / 1.2)
    assert expected_speedup(0.6, 2, 0.0) == pytest.approx(1.96)
    # a draft as slow as the target never pays: (1 - a^(k+1)) / (1 - a) <= k + 1
    assert expected_speedup(0.9, 4, 1.0) < 1.0


def test_greedy_matches_the_targets_greedy_output() -> None:
    target, draft = HashModel(6, seed=1), HashModel(6, seed=2)
    out, steps = speculative_generate(
        target, draft, [0], k=3, max_new_tokens=40, temperature=0.0, rng=np.random.default_rng(0)
    )
    reference = sample_generate(
        target, [0], max_new_tokens=40, temperature=0.0, rng=np.random.default_rng(99)
    )
    assert out == reference
    ctx = [0]
    for token in out:  # and it is the argmax at every step
        assert token == int(np.argmax(target.probs(ctx)))
        ctx.append(token)
    assert sum(len(s.tokens) for s in steps) == 40


def test_many_runs_match_target_sampling() -> None:
    # vocab 3, 3 new tokens, k = 2: 27 sequences whose exact probabilities we know
    target, draft = HashModel(3, seed=5), HashModel(3, seed=6, sharpness=2.0)
    prompt = [1]
    exact = {}
    for seq in itertools.product(range(3), repeat=3):
        prob, ctx = 1.0, list(prompt)
        for t in seq:
            prob *= target.probs(ctx)[t]
            ctx.append(t)
        exact[seq] = prob
    rng = np.random.default_rng(12345)
    n = 6000
    counts = Counter(
        tuple(speculative_generate(target, draft, prompt, k=2, max_new_tokens=3, rng=rng)[0])
        for _ in range(n)
    )
    observed = np.array([counts[s] for s in exact])
    expected = np.array([exact[s] * n for s in exact])
    assert observed.sum() == n
    result = sps.chisquare(observed, expected)
    assert result.pvalue > 1e-3  # seeded: a fixed, generous threshold


def test_draft_equal_to_target_accepts_everything() -> None:
    model = HashModel(5, seed=3)
    out, steps = speculative_generate(
        model, model, [0], k=4, max_new_tokens=25, rng=np.random.default_rng(1)
    )
    assert len(out) == 25
    assert all(s.accepted == s.proposed for s in steps)
    assert [len(s.tokens) for s in steps] == [5, 5, 5, 5, 5]


def test_call_counting_and_stats() -> None:
    target, draft = Counting(HashModel(4, seed=7)), Counting(HashModel(4, seed=8))
    out, steps = speculative_generate(
        target, draft, [2], k=3, max_new_tokens=30, rng=np.random.default_rng(4)
    )
    s = stats(steps)
    assert len(out) == s.tokens == 30
    assert s.target_calls == len(steps)
    assert s.draft_calls == draft.calls  # one draft pass per proposed token
    assert target.calls == sum(st_.proposed + 1 for st_ in steps)  # k + 1 positions per pass
    assert 0 <= s.accepted <= s.checked <= s.proposed
    assert s.tokens == s.accepted + s.target_calls  # each pass adds one non-draft token
    assert s.tokens_per_target_call == pytest.approx(30 / len(steps))
    assert s.speedup(0.0) == pytest.approx(s.tokens_per_target_call)
    assert s.speedup(0.1) == pytest.approx(30 / (len(steps) + 0.1 * s.draft_calls))
    # no step drafts past the end: the last rounds shrink
    assert all(len(x.tokens) <= 4 for x in steps)


def test_measured_acceptance_is_near_the_analytic_rate() -> None:
    # context-free models: every position has the same p and q, so alpha is sum(min(p, q))
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.3, 0.3, 0.4])

    @dataclass(frozen=True)
    class Fixed:
        dist: NDArray[np.float64]

        def probs(self, context: Sequence[int]) -> NDArray[np.float64]:
            return self.dist

    _, steps = speculative_generate(
        Fixed(p), Fixed(q), [0], k=4, max_new_tokens=8000, rng=np.random.default_rng(2)
    )
    s = stats(steps)
    alpha = acceptance_rate(p, q)  # 0.8
    assert s.acceptance == pytest.approx(alpha, rel=0.03)
    assert s.accepted / s.proposed < s.acceptance  # counting unjudged drafts understates it
    full = [x for x in steps if x.proposed == 4]
    measured = sum(len(x.tokens) for x in full) / len(full)
    assert measured == pytest.approx(expected_tokens_per_call(alpha, 4), rel=0.04)


def test_tinylm_adapter() -> None:
    text = "the cat sat on the mat. the dog sat on the log. " * 40
    big = train(text, context=4, emb_dim=8, hidden=48, steps=150, seed=0)
    small = train(text, context=2, emb_dim=4, hidden=8, steps=60, seed=1)
    target, draft = TinyLMModel(big), TinyLMModel(small)
    prompt = [int(i) for i in big.encode("the ")]
    p = target.probs(prompt)
    assert p.shape == (big.vocab_size,)
    assert p[0] == 0.0
    assert p.sum() == pytest.approx(1.0)
    assert int(np.argmax(p)) == greedy(big.logits("the "))
    out, steps = speculative_generate(
        target, draft, prompt, k=3, max_new_tokens=20, temperature=0.0, rng=np.random.default_rng(0)
    )
    assert (
        big.decode(out) == big.generate("the ", 20, rng=np.random.default_rng(0), temperature=0)[4:]
    )
    assert isinstance(steps[0], SpecStep)


def test_bad_inputs() -> None:
    p = np.array([0.5, 0.5])
    with pytest.raises(ValueError, match="alpha"):
        expected_tokens_per_call(1.5, 2)
    with pytest.raises(ValueError, match="k must"):
        expected_speedup(0.5, -1, 0.1)
    with pytest.raises(ValueError, match="cost_ratio"):
        expected_speedup(0.5, 1, -0.1)
    with pytest.raises(ValueError, match="u must"):
        speculative_accept(p, p, 0, 1.0)
    with pytest.raises(ValueError, match="q = 0"):
        speculative_accept(p, np.array([1.0, 0.0]), 1, 0.3)
    with pytest.raises(ValueError, match="sum to 1"):
        acceptance_rate([0.5, 0.6], p)
    with pytest.raises(ValueError, match="vocabularies differ"):
        speculative_generate(
            HashModel(3, 0),
            HashModel(4, 1),
            [0],
            k=2,
            max_new_tokens=5,
            rng=np.random.default_rng(),
        )
    with pytest.raises(ValueError, match="steps is empty"):
        stats([])


def test_same_seed_same_output() -> None:
    target, draft = HashModel(5, seed=11), HashModel(5, seed=12)

    def run(seed: int) -> list[int]:
        return speculative_generate(
            target, draft, [0], k=3, max_new_tokens=30, rng=np.random.default_rng(seed)
        )[0]

    assert run(0) == run(0)
    assert run(0) != run(1)


def _tempered_reference(p: NDArray[np.float64], temperature: float) -> NDArray[np.float64]:
    w = p ** (1.0 / temperature)
    out: NDArray[np.float64] = w / w.sum()
    return out


def test_many_runs_match_tempered_target_sampling() -> None:
    # at T = 0.5 the output must follow softmax(log p / T) of the target, not p itself
    target, draft = HashModel(3, seed=15), HashModel(3, seed=16, sharpness=2.0)
    prompt, temperature = [2], 0.5
    exact = {}
    for seq in itertools.product(range(3), repeat=3):
        prob, ctx = 1.0, list(prompt)
        for t in seq:
            prob *= _tempered_reference(target.probs(ctx), temperature)[t]
            ctx.append(t)
        exact[seq] = prob
    rng = np.random.default_rng(2024)
    n = 4000
    counts = Counter(
        tuple(
            speculative_generate(
                target, draft, prompt, k=2, max_new_tokens=3, temperature=temperature, rng=rng
            )[0]
        )
        for _ in range(n)
    )
    observed = np.array([counts[s] for s in exact])
    expected = np.array([exact[s] * n for s in exact])
    assert sps.chisquare(observed, expected).pvalue > 1e-3
    # and the untempered distribution is clearly rejected, so the test has power
    untempered = {}
    for seq in exact:
        prob, ctx = 1.0, list(prompt)
        for t in seq:
            prob *= target.probs(ctx)[t]
            ctx.append(t)
        untempered[seq] = prob * n
    assert sps.chisquare(observed, np.array(list(untempered.values()))).pvalue < 1e-6


@pytest.mark.parametrize("temperature", [0.0, 0.5, 1.0, 1.7])
def test_draft_equal_to_target_accepts_everything_at_any_temperature(temperature: float) -> None:
    # both models are tempered the same way, so q == p and no draft is ever rejected
    model = HashModel(5, seed=3)
    _, steps = speculative_generate(
        model,
        model,
        [0],
        k=3,
        max_new_tokens=20,
        temperature=temperature,
        rng=np.random.default_rng(5),
    )
    assert all(s.accepted == s.proposed for s in steps)


def test_sample_generate_rejects_bad_inputs() -> None:
    model = HashModel(3, seed=0)
    with pytest.raises(ValueError, match="temperature"):
        sample_generate(model, [0], max_new_tokens=2, temperature=-1.0, rng=np.random.default_rng())
    with pytest.raises(ValueError, match="max_new_tokens"):
        sample_generate(model, [0], max_new_tokens=-1, rng=np.random.default_rng())
