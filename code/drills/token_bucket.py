"""Drill: an async token bucket, the client-side rate limiter in front of an LLM API.

"The provider allows 600 requests a minute and answers 429 beyond that. Write a token
bucket: it holds at most `capacity` tokens and refills continuously at `rate` tokens per
second. `try_acquire` takes tokens if they are there; `acquire` waits until they are."

Over any window of t seconds a bucket grants at most  capacity + rate * t  tokens:
`capacity` is the burst you allow, `rate` the sustained throughput.

Rules the grader checks (time is injected: read `clock.now()`, wait with
`await clock.sleep(s)`; never `time` or `asyncio.sleep`):
- The bucket starts full. Refill is lazy: compute it from the time elapsed since the
  last update whenever the bucket is used; it never exceeds `capacity`.
- `try_acquire(n)` never waits: True and take n tokens, or False and take nothing.
  n = 0 always succeeds; n may be fractional (a bucket of model tokens, say).
- `wait_time(n)`: seconds until n tokens exist if nobody else takes any (0 if they do).
- `acquire(n)` waits on the clock until n tokens exist, then takes them. Waiters are
  served in arrival order (FIFO), so a large request is not starved by small ones.
- `ValueError` whose message names the argument and its bad value: rate or capacity
  not positive, n < 0, and n > capacity (a request that could never be granted), in
  every method.
- Float round-off must not strand a waiter: after an exact wait of (n - tokens) / rate,
  the tokens are there (allow a tiny epsilon, e.g. 1e-9).

Leaves out: limits shared by many processes (a bucket in Redis), per-tenant quotas.

Grade it: make drill NAME=token-bucket
"""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    """Where time comes from. Nothing to implement: the grader passes a test clock."""

    def now(self) -> float:
        """Seconds, monotonic."""
        raise NotImplementedError("drill token-bucket: the grader passes the clock")

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` on this clock."""
        raise NotImplementedError("drill token-bucket: the grader passes the clock")


class TokenBucket:
    """At most `capacity` tokens, refilled continuously at `rate` tokens per second.

    Example (starts full):
        bucket = TokenBucket(rate=2, capacity=5, clock=clock)
        [bucket.try_acquire() for _ in range(6)] == [True] * 5 + [False]
        bucket.wait_time() == 0.5     # one token refills in 1 / rate seconds
    """

    def __init__(self, rate: float, capacity: float, *, clock: Clock) -> None:
        """A full bucket; rate and capacity must be positive."""
        raise NotImplementedError("drill token-bucket: implement TokenBucket.__init__")

    @property
    def tokens(self) -> float:
        """Tokens available now (after refilling)."""
        raise NotImplementedError("drill token-bucket: implement TokenBucket.tokens")

    def wait_time(self, n: float = 1) -> float:
        """Seconds until `n` tokens will exist (0 if they do now)."""
        raise NotImplementedError("drill token-bucket: implement wait_time")

    def try_acquire(self, n: float = 1) -> bool:
        """Take `n` tokens if they exist now; never waits."""
        raise NotImplementedError("drill token-bucket: implement try_acquire")

    async def acquire(self, n: float = 1) -> None:
        """Wait (on the clock, FIFO) until `n` tokens exist, then take them."""
        raise NotImplementedError("drill token-bucket: implement acquire")
