"""Tiled attention with online softmax equals plain softmax attention, and costs less HBM."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmprep.foundations.flash_attention import (
    Partial,
    attention_reference,
    flash_attention,
    flash_attention_hbm,
    flash_block_sizes,
    flash_decode,
    merge,
    online_softmax_stats,
    online_update,
    standard_attention_hbm,
)


def qkv(seed: int, n_q: int, n_k: int, d: int, d_v: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((n_q, d)),
        rng.standard_normal((n_k, d)),
        rng.standard_normal((n_k, d_v)),
    )


def naive_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The textbook formula with no max subtraction: exp() straight on the scores."""
    e = np.exp(q @ k.T / math.sqrt(q.shape[1]))
    out: np.ndarray = e @ v / e.sum(axis=1, keepdims=True)
    return out


def test_reference_is_the_textbook_formula_on_ordinary_scores() -> None:
    q, k, v = qkv(0, 5, 7, 4, 3)
    out, lse = attention_reference(q, k, v)
    np.testing.assert_allclose(out, naive_attention(q, k, v), atol=1e-12)
    np.testing.assert_allclose(lse, np.log(np.exp(q @ k.T / 2).sum(axis=1)), atol=1e-12)


# -----------------------------------------------------------------------------
# online softmax


@settings(max_examples=50)
@given(
    x=st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=40),
    block=st.integers(1, 8),
)
def test_online_stats_equal_max_and_shifted_sum_in_one_pass(x: list[float], block: int) -> None:
    arr = np.array(x)
    m, ell = online_softmax_stats(arr, block)
    assert m == arr.max()
    assert ell == pytest.approx(np.exp(arr - arr.max()).sum(), rel=1e-12)


def test_online_update_rescales_the_earlier_partial_output() -> None:
    """Two keys seen one at a time: after the second, the first term is rescaled by e^(m - m')."""
    v = np.array([[10.0], [20.0]])
    state = online_update(Partial.empty(1, 1), np.array([[1.0]]), v[:1])
    assert (state.m[0], state.ell[0], state.acc[0, 0]) == (1.0, 1.0, 10.0)
    state = online_update(state, np.array([[3.0]]), v[1:])
    assert state.m[0] == 3.0
    assert state.ell[0] == pytest.approx(math.exp(-2) + 1)  # old term times e^(1 - 3)
    assert state.acc[0, 0] == pytest.approx(10 * math.exp(-2) + 20)
    out, lse = state.finish()
    assert out[0, 0] == pytest.approx((10 * math.e + 20 * math.e**3) / (math.e + math.e**3))
    assert lse[0] == pytest.approx(math.log(math.e + math.e**3))


# -----------------------------------------------------------------------------
# tiled attention


@settings(max_examples=60, deadline=None)
@given(
    n_q=st.integers(1, 40),
    extra_keys=st.integers(0, 20),
    d=st.integers(1, 12),
    block_q=st.integers(1, 17),
    block_k=st.integers(1, 17),
    causal=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_tiled_attention_equals_plain_attention(
    n_q: int, extra_keys: int, d: int, block_q: int, block_k: int, causal: bool, seed: int
) -> None:
    """Random shapes and block sizes that do and do not divide the lengths; causal or not."""
    q, k, v = qkv(seed, n_q, n_q + extra_keys, d, 5)
    out, lse = flash_attention(
        q, k, v, causal=causal, block_q=block_q, block_k=block_k, return_lse=True
    )
    ref_out, ref_lse = attention_reference(q, k, v, causal=causal)
    np.testing.assert_allclose(out, ref_out, atol=1e-12)
    np.testing.assert_allclose(lse, ref_lse, atol=1e-12)


def test_causal_means_no_query_sees_a_later_key() -> None:
    q, k, v = qkv(1, 9, 9, 4, 3)
    out = flash_attention(q, k, v, causal=True, block_q=4, block_k=3)
    changed = v.copy()
    changed[6:] += 100.0  # only keys 6, 7, 8 change
    again = flash_attention(q, k, changed, causal=True, block_q=4, block_k=3)
    np.testing.assert_array_equal(out[:6], again[:6])
    assert np.all(np.abs(out[6:] - again[6:]) > 1.0)
    np.testing.assert_allclose(out[0], v[0])  # the first query can only see the first key


def test_scores_of_1e4_overflow_the_naive_formula_but_not_online_softmax() -> None:
    rng = np.random.default_rng(2)
    q, k, v = (
        100 * rng.standard_normal((6, 4)),
        100 * rng.standard_normal((50, 4)),
        rng.standard_normal((50, 3)),
    )
    scores = q @ k.T / 2
    assert np.abs(scores).max() > 1e4
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.isfinite(naive_attention(q, k, v)).all()
    out, lse = flash_attention(q, k, v, block_q=4, block_k=7, return_lse=True)
    ref_out, ref_lse = attention_reference(q, k, v)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, ref_out, atol=1e-12)
    np.testing.assert_allclose(lse, ref_lse, rtol=1e-14)
    # with scores this far apart softmax is one-hot: the output is the best key's value
    np.testing.assert_allclose(out, v[scores.argmax(axis=1)], atol=1e-12)


