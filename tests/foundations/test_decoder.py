"""The numpy decoder: against Hugging Face LlamaForCausalLM, and cache == recomputation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmprep.foundations.decoder import (
    Decoder,
    DecoderConfig,
    KVCache,
    apply_rope,
    gqa_attention,
    hf_weight_shapes,
    interleaved_to_half_split,
    rms_norm,
    rope_cos_sin,
    rope_inv_freq,
)
from llmprep.foundations.rope_scaling import llama3_inv_freq

FIXTURE = Path(__file__).parent / "fixtures" / "decoder_reference.npz"
GQA_RATIOS = [(4, 4), (4, 2), (4, 1)]  # MHA, GQA, MQA


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    with np.load(FIXTURE, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def hf_config(reference: dict[str, Any], prefix: str) -> tuple[DecoderConfig, dict[str, Any]]:
    hf = json.loads(str(reference["meta"]))["configs"][prefix]
    config = DecoderConfig(
        vocab_size=hf["vocab_size"],
        d_model=hf["hidden_size"],
        n_layers=hf["num_hidden_layers"],
        n_heads=hf["num_attention_heads"],
        n_kv_heads=hf["num_key_value_heads"],
        head_dim=hf["head_dim"],
        d_ff=hf["intermediate_size"],
        rope_theta=hf["rope_parameters"]["rope_theta"],
        rms_eps=hf["rms_norm_eps"],
        tie_embeddings=hf["tie_word_embeddings"],
    )
    return config, hf


def hf_weights(reference: dict[str, Any], prefix: str) -> dict[str, np.ndarray]:
    """The stored state_dict of one model, with its HF names."""
    names = (f"{prefix}.model.", f"{prefix}.lm_head.")
    return {k.removeprefix(f"{prefix}."): v for k, v in reference.items() if k.startswith(names)}


def load(reference: dict[str, Any], prefix: str, scaled_rope: bool = True) -> Decoder:
    config, hf = hf_config(reference, prefix)
    state = hf_weights(reference, prefix)
    rope = hf["rope_parameters"]
    inv_freq = None
    if scaled_rope and rope["rope_type"] == "llama3":  # our rope_scaling, not the stored copy
        inv_freq = llama3_inv_freq(
            config.head_dim,
            rope["rope_theta"],
            rope["factor"],
            rope["low_freq_factor"],
            rope["high_freq_factor"],
            rope["original_max_position_embeddings"],
        )
    return Decoder.from_hf_state_dict(config, state, inv_freq)


# -----------------------------------------------------------------------------
# against transformers (tests/foundations/fixtures/DECODER_REFERENCE.md)


@pytest.mark.parametrize("prefix", ["a", "b"])
def test_fixture_holds_exactly_the_tensors_of_an_hf_llama(
    reference: dict[str, Any], prefix: str
) -> None:
    config, _ = hf_config(reference, prefix)
    stored = {name: w.shape for name, w in hf_weights(reference, prefix).items()}
    assert stored == hf_weight_shapes(config)
    assert all(w.dtype == np.float32 for w in hf_weights(reference, prefix).values())


@pytest.mark.parametrize("prefix", ["a", "b"])
def test_logits_match_transformers_llama(reference: dict[str, Any], prefix: str) -> None:
    model = load(reference, prefix)
    for j in range(3):
        ids = reference[f"{prefix}.ids_{j}"].tolist()
        expected = reference[f"{prefix}.logits_{j}"]
        # float32 reference, logits up to 4 (a) and 70 (b, tied): observed 1.9e-6 and 2.0e-5
        np.testing.assert_allclose(model.forward(ids), expected, atol=1e-4, rtol=0)


def test_llama3_rope_scaling_is_what_made_model_b_match(reference: dict[str, Any]) -> None:
    """Model b only matches with the scaled frequencies: the comparison can fail."""
    scaled = load(reference, "b")
    np.testing.assert_allclose(scaled.inv_freq, reference["b.inv_freq"], rtol=1e-6)
    plain = load(reference, "b", scaled_rope=False)
    ids = reference["b.ids_2"].tolist()  # 48 tokens: past the 16-token high-frequency band
    assert np.abs(plain.forward(ids) - reference["b.logits_2"]).max() > 0.1
    # at position 0 every rotation is the identity, so the first logits agree either way
    np.testing.assert_allclose(plain.forward(ids)[0], reference["b.logits_2"][0], atol=1e-4)


@pytest.mark.parametrize("prefix", ["a", "b"])
def test_greedy_generation_matches_transformers_generate(
    reference: dict[str, Any], prefix: str
) -> None:
    """Model a continues with 12 different tokens. Tiny tied model b just repeats its last
    token (its own embedding dominates the logits), so a is the real check here."""
    model = load(reference, prefix)
    prompt = reference[f"{prefix}.prompt"].tolist()
    expected = reference[f"{prefix}.greedy"].tolist()
    if prefix == "a":
        assert len(set(expected[len(prompt) :])) == 12
    assert model.generate_greedy(prompt, len(expected) - len(prompt)) == expected


# -----------------------------------------------------------------------------
# the KV cache gives the same answer as recomputing everything


@pytest.mark.parametrize(("n_heads", "n_kv_heads"), GQA_RATIOS)
def test_prefill_then_decode_equals_full_recomputation(n_heads: int, n_kv_heads: int) -> None:
    model = Decoder.random(DecoderConfig(n_heads=n_heads, n_kv_heads=n_kv_heads), seed=1)
    tokens = np.random.default_rng(2).integers(0, 97, size=20).tolist()
    full = model.forward(tokens)
    logits, cache = model.prefill(tokens[:6])
    incremental = [*logits, *(model.decode_step(t, cache) for t in tokens[6:])]
    np.testing.assert_allclose(np.array(incremental), full, atol=1e-10, rtol=0)
    assert cache.length == len(tokens)


@settings(max_examples=25, deadline=None)
@given(
    ratio=st.sampled_from([*GQA_RATIOS, (6, 3), (6, 1), (2, 2)]),
    n_layers=st.integers(1, 3),
    theta=st.sampled_from([100.0, 10_000.0, 500_000.0]),
    tie=st.booleans(),
    chunks=st.lists(st.integers(1, 5), min_size=1, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_any_chunking_of_the_sequence_gives_the_same_logits(
    ratio: tuple[int, int], n_layers: int, theta: float, tie: bool, chunks: list[int], seed: int
) -> None:
    """Prefill, then any mix of multi-token chunks (chunked prefill) and single steps."""
    n_heads, n_kv = ratio
    config = DecoderConfig(
        vocab_size=31,
        d_model=24,
        n_layers=n_layers,
        n_heads=n_heads,
        n_kv_heads=n_kv,
        head_dim=8,
        d_ff=40,
        rope_theta=theta,
        tie_embeddings=tie,
    )
    model = Decoder.random(config, seed=seed)
    tokens = np.random.default_rng(seed).integers(0, 31, size=sum(chunks)).tolist()
    cache = KVCache.allocate(config, capacity=len(tokens))
    pieces, start = [], 0
    for n in chunks:
        pieces.append(model.forward(tokens[start : start + n], cache))
        start += n
    np.testing.assert_allclose(np.concatenate(pieces), model.forward(tokens), atol=1e-10, rtol=0)


@pytest.mark.parametrize(("n_heads", "n_kv_heads"), GQA_RATIOS)
def test_greedy_from_the_cache_equals_greedy_by_recomputation(
    n_heads: int, n_kv_heads: int
) -> None:
    model = Decoder.random(DecoderConfig(n_heads=n_heads, n_kv_heads=n_kv_heads), seed=3)
    cached = model.generate_greedy([5, 17, 42], 15)
    assert cached == model.generate_greedy([5, 17, 42], 15, use_cache=False)
    assert len(cached) == 18
    assert len(set(cached[3:])) > 1  # it does not just repeat one token


def test_cache_size_is_the_kv_cache_formula_and_mqa_is_n_heads_times_smaller() -> None:
    sizes = {}
    for n_heads, n_kv in GQA_RATIOS:
        model = Decoder.random(DecoderConfig(n_heads=n_heads, n_kv_heads=n_kv))
        _, cache = model.prefill(list(range(10)), capacity=32)
        assert cache.nbytes == 2 * 2 * n_kv * 10 * 16 * 8  # K,V x layers x kv x len x dim x 8 B
        sizes[n_kv] = cache.nbytes
    assert sizes[4] == 2 * sizes[2] == 4 * sizes[1]


def test_a_full_cache_refuses_more_tokens() -> None:
    model = Decoder.random(DecoderConfig())
    _, cache = model.prefill([1, 2, 3], capacity=4)
    model.decode_step(4, cache)
    with pytest.raises(ValueError, match="KV cache full"):
        model.decode_step(5, cache)
    with pytest.raises(ValueError, match="at least one token"):
        model.prefill([])


def test_attention_is_causal() -> None:
    model = Decoder.random(DecoderConfig(), seed=4)
    a, b = [3, 1, 4, 1, 5, 9, 2, 6], [3, 1, 4, 1, 5, 9, 2, 7]  # differ only in the last token
    np.testing.assert_array_equal(model.forward(a)[:-1], model.forward(b)[:-1])
    c = [8, *a[1:]]  # differs in the first token: every later position changes
    assert np.all(np.abs(model.forward(a) - model.forward(c)).max(axis=1) > 1e-6)


# -----------------------------------------------------------------------------
# the pieces


def test_rope_scores_depend_only_on_the_distance_and_keep_norms() -> None:
    rng = np.random.default_rng(5)
    q, k = rng.standard_normal(16), rng.standard_normal(16)
    inv = rope_inv_freq(16, 10_000)

    def rotated(x: np.ndarray, pos: int) -> np.ndarray:
        cos, sin = rope_cos_sin(np.array([pos]), inv)
        out: np.ndarray = apply_rope(x, cos, sin)[0]
        return out

    score = rotated(q, 7) @ rotated(k, 3)
    assert score == pytest.approx(rotated(q, 104) @ rotated(k, 100), abs=1e-10)
    assert score != pytest.approx(rotated(q, 7) @ rotated(k, 4), abs=1e-3)
    assert np.linalg.norm(rotated(q, 12345)) == pytest.approx(np.linalg.norm(q))


def interleaved_rope(x: np.ndarray, positions: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Meta's original RoPE: pairs (2i, 2i+1) as complex numbers times e^(i pos theta_i)."""
    z = x[..., 0::2] + 1j * x[..., 1::2]
    z = z * np.exp(1j * positions[:, None] * inv[None, :])
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = z.real, z.imag
    return out


