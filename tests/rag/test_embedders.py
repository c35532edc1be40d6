"""Embedders: unit rows, determinism (also across processes), and similar texts closer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from llmprep.foundations.minilm import MiniLM
from llmprep.rag.embedders import Embedder, HashingEmbedder, MiniLMEmbedder

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "Reset your password from the account settings page.",
    "How do I change my password?",
    "The cafeteria serves lunch from noon until two.",
]


def test_both_embedders_satisfy_the_protocol(minilm: MiniLM) -> None:
    embedders: list[Embedder] = [HashingEmbedder(64), MiniLMEmbedder(minilm)]
    for embedder in embedders:
        vectors = embedder.embed(TEXTS)
        assert vectors.shape == (len(TEXTS), embedder.dim)
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert embedder.embed([]).shape == (0, embedder.dim)
        with pytest.raises(TypeError, match="single string"):
            embedder.embed("one text")
    assert [e.name for e in embedders] == ["hashing-64+bigrams", "all-MiniLM-L6-v2"]


# -----------------------------------------------------------------------------
# MiniLMEmbedder


def test_minilm_embedder_returns_exactly_what_minilm_encode_returns(minilm: MiniLM) -> None:
    embedder = MiniLMEmbedder(minilm, batch_size=2)
    np.testing.assert_array_equal(embedder.embed(TEXTS), minilm.encode(TEXTS, batch_size=2))


def test_minilm_embedder_knows_its_shape_without_loading_the_weights() -> None:
    embedder = MiniLMEmbedder()
    assert (embedder.dim, embedder.max_tokens) == (384, 256)
    assert embedder._model is None  # still lazy: nothing has been embedded yet


def test_minilm_puts_a_paraphrase_closer_than_an_unrelated_text(minilm: MiniLM) -> None:
    a, b, c = MiniLMEmbedder(minilm).embed(TEXTS)
    assert float(a @ b) > float(a @ c) + 0.3


def test_minilm_embedder_rejects_a_bad_batch_size() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        MiniLMEmbedder(batch_size=0)


# -----------------------------------------------------------------------------
# HashingEmbedder


def test_hashing_features_are_words_then_word_pairs() -> None:
    assert HashingEmbedder().features("New York, pizza!") == [
        "new",
        "york",
        "pizza",
        "new york",
        "york pizza",
    ]
    assert HashingEmbedder(bigrams=False).features("New York") == ["new", "york"]


def test_hashing_vector_is_the_normalised_signed_count_of_its_features() -> None:
    embedder = HashingEmbedder(dim=32)
    expected = np.zeros(32)
    words, pairs = ["the", "cat", "the", "cat"], ["the cat", "cat the", "the cat"]
    for feature in words + pairs:
        index, sign = embedder.bucket(feature)
        expected[index] += sign
    (vector,) = embedder.embed(["The cat, the cat."])
    np.testing.assert_allclose(vector, expected / np.linalg.norm(expected), atol=1e-6)


def test_hashing_is_deterministic_across_processes() -> None:
    """A fresh interpreter with another string-hash seed gives the same bits (BLAKE2b, not
    hash(), which is salted per process)."""
    code = (
        "from llmprep.rag.embedders import HashingEmbedder;"
        "import sys; sys.stdout.write(HashingEmbedder(64).embed(sys.argv[1:]).tobytes().hex())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT / "code")}
    out = subprocess.run(
        [sys.executable, "-c", code, *TEXTS], env=env, capture_output=True, text=True, check=True
    ).stdout
    here = HashingEmbedder(64).embed(TEXTS)
    assert bytes.fromhex(out) == here.tobytes()


def test_hashing_puts_texts_that_share_words_closer() -> None:
    a, b, c = HashingEmbedder().embed(
        ["reset my account password", "password reset for my account", "lunch at noon"]
    )
    assert float(a @ b) > 0.4
    assert float(a @ b) > float(a @ c) + 0.3


def test_a_text_without_words_embeds_to_the_zero_vector() -> None:
    vectors = HashingEmbedder(16).embed(["", "--- !!! ---", "word"])
    np.testing.assert_array_equal(vectors[:2], 0.0)
    assert float(np.linalg.norm(vectors[2])) == pytest.approx(1.0)


def test_hashing_rejects_a_bad_dimension() -> None:
    with pytest.raises(ValueError, match="dim"):
        HashingEmbedder(dim=1)
