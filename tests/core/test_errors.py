"""The error hierarchy, and how HTTP failures map onto it (shared by both adapters)."""

from __future__ import annotations

import pytest

from llmprep.core.errors import (
    AuthenticationError,
    BadRequestError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    ScriptExhaustedError,
    ServerError,
    ToolArgumentsError,
)
from llmprep.core.providers._http import error_from_status, retry_after_seconds


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (RateLimitError(), True),
        (ServerError(), True),
        (LLMTimeoutError(), True),
        (LLMConnectionError(), True),
        (AuthenticationError(), False),
        (BadRequestError(), False),
        (ToolArgumentsError("f", "[", "invalid JSON"), False),
        (ScriptExhaustedError(3, 2), False),
    ],
)
def test_every_error_is_an_llm_error_that_says_whether_to_retry(
    error: LLMError, retryable: bool
) -> None:
    assert isinstance(error, LLMError)
    assert error.retryable is retryable


def test_timeout_is_also_a_builtin_timeout() -> None:
    with pytest.raises(TimeoutError):
        raise LLMTimeoutError("slow")


def test_script_exhausted_names_the_call_and_the_script_length() -> None:
    error = ScriptExhaustedError(call_number=4, script_length=3)
    assert "call 4" in str(error)
    assert "only 3 replies" in str(error)
    assert (error.call_number, error.script_length) == (4, 3)
    assert "only 1 reply;" in str(ScriptExhaustedError(2, 1))


# -----------------------------------------------------------------------------
# retry-after


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"Retry-After": "0.5"}, 0.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "-3"}, 0.0),
        ({}, None),
        ({"retry-after": "soon"}, None),
        # not a finite number: never "wait forever", and fall back to the other header
        ({"retry-after": "inf"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after-ms": "nan", "retry-after": "4"}, 4.0),
    ],
)
def test_retry_after_reads_seconds_and_milliseconds(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert retry_after_seconds(headers) == seconds


def test_retry_after_reads_an_http_date() -> None:
    now = 1_790_000_000.0  # 2026-09-21T14:13:20Z
    headers = {"retry-after": "Mon, 21 Sep 2026 14:13:50 GMT"}
    assert retry_after_seconds(headers, now=now) == pytest.approx(30.0)


# -----------------------------------------------------------------------------
# status codes


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (404, BadRequestError),
        (413, BadRequestError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (529, ServerError),
    ],
)
def test_status_codes_map_to_our_errors(status: int, kind: type[LLMError]) -> None:
    error = error_from_status(status, "boom", {"retry-after": "2"})
    assert type(error) is kind
    assert str(status) in str(error)
    assert getattr(error, "status", None) == status


def test_request_timeout_408_is_a_retryable_timeout() -> None:
    error = error_from_status(408, "request timed out", {})
    assert type(error) is LLMTimeoutError
    assert error.retryable
    assert "408" in str(error)


def test_rate_limit_carries_retry_after() -> None:
    error = error_from_status(429, "slow down", {"retry-after": "2"})
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 2.0
