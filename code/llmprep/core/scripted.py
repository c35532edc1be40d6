"""A scripted, offline LLM: deterministic answers, real token counts, failures on demand.

Every example in the book runs against `ScriptedLLM` so it needs no key, no network and no
luck. It behaves like a provider in the ways the book's code depends on:

- replies come from a script (a list, used in order) or a rule (a function of the messages);
- a reply can be text, tool calls, or both;
- `stream` cuts the same answer into chunks of `chunk_size` characters, so
  `collect(llm.stream(m)) == await llm.complete(m)`;
- usage is counted with the real cl100k_base tokenizer, so cost arithmetic is realistic;
- `settings.max_tokens` truncates the text (finish reason "length") and `settings.stop`
  cuts it at the first stop sequence, as real APIs do;
- it can wait (`latency`, `chunk_delay`) and fail on a schedule (`faults`): call 2 gets a
  429 with retry-after, call 5 times out. That is how the production chapters show retries
  and circuit breakers working for real;
- it records every call it receives (`calls`) for tests and chapters to inspect.

Call numbers count every attempt, starting at 1. A failed attempt consumes no reply, so a
retry gets the reply the failed attempt would have got, just as with a real provider.

Leaves out: sampling (the answer does not depend on temperature), failures in the middle of
a stream (faults strike before the first event), and honouring `response_format` (the
script decides what is returned).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from llmprep.core.errors import (
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    ScriptExhaustedError,
    ServerError,
)
from llmprep.core.llm import StreamEnd, StreamEvent, TextDelta, ToolCallEvent
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    FinishReason,
    GenerationSettings,
    Message,
    ToolCall,
    ToolSpec,
    Usage,
    as_conversation,
)
from llmprep.core.tokens import Tokenizer, count_message_tokens, default_tokenizer


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer. `finish_reason=None` means "work it out" (tool_calls or stop)."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: FinishReason | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        for call in self.tool_calls:
            if not isinstance(call, ToolCall):
                raise TypeError(f"tool_calls must hold ToolCall values, got {type(call).__name__}")


# What a script entry or a rule may return: plain text, one tool call, or a full Reply.
type ReplyLike = str | ToolCall | Reply
type Rule = Callable[[Sequence[Message]], ReplyLike]


def as_reply(value: ReplyLike) -> Reply:
    """Normalise a script entry: "hi" -> Reply("hi"), a ToolCall -> Reply(tool_calls=(call,))."""
    match value:
        case Reply():
            return value
        case str():
            return Reply(text=value)
        case ToolCall():
            return Reply(tool_calls=(value,))
    raise TypeError(f"a reply must be str, ToolCall or Reply, got {type(value).__name__}")


# -----------------------------------------------------------------------------
# failures on a schedule

type FaultKind = Literal["rate_limit", "timeout", "server_error"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind.__value__)


@dataclass(frozen=True, slots=True)
class Fault:
    """Make call number `call` (1-based) fail with `kind`.

    Example: [Fault.rate_limit(1, retry_after=2.0), Fault.server_error(3, status=503)]
    """

    call: int
    kind: FaultKind
    retry_after: float | None = None  # rate_limit only: seconds the "provider" asks you to wait
    status: int = 503  # server_error only: the 5xx status

    def __post_init__(self) -> None:
        if self.call < 1:
            raise ValueError(f"call numbers start at 1, got {self.call}")
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.retry_after is not None and (self.kind != "rate_limit" or self.retry_after < 0):
            raise ValueError("retry_after must be >= 0 and only on rate_limit faults")
        if not 500 <= self.status <= 599:
            raise ValueError(f"server errors are 5xx, got {self.status}")

    @classmethod
    def rate_limit(cls, call: int, retry_after: float | None = 1.0) -> Fault:
        return cls(call, "rate_limit", retry_after=retry_after)

    @classmethod
    def timeout(cls, call: int) -> Fault:
        return cls(call, "timeout")

    @classmethod
    def server_error(cls, call: int, status: int = 503) -> Fault:
        return cls(call, "server_error", status=status)

    def error(self) -> LLMError:
        """The exception a real adapter would raise for this failure."""
        prefix = f"scripted fault on call {self.call}"
        match self.kind:
            case "rate_limit":
                return RateLimitError(f"{prefix}: 429 rate limited", retry_after=self.retry_after)
            case "timeout":
                return LLMTimeoutError(f"{prefix}: request timed out")
            case "server_error":
                return ServerError(f"{prefix}: {self.status} server error", status=self.status)


# -----------------------------------------------------------------------------
# the model


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """What one call to the scripted model received, and whether it was made to fail."""

    number: int
    messages: tuple[Message, ...]
    settings: GenerationSettings
    tools: tuple[ToolSpec, ...]
    streamed: bool
    fault: FaultKind | None = None


class ScriptedLLM:
    """A deterministic, offline `LLM` (see the module docstring).

    Example:
        llm = ScriptedLLM(["Paris.", "Berlin."])
        (await llm.complete([Message.user("Capital of France?")])).text == "Paris."
    """

    def __init__(
        self,
        replies: Sequence[ReplyLike] | Rule,
        *,
        model: str = "scripted",
        chunk_size: int = 8,
        latency: float = 0.0,
        chunk_delay: float = 0.0,
        faults: Iterable[Fault] = (),
        tokenizer: Tokenizer | None = None,
    ) -> None:
        if isinstance(replies, str):
            raise TypeError("pass a list of replies, e.g. ScriptedLLM(['hi']), not a bare string")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
        if latency < 0 or chunk_delay < 0:
            raise ValueError("latency and chunk_delay cannot be negative")
        self._rule: Rule | None = replies if callable(replies) else None
        self._script: tuple[Reply, ...] = () if callable(replies) else tuple(map(as_reply, replies))
        self._faults: dict[int, Fault] = {}
        for fault in faults:
            if fault.call in self._faults:
                raise ValueError(f"two faults scheduled for call {fault.call}")
            self._faults[fault.call] = fault
        self.model = model
        self.chunk_size = chunk_size
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.tokenizer = tokenizer or default_tokenizer()
        self.calls: list[RecordedCall] = []
        self._replies_used = 0

    @property
    def replies_left(self) -> int | None:
        """Script entries not yet used (None for a rule, which never runs out)."""
        return None if self._rule else len(self._script) - self._replies_used

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """Answer with the next reply, after `latency` seconds (or fail, if scheduled)."""
        return await self._answer(messages, settings, tools, streamed=False)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        """The same answer as `complete`, as text chunks, then tool calls, then `StreamEnd`."""
        completion = await self._answer(messages, settings, tools, streamed=True)
        for chunk in chunk_text(completion.text, self.chunk_size):
            yield TextDelta(chunk)
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
        for call in completion.tool_calls:
            yield ToolCallEvent(call)
        yield StreamEnd(completion.finish_reason, completion.usage, completion.model)

    # -- internals ------------------------------------------------------------

    async def _answer(
        self,
        messages: Sequence[Message],
        settings: GenerationSettings,
        tools: Sequence[ToolSpec],
        *,
        streamed: bool,
    ) -> Completion:
        conversation = as_conversation(messages)
        number = len(self.calls) + 1
        fault = self._faults.get(number)
        self.calls.append(
            RecordedCall(
                number,
                conversation,
                settings,
                tuple(tools),
                streamed,
                fault.kind if fault else None,
            )
        )
        if self.latency:
            await asyncio.sleep(self.latency)
        if fault:
            raise fault.error()
        reply = self._next_reply(number, conversation)
        return self._render(reply, conversation, settings, tools)

    def _next_reply(self, number: int, conversation: tuple[Message, ...]) -> Reply:
        if self._rule is not None:
            return as_reply(self._rule(conversation))
        if self._replies_used >= len(self._script):
            raise ScriptExhaustedError(number, len(self._script))
        reply = self._script[self._replies_used]
        self._replies_used += 1
        return reply

    def _render(
        self,
        reply: Reply,
        conversation: tuple[Message, ...],
        settings: GenerationSettings,
        tools: Sequence[ToolSpec],
    ) -> Completion:
        text, tool_calls, finish = reply.text, reply.tool_calls, reply.finish_reason
        # A stop sequence ends the text where it first appears (and is not returned).
        cut = min((i for s in settings.stop if (i := text.find(s)) >= 0), default=-1)
        if cut >= 0:
            text, tool_calls, finish = text[:cut], (), "stop"
        # max_tokens cuts the text; tool calls would have come after it, so they are lost.
        if settings.max_tokens is not None and self.tokenizer.count(text) > settings.max_tokens:
            text, tool_calls, finish = self._truncate(text, settings.max_tokens), (), "length"
        if finish is None:
            finish = "tool_calls" if tool_calls else "stop"
        tok = self.tokenizer
        input_tokens = count_message_tokens(conversation, tok) + sum(
            tok.count(json.dumps([t.name, t.description, t.parameters])) for t in tools
        )
        output_tokens = tok.count(text) + sum(
            tok.count(c.name) + tok.count(json.dumps(c.arguments)) for c in tool_calls
        )
        return Completion(text, tool_calls, finish, Usage(input_tokens, output_tokens), self.model)

    def _truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` that fits in `max_tokens` tokens."""
        prefix = self.tokenizer.decode(self.tokenizer.encode(text)[:max_tokens])
        # A token boundary can fall inside a multi-byte character; back off to a real prefix.
        while not text.startswith(prefix) or self.tokenizer.count(prefix) > max_tokens:
            prefix = prefix[:-1]
        return prefix


def chunk_text(text: str, size: int) -> list[str]:
    """Cut `text` into pieces of `size` characters (the last may be shorter).

    Real APIs send a token or a few per event; fixed-size character chunks keep the
    scripted stream deterministic while exercising the same reassembly code.

    Example: chunk_text("streaming", 4) == ["stre", "amin", "g"]
    """
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    return [text[i : i + size] for i in range(0, len(text), size)]
