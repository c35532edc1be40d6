"""Reranking: re-score a short candidate list with a model that compares query and passage.

A first-stage retriever compares one query vector with one passage vector: everything a
passage says is squeezed into 384 numbers before the query is known. A reranker looks again at
the few candidates that survived, with more of the text in view. Production systems use a
cross-encoder (query and passage read together by one transformer, one score out) or late
interaction; this module implements late interaction, ColBERT's MaxSim (Khattab and Zaharia,
2020, arXiv:2004.12832):

    query tokens    q_1 .. q_m  (one unit vector per WordPiece token)
    passage tokens  d_1 .. d_n
    score = sum over i of  max over j of  q_i . d_j

Every query token looks for its best match anywhere in the passage, so a passage that contains
the query's rare words scores high even if the rest of it is about something else, which a
single averaged vector blurs.

Honest caveat: MaxSimReranker runs MaxSim over the per-token hidden states of all-MiniLM-L6-v2,
a model trained to make *mean-pooled* sentence vectors, NOT trained for late interaction (a
real ColBERT model is fine-tuned so that its token vectors work this way). It is the offline
stand-in: no package on PyPI ships cross-encoder or ColBERT weights that install without a
download at run time. Measure it on the labelled queries before trusting it; the RAG examples
chapter does.

Leaves out: cross-encoders, LLM rerankers (listwise prompting), ColBERT's compression and its
index for first-stage late interaction (PLAID).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from llmprep.foundations.minilm import MiniLM, l2_normalize
from llmprep.rag.documents import Hit, Vector

SPECIAL_TOKENS = frozenset({"[CLS]", "[SEP]", "[PAD]"})


class Reranker(Protocol):
    """Anything that re-scores hits for a query and keeps the best k, best first."""

    def rerank(self, query: str, hits: Sequence[Hit], k: int) -> list[Hit]:
        """The k best of `hits` by the reranker's own score (which replaces Hit.score)."""
        ...


def maxsim(query_tokens: Vector, passage_tokens: Vector) -> float:
    """Late-interaction score: each query token's best cosine to any passage token, summed.

    Both arguments hold one unit vector per row. A passage with no tokens matches nothing
    and scores 0.

    Example: maxsim(eye(2), eye(2)) == 2.0 (each query token finds itself exactly)
    """
    if len(query_tokens) == 0 or len(passage_tokens) == 0:
        return 0.0
    similarities = query_tokens @ passage_tokens.T  # (query tokens, passage tokens)
    return float(similarities.max(axis=1).sum())


class MaxSimReranker:
    """ColBERT-style MaxSim over MiniLM's token vectors (not trained for it: see the module).

    Example:
        reranker = MaxSimReranker()
        reranker.rerank("capital of France", hits, k=3)  # hits re-scored, best 3 kept
    """

    def __init__(self, model: MiniLM | None = None, *, batch_size: int = 16) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._model = model
        self.batch_size = batch_size

    @property
    def model(self) -> MiniLM:
        """The encoder, loaded the first time it is needed."""
        if self._model is None:
            self._model = MiniLM.load()
        return self._model

    def token_vectors(self, texts: Sequence[str]) -> list[Vector]:
        """Per text, one unit vector per real token: (tokens, 384), [CLS], [SEP], padding out.

        The special tokens are dropped because they appear in every text: matching [CLS] to
        [CLS] would add the same large similarity to every passage and say nothing. Texts are
        truncated at MiniLM's 256 tokens, so a longer passage is judged by its start.
        """
        if isinstance(texts, str):
            raise TypeError("pass a list of strings, not a single string")
        out: list[Vector] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            ids, mask, tokens = self.model.tokenize(batch)
            hidden, _ = self.model.run(ids, mask)
            for row, names in enumerate(tokens):
                keep = [j for j, name in enumerate(names) if name not in SPECIAL_TOKENS]
                out.append(l2_normalize(hidden[row, keep]))
        return out

    def score(self, query: str, passages: Sequence[str]) -> list[float]:
        """The MaxSim score of every passage for the query, in the order given."""
        (q,) = self.token_vectors([query])
        if len(q) == 0:
            raise ValueError(f"the query {query!r} has no tokens to match")
        return [maxsim(q, p) for p in self.token_vectors(passages)]

    def rerank(self, query: str, hits: Sequence[Hit], k: int) -> list[Hit]:
        """The k best hits by MaxSim, best first, ties broken by id; text and metadata kept."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if not hits:
            return []
        scores = self.score(query, [h.text for h in hits])
        rescored = [Hit(h.id, s, h.text, h.metadata) for h, s in zip(hits, scores, strict=True)]
        return sorted(rescored, key=lambda h: (-h.score, h.id))[:k]
