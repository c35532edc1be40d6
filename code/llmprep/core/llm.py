"""The one interface every example in the book talks to: `LLM`.

An `LLM` does two things. `complete` sends a conversation and waits for the whole answer.
`stream` sends the same request and hands the answer back piece by piece, as it is written,
so a user sees the first words after the time-to-first-token instead of the full latency:

    stream:  TextDelta("The ") TextDelta("answer ") ... ToolCallEvent(call) ... StreamEnd(usage)

`LLM` is a `typing.Protocol`: anything with these two methods is an LLM, no base class
needed. The scripted model and the OpenAI and Anthropic adapters all satisfy it, so an
example written against `LLM` runs offline in the book and against a real provider with a
one-line change.

`collect` reassembles a stream into the `Completion` that `complete` would have returned;
the tests hold every implementation to `collect(llm.stream(m)) == await llm.complete(m)`.

Leaves out: cancellation and backpressure (an async iterator gives you both for free: stop
iterating), partial tool-call argument deltas (we emit each tool call once it is whole), and
batch APIs.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from llmprep.core.errors import LLMError
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    FinishReason,
    GenerationSettings,
    Message,
    ToolCall,
    ToolSpec,
    Usage,
)


@dataclass(frozen=True, slots=True)
class TextDelta:
    """The next piece of the answer's text."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallEvent:
    """A complete tool call: its JSON arguments have fully arrived and parsed."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The last event of every stream: why the model stopped and what the call cost."""

    finish_reason: FinishReason
    usage: Usage
    model: str = ""


type StreamEvent = TextDelta | ToolCallEvent | StreamEnd


@runtime_checkable
class LLM(Protocol):
    """A chat model you can call. Implemented by `ScriptedLLM`, `OpenAIChat`, `AnthropicChat`."""

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """Send the conversation; return the whole answer."""
        ...

    def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        """Send the conversation; yield the answer as events, ending with `StreamEnd`."""
        ...


async def collect(events: AsyncIterable[StreamEvent]) -> Completion:
    """Reassemble a stream into the `Completion` that `complete` would return.

    Why: streaming is how you show text early, but most logic (parsing, tool dispatch,
    cost accounting) wants the whole answer. Texts concatenate in order, tool calls keep
    their order, and usage and finish reason come from the final `StreamEnd`.

    Example: completion = await collect(llm.stream([Message.user("Hi")]))
    """
    parts: list[str] = []
    calls: list[ToolCall] = []
    end: StreamEnd | None = None
    async for event in events:
        if end is not None:
            raise LLMError(f"stream sent {event!r} after its final StreamEnd")
        match event:
            case TextDelta(text=text):
                parts.append(text)
            case ToolCallEvent(call=call):
                calls.append(call)
            case StreamEnd():
                end = event
    if end is None:
        raise LLMError("stream ended without a final StreamEnd event")
    return Completion(
        text="".join(parts),
        tool_calls=tuple(calls),
        finish_reason=end.finish_reason,
        usage=end.usage,
        model=end.model,
    )
