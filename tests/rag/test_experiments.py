"""The evaluation harness and the experiments of the "RAG in code" chapter, on hand-made data
whose metrics can be worked out by hand (timings are never asserted)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from matplotlib.figure import Figure

from llmprep.foundations.minilm import MiniLM
from llmprep.rag.chunking import fixed_chunks
from llmprep.rag.dataset import GoldSpan, LabelledQuery
from llmprep.rag.documents import Chunk, Document, Hit, Where
from llmprep.rag.experiments import (
    AbstentionPoint,
    PrecomputedMaxSim,
    QueryResult,
    abstention_curve,
    ann_scaling_faiss,
    ann_scaling_pgvector,
    bm25_agreement,
    by_retriever,
    encode_with_tokens,
    evaluate,
    summarize,
    sweep_chunk_sizes,
    synthetic_like,
)
from llmprep.rag.figures import examples as figs
from llmprep.rag.rerank import MaxSimReranker
from llmprep.rag.retrievers import Retriever

# Three chunks of one document; each query's answer is one chunk's whole text.
DOC = Document("d", "alpha beta. gamma delta. epsilon zeta.")
CHUNKS = [
    Chunk("d#0", "d", "alpha beta. ", 0, 12),
    Chunk("d#1", "d", "gamma delta. ", 12, 25),
    Chunk("d#2", "d", "epsilon zeta.", 25, 38),
]


def query(ident: str, kind: str, chunk: Chunk | None) -> LabelledQuery:
    gold = () if chunk is None else (GoldSpan("d", chunk.start, chunk.end),)
    return LabelledQuery(ident, f"question {ident}", kind, gold)  # type: ignore[arg-type]


QUERIES = [
    query("q0", "lexical", CHUNKS[0]),
    query("q1", "paraphrase", CHUNKS[1]),
    query("q2", "paraphrase", CHUNKS[2]),
    query("none", "unanswerable", None),
]
GOLD = {"question q0": "d#0", "question q1": "d#1", "question q2": "d#2"}


class FixedOrder:
    """Returns chunks in a fixed order, or the gold chunk first (`perfect`)."""

    def __init__(self, order: Sequence[str], *, perfect: bool = False, name: str = "fixed"):
        self.order, self.perfect, self.name = list(order), perfect, name

    def retrieve(self, query: str, k: int, where: Where | None = None) -> list[Hit]:
        ids = list(self.order)
        if self.perfect and query in GOLD:
            ids.remove(GOLD[query])
            ids.insert(0, GOLD[query])
        return [Hit(i, 1.0 / (r + 1), "", {}) for r, i in enumerate(ids[:k])]


def test_a_perfect_retriever_scores_one_everywhere() -> None:
    retriever: Retriever = FixedOrder(["d#2", "d#1", "d#0"], perfect=True, name="perfect")
    rows = evaluate(retriever, QUERIES, CHUNKS)
    assert [(r.kind, r.queries) for r in rows] == [("all", 3), ("lexical", 1), ("paraphrase", 2)]
    for row in rows:
        assert row.recall == ((1, 1.0), (5, 1.0), (10, 1.0))
        assert row.mrr == 1.0
        assert row.ndcg == 1.0
        assert row.depth == 10


def test_a_fixed_order_scores_what_the_arithmetic_says() -> None:
    # Order d#2, d#1, d#0: q2's chunk is at rank 1, q1's at rank 2, q0's at rank 3.
    rows = {r.kind: r for r in evaluate(FixedOrder(["d#2", "d#1", "d#0"]), QUERIES, CHUNKS)}
    assert rows["all"].recall_at(1) == pytest.approx(1 / 3)  # only q2 found at rank 1
    assert rows["all"].recall_at(5) == 1.0
    assert rows["all"].mrr == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    ndcg = (1 + 1 / math.log2(3) + 1 / math.log2(4)) / 3  # ideal DCG is 1 for one relevant id
    assert rows["all"].ndcg == pytest.approx(ndcg)
    assert rows["lexical"].mrr == pytest.approx(1 / 3)
    assert rows["paraphrase"].mrr == pytest.approx((1 / 2 + 1) / 2)
    with pytest.raises(ValueError, match="recall@3"):
        rows["all"].recall_at(3)


def test_a_query_whose_answer_no_chunk_holds_scores_zero() -> None:
    result = QueryResult(QUERIES[0], ("d#0",), frozenset(), 0.9)
    (row, _) = summarize("x", [result])
    assert row.recall_at(1) == 0.0
    assert row.mrr == 0.0
    assert row.ndcg == 0.0


def test_evaluate_needs_answerable_queries_and_positive_ks() -> None:
    with pytest.raises(ValueError, match="no answerable"):
        evaluate(FixedOrder(["d#0"]), QUERIES[3:], CHUNKS)
    with pytest.raises(ValueError, match="ks"):
        evaluate(FixedOrder(["d#0"]), QUERIES, CHUNKS, ks=(0, 5))


def test_the_size_sweep_returns_one_row_per_size() -> None:
    doc = Document("d", DOC.text)
    points = sweep_chunk_sizes(
        [doc],
        QUERIES,
        sizes=(5, 13, 40),
        chunker=fixed_chunks,
        make_retrievers=lambda chunks: [FixedOrder([c.id for c in chunks], name="in order")],
        token_count=len,
        max_tokens=12,
    )
    assert [p.size for p in points] == [5, 13, 40]
    assert [p.chunks for p in points] == [8, 3, 1]
    assert [p.truncated for p in points] == [0, 2, 1]  # chunks longer than 12 characters
    # At 40 characters the whole document is one chunk that holds every answer.
    assert points[-1].row.recall_at(1) == 1.0


def test_abstention_curve_counts_answers_and_false_answers() -> None:
    results = [
        QueryResult(QUERIES[0], ("d#0",), frozenset({"d#0"}), 0.8),  # answerable, supported
        QueryResult(QUERIES[1], ("d#0",), frozenset({"d#1"}), 0.5),  # answerable, wrong chunk
        QueryResult(QUERIES[3], ("d#2",), frozenset(), 0.6),  # unanswerable
    ]
    curve = abstention_curve(results, [0.0, 0.55, 0.7, 0.9], k=1)
    assert curve == [
        AbstentionPoint(0.0, 1.0, 0.5, 1.0),
        AbstentionPoint(0.55, 0.5, 1.0, 1.0),
        AbstentionPoint(0.7, 0.5, 1.0, 0.0),
        AbstentionPoint(0.9, 0.0, 0.0, 0.0),
    ]
    with pytest.raises(ValueError, match="both"):
        abstention_curve(results[:2], [0.5])


def test_synthetic_vectors_are_unit_length_and_crowd_the_real_ones() -> None:
    rng = np.random.default_rng(0)
    direction = rng.standard_normal(16)
    raw = direction + 0.3 * rng.standard_normal((200, 16))
    real = (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)
    fake = synthetic_like(real, 500, seed=1)
    assert fake.shape == (500, 16)
    assert fake.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(fake, axis=1), 1.0, rtol=1e-5)
    unit = direction / np.linalg.norm(direction)
    assert float((fake @ unit).mean()) > 0.8  # in the same cone as the real vectors
    np.testing.assert_array_equal(fake, synthetic_like(real, 500, seed=1))  # seeded


def test_faiss_scaling_rows_per_size_and_exact_recall() -> None:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((600, 8)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    rows = ann_scaling_faiss(base, base[:20], [100, 600], ef_search=(10, 64))
    assert [(r.index, r.n) for r in rows] == [
        ("exact (faiss flat)", 100),
        ("HNSW (faiss, ef=10)", 100),
        ("HNSW (faiss, ef=64)", 100),
        ("exact (faiss flat)", 600),
        ("HNSW (faiss, ef=10)", 600),
        ("HNSW (faiss, ef=64)", 600),
    ]
    assert all(0 <= r.recall <= 1 for r in rows)
    assert rows[2].recall >= 0.9  # 8 dimensions, 100 points: HNSW is near exact
    with pytest.raises(ValueError, match="sizes"):
        ann_scaling_faiss(base, base[:2], [600, 100])


def test_pgvector_scaling_on_a_real_server(pg_conninfo: str) -> None:
    rng = np.random.default_rng(1)
    base = rng.standard_normal((120, 8)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    rows = ann_scaling_pgvector(pg_conninfo, base, base[:10], [60, 120], table="scaling_test")
    assert [r.n for r in rows] == [60, 120]
    assert all(r.recall >= 0.9 for r in rows)


def test_our_bm25_agrees_with_the_reference_libraries() -> None:
    texts = ["the cat sat", "the dog ran far", "a cat and a dog", "rare words here"]
    for agreement in bm25_agreement(texts, ["cat dog", "rare", "the"]):
        assert agreement.max_relative_difference < 1e-9
        assert agreement.documents == 4
        assert agreement.queries == 3


def test_one_pass_gives_the_encoder_and_the_reranker_vectors(minilm: MiniLM) -> None:
    texts = ["a short text", "a somewhat longer text about retrieval and reranking", "x"]
    vectors, tokens = encode_with_tokens(minilm, texts, batch_size=2)
    np.testing.assert_allclose(vectors, minilm.encode(texts), atol=1e-5)
    reranker = MaxSimReranker(minilm)
    for mine, theirs in zip(tokens, reranker.token_vectors(texts), strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-5)
    hits = [Hit(f"c#{i}", 0.0, t, {}) for i, t in enumerate([*texts, "not precomputed"])]
    fast = PrecomputedMaxSim(reranker, texts, tokens).rerank("retrieval", hits, 3)
    slow = reranker.rerank("retrieval", hits, 3)
    assert [h.id for h in fast] == [h.id for h in slow]
    np.testing.assert_allclose([h.score for h in fast], [h.score for h in slow], atol=1e-4)


def test_the_figures_draw_from_measured_rows() -> None:
    rows = evaluate(FixedOrder(["d#2", "d#1", "d#0"]), QUERIES, CHUNKS)
    assert isinstance(figs.recall_by_kind(by_retriever(rows), ["lexical", "paraphrase"]), Figure)
    points = sweep_chunk_sizes(
        [DOC], QUERIES, (5, 40), fixed_chunks, lambda cs: [FixedOrder([c.id for c in cs])]
    )
    assert isinstance(figs.recall_by_chunk_size(points, token_limit_chars=20), Figure)
    rng = np.random.default_rng(0)
    base = rng.standard_normal((200, 8)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    assert isinstance(figs.ann_scaling(ann_scaling_faiss(base, base[:5], [50, 200]), 50), Figure)
    results = [
        QueryResult(QUERIES[0], ("d#0",), frozenset({"d#0"}), 0.8),
        QueryResult(QUERIES[3], ("d#2",), frozenset(), 0.6),
    ]
    curve = abstention_curve(results, [0.5, 0.7])
    assert isinstance(figs.abstention(results, curve, 0.7), Figure)
