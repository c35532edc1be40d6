"""Chunking: cutting a document into the pieces a retriever indexes and returns.

An embedding model reads a bounded window (MiniLM truncates at 256 tokens) and squeezes it into
one vector, so a whole chapter embedded at once is a blur; a chunk too small loses the context
that makes it answerable. Every chunker here returns `Chunk`s whose `text` is exactly
`doc.text[start:end]`, so a citation points at real characters. Five strategies, from naive to
structure-aware:

    fixed_chunks      every `size` units, optional overlap   cuts words and tables in half
    recursive_chunks  paragraphs, then lines, sentences, words, characters, until pieces fit
    sentence_chunks   whole sentences packed up to `size`
    markdown_chunks   never crosses a heading; heading path in metadata["section"];
                      a table stays whole when it fits
    parent_child      small children to search, the larger parent to hand the model

Sizes are measured by a `length` callable: `len` (characters) by default; pass a token counter
(`llmprep.core.tokens.count_tokens`) to budget in tokens. Only `fixed_chunks` overlaps; every
other chunker tiles the document, so joining its chunks gives the document back. A chunk is
never longer than `size` except for an unsplittable unit: a single character that is longer
than `size` on its own (possible with a token `length` and a tiny `size`), or, in
`recursive_chunks` with custom separators that leave out "", a piece none of them can split.

Leaves out: semantic chunking (cut where the embeddings of neighbouring sentences drift apart),
late chunking (embed the whole document, then pool token vectors per chunk), setext headings
(underlined with === or ---), and sentence splitting beyond a short list of abbreviations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace

from llmprep.rag.documents import Chunk, Document, MetaValue

type Length = Callable[[str], int]
type Span = tuple[int, int]

SEPARATORS: tuple[str, ...] = ("\n\n", "\n", ". ", " ", "")
"""Coarsest first: paragraph, line, sentence, word, and "" (any character, the last resort)."""

SECTION_SEPARATOR = " > "  # metadata["section"] == "4 Prompt patterns > 4.2 Classification"

_SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*\s+|\n[ \t]*\n\s*")
_ABBREVIATIONS = frozenset(
    {"e.g.", "i.e.", "al.", "vs.", "cf.", "fig.", "eq.", "sec.", "dr.", "mr.", "mrs.", "ms."}
)
_HEADING = re.compile(r"(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})")


# ---------------------------------------------------------------- the five chunkers


def fixed_chunks(
    doc: Document, size: int, overlap: int = 0, *, length: Length = len
) -> list[Chunk]:
    """Windows of `size` units, each starting `overlap` units before the previous one ends.

    The baseline every other strategy is measured against: cheap, predictable, blind to words.
    Overlap keeps a sentence cut at a boundary whole in at least one chunk, at the price of
    indexing the overlapping text twice. With `length=len`, consecutive chunks share exactly
    `overlap` characters and every chunk but the last has exactly `size`; with a token counter,
    each chunk is the longest prefix within `size` tokens and the overlap the longest tail
    within `overlap` tokens.

    Example: fixed_chunks(Document("d", "abcdefghij"), 4, 2) -> "abcd", "cdef", "efgh", "ghij"
    """
    _check_size(size)
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be in [0, size={size}), got {overlap}")
    text, start = doc.text, 0
    spans: list[Span] = []
    while start < len(text):
        end = _longest_fit(text, start, size, length)
        spans.append((start, end))
        if end == len(text):
            break
        start = _tail_start(text, start, end, overlap, length)
    return _chunks(doc, spans)


def recursive_chunks(
    doc: Document,
    size: int,
    separators: tuple[str, ...] = SEPARATORS,
    *,
    length: Length = len,
) -> list[Chunk]:
    """Split at the coarsest separator that occurs, recurse into pieces still too long, and pack
    neighbouring pieces back together while they fit.

    Why: most text has structure at several scales, and a cut at a paragraph break hurts less
    than one mid-sentence. Each separator stays at the end of the piece before it, so the chunks
    tile the document. "" means "between any two characters" and guarantees every chunk fits.

    Example: recursive_chunks(Document("d", "One. Two.\\n\\nThree."), 10)
    -> "One. Two.\\n\\n" is 11 characters, so: "One. ", "Two.\\n\\n", "Three."
    """
    _check_size(size)
    if not separators:
        raise ValueError("separators must not be empty")
    spans = _recursive(doc.text, 0, len(doc.text), size, separators, length)
    return _chunks(doc, spans)


def sentence_chunks(doc: Document, size: int, *, length: Length = len) -> list[Chunk]:
    """Pack whole sentences, in order, into chunks of at most `size` units.

    Why: a sentence is the smallest unit that usually states one fact, so a chunk of whole
    sentences never hands the model half a claim. A sentence ends at ., ! or ? followed by
    whitespace (not after "e.g.", "et al." and a few other abbreviations) or at a blank line;
    its trailing whitespace belongs to it. A sentence longer than `size` on its own is split
    like `recursive_chunks` would split it (at lines, then words, then characters).

    Example: sentence_chunks(Document("d", "A cat. A dog. A cow."), 14)
    -> "A cat. A dog. ", "A cow."
    """
    _check_size(size)
    text = doc.text
    return _chunks(doc, _pack(text, _sentences(text), size, length, SEPARATORS[1:]))


def markdown_chunks(doc: Document, size: int, *, length: Length = len) -> list[Chunk]:
    """Structure-aware chunks of a Markdown document: one section at a time, labelled.

    Why: a section is a unit an author meant to be read together, and its heading path says
    what it is about even when the chunk's own words do not ("4.4 Summarization > 4.4.2
    Faithfulness"). Chunks never cross an ATX heading (# to ######, outside fenced code); each
    records its heading path in `metadata["section"]` (titles joined by " > ", "" before the
    first heading). A section that fits is one chunk. A longer one is cut into blocks
    (paragraphs, fenced code, tables; blank lines stay with the block before them) that are
    packed while they fit, so a table whose block fits in `size` is never split; a block too long
    on its own is split by `recursive_chunks` rules (a long table at row boundaries).

    Example: markdown_chunks(Document("d", "# A\\n\\nx\\n## B\\n\\ny"), 100)
    -> "# A\\n\\nx\\n" (section "A"), "## B\\n\\ny" (section "A > B")
    """
    _check_size(size)
    text = doc.text
    spans: list[Span] = []
    sections: list[str] = []
    for start, end, section in _sections(text):
        if length(text[start:end]) <= size:
            pieces = [(start, end)]
        else:
            pieces = _pack(text, _blocks(text, start, end), size, length, SEPARATORS)
        spans += pieces
        sections += [section] * len(pieces)
    chunks = _chunks(doc, spans)
    return [
        replace(c, metadata={**c.metadata, "section": s})
        for c, s in zip(chunks, sections, strict=True)
    ]


def parent_child(
    doc: Document, parent_size: int, child_size: int, *, length: Length = len
) -> tuple[list[Chunk], list[Chunk]]:
    """Large parent chunks, each cut into small children that point back at it.

    Why ("small-to-big" retrieval): a small chunk embeds sharply and matches a precise question;
    a large one carries the context the model needs to answer. Index the children, and when one
    is retrieved hand the model its parent (`metadata["parent"]`, the parent's id). Both levels
    are `recursive_chunks`; parents have ids f"{doc.id}#{i}", the children of parent i
    f"{doc.id}#{i}.{j}". The children of one parent tile it, and the parents tile the document.

    Example: parent_child(doc, 2000, 400) -> (parents, children); children[0].metadata["parent"]
    == parents[0].id
    """
    _check_size(child_size)
    if parent_size < child_size:
        raise ValueError(f"parent_size ({parent_size}) must be at least child_size ({child_size})")
    parents = recursive_chunks(doc, parent_size, length=length)
    children: list[Chunk] = []
    for parent in parents:
        spans = _recursive(doc.text, parent.start, parent.end, child_size, SEPARATORS, length)
        for j, (start, end) in enumerate(spans):
            meta: dict[str, MetaValue] = {**doc.metadata, "parent": parent.id}
            children.append(
                Chunk(f"{parent.id}.{j}", doc.id, doc.text[start:end], start, end, meta)
            )
    return parents, children


# ---------------------------------------------------------------- shared machinery


def _check_size(size: int) -> None:
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")


def _chunks(doc: Document, spans: list[Span]) -> list[Chunk]:
    """Spans -> Chunks with ids f"{doc.id}#{i}" and a copy of the document's metadata."""
    return [
        Chunk(f"{doc.id}#{i}", doc.id, doc.text[start:end], start, end, dict(doc.metadata))
        for i, (start, end) in enumerate(spans)
    ]


def _longest_fit(text: str, start: int, size: int, length: Length) -> int:
    """The largest end with length(text[start:end]) <= size (at least start + 1: a single
    character is never split). Gallops, then bisects, so it never measures the whole rest."""
    if length(text[start : start + 1]) > size:
        return start + 1  # an unsplittable character
    good, bad = start + 1, len(text) + 1  # text[start:good] fits; text[start:bad] does not
    reach = size
    while bad > len(text):  # gallop: try start + size, + 2 size, + 4 size, ...
        probe = min(start + reach, len(text))
        reach *= 2
        if probe == good == len(text):
            return good
        if probe <= good:
            continue
        if length(text[start:probe]) > size:
            bad = probe
        elif probe == len(text):
            return probe
        else:
            good = probe
    while bad - good > 1:  # bisect between the last fit and the first miss
        mid = (good + bad) // 2
        if length(text[start:mid]) <= size:
            good = mid
        else:
            bad = mid
    return good


def _tail_start(text: str, start: int, end: int, overlap: int, length: Length) -> int:
    """Where the next fixed chunk starts: the longest tail of text[start:end] within `overlap`
    units, and always after `start` so that chunking moves forward."""
    if overlap == 0:
        return end
    if length is len:
        return end - overlap
    lo, hi = start + 1, end  # the answer is the smallest s in [lo, hi] whose tail fits
    while lo < hi:
        mid = (lo + hi) // 2
        if length(text[mid:end]) <= overlap:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _split_keep(text: str, start: int, end: int, sep: str) -> list[Span]:
    """Cut text[start:end] after every run of `sep` (the separators end their piece)."""
    pieces: list[Span] = []
    at = start
    while (found := text.find(sep, at, end)) != -1:
        stop = found + len(sep)
        while text.startswith(sep, stop, end):  # a run of separators stays together
            stop += len(sep)
        pieces.append((at, stop))
        at = stop
    if at < end:
        pieces.append((at, end))
    return pieces


def _recursive(
    text: str,
    start: int,
    end: int,
    size: int,
    separators: tuple[str, ...],
    length: Length,
) -> list[Span]:
    """The spans `recursive_chunks` makes of text[start:end]."""
    if start == end:
        return []
    if length(text[start:end]) <= size:
        return [(start, end)]
    for i, sep in enumerate(separators):
        if sep == "":
            characters = [(p, p + 1) for p in range(start, end)]
            return _pack(text, characters, size, length, ())
        if text.find(sep, start, end) != -1:
            pieces = _split_keep(text, start, end, sep)
            return _pack(text, pieces, size, length, separators[i + 1 :])
    return [(start, end)]  # no separator left that splits it: unsplittable


def _pack(
    text: str, pieces: list[Span], size: int, length: Length, finer: tuple[str, ...]
) -> list[Span]:
    """Merge consecutive pieces while the merged text fits in `size`; a piece too long on its
    own ends the current chunk and is split with the `finer` separators."""
    out: list[Span] = []
    current: Span | None = None
    for start, end in pieces:
        if length(text[start:end]) > size:
            if current:
                out.append(current)
                current = None
            if finer:
                out += _recursive(text, start, end, size, finer, length)
            else:
                out.append((start, end))
        elif current and length(text[current[0] : end]) <= size:
            current = (current[0], end)
        else:
            if current:
                out.append(current)
            current = (start, end)
    if current:
        out.append(current)
    return out


def _sentences(text: str) -> list[Span]:
    """Sentence spans that tile `text`; each keeps the whitespace after it."""
    spans: list[Span] = []
    at = 0
    for m in _SENTENCE_END.finditer(text):
        if "\n\n" not in m.group() and _ends_in_abbreviation(text, m.start()):
            continue
        spans.append((at, m.end()))
        at = m.end()
    if at < len(text):
        spans.append((at, len(text)))
    return spans


def _ends_in_abbreviation(text: str, dot: int) -> bool:
    """Whether the word that ends with the "." at text[dot] is an abbreviation, like "e.g."."""
    begin = dot
    while begin > 0 and not text[begin - 1].isspace():
        begin -= 1
    return text[begin : dot + 1].lstrip("([\"'").lower() in _ABBREVIATIONS


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int, str]]:
    """(line start, line end including its newline, line text without it) of text[start:end]."""
    at = start
    while at < end:
        newline = text.find("\n", at, end)
        stop = end if newline == -1 else newline + 1
        yield at, stop, text[at:stop].rstrip("\n")
        at = stop


