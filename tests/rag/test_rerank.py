"""MaxSim reranking over MiniLM token vectors: the arithmetic, then the behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from llmprep.foundations.minilm import MiniLM
from llmprep.rag.documents import Hit
from llmprep.rag.rerank import MaxSimReranker, Reranker, maxsim


def test_maxsim_sums_each_query_tokens_best_match() -> None:
    q = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    d = np.array([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    # query token 1: max(1.0, 0.6) = 1.0; query token 2: max(0.0, 0.8) = 0.8; sum 1.8
    assert maxsim(q, d) == pytest.approx(1.8)
    assert maxsim(np.eye(2, dtype=np.float32), np.eye(2, dtype=np.float32)) == 2.0
    assert maxsim(q, np.zeros((0, 2), np.float32)) == 0.0


def test_token_vectors_drop_special_tokens_and_padding(minilm: MiniLM) -> None:
    reranker = MaxSimReranker(minilm, batch_size=2)
    short, long = reranker.token_vectors(["Hello, world!", "a somewhat longer second text"])
    assert short.shape == (4, 384)  # hello , world ! (not [CLS], [SEP] or the padding)
    np.testing.assert_allclose(np.linalg.norm(long, axis=1), 1.0, atol=1e-5)
    (alone,) = reranker.token_vectors(["Hello, world!"])
    np.testing.assert_allclose(alone, short, atol=1e-5)  # padding changed nothing


PASSAGES = {
    "lunch": "The cafeteria on the ground floor serves lunch between noon and two.",
    "vpn": "To connect to the VPN, install the client and sign in with your badge number.",
    "leave": "Parental leave is sixteen weeks at full pay for every employee.",
}


def test_rerank_puts_the_matching_passage_first_and_keeps_ids(minilm: MiniLM) -> None:
    reranker: Reranker = MaxSimReranker(minilm)
    hits = [
        Hit(i, 1.0 - n / 10, text, {"n": str(n)}) for n, (i, text) in enumerate(PASSAGES.items())
    ]
    # The first stage ranked "leave" last; the reranker reads the words and moves it up.
    ranked = reranker.rerank("How many weeks of parental leave do employees get?", hits, k=3)
    assert ranked[0].id == "leave"
    assert sorted(h.id for h in ranked) == sorted(PASSAGES)
    by_id = {h.id: h for h in hits}
    for hit in ranked:  # text and metadata ride along; only the score is new
        assert (hit.text, hit.metadata) == (by_id[hit.id].text, by_id[hit.id].metadata)
    assert [h.score for h in ranked] == sorted((h.score for h in ranked), reverse=True)


def test_rerank_reorders_and_cuts_to_k(minilm: MiniLM) -> None:
    reranker = MaxSimReranker(minilm)
    hits = [Hit(i, 0.0, text) for i, text in PASSAGES.items()]
    top = reranker.rerank("VPN client sign in", hits, k=1)
    assert [h.id for h in top] == ["vpn"]
    assert reranker.rerank("anything", [], k=3) == []


def test_an_exact_copy_of_the_query_gets_the_highest_score(minilm: MiniLM) -> None:
    query = "badge number for the VPN client"
    scores = MaxSimReranker(minilm).score(query, [query, *PASSAGES.values()])
    assert scores[0] == max(scores)
    n_query_tokens = 7  # badge number for the vp ##n client
    assert scores[0] == pytest.approx(n_query_tokens, abs=1e-4)  # every token finds itself


def test_rerank_rejects_bad_input(minilm: MiniLM) -> None:
    reranker = MaxSimReranker(minilm)
    with pytest.raises(ValueError, match="k must be"):
        reranker.rerank("q", [Hit("a", 0.0, "text")], k=0)
    with pytest.raises(ValueError, match="no tokens"):
        reranker.score("", ["text"])
    with pytest.raises(TypeError):
        reranker.token_vectors("not a list")
