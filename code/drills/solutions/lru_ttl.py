"""Solution to drill lru-ttl: `llmprep.rag.cache.LRUCache`, with its `ttl` and clock."""

from __future__ import annotations

from llmprep.rag.cache import LRUCache as LRUCache

__all__ = ["LRUCache"]
