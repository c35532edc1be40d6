"""Solution to drill bm25: the library's exact BM25, `llmprep.rag.bm25.BM25`."""

from __future__ import annotations

from llmprep.rag.bm25 import BM25 as BM25
from llmprep.rag.bm25 import Variant as Variant

__all__ = ["BM25", "Variant"]
