"""Grader for drill retry-backoff: a flaky function and a manual clock (no real sleeps) check
which errors are retried, how long each wait is, Retry-After, the deadline and giving up."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from typing import Any

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
from llmprep.production.clock import ManualClock
from tests.drills.target import load

m = load("retry-backoff")

NO_JITTER = {"jitter": "none", "base_delay": 0.5, "max_delay": 20.0, "deadline": None}


class Flaky:
    """Fails with each error of `errors` in turn, then returns "ok". Each call may take
    `cost` seconds of the clock's time (as a real request would)."""

    def __init__(self, clock: ManualClock, errors: Sequence[BaseException], cost: float = 0.0):
        self.clock, self.errors, self.cost = clock, list(errors), cost
        self.calls: list[float] = []  # the time of each call

    async def __call__(self) -> str:
        self.calls.append(self.clock.now())
        self.clock.advance(self.cost)
        if len(self.calls) <= len(self.errors):
            raise self.errors[len(self.calls) - 1]
        return "ok"


def run(errors: Sequence[BaseException], **policy: Any) -> tuple[str, Flaky, ManualClock]:
    clock = ManualClock()
    fn = Flaky(clock, errors)
    result = asyncio.run(
        m.retry(fn, clock=clock, policy=m.RetryPolicy(**policy), rng=random.Random(0))
    )
    return result, fn, clock


def test_success_needs_no_retry() -> None:
    result, fn, clock = run([])
    assert result == "ok"
    assert len(fn.calls) == 1
    assert clock.sleeps == []


def test_transient_errors_are_retried_with_exponential_waits() -> None:
    errors = [ServerError(status=503), LLMTimeoutError(), LLMConnectionError()]
    result, fn, clock = run(errors, **NO_JITTER)
    assert result == "ok"
    assert len(fn.calls) == 4
    assert clock.sleeps == [0.5, 1.0, 2.0]


def test_the_wait_is_capped_at_max_delay() -> None:
    policy = {**NO_JITTER, "max_delay": 1.5, "max_attempts": 6}
    _, _, clock = run([ServerError()] * 5, **policy)
    assert clock.sleeps == [0.5, 1.0, 1.5, 1.5, 1.5]


def test_out_of_attempts_raises_retry_error_from_the_last_error() -> None:
    clock = ManualClock()
    errors = [ServerError("first"), ServerError("second"), ServerError("third")]
    fn = Flaky(clock, errors)
    with pytest.raises(m.RetryError) as info:
        asyncio.run(m.retry(fn, clock=clock, policy=m.RetryPolicy(max_attempts=3, **NO_JITTER)))
    assert info.value.attempts == 3
    assert info.value.last is errors[2]
    assert info.value.__cause__ is errors[2]
    assert len(fn.calls) == 3
    assert clock.sleeps == [0.5, 1.0], "no sleep after the last attempt"


def test_one_attempt_means_no_retry() -> None:
    clock = ManualClock()
    fn = Flaky(clock, [RateLimitError(retry_after=1.0)])
    with pytest.raises(m.RetryError):
        asyncio.run(m.retry(fn, clock=clock, policy=m.RetryPolicy(max_attempts=1)))
    assert len(fn.calls) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "error",
    [BadRequestError(), AuthenticationError(), ValueError("a bug in our code"), KeyError("x")],
    ids=lambda e: type(e).__name__,
)
def test_permanent_errors_propagate_at_once_unchanged(error: BaseException) -> None:
    clock = ManualClock()
    fn = Flaky(clock, [error])
    with pytest.raises(type(error)) as info:
        asyncio.run(m.retry(fn, clock=clock, policy=m.RetryPolicy()))
    assert info.value is error
    assert len(fn.calls) == 1
    assert clock.sleeps == []


def test_cancellation_is_never_retried() -> None:
    clock = ManualClock()
    fn = Flaky(clock, [asyncio.CancelledError()])
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(m.retry(fn, clock=clock, policy=m.RetryPolicy()))
    assert len(fn.calls) == 1


def test_is_retryable() -> None:
    transient: list[BaseException] = [RateLimitError(), ServerError(status=529)]
    transient += [LLMTimeoutError()]
    transient += [LLMConnectionError(), TimeoutError(), ConnectionResetError()]
    permanent = [BadRequestError(), AuthenticationError(status=403), ValueError(), KeyError()]
    assert [m.is_retryable(e) for e in transient] == [True] * len(transient)
    assert [m.is_retryable(e) for e in permanent] == [False] * len(permanent)


def test_retry_after_raises_the_wait() -> None:
    errors = [RateLimitError(retry_after=7.0), RateLimitError(retry_after=0.1)]
    _, _, clock = run(errors, **NO_JITTER)
    assert clock.sleeps == [7.0, 1.0]  # max(backoff, retry_after) each time


