"""Solution to drill token-bucket: `llmprep.production.limiter.TokenBucket`."""

from __future__ import annotations

from llmprep.production.clock import Clock as Clock
from llmprep.production.limiter import TokenBucket as TokenBucket

__all__ = ["Clock", "TokenBucket"]
