"""Our own error types: one vocabulary of failures, whichever provider you call.

Each SDK raises its own exceptions (`openai.RateLimitError`, `anthropic.RateLimitError`, ...).
Code that retries, falls back or opens a circuit breaker should not care which SDK it talks to,
so the adapters translate every SDK error into one of these (`raise ... from exc`, so the
original stays attached as `__cause__`), and the scripted model raises them on a schedule.

The one question production code asks of an error is "is it worth trying again?", so every
class carries `retryable`:

    LLMError                      retryable?
    ├── RateLimitError (429)      yes, after `retry_after` seconds if the provider said
    ├── ServerError (5xx)         yes
    ├── LLMTimeoutError (408)     yes (also a builtin `TimeoutError`)
    ├── LLMConnectionError        yes (the request never got an answer)
    ├── AuthenticationError       no: fix the key
    ├── BadRequestError (4xx)     no: fix the request
    ├── ToolArgumentsError        no: the model wrote arguments we cannot use
    └── ScriptExhaustedError      no: the scripted model ran out of replies (a test bug)

Leaves out: provider-specific detail such as request ids and error codes (read them from
`err.__cause__` when you need them), and content-policy errors, which arrive as 400s.
"""

from __future__ import annotations

from typing import ClassVar


class LLMError(Exception):
    """Base class for every failure of an LLM call, whatever the provider."""

    retryable: ClassVar[bool] = False


class RateLimitError(LLMError):
    """HTTP 429: too many requests or tokens for your quota right now.

    `retry_after` is how long the provider asked you to wait, in seconds, or None if it did
    not say (then back off exponentially on your own).
    """

    retryable: ClassVar[bool] = True

    def __init__(self, message: str = "rate limited", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = 429
        self.retry_after = retry_after


class ServerError(LLMError):
    """HTTP 5xx: the provider failed (500), is unavailable (503) or overloaded (529)."""

    retryable: ClassVar[bool] = True

    def __init__(self, message: str = "server error", *, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


class LLMTimeoutError(LLMError, TimeoutError):
    """No complete answer in time. Also a builtin `TimeoutError`, so generic code catches it."""

    retryable: ClassVar[bool] = True


class LLMConnectionError(LLMError):
    """The request never got an HTTP answer (DNS, refused connection, dropped socket)."""

    retryable: ClassVar[bool] = True


class AuthenticationError(LLMError):
    """HTTP 401/403: a missing, wrong or under-privileged API key. Retrying will not help."""

    def __init__(self, message: str = "authentication failed", *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


class BadRequestError(LLMError):
    """Any other HTTP 4xx: the request itself is wrong (bad schema, unknown model, too long)."""

    def __init__(self, message: str = "bad request", *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ToolArgumentsError(LLMError, ValueError):
    """The model called a tool with arguments we cannot use.

    Models write tool arguments as JSON text, and sometimes that text is not valid JSON, or is
    valid JSON but not an object (`[1, 2]`, `"oops"`). Keeping the raw text and the tool name
    lets an agent show the model its mistake and ask again.
    """

    def __init__(self, tool_name: str, raw: str, reason: str) -> None:
        super().__init__(f"tool {tool_name!r} got unusable arguments ({reason}): {raw!r}")
        self.tool_name = tool_name
        self.raw = raw
        self.reason = reason


class ScriptExhaustedError(LLMError):
    """A `ScriptedLLM` was called more often than its script has replies."""

    def __init__(self, call_number: int, script_length: int) -> None:
        super().__init__(
            f"ScriptedLLM call {call_number} needs reply {script_length + 1}, but the script "
            f"has only {script_length} {'reply' if script_length == 1 else 'replies'}; "
            "add replies or use a rule function"
        )
        self.call_number = call_number
        self.script_length = script_length
