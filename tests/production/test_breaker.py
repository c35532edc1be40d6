"""The circuit breaker opens after exactly failure_threshold counted failures, fails fast
without calling while open, admits half_open_calls probes after recovery_time, closes when
they succeed and reopens when one fails."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.errors import BadRequestError, ServerError
from llmprep.core.llm import collect
from llmprep.core.messages import Message
from llmprep.core.scripted import Fault, ScriptedLLM
from llmprep.production.breaker import BreakerLLM, BreakerState, CircuitBreaker, CircuitOpenError
from llmprep.production.clock import ManualClock

type Outcome = Literal["ok", "fail", "bad_request"]


async def outcome_call(breaker: CircuitBreaker, outcome: Outcome, calls: list[Outcome]) -> str:
    async def fn() -> str:
        calls.append(outcome)
        if outcome == "fail":
            raise ServerError(status=503)
        if outcome == "bad_request":
            raise BadRequestError("malformed")
        return "ok"

    return await breaker.call(fn)


def state(breaker: CircuitBreaker) -> BreakerState:
    """Read the state through a function, so mypy does not narrow it between reads."""
    return breaker.state


def run_outcomes(breaker: CircuitBreaker, outcomes: list[Outcome]) -> list[Outcome]:
    calls: list[Outcome] = []

    async def main() -> None:
        for outcome in outcomes:
            with contextlib.suppress(ServerError, BadRequestError, CircuitOpenError):
                await outcome_call(breaker, outcome, calls)

    asyncio.run(main())
    return calls


@given(
    threshold=st.integers(1, 6),
    outcomes=st.lists(st.sampled_from(["ok", "fail", "bad_request"]), max_size=40),
)
def test_opens_after_exactly_threshold_counted_failures_in_a_row(
    threshold: int, outcomes: list[Outcome]
) -> None:
    breaker = CircuitBreaker(failure_threshold=threshold, recovery_time=10, clock=ManualClock())
    calls = run_outcomes(breaker, outcomes)
    # Where should it open? At the first point with `threshold` failures in a row, where
    # successes reset the run and 400s are ignored.
    run, opens_after = 0, None
    for i, outcome in enumerate(outcomes):
        run = 0 if outcome == "ok" else run + (outcome == "fail")
        if run == threshold:
            opens_after = i
            break
    if opens_after is None:
        assert state(breaker) == "closed"
        assert calls == outcomes
    else:
        assert state(breaker) == "open"
        assert calls == outcomes[: opens_after + 1]  # nothing called once open
        assert breaker.rejected == len(outcomes) - opens_after - 1


def test_while_open_calls_fail_fast_with_the_time_to_the_next_probe() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=2, recovery_time=30, clock=clock)
    run_outcomes(breaker, ["fail", "fail"])
    clock.advance(12)
    calls: list[Outcome] = []
    with pytest.raises(CircuitOpenError) as info:
        asyncio.run(outcome_call(breaker, "ok", calls))
    assert calls == []
    assert info.value.retry_after == pytest.approx(18)
    assert not info.value.retryable


def test_recovers_through_half_open_and_closes_on_success() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_time=5, clock=clock)
    run_outcomes(breaker, ["fail"])
    clock.advance(5)
    assert state(breaker) == "half_open"
    assert run_outcomes(breaker, ["ok"]) == ["ok"]
    assert state(breaker) == "closed"
    assert breaker.transitions == [(0.0, "open"), (5.0, "half_open"), (5.0, "closed")]


def test_a_failed_probe_reopens_and_restarts_the_timer() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_time=5, clock=clock)
    run_outcomes(breaker, ["fail"])
    clock.advance(7)
    assert run_outcomes(breaker, ["fail", "ok"]) == ["fail"]  # the second call: rejected
    assert state(breaker) == "open"
    clock.advance(4.9)
    assert state(breaker) == "open"
    clock.advance(0.1)
    assert state(breaker) == "half_open"
    assert [s for _, s in breaker.transitions] == ["open", "half_open", "open", "half_open"]


def test_half_open_admits_exactly_half_open_calls_probes() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_time=1, half_open_calls=2, clock=clock)
    run_outcomes(breaker, ["fail"])
    clock.advance(1)

    async def main() -> list[str]:
        release = asyncio.Event()

        async def slow_probe() -> str:
            await release.wait()
            return "probe ok"

        probes = [asyncio.create_task(breaker.call(slow_probe)) for _ in range(2)]
        await asyncio.sleep(0)  # both probes are now in flight
        with pytest.raises(CircuitOpenError):
            await breaker.call(slow_probe)
        assert state(breaker) == "half_open"
        release.set()
        return list(await asyncio.gather(*probes))

    assert asyncio.run(main()) == ["probe ok", "probe ok"]
    assert state(breaker) == "closed"
    assert breaker.rejected == 1


def test_a_probe_from_an_earlier_half_open_period_is_ignored() -> None:
    # Two probes go out; one fails and reopens the breaker while the other is still in
    # flight. When that stale probe succeeds during the *next* half-open period, it must
    # neither count as that period's success nor free one of its probe slots.
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_time=1, half_open_calls=2, clock=clock)
    run_outcomes(breaker, ["fail"])
    clock.advance(1)

    async def main() -> None:
        release_stale, release_new = asyncio.Event(), asyncio.Event()

        async def waits_for(event: asyncio.Event) -> str:
            await event.wait()
            return "ok"

        stale = asyncio.create_task(breaker.call(lambda: waits_for(release_stale)))
        await asyncio.sleep(0)
        with pytest.raises(ServerError):
            await outcome_call(breaker, "fail", [])  # the second probe fails: reopen
        assert state(breaker) == "open"
        clock.advance(1)
        fresh = asyncio.create_task(breaker.call(lambda: waits_for(release_new)))
        await asyncio.sleep(0)
        assert state(breaker) == "half_open"
        release_stale.set()
        await stale
        assert state(breaker) == "half_open"
        second = asyncio.create_task(breaker.call(lambda: waits_for(release_new)))
        await asyncio.sleep(0)
        with pytest.raises(CircuitOpenError):  # both slots of this period are taken
            await outcome_call(breaker, "ok", [])
        release_new.set()
        await asyncio.gather(fresh, second)
        assert state(breaker) == "closed"

    asyncio.run(main())


def test_a_cancelled_probe_frees_its_slot_without_counting() -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(failure_threshold=1, recovery_time=1, clock=clock)
    run_outcomes(breaker, ["fail"])
    clock.advance(1)

    async def main() -> None:
        probe = asyncio.create_task(breaker.call(asyncio.Event().wait))
        await asyncio.sleep(0)
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe

    asyncio.run(main())
    assert state(breaker) == "half_open"
    assert run_outcomes(breaker, ["ok"]) == ["ok"]
    assert state(breaker) == "closed"


def test_breaker_llm_fails_fast_during_an_outage() -> None:
    clock = ManualClock()
    llm = ScriptedLLM(lambda m: "up again", faults=[Fault.server_error(n) for n in (1, 2, 3)])
    wrapped = BreakerLLM(llm, CircuitBreaker(failure_threshold=3, recovery_time=10, clock=clock))
    hi = [Message.user("hi")]

    async def main() -> list[str]:
        results: list[str] = []
        for _ in range(5):
            try:
                results.append((await wrapped.complete(hi)).text)
            except (ServerError, CircuitOpenError) as error:
                results.append(type(error).__name__)
        clock.advance(10)
        results.append((await collect(wrapped.stream(hi))).text)
        return results

    assert asyncio.run(main()) == ["ServerError"] * 3 + ["CircuitOpenError"] * 2 + ["up again"]
    assert len(llm.calls) == 4  # the two rejected calls never reached the provider
    assert state(wrapped.breaker) == "closed"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"half_open_calls": 1.5}, "half_open_calls"),
        ({"recovery_time": -1}, "recovery_time"),
    ],
)
def test_bad_settings_name_the_bad_value(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CircuitBreaker(**kwargs)  # type: ignore[arg-type]
