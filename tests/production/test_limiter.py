"""Token buckets: never more than capacity + rate * t over any window; waits are exact and
served in order; tenant quotas are independent and taken all-or-nothing."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.messages import Message
from llmprep.core.scripted import ScriptedLLM
from llmprep.production.clock import LOOP_CLOCK, ManualClock, run_virtual
from llmprep.production.limiter import RateLimitedLLM, TenantLimiter, TokenBucket


@given(
    rate=st.floats(0.1, 100),
    capacity=st.floats(1, 50),
    ops=st.lists(st.tuples(st.floats(0, 2), st.floats(0, 1)), max_size=80),
)
def test_a_bucket_never_grants_more_than_capacity_plus_rate_times_t(
    rate: float, capacity: float, ops: list[tuple[float, float]]
) -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate, capacity, clock=clock)
    grants: list[tuple[float, float]] = []  # (time, tokens)
    for dt, share in ops:
        clock.advance(dt)
        n = share * capacity
        if bucket.try_acquire(n):
            grants.append((clock.now(), n))
        assert 0 <= bucket.tokens <= capacity
    for i, (start, _) in enumerate(grants):
        granted = 0.0
        for end, n in grants[i:]:
            granted += n
            assert granted <= capacity + rate * (end - start) + 1e-6


def test_try_acquire_drains_then_refills_at_rate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=2, capacity=5, clock=clock)
    assert [bucket.try_acquire() for _ in range(6)] == [True] * 5 + [False]
    assert bucket.wait_time() == pytest.approx(0.5)
    clock.advance(0.5)
    assert bucket.try_acquire()
    clock.advance(100)
    assert bucket.tokens == 5  # never above capacity


def test_acquire_sleeps_exactly_as_long_as_the_refill_needs() -> None:
    clock = ManualClock()
    bucket = TokenBucket(rate=4, capacity=8, clock=clock)

    async def main() -> None:
        await bucket.acquire(8)
        await bucket.acquire(2)

    asyncio.run(main())
    assert clock.sleeps == [pytest.approx(0.5)]


def test_concurrent_waiters_are_served_in_arrival_order_at_the_rate() -> None:
    finished: list[tuple[int, float]] = []

    async def worker(i: int, bucket: TokenBucket) -> None:
        await bucket.acquire(1)
        finished.append((i, LOOP_CLOCK.now()))

    async def main() -> None:
        bucket = TokenBucket(rate=10, capacity=10)
        await asyncio.gather(*(worker(i, bucket) for i in range(100)))

    run_virtual(main())
    assert [i for i, _ in finished] == list(range(100))
    # 10 at once (the burst), then one every 0.1 s
    assert all(at == pytest.approx(max(0, i - 9) / 10, abs=1e-6) for i, at in finished)


def test_big_requests_are_not_starved_by_small_ones() -> None:
    order: list[str] = []

    async def take(label: str, n: float, bucket: TokenBucket) -> None:
        await bucket.acquire(n)
        order.append(label)

    async def main() -> None:
        bucket = TokenBucket(rate=1, capacity=5)
        bucket.try_acquire(5)
        await asyncio.gather(
            take("big", 5, bucket), *(take(f"small{i}", 1, bucket) for i in range(3))
        )

    run_virtual(main())
    assert order == ["big", "small0", "small1", "small2"]


@pytest.mark.parametrize(
    ("rate", "capacity", "match"),
    [(0, 1, "rate"), (1, -2, "capacity"), (float("inf"), 1, "rate"), ("1", 1, "rate")],
)
def test_bad_buckets_name_the_bad_value(rate: object, capacity: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        TokenBucket(rate, capacity)  # type: ignore[arg-type]


def test_a_request_larger_than_capacity_is_refused_not_waited_for() -> None:
    bucket = TokenBucket(rate=1, capacity=3, clock=ManualClock())
    with pytest.raises(ValueError, match="capacity 3"):
        asyncio.run(bucket.acquire(4))
    with pytest.raises(ValueError, match="-1"):
        bucket.try_acquire(-1)


def test_tenants_have_independent_quotas_with_overrides() -> None:
    clock = ManualClock()
    limiter = TenantLimiter(rpm=2, tpm=1000, clock=clock, overrides={"big": (60, 10_000)})
    assert limiter.try_acquire("a", 10)
    assert limiter.try_acquire("a", 10)
    assert not limiter.try_acquire("a", 10)  # 2 requests per minute
    assert limiter.try_acquire("b", 10)  # another tenant is unaffected
    assert all(limiter.try_acquire("big", 100) for _ in range(60))
    assert limiter.wait_time("a", 10) == pytest.approx(30.0)  # one request per 30 s


def test_a_request_takes_both_quotas_or_neither() -> None:
    limiter = TenantLimiter(rpm=10, tpm=1000, clock=ManualClock())
    assert limiter.try_acquire("a", 900)
    requests, tokens = limiter.buckets("a")
    before = requests.tokens
    assert not limiter.try_acquire("a", 200)  # tokens short: no request spent either
    assert requests.tokens == before
    assert tokens.tokens == pytest.approx(100)
    with pytest.raises(ValueError, match="5000 tokens"):
        limiter.try_acquire("a", 5000)
    with pytest.raises(ValueError, match="tenant"):
        limiter.try_acquire("", 1)


def test_a_quota_below_one_request_per_minute_is_refused_up_front() -> None:
    # Its requests bucket would hold less than the one token every request needs.
    with pytest.raises(ValueError, match=r"rpm must be at least 1 .* got 0\.5"):
        TenantLimiter(rpm=0.5, tpm=1000)
    with pytest.raises(ValueError, match="override for 'x' rpm"):
        TenantLimiter(rpm=10, tpm=1000, overrides={"x": (0.2, 1000)})


def test_tenant_acquire_waits_for_the_scarcer_quota() -> None:
    clock = ManualClock()
    limiter = TenantLimiter(rpm=600, tpm=6000, clock=clock)  # 10 req/s, 100 tok/s
    asyncio.run(limiter.acquire("a", 6000))
    asyncio.run(limiter.acquire("a", 50))
    assert sum(clock.sleeps) == pytest.approx(0.5)


def test_rate_limited_llm_smooths_a_burst_in_virtual_time() -> None:
    llm = ScriptedLLM(lambda messages: "ok")

    async def main() -> float:
        limited = RateLimitedLLM(llm, TokenBucket(rate=5, capacity=5))
        answers = await asyncio.gather(
            *(limited.complete([Message.user(f"q{i}")]) for i in range(20))
        )
        assert {a.text for a in answers} == {"ok"}
        return LOOP_CLOCK.now()

    assert run_virtual(main()) == pytest.approx(3.0)  # 5 at once, then 15 at 5 per second
    assert len(llm.calls) == 20
