"""The measurements of the "RAG in code" chapter: an evaluation harness and four experiments.

A retriever is only better than another on labelled questions, so everything here starts from
`dataset.LabelledQuery` (a question and the character span of its answer) and a list of
chunks, and turns retrieved ids into metrics:

    evaluate            one retriever on the labelled set: recall@k, MRR@k, nDCG@k, per kind
    sweep_chunk_sizes   the same retrievers at several chunk sizes: recall against size
    ann_scaling_faiss   HNSW (faiss) against exact search as the collection grows
    ann_scaling_pgvector  the same for pgvector's HNSW in a real PostgreSQL
    abstention_curve    top-1 scores of answerable and unanswerable questions, and what a
                        threshold on them answers and refuses
    bm25_agreement      our BM25 against bm25s and rank-bm25 on the same tokens

Two helpers keep the chapter inside its time budget, the way a real evaluation would:
`encode_with_tokens` runs MiniLM once per chunk and keeps both the pooled sentence vector and
the per-token vectors, and `PrecomputedMaxSim` reranks with document token vectors computed
at indexing time, as ColBERT does, instead of re-encoding every candidate for every query.

Timings (query_ms) depend on the machine; the tests never assert them.

Leaves out: generation metrics (faithfulness, answer relevance), significance tests, and
graded relevance; see the architecture chapter's evaluation section.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from llmprep.foundations.minilm import MiniLM, l2_normalize, mean_pool
from llmprep.rag import metrics
from llmprep.rag.bm25 import BM25, tokenize
from llmprep.rag.dataset import LabelledQuery, relevant_chunks
from llmprep.rag.documents import Chunk, Document, Hit, Record, Vector
from llmprep.rag.rerank import SPECIAL_TOKENS, MaxSimReranker, maxsim
from llmprep.rag.retrievers import Retriever

KS: tuple[int, ...] = (1, 5, 10)

type Chunker = Callable[[Document, int], list[Chunk]]
type RetrieverFactory = Callable[[list[Chunk]], Sequence[Retriever]]


# ---------------------------------------------------------------- one MiniLM pass, two outputs


def encode_with_tokens(
    model: MiniLM, texts: Sequence[str], batch_size: int = 16
) -> tuple[Vector, list[Vector]]:
    """Sentence vectors (as `MiniLM.encode`) and per-token unit vectors (as
    `MaxSimReranker.token_vectors`) from a single forward pass per text.

    Why: the encoder's last hidden states are all a late-interaction reranker needs, and
    mean-pooling them is all a bi-encoder needs; running the model twice would double the
    slowest step. Texts are batched by length, as `MiniLM.encode` does, to waste little on
    padding.
    """
    vectors = np.zeros((len(texts), model.dim), dtype=np.float32)
    tokens: list[Vector] = [np.zeros((0, model.dim), np.float32)] * len(texts)
    if not texts:
        return vectors, tokens
    lengths = [len(e.ids) for e in model.tokenizer.encode_batch(list(texts))]
    order = np.argsort([-n for n in lengths], kind="stable")
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        ids, mask, names = model.tokenize([texts[i] for i in rows])
        hidden, _ = model.run(ids, mask)
        vectors[rows] = l2_normalize(mean_pool(hidden, mask))
        for j, row in enumerate(rows):
            keep = [t for t, name in enumerate(names[j]) if name not in SPECIAL_TOKENS]
            tokens[row] = l2_normalize(hidden[j, keep])
    return vectors, tokens


class PrecomputedMaxSim:
    """MaxSim reranking with document token vectors computed once, at indexing time.

    Only the query is encoded per search (it is short); a candidate whose text was not
    precomputed is encoded on the spot. Same scores and order as `MaxSimReranker`.
    """

    def __init__(self, reranker: MaxSimReranker, texts: Sequence[str], tokens: Sequence[Vector]):
        if len(texts) != len(tokens):
            raise ValueError(f"got {len(tokens)} token matrices for {len(texts)} texts")
        self.reranker = reranker
        self.table: dict[str, Vector] = dict(zip(texts, tokens, strict=True))

    def rerank(self, query: str, hits: Sequence[Hit], k: int) -> list[Hit]:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if not hits:
            return []
        (q,) = self.reranker.token_vectors([query])
        missing = [h.text for h in hits if h.text not in self.table]
        if missing:
            self.table.update(zip(missing, self.reranker.token_vectors(missing), strict=True))
        rescored = [Hit(h.id, maxsim(q, self.table[h.text]), h.text, h.metadata) for h in hits]
        return sorted(rescored, key=lambda h: (-h.score, h.id))[:k]


# ---------------------------------------------------------------- the evaluation harness


@dataclass(frozen=True, slots=True)
class EvalRow:
    """Mean metrics of one retriever over the answerable queries of one kind ("all": every
    kind). `recall` holds (k, recall@k) pairs; MRR and nDCG are cut at `depth`."""

    retriever: str
    kind: str
    queries: int
    recall: tuple[tuple[int, float], ...]
    mrr: float
    ndcg: float
    depth: int

    def recall_at(self, k: int) -> float:
        """recall@k, for a k this row was computed at."""
        for at, value in self.recall:
            if at == k:
                return value
        raise ValueError(
            f"recall@{k} was not computed; this row has k in {[a for a, _ in self.recall]}"
        )


@dataclass(frozen=True, slots=True)
class QueryResult:
    """One query's ranked ids and relevant ids: what every metric is computed from."""

    query: LabelledQuery
    retrieved: tuple[str, ...]
    relevant: frozenset[str]
    top_score: float | None


