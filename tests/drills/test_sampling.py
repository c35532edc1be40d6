"""Grader for the sampling drill: softmax with temperature, top-k, top-p, and the draw."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.drills.target import load

m = load("sampling")

# Logits without ties (distinct values), so "the k largest" has exactly one answer.
distinct_logits = arrays(
    np.float64,
    st.integers(2, 30),
    elements=st.floats(-10, 10, allow_nan=False).map(lambda x: round(x, 2)),
    unique=True,
)


def reference_softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    out: np.ndarray = e / e.sum()
    return out


# -----------------------------------------------------------------------------
# softmax


def test_softmax_matches_the_definition() -> None:
    z = np.array([2.0, 1.0, 0.0])
    np.testing.assert_allclose(m.softmax(z), np.exp(z) / np.exp(z).sum(), rtol=1e-12)
    np.testing.assert_allclose(m.softmax(z, temperature=2.0), reference_softmax(z / 2.0))


def test_softmax_does_not_overflow_on_huge_logits() -> None:
    p = m.softmax(np.array([1000.0, 999.0, -1000.0]))
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p, reference_softmax(np.array([1.0, 0.0, -2000.0])), atol=1e-12)


def test_softmax_gives_minus_infinity_zero_probability() -> None:
    p = m.softmax(np.array([0.0, -np.inf, 1.0]))
    assert p[1] == 0.0
    assert p.sum() == pytest.approx(1.0)


def test_temperature_zero_is_one_hot_on_the_argmax() -> None:
    np.testing.assert_array_equal(m.softmax(np.array([0.5, 3.0, 3.0, 1.0]), 0.0), [0, 1, 0, 0])
    with pytest.raises(ValueError):  # noqa: PT011 - the starter fixes no message
        m.softmax(np.array([1.0, 2.0]), -0.5)


@given(distinct_logits, st.floats(0.1, 0.9), st.floats(1.1, 10.0))
def test_lower_temperature_sharpens(logits: np.ndarray, cold: float, hot: float) -> None:
    def entropy(p: np.ndarray) -> float:
        nz = p[p > 0]
        return float(-(nz * np.log(nz)).sum())

    p_cold, p_one, p_hot = (m.softmax(logits, t) for t in (cold, 1.0, hot))
    for p in (p_cold, p_one, p_hot):
        assert p.sum() == pytest.approx(1.0)
    assert entropy(p_cold) <= entropy(p_one) + 1e-9 <= entropy(p_hot) + 2e-9
    assert int(np.argmax(p_cold)) == int(np.argmax(logits))


# -----------------------------------------------------------------------------
# top-k


def test_top_k_keeps_the_k_largest() -> None:
    out = m.top_k_filter(np.array([1.0, 3.0, 2.0]), 2)
    np.testing.assert_array_equal(out, [-np.inf, 3.0, 2.0])


@given(distinct_logits, st.integers(1, 40))
def test_top_k_keeps_exactly_min_k_vocab_tokens(logits: np.ndarray, k: int) -> None:
    out = m.top_k_filter(logits, k)
    kept = np.isfinite(out)
    assert kept.sum() == min(k, logits.size)
    np.testing.assert_array_equal(out[kept], logits[kept])  # kept logits are unchanged
    if not kept.all():
        assert logits[kept].min() > logits[~kept].max()  # and they are the largest ones


def test_top_k_does_not_modify_its_input_and_rejects_k_below_one() -> None:
    z = np.array([1.0, 3.0, 2.0])
    m.top_k_filter(z, 1)
    np.testing.assert_array_equal(z, [1.0, 3.0, 2.0])
    with pytest.raises(ValueError):  # noqa: PT011 - the starter fixes no message
        m.top_k_filter(z, 0)


# -----------------------------------------------------------------------------
# top-p


def test_top_p_known_case() -> None:
    logits = np.log(np.array([0.5, 0.3, 0.2]))
    assert np.isfinite(m.top_p_filter(logits, 0.7)).tolist() == [True, True, False]
    assert np.isfinite(m.top_p_filter(logits, 0.5)).tolist() == [True, False, False], (
        "p = 0.5: token 0 alone already reaches 0.5 (>= p, not > p), so keep only it"
    )
    assert np.isfinite(m.top_p_filter(logits, 1.0)).all()
    assert np.isfinite(m.top_p_filter(logits, 0.01)).tolist() == [True, False, False]


@given(distinct_logits, st.floats(0.01, 0.99))
def test_top_p_keeps_the_smallest_nucleus(logits: np.ndarray, p: float) -> None:
    probs = reference_softmax(logits)
    kept = np.isfinite(m.top_p_filter(logits, p))
    assert kept[np.argmax(probs)]
    if kept.sum() > 1:
        assert probs[kept].min() >= probs[~kept].max(initial=0.0)  # the most likely ones
    assert probs[kept].sum() >= p - 1e-9  # reaches p ...
    assert probs[kept].sum() - probs[kept].min() < p + 1e-9  # ... and no smaller set does


def test_top_p_rejects_p_outside_zero_one() -> None:
    for p in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError):  # noqa: PT011 - the starter fixes no message
            m.top_p_filter(np.array([1.0, 2.0]), p)


# -----------------------------------------------------------------------------
# the draw


def test_temperature_zero_is_greedy_and_leaves_the_generator_alone() -> None:
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert m.sample(np.array([0.1, 2.0, 1.5]), rng, temperature=0.0) == 1
    assert rng.bit_generator.state == state


def test_same_seed_same_tokens() -> None:
    logits = np.array([1.0, 1.2, 0.8, 1.1])
    a = [m.sample(logits, np.random.default_rng(s)) for s in range(20)]
    b = [m.sample(logits, np.random.default_rng(s)) for s in range(20)]
    assert a == b
    assert len(set(a)) > 1  # and it really samples


@given(distinct_logits, st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_never_draws_a_filtered_token(logits: np.ndarray, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    allowed = np.isfinite(m.top_k_filter(logits, k))
    for _ in range(5):
        assert allowed[m.sample(logits, rng, top_k=k)]
    nucleus = np.isfinite(m.top_p_filter(logits, 0.5))
    for _ in range(5):
        assert nucleus[m.sample(logits, rng, top_p=0.5)]


def test_draws_follow_the_softmax() -> None:
    logits = np.array([2.0, 1.0, 0.0, -1.0])
    rng = np.random.default_rng(7)
    n = 20_000
    counts = np.bincount([m.sample(logits, rng, temperature=1.5) for _ in range(n)], minlength=4)
    expected = reference_softmax(logits / 1.5)
    # Within 4 standard errors of the binomial count for every token.
    sd = np.sqrt(n * expected * (1 - expected))
    assert np.all(np.abs(counts - n * expected) < 4 * sd), (counts, n * expected)


def test_temperature_applies_before_top_p() -> None:
    # At T = 1 the top token holds 0.66 < 0.9 of the mass, so top-p = 0.9 keeps two tokens;
    # at T = 0.25 it holds 0.98, so only it survives and every draw returns it.
    logits = np.array([2.0, 1.0, 0.0])
    rng = np.random.default_rng(1)
    draws = {m.sample(logits, rng, temperature=0.25, top_p=0.9) for _ in range(200)}
    assert draws == {0}
    draws = {m.sample(logits, rng, temperature=1.0, top_p=0.9) for _ in range(200)}
    assert draws == {0, 1}
