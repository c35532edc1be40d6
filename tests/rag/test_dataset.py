"""llmprep.rag.dataset: the corpus snapshot is fixed, the labelled queries resolve, and the
relevance rule counts a chunk as holding the answer exactly when it should."""

from __future__ import annotations

import hashlib
import re
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from llmprep.book.bank import BankError
from llmprep.rag.dataset import (
    CORPUS,
    DATA,
    KINDS,
    GoldSpan,
    Kind,
    LabelledQuery,
    load_corpus,
    load_queries,
    relevant_chunks,
    relevant_chunks_per_span,
)
from llmprep.rag.documents import Chunk, Document

README = DATA / "README.md"
_ROW = re.compile(r"^\|\s*`([\w-]+\.md)`\s*\|\s*([\d,]+)\s*\|\s*`([0-9a-f]{64})`\s*\|", re.M)


@pytest.fixture(scope="module")
def queries() -> list[LabelledQuery]:
    return load_queries()


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return load_corpus()


# -- the corpus snapshot ----------------------------------------------------------------------


def recorded_files() -> dict[str, tuple[int, str]]:
    """file name -> (bytes, sha256), from the table in the README (the single record)."""
    rows = _ROW.findall(README.read_text(encoding="utf-8"))
    return {name: (int(size.replace(",", "")), digest) for name, size, digest in rows}


def test_the_corpus_is_the_snapshot_the_readme_records() -> None:
    recorded = recorded_files()
    on_disk = sorted(path.name for path in CORPUS.glob("*.md"))
    assert sorted(recorded) == on_disk, "the README's table must list every corpus file"
    for name, (size, digest) in recorded.items():
        data = (CORPUS / name).read_bytes()
        assert len(data) == size, f"{name}: {len(data)} bytes, the README says {size}"
        assert hashlib.sha256(data).hexdigest() == digest, (
            f"{name} changed: the snapshot is meant to stay fixed (see {README})"
        )


def test_documents_are_titled_by_their_first_heading(corpus: list[Document]) -> None:
    by_id = {doc.id: doc for doc in corpus}
    assert sorted(by_id) == sorted(path.stem for path in CORPUS.glob("*.md"))
    assert by_id["how-llms-work"].metadata == {"title": "1 How LLMs work", "doc": "how-llms-work"}
    assert by_id["preface"].metadata["title"] == "Preface"


def test_load_corpus_reads_another_folder(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("intro\n\n## Second *part*\n", encoding="utf-8")
    (tmp_path / "a.md").write_text("# First\n\ntext\n", encoding="utf-8")
    docs = load_corpus(tmp_path)
    assert [(d.id, d.metadata["title"]) for d in docs] == [("a", "First"), ("b", "Second *part*")]


@pytest.mark.parametrize("content", [None, "no heading at all\n"])
def test_load_corpus_rejects_an_empty_folder_or_an_untitled_file(
    tmp_path: Path, content: str | None
) -> None:
    if content is not None:
        (tmp_path / "x.md").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=r"no corpus documents|no Markdown heading"):
        load_corpus(tmp_path)


# -- the shipped queries ----------------------------------------------------------------------


def test_the_shipped_file_loads_with_enough_queries(queries: list[LabelledQuery]) -> None:
    assert len(queries) >= 130
    assert len({q.id for q in queries}) == len(queries)


def test_every_kind_is_present_in_the_planned_proportions(queries: list[LabelledQuery]) -> None:
    kinds = Counter(q.kind for q in queries)
    assert set(kinds) == set(KINDS)
    assert kinds["paraphrase"] >= 0.4 * len(queries), "dense retrieval needs paraphrases to win"
    assert 8 <= kinds["multi-hop"] <= 15
    assert 8 <= kinds["unanswerable"] <= 15
    assert kinds["lexical"] >= 10
    assert kinds["numeric"] >= 10
    assert kinds["definition"] >= 10


def test_gold_spans_fit_their_kind(queries: list[LabelledQuery]) -> None:
    for q in queries:
        if q.kind == "unanswerable":
            assert q.gold == (), q.id
            assert not q.answerable, q.id
        elif q.kind == "multi-hop":
            assert len(q.gold) >= 2, q.id
        else:
            assert len(q.gold) == 1, q.id
        if q.kind == "definition":
            assert q.gold[0].doc_id == "key-terminology", q.id


def test_every_document_has_queries_roughly_by_size(
    queries: list[LabelledQuery], corpus: list[Document]
) -> None:
    spans = Counter(span.doc_id for q in queries for span in q.gold)
    total_chars = sum(len(doc.text) for doc in corpus)
    for doc in corpus:
        assert spans[doc.id] >= 2, doc.id
        share = spans[doc.id] / sum(spans.values())
        assert share <= 2 * len(doc.text) / total_chars + 0.02, f"{doc.id} is over-represented"