def run_queries(
    retriever: Retriever,
    queries: Iterable[LabelledQuery],
    chunks: Sequence[Chunk],
    depth: int,
    min_overlap: float = 0.5,
) -> list[QueryResult]:
    """Retrieve the top `depth` for every query and label which ids are relevant."""
    out = []
    for q in queries:
        hits = retriever.retrieve(q.question, depth)
        relevant = (
            frozenset(relevant_chunks(q, chunks, min_overlap)) if q.answerable else frozenset()
        )
        out.append(
            QueryResult(q, tuple(h.id for h in hits), relevant, hits[0].score if hits else None)
        )
    return out


def _per_query(
    result: QueryResult, ks: Sequence[int], depth: int
) -> tuple[list[float], float, float]:
    """recall@k for each k, reciprocal rank@depth and nDCG@depth of one query.

    A query whose gold span no chunk holds (possible with very small chunks) scores 0: the
    chunking lost the answer, which is a fair verdict on it."""
    if not result.relevant:
        return [0.0] * len(ks), 0.0, 0.0
    ids, rel = list(result.retrieved), set(result.relevant)
    recalls = [metrics.recall_at_k(ids, rel, k) for k in ks]
    return recalls, metrics.reciprocal_rank(ids, rel, depth), metrics.ndcg_at_k(ids, rel, depth)


def summarize(name: str, results: Sequence[QueryResult], ks: Sequence[int] = KS) -> list[EvalRow]:
    """EvalRows for all answerable queries, then for each kind, in order of first appearance."""
    depth = max(ks)
    answerable = [r for r in results if r.query.answerable]
    if not answerable:
        raise ValueError("no answerable queries to evaluate")
    groups: dict[str, list[QueryResult]] = {"all": answerable}
    for r in answerable:
        groups.setdefault(r.query.kind, []).append(r)
    rows = []
    for kind, group in groups.items():
        scored = [_per_query(r, ks, depth) for r in group]
        recall = tuple((k, float(np.mean([s[0][i] for s in scored]))) for i, k in enumerate(ks))
        rows.append(
            EvalRow(
                name,
                kind,
                len(group),
                recall,
                float(np.mean([s[1] for s in scored])),
                float(np.mean([s[2] for s in scored])),
                depth,
            )
        )
    return rows


def evaluate(
    retriever: Retriever,
    queries: Sequence[LabelledQuery],
    chunks: Sequence[Chunk],
    ks: Sequence[int] = KS,
) -> list[EvalRow]:
    """Score a retriever on the labelled set: recall@k for each k, MRR and nDCG at max(ks).

    Unanswerable queries are skipped (no chunk is relevant, so every metric is undefined;
    they measure abstention instead). The first row is over all answerable queries, the rest
    per query kind.

    Example: evaluate(BM25Retriever(chunks), queries, chunks)[0].recall_at(5)
    """
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be positive integers, got {ks!r}")
    results = run_queries(retriever, queries, chunks, max(ks))
    return summarize(retriever.name, results, ks)


# ---------------------------------------------------------------- recall against chunk size


@dataclass(frozen=True, slots=True)
class SizePoint:
    """One retriever at one chunk size: how many chunks, how many were cut off by the
    embedder's token limit (0 if not measured), and the overall metrics."""

    size: int
    chunks: int
    truncated: int
    row: EvalRow


