"""Shared by the adapters: turn an HTTP failure into one of our error types.

Both SDKs expose the status code and response headers of a failed call; this module holds
the provider-independent part of the translation, so OpenAI and Anthropic errors map the
same way.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from llmprep.core.errors import (
    AuthenticationError,
    BadRequestError,
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    ServerError,
)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """How long the server asked us to wait, in seconds, or None if it did not say.

    Reads `retry-after-ms` (OpenAI sends it), then `retry-after`, which HTTP allows to be
    either seconds ("7") or a date ("Wed, 21 Oct 2026 07:28:00 GMT"). A value that is not a
    finite number ("inf", "nan") is ignored: a retry loop must never be told to wait forever.

    Example: retry_after_seconds({"retry-after": "7"}) == 7.0
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    if (ms := _finite(lowered.get("retry-after-ms"))) is not None:
        return max(0.0, ms / 1000)
    value = lowered.get("retry-after")
    if value is None:
        return None
    if (seconds := _finite(value)) is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _finite(text: str | None) -> float | None:
    """`text` as a finite float, or None if it is missing or not one."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def error_from_status(status: int, message: str, headers: Mapping[str, str]) -> LLMError:
    """Map an HTTP status (and its headers) to our error hierarchy.

    408 (Request Timeout) is the server saying it gave up waiting: a timeout, so retryable,
    as both SDKs treat it, not a request to fix.
    """
    text = f"{status}: {message}"
    if status == 408:
        return LLMTimeoutError(text)
    if status == 429:
        return RateLimitError(text, retry_after=retry_after_seconds(headers))
    if status >= 500:
        return ServerError(text, status=status)
    if status in (401, 403):
        return AuthenticationError(text, status=status)
    return BadRequestError(text, status=status)
