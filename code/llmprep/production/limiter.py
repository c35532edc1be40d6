"""Rate limiting with token buckets: smooth your own traffic before the provider rejects it.

Providers cap each key at so many requests per minute (RPM) and tokens per minute (TPM) and
answer a 429 beyond that. A client that knows its quota can wait a little before sending
instead of being rejected and retrying: fewer wasted calls, and latency that degrades
smoothly instead of in retry-sized jumps.

A token bucket holds up to `capacity` tokens and refills at `rate` tokens per second; a
request takes tokens or waits until enough exist. Over any window of t seconds it grants at
most

    capacity + rate * t

so `capacity` is the burst you allow and `rate` the sustained throughput. A quota of
600 RPM is a bucket with rate 10/s; its capacity says how bursty the minute may be.

    TokenBucket      one bucket; `try_acquire` (never waits) and `acquire` (waits, FIFO)
    TenantLimiter    two buckets per tenant (requests and tokens per minute), with overrides
    RateLimitedLLM   any LLM behind a bucket

Leaves out: limits shared across processes (a bucket in Redis, updated atomically), the
provider's own accounting (which counts `max_tokens` against TPM up front, not the tokens
actually written), and priority queues that let interactive traffic overtake batch jobs.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence

from llmprep.core.llm import LLM, StreamEvent
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    Message,
    ToolSpec,
)
from llmprep.production.clock import LOOP_CLOCK, Clock
from llmprep.production.streaming import resume

# Refill arithmetic in floats can leave 0.9999999999 of a token after an exact wait.
_EPSILON = 1e-9


def _positive(label: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{label} must be a finite number, got {value!r}")
    if value <= 0:
        raise ValueError(f"{label} must be positive, got {value!r}")
    return float(value)


class TokenBucket:
    """`capacity` tokens at most, refilled continuously at `rate` tokens per second.

    The bucket starts full. Example:
        bucket = TokenBucket(rate=2, capacity=5, clock=ManualClock())
        [bucket.try_acquire() for _ in range(6)] == [True] * 5 + [False]
        bucket.wait_time() == 0.5     # one token refills in 1/rate seconds
    """

    def __init__(self, rate: float, capacity: float, *, clock: Clock = LOOP_CLOCK) -> None:
        self.rate = _positive("rate", rate)
        self.capacity = _positive("capacity", capacity)
        self.clock = clock
        self._tokens = self.capacity
        self._last = clock.now()
        self._queue = asyncio.Lock()  # waiters are served in arrival order

    def _refill(self) -> None:
        now = self.clock.now()
        if now > self._last:
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = max(self._last, now)

    def _check(self, n: float) -> float:
        if isinstance(n, bool) or not isinstance(n, int | float) or not n >= 0:
            raise ValueError(f"n must be a number >= 0, got {n!r}")
        if n > self.capacity:
            raise ValueError(
                f"asked for {n!r} tokens, more than the bucket's capacity {self.capacity:g}: "
                "it could never be granted"
            )
        return float(n)

    @property
    def tokens(self) -> float:
        """Tokens available now."""
        self._refill()
        return self._tokens

    def wait_time(self, n: float = 1) -> float:
        """Seconds until `n` tokens will exist (0 if they do now), if nobody else takes any."""
        n = self._check(n)
        missing = n - self.tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate

    def try_acquire(self, n: float = 1) -> bool:
        """Take `n` tokens if they exist now; never waits. A request of 0 always succeeds."""
        n = self._check(n)
        self._refill()
        if self._tokens + _EPSILON < n:
            return False
        self._tokens = max(0.0, self._tokens - n)
        return True

    async def acquire(self, n: float = 1) -> None:
        """Wait (on the clock) until `n` tokens exist, then take them.

        Waiters queue in arrival order, so a large request is not starved by a stream of
        small ones that would each fit sooner.
        """
        n = self._check(n)
        async with self._queue:
            while not self.try_acquire(n):
                await self.clock.sleep(self.wait_time(n))


type Quota = tuple[float, float]  # (requests per minute, tokens per minute)


def _quota(label: str, rpm: float, tpm: float) -> Quota:
    quota = (_positive(f"{label}rpm", rpm), _positive(f"{label}tpm", tpm))
    if quota[0] < 1:  # the requests bucket holds one minute's allowance: a request needs 1
        raise ValueError(f"{label}rpm must be at least 1 request per minute, got {rpm!r}")
    return quota


class TenantLimiter:
    """Per-tenant quotas: each tenant gets a requests bucket and a tokens bucket.

    A bucket for a per-minute quota q refills at q/60 per second and holds q (a full
    minute's allowance). A request needs one request token and `tokens` model tokens, and
    takes both or neither, so one tenant's burst cannot spend another tenant's quota.

    Example:
        limiter = TenantLimiter(rpm=60, tpm=10_000, overrides={"big-co": (600, 100_000)})
        limiter.try_acquire("acme", tokens=1_200)
    """

    def __init__(
        self,
        rpm: float,
        tpm: float,
        *,
        clock: Clock = LOOP_CLOCK,
        overrides: Mapping[str, Quota] | None = None,
    ) -> None:
        self.default: Quota = _quota("", rpm, tpm)
        self.overrides: dict[str, Quota] = {}
        for tenant, (o_rpm, o_tpm) in (overrides or {}).items():
            self.overrides[tenant] = _quota(f"override for {tenant!r} ", o_rpm, o_tpm)
        self.clock = clock
        self._buckets: dict[str, tuple[TokenBucket, TokenBucket]] = {}

    def quota(self, tenant: str) -> Quota:
        """(rpm, tpm) for this tenant: its override, or the default."""
        return self.overrides.get(tenant, self.default)

    def buckets(self, tenant: str) -> tuple[TokenBucket, TokenBucket]:
        """The tenant's (requests, tokens) buckets, made full on first use."""
        if not isinstance(tenant, str) or not tenant:
            raise ValueError(f"tenant must be a non-empty string, got {tenant!r}")
        if tenant not in self._buckets:
            rpm, tpm = self.quota(tenant)
            self._buckets[tenant] = (
                TokenBucket(rpm / 60, rpm, clock=self.clock),
                TokenBucket(tpm / 60, tpm, clock=self.clock),
            )
        return self._buckets[tenant]

    def _check(self, tenant: str, tokens: int) -> tuple[TokenBucket, TokenBucket]:
        requests, budget = self.buckets(tenant)
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
            raise ValueError(f"tokens must be an int >= 0, got {tokens!r}")
        if tokens > budget.capacity:
            raise ValueError(
                f"a request of {tokens} tokens exceeds tenant {tenant!r}'s whole "
                f"per-minute quota of {budget.capacity:g}"
            )
        return requests, budget

    def wait_time(self, tenant: str, tokens: int) -> float:
        """Seconds until this request would fit both of the tenant's quotas."""
        requests, budget = self._check(tenant, tokens)
        return max(requests.wait_time(1), budget.wait_time(tokens))

    def try_acquire(self, tenant: str, tokens: int) -> bool:
        """Admit the request now if both quotas allow it (taking from both), else False."""
        requests, budget = self._check(tenant, tokens)
        if requests.wait_time(1) > 0 or budget.wait_time(tokens) > 0:
            return False
        return requests.try_acquire(1) and budget.try_acquire(tokens)

    async def acquire(self, tenant: str, tokens: int) -> None:
        """Wait until both quotas allow the request, then take from both."""
        while not self.try_acquire(tenant, tokens):
            await self.clock.sleep(self.wait_time(tenant, tokens))


def one_per_request(messages: Sequence[Message]) -> float:
    """The default cost of a request: one token (a requests-per-second bucket)."""
    return 1.0


class RateLimitedLLM:
    """An `LLM` that waits for its bucket before every call (client-side smoothing).

    `cost` says how many tokens a request takes: 1 for a request-rate limit, or an input
    token count for a tokens-per-second limit.

    Example: RateLimitedLLM(provider, TokenBucket(rate=10, capacity=20))
    """

    def __init__(
        self,
        llm: LLM,
        bucket: TokenBucket,
        *,
        cost: Callable[[Sequence[Message]], float] = one_per_request,
    ) -> None:
        self.llm = llm
        self.bucket = bucket
        self.cost = cost

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """Wait for tokens, then `llm.complete`."""
        await self.bucket.acquire(self.cost(messages))
        return await self.llm.complete(messages, settings=settings, tools=tools)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        """Wait for tokens, then relay `llm.stream`."""
        await self.bucket.acquire(self.cost(messages))
        events = self.llm.stream(messages, settings=settings, tools=tools)
        async for event in resume(events):
            yield event
