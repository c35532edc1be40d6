"""Retrievers: one interface over lexical, dense, hybrid, diversified and reranked search.

Every retriever answers the same question, "the k chunks most likely to help with this query,
among those the filter allows", so the pipeline and the evaluation can swap one for another:

    BM25Retriever        exact term matching (our BM25, in llmprep.rag.bm25)
    DenseRetriever       an Embedder + a VectorStore (numpy, sqlite-vec or pgvector)
    HybridRetriever      several retrievers fused by reciprocal rank fusion
    MMRRetriever         dense candidates re-picked for diversity (maximal marginal relevance)
    RerankRetriever      any retriever's top candidates re-scored by a Reranker

Filters (`where`) are applied *before* ranking in every retriever here, so a selective filter
never leaves you with fewer than k results while matching chunks exist (the post-filtering
trap of the architecture chapter).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from llmprep.rag.bm25 import BM25
from llmprep.rag.documents import Chunk, Hit, Record, Where, matches
from llmprep.rag.embedders import Embedder
from llmprep.rag.fusion import mmr, reciprocal_rank_fusion
from llmprep.rag.rerank import Reranker
from llmprep.rag.stores import VectorStore


class Retriever(Protocol):
    """Anything that returns the best k hits for a query, best first."""

    @property
    def name(self) -> str:
        """A short label for tables and figures."""
        ...

    def retrieve(self, query: str, k: int, where: Where | None = None) -> list[Hit]:
        """The k best hits among the chunks `where` allows (fewer only if fewer match)."""
        ...


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def _hit(chunk: Chunk, score: float) -> Hit:
    return Hit(chunk.id, score, chunk.text, chunk.metadata)


@dataclass(slots=True)
class BM25Retriever:
    """Lexical search over a fixed list of chunks.

    Why keep it beside dense search: it finds exact identifiers, error codes, names and rare
    terms that an embedding blurs, and it needs no model at all.
    """

    chunks: Sequence[Chunk]
    index: BM25 = field(default_factory=BM25)
    name: str = "BM25"

    def __post_init__(self) -> None:
        self.index.fit([c.text for c in self.chunks])

    def retrieve(self, query: str, k: int, where: Where | None = None) -> list[Hit]:
        _check_k(k)
        scores = self.index.scores(query)
        allowed = [i for i, c in enumerate(self.chunks) if matches(c.metadata, where)]
        # Rank by score, then by position, so ties are broken the same way every run.
        allowed.sort(key=lambda i: (-scores[i], i))
        return [_hit(self.chunks[i], float(scores[i])) for i in allowed[:k]]


@dataclass(slots=True)
class DenseRetriever:
    """Embed the query, ask the vector store for its nearest chunks (cosine similarity)."""

    embedder: Embedder
    store: VectorStore
    name: str = "dense"

    def add(self, chunks: Sequence[Chunk], batch_size: int = 64) -> list[str]:
        """Embed and upsert chunks (re-adding a chunk id replaces it).

        Returns the ids of chunks that were *not* stored because their vector is zero (a
        hashing embedder gives a chunk with no words, such as "---", no features at all):
        cosine similarity is undefined for them, and every store rejects them.
        """
        skipped: list[str] = []
        for start in range(0, len(chunks), batch_size):
            batch = chunks[start : start + batch_size]
            vectors = self.embedder.embed([c.text for c in batch])
            records = []
            for chunk, vector in zip(batch, vectors, strict=True):
                if not np.any(vector):
                    skipped.append(chunk.id)
                    continue
                records.append(Record(chunk.id, vector, chunk.text, chunk.metadata))
            if records:
                self.store.upsert(records)
        return skipped

    def retrieve(self, query: str, k: int, where: Where | None = None) -> list[Hit]:
        _check_k(k)
        vector = self.embedder.embed([query])[0]
        return self.store.search(vector, k, where)


@dataclass(slots=True)
class HybridRetriever:
    """Reciprocal rank fusion of several retrievers (usually BM25 + dense).

    Each retriever contributes its top `fetch_k`; a chunk's fused score is the sum over lists
    of 1 / (rrf_k + rank). Ranks, not scores, are fused, so BM25's unbounded scores and
    cosine similarities never need to be put on one scale.
    """

    retrievers: Sequence[Retriever]
    fetch_k: int = 50
    rrf_k: int = 60
    name: str = "hybrid (RRF)"

    def retrieve(self, query: str, k: int, where: Where | None = None) -> list[Hit]:
        _check_k(k)
        lists = [r.retrieve(query, max(k, self.fetch_k), where) for r in self.retrievers]
        by_id = {h.id: h for hits in lists for h in hits}
        fused = reciprocal_rank_fusion([[h.id for h in hits] for hits in lists], k=self.rrf_k)
        return [Hit(i, score, by_id[i].text, by_id[i].metadata) for i, score in fused[:k]]


@dataclass(slots=True)
class MMRRetriever:
    """Dense candidates re-selected by maximal marginal relevance.

    Why: the top-k of a dense search are often near-copies of one passage (overlapping
    chunks, repeated boilerplate). MMR trades a little relevance for coverage: each pick
    maximises lambda * sim(query, d) - (1 - lambda) * max sim(d, already picked).
    """

    dense: DenseRetriever
    fetch_k: int = 30
    lambda_: float = 0.7
    name: str = "dense + MMR"

    def retrieve(self, query: str, k: int, where: Where | None = None) -> list[Hit]:
        _check_k(k)
        candidates = self.dense.retrieve(query, max(k, self.fetch_k), where)
        if not candidates:
            return []
        q = self.dense.embedder.embed([query])[0]
        vectors = self.dense.embedder.embed([h.text for h in candidates])
        picked = mmr(q, np.asarray(vectors), min(k, len(candidates)), lambda_=self.lambda_)
        return [candidates[i] for i in picked]


@dataclass(slots=True)
class RerankRetriever:
    """A first-stage retriever's top `fetch_k`, re-scored by a reranker, best k kept.

    Why two stages: a reranker reads query and passage together, which is more accurate and
    far more expensive per candidate than a vector lookup, so it only sees a short list.
    """

    first: Retriever
    reranker: Reranker
    fetch_k: int = 20
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or f"{self.first.name} + rerank"

    def retrieve(self, query: str, k: int, where: Where | None = None) -> list[Hit]:
        _check_k(k)
        candidates = self.first.retrieve(query, max(k, self.fetch_k), where)
        return self.reranker.rerank(query, candidates, k)
