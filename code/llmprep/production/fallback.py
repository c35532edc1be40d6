"""Fallbacks: when one provider fails, answer from the next one.

An outage at one provider should cost you latency, not availability. A `FallbackLLM`
holds an ordered list of routes (a primary and its backups, often another provider or a
smaller model) and tries them in order:

    try primary --(transient failure, or its breaker is open)--> try backup --> ...
    a request error (400, 401) --> raise at once: every provider would reject it too

Put the pieces together in this order, inside out: each route is its own provider behind
its own circuit breaker, its retries go around the breaker, and the fallback goes around
them all:

    FallbackLLM([Route("main", RetryingLLM(BreakerLLM(main, breaker))), Route("backup", ...)])

Retries outside the breaker matter: every attempt passes through the breaker, so each
failure counts towards opening it, and once it is open `CircuitOpenError` (not retryable)
ends the retries at once and hands the request to the backup. With the breaker outside, it
would see only the final `RetryError` of each retry sequence, which it does not count (that
error is not retryable), so it would never open.

The breaker is what makes the fallback fast during an outage: after a few failures the
primary fails in microseconds with `CircuitOpenError` instead of timing out on every call.

A stream falls back only before its first event: once the user has seen the start of one
model's answer, continuing with another model's answer would not make sense.

Leaves out: hedging (send to a second provider if the first is slow, keep the faster
answer), routing by cost or by task, and checking that the backup model is good enough
for the task (evaluate it before you rely on it: a fallback that answers badly is an
outage you cannot see).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from llmprep.core.errors import LLMError
from llmprep.core.llm import LLM, StreamEvent
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    Message,
    ToolSpec,
)
from llmprep.production.breaker import CircuitOpenError
from llmprep.production.retry import RetryError, is_retryable
from llmprep.production.streaming import first_event, resume


@dataclass(frozen=True, slots=True)
class Route:
    """One way to answer: a name (for metrics) and the LLM behind it."""

    name: str
    llm: LLM


class AllProvidersFailed(LLMError):  # noqa: N818 - the name the spec fixed
    """Every route failed; `errors` holds (route name, error) in the order tried.

    Not retryable: each route already retried; retrying the whole chain multiplies load.
    """

    retryable: ClassVar[bool] = False

    def __init__(self, errors: Sequence[tuple[str, BaseException]]) -> None:
        self.errors = tuple(errors)
        summary = "; ".join(f"{name}: {type(error).__name__}" for name, error in self.errors)
        super().__init__(f"all {len(self.errors)} routes failed ({summary})")


def falls_back(error: BaseException) -> bool:
    """Should the next route be tried? Yes for transient errors, open breakers and given-up
    retries; no for errors in the request itself, which the next provider would repeat."""
    return is_retryable(error) or isinstance(error, CircuitOpenError | RetryError)


class FallbackLLM:
    """An `LLM` that tries its routes in order until one answers.

    `served` counts which route answered; `failed` counts failures per route.

    Example:
        llm = FallbackLLM([Route("primary", primary), Route("backup", backup)])
        await llm.complete(messages); llm.served  # Counter({'primary': 1})
    """

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        should_fall_back: Callable[[BaseException], bool] = falls_back,
    ) -> None:
        routes = tuple(routes)
        if not routes:
            raise ValueError("a FallbackLLM needs at least one route")
        names = [route.name for route in routes]
        if len(set(names)) != len(names):
            raise ValueError(f"route names must be unique, got {names}")
        self.routes = routes
        self.should_fall_back = should_fall_back
        self.served: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()

    def _failure(
        self, route: Route, error: Exception, errors: list[tuple[str, BaseException]]
    ) -> None:
        if not self.should_fall_back(error):
            raise error
        self.failed[route.name] += 1
        errors.append((route.name, error))

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """The first route's answer that does not fail in a way worth falling back from."""
        errors: list[tuple[str, BaseException]] = []
        for route in self.routes:
            try:
                llm = route.llm
                completion = await llm.complete(messages, settings=settings, tools=tools)
            except Exception as error:
                self._failure(route, error, errors)
                continue
            self.served[route.name] += 1
            return completion
        raise AllProvidersFailed(errors) from errors[-1][1]

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        """The first route whose stream starts; later failures reach the caller unchanged."""
        errors: list[tuple[str, BaseException]] = []
        for route in self.routes:
            try:
                events, first = await first_event(
                    route.llm.stream(messages, settings=settings, tools=tools)
                )
            except Exception as error:
                self._failure(route, error, errors)
                continue
            self.served[route.name] += 1
            async for event in resume(events, first):
                yield event
            return
        raise AllProvidersFailed(errors) from errors[-1][1]
