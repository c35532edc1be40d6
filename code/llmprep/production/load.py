"""A simulated load test: thousands of requests through five client stacks, in virtual time.

Resilience code is easy to write and hard to judge: a retry loop "works" on one request and
still melts a provider under load. This module measures it. A workload of several thousand
requests arrives as a Poisson process (with a traffic spike), each one a chat request whose
question is drawn from a Zipf distribution, so popular questions repeat the way real traffic
does. The requests go through a client stack to simulated providers:

    request -> [cache] -> [fallback: primary route | fallback route] -> provider
               primary route = [retry] -> [breaker] -> [limiter] -> primary provider

A `SimulatedProvider` is a `ScriptedLLM` (answers from a rule, real token counts, timeouts
and 5xx from its fault schedule) behind the things a real provider adds: log-normal time to
first token plus decode time at a fixed speed, its own capacity limit (a token bucket that
answers 429 with a retry-after when it is empty, so 429s come from the arrivals, not from a
dice roll), and an outage window in which every call fails with a 503.

Everything runs under `run_virtual`: `asyncio.sleep` costs no wall time and the order of
events is fixed, so a run of 4,000 requests takes a few seconds of wall time and the same
seed gives the same `LoadReport`, number for number.

    scenario = Scenario()                           # the book's defaults
    report = run_load(scenario, STACKS[1])          # the "retry" stack
    report.success_rate, report.latency(0.95), report.cost

Leaves out: streaming (requests are `complete` calls), per-tenant quotas, network queueing
inside the client, and any claim about a real provider's numbers: the latency, error rates
and capacities are the scenario's parameters, chosen to look plausible, not measurements.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from itertools import accumulate
from typing import Literal, get_args

import numpy as np

from llmprep.core.errors import LLMError, LLMTimeoutError, RateLimitError, ServerError
from llmprep.core.llm import LLM, StreamEvent
from llmprep.core.messages import Completion, GenerationSettings, Message, ToolSpec
from llmprep.core.scripted import Fault, ScriptedLLM
from llmprep.core.tokens import default_tokenizer
from llmprep.production.breaker import BreakerLLM, CircuitBreaker
from llmprep.production.cache import CachedLLM
from llmprep.production.clock import LOOP_CLOCK, Clock, run_virtual
from llmprep.production.cost import CostTracker
from llmprep.production.fallback import AllProvidersFailed, FallbackLLM, Route
from llmprep.production.limiter import RateLimitedLLM, TokenBucket
from llmprep.production.retry import RetryError, RetryingLLM, RetryPolicy, is_retryable
from llmprep.rag.cache import LRUCache

# What happened to one call at a provider, as the provider saw it.
type CallKind = Literal["ok", "rate_limited", "timeout", "server_error", "outage"]
CALL_KINDS: tuple[CallKind, ...] = get_args(CallKind.__value__)

SETTINGS = GenerationSettings(temperature=0.0, max_tokens=400)
"""Every simulated request: deterministic (so the exact-match cache may store it), capped."""

SYSTEM_PROMPT = (
    "You are the support assistant of an online shop. Answer in two or three short "
    "paragraphs, cite the policy you rely on, and never promise a refund you cannot see."
)


# -----------------------------------------------------------------------------
# the scenario


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of virtual time, [start, end) in seconds."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"a window needs 0 <= start < end, got {self.start}, {self.end}")

    def __contains__(self, t: object) -> bool:
        return isinstance(t, int | float) and self.start <= t < self.end


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One simulated provider: its price (by model), speed, capacity and failures."""

    name: str
    model: str  # a model in core.pricing.PRICES, for the cost
    capacity_rps: float  # requests per second it accepts (its token bucket's rate)
    burst: float  # its bucket's size: how many requests it takes at once
    median_ttft: float  # seconds to the first token, median of a log-normal
    ttft_sigma: float  # the log-normal's shape: larger means a heavier tail
    tokens_per_second: float  # decode speed after the first token
    timeout_rate: float  # share of admitted calls that hang until `timeout_after`
    server_error_rate: float  # share of admitted calls that fail with a 5xx
    timeout_after: float = 10.0  # the client's read timeout, seconds
    error_latency: float = 0.2  # how long a 5xx or an outage 503 takes to arrive
    outages: tuple[Window, ...] = ()

    def __post_init__(self) -> None:
        for label in ("capacity_rps", "burst", "median_ttft", "tokens_per_second"):
            if getattr(self, label) <= 0:
                raise ValueError(
                    f"{self.name}: {label} must be positive, got {getattr(self, label)}"
                )
        if self.ttft_sigma < 0 or self.timeout_after <= 0 or self.error_latency < 0:
            raise ValueError(f"{self.name}: negative sigma, timeout or error latency")
        for label in ("timeout_rate", "server_error_rate"):
            if not 0 <= getattr(self, label) <= 1:
                raise ValueError(
                    f"{self.name}: {label} must be in [0, 1], got {getattr(self, label)}"
                )
        if self.timeout_rate + self.server_error_rate > 1:
            raise ValueError(f"{self.name}: timeout_rate + server_error_rate exceeds 1")