def sweep_chunk_sizes(
    documents: Sequence[Document],
    queries: Sequence[LabelledQuery],
    sizes: Sequence[int],
    chunker: Chunker,
    make_retrievers: RetrieverFactory,
    ks: Sequence[int] = KS,
    token_count: Callable[[str], int] | None = None,
    max_tokens: int = 0,
) -> list[SizePoint]:
    """Chunk the corpus at each size, build the retrievers, and evaluate each one.

    One SizePoint per (size, retriever), sizes in the order given. With `token_count` and
    `max_tokens`, also counts the chunks longer than the embedder reads (they are embedded by
    their first `max_tokens` tokens only).
    """
    points = []
    for size in sizes:
        chunks = [c for doc in documents for c in chunker(doc, size)]
        truncated = 0
        if token_count is not None and max_tokens:
            truncated = sum(token_count(c.text) > max_tokens for c in chunks)
        for retriever in make_retrievers(chunks):
            row = evaluate(retriever, queries, chunks, ks)[0]
            points.append(SizePoint(size, len(chunks), truncated, row))
    return points


# ---------------------------------------------------------------- approximate against exact


@dataclass(frozen=True, slots=True)
class ScalingRow:
    """An index at one collection size: recall@k against exact search, mean query time."""

    index: str
    n: int
    recall: float
    query_ms: float


def synthetic_like(real: Vector, n: int, seed: int = 0) -> Vector:
    """n unit vectors drawn from a Gaussian with the mean and covariance of `real`'s rows.

    Why not uniform noise: real embeddings fill a narrow cone of the sphere, so uniformly
    random vectors would never be anyone's neighbour and an index would look perfect. Samples
    from the fitted Gaussian crowd the same region as the real ones.
    """
    rng = np.random.default_rng(seed)
    x = np.asarray(real, dtype=np.float64)
    mean = x.mean(axis=0)
    centered = x - mean
    # Sample as mean + z @ centered / sqrt(n_real - 1): exactly the empirical covariance,
    # without forming the (d, d) matrix.
    z = rng.standard_normal((n, len(x)))
    samples = mean + z @ centered / np.sqrt(max(len(x) - 1, 1))
    norms = np.linalg.norm(samples, axis=1, keepdims=True)
    return np.asarray(samples / np.maximum(norms, 1e-12), dtype=np.float32)


def _exact_top(base: Vector, queries: Vector, k: int) -> NDArray[np.int64]:
    scores = queries @ base.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.asarray(top, dtype=np.int64)


def _recall(found: NDArray[np.int64], truth: NDArray[np.int64]) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth, strict=True)]))


