"""Retry: backoff stays inside its jitter bounds, waits honour Retry-After, the deadline is
never slept past, and only retryable errors are retried."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.errors import (
    AuthenticationError,
    BadRequestError,
    LLMConnectionError,
    LLMTimeoutError,
    RateLimitError,
    ServerError,
)
from llmprep.core.llm import StreamEvent, TextDelta, collect
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    Message,
    ToolSpec,
)
from llmprep.core.scripted import Fault, ScriptedLLM
from llmprep.production.clock import ManualClock
from llmprep.production.retry import (
    RetryError,
    RetryEvent,
    RetryingLLM,
    RetryPolicy,
    backoff_cap,
    backoff_delay,
    is_retryable,
    retry,
)

HI = [Message.user("hi")]

policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 12),
    base_delay=st.floats(0, 5),
    max_delay=st.floats(0, 60),
    deadline=st.none() | st.floats(0.1, 120),
    jitter=st.sampled_from(["full", "equal", "none"]),
    honor_retry_after=st.booleans(),
)


@given(policy=policies, attempt=st.integers(1, 2000), seed=st.integers(0, 2**32))
def test_backoff_stays_within_its_jitter_bounds(
    policy: RetryPolicy, attempt: int, seed: int
) -> None:
    delay = backoff_delay(policy, attempt, random.Random(seed))
    cap = min(policy.max_delay, policy.base_delay * 2.0 ** min(attempt - 1, 1023))
    assert backoff_cap(policy, attempt) == cap
    assert 0.0 <= delay <= cap
    if policy.jitter == "equal":
        assert delay >= cap / 2
    if policy.jitter == "none":
        assert delay == cap


def test_no_jitter_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter="none")
    rng = random.Random(0)
    assert [backoff_delay(policy, n, rng) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_full_jitter_spreads_waits_over_the_whole_interval() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=100.0)
    rng = random.Random(1)
    draws = [backoff_delay(policy, 4, rng) for _ in range(2000)]  # cap 8 s
    assert min(draws) < 0.5
    assert max(draws) > 7.5
    assert sum(draws) / len(draws) == pytest.approx(4.0, rel=0.1)


@given(
    policy=policies,
    attempt_time=st.floats(0, 10),
    retry_after=st.none() | st.floats(0, 40),
    seed=st.integers(0, 1000),
)
def test_retry_never_sleeps_past_its_deadline(
    policy: RetryPolicy, attempt_time: float, retry_after: float | None, seed: int
) -> None:
    clock = ManualClock()
    starts: list[float] = []

    async def always_rate_limited() -> str:
        starts.append(clock.now())
        clock.advance(attempt_time)  # the failed call itself takes time
        raise RateLimitError(retry_after=retry_after)

    with pytest.raises(RetryError) as info:
        asyncio.run(retry(always_rate_limited, policy=policy, clock=clock, rng=random.Random(seed)))
    assert info.value.attempts == len(starts) <= policy.max_attempts
    assert isinstance(info.value.last, RateLimitError)
    assert info.value.__cause__ is info.value.last
    if policy.deadline is not None:
        assert all(start <= policy.deadline + 1e-9 for start in starts)
    if policy.honor_retry_after and retry_after is not None:
        assert all(s >= retry_after for s in clock.sleeps)


def _failing_then(errors: list[Exception], answer: str) -> Callable[[], asyncio.Future[str]]:
    calls = iter(errors)

    def fn() -> asyncio.Future[str]:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        error = next(calls, None)
        if error is None:
            future.set_result(answer)
        else:
            future.set_exception(error)
        return future

    return fn


def test_transient_errors_are_retried_and_reported() -> None:
    clock = ManualClock()
    events: list[RetryEvent] = []
    errors: list[Exception] = [ServerError(status=503), LLMConnectionError("reset")]
    policy = RetryPolicy(base_delay=1.0, jitter="none")

    async def main() -> str:
        fn = _failing_then(errors, "ok")
        return await retry(fn, policy=policy, clock=clock, on_retry=events.append)

    assert asyncio.run(main()) == "ok"
    assert clock.sleeps == [1.0, 2.0]
    assert [(e.attempt, e.delay) for e in events] == [(1, 1.0), (2, 2.0)]
    assert events[0].error is errors[0]


@pytest.mark.parametrize(
    "error", [BadRequestError("bad schema"), AuthenticationError(), KeyError("bug")]
)
def test_non_retryable_errors_propagate_unchanged_at_once(error: Exception) -> None:
    clock = ManualClock()
    calls: list[int] = []

    async def fn() -> str:
        calls.append(1)
        raise error

    with pytest.raises(type(error)) as info:
        asyncio.run(retry(fn, clock=clock))
    assert info.value is error
    assert calls == [1]
    assert clock.sleeps == []


def test_cancellation_is_never_retried() -> None:
    calls: list[int] = []

    async def fn() -> str:
        calls.append(1)
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(retry(fn, clock=ManualClock()))
    assert calls == [1]


def test_retry_after_raises_the_wait_unless_ignored() -> None:
    for honour, expected in ((True, [7.0]), (False, [0.5])):
        clock = ManualClock()
        llm = ScriptedLLM(["ok"], faults=[Fault.rate_limit(1, retry_after=7.0)])
        policy = RetryPolicy(jitter="none", honor_retry_after=honour)
        wrapped = RetryingLLM(llm, policy, clock=clock)
        assert asyncio.run(wrapped.complete(HI)).text == "ok"
        assert clock.sleeps == expected
        assert len(llm.calls) == 2


def test_a_retry_after_beyond_the_deadline_gives_up_without_waiting() -> None:
    clock = ManualClock()
    llm = ScriptedLLM(["ok"], faults=[Fault.rate_limit(1, retry_after=60.0)])
    wrapped = RetryingLLM(llm, RetryPolicy(deadline=30.0), clock=clock)
    with pytest.raises(RetryError, match="deadline"):
        asyncio.run(wrapped.complete(HI))
    assert clock.sleeps == []


def test_retrying_llm_gives_up_after_max_attempts() -> None:
    clock = ManualClock()
    llm = ScriptedLLM(["ok"], faults=[Fault.timeout(n) for n in range(1, 4)])
    wrapped = RetryingLLM(llm, RetryPolicy(max_attempts=3), clock=clock, rng=random.Random(0))
    with pytest.raises(RetryError, match="3 attempt") as info:
        asyncio.run(wrapped.complete(HI))
    assert isinstance(info.value.last, LLMTimeoutError)
    assert len(wrapped.events) == 2
    assert len(llm.calls) == 3
    assert not is_retryable(info.value)  # an outer retry must not multiply the load


def test_a_stream_is_retried_before_its_first_event() -> None:
    clock = ManualClock()
    text = "A long streamed answer."
    llm = ScriptedLLM([text, text], faults=[Fault.server_error(1)], chunk_size=4)
    wrapped = RetryingLLM(llm, clock=clock, rng=random.Random(0))

    async def main() -> tuple[str, str]:
        streamed = await collect(wrapped.stream(HI))
        completed = await llm.complete(HI)
        return streamed.text, completed.text

    assert asyncio.run(main()) == (text, text)
    assert [c.fault for c in llm.calls] == ["server_error", None, None]


class FailsMidStream:
    """Streams one piece of text, then fails: the user has already seen something."""

    def __init__(self) -> None:
        self.calls = 0

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        raise NotImplementedError

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        self.calls += 1
        yield TextDelta("The answer is ")
        raise ServerError(status=503)


def test_a_stream_is_not_retried_after_its_first_event() -> None:
    llm = FailsMidStream()
    wrapped = RetryingLLM(llm, clock=ManualClock(), rng=random.Random(0))
    seen: list[StreamEvent] = []

    async def main() -> None:
        async for event in wrapped.stream(HI):
            seen.append(event)

    with pytest.raises(ServerError):
        asyncio.run(main())
    assert seen == [TextDelta("The answer is ")]  # shown once, not repeated by a retry
    assert llm.calls == 1
    assert wrapped.events == []


def test_is_retryable_follows_the_error_vocabulary() -> None:
    assert is_retryable(RateLimitError())
    assert is_retryable(ServerError())
    assert is_retryable(LLMTimeoutError())
    assert is_retryable(LLMConnectionError())
    assert is_retryable(TimeoutError())
    assert is_retryable(ConnectionResetError())
    assert not is_retryable(BadRequestError())
    assert not is_retryable(ValueError())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"base_delay": -1.0}, "base_delay"),
        ({"max_delay": float("nan")}, "max_delay"),
        ({"deadline": 0.0}, "deadline"),
        ({"jitter": "fuzzy"}, "fuzzy"),
    ],
)
def test_bad_policies_name_the_bad_value(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_attempt_numbers_start_at_one() -> None:
    with pytest.raises(ValueError, match="got 0"):
        backoff_delay(RetryPolicy(), 0, random.Random(0))
