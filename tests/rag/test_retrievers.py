"""Every retriever behind the one protocol: BM25, dense (hashing embedder + numpy store),
hybrid RRF on a hand-computed case, MMR's diversity, reranking with a fake reranker, and
filters applied before ranking, so k results come back."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from llmprep.rag.documents import Chunk, Hit, Where
from llmprep.rag.embedders import HashingEmbedder
from llmprep.rag.retrievers import (
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    MMRRetriever,
    RerankRetriever,
    Retriever,
)
from llmprep.rag.stores.memory import NumpyStore


def chunk(i: int, text: str, team: str = "all") -> Chunk:
    return Chunk(f"d#{i}", "d", text, 0, len(text), {"team": team})


CHUNKS = [
    chunk(0, "the refund policy allows returns within thirty days", "sales"),
    chunk(1, "the refund policy allows returns within thirty days", "sales"),  # duplicate
    chunk(2, "refund requests need the order number", "support"),
    chunk(3, "deploy freezes start on friday at noon", "eng"),
    chunk(4, "the cafeteria opens at eight", "all"),
    chunk(5, "refund of shipping costs is not possible", "support"),
]


def dense() -> DenseRetriever:
    retriever = DenseRetriever(HashingEmbedder(dim=512), NumpyStore(512))
    assert retriever.add(CHUNKS) == []
    return retriever


def test_bm25_ranks_term_matches_first_and_breaks_ties_by_position() -> None:
    hits = BM25Retriever(CHUNKS).retrieve("deploy friday", 3)
    assert hits[0].id == "d#3"
    assert len(hits) == 3  # retrievers fill k with zero-score chunks, in corpus order
    assert [h.id for h in BM25Retriever(CHUNKS).retrieve("refund policy", 2)] == ["d#0", "d#1"]


def test_dense_retrieval_with_hashing_embedder_and_numpy_store() -> None:
    hits = dense().retrieve("when do deploy freezes start", 2)
    assert hits[0].id == "d#3"
    assert hits[0].score > hits[1].score


class Fixed:
    """A retriever that returns a fixed ranking (filtered), for hand-computed fusion."""

    def __init__(self, ids: Sequence[str], name: str) -> None:
        self.ids, self.name = list(ids), name

    def retrieve(self, query: str, k: int, where: Where | None = None) -> list[Hit]:
        return [Hit(i, 0.0, i, {}) for i in self.ids[:k]]


def test_hybrid_fuses_by_reciprocal_rank() -> None:
    # a: 1/61 + 1/63 = 0.03227; b: 1/62 + 1/61 = 0.03252; c: 1/63; d: 1/62.
    # b is second in one list and first in the other, so it beats a (first and third).
    hybrid = HybridRetriever([Fixed(["a", "b", "c"], "x"), Fixed(["b", "d", "a"], "y")])
    hits = hybrid.retrieve("q", 4)
    assert [h.id for h in hits] == ["b", "a", "d", "c"]
    assert hits[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert hits[1].score == pytest.approx(1 / 61 + 1 / 63)


def test_mmr_skips_the_duplicate_that_plain_dense_search_returns() -> None:
    plain = [h.id for h in dense().retrieve("refund policy returns", 2)]
    assert plain == ["d#0", "d#1"]  # the two identical chunks
    diverse = MMRRetriever(dense(), lambda_=0.5).retrieve("refund policy returns", 2)
    assert diverse[0].id == "d#0"
    assert diverse[1].id != "d#1"


class Reverse:
    """A fake reranker: reverses the candidates and scores them by new position."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def rerank(self, query: str, hits: Sequence[Hit], k: int) -> list[Hit]:
        self.seen.append(len(hits))
        return [Hit(h.id, -i, h.text, h.metadata) for i, h in enumerate(reversed(hits))][:k]


def test_rerank_retriever_reranks_fetch_k_candidates_and_keeps_k() -> None:
    reranker = Reverse()
    retriever: Retriever = RerankRetriever(Fixed(list("abcdef"), "f"), reranker, fetch_k=4)
    assert [h.id for h in retriever.retrieve("q", 2)] == ["d", "c"]
    assert reranker.seen == [4]
    assert retriever.name == "f + rerank"


@pytest.mark.parametrize("make", [lambda: BM25Retriever(CHUNKS), dense], ids=["bm25", "dense"])
def test_filters_apply_before_ranking_so_k_results_come_back(make) -> None:  # type: ignore[no-untyped-def]
    retriever = make()
    hits = retriever.retrieve("refund policy", 2, where={"team": "support"})
    assert sorted(h.id for h in hits) == ["d#2", "d#5"]  # both support chunks, none of sales
    assert all(h.metadata["team"] == "support" for h in hits)
    assert len(retriever.retrieve("refund", 3, where={"team": ("eng", "all")})) == 2


def test_every_retriever_filters_on_every_path() -> None:
    bm25, vec = BM25Retriever(CHUNKS), dense()
    retrievers: list[Retriever] = [
        HybridRetriever([bm25, vec]),
        MMRRetriever(vec),
        RerankRetriever(vec, Reverse(), fetch_k=5),
    ]
    for retriever in retrievers:
        hits = retriever.retrieve("refund policy", 3, where={"team": "support"})
        assert {h.id for h in hits} == {"d#2", "d#5"}, retriever.name


def test_k_must_be_positive() -> None:
    retrievers: list[Retriever] = [
        BM25Retriever(CHUNKS),
        dense(),
        HybridRetriever([BM25Retriever(CHUNKS)]),
    ]
    for retriever in retrievers:
        with pytest.raises(ValueError, match="k must be"):
            retriever.retrieve("q", 0)
