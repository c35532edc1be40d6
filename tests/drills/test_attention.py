"""Grader for the attention drill: one head with and without a causal mask, then many heads."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.drills.target import load

m = load("attention")


def naive_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool) -> np.ndarray:
    """Row by row, straight from the definition."""
    n_q, n_k = len(q), len(k)
    out = np.zeros((n_q, v.shape[1]))
    for i in range(n_q):
        visible = range(n_k) if not causal else range(i + (n_k - n_q) + 1)
        scores = np.array([q[i] @ k[j] / np.sqrt(q.shape[1]) for j in visible])
        weights = np.exp(scores - scores.max())
        weights /= weights.sum()
        out[i] = sum(w * v[j] for w, j in zip(weights, visible, strict=True))
    return out


def naive_mha(x: np.ndarray, wq: np.ndarray, wk: np.ndarray, wv: np.ndarray, wo: np.ndarray,
              n_heads: int) -> np.ndarray:  # fmt: skip
    hd = wq.shape[1] // n_heads
    cols = [slice(h * hd, (h + 1) * hd) for h in range(n_heads)]
    heads = [naive_attention(x @ wq[:, c], x @ wk[:, c], x @ wv[:, c], True) for c in cols]
    out: np.ndarray = np.concatenate(heads, axis=1) @ wo
    return out


def qkv(seed: int, n_q: int, n_k: int, d: int, d_v: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((n_q, d)), rng.standard_normal((n_k, d))
    return q, k, rng.standard_normal((n_k, d_v))


def weights(
    seed: int, d_model: int, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    scale = 1 / np.sqrt(d_model)
    wq, wk, wv = (rng.standard_normal((d_model, width)) * scale for _ in range(3))
    return wq, wk, wv, rng.standard_normal((width, d_model)) / np.sqrt(width)


# -----------------------------------------------------------------------------
# one head


@given(st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 8), st.booleans())
def test_one_head_matches_the_definition(seed: int, n_q: int, d: int, causal: bool) -> None:
    q, k, v = qkv(seed, n_q, n_q + 2, d, 3)
    got = m.scaled_dot_product_attention(q, k, v, causal=causal)
    np.testing.assert_allclose(got, naive_attention(q, k, v, causal), atol=1e-10)


def test_weights_are_distributions_and_the_mask_is_lower_triangular() -> None:
    # With v = identity, the output *is* the matrix of attention weights.
    q, k, _ = qkv(1, 5, 5, 4, 1)
    w = m.scaled_dot_product_attention(q, k, np.eye(5), causal=True)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert np.all(w >= 0)
    assert np.all(np.triu(w, k=1) == 0)  # no weight on the future
    assert w[0, 0] == 1.0  # the first position sees only itself
    full = m.scaled_dot_product_attention(q, k, np.eye(5))
    assert np.all(full > 0)


def test_scaled_by_the_square_root_of_the_key_dimension() -> None:
    q = np.array([[1.0, 1.0, 1.0, 1.0]])
    k = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    v = np.array([[1.0], [0.0]])
    # score 4 / sqrt(4) = 2 against 0: weight sigmoid(2) on the first key
    out = m.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(out, [[1 / (1 + np.exp(-2.0))]])


def test_large_scores_do_not_overflow() -> None:
    q, k, v = qkv(2, 4, 4, 8, 2)
    out = m.scaled_dot_product_attention(q * 1e3, k * 1e3, v, causal=True)
    assert np.all(np.isfinite(out))
    # the scores are so peaked that each query takes the value of its best visible key
    scores = (q @ k.T) / np.sqrt(8)
    best = [int(np.argmax(scores[i, : i + 1])) for i in range(4)]
    np.testing.assert_allclose(out, v[best], atol=1e-6)


def test_the_future_cannot_change_the_past() -> None:
    q, k, v = qkv(3, 6, 6, 4, 3)
    before = m.scaled_dot_product_attention(q, k, v, causal=True)
    k2, v2 = k.copy(), v.copy()
    k2[4:] += 10.0
    v2[4:] -= 5.0
    after = m.scaled_dot_product_attention(q, k2, v2, causal=True)
    np.testing.assert_allclose(after[:4], before[:4], atol=1e-12)
    assert not np.allclose(after[4:], before[4:])


def test_fewer_queries_than_keys_are_the_last_positions() -> None:
    q, k, v = qkv(4, 7, 7, 4, 2)
    full = m.scaled_dot_product_attention(q, k, v, causal=True)
    tail = m.scaled_dot_product_attention(q[-2:], k, v, causal=True)
    np.testing.assert_allclose(tail, full[-2:], atol=1e-12)


# -----------------------------------------------------------------------------
# many heads


@given(st.integers(0, 10_000), st.sampled_from([1, 2, 4]), st.integers(1, 6))
def test_multi_head_matches_the_definition(seed: int, n_heads: int, seq: int) -> None:
    x = np.random.default_rng(seed).standard_normal((seq, 8))
    ws = weights(seed + 1, 8, 4 * n_heads)
    got = m.multi_head_attention(x, *ws, n_heads)
    assert got.shape == (seq, 8)
    np.testing.assert_allclose(got, naive_mha(x, *ws, n_heads), atol=1e-10)


def test_heads_use_their_own_columns() -> None:
    # Two heads versus one head over the same 8 columns: different results.
    x = np.random.default_rng(5).standard_normal((5, 8))
    ws = weights(6, 8, 8)
    two, one = m.multi_head_attention(x, *ws, 2), m.multi_head_attention(x, *ws, 1)
    assert not np.allclose(two, one)
    np.testing.assert_allclose(one, naive_mha(x, *ws, 1), atol=1e-10)


def test_multi_head_is_causal() -> None:
    x = np.random.default_rng(7).standard_normal((6, 8))
    ws = weights(8, 8, 8)
    before = m.multi_head_attention(x, *ws, 2)
    x2 = x.copy()
    x2[3:] = 0.0
    after = m.multi_head_attention(x2, *ws, 2)
    np.testing.assert_allclose(after[:3], before[:3], atol=1e-12)


def test_n_heads_must_divide_the_width() -> None:
    x = np.zeros((3, 8))
    try:
        m.multi_head_attention(x, *weights(9, 8, 6), 4)
    except ValueError:
        return
    raise AssertionError("4 heads cannot split 6 columns: expected ValueError")
