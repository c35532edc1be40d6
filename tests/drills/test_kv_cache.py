"""Grader for the kv-cache drill: the cache's bookkeeping, cached attention, and a real decoder
whose incremental logits must equal full recomputation when it runs on your cache."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.foundations.decoder import Decoder, DecoderConfig
from tests.drills.target import load

m = load("kv-cache")
CONFIG = DecoderConfig(
    vocab_size=41, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=8, d_ff=64
)


def reference_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, start: int) -> np.ndarray:
    """Head by head and row by row, from the definition."""
    n_heads, seq, d = q.shape
    group = n_heads // k.shape[0]
    out = np.zeros_like(q)
    for h in range(n_heads):
        kh, vh = k[h // group], v[h // group]
        for i in range(seq):
            s = kh[: start + i + 1] @ q[h, i] / np.sqrt(d)
            w = np.exp(s - s.max())
            out[h, i] = (w / w.sum()) @ vh[: start + i + 1]
    return out


def test_allocate_makes_empty_buffers_per_layer() -> None:
    cache = m.KVCache.allocate(CONFIG, 10)
    assert cache.length == 0
    assert len(cache.keys) == len(cache.values) == 2
    for buf in (*cache.keys, *cache.values):
        assert buf.shape == (2, 10, 8)
        assert np.all(buf == 0)
    assert cache.keys[0] is not cache.keys[1]
    assert cache.keys[0] is not cache.values[0]
    assert cache.nbytes == 0


def test_store_appends_after_the_filled_part_and_returns_everything() -> None:
    rng = np.random.default_rng(0)
    cache = m.KVCache.allocate(CONFIG, 6)
    k1, v1 = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 3, 8))
    k_all, v_all = cache.store(0, k1, v1)
    np.testing.assert_array_equal(k_all, k1)
    np.testing.assert_array_equal(v_all, v1)
    assert cache.length == 0  # the model advances it after the last layer
    cache.length = 3
    k2, v2 = rng.standard_normal((2, 1, 8)), rng.standard_normal((2, 1, 8))
    k_all, v_all = cache.store(0, k2, v2)
    np.testing.assert_array_equal(k_all, np.concatenate([k1, k2], axis=1))
    np.testing.assert_array_equal(v_all, np.concatenate([v1, v2], axis=1))
    assert np.shares_memory(k_all, cache.keys[0])  # a view into the buffer, not a copy
    assert np.all(cache.keys[1] == 0)  # other layers untouched


def test_store_refuses_to_overflow() -> None:
    cache = m.KVCache.allocate(CONFIG, 4)
    cache.length = 3
    with pytest.raises(ValueError, match=r"capacity|full"):  # not numpy's broadcast error
        cache.store(0, np.zeros((2, 2, 8)), np.zeros((2, 2, 8)))


def test_nbytes_counts_the_filled_positions() -> None:
    cache = m.KVCache.allocate(CONFIG, 100)
    cache.length = 7
    assert cache.nbytes == 2 * 2 * 2 * 7 * 8 * 8  # K and V x layers x kv heads x length x dim x 8 B


@given(st.integers(0, 10_000), st.sampled_from([(4, 4), (4, 2), (4, 1)]), st.integers(0, 5))
def test_attention_matches_the_definition(seed: int, heads: tuple[int, int], start: int) -> None:
    n_heads, n_kv = heads
    rng = np.random.default_rng(seed)
    seq = 3
    q = rng.standard_normal((n_heads, seq, 8))
    k, v = rng.standard_normal((n_kv, start + seq, 8)), rng.standard_normal((n_kv, start + seq, 8))
    np.testing.assert_allclose(
        m.gqa_attention(q, k, v, start), reference_attention(q, k, v, start), atol=1e-10
    )


def test_one_query_at_a_time_equals_all_at_once() -> None:
    rng = np.random.default_rng(1)
    q = rng.standard_normal((4, 6, 8))
    k, v = rng.standard_normal((2, 6, 8)), rng.standard_normal((2, 6, 8))
    full = m.gqa_attention(q, k, v, 0)
    for t in range(6):
        step = m.gqa_attention(q[:, t : t + 1], k[:, : t + 1], v[:, : t + 1], t)
        np.testing.assert_allclose(step[:, 0], full[:, t], atol=1e-12)


@pytest.mark.parametrize("kv_heads", [4, 2, 1], ids=["mha", "gqa", "mqa"])
def test_a_decoder_on_your_cache_matches_full_recomputation(kv_heads: int) -> None:
    config = DecoderConfig(
        vocab_size=41, d_model=32, n_layers=2, n_heads=4, n_kv_heads=kv_heads, head_dim=8, d_ff=64
    )
    model = Decoder.random(config, seed=kv_heads)
    prompt, new = [3, 14, 15, 9], [26, 5, 35]
    cache = m.KVCache.allocate(config, len(prompt) + len(new))
    logits = [model.forward(prompt, cache)[-1]]
    for token in new:
        logits.append(model.forward([token], cache)[0])
    assert cache.length == len(prompt) + len(new)
    full = model.forward(prompt + new)
    np.testing.assert_allclose(np.array(logits), full[len(prompt) - 1 :], atol=1e-10)


def test_greedy_generation_is_the_same_with_and_without_your_cache() -> None:
    model = Decoder.random(CONFIG, seed=11)
    tokens = [1, 2, 3]
    cache = m.KVCache.allocate(CONFIG, 12)
    next_logits = model.forward(tokens, cache)[-1]
    for _ in range(8):
        tokens.append(int(np.argmax(next_logits)))
        next_logits = model.forward([tokens[-1]], cache)[0]
    assert tokens == model.generate_greedy([1, 2, 3], 8, use_cache=False)
