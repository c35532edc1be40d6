"""The book's own tools: search its text, look up a glossary term, estimate a call's cost.

One implementation, two ways in: `book_tools()` gives them as `@tool`s for our agent loop
(in process, no subprocess), and `mcp_server` serves the same search index and glossary
over MCP to any host. Search is BM25 (`llmprep.rag.bm25`) over the RAG corpus of the book
(`chapters/_data/rag/corpus/*.md`), chunked by Markdown section, so every hit carries a
chunk id ("prompt-techniques#3") the answer can cite.

Both indexes load on first use, not at import, so starting a server or building a registry
is instant and a tool that is never called costs nothing.

Leaves out: dense or hybrid retrieval (the RAG chapters compare them), and refreshing the
index when the corpus changes (build a new `BookIndex`).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmprep.agents.registry import ToolRegistry
from llmprep.agents.tools import make_tool
from llmprep.book.bank import Term, load_glossary
from llmprep.core.pricing import price_of
from llmprep.rag.bm25 import BM25
from llmprep.rag.chunking import markdown_chunks
from llmprep.rag.dataset import load_corpus
from llmprep.rag.documents import Chunk

BOOK_DATA = Path(__file__).resolve().parents[3] / "chapters" / "_data"
GLOSSARY = BOOK_DATA / "glossary.yml"
CHUNK_CHARS = 1200
HIT_CHARS = 700


@dataclass(slots=True)
class BookIndex:
    """The book's corpus, chunked and BM25-indexed once, on the first search."""

    corpus: Path | None = None
    chunk_chars: int = CHUNK_CHARS
    _chunks: list[Chunk] = field(default_factory=list)
    _bm25: BM25 | None = None

    def search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """The `k` best chunks with their scores, best first (only chunks sharing a term)."""
        if self._bm25 is None:
            for doc in load_corpus(self.corpus):
                self._chunks += markdown_chunks(doc, self.chunk_chars)
            self._bm25 = BM25().fit([c.text for c in self._chunks])
        return [(self._chunks[i], score) for i, score in self._bm25.search(query, k)]


@dataclass(slots=True)
class Glossary:
    """Glossary terms by casefolded name and alias (loaded on first lookup)."""

    path: Path = GLOSSARY
    _terms: dict[str, Term] | None = None

    @property
    def terms(self) -> dict[str, Term]:
        if self._terms is None:
            self._terms = {
                name.casefold(): term
                for term in load_glossary(self.path)
                for name in (term.term, *term.aliases)
            }
        return self._terms

    def lookup(self, name: str) -> Term | None:
        return self.terms.get(name.strip().casefold())

    def close(self, name: str, n: int = 3) -> list[str]:
        """Terms spelled like `name`, for a "did you mean" hint."""
        matches = difflib.get_close_matches(name.casefold(), list(self.terms), n=n, cutoff=0.6)
        return sorted({self.terms[m].term for m in matches})

    def describe(self, name: str) -> str:
        """The entry as text, or raise `LookupError` with close matches suggested."""
        found = self.lookup(name)
        if found is None:
            close = self.close(name)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise LookupError(f"{name!r} is not in the glossary.{hint}")
        aliases = f" (also: {', '.join(found.aliases)})" if found.aliases else ""
        return f"{found.term}{aliases} [{found.area}; see {found.see}]\n{found.definition}"


def format_hits(hits: Sequence[tuple[Chunk, float]]) -> str:
    """Search hits as text a model can cite: `[chunk-id] section path (score)` + passage."""
    blocks = []
    for chunk, score in hits:
        # the section path starts with the document's title, so it alone says where
        where = chunk.metadata.get("section") or chunk.metadata.get("title", "")
        text = chunk.text.strip()
        if len(text) > HIT_CHARS:
            text = text[:HIT_CHARS].rsplit(" ", 1)[0] + " ..."
        blocks.append(f"[{chunk.id}] {where} (score {score:.2f})\n{text}")
    return "\n\n".join(blocks)


def book_tools(index: BookIndex | None = None, glossary: Glossary | None = None) -> ToolRegistry:
    """`search_book`, `lookup_term` and `estimate_cost` as `@tool`s in a registry.

    Example: await book_tools().call(ToolCall("c1", "lookup_term", {"term": "RAG"}))
    """
    index = index or BookIndex()
    terms = glossary or Glossary()

    def search_book(query: str, k: int = 3) -> str:
        """Search the text of the LLM Interview Prep book (BM25) and return the best passages.

        Args:
            query: Words to search for; exact terms matter.
            k: How many passages to return (1 to 10).
        """
        if not query.strip():
            raise ValueError("query is empty: say what to search for")
        if not 1 <= k <= 10:
            raise ValueError(f"k must be between 1 and 10, got {k}")
        hits = index.search(query, k)
        return format_hits(hits) if hits else f"No passage of the book matches {query!r}."

    def lookup_term(term: str) -> str:
        """Look up a term in the book's glossary, by name or alias, in any case.

        Args:
            term: The term, e.g. "KV cache" or "RAG".
        """
        return terms.describe(term)

    def estimate_cost(model: str, input_tokens: int, output_tokens: int) -> dict[str, Any]:
        """Estimate the exact USD cost of one model call from the book's dated price table.

        Args:
            model: A model id from the price table, e.g. "gpt-5-mini".
            input_tokens: Tokens in the prompt.
            output_tokens: Tokens in the reply.
        """
        price = price_of(model)
        return {
            "model": model,
            "usd": str(price.cost(input_tokens, output_tokens)),
            "price_as_of": price.as_of.isoformat(),
        }

    return ToolRegistry(make_tool(f) for f in (search_book, lookup_term, estimate_cost))
