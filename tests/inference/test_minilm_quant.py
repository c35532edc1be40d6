"""Quantizing the real MiniLM: copies, agreement metrics, activation capture, smoothing."""

from __future__ import annotations

import numpy as np
import pytest

from llmprep.foundations.minilm import MiniLM
from llmprep.inference import minilm_quant as mq
from llmprep.inference.quantization import (
    QuantScheme,
    quantize_absmax,
    smoothing_factors,
    w8a8_output_error,
)

TEXTS = [
    "How do I reset my password?",
    "I forgot my password, how can I change it?",
    "What is your refund policy?",
    "Can you explain how refunds work?",
    "How long does shipping take?",
    "How do I reverse a string in Python?",
]


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM.load()


@pytest.fixture(scope="module")
def reference(model: MiniLM) -> np.ndarray:
    return model.encode(TEXTS)


def test_sentences_are_the_unique_cache_prompts() -> None:
    texts = mq.sentences()
    assert len(texts) == len(set(texts)) >= 200
    assert texts[0] == "How do I reset my password?"


def test_quantized_copy_changes_only_linear_weights(model: MiniLM) -> None:
    scheme = QuantScheme("INT8 per channel", 8, "channel")
    q = mq.quantize_minilm(model, scheme)
    assert q.embeddings is model.embeddings
    layer, orig = q.layers[2], model.layers[2]
    np.testing.assert_array_equal(layer.q_b, orig.q_b)
    np.testing.assert_array_equal(layer.ln1_gamma, orig.ln1_gamma)
    # per output channel: the (out, in) rows of PyTorch's layout, i.e. columns here
    q_int, scale = quantize_absmax(orig.ff1_w.T, axis=0)
    expected = (q_int * scale).T
    np.testing.assert_allclose(layer.ff1_w, expected.astype(np.float32), rtol=1e-6)
    assert layer.ff1_w.dtype == np.float32
    assert not np.array_equal(layer.ff1_w, orig.ff1_w)
    assert model.layers[2].ff1_w is orig.ff1_w  # the original is untouched


def test_agreement_of_identical_embeddings_is_perfect(reference: np.ndarray) -> None:
    a = mq.agreement(reference, reference, k=2)
    assert a.cosine_mean == pytest.approx(1.0, abs=1e-6)
    assert a.cosine_min == pytest.approx(1.0, abs=1e-6)
    assert a.spearman == pytest.approx(1.0)
    assert a.top_k == 1.0
    assert a.k == 2


def test_agreement_hand_case() -> None:
    ref = np.eye(4)[[0, 0, 1, 2]] + np.array([[0, 0, 0, 0.1]] * 4)
    ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    other = ref[:, [1, 0, 2, 3]]  # swap two dimensions: every cosine changes
    a = mq.agreement(ref, ref.copy(), k=1)
    assert a.top_k == 1.0
    b = mq.agreement(ref, other, k=1)
    assert b.cosine_min < 0.1  # sentences 0 and 1 now point along another axis
    with pytest.raises(ValueError, match="k must be"):
        mq.agreement(ref, ref, k=4)
    with pytest.raises(ValueError, match="shape"):
        mq.agreement(ref, ref[:3], k=1)


def test_more_bits_agree_better(model: MiniLM, reference: np.ndarray) -> None:
    schemes = (
        QuantScheme("INT8 per channel", 8, "channel"),
        QuantScheme("INT3 g=32", 3, "group", 32),
    )
    got = mq.compare_schemes(model, TEXTS, schemes, reference=reference, k=1)
    assert got["INT8 per channel"].cosine_min > 0.995
    assert got["INT3 g=32"].cosine_mean < got["INT8 per channel"].cosine_mean


def test_weight_error_orders_the_schemes(model: MiniLM) -> None:
    t8 = mq.weight_error(model, QuantScheme("t", 8, "tensor"))
    c8 = mq.weight_error(model, QuantScheme("c", 8, "channel"))
    g4 = mq.weight_error(model, QuantScheme("g", 4, "group", 32))
    assert c8.sqnr_db > t8.sqnr_db > 0
    assert c8.bits_per_weight == pytest.approx(8 + 16 * (2 / 3 / 384 + 1 / 3 / 1536))
    assert g4.bits_per_weight == pytest.approx(4.5)
    assert t8.bits_per_weight == 8.0
    assert c8.relative_rmse < t8.relative_rmse


def test_linear_inputs_reproduce_the_forward_pass(model: MiniLM) -> None:
    acts = mq.linear_inputs(model, TEXTS[:3])
    ids, mask, _ = model.tokenize(TEXTS[:3])
    hidden, _ = model.run(ids, mask)
    np.testing.assert_allclose(acts["final"], hidden[mask], atol=1e-6)
    n_tokens = int(mask.sum())
    assert acts["L0.qkv"].shape == (n_tokens, 384)
    assert acts["L5.ff2"].shape == (n_tokens, 1536)
    assert len(acts) == 6 * 4 + 1
    assert mq.outlier_ratio(np.ones((3, 4))) == 1.0
    assert mq.weight_for_site(model.layers[0], "ff2") is model.layers[0].ff2_w
    with pytest.raises(ValueError, match="site"):
        mq.weight_for_site(model.layers[0], "ff3")


def test_smoothing_helps_w8a8_on_a_real_outlier_layer(model: MiniLM) -> None:
    acts = mq.linear_inputs(model, TEXTS)
    x, w = acts["L1.ff1"], mq.weight_for_site(model.layers[1], "ff1")
    assert mq.outlier_ratio(x) > 5  # LayerNorm output: a few channels far above the rest
    s = smoothing_factors(np.abs(x).max(axis=0), np.abs(w).max(axis=1), alpha=0.5)
    assert w8a8_output_error(x, w, smoothing=s) < w8a8_output_error(x, w)
