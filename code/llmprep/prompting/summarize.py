"""Map-reduce summarization: summarize a document too long for one prompt, chunk by chunk.

    document --split--> chunks --map (in parallel)--> partial summaries
             --reduce (group, combine, repeat until one)--> summary

Each map call sees one chunk, so the document can be any length; the reduce step combines
neighbouring summaries in groups of at least two that fit the same token budget where they
can, repeating until one is left (a tree of depth ~log(n)). A group can exceed the budget:
two summaries that are together over it still form a pair (so every round shrinks the list),
and a lone last summary joins the group before it. Keep `words` well below the chunk budget
so that both stay rare. The map calls are independent, so they run concurrently, up to
`max_concurrency` at once (the limit your rate limit allows).

The trade-off against "stuff everything into one long-context prompt": map-reduce costs more
calls and can lose facts that only matter across chunks (a name in chunk 1, what they did in
chunk 7); one long prompt is simpler but pays for every token at once, and models use facts in the
middle of a long context worst ("lost in the middle", Liu et al., 2024, TACL,
arXiv:2307.03172). The "refine" alternative (carry a running summary through the chunks in
order) keeps more cross-chunk context but cannot run in parallel.

`split_into_chunks` cuts at paragraph breaks, then sentence ends, then anywhere, and loses
nothing: the chunks join back to the exact text.

Leaves out: overlap between chunks, semantic (embedding-based) chunking (see the RAG
chapter), and checking the summary against the source (faithfulness, in the evaluation
chapter).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from llmprep.core.llm import LLM
from llmprep.core.messages import Message, Usage
from llmprep.core.tokens import Tokenizer, default_tokenizer
from llmprep.prompting.templates import PromptTemplate

MAP_PROMPT = PromptTemplate(
    "Summarize this part of a longer document in at most {words} words. "
    "Keep names, numbers and dates.\n\n<part>\n{text}\n</part>"
)
REDUCE_PROMPT = PromptTemplate(
    "These are summaries of consecutive parts of one document. Combine them into one summary "
    "of at most {words} words, in order, without repeating yourself.\n\n{text}"
)

_SEPARATORS = (r"(?<=\n\n)", r"(?<=[.!?] )", r"(?<=\s)")  # paragraphs, sentences, words


def split_into_chunks(
    text: str,
    max_tokens: int,
    tokenizer: Tokenizer | None = None,
) -> list[str]:
    """Pack paragraphs (then sentences, words, characters) into chunks of <= max_tokens.

    (A single character that alone counts more than `max_tokens` still gets its own chunk.)
    Example: "".join(split_into_chunks(text, 200)) == text, and each chunk counts <= 200
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    tok = tokenizer or default_tokenizer()
    chunks: list[str] = []
    for piece in _pieces(text, max_tokens, tok, 0):
        if chunks and tok.count(chunks[-1] + piece) <= max_tokens:
            chunks[-1] += piece
        else:
            chunks.append(piece)
    return chunks


def _pieces(text: str, max_tokens: int, tok: Tokenizer, level: int) -> list[str]:
    """Split `text` at ever finer boundaries until every piece fits."""
    if tok.count(text) <= max_tokens:
        return [text] if text else []
    if level == len(_SEPARATORS):  # no boundary left: cut characters
        out = []
        while tok.count(text) > max_tokens:
            cut = max(1, _longest_fitting_prefix(text, max_tokens, tok))
            out.append(text[:cut])
            text = text[cut:]
        return [*out, text] if text else out
    parts = [p for p in re.split(_SEPARATORS[level], text) if p]
    return [q for p in parts for q in _pieces(p, max_tokens, tok, level + 1)]


def _longest_fitting_prefix(text: str, max_tokens: int, tok: Tokenizer) -> int:
    lo, hi = 0, len(text)  # binary search: tok.count(text[:lo]) <= max_tokens
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if tok.count(text[:mid]) <= max_tokens else (lo, mid - 1)
    return lo


@dataclass(frozen=True, slots=True)
class MapReduceSummary:
    """The summary and everything that led to it: chunks, map outputs, rounds, cost."""

    summary: str
    chunks: tuple[str, ...]
    partials: tuple[str, ...]  # one map summary per chunk
    reduce_rounds: int
    calls: int
    usage: Usage


async def map_reduce_summarize(
    llm: LLM,
    text: str,
    *,
    chunk_tokens: int = 1000,
    words: int = 100,
    max_concurrency: int = 4,
    tokenizer: Tokenizer | None = None,
) -> MapReduceSummary:
    """Summarize each chunk, then combine the summaries in groups until one is left.

    Example: (await map_reduce_summarize(llm, report, chunk_tokens=500)).summary
    """
    tok = tokenizer or default_tokenizer()
    limit = asyncio.Semaphore(max_concurrency)
    usage: list[Usage] = []

    async def summarize(template: PromptTemplate, part: str) -> str:
        async with limit:
            prompt = [Message.user(template.render(words=words, text=part))]
            completion = await llm.complete(prompt)
        usage.append(completion.usage)
        return completion.text.strip()

    chunks = split_into_chunks(text, chunk_tokens, tok)
    partials = await asyncio.gather(*(summarize(MAP_PROMPT, c) for c in chunks))
    level, rounds = list(partials), 0
    while len(level) > 1:
        groups = _groups(level, chunk_tokens, tok)
        level = await asyncio.gather(*(summarize(REDUCE_PROMPT, g) for g in groups))
        rounds += 1
    return MapReduceSummary(
        summary=level[0] if level else "",
        chunks=tuple(chunks),
        partials=tuple(partials),
        reduce_rounds=rounds,
        calls=len(usage),
        usage=sum(usage, Usage()),
    )


def _groups(summaries: Sequence[str], max_tokens: int, tok: Tokenizer) -> list[str]:
    """Join neighbouring summaries into groups that fit `max_tokens` where they can.

    Each group takes at least two, so every round shrinks the list and the loop ends; that is
    why a group can be over budget. A group over `max_tokens` is either a pair, or the last
    group, which took in a lone last summary (its members before that were a pair or fit).
    """
    groups: list[list[str]] = []
    for s in summaries:
        last = groups[-1] if groups else None
        fits = last is not None and tok.count("\n\n".join([*last, s])) <= max_tokens
        if last is not None and (fits or len(last) < 2):
            last.append(s)
        else:
            groups.append([s])
    if len(groups) > 1 and len(groups[-1]) == 1:  # a lone last one joins its neighbour
        lone = groups.pop()  # subtle: pop first; `groups[-2] += groups.pop()` hits the wrong group
        groups[-1] += lone
    return ["\n\n".join(g) for g in groups]
