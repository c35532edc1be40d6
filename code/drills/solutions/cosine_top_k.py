"""Solution to drill cosine-top-k: exact search, `llmprep.rag.similarity.top_k`."""

from __future__ import annotations

from llmprep.rag.similarity import Metric as Metric
from llmprep.rag.similarity import top_k as top_k

__all__ = ["Metric", "top_k"]
