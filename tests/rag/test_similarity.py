"""Cosine, dot and L2 agree on unit vectors and disagree on vectors of mixed length; truncation
keeps every neighbor at full dimension and loses them as dimensions drop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmprep.rag import similarity as sim


def unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return sim.normalize(rng.standard_normal((n, d)))


@settings(max_examples=50, deadline=None)
@given(d=st.integers(2, 64), seed=st.integers(0, 10_000))
def test_squared_distance_is_two_minus_two_cosine_for_unit_vectors(d: int, seed: int) -> None:
    a, b = unit_rows(2, d, seed)
    cos = float(a @ b)
    assert float(np.sum((a - b) ** 2)) == pytest.approx(2 - 2 * cos, abs=1e-12)
    assert sim.scores(a, b[None, :], "cosine")[0] == pytest.approx(cos, abs=1e-12)
    assert sim.scores(a, b[None, :], "dot")[0] == pytest.approx(cos, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_three_metrics_rank_unit_vectors_identically(seed: int) -> None:
    m = unit_rows(40, 16, seed)
    q = m[0] + 0.1 * unit_rows(1, 16, seed + 1)[0]
    orders = {metric: sim.top_k(q, m, 40, metric) for metric in sim.METRICS}
    assert orders["cosine"] == orders["dot"] == orders["l2"]


def test_metric_agreement_is_perfect_on_unit_vectors_and_not_after_rescaling() -> None:
    unit = unit_rows(60, 24, seed=3)
    assert sim.metric_agreement(unit, k=5) == {"cosine": 1.0, "dot": 1.0, "l2": 1.0}
    lengths = np.random.default_rng(4).uniform(0.2, 5.0, size=(60, 1))
    mixed = sim.metric_agreement(unit * lengths, k=5)
    assert mixed["cosine"] == 1.0  # cosine ignores length
    assert mixed["dot"] < 1.0
    assert mixed["l2"] < 1.0


def test_dot_product_prefers_the_longer_vector_cosine_does_not() -> None:
    q = np.array([1.0, 0.0])
    docs = np.array([[1.0, 0.1], [3.0, 2.0]])  # row 0 points closer to q, row 1 is longer
    assert sim.top_k(q, docs, 1, "cosine") == [0]
    assert sim.top_k(q, docs, 1, "dot") == [1]


def test_ties_go_to_the_lower_index() -> None:
    docs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert sim.top_k(np.array([1.0, 0.0]), docs, 3) == [0, 2, 1]


def test_neighbor_overlap_is_one_at_full_dimension_and_falls_when_truncated() -> None:
    v = unit_rows(80, 32, seed=5)
    overlap = sim.neighbor_overlap(v, [32, 8, 2], k=5)
    assert overlap[32] == 1.0
    assert overlap[2] < overlap[32]


def test_truncate_renormalizes_the_kept_prefix() -> None:
    out = sim.truncate(np.array([[3.0, 4.0, 12.0]]), 2)
    np.testing.assert_allclose(out, [[0.6, 0.8]])


def test_normalize_leaves_a_zero_row_at_zero() -> None:
    np.testing.assert_array_equal(sim.normalize(np.zeros((1, 3))), np.zeros((1, 3)))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sim.scores(np.ones(3), np.ones((2, 4)), "cosine"), "3 dimensions"),
        (lambda: sim.scores(np.ones(3), np.ones((2, 3)), "manhattan"), "manhattan"),  # type: ignore[arg-type]
        (lambda: sim.top_k(np.ones(3), np.ones((2, 3)), 0), "k must be"),
        (lambda: sim.truncate(np.ones((2, 3)), 4), "dim must be"),
        (lambda: sim.neighbor_sets(np.ones((3, 2)), 3), "k must be"),
        (lambda: sim.mean_overlap([{1}], []), "equally long"),
        (lambda: sim.normalize(np.ones(3)), "2-D"),
    ],
)
def test_bad_input_raises_a_value_error_naming_it(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_unnormalized_embeddings_normalize_to_minilm_encode() -> None:
    from llmprep.foundations.minilm import MiniLM

    model = MiniLM.load()
    texts = ["How do I reset my password?", "Forgot my login", "A longer sentence " * 5]
    raw = sim.unnormalized_embeddings(model, texts, batch_size=2)
    norms = np.linalg.norm(raw, axis=1)
    assert not np.allclose(norms, 1.0)  # really before normalization
    np.testing.assert_allclose(sim.normalize(raw), model.encode(texts), atol=1e-5)


def test_truncated_characters_counts_the_tail_an_encoder_never_sees() -> None:
    from tokenizers import Tokenizer

    from llmprep.foundations.minilm import model_dir

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    long = "word " * 300  # 300 tokens, one per word
    short = "a short sentence"
    tail, none = sim.truncated_characters(tok, [long, short], max_seq_length=256)
    assert none == 0
    # [CLS] and [SEP] take 2 of the 256 slots: 254 words are kept, 46 words are lost
    assert tail == len(long) - len("word " * 254) + 1  # the kept part ends before the space
    with pytest.raises(ValueError, match="no room"):
        sim.truncated_characters(tok, [short], max_seq_length=2)
