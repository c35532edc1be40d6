"""The load simulation: its workload, its simulated provider, and that each client-side
mechanism moves its own metric the right way (properties of the runs, not pinned numbers)."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal

import pytest

from llmprep.core.errors import LLMTimeoutError, RateLimitError, ServerError
from llmprep.core.messages import Message
from llmprep.production.clock import LOOP_CLOCK, run_virtual
from llmprep.production.cost import CostTracker
from llmprep.production.fallback import AllProvidersFailed
from llmprep.production.load import (
    STACKS,
    LoadReport,
    ProviderSpec,
    Scenario,
    SimulatedProvider,
    Stack,
    Window,
    answer_text,
    arrivals,
    counts_against_breaker,
    fault_schedule,
    messages_for,
    question_text,
    root_error,
    run_load,
    timeline,
)
from llmprep.production.retry import RetryError

BASE = Scenario()
OUTAGE = Window(80.0, 110.0)

# A shorter run than the chapter's (1,500 requests, about 140 s of virtual time) with the
# same ingredients: a spike at 30-50 s and a primary outage at 80-110 s.
SMALL = dataclasses.replace(
    BASE,
    requests=1500,
    spike=Window(30.0, 50.0),
    primary=dataclasses.replace(BASE.primary, outages=(OUTAGE,)),
)
# Only rate limits: no outage, no random faults, a tight provider and a long spike.
LIMITS_ONLY = dataclasses.replace(
    SMALL,
    spike=Window(20.0, 60.0),
    primary=dataclasses.replace(
        BASE.primary, outages=(), timeout_rate=0.0, server_error_rate=0.0, capacity_rps=12.0
    ),
)

NAIVE, RETRY, LIMITER, FALLBACK, CACHE = STACKS


def calls_during(report: LoadReport, provider: str, window: Window) -> int:
    records = dict(report.provider_calls)[provider]
    return sum(r.at in window for r in records)


def success_during(report: LoadReport, window: Window) -> float:
    mine = [o for o in report.outcomes if o.arrival in window]
    return sum(o.ok for o in mine) / len(mine)


# -----------------------------------------------------------------------------
# the scenario and the workload


def test_bad_configuration_is_rejected_with_the_value_named() -> None:
    with pytest.raises(ValueError, match="start < end"):
        Window(5.0, 1.0)
    with pytest.raises(ValueError, match="capacity_rps"):
        dataclasses.replace(BASE.primary, capacity_rps=0.0)
    with pytest.raises(ValueError, match="timeout_rate"):
        dataclasses.replace(BASE.primary, timeout_rate=1.5)
    with pytest.raises(ValueError, match="exceeds 1"):
        dataclasses.replace(BASE.primary, timeout_rate=0.6, server_error_rate=0.6)
    with pytest.raises(ValueError, match="requests"):
        Scenario(requests=0)
    with pytest.raises(ValueError, match="request_timeout"):
        Scenario(request_timeout=0.0)


def test_arrivals_are_ordered_poisson_with_a_faster_spike_and_zipf_questions() -> None:
    found = arrivals(BASE)
    assert len(found) == BASE.requests
    assert [a.id for a in found] == list(range(BASE.requests))
    times = [a.at for a in found]
    assert times == sorted(times)
    assert times[0] > 0
    spike = BASE.spike
    assert spike is not None
    in_spike = sum(t in spike for t in times) / (spike.end - spike.start)
    before = sum(t < spike.start for t in times) / spike.start
    assert 0.8 * BASE.spike_rate < in_spike < 1.2 * BASE.spike_rate
    assert 0.8 * BASE.rate < before < 1.2 * BASE.rate
    counts = [0] * BASE.distinct_questions
    for a in found:
        counts[a.question] += 1
    assert counts[0] == max(counts)  # the most popular question is the first
    assert sum(counts[:10]) > sum(counts[-1000:])  # a heavy head, a long thin tail
    assert arrivals(BASE) == found  # a fixed function of the seed
    assert arrivals(dataclasses.replace(BASE, seed=1)) != found


def test_questions_are_distinct_and_answers_fixed() -> None:
    texts = {question_text(k) for k in range(500)}
    assert len(texts) == 500
    q = question_text(7)
    assert answer_text(q) == answer_text(q)
    assert 40 <= len(answer_text(q).split()) < 200
    assert messages_for(7)[-1] == Message.user(q)


def test_fault_schedule_matches_its_rates() -> None:
    spec = dataclasses.replace(BASE.primary, timeout_rate=0.05, server_error_rate=0.10)
    faults = fault_schedule(spec, 10_000, seed=0)
    kinds = [f.kind for f in faults]
    assert 0.04 < kinds.count("timeout") / 10_000 < 0.06
    assert 0.08 < kinds.count("server_error") / 10_000 < 0.12
    assert fault_schedule(spec, 10_000, seed=0) == faults


# -----------------------------------------------------------------------------
# the simulated provider


def quiet(**changes: object) -> ProviderSpec:
    base = dataclasses.replace(BASE.primary, timeout_rate=0.0, server_error_rate=0.0)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_the_provider_takes_ttft_plus_decode_time_in_virtual_time() -> None:
    async def main() -> tuple[float, int]:
        provider = SimulatedProvider(quiet(ttft_sigma=0.0), epoch=LOOP_CLOCK.now())
        start = LOOP_CLOCK.now()
        completion = await provider.complete(messages_for(3))
        return LOOP_CLOCK.now() - start, completion.usage.output_tokens

    took, tokens = run_virtual(main())
    spec = BASE.primary
    assert took == pytest.approx(spec.median_ttft + tokens / spec.tokens_per_second)


def test_the_provider_answers_429_with_retry_after_once_its_bucket_is_empty() -> None:
    async def main() -> list[BaseException | None]:
        provider = SimulatedProvider(quiet(capacity_rps=1.0, burst=3.0), epoch=LOOP_CLOCK.now())
        results = await asyncio.gather(
            *(provider.complete(messages_for(k)) for k in range(5)), return_exceptions=True
        )
        assert provider.count("rate_limited") == 2
        assert provider.count("ok") == 3
        return [r if isinstance(r, BaseException) else None for r in results]

    errors = run_virtual(main())
    limited = [e for e in errors if isinstance(e, RateLimitError)]
    assert len(limited) == 2
    assert all(e.retry_after is not None and e.retry_after >= 1 for e in limited)


def test_the_provider_fails_everything_in_an_outage_and_recovers_after() -> None:
    async def main() -> tuple[BaseException | None, str]:
        provider = SimulatedProvider(quiet(outages=(Window(0.0, 5.0),)), epoch=LOOP_CLOCK.now())
        try:
            await provider.complete(messages_for(1))
            error = None
        except ServerError as exc:
            error = exc
        await LOOP_CLOCK.sleep(5.0)
        ok = await provider.complete(messages_for(1))
        assert [c.kind for c in provider.calls] == ["outage", "ok"]
        return error, ok.text

    error, text = run_virtual(main())
    assert isinstance(error, ServerError)
    assert error.status == 503
    assert text == answer_text(question_text(1))


def test_a_scheduled_timeout_hangs_until_the_client_timeout() -> None:
    async def main() -> float:
        provider = SimulatedProvider(quiet(timeout_rate=1.0), epoch=LOOP_CLOCK.now())
        start = LOOP_CLOCK.now()
        with pytest.raises(LLMTimeoutError):
            await provider.complete(messages_for(1))
        return LOOP_CLOCK.now() - start

    assert run_virtual(main()) == pytest.approx(BASE.primary.timeout_after)


def test_the_client_timeout_cuts_a_slow_answer_and_only_answers_are_billed() -> None:
    async def main() -> tuple[list[str], Decimal, Decimal]:
        tracker = CostTracker()
        slow = SimulatedProvider(
            quiet(ttft_sigma=0.0, timeout_after=0.5), tracker=tracker, epoch=LOOP_CLOCK.now()
        )
        with pytest.raises(LLMTimeoutError):
            await slow.complete(messages_for(1))
        broken = SimulatedProvider(
            quiet(server_error_rate=1.0), tracker=tracker, epoch=LOOP_CLOCK.now()
        )
        with pytest.raises(ServerError):
            await broken.complete(messages_for(1))
        unbilled = tracker.total()
        fine = SimulatedProvider(quiet(), tracker=tracker, epoch=LOOP_CLOCK.now())
        answer = await fine.complete(messages_for(1))
        expected = tracker.call_cost(BASE.primary.model, answer.usage)
        return [c.kind for c in slow.calls + broken.calls], unbilled, tracker.total() - expected

    kinds, unbilled, rest = run_virtual(main())
    assert kinds == ["timeout", "server_error"]
    assert unbilled == 0
    assert rest == 0


def test_the_breaker_ignores_rate_limits_and_root_error_unwraps() -> None:
    assert counts_against_breaker(ServerError("boom", status=503))
    assert counts_against_breaker(LLMTimeoutError("slow"))
    assert not counts_against_breaker(RateLimitError("busy", retry_after=1.0))
    inner = ServerError("down", status=503)
    wrapped = AllProvidersFailed([("a", RetryError(4, inner, "out of attempts"))])
    assert root_error(wrapped) is inner
    assert root_error(inner) is inner


# -----------------------------------------------------------------------------
# whole runs: determinism and the direction of every mechanism


@pytest.fixture(scope="module")
def small() -> dict[str, LoadReport]:
    return {stack.name: run_load(SMALL, stack) for stack in STACKS}


def test_identical_seeds_give_identical_reports(small: dict[str, LoadReport]) -> None:
    again = run_load(SMALL, CACHE)
    assert again == small[CACHE.name]
    other = run_load(dataclasses.replace(SMALL, seed=1), CACHE)
    assert other != again


def test_every_request_is_accounted_for(small: dict[str, LoadReport]) -> None:
    for report in small.values():
        assert report.requests == SMALL.requests
        assert sorted(o.id for o in report.outcomes) == list(range(SMALL.requests))
        assert all(o.finished >= o.arrival for o in report.outcomes)
        assert all(o.ok == (o.served_by is not None) for o in report.outcomes)
        assert all(o.ok == (o.error is None) for o in report.outcomes)
        # no request outlives the caller's timeout (small slack for the last timer)
        assert max(o.latency for o in report.outcomes) <= SMALL.request_timeout + 1e-6
        assert report.calls() == sum(o.attempts for o in report.outcomes)
        bins = timeline(report, 10.0)
        assert sum(b.arrivals for b in bins) == report.requests
        assert sum(b.successes for b in bins) == report.successes
        assert report.latency(0.5) <= report.latency(0.95) <= report.latency(0.99)


def test_the_naive_stack_sends_one_call_per_request(small: dict[str, LoadReport]) -> None:
    naive = small[NAIVE.name]
    assert naive.amplification == 1.0
    assert naive.calls("fallback") == 0
    assert naive.errors()  # it fails on every kind of fault


def test_retry_raises_the_success_rate_under_429s() -> None:
    naive = run_load(LIMITS_ONLY, NAIVE)
    retried = run_load(LIMITS_ONLY, RETRY)
    assert naive.errors()["RateLimitError"] > 0
    assert retried.success_rate > naive.success_rate
    assert retried.amplification > 1.0  # paid for with extra calls


def test_the_limiter_lowers_the_429_count() -> None:
    retried = run_load(LIMITS_ONLY, RETRY)
    limited = run_load(LIMITS_ONLY, LIMITER)
    assert retried.calls(kind="rate_limited") > 0
    # the client bucket runs below the provider's rate with a smaller burst: no 429 at all
    assert limited.calls("primary", "rate_limited") == 0
    assert limited.amplification < retried.amplification


def test_the_breaker_cuts_calls_to_the_failing_provider_during_the_outage() -> None:
    without = run_load(SMALL, Stack("retry", retry=True))
    with_breaker = run_load(SMALL, Stack("retry+breaker", retry=True, breaker=True))
    assert (
        calls_during(with_breaker, "primary", OUTAGE) < calls_during(without, "primary", OUTAGE) / 5
    )
    states = [state for _, state in with_breaker.breaker]
    assert "open" in states
    assert states[-1] == "closed"
    opened = next(t for t, state in with_breaker.breaker if state == "open")
    assert opened in OUTAGE


def test_fallback_raises_success_during_the_outage() -> None:
    without = run_load(SMALL, Stack("retry", retry=True))
    with_fallback = run_load(SMALL, Stack("retry+fallback", retry=True, fallback=True))
    assert success_during(with_fallback, OUTAGE) > success_during(without, OUTAGE) + 0.5
    assert with_fallback.calls("fallback") > 0
    # each answer is credited to the provider that gave it, which it called
    served = [o for o in with_fallback.outcomes if o.ok]
    assert {o.served_by for o in served} == {"primary", "fallback"}
    assert all(dict(o.calls).get(o.served_by or "", 0) > 0 for o in served)


def test_the_full_stack_answers_nearly_everything(small: dict[str, LoadReport]) -> None:
    full = small[FALLBACK.name]
    assert full.success_rate > small[NAIVE.name].success_rate
    assert full.success_rate > 0.98
    # the fallback route has retries of its own: its transient faults are sent again
    assert full.calls("fallback") > full.calls("fallback", "ok")
    assert any(dict(o.calls).get("fallback", 0) > 1 for o in full.outcomes)


def test_the_cache_raises_hit_rate_and_lowers_cost(small: dict[str, LoadReport]) -> None:
    without, cached = small[FALLBACK.name], small[CACHE.name]
    assert without.cache_hit_rate == 0.0
    assert cached.cache_hit_rate > 0.1
    assert cached.cost < without.cost
    assert cached.calls() < without.calls()
    assert cached.cost > Decimal(0)
    assert cached.latency(0.5) < without.latency(0.5)


def test_run_load_works_inside_a_running_event_loop() -> None:
    tiny = dataclasses.replace(SMALL, requests=50)

    async def main() -> LoadReport:
        return run_load(tiny, NAIVE)  # as in a notebook cell

    assert asyncio.run(main()) == run_load(tiny, NAIVE)


def test_a_breaker_that_counts_429s_opens_during_a_spike_without_an_outage() -> None:
    spike_only = dataclasses.replace(
        LIMITS_ONLY, primary=dataclasses.replace(LIMITS_ONLY.primary, capacity_rps=9.0)
    )
    careful = run_load(spike_only, Stack("b", retry=True, breaker=True))
    trigger_happy = run_load(
        spike_only, Stack("b429", retry=True, breaker=True, breaker_counts_429s=True)
    )
    assert careful.breaker == ()
    assert any(state == "open" for _, state in trigger_happy.breaker)
    assert trigger_happy.errors()["CircuitOpenError"] > 0
