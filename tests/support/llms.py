"""Test doubles around an `LLM`, shared by the topic tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from llmprep.core.llm import LLM, StreamEvent
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    Message,
    ToolSpec,
)


class InFlight:
    """Wraps an LLM and records the largest number of `complete` calls running at once.

    Each call yields to the event loop a few times before it is answered, so concurrent
    callers overlap even when the wrapped model answers at once.
    """

    def __init__(self, llm: LLM) -> None:
        self.llm, self.running, self.peak = llm, 0, 0

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            for _ in range(3):  # yield to the loop, so other calls can start meanwhile
                await asyncio.sleep(0)
            return await self.llm.complete(messages, settings=settings, tools=tools)
        finally:
            self.running -= 1

    def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        return self.llm.stream(messages, settings=settings, tools=tools)
