"""Grader for drill token-bucket: a manual clock for the arithmetic, and a virtual-time
event loop (run_virtual: asyncio.sleep costs no wall time) for concurrent waiters. The
invariant: over any window of t seconds, at most capacity + rate * t tokens are granted."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.production.clock import LOOP_CLOCK, ManualClock, run_virtual
from tests.drills.target import load

m = load("token-bucket")

EPS = 1e-6


def assert_within_rate(grants: list[tuple[float, float]], rate: float, capacity: float) -> None:
    """Every window [t_i, t_j] of the (time, n) grants holds at most capacity + rate * t."""
    grants = sorted(grants)
    for i, (start, _) in enumerate(grants):
        total = 0.0
        for end, n in grants[i:]:
            total += n
            assert total <= capacity + rate * (end - start) + EPS, (start, end, total)


def test_starts_full_and_grants_a_burst_of_capacity() -> None:
    bucket = m.TokenBucket(rate=2, capacity=5, clock=ManualClock())
    assert bucket.tokens == pytest.approx(5)
    assert [bucket.try_acquire() for _ in range(6)] == [True] * 5 + [False]
    assert bucket.tokens == pytest.approx(0, abs=1e-9)


def test_refills_at_rate_and_never_beyond_capacity() -> None:
    clock = ManualClock()
    bucket = m.TokenBucket(rate=2, capacity=5, clock=clock)
    assert bucket.try_acquire(5)
    clock.advance(0.5)
    assert bucket.tokens == pytest.approx(1.0)
    clock.advance(1.0)
    assert bucket.tokens == pytest.approx(3.0)
    clock.advance(3600)
    assert bucket.tokens == pytest.approx(5.0), "an idle hour does not bank an hour of tokens"
    assert bucket.try_acquire(5)
    assert not bucket.try_acquire(0.1)


def test_a_failed_try_takes_nothing_and_fractions_and_zero_work() -> None:
    clock = ManualClock()
    bucket = m.TokenBucket(rate=1, capacity=3, clock=clock)
    assert bucket.try_acquire(2.5)
    assert not bucket.try_acquire(1)
    assert bucket.tokens == pytest.approx(0.5), "a refused request must not take tokens"
    assert bucket.try_acquire(0)
    assert bucket.try_acquire(0.5)


def test_wait_time() -> None:
    clock = ManualClock()
    bucket = m.TokenBucket(rate=4, capacity=8, clock=clock)
    assert bucket.wait_time(8) == 0
    assert bucket.try_acquire(8)
    assert bucket.wait_time(1) == pytest.approx(0.25)
    assert bucket.wait_time(6) == pytest.approx(1.5)
    clock.advance(1.0)
    assert bucket.wait_time(6) == pytest.approx(0.5)
    assert bucket.wait_time(4) == 0


def test_acquire_waits_on_the_clock_exactly_as_long_as_needed() -> None:
    clock = ManualClock()
    bucket = m.TokenBucket(rate=3, capacity=3, clock=clock)

    async def main() -> None:
        await bucket.acquire(3)  # full: no wait
        await bucket.acquire(1.5)  # empty: 0.5 s
        await bucket.acquire(3)  # empty: 1 s

    asyncio.run(main())
    assert sum(clock.sleeps) == pytest.approx(1.5)
    assert clock.now() == pytest.approx(1.5)
    assert bucket.tokens == pytest.approx(0, abs=1e-6)


def test_concurrent_waiters_get_the_sustained_rate() -> None:
    async def main() -> list[float]:
        bucket = m.TokenBucket(rate=2, capacity=5, clock=LOOP_CLOCK)
        start = LOOP_CLOCK.now()
        times: list[float] = []

        async def one() -> None:
            await bucket.acquire()
            times.append(LOOP_CLOCK.now() - start)

        await asyncio.gather(*(one() for _ in range(15)))
        return times

    times = run_virtual(main())
    assert times[:5] == pytest.approx([0.0] * 5)  # the burst
    assert times[5:] == pytest.approx([0.5 * k for k in range(1, 11)], abs=1e-6)


def test_waiters_are_served_in_arrival_order() -> None:
    async def main() -> list[str]:
        bucket = m.TokenBucket(rate=1, capacity=4, clock=LOOP_CLOCK)
        assert bucket.try_acquire(4)
        order: list[str] = []

        async def take(name: str, n: float) -> None:
            await bucket.acquire(n)
            order.append(name)

        big = asyncio.create_task(take("big", 4))
        await asyncio.sleep(0)  # big queues first
        smalls = [asyncio.create_task(take(f"small{i}", 1)) for i in range(3)]
        await asyncio.gather(big, *smalls)
        return order

    assert run_virtual(main()) == ["big", "small0", "small1", "small2"]


@pytest.mark.parametrize(
    ("rate", "capacity"),
    [(0, 5), (-1, 5), (1, 0), (1, -2)],
    ids=["rate0", "rate<0", "cap0", "cap<0"],
)
def test_bad_rate_or_capacity_is_a_value_error(rate: float, capacity: float) -> None:
    with pytest.raises(ValueError, match=r"rate|capacity"):
        m.TokenBucket(rate=rate, capacity=capacity, clock=ManualClock())


def test_impossible_or_negative_requests_are_value_errors() -> None:
    bucket = m.TokenBucket(rate=1, capacity=3, clock=ManualClock())
    with pytest.raises(ValueError, match="4"):
        bucket.try_acquire(4)
    with pytest.raises(ValueError, match="4"):
        bucket.wait_time(4)
    with pytest.raises(ValueError, match="4"):
        asyncio.run(bucket.acquire(4))
    with pytest.raises(ValueError, match="-1"):
        bucket.try_acquire(-1)


@given(
    rate=st.floats(0.1, 50),
    capacity=st.floats(1, 20),
    steps=st.lists(st.tuples(st.floats(0, 2), st.floats(0, 1)), min_size=1, max_size=60),
)
def test_property_try_acquire_never_grants_more_than_capacity_plus_rate_t(
    rate: float, capacity: float, steps: list[tuple[float, float]]
) -> None:
    clock = ManualClock()
    bucket = m.TokenBucket(rate=rate, capacity=capacity, clock=clock)
    grants: list[tuple[float, float]] = []
    for gap, share in steps:
        clock.advance(gap)
        n = share * capacity
        if bucket.try_acquire(n):
            grants.append((clock.now(), n))
        assert -EPS <= bucket.tokens <= capacity + EPS
    assert_within_rate(grants, rate, capacity)


@given(
    rate=st.floats(0.5, 20),
    capacity=st.floats(1, 10),
    requests=st.lists(st.tuples(st.floats(0, 3), st.floats(0.01, 1)), min_size=1, max_size=25),
)
def test_property_concurrent_acquires_respect_the_rate(
    rate: float, capacity: float, requests: list[tuple[float, float]]
) -> None:
    async def main() -> list[tuple[float, float]]:
        bucket = m.TokenBucket(rate=rate, capacity=capacity, clock=LOOP_CLOCK)
        grants: list[tuple[float, float]] = []

        async def one(delay: float, n: float) -> None:
            await asyncio.sleep(delay)  # arrivals spread over time (virtual)
            await bucket.acquire(n)
            grants.append((LOOP_CLOCK.now(), n))

        await asyncio.gather(*(one(d, s * capacity) for d, s in requests))
        return grants

    grants: Any = run_virtual(main())
    assert len(grants) == len(requests), "every request is granted eventually"
    assert_within_rate(grants, rate, capacity)
