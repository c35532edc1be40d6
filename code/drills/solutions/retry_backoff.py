"""Solution to drill retry-backoff: `llmprep.production.retry` (and its clock seam)."""

from __future__ import annotations

from llmprep.production.clock import Clock as Clock
from llmprep.production.retry import Jitter as Jitter
from llmprep.production.retry import RetryError as RetryError
from llmprep.production.retry import RetryEvent as RetryEvent
from llmprep.production.retry import RetryPolicy as RetryPolicy
from llmprep.production.retry import backoff_delay as backoff_delay
from llmprep.production.retry import is_retryable as is_retryable
from llmprep.production.retry import retry as retry

__all__ = [
    "Clock",
    "Jitter",
    "RetryError",
    "RetryEvent",
    "RetryPolicy",
    "backoff_delay",
    "is_retryable",
    "retry",
]