@dataclass(frozen=True, slots=True)
class Scenario:
    """The workload and the two providers. The defaults are the chapter's scenario."""

    requests: int = 4000
    rate: float = 9.0  # arrivals per second outside the spike
    spike: Window | None = Window(100.0, 120.0)
    spike_rate: float = 20.0
    distinct_questions: int = 20_000
    zipf_s: float = 0.8  # popularity of the k-th question is proportional to 1 / k**s
    primary: ProviderSpec = ProviderSpec(
        "primary",
        "gpt-5.6-terra",
        capacity_rps=15.0,
        burst=20.0,
        median_ttft=0.6,
        ttft_sigma=0.5,
        tokens_per_second=80.0,
        timeout_rate=0.01,
        server_error_rate=0.02,
        outages=(Window(220.0, 280.0),),
    )
    fallback: ProviderSpec = ProviderSpec(
        "fallback",
        "claude-sonnet-5-5",
        capacity_rps=14.0,
        burst=20.0,
        median_ttft=0.9,
        ttft_sigma=0.6,
        tokens_per_second=50.0,
        timeout_rate=0.01,
        server_error_rate=0.02,
    )
    request_timeout: float = 30.0  # the caller gives up on a request after this long
    seed: int = 0

    def __post_init__(self) -> None:
        if self.request_timeout <= 0:
            raise ValueError(f"request_timeout must be positive, got {self.request_timeout}")
        if (
            isinstance(self.requests, bool)
            or not isinstance(self.requests, int)
            or self.requests < 1
        ):
            raise ValueError(f"requests must be a positive int, got {self.requests!r}")
        if self.rate <= 0 or self.spike_rate <= 0:
            raise ValueError(f"arrival rates must be positive, got {self.rate}, {self.spike_rate}")
        if self.distinct_questions < 1 or self.zipf_s < 0:
            raise ValueError("distinct_questions must be >= 1 and zipf_s >= 0")


@dataclass(frozen=True, slots=True)
class Stack:
    """Which client-side mechanisms wrap the providers (a configuration, not code)."""

    name: str
    retry: bool = False
    limiter: bool = False
    breaker: bool = False
    fallback: bool = False
    cache: bool = False
    breaker_counts_429s: bool = False  # the pitfall: a breaker that opens on rate limits


STACKS: tuple[Stack, ...] = (
    Stack("naive"),
    Stack("retry", retry=True),
    Stack("retry+limiter", retry=True, limiter=True),
    Stack("+breaker+fallback", retry=True, limiter=True, breaker=True, fallback=True),
    Stack("+cache", retry=True, limiter=True, breaker=True, fallback=True, cache=True),
)
"""The five stacks the chapter compares, each adding one layer to the one before."""


# -----------------------------------------------------------------------------
# the workload


@dataclass(frozen=True, slots=True)
class Arrival:
    """Request `id` arrives at virtual time `at` and asks question number `question`."""

    id: int
    at: float
    question: int


def arrivals(scenario: Scenario) -> list[Arrival]:
    """The workload: Poisson arrivals (faster inside the spike), Zipf-distributed questions.

    Why Poisson: independent users give exponential gaps between requests, which is what
    makes 429s appear before the average rate reaches the limit. Why Zipf: a few questions
    are asked very often and most rarely, the shape that decides a cache's hit rate.
    """
    rng = random.Random(f"arrivals-{scenario.seed}")
    ranks = range(1, scenario.distinct_questions + 1)
    weights = [1 / k**scenario.zipf_s for k in ranks]
    cumulative = list(accumulate(weights))
    out: list[Arrival] = []
    t = 0.0
    for i in range(scenario.requests):
        in_spike = scenario.spike is not None and t in scenario.spike
        t += rng.expovariate(scenario.spike_rate if in_spike else scenario.rate)
        (k,) = rng.choices(range(scenario.distinct_questions), cum_weights=cumulative)
        out.append(Arrival(i, t, k))
    return out


