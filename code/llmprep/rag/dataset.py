"""The labelled retrieval set: a fixed corpus (the book's own pages) and questions about it.

To say that one retriever is better than another you need questions whose right answers are
known. Here each question points at its answer as an *evidence span*: an exact substring of one
corpus document, found once, which load_queries turns into character offsets. Offsets, not
chunk ids, are the gold labels because every chunker cuts the text differently; whether a chunk
"holds the answer" is decided afterwards, by how much of the span it covers
(relevant_chunks). One labelled set then scores every chunker, retriever and reranker.

The corpus is a snapshot (chapters/_data/rag/README.md says how it was made and why): if the
questions pointed into the live chapters, every prose edit would move the gold spans.

Query kinds, so results can be broken down by what makes a question hard:

- ``lexical``: shares rare words with its evidence (BM25's home ground);
- ``paraphrase``: asks the same thing in other words (where dense retrieval should win);
- ``numeric``: asks for a number or a setting;
- ``definition``: asks what a term means (answered by the key-terminology chapter);
- ``multi-hop``: needs two passages, possibly in two documents (``doc`` and ``evidence`` are
  lists of the same length);
- ``unanswerable``: the corpus does not answer it (``doc`` and ``evidence`` are null), so a
  pipeline that abstains is right and one that answers is wrong.

Malformed entries are reported as ``file:line``, with the same loader the question bank uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from llmprep.book.bank import BankError, _entries
from llmprep.rag.documents import Chunk, Document

DATA = Path(__file__).resolve().parents[3] / "chapters" / "_data" / "rag"
CORPUS = DATA / "corpus"
QUERIES = DATA / "queries.yml"

Kind = Literal["lexical", "paraphrase", "numeric", "definition", "multi-hop", "unanswerable"]
KINDS: tuple[str, ...] = get_args(Kind)
EVIDENCE_CHARS = (40, 400)
_KEYS = ("id", "question", "doc", "evidence", "kind")
_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.M)


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """Where an answer sits: ``document.text[start:end]`` is the evidence."""

    doc_id: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    """A question, what makes it hard (``kind``) and where its answer is (empty: nowhere)."""

    id: str
    question: str
    kind: Kind
    gold: tuple[GoldSpan, ...]

    @property
    def answerable(self) -> bool:
        """Whether the corpus holds an answer; an unanswerable query should be abstained on."""
        return bool(self.gold)


def load_corpus(folder: Path | None = None) -> list[Document]:
    """The snapshot's documents, sorted by id (the file stem), each titled by its first heading.

    The title goes into the metadata so that a retriever can show where a hit comes from and a
    filter can select documents, as a real ingestion pipeline would.
    """
    folder = CORPUS if folder is None else folder
    paths = sorted(folder.glob("*.md"))
    if not paths:
        raise ValueError(f"no corpus documents (*.md) in {folder}")
    documents = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        heading = _HEADING.search(text)
        if heading is None:
            raise ValueError(f"{path}: no Markdown heading to take the title from")
        metadata = {"title": heading.group(1), "doc": path.stem}
        documents.append(Document(id=path.stem, text=text, metadata=metadata))
    return documents


def load_queries(
    path: Path | None = None, corpus: Sequence[Document] | None = None
) -> list[LabelledQuery]:
    """The labelled queries, each evidence string resolved to its span in the corpus.

    Resolving at load time is the check that keeps the labels honest: an evidence string that
    is missing, or found twice, is an error naming its line, so an edited corpus or a mistyped
    quotation cannot silently become a wrong gold label.
    """
    path = QUERIES if path is None else path
    texts = {doc.id: doc.text for doc in (load_corpus() if corpus is None else corpus)}
    queries: list[LabelledQuery] = []
    seen: dict[str, int] = {}
    for line, entry, node in _entries(path):
        where = _Lines.of(node, line)
        query = _query(entry, texts, path, where)
        if query.id in seen:
            raise BankError(
                path, where["id"], f"duplicate id '{query.id}' (also at line {seen[query.id]})"
            )
        seen[query.id] = where["id"]
        queries.append(query)
    return queries


@dataclass(frozen=True, slots=True)
class _Lines:
    """Where an entry's parts are in the file: its first line, each value's line, and the
    line of each item of a list value (multi-hop docs and evidence)."""

    entry: int
    values: Mapping[str, int]
    items: Mapping[str, Sequence[int]]

    @classmethod
    def of(cls, node: yaml.Node, entry: int) -> _Lines:
        values: dict[str, int] = {}
        items: dict[str, list[int]] = {}
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = str(key_node.value)
                values[key] = value_node.start_mark.line + 1
                if isinstance(value_node, yaml.SequenceNode):
                    items[key] = [item.start_mark.line + 1 for item in value_node.value]
        return cls(entry, values, items)

    def __getitem__(self, key: str) -> int:
        return self.values.get(key, self.entry)

    def item(self, key: str, index: int) -> int:
        lines = self.items.get(key, ())
        return lines[index] if index < len(lines) else self[key]


def _query(
    entry: Mapping[str, Any], texts: Mapping[str, str], path: Path, where: _Lines
) -> LabelledQuery:
    """One entry, validated: its keys, id, question and kind, then its gold spans."""
    if missing := [key for key in _KEYS if key not in entry]:
        raise BankError(path, where.entry, f"missing key(s): {', '.join(missing)}")
    if unknown := sorted(set(entry) - set(_KEYS)):
        raise BankError(path, where.entry, f"unknown key(s): {', '.join(unknown)}")
    ident, question, kind = entry["id"], entry["question"], entry["kind"]
    if not isinstance(ident, str) or not _KEBAB.match(ident):
        raise BankError(path, where["id"], f"id {ident!r} is not a kebab-case string")
    if not isinstance(question, str) or not question.strip():
        raise BankError(path, where["question"], "'question' must be a non-empty string")
    if kind not in KINDS:
        raise BankError(path, where["kind"], f"kind {kind!r} is not one of {', '.join(KINDS)}")
    gold = _gold(entry["doc"], entry["evidence"], kind, texts, path, where)
    return LabelledQuery(id=ident, question=question.strip(), kind=kind, gold=gold)


def _gold(
    doc: Any, evidence: Any, kind: str, texts: Mapping[str, str], path: Path, where: _Lines
) -> tuple[GoldSpan, ...]:
    """The spans an entry's evidence points at, after checking that its shape fits its kind."""
    if kind == "unanswerable":
        if doc is not None or evidence is not None:
            raise BankError(
                path, where["doc"], "an unanswerable query has doc: null, evidence: null"
            )
        return ()
    if kind == "multi-hop":
        if not (isinstance(doc, list) and isinstance(evidence, list)):
            raise BankError(path, where["doc"], "a multi-hop query lists its docs and evidence")
        if len(doc) != len(evidence) or len(evidence) < 2:
            raise BankError(
                path,
                where["evidence"],
                f"a multi-hop query needs two or more evidence strings, one doc each "
                f"(got {len(evidence)} evidence, {len(doc)} docs)",
            )
        return tuple(
            _span(d, e, texts, path, (where.item("doc", n), where.item("evidence", n)))
            for n, (d, e) in enumerate(zip(doc, evidence, strict=True))
        )
    if isinstance(doc, list) or isinstance(evidence, list):
        raise BankError(path, where["evidence"], f"only multi-hop queries take lists, not {kind}")
    return (_span(doc, evidence, texts, path, (where["doc"], where["evidence"])),)


