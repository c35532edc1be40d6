"""Chunkers: nothing lost or reordered, sizes within the limit, spans that point at the source,
exact overlap for fixed windows, and Markdown structure (sections, whole tables) kept."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.tokens import count_tokens
from llmprep.rag.chunking import (
    SECTION_SEPARATOR,
    fixed_chunks,
    markdown_chunks,
    parent_child,
    recursive_chunks,
    sentence_chunks,
)
from llmprep.rag.documents import Chunk, Document

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = ROOT / "chapters" / "_data" / "rag" / "corpus" / "prompt-patterns.md"
TABLE = re.compile(r"(?m)(?:^\|.*\n)+")  # a run of lines that start with "|"

type Chunker = Callable[[Document, int], list[Chunk]]

TILING: dict[str, Chunker] = {  # every chunker whose chunks tile the document
    "fixed": fixed_chunks,
    "recursive": recursive_chunks,
    "sentence": sentence_chunks,
    "markdown": markdown_chunks,
    "parents": lambda doc, size: parent_child(doc, size, max(1, size // 3))[0],
    "children": lambda doc, size: parent_child(doc, 3 * size, size)[1],
}

# Markdown-ish lines, so that headings, tables, fences and sentences all get exercised.
LINES = [
    "# Title",
    "## Section two",
    "### 2.1 Deeper",
    "",
    "",
    "Plain words here. And another sentence! Really? Yes.",
    "See Xiong et al. 2024, e.g. the table below.",
    "| a | b |",
    "|:--|--:|",
    "| 1 | 2 |",
    "```",
    "# not a heading inside code",
    "- a list item",
    "averyveryverylongwordwithoutanyspacesinit",
    "ünïcödé — “quotes” and emoji 🙂 too.",
]
TEXT = st.one_of(
    st.text(alphabet=st.sampled_from("ab .!?\n#|`-é🙂"), max_size=300),
    st.lists(st.sampled_from(LINES), max_size=30).map("\n".join),
)


def section(chunk: Chunk) -> str:
    label = chunk.metadata["section"]
    assert isinstance(label, str)
    return label


def parent_of(chunk: Chunk) -> str:
    parent = chunk.metadata["parent"]
    assert isinstance(parent, str)
    return parent


def doc_of(text: str) -> Document:
    return Document("d", text, {"title": "T", "groups": ("staff",)})


def assert_tiles(doc: Document, chunks: list[Chunk]) -> None:
    """Chunks in order, no gaps, no overlaps, each the exact text of its span."""
    assert "".join(c.text for c in chunks) == doc.text
    assert [c.start for c in chunks[1:]] == [c.end for c in chunks[:-1]]
    if chunks:
        assert (chunks[0].start, chunks[-1].end) == (0, len(doc.text))
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        assert c.text  # no empty chunks
        assert c.doc_id == doc.id
        assert doc.metadata.items() <= c.metadata.items()


@pytest.mark.parametrize("name", TILING)
@given(text=TEXT, size=st.integers(1, 120))
def test_tiling_chunkers_lose_and_reorder_nothing_and_respect_the_size(
    name: str, text: str, size: int
) -> None:
    doc = doc_of(text)
    chunks = TILING[name](doc, size)
    assert_tiles(doc, chunks)
    assert all(len(c.text) <= size for c in chunks)  # "" separator: characters always fit
    if name not in ("children",):
        assert [c.id for c in chunks] == [f"d#{i}" for i in range(len(chunks))]


@given(text=TEXT, size=st.integers(2, 80), data=st.data())
def test_fixed_chunks_overlap_by_exactly_overlap_characters(
    text: str, size: int, data: st.DataObject
) -> None:
    overlap = data.draw(st.integers(0, size - 1))
    doc = doc_of(text)
    chunks = fixed_chunks(doc, size, overlap)
    for c in chunks:
        assert c.text == text[c.start : c.end]
    for a, b in itertools.pairwise(chunks):
        assert a.end - b.start == overlap  # consecutive chunks share exactly `overlap`
        assert len(a.text) == size  # every chunk but the last is full
    if chunks:
        assert (chunks[0].start, chunks[-1].end) == (0, len(text))
        assert 0 < len(chunks[-1].text) <= size
    # Dropping each chunk's overlap with the one before gives the document back.
    assert "".join([c.text[overlap if i else 0 :] for i, c in enumerate(chunks)]) == text


def test_fixed_chunks_docstring_example() -> None:
    chunks = fixed_chunks(Document("d", "abcdefghij"), 4, 2)
    assert [c.text for c in chunks] == ["abcd", "cdef", "efgh", "ghij"]
    assert [(c.start, c.end) for c in chunks] == [(0, 4), (2, 6), (4, 8), (6, 10)]


@pytest.mark.parametrize("name", TILING)
@given(text=TEXT, size=st.integers(1, 40))
def test_a_token_length_budgets_in_tokens(name: str, text: str, size: int) -> None:
    doc = doc_of(text)
    # Call every chunker with length=count_tokens (cl100k_base), not characters.
    chunkers: dict[str, Callable[[], list[Chunk]]] = {
        "fixed": lambda: fixed_chunks(doc, size, size // 3, length=count_tokens),
        "recursive": lambda: recursive_chunks(doc, size, length=count_tokens),
        "sentence": lambda: sentence_chunks(doc, size, length=count_tokens),
        "markdown": lambda: markdown_chunks(doc, size, length=count_tokens),
        "parents": lambda: parent_child(doc, size, max(1, size // 3), length=count_tokens)[0],
        "children": lambda: parent_child(doc, 3 * size, size, length=count_tokens)[1],
    }
    chunks = chunkers[name]()
    if name != "fixed":
        assert_tiles(doc, chunks)
    for c in chunks:
        # The documented exception: one character that is more tokens than `size` by itself
        # (an emoji is several byte-level tokens) cannot be split.
        assert count_tokens(c.text) <= size or len(c.text) == 1


def test_token_budget_on_the_real_corpus_allows_longer_chunks_than_characters() -> None:
    doc = Document("prompt-patterns", PATTERNS.read_text(encoding="utf-8"))
    chunks = recursive_chunks(doc, 128, length=count_tokens)
    assert_tiles(doc, chunks)
    assert max(count_tokens(c.text) for c in chunks) <= 128
    # English prose runs at about 4 characters a token, so 128 tokens is far more than 128 chars.
    assert sum(len(c.text) for c in chunks) / len(chunks) > 300


def test_fixed_chunks_with_tokens_overlap_by_at_most_overlap_tokens() -> None:
    doc = Document("prompt-patterns", PATTERNS.read_text(encoding="utf-8")[:5000])
    chunks = fixed_chunks(doc, 64, 16, length=count_tokens)
    assert (chunks[0].start, chunks[-1].end) == (0, len(doc.text))
    for a, b in itertools.pairwise(chunks):
        assert a.start < b.start <= a.end
        assert count_tokens(doc.text[b.start : a.end]) <= 16
        assert count_tokens(a.text) <= 64


def test_recursive_chunks_prefer_coarse_separators() -> None:
    doc = Document("d", "One. Two.\n\nThree.")
    # 17 characters > 10: split at the blank line; "One. Two.\n\n" (11) is still too long, so it
    # is split at ". "; "Two.\n\n" and "Three." are not merged across the paragraph break.
    assert [c.text for c in recursive_chunks(doc, 10)] == ["One. ", "Two.\n\n", "Three."]
    assert [c.text for c in recursive_chunks(doc, 17)] == ["One. Two.\n\nThree."]


def test_an_unsplittable_piece_is_the_documented_exception() -> None:
    doc = Document("d", "short\n" + "x" * 30 + "\nend")
    chunks = recursive_chunks(doc, 10, separators=("\n",))  # no "" to fall back on
    assert [c.text for c in chunks] == ["short\n", "x" * 30 + "\n", "end"]
    assert_tiles(doc, chunks)


def test_sentence_chunks_pack_whole_sentences() -> None:
    doc = Document("d", "A cat. A dog. A cow.")
    assert [c.text for c in sentence_chunks(doc, 14)] == ["A cat. A dog. ", "A cow."]
    doc = Document("d", "See Xiong et al. 2024 for more. E.g. this one.\n\nNext")
    # "et al." and "E.g." do not end sentences; the blank line does.
    assert [c.text for c in sentence_chunks(doc, 35)] == [
        "See Xiong et al. 2024 for more. ",
        "E.g. this one.\n\nNext",
    ]
    assert [c.text for c in sentence_chunks(doc, 20)][:2] == [
        "See Xiong et al. ",
        "2024 for more. ",
    ]


def test_markdown_chunks_label_sections_and_skip_headings_in_code() -> None:
    text = "# A\n\nx\n## B\n\ny\n```\n# not a heading\n```\n### C\nz"
    chunks = markdown_chunks(Document("d", text), 100)
    assert [(c.text, c.metadata["section"]) for c in chunks] == [
        ("# A\n\nx\n", "A"),
        ("## B\n\ny\n```\n# not a heading\n```\n", "A > B"),
        ("### C\nz", "A > B > C"),
    ]


def test_markdown_chunks_keep_a_table_whole_when_it_fits() -> None:
    table = "| k | v |\n|---|---|\n" + "".join(f"| row {i} | {i * i} |\n" for i in range(6))
    text = "## T\n\n" + "Intro words. " * 5 + "\n\n" + table + "\nAfter the table.\n"
    chunks = markdown_chunks(Document("d", text), len(table) + 5)
    assert table in [c.text.rstrip("\n") + "\n" for c in chunks]
    # Too small for the table: it is split at row boundaries, never inside a row.
    small = markdown_chunks(Document("d", text), 40)
    assert_tiles(Document("d", text), small)
    rows = [c.text for c in small if c.text.startswith("| row")]
    assert rows
    assert all(r.endswith("\n") for r in rows)


def test_markdown_chunks_on_the_prompt_patterns_chapter() -> None:
    text = PATTERNS.read_text(encoding="utf-8")
    doc = Document("prompt-patterns", text, {"title": "4 Prompt patterns"})
    tables = [(m.start(), m.end()) for m in TABLE.finditer(text)]
    assert len(tables) == 6
    for size in (1000, 1500):
        chunks = markdown_chunks(doc, size)
        assert_tiles(doc, chunks)
        assert max(len(c.text) for c in chunks) <= size
        for start, end in tables:
            inside = [c for c in chunks if c.start <= start and end <= c.end]
            if end - start + 1 <= size:  # the table and its blank line fit: one chunk holds it
                assert len(inside) == 1
            else:  # the 1,344-character Table 4.1 at size 1000: split between rows only
                cuts = [c.start for c in chunks if start < c.start < end]
                assert cuts
                assert all(text[cut - 1] == "\n" for cut in cuts)
    chunks = markdown_chunks(doc, 1500)
    # Every chunk is labelled with its heading path, and only a chunk's first line is a heading.
    assert all(section(c).startswith("4 Prompt patterns") for c in chunks)
    for c in chunks:
        heading_lines = [i for i, line in enumerate(c.text.split("\n")) if line.startswith("#")]
        assert heading_lines in ([], [0])
        if heading_lines:
            title = c.text.split("\n")[0].lstrip("#").strip()
            assert section(c).endswith(title)
    (label_sets,) = [c for c in chunks if c.text.startswith("### 4.2.1")]
    assert label_sets.metadata["section"] == SECTION_SEPARATOR.join(
        ["4 Prompt patterns", "4.2 Classification", "4.2.1 Label sets and an explicit way out"]
    )
    assert label_sets.metadata["title"] == "4 Prompt patterns"


def test_parent_child_children_point_at_parents_that_contain_them() -> None:
    doc = Document("prompt-patterns", PATTERNS.read_text(encoding="utf-8"))
    parents, children = parent_child(doc, 2000, 400)
    assert_tiles(doc, parents)
    assert_tiles(doc, children)
    by_id = {p.id: p for p in parents}
    for child in children:
        parent = by_id[parent_of(child)]
        assert parent.start <= child.start < child.end <= parent.end
        assert child.id.startswith(parent.id + ".")
    assert len(children) > len(parents) > 1
    assert len({c.id for c in children}) == len(children)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: fixed_chunks(d, 0), "size must be at least 1"),
        (lambda d: fixed_chunks(d, 4, 4), "overlap must be in"),
        (lambda d: fixed_chunks(d, 4, -1), "overlap must be in"),
        (lambda d: recursive_chunks(d, 10, ()), "separators must not be empty"),
        (lambda d: sentence_chunks(d, -3), "size must be at least 1, got -3"),
        (lambda d: markdown_chunks(d, 0), "size must be at least 1"),
        (lambda d: parent_child(d, 100, 200), "parent_size"),
    ],
)
def test_bad_arguments_raise_value_errors(call: Callable[[Document], object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call(Document("d", "some text"))


@pytest.mark.parametrize("name", TILING)
def test_an_empty_document_has_no_chunks(name: str) -> None:
    assert TILING[name](Document("d", ""), 10) == []
