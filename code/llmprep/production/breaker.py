"""A circuit breaker: stop calling a provider that keeps failing, and probe until it recovers.

Retries help with a blip. During an outage they hurt: every request still waits through its
whole retry sequence before failing, and the retries add load to a service that is already
down. A breaker watches the failures and, past a threshold, fails fast without calling:

    closed --(failure_threshold failures in a row)--> open
    open --(recovery_time passes)--> half_open
    half_open --(half_open_calls probes succeed)--> closed
    half_open --(a probe fails)--> open (the recovery timer restarts)

While open, calls raise `CircuitOpenError` at once, which a `FallbackLLM` takes as "use the
next provider": failing fast is what makes the fallback fast. Only failures that say
something about the provider's health count (by default the retryable ones: 429, 5xx,
timeouts, connection errors); a 400 from a malformed request neither counts nor resets the
count.

Leaves out: failure-rate windows (open at 50% failures over the last 100 calls, which
behaves better at high traffic than a consecutive count), slow-call detection, and sharing
breaker state across processes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import ClassVar, Literal

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
from llmprep.production.retry import is_retryable
from llmprep.production.streaming import first_event, resume

type BreakerState = Literal["closed", "open", "half_open"]


class CircuitOpenError(LLMError):
    """The breaker is open (or its half-open probes are all in flight): no call was made.

    `retry_after` is the time until the breaker lets a probe through. Not retryable: the
    point of the breaker is that callers go elsewhere instead of waiting.
    """

    retryable: ClassVar[bool] = False

    def __init__(self, retry_after: float, name: str = "") -> None:
        label = f"circuit {name!r}" if name else "circuit"
        super().__init__(f"{label} is open; next probe in {retry_after:.3g}s")
        self.retry_after = retry_after
        self.name = name


class CircuitBreaker:
    """Counts failures of the calls it wraps and fails fast while the provider is down.

    Example:
        breaker = CircuitBreaker(failure_threshold=3, recovery_time=10, clock=clock)
        answer = await breaker.call(lambda: llm.complete(messages))
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        recovery_time: float = 30.0,
        half_open_calls: int = 1,
        clock: Clock = LOOP_CLOCK,
        counts: Callable[[BaseException], bool] = is_retryable,
        name: str = "",
    ) -> None:
        for label, n in (
            ("failure_threshold", failure_threshold),
            ("half_open_calls", half_open_calls),
        ):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"{label} must be an int >= 1, got {n!r}")
        if not recovery_time >= 0:
            raise ValueError(f"recovery_time must be >= 0 seconds, got {recovery_time!r}")
        self.failure_threshold = failure_threshold
        self.recovery_time = float(recovery_time)
        self.half_open_calls = half_open_calls
        self.clock = clock
        self.counts = counts
        self.name = name
        self._state: BreakerState = "closed"
        self.failures = 0  # counted failures in a row (closed state)
        self.rejected = 0  # calls refused without calling
        self._opened_at = 0.0
        self._probes_in_flight = 0
        self._probe_successes = 0
        self._round = 0  # which half-open period a probe belongs to
        self.transitions: list[tuple[float, BreakerState]] = []

    def _move(self, state: BreakerState, at: float) -> None:
        self._state = state
        self.transitions.append((at, state))

    @property
    def state(self) -> BreakerState:
        """The current state; an open breaker turns half-open once `recovery_time` has passed."""
        recovers_at = self._opened_at + self.recovery_time
        if self._state == "open" and self.clock.now() >= recovers_at:
            self._probes_in_flight = self._probe_successes = 0
            self._round += 1
            self._move("half_open", recovers_at)
        return self._state

    def retry_after(self) -> float:
        """Seconds until the breaker admits a probe (0 unless open)."""
        if self.state != "open":
            return 0.0
        return max(0.0, self._opened_at + self.recovery_time - self.clock.now())

    def _admit(self) -> int | None:
        """Let a call through or raise; return its probe round (None: not a probe)."""
        state = self.state
        if state == "open" or (
            state == "half_open" and self._probes_in_flight >= self.half_open_calls
        ):
            self.rejected += 1
            raise CircuitOpenError(self.retry_after(), self.name)
        if state == "closed":
            return None
        self._probes_in_flight += 1
        return self._round

    def _open(self) -> None:
        self._opened_at = self.clock.now()
        self.failures = 0
        self._move("open", self._opened_at)

    def _current_probe(self, probe: int | None) -> bool:
        """Is this a probe of the half-open period we are in now (not a stale one)?"""
        if probe is None or probe != self._round:
            return False
        self._probes_in_flight -= 1
        return self._state == "half_open"

    def _on_success(self, probe: int | None) -> None:
        if probe is None:
            self.failures = 0
        elif self._current_probe(probe):
            self._probe_successes += 1
            if self._probe_successes >= self.half_open_calls:
                self._move("closed", self.clock.now())

    def _on_failure(self, error: BaseException, probe: int | None) -> None:
        current = self._current_probe(probe)
        if not self.counts(error):
            return  # says nothing about the provider's health
        if current:
            self._open()
        elif probe is None and self._state == "closed":
            self.failures += 1
            if self.failures >= self.failure_threshold:
                self._open()

    async def call[T](self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run `fn` if the breaker admits it and count the outcome.

        Raises `CircuitOpenError` without calling `fn` while open, or while half-open with
        all `half_open_calls` probes in flight. Cancellation frees a probe slot but counts
        as neither success nor failure.
        """
        probe = self._admit()
        try:
            result = await fn()
        except Exception as error:
            self._on_failure(error, probe)
            raise
        except BaseException:
            self._current_probe(probe)
            raise
        self._on_success(probe)
        return result


class BreakerLLM:
    """An `LLM` behind a `CircuitBreaker`.

    A stream counts as a success once its first event arrives: failures that early are the
    provider's (connection, 429, 5xx); the breaker does not watch the rest of the stream.
    """

    def __init__(self, llm: LLM, breaker: CircuitBreaker) -> None:
        self.llm = llm
        self.breaker = breaker

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """`llm.complete` through the breaker."""
        return await self.breaker.call(
            lambda: self.llm.complete(messages, settings=settings, tools=tools)
        )

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        """`llm.stream` through the breaker, up to its first event."""
        events, first = await self.breaker.call(
            lambda: first_event(self.llm.stream(messages, settings=settings, tools=tools))
        )
        async for event in resume(events, first):
            yield event
