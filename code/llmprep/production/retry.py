"""Retries with capped exponential backoff and jitter, a deadline, and `Retry-After`.

Most LLM API failures are transient: a 429 because the quota window is full, a 503 because a
replica is overloaded, a dropped connection. Trying again later usually works; trying again
at once usually does not, and when every client retries at once they knock the service over
again. So a retry waits, and the wait grows with each failure:

    wait after failed attempt n  =  min(max_delay, base_delay * 2**(n-1))      (the cap)
    full jitter:   uniform(0, cap)          equal jitter:  cap/2 + uniform(0, cap/2)

Why jitter: clients that failed together at time t would, without it, all retry at t + 0.5,
t + 1.5, ... and collide again. Drawing each wait at random spreads them out. The AWS
Architecture Blog post "Exponential Backoff and Jitter" (Marc Brooker, 2015,
aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/) simulated contending
clients and found that jitter cuts their total work sharply compared with plain
exponential backoff, with "full jitter" (a uniform draw over the whole interval) among the
best variants. It is the default here.

Three more rules make retries safe:

- retry only what can succeed later (`is_retryable`: 429, 5xx, timeouts, dropped
  connections); a 400 or 401 fails the same way every time, so it propagates at once;
- when the provider says how long to wait (`Retry-After`), wait at least that long;
- stop at a deadline: a user waits for the whole retry sequence, and a retry that starts
  after the deadline only adds load. `retry` gives up with `RetryError` when the next wait
  would end past it (the attempt itself is not bounded: give `fn` its own timeout).

Leaves out: per-attempt timeouts (wrap `fn` in `asyncio.timeout`), retry budgets shared
across requests (a token bucket of retries, so retries cannot amplify an outage beyond, say,
10% extra load), hedged requests, and idempotency keys for calls with side effects.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, get_args

from llmprep.core.errors import LLMError
from llmprep.core.llm import LLM, StreamEvent
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    Message,
    ToolSpec,
)
from llmprep.production.clock import LOOP_CLOCK, Clock
from llmprep.production.streaming import first_event, resume

type Jitter = Literal["full", "equal", "none"]
JITTERS: tuple[str, ...] = get_args(Jitter.__value__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry. Times are seconds.

    `max_attempts` counts the first try: 5 means one call and up to four retries.
    `deadline` bounds the whole sequence, measured from the first attempt (None: no bound).
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    deadline: float | None = 30.0
    jitter: Jitter = "full"
    honor_retry_after: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise TypeError(f"max_attempts must be an int, got {self.max_attempts!r}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if not self.base_delay >= 0:
            raise ValueError(f"base_delay must be >= 0, got {self.base_delay!r}")
        if not self.max_delay >= 0:
            raise ValueError(f"max_delay must be >= 0, got {self.max_delay!r}")
        if self.deadline is not None and not self.deadline > 0:
            raise ValueError(f"deadline must be > 0 seconds or None, got {self.deadline!r}")
        if self.jitter not in JITTERS:
            raise ValueError(f"jitter must be one of {JITTERS}, got {self.jitter!r}")


def backoff_cap(policy: RetryPolicy, attempt: int) -> float:
    """The largest wait after failed attempt `attempt`: min(max_delay, base * 2**(attempt-1))."""
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt!r}")
    # 2.0**1023 is the largest power of two a float can hold.
    return min(policy.max_delay, policy.base_delay * 2.0 ** min(attempt - 1, 1023))


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based), jittered per the policy.

    Example: with base 0.5 and full jitter, the waits after attempts 1, 2, 3 are drawn
    from [0, 0.5], [0, 1], [0, 2]; with jitter "none" they are exactly 0.5, 1, 2.
    """
    cap = backoff_cap(policy, attempt)
    match policy.jitter:
        case "full":
            return rng.uniform(0.0, cap)
        case "equal":
            return cap / 2 + rng.uniform(0.0, cap / 2)
        case "none":
            return cap


def is_retryable(error: BaseException) -> bool:
    """Can the same request succeed if sent again later?

    Our `LLMError`s say so themselves (`retryable`: 429, 5xx, timeouts, connection errors).
    The builtin `TimeoutError` (what `asyncio.timeout` raises) and `ConnectionError` are
    transient too. Everything else, a bug in our code included, is not.
    """
    if isinstance(error, LLMError):
        return error.retryable
    return isinstance(error, TimeoutError | ConnectionError)