def _span(
    doc: Any, evidence: Any, texts: Mapping[str, str], path: Path, lines: tuple[int, int]
) -> GoldSpan:
    """Locate one evidence string: it must be in the named document exactly once.

    ``lines`` are the lines of the doc and of the evidence, where their errors are reported.
    """
    doc_line, line = lines
    if doc not in texts:
        raise BankError(
            path, doc_line, f"unknown doc {doc!r}; the corpus has {', '.join(sorted(texts))}"
        )
    low, high = EVIDENCE_CHARS
    if not isinstance(evidence, str) or not low <= len(evidence) <= high:
        size = len(evidence) if isinstance(evidence, str) else type(evidence).__name__
        raise BankError(
            path, line, f"evidence must be a string of {low}-{high} characters ({size})"
        )
    text = texts[doc]
    start = text.find(evidence)
    if start < 0:
        hint = ""
        if text.replace("\xa0", " ").find(evidence.replace("\xa0", " ")) >= 0:
            hint = " (it would match with the corpus's non-breaking spaces, U+00A0, copied too)"
        raise BankError(path, line, f"evidence not found in {doc}{hint}: {evidence[:60]!r}...")
    if text.find(evidence, start + 1) >= 0:
        count = len(re.findall(f"(?={re.escape(evidence)})", text))
        raise BankError(
            path, line, f"evidence found {count} times in {doc}; quote more to make it unique"
        )
    return GoldSpan(doc_id=doc, start=start, end=start + len(evidence))


def relevant_chunks_per_span(
    query: LabelledQuery, chunks: Iterable[Chunk], min_overlap: float = 0.5
) -> list[set[str]]:
    """For each gold span, the ids of the chunks that hold it (see relevant_chunks)."""
    if not 0 < min_overlap <= 1:
        raise ValueError(f"min_overlap must be in (0, 1], not {min_overlap}")
    chunks = list(chunks)
    return [{c.id for c in chunks if _holds(c, span, min_overlap)} for span in query.gold]


def relevant_chunks(
    query: LabelledQuery, chunks: Iterable[Chunk], min_overlap: float = 0.5
) -> set[str]:
    """The ids of the chunks that count as retrieving the answer: the relevant set for metrics.

    A chunk is relevant to a gold span if it contains the span whole or covers at least
    ``min_overlap`` of the span's characters. Measuring against the span, not the chunk, means
    a big chunk that holds the answer counts (it did retrieve it), while a chunk that grazes
    the first few words does not. A span cut in two by a chunk boundary always has a relevant
    chunk at the default 0.5 (the piece with the larger share); cut into three or more pieces
    by small chunks, it may have none, which is a fair verdict on chunks that small.

    Multi-hop queries: relevance is per span, and this is the union over spans, so a chunk
    that holds either passage is relevant. To ask whether *every* passage was retrieved (what
    a multi-hop answer needs), use relevant_chunks_per_span and check each set.
    Unanswerable queries have no relevant chunks.
    """
    per_span = relevant_chunks_per_span(query, chunks, min_overlap)
    return set[str]().union(*per_span)


def _holds(chunk: Chunk, span: GoldSpan, min_overlap: float) -> bool:
    if chunk.doc_id != span.doc_id:
        return False
    if chunk.start <= span.start and span.end <= chunk.end:
        return True
    overlap = min(chunk.end, span.end) - max(chunk.start, span.start)
    return overlap > 0 and overlap >= min_overlap * (span.end - span.start)