def _sections(text: str) -> list[tuple[int, int, str]]:
    """(start, end, heading path) of each section: from a heading to the next heading."""
    sections: list[tuple[int, int, str]] = []
    path: list[tuple[int, str]] = []  # (level, title) of the enclosing headings
    section_start, fence = 0, ""
    for start, _, line in _lines(text, 0, len(text)):
        if fence_match := _FENCE.match(line):
            mark = fence_match.group(1)
            if not fence:
                fence = mark
            elif mark[0] == fence[0] and len(mark) >= len(fence):
                fence = ""
            continue
        heading = None if fence else _HEADING.fullmatch(line)
        if heading is None:
            continue
        if start > section_start:
            sections.append((section_start, start, _path(path)))
        level = len(heading.group(1))
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, heading.group(2).strip()))
        section_start = start
    if section_start < len(text):
        sections.append((section_start, len(text), _path(path)))
    return sections


def _path(path: list[tuple[int, str]]) -> str:
    return SECTION_SEPARATOR.join(title for _, title in path)


def _blocks(text: str, start: int, end: int) -> list[Span]:
    """A section's blocks: paragraphs, tables (runs of lines starting with "|") and fenced code,
    each with the blank lines after it. The heading line is a block of its own."""
    blocks: list[list[int]] = []  # [start, end] of each block, extended as lines arrive
    kind, fence = "", ""  # kind of the open block: "", "text", "table", "code", "heading"
    for line_start, line_end, line in _lines(text, start, end):
        stripped = line.strip()
        if fence:  # inside fenced code: everything belongs to the code block
            blocks[-1][1] = line_end
            fence_match = _FENCE.match(line)
            if fence_match and fence_match.group(1)[0] == fence[0]:
                fence = ""
            continue
        if not stripped:  # a blank line stays with the block before it
            if blocks:
                blocks[-1][1] = line_end
            else:
                blocks.append([line_start, line_end])
            kind = ""
            continue
        if fence_match := _FENCE.match(line):
            fence, new_kind = fence_match.group(1), "code"
        elif _HEADING.fullmatch(line):
            new_kind = "heading"
        else:
            new_kind = "table" if stripped.startswith("|") else "text"
        if new_kind == kind and kind in ("text", "table"):
            blocks[-1][1] = line_end
        else:
            blocks.append([line_start, line_end])
        kind = new_kind
    return [(a, b) for a, b in blocks]
