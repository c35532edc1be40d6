"""Solution to drill sse-parser: the SSE decoder of `llmprep.production.streaming`."""

from __future__ import annotations

from llmprep.production.streaming import SSEDecoder as SSEDecoder
from llmprep.production.streaming import SSEEvent as SSEEvent

__all__ = ["SSEDecoder", "SSEEvent"]