def test_causal_needs_at_least_as_many_keys_as_queries() -> None:
    q, k, v = qkv(3, 5, 4, 2, 2)
    with pytest.raises(ValueError, match="n_k >= n_q"):
        flash_attention(q, k, v, causal=True)


# -----------------------------------------------------------------------------
# split-KV (Flash-Decoding)


@pytest.mark.parametrize("n_splits", [1, 2, 3, 7, 100, 500])
def test_flash_decoding_combine_equals_full_attention_for_one_query(n_splits: int) -> None:
    q, k, v = qkv(4, 1, 100, 16, 8)
    out, lse = flash_decode(q, k, v, n_splits)
    ref_out, ref_lse = attention_reference(q, k, v)
    np.testing.assert_allclose(out, ref_out, atol=1e-12)
    np.testing.assert_allclose(lse, ref_lse, atol=1e-12)


def test_merging_partials_is_order_independent() -> None:
    q, k, v = qkv(5, 2, 30, 4, 3)
    parts = [
        online_update(Partial.empty(2, 3), q @ k[i : i + 10].T, v[i : i + 10]) for i in (0, 10, 20)
    ]
    left = merge(merge(parts[0], parts[1]), parts[2]).finish()
    right = merge(parts[2], merge(parts[1], parts[0])).finish()
    for a, b in zip(left, right, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(left[0], attention_reference(q, k, v, scale=1.0)[0], atol=1e-12)


# -----------------------------------------------------------------------------
# IO complexity


def test_hbm_counts_on_a_hand_computed_case() -> None:
    # N = 8, d = 2, M = 16: B_c = ceil(16 / 8) = 2, B_r = min(2, d) = 2, T_c = 4.
    assert flash_block_sizes(2, 16) == (2, 2)
    # standard: reads 3Nd + 2N^2 = 48 + 128, writes Nd + 2N^2 = 16 + 128
    assert standard_attention_hbm(8, 2).reads == 176
    assert standard_attention_hbm(8, 2).writes == 144
    # tiled: reads 2Nd + T_c N (2d + 2) = 32 + 4*8*6, writes Nd + 2N + T_c N (d + 2) = 32 + 4*8*4
    assert flash_attention_hbm(8, 2, 16).reads == 224
    assert flash_attention_hbm(8, 2, 16).writes == 160


def test_tiling_wins_when_sram_is_large_compared_with_d_squared() -> None:
    # N = 1024, d = 64, M = 96 Ki elements (192 KiB of bf16): B_c = 384, T_c = 3.
    flash = flash_attention_hbm(1024, 64, 98_304)
    assert flash.reads == 2 * 1024 * 64 + 3 * 1024 * 130
    assert flash.writes == 1024 * 64 + 2 * 1024 + 3 * 1024 * 66
    assert standard_attention_hbm(1024, 64).total / flash.total == pytest.approx(5.565, abs=1e-3)


def test_hbm_traffic_scales_as_n2_for_standard_and_n2_d2_over_m_for_tiled() -> None:
    n, d, m = 2**16, 64, 2**17
    std, fl = standard_attention_hbm, flash_attention_hbm
    assert std(2 * n, d).total / std(n, d).total == pytest.approx(4, rel=0.01)
    assert fl(2 * n, d, m).total / fl(n, d, m).total == pytest.approx(4, rel=0.01)
    assert fl(n, d, 2 * m).total / fl(n, d, m).total == pytest.approx(0.5, rel=0.02)
    assert fl(n, 2 * d, m).total / fl(n, d, m).total == pytest.approx(4, rel=0.05)
    assert fl(n, d, m).total == pytest.approx(12 * n * n * d * d / m, rel=0.03)  # T_c = 4nd/M