def retry_after_of(error: BaseException) -> float | None:
    """The wait the provider asked for (a 429's `retry_after`), or None."""
    value = getattr(error, "retry_after", None)
    return float(value) if isinstance(value, int | float) and value >= 0 else None


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One retry about to happen: attempt `attempt` failed with `error`; waiting `delay` s."""

    attempt: int
    error: BaseException
    delay: float


class RetryError(LLMError):
    """We gave up: out of attempts, or the next wait would pass the deadline.

    `last` is the final failure (also `__cause__`); `attempts` is how many calls were made.
    Not retryable itself: an outer retry loop would multiply the load.
    """

    retryable: ClassVar[bool] = False

    def __init__(self, attempts: int, last: BaseException, reason: str) -> None:
        super().__init__(f"gave up after {attempts} attempt(s) ({reason}); last error: {last!r}")
        self.attempts = attempts
        self.last = last
        self.reason = reason


async def retry[T](
    fn: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy = RetryPolicy(),
    clock: Clock = LOOP_CLOCK,
    rng: random.Random | None = None,
    retry_if: Callable[[BaseException], bool] = is_retryable,
    on_retry: Callable[[RetryEvent], None] | None = None,
) -> T:
    """Call `fn` until it succeeds, a non-retryable error occurs, or the policy gives up.

    The wait before each retry is the jittered backoff, raised to the provider's
    `retry_after` when the policy honours it. A non-retryable error propagates unchanged at
    once; exhausting attempts or the deadline raises `RetryError` from the last error.
    Cancellation (`asyncio.CancelledError`) is never retried.

    Example: completion = await retry(lambda: llm.complete(messages), policy=RetryPolicy(3))
    """
    rng = rng if rng is not None else random.Random()
    started = clock.now()
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return await fn()
        except Exception as error:
            if not retry_if(error):
                raise
            if attempt == policy.max_attempts:
                raise RetryError(attempt, error, "out of attempts") from error
            delay = backoff_delay(policy, attempt, rng)
            asked = retry_after_of(error) if policy.honor_retry_after else None
            if asked is not None:
                delay = max(delay, asked)
            elapsed = clock.now() - started
            if policy.deadline is not None and elapsed + delay > policy.deadline:
                reason = f"deadline {policy.deadline:g}s"
                raise RetryError(attempt, error, reason) from error
            if on_retry is not None:
                on_retry(RetryEvent(attempt, error, delay))
            await clock.sleep(delay)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


class RetryingLLM:
    """An `LLM` that retries `complete`, and `stream` until its first event arrives.

    A stream is only retried before the caller has seen anything: once text is shown,
    starting over would repeat it. `events` records every retry, for tests and figures.

    Example: llm = RetryingLLM(provider, RetryPolicy(max_attempts=4), rng=random.Random(0))
    """

    def __init__(
        self,
        llm: LLM,
        policy: RetryPolicy = RetryPolicy(),
        *,
        clock: Clock = LOOP_CLOCK,
        rng: random.Random | None = None,
        retry_if: Callable[[BaseException], bool] = is_retryable,
    ) -> None:
        self.llm = llm
        self.policy = policy
        self.clock = clock
        self.rng = rng if rng is not None else random.Random()
        self.retry_if = retry_if
        self.events: list[RetryEvent] = []

    async def _retry[T](self, fn: Callable[[], Awaitable[T]]) -> T:
        return await retry(
            fn,
            policy=self.policy,
            clock=self.clock,
            rng=self.rng,
            retry_if=self.retry_if,
            on_retry=self.events.append,
        )

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """`llm.complete`, retried per the policy."""
        return await self._retry(
            lambda: self.llm.complete(messages, settings=settings, tools=tools)
        )

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        """`llm.stream`, retried until the first event; later failures reach the caller."""
        events, first = await self._retry(
            lambda: first_event(self.llm.stream(messages, settings=settings, tools=tools))
        )
        async for event in resume(events, first):
            yield event