def test_every_major_section_of_the_chapters_is_asked_about(
    queries: list[LabelledQuery], corpus: list[Document]
) -> None:
    texts = {doc.id: doc.text for doc in corpus}
    for doc_id in ("how-llms-work", "prompt-techniques", "prompt-patterns", "prompting-in-code"):
        text = texts[doc_id]
        sections = [(m.start(), m.group(1)) for m in re.finditer(r"^## (.+)$", text, re.M)]
        asked = {
            max((s for s in sections if s[0] <= span.start), default=(0, "(intro)"))[1]
            for q in queries
            for span in q.gold
            if span.doc_id == doc_id
        }
        missing = [name for _, name in sections if name not in asked]
        assert not missing, f"{doc_id}: no query about {missing}"


def test_evidence_spans_are_in_bounds(queries: list[LabelledQuery], corpus: list[Document]) -> None:
    texts = {doc.id: doc.text for doc in corpus}
    for q in queries:
        for span in q.gold:
            evidence = texts[span.doc_id][span.start : span.end]
            assert 40 <= len(evidence) <= 400, q.id
            assert texts[span.doc_id].count(evidence) == 1, q.id


# -- errors name the file and the line --------------------------------------------------------

FOX = "The quick brown fox jumps over the lazy dog near the river"
SECOND = "A second document whose only sentence is long enough"
DOCS = [Document("alpha", f"# Alpha\n\n{FOX} bank."), Document("beta", f"# Beta\n\n{SECOND} here.")]
GOOD = """\
- id: first
  kind: lexical
  question: Which animal jumps?
  doc: alpha
  evidence: 'The quick brown fox jumps over the lazy dog near the river'
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "queries.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_good_file_resolves_to_spans(tmp_path: Path) -> None:
    (query,) = load_queries(write(tmp_path, GOOD), DOCS)
    start = len("# Alpha\n\n")
    gold = (GoldSpan("alpha", start, start + len(FOX)),)
    assert query == LabelledQuery("first", "Which animal jumps?", "lexical", gold)
    assert DOCS[0].text[gold[0].start : gold[0].end] == FOX


def test_multi_hop_and_unanswerable_entries(tmp_path: Path) -> None:
    text = """\
    - id: both
      kind: multi-hop
      question: What jumps, and what is the second document about?
      doc: [alpha, beta]
      evidence:
        - 'The quick brown fox jumps over the lazy dog near the river'
        - 'A second document whose only sentence is long enough'
    - id: nowhere
      kind: unanswerable
      question: What is the capital of Mars?
      doc: null
      evidence: null
    """
    both, nowhere = load_queries(write(tmp_path, text), DOCS)
    assert [s.doc_id for s in both.gold] == ["alpha", "beta"]
    offset = len("# Beta\n\n")
    assert both.gold[1] == GoldSpan("beta", offset, offset + len(SECOND))
    assert nowhere.gold == ()
    assert not nowhere.answerable


TWICE = "Said twice, this sentence is long enough to be evidence. "
BAD_ENTRIES = {
    "missing key": (
        """\
        - id: first
          kind: lexical
          question: Which animal jumps?
          doc: alpha
        """,
        1,
        "missing key(s): evidence",
    ),
    "unknown kind": (GOOD.replace("kind: lexical", "kind: factual"), 2, "kind 'factual' is not"),
    "unknown doc": (GOOD.replace("doc: alpha", "doc: gamma"), 4, "unknown doc 'gamma'"),
    "evidence not found": (GOOD.replace("lazy dog", "sleepy dog"), 5, "evidence not found in"),
    "evidence found twice": (
        GOOD.replace("doc: alpha", "doc: twice").replace(
            "The quick brown fox jumps over the lazy dog near the river", TWICE.strip()
        ),
        5,
        "evidence found 2 times in twice",
    ),
    "duplicate id": (GOOD + "\n" + GOOD, 7, "duplicate id 'first' (also at line 1)"),
}


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_each_error_names_file_and_line(tmp_path: Path, case: str) -> None:
    text, line, message = BAD_ENTRIES[case]
    path = write(tmp_path, text)
    docs = [*DOCS, Document("twice", TWICE * 2)]
    with pytest.raises(BankError, match=re.escape(message)) as caught:
        load_queries(path, docs)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert (caught.value.file, caught.value.line) == (str(path), line)


def test_a_bad_second_evidence_of_a_multi_hop_names_its_own_line(tmp_path: Path) -> None:
    text = """\
    - id: both
      kind: multi-hop
      question: Two passages?
      doc: [alpha, beta]
      evidence:
        - 'The quick brown fox jumps over the lazy dog near the river'
        - 'A third document whose only sentence is long enough'
    """
    path = write(tmp_path, text)
    with pytest.raises(BankError, match=r"queries\.yml:7: evidence not found in beta"):
        load_queries(path, DOCS)


def test_evidence_typed_with_plain_spaces_gets_a_hint(tmp_path: Path) -> None:
    docs = [Document("alpha", "As Section\xa01.5 shows, the cache is paid per token of context.")]
    path = write(
        tmp_path,
        """\
        - id: nbsp
          kind: lexical
          question: How is the cache paid?
          doc: alpha
          evidence: 'As Section 1.5 shows, the cache is paid per token of context.'
        """,
    )
    with pytest.raises(BankError, match="non-breaking spaces"):
        load_queries(path, docs)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("kind: lexical\n  question: Which", "evidence must be a string of 40-400"),
        ("kind: multi-hop\n  question: Which", "a multi-hop query lists its docs"),
        ("kind: unanswerable\n  question: Which", "an unanswerable query has doc: null"),
    ],
)
def test_the_shape_must_fit_the_kind(tmp_path: Path, change: str, message: str) -> None:
    text = GOOD.replace("kind: lexical\n  question: Which", change)
    if "lexical" in change:
        text = text.replace("'The quick brown fox jumps over the lazy dog near the river'", "'fox'")
    with pytest.raises(BankError, match=re.escape(message)):
        load_queries(write(tmp_path, text), DOCS)


# -- relevance of chunks ----------------------------------------------------------------------

TEXT = "0123456789" * 10  # 100 characters
DOC = "d"


def chunk(ident: str, start: int, end: int, doc_id: str = DOC) -> Chunk:
    return Chunk(id=ident, doc_id=doc_id, text=TEXT[start:end], start=start, end=end)


def query(*spans: tuple[str, int, int]) -> LabelledQuery:
    kind: Kind = "multi-hop" if len(spans) > 1 else "lexical"
    gold = tuple(GoldSpan(doc_id, start, end) for doc_id, start, end in spans)
    return LabelledQuery(id="q", question="?", kind=kind, gold=gold)


def test_a_chunk_that_contains_the_span_is_relevant() -> None:
    q = query((DOC, 40, 60))
    chunks = [chunk("whole", 30, 70), chunk("exact", 40, 60), chunk("before", 0, 30)]
    assert relevant_chunks(q, chunks) == {"whole", "exact"}


def test_partial_overlap_counts_at_the_threshold_and_not_below() -> None:
    q = query((DOC, 40, 60))  # 20 characters
    at = chunk("at", 50, 90)  # covers 50..60: 10 of 20 = 0.5
    below = chunk("below", 51, 90)  # covers 51..60: 9 of 20 = 0.45
    assert relevant_chunks(q, [at, below]) == {"at"}
    assert relevant_chunks(q, [at, below], min_overlap=0.45) == {"at", "below"}
    assert relevant_chunks(q, [at, below], min_overlap=0.6) == set()


def test_overlap_is_measured_against_the_span_not_the_chunk() -> None:
    q = query((DOC, 40, 60))
    big = chunk("big", 0, 100)  # the span is 20% of the chunk, all of the span
    grazing = chunk("grazing", 58, 62)  # half of this chunk is span, 10% of the span
    assert relevant_chunks(q, [big, grazing]) == {"big"}


def test_a_chunk_of_another_document_is_never_relevant() -> None:
    q = query((DOC, 40, 60))
    assert relevant_chunks(q, [chunk("other", 40, 60, doc_id="e")]) == set()


def test_multi_hop_relevance_is_per_span() -> None:
    q = query((DOC, 10, 20), (DOC, 70, 90))
    chunks = [chunk("first", 0, 25), chunk("middle", 25, 65), chunk("second-half", 80, 100)]
    assert relevant_chunks_per_span(q, chunks) == [{"first"}, {"second-half"}]
    assert relevant_chunks(q, chunks) == {"first", "second-half"}
    only_first = relevant_chunks_per_span(q, chunks[:2])
    assert [bool(ids) for ids in only_first] == [True, False], "the second passage is missing"


def test_unanswerable_queries_have_no_relevant_chunks() -> None:
    q = LabelledQuery(id="q", question="?", kind="unanswerable", gold=())
    assert relevant_chunks(q, [chunk("any", 0, 100)]) == set()


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5])
def test_min_overlap_must_be_a_fraction(bad: float) -> None:
    with pytest.raises(ValueError, match="min_overlap"):
        relevant_chunks(query((DOC, 0, 10)), [], min_overlap=bad)


def test_shipped_spans_are_relevant_to_a_chunk_that_holds_them(
    queries: list[LabelledQuery], corpus: list[Document]
) -> None:
    texts = {doc.id: doc.text for doc in corpus}
    for q in queries:
        for n, span in enumerate(q.gold):
            start, end = max(0, span.start - 100), min(len(texts[span.doc_id]), span.end + 100)
            around = Chunk(f"c{n}", span.doc_id, texts[span.doc_id][start:end], start, end)
            assert f"c{n}" in relevant_chunks(q, [around]), q.id