def test_retry_after_can_be_ignored() -> None:
    _, _, clock = run([RateLimitError(retry_after=7.0)], **NO_JITTER, honor_retry_after=False)
    assert clock.sleeps == [0.5]


def test_the_deadline_stops_retries_instead_of_sleeping_past_it() -> None:
    clock = ManualClock()
    fn = Flaky(clock, [ServerError()] * 10, cost=0.25)
    policy = m.RetryPolicy(max_attempts=10, jitter="none", base_delay=1.0, deadline=5.0)
    with pytest.raises(m.RetryError) as info:
        asyncio.run(m.retry(fn, clock=clock, policy=policy))
    # calls at 0, 1.25 (after a 1 s wait), 3.5 (after 2 s); the next wait (4 s) would end
    # at 7.75, past the deadline of 5 s, so it gives up at 3.75 without sleeping.
    assert fn.calls == [0.0, 1.25, 3.5]
    assert clock.sleeps == [1.0, 2.0]
    assert info.value.attempts == 3


def test_a_custom_retry_if_and_the_on_retry_hook() -> None:
    clock = ManualClock()
    fn = Flaky(clock, [KeyError("a"), KeyError("b")])
    events: list[object] = []
    result = asyncio.run(
        m.retry(
            fn,
            clock=clock,
            policy=m.RetryPolicy(**NO_JITTER),
            retry_if=lambda e: isinstance(e, KeyError),
            on_retry=events.append,
        )
    )
    assert result == "ok"
    assert [(e.attempt, e.delay) for e in events] == [(1, 0.5), (2, 1.0)]  # type: ignore[attr-defined]
    assert [e.error for e in events] == fn.errors  # type: ignore[attr-defined]


def test_backoff_delay_draws_from_the_rng_as_specified() -> None:
    policy = m.RetryPolicy(base_delay=0.5, max_delay=20.0, jitter="full")
    equal = m.RetryPolicy(base_delay=0.5, max_delay=20.0, jitter="equal")
    for attempt, cap in [(1, 0.5), (2, 1.0), (4, 4.0), (10, 20.0)]:
        expected = random.Random(attempt).uniform(0, cap)
        assert m.backoff_delay(policy, attempt, random.Random(attempt)) == expected
        half = cap / 2 + random.Random(attempt).uniform(0, cap / 2)
        assert m.backoff_delay(equal, attempt, random.Random(attempt)) == half


def test_full_jitter_spreads_the_waits_over_the_whole_interval() -> None:
    policy = m.RetryPolicy(base_delay=1.0, max_delay=60.0, jitter="full")
    rng = random.Random(42)
    draws = [m.backoff_delay(policy, 3, rng) for _ in range(2000)]  # cap 4 s
    assert 0.0 <= min(draws) < 0.1
    assert 3.9 < max(draws) <= 4.0
    assert abs(sum(draws) / len(draws) - 2.0) < 0.1


@given(
    attempt=st.integers(1, 60),
    base=st.floats(0.0, 5.0),
    cap=st.floats(0.0, 100.0),
    jitter=st.sampled_from(["full", "equal", "none"]),
    seed=st.integers(0, 1000),
)
def test_property_a_wait_lies_between_zero_and_the_cap(
    attempt: int, base: float, cap: float, jitter: str, seed: int
) -> None:
    policy = m.RetryPolicy(base_delay=base, max_delay=cap, jitter=jitter)
    bound = min(cap, base * 2.0 ** (attempt - 1))
    delay = m.backoff_delay(policy, attempt, random.Random(seed))
    assert 0.0 <= delay <= bound * (1 + 1e-12)
    if jitter == "equal":
        assert delay >= bound / 2 * (1 - 1e-12)
    if jitter == "none":
        assert delay == pytest.approx(bound)


@given(
    failures=st.integers(0, 12),
    cost=st.floats(0.0, 3.0),
    deadline=st.floats(0.5, 40.0),
    seed=st.integers(0, 1000),
)
def test_property_never_sleeps_past_the_deadline(
    failures: int, cost: float, deadline: float, seed: int
) -> None:
    clock = ManualClock()
    fn = Flaky(clock, [ServerError()] * failures, cost=cost)
    policy = m.RetryPolicy(max_attempts=20, base_delay=0.5, deadline=deadline)
    ends: list[float] = []

    def record(event: object) -> None:
        ends.append(clock.now() + event.delay)  # type: ignore[attr-defined]

    with contextlib.suppress(m.RetryError):
        rng = random.Random(seed)
        asyncio.run(m.retry(fn, clock=clock, policy=policy, rng=rng, on_retry=record))
    assert all(end <= deadline + 1e-9 for end in ends)
    assert len(clock.sleeps) == len(ends) == len(fn.calls) - 1