def ann_scaling_faiss(
    base: Vector,
    queries: Vector,
    sizes: Sequence[int],
    *,
    k: int = 10,
    m: int = 16,
    ef_construction: int = 64,
    ef_search: Sequence[int] = (40,),
) -> list[ScalingRow]:
    """Grow one faiss HNSW index through `sizes` (the first n rows of `base`) and, at each
    size, measure recall@k against exact search and the mean query time of exact search and
    of HNSW at each `ef_search` (one thread).
    """
    import faiss

    faiss.omp_set_num_threads(1)
    _check_sizes(sizes, len(base))
    hnsw = faiss.IndexHNSWFlat(base.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = ef_construction
    flat = faiss.IndexFlatIP(base.shape[1])
    rows, have = [], 0
    for n in sizes:
        hnsw.add(base[have:n])
        flat.add(base[have:n])
        have = n
        start = time.perf_counter()
        _, truth = flat.search(queries, k)
        exact_ms = 1000 * (time.perf_counter() - start) / len(queries)
        rows.append(ScalingRow("exact (faiss flat)", n, 1.0, exact_ms))
        for ef in ef_search:
            hnsw.hnsw.efSearch = ef
            start = time.perf_counter()
            _, found = hnsw.search(queries, k)
            ms = 1000 * (time.perf_counter() - start) / len(queries)
            rows.append(ScalingRow(f"HNSW (faiss, ef={ef})", n, _recall(found, truth), ms))
    return rows


def ann_scaling_pgvector(
    conninfo: str,
    base: Vector,
    queries: Vector,
    sizes: Sequence[int],
    *,
    k: int = 10,
    table: str = "scaling",
    ef_search: int = 40,
) -> list[ScalingRow]:
    """Grow a PgVectorStore (HNSW, m=16, ef_construction=64) through `sizes` and measure
    recall@k against exact search and the mean time of `store.search` per query.

    The planner would choose an exact sequential scan for tables this small, so the index is
    forced (`enable_seqscan = off`). Times include psycopg and parsing the vector literal: what
    an application pays per query.
    """
    from llmprep.rag.stores.pgvector import PgVectorStore

    _check_sizes(sizes, len(base))
    rows, have = [], 0
    with PgVectorStore(conninfo, table, base.shape[1], ef_search=ef_search) as store:
        store.set_config("enable_seqscan", "off")
        for n in sizes:
            store.upsert([Record(f"v{i}", base[i], "") for i in range(have, n)])
            have = n
            truth = _exact_top(base[:n], queries, k)
            start = time.perf_counter()
            found = [[int(h.id[1:]) for h in store.search(q, k)] for q in queries]
            ms = 1000 * (time.perf_counter() - start) / len(queries)
            rows.append(
                ScalingRow(
                    f"HNSW (pgvector, ef={ef_search})", n, _recall(np.array(found), truth), ms
                )
            )
    return rows


def _check_sizes(sizes: Sequence[int], available: int) -> None:
    if not sizes or list(sizes) != sorted(set(sizes)) or sizes[0] < 1 or sizes[-1] > available:
        raise ValueError(f"sizes must increase, from >= 1 to <= {available}; got {list(sizes)}")


# ---------------------------------------------------------------- abstention


@dataclass(frozen=True, slots=True)
class AbstentionPoint:
    """What a threshold on the top-1 score does: the share of answerable questions it still
    answers (coverage), the share of those whose gold chunk is in the top k (answered and
    supported), and the share of unanswerable questions it answers anyway (false answers)."""

    threshold: float
    coverage: float
    supported: float
    false_answers: float


def abstention_curve(
    results: Sequence[QueryResult], thresholds: Sequence[float], k: int = 5
) -> list[AbstentionPoint]:
    """Sweep an abstention threshold over top-1 scores (answer when score >= threshold).

    Needs answerable and unanswerable queries among `results`; a query with no hit at all
    always abstains.
    """
    answerable = [r for r in results if r.query.answerable]
    unanswerable = [r for r in results if not r.query.answerable]
    if not answerable or not unanswerable:
        raise ValueError("calibration needs both answerable and unanswerable queries")
    points = []
    for t in thresholds:
        answered = [r for r in answerable if r.top_score is not None and r.top_score >= t]
        supported = [r for r in answered if set(r.retrieved[:k]) & r.relevant]
        wrong = [r for r in unanswerable if r.top_score is not None and r.top_score >= t]
        points.append(
            AbstentionPoint(
                t,
                len(answered) / len(answerable),
                len(supported) / len(answered) if answered else 0.0,
                len(wrong) / len(unanswerable),
            )
        )
    return points


# ---------------------------------------------------------------- BM25 against the libraries


@dataclass(frozen=True, slots=True)
class Agreement:
    """Largest relative difference between our scores and a reference library's."""

    reference: str
    variant: str
    max_relative_difference: float
    queries: int
    documents: int


def bm25_agreement(texts: Sequence[str], questions: Sequence[str]) -> list[Agreement]:
    """Our BM25 (lucene, okapi) against bm25s and rank-bm25, on the same tokens.

    The relative difference is |ours - theirs| / |theirs| over every document score that is
    not zero in both, maximised over documents and queries.
    """
    import bm25s  # type: ignore[import-untyped]
    import rank_bm25  # type: ignore[import-untyped]

    corpus = [tokenize(t) for t in texts]
    tokenized = [tokenize(q) for q in questions]
    lucene = BM25(variant="lucene").fit_tokens(corpus)
    okapi = BM25(variant="okapi").fit_tokens(corpus)
    ref_lucene = bm25s.BM25(method="lucene", k1=1.5, b=0.75, dtype="float64")
    ref_lucene.index(corpus, show_progress=False)
    ref_okapi = rank_bm25.BM25Okapi(corpus, k1=1.5, b=0.75, epsilon=0.25)
    pairs = [
        ("bm25s", "lucene", lucene, ref_lucene.get_scores),
        ("rank-bm25", "okapi", okapi, ref_okapi.get_scores),
    ]
    out = []
    for name, variant, ours, theirs in pairs:
        worst = 0.0
        for query in tokenized:
            a = ours.scores(query)
            b = np.asarray(theirs(query), dtype=np.float64)
            nonzero = (a != 0) | (b != 0)
            if nonzero.any():
                rel = np.abs(a[nonzero] - b[nonzero]) / np.abs(b[nonzero])
                worst = max(worst, float(rel.max()))
        out.append(Agreement(name, variant, worst, len(tokenized), len(corpus)))
    return out


def by_retriever(rows: Iterable[EvalRow]) -> Mapping[str, Mapping[str, EvalRow]]:
    """rows -> {retriever: {kind: row}}, for tables and figures."""
    out: dict[str, dict[str, EvalRow]] = {}
    for row in rows:
        out.setdefault(row.retriever, {})[row.kind] = row
    return out
