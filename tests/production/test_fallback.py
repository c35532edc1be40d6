"""Fallback: transient failures move to the next route, request errors do not, an open
breaker makes the fallback fast, and a stream falls back only before its first event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from llmprep.core.errors import BadRequestError, LLMTimeoutError, ServerError
from llmprep.core.llm import StreamEvent, TextDelta, collect
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    Message,
    ToolSpec,
)
from llmprep.core.scripted import Fault, ScriptedLLM
from llmprep.production.breaker import BreakerLLM, CircuitBreaker
from llmprep.production.clock import ManualClock
from llmprep.production.fallback import AllProvidersFailed, FallbackLLM, Route, falls_back
from llmprep.production.retry import RetryError, RetryingLLM, RetryPolicy

HI = [Message.user("hi")]


def always(answer: str) -> ScriptedLLM:
    return ScriptedLLM(lambda messages: answer)


def test_a_transient_failure_is_answered_by_the_backup() -> None:
    primary = ScriptedLLM(lambda m: "primary", faults=[Fault.server_error(1)])
    llm = FallbackLLM([Route("primary", primary), Route("backup", always("backup"))])
    first = asyncio.run(llm.complete(HI))
    second = asyncio.run(llm.complete(HI))
    assert (first.text, second.text) == ("backup", "primary")
    assert llm.served == {"primary": 1, "backup": 1}
    assert llm.failed == {"primary": 1}


def test_a_request_error_is_raised_without_trying_the_backup() -> None:
    class Rejecting(ScriptedLLM):
        async def complete(
            self,
            messages: Sequence[Message],
            *,
            settings: GenerationSettings = DEFAULT_SETTINGS,
            tools: Sequence[ToolSpec] = (),
        ) -> Completion:
            raise BadRequestError("prompt too long")

    backup = always("backup")
    llm = FallbackLLM([Route("primary", Rejecting(["x"])), Route("backup", backup)])
    with pytest.raises(BadRequestError, match="too long"):
        asyncio.run(llm.complete(HI))
    assert backup.calls == []


def test_when_every_route_fails_all_errors_are_reported_in_order() -> None:
    a = ScriptedLLM(["a"], faults=[Fault.timeout(1)])
    b = ScriptedLLM(["b"], faults=[Fault.server_error(1, status=529)])
    llm = FallbackLLM([Route("a", a), Route("b", b)])
    with pytest.raises(AllProvidersFailed, match="all 2 routes failed") as info:
        asyncio.run(llm.complete(HI))
    names = [(name, type(error)) for name, error in info.value.errors]
    assert names == [("a", LLMTimeoutError), ("b", ServerError)]
    assert info.value.__cause__ is info.value.errors[-1][1]
    assert not falls_back(info.value)


def test_an_open_breaker_skips_the_primary_without_calling_it() -> None:
    clock = ManualClock()
    primary = ScriptedLLM(lambda m: "primary", faults=[Fault.server_error(n) for n in range(1, 9)])
    breaker = CircuitBreaker(failure_threshold=2, recovery_time=60, clock=clock)
    llm = FallbackLLM(
        [Route("primary", BreakerLLM(primary, breaker)), Route("backup", always("backup"))]
    )
    answers = [asyncio.run(llm.complete(HI)).text for _ in range(6)]
    assert answers == ["backup"] * 6
    assert len(primary.calls) == 2  # after two failures the breaker stopped calling it
    assert breaker.rejected == 4


def test_exhausted_retries_fall_back() -> None:
    clock = ManualClock()
    primary = ScriptedLLM(["p"], faults=[Fault.rate_limit(n, retry_after=1) for n in (1, 2)])
    retrying = RetryingLLM(primary, RetryPolicy(max_attempts=2), clock=clock)
    llm = FallbackLLM([Route("primary", retrying), Route("backup", always("backup"))])
    assert asyncio.run(llm.complete(HI)).text == "backup"
    assert falls_back(RetryError(2, ServerError(), "out of attempts"))


class BreaksMidStream(ScriptedLLM):
    """Streams one chunk, then fails: the user has already seen text."""

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        yield TextDelta("Half an ans")
        raise ServerError("connection reset mid-stream")


def test_a_stream_falls_back_only_before_its_first_event() -> None:
    primary = ScriptedLLM(["primary"], faults=[Fault.server_error(1)])
    llm = FallbackLLM([Route("primary", primary), Route("backup", always("backup answer"))])
    assert asyncio.run(collect(llm.stream(HI))).text == "backup answer"

    broken = FallbackLLM([Route("broken", BreaksMidStream(["x"])), Route("backup", always("b"))])
    with pytest.raises(ServerError, match="mid-stream"):
        asyncio.run(collect(broken.stream(HI)))
    assert broken.served == {"broken": 1}


def test_all_streams_failing_raises_all_providers_failed() -> None:
    a = ScriptedLLM(["a"], faults=[Fault.timeout(1)])
    llm = FallbackLLM([Route("a", a)])
    with pytest.raises(AllProvidersFailed):
        asyncio.run(collect(llm.stream(HI)))


def test_routes_must_exist_and_have_unique_names() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FallbackLLM([])
    with pytest.raises(ValueError, match=r"\['x', 'x'\]"):
        FallbackLLM([Route("x", always("1")), Route("x", always("2"))])
