"""How fast the foundations code runs: the numbers the chapters quote about cost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from llmprep.core.tokens import default_tokenizer
from llmprep.foundations import bpe, sampling
from llmprep.foundations.minilm import MiniLM

SENTENCES = [
    f"Sentence {i}: retrieval quality depends on chunking, embeddings and re-ranking."
    for i in range(32)
]


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM.load()


def test_minilm_encode_32_short_sentences(benchmark: Any, model: MiniLM) -> None:
    vectors = benchmark(model.encode, SENTENCES)
    assert vectors.shape == (32, 384)


def test_bpe_train_on_10kb(benchmark: Any) -> None:
    text = " ".join(SENTENCES) * 4
    tokenizer = benchmark(bpe.train, text, 400)
    assert tokenizer.vocab_size <= 400


def test_tiktoken_count_100kb(benchmark: Any) -> None:
    tokenizer = default_tokenizer()
    text = " ".join(SENTENCES) * 40
    assert benchmark(tokenizer.count, text) > 10_000


def test_top_p_sampling_over_a_128k_vocabulary(benchmark: Any) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=128_256).astype(np.float32)
    token = benchmark(sampling.sample, logits, np.random.default_rng(1), temperature=0.8, top_p=0.9)
    assert 0 <= token < logits.size