_TOPICS = ("refund", "delivery", "invoice", "password", "warranty", "discount", "return")
_ACTIONS = ("change", "cancel", "track", "reset", "claim", "explain", "check")


def question_text(k: int) -> str:
    """The text of question number `k` (distinct for every k)."""
    topic, action = _TOPICS[k % len(_TOPICS)], _ACTIONS[(k // len(_TOPICS)) % len(_ACTIONS)]
    return f"Ticket {k}: how do I {action} the {topic} on my order number {1000 + k}?"


def messages_for(k: int) -> tuple[Message, ...]:
    return (Message.system(SYSTEM_PROMPT), Message.user(question_text(k)))


_ANSWER_TEXT = (
    "your order can be changed from the account page within two days of purchase and "
    "the policy applies to every item we ship unless the seller says otherwise so please "
    "check the confirmation email first then contact support with the ticket number"
)
_WORDS = _ANSWER_TEXT.split()


@cache
def answer_text(question: str) -> str:
    """The scripted answer to a question: 40 to 199 words, a fixed function of the text."""
    words = 40 + (sum(map(ord, question)) * 7919) % 160
    return " ".join(_WORDS[(i * 7) % len(_WORDS)] for i in range(words)) + "."


def answer_rule(messages: Sequence[Message]) -> str:
    """The `ScriptedLLM` rule: answer the last user message."""
    return answer_text(messages[-1].content)


class MemoTokenizer:
    """cl100k_base with counts remembered per text: the simulation sends each of its few
    thousand distinct texts many times, and tokenizing them again is the slowest step."""

    def __init__(self) -> None:
        self._tok = default_tokenizer()
        self._count = cache(self._tok.count)

    @property
    def name(self) -> str:
        return self._tok.name

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self._tok.decode(ids)

    def count(self, text: str) -> int:
        return self._count(text)


# -----------------------------------------------------------------------------
# the provider


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One call as the provider saw it: when it arrived and what became of it."""

    at: float
    kind: CallKind


def fault_schedule(spec: ProviderSpec, calls: int, seed: int) -> list[Fault]:
    """Timeouts and 5xx for the first `calls` admitted calls, drawn once from the seed."""
    rng = random.Random(f"faults-{spec.name}-{seed}")
    faults: list[Fault] = []
    for n in range(1, calls + 1):
        u = rng.random()
        if u < spec.timeout_rate:
            faults.append(Fault.timeout(n))
        elif u < spec.timeout_rate + spec.server_error_rate:
            faults.append(Fault.server_error(n, status=rng.choice((500, 502, 503))))
    return faults


class SimulatedProvider:
    """An `LLM` that behaves like a hosted API under load (see the module docstring).

    The order of checks is the provider's: an outage answers 503 to everything; then the
    capacity bucket admits the call or answers 429 with a retry-after (the time until a slot
    frees, rounded up to whole seconds, as real APIs send it); only admitted calls reach the
    scripted model, whose fault schedule decides timeouts and 5xx.
    """

    def __init__(
        self,
        spec: ProviderSpec,
        *,
        seed: int = 0,
        clock: Clock = LOOP_CLOCK,
        tracker: CostTracker | None = None,
        feature: str = "load",
        max_calls: int = 100_000,
        epoch: float = 0.0,
    ) -> None:
        self.spec = spec
        self.clock = clock
        self.epoch = epoch  # the clock reading that counts as time 0 (outages, records)
        self.tracker = tracker
        self.feature = feature
        self.model = ScriptedLLM(
            answer_rule,
            model=spec.model,
            faults=fault_schedule(spec, max_calls, seed),
            tokenizer=MemoTokenizer(),
        )
        self.bucket = TokenBucket(spec.capacity_rps, spec.burst, clock=clock)
        self._rng = random.Random(f"latency-{spec.name}-{seed}")
        self.calls: list[CallRecord] = []

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        now = self.clock.now() - self.epoch
        spec = self.spec
        if any(now in w for w in spec.outages):
            self.calls.append(CallRecord(now, "outage"))
            await self.clock.sleep(spec.error_latency)
            raise ServerError(f"{spec.name}: 503 service unavailable (outage)", status=503)
        if not self.bucket.try_acquire(1):
            self.calls.append(CallRecord(now, "rate_limited"))
            wait = max(1.0, math.ceil(self.bucket.wait_time(1)))
            raise RateLimitError(f"{spec.name}: 429 over capacity", retry_after=wait)
        ttft = spec.median_ttft * math.exp(spec.ttft_sigma * self._rng.gauss(0.0, 1.0))
        try:
            completion = await self.model.complete(messages, settings=settings, tools=tools)
        except LLMTimeoutError:
            self.calls.append(CallRecord(now, "timeout"))
            await self.clock.sleep(spec.timeout_after)
            raise
        except ServerError:
            self.calls.append(CallRecord(now, "server_error"))
            await self.clock.sleep(spec.error_latency)
            raise
        decode = completion.usage.output_tokens / spec.tokens_per_second
        if ttft + decode >= spec.timeout_after:  # the tail is cut by the client's timeout
            self.calls.append(CallRecord(now, "timeout"))
            await self.clock.sleep(spec.timeout_after)
            raise LLMTimeoutError(f"{spec.name}: read timed out ({spec.timeout_after} s)")
        self.calls.append(CallRecord(now, "ok"))
        await self.clock.sleep(ttft + decode)
        if self.tracker is not None:
            self.tracker.record(
                tenant="load",
                feature=self.feature,
                model=spec.model,
                usage=completion.usage,
            )
        return completion

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError("the load simulation sends complete() calls only")
        yield  # pragma: no cover  (makes this an async generator, as the protocol expects)

    def count(self, kind: CallKind | None = None) -> int:
        """Calls received, or calls of one kind."""
        return len(self.calls) if kind is None else sum(c.kind == kind for c in self.calls)


# -----------------------------------------------------------------------------
# the client stacks

RETRY_POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0, deadline=20.0)
"""The retry policy of every stack with retries: four attempts within 20 seconds."""
LIMITER_SHARE = 0.95  # the client-side bucket's rate, as a share of the provider's capacity
BREAKER_THRESHOLD = 5  # failures in a row that open the breaker
BREAKER_RECOVERY = 15.0  # seconds the breaker stays open before it lets a probe through
CACHE_CAPACITY = 1000  # entries in the exact-match cache
CACHE_TTL = 600.0  # seconds an answer stays in it


def counts_against_breaker(error: BaseException) -> bool:
    """What the breaker counts as a failure: 5xx, timeouts and dropped connections.

    Not 429s: a rate limit says "slow down", not "I am broken", and a breaker that opens
    on 429s turns a busy minute into a 15-second outage of your own making.
    """
    return is_retryable(error) and not isinstance(error, RateLimitError)


@dataclass(slots=True)
class _RequestState:
    """What one request did below the cache (kept in a context variable per request)."""

    calls: Counter[str] = field(default_factory=Counter)
    served_by: str | None = None


_REQUEST: ContextVar[_RequestState | None] = ContextVar("load_request", default=None)


class _Tap:
    """Counts the calls the current request sends to one provider (an `LLM` wrapper)."""

    def __init__(self, llm: LLM, name: str) -> None:
        self.llm = llm
        self.name = name

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        state = _REQUEST.get()
        if state is not None:
            state.calls[self.name] += 1
        completion = await self.llm.complete(messages, settings=settings, tools=tools)
        if state is not None:
            state.served_by = self.name
        return completion

    def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        return self.llm.stream(messages, settings=settings, tools=tools)


@dataclass(frozen=True, slots=True)
class BuiltStack:
    """A stack's outermost `LLM`, and the parts a report reads afterwards."""

    llm: LLM
    breaker: CircuitBreaker | None
    cache: LRUCache[str, Completion] | None


def build_stack(
    stack: Stack,
    primary: LLM,
    fallback: LLM,
    *,
    capacity_rps: float,
    clock: Clock = LOOP_CLOCK,
    seed: int = 0,
) -> BuiltStack:
    """Wrap the providers in the layers `stack` asks for, innermost first.

    primary route: retry( breaker( limiter( primary ) ) ); the fallback route is retried
    too; the cache sits in front of everything, so a hit costs no call at all. The limiter
    runs at `LIMITER_SHARE` of the provider's capacity with a small burst, so it never lets
    through more than the provider accepts.
    """
    rng = random.Random(f"retry-{seed}")
    route: LLM = _Tap(primary, "primary")
    if stack.limiter:
        burst = max(1.0, capacity_rps / 2)
        bucket = TokenBucket(LIMITER_SHARE * capacity_rps, burst, clock=clock)
        route = RateLimitedLLM(route, bucket)
    breaker = None
    if stack.breaker:
        counts = is_retryable if stack.breaker_counts_429s else counts_against_breaker
        breaker = CircuitBreaker(
            failure_threshold=BREAKER_THRESHOLD,
            recovery_time=BREAKER_RECOVERY,
            clock=clock,
            counts=counts,
        )
        route = BreakerLLM(route, breaker)
    if stack.retry:
        route = RetryingLLM(route, RETRY_POLICY, clock=clock, rng=rng)
    llm = route
    if stack.fallback:
        second: LLM = _Tap(fallback, "fallback")
        if stack.retry:
            second = RetryingLLM(second, RETRY_POLICY, clock=clock, rng=rng)
        llm = FallbackLLM([Route("primary", route), Route("fallback", second)])
    cache = None
    if stack.cache:
        cache = LRUCache[str, Completion](CACHE_CAPACITY, ttl=CACHE_TTL, now=clock.now)
        llm = CachedLLM(llm, cache)
    return BuiltStack(llm, breaker, cache)


# -----------------------------------------------------------------------------
# running it


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request, end to end: when it arrived and finished, and how."""

    id: int
    arrival: float
    finished: float
    ok: bool
    error: str | None  # the class name of the underlying error, for a failed request
    calls: tuple[tuple[str, int], ...]  # calls sent to each provider, e.g. (("primary", 2),)
    served_by: str | None  # "primary", "fallback", "cache" or None (failed)

    @property
    def latency(self) -> float:
        return self.finished - self.arrival

    @property
    def attempts(self) -> int:
        return sum(n for _, n in self.calls)


def root_error(error: BaseException) -> BaseException:
    """The error underneath the wrappers' own (RetryError, AllProvidersFailed)."""
    while True:
        if isinstance(error, RetryError):
            error = error.last
        elif isinstance(error, AllProvidersFailed) and error.errors:
            error = error.errors[-1][1]
        else:
            return error


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What one stack did with the scenario's workload. Times are seconds from the start."""

    stack: str
    outcomes: tuple[Outcome, ...]
    provider_calls: tuple[tuple[str, tuple[CallRecord, ...]], ...]
    cost_by_provider: tuple[tuple[str, Decimal], ...]
    breaker: tuple[tuple[float, str], ...]  # (time, new state) of the primary's breaker
    duration: float  # virtual seconds until the last request finished

    @property
    def requests(self) -> int:
        return len(self.outcomes)

    @property
    def successes(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def success_rate(self) -> float:
        return self.successes / self.requests

    def latency(self, q: float) -> float:
        """The q-quantile (0.5, 0.95, 0.99) of latency over the successful requests."""
        values = [o.latency for o in self.outcomes if o.ok]
        return float(np.quantile(values, q)) if values else math.nan

    @property
    def cost(self) -> Decimal:
        return sum((c for _, c in self.cost_by_provider), Decimal(0))

    def calls(self, provider: str | None = None, kind: CallKind | None = None) -> int:
        """Calls the providers received (one provider's, or of one kind)."""
        return sum(
            1
            for name, records in self.provider_calls
            if provider in (None, name)
            for r in records
            if kind in (None, r.kind)
        )

    @property
    def amplification(self) -> float:
        """Provider calls per request: 1.0 means no call was repeated; below 1, a cache."""
        return self.calls() / self.requests

    @property
    def cache_hit_rate(self) -> float:
        return sum(o.served_by == "cache" for o in self.outcomes) / self.requests

    def errors(self) -> Counter[str]:
        """Failed requests by the error underneath."""
        return Counter(o.error for o in self.outcomes if o.error is not None)


async def simulate(
    scenario: Scenario,
    stack: Stack,
    *,
    clock: Clock = LOOP_CLOCK,
) -> LoadReport:
    """Send the scenario's workload through `stack` and measure every request.

    Runs on whatever event loop is running; `run_load` runs it in virtual time. Each
    request is its own task, started at its arrival time, so requests overlap as they do
    in a server, and the providers see the real concurrency.
    """
    t0 = clock.now()
    tracker = CostTracker()
    providers = {
        spec.name: SimulatedProvider(
            spec,
            seed=scenario.seed,
            clock=clock,
            tracker=tracker,
            feature=spec.name,
            max_calls=12 * scenario.requests,
            epoch=t0,
        )
        for spec in (scenario.primary, scenario.fallback)
    }
    built = build_stack(
        stack,
        providers[scenario.primary.name],
        providers[scenario.fallback.name],
        capacity_rps=scenario.primary.capacity_rps,
        clock=clock,
        seed=scenario.seed,
    )
    outcomes: list[Outcome] = []

    async def one(arrival: Arrival) -> None:
        state = _RequestState()
        _REQUEST.set(state)  # each task runs in its own copy of the context
        ok, error = True, None
        try:
            async with asyncio.timeout(scenario.request_timeout):
                messages = messages_for(arrival.question)
                await built.llm.complete(messages, settings=SETTINGS)
        except LLMError as exc:
            ok, error = False, type(root_error(exc)).__name__
        except TimeoutError:  # the caller's own deadline: the request is lost
            ok, error = False, "RequestTimeout"
        served = state.served_by if ok else None
        if ok and not state.calls:
            served = "cache"
        outcomes.append(
            Outcome(
                arrival.id,
                arrival.at,
                clock.now() - t0,
                ok,
                error,
                tuple(sorted(state.calls.items())),
                served,
            )
        )

    async with asyncio.TaskGroup() as group:
        for arrival in arrivals(scenario):
            await clock.sleep(max(0.0, t0 + arrival.at - clock.now()))
            group.create_task(one(arrival))
    outcomes.sort(key=lambda o: o.id)
    costs = tuple((name, tracker.total(feature=name)) for name in providers)
    moves = built.breaker.transitions if built.breaker else []
    transitions = tuple((t - t0, state) for t, state in moves)
    return LoadReport(
        stack.name,
        tuple(outcomes),
        tuple((name, tuple(p.calls)) for name, p in providers.items()),
        costs,
        transitions,
        max(o.finished for o in outcomes),
    )


def run_load(scenario: Scenario, stack: Stack) -> LoadReport:
    """`simulate` on a fresh event loop in virtual time (no wall-clock waiting).

    Where an event loop already runs in this thread (a notebook, an async test), the
    virtual loop runs in a worker thread instead: one thread cannot run two loops.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_virtual(simulate(scenario, stack))
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: run_virtual(simulate(scenario, stack))).result()


def run_all(scenario: Scenario, stacks: Sequence[Stack] = STACKS) -> list[LoadReport]:
    """Every stack on the same workload and the same provider faults."""
    return [run_load(scenario, stack) for stack in stacks]


# -----------------------------------------------------------------------------
# reading a report over time


@dataclass(frozen=True, slots=True)
class Bin:
    """One slice of a run's timeline (rates per second over [start, start + width))."""

    start: float
    width: float
    arrivals: int
    successes: int  # of the requests that arrived in this slice
    calls: tuple[tuple[str, int], ...]  # calls each provider received in this slice
    failed_calls: tuple[tuple[str, int], ...]  # of which failed (any kind but "ok")

    @property
    def success_rate(self) -> float:
        return self.successes / self.arrivals if self.arrivals else math.nan


def timeline(report: LoadReport, width: float = 5.0) -> list[Bin]:
    """The run cut into slices of `width` seconds, for the outage figure."""
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    end = max(o.arrival for o in report.outcomes)
    bins: list[Bin] = []
    for i in range(int(end // width) + 1):
        lo, hi = i * width, (i + 1) * width
        mine = [o for o in report.outcomes if lo <= o.arrival < hi]
        calls, failed = [], []
        for name, records in report.provider_calls:
            here = [r for r in records if lo <= r.at < hi]
            calls.append((name, len(here)))
            failed.append((name, sum(r.kind != "ok" for r in here)))
        bins.append(Bin(lo, width, len(mine), sum(o.ok for o in mine), tuple(calls), tuple(failed)))
    return bins