def test_permuting_wq_wk_converts_meta_interleaved_rope_to_hf_half_split() -> None:
    rng = np.random.default_rng(6)
    n_heads, head_dim, d, seq = 2, 8, 12, 5
    x = rng.standard_normal((seq, d))
    wq, wk = (
        rng.standard_normal((d, n_heads * head_dim)),
        rng.standard_normal((d, n_heads * head_dim)),
    )
    pos, inv = np.arange(seq), rope_inv_freq(head_dim, 10_000)
    cos, sin = rope_cos_sin(pos, inv)

    def heads(y: np.ndarray) -> np.ndarray:
        return y.reshape(seq, n_heads, head_dim).transpose(1, 0, 2)

    def scores(q: np.ndarray, k: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.einsum("hsd,htd->hst", q, k)
        return out

    meta = scores(
        interleaved_rope(heads(x @ wq), pos, inv), interleaved_rope(heads(x @ wk), pos, inv)
    )
    hf_q, hf_k = interleaved_to_half_split(wq, n_heads), interleaved_to_half_split(wk, n_heads)
    converted = scores(apply_rope(heads(x @ hf_q), cos, sin), apply_rope(heads(x @ hf_k), cos, sin))
    np.testing.assert_allclose(converted, meta, atol=1e-10)
    forgot = scores(apply_rope(heads(x @ wq), cos, sin), apply_rope(heads(x @ wk), cos, sin))
    assert np.abs(forgot - meta).max() > 1.0  # unpermuted weights: wrong attention scores
    assert interleaved_to_half_split(np.arange(4.0)[None], 1).tolist() == [[0.0, 2.0, 1.0, 3.0]]


def test_gqa_is_mha_with_each_kv_head_repeated_for_its_group() -> None:
    rng = np.random.default_rng(7)
    q, k, v = (
        rng.standard_normal((6, 5, 4)),
        rng.standard_normal((2, 5, 4)),
        rng.standard_normal((2, 5, 4)),
    )
    repeated = gqa_attention(q, np.repeat(k, 3, axis=0), np.repeat(v, 3, axis=0), start=0)
    np.testing.assert_allclose(gqa_attention(q, k, v, start=0), repeated, atol=1e-12)


def test_rms_norm_gives_unit_rms_times_the_gain() -> None:
    y = rms_norm(np.array([[3.0, 4.0]]), np.array([1.0, 2.0]), eps=0.0)
    np.testing.assert_allclose(y, [[3 / np.sqrt(12.5), 8 / np.sqrt(12.5)]])
    x = np.random.default_rng(8).normal(5.0, 3.0, size=(4, 64))
    np.testing.assert_allclose(
        np.sqrt(np.mean(rms_norm(x, np.ones(64), 1e-6) ** 2, axis=-1)), 1.0, atol=1e-6
    )


def test_config_rejects_impossible_head_layouts_and_ties_the_head() -> None:
    with pytest.raises(ValueError, match="multiple of n_kv_heads"):
        DecoderConfig(n_heads=4, n_kv_heads=3)
    with pytest.raises(ValueError, match="even"):
        DecoderConfig(head_dim=15)
    tied = Decoder.random(DecoderConfig(tie_embeddings=True))
    assert np.shares_memory(tied.lm_head, tied.embed)
    assert "lm_head.weight" not in hf_weight_shapes(DecoderConfig(tie_embeddings=True))
