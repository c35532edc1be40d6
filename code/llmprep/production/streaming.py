"""Streaming in production: open a stream safely, frame it as SSE, measure it, relay it.

Streaming is what makes an LLM feel fast: the user reads the first words after the
time-to-first-token (TTFT) instead of waiting for the whole answer. The OpenAI and Anthropic
APIs stream over HTTP as Server-Sent Events (SSE, the `text/event-stream` format of the
WHATWG HTML standard), and a gateway that relays answers to a browser usually does too.
This module has:

    first_event / resume   guard a stream until its first event (retry, fallback, breakers)
    encode_sse             one event -> its text/event-stream frame
    SSEDecoder             incremental parser: chunks in (split anywhere), events out
    to_sse / from_sse      core StreamEvents <-> SSE frames with JSON data (a round trip)
    measure                TTFT, total time and decode rate of a stream
    relay                  a bounded buffer between a fast producer and a slow consumer:
                           back-pressure, and cancellation that reaches the producer

The decoder follows the standard's "Parsing an event stream" and "Interpreting an event
stream" rules (HTML Living Standard, section 9.2, https://html.spec.whatwg.org/multipage/
server-sent-events.html; checked on 2026-12-02 against a stored copy of that text and the
web-platform-tests EventSource cases):

- a line ends at CRLF, LF or CR; one leading byte-order mark (U+FEFF) is ignored;
- a blank line dispatches the event; a line starting with ":" is a comment;
- `name:value` sets a field, one space after the colon is dropped; a line with no colon
  is a field with an empty value; unknown field names are ignored;
- `data` lines join with "\\n"; a block with no `data` line is not dispatched (a bare
  "data:" line dispatches an event with empty data);
- `id` containing U+0000 is ignored; `retry` is used only if it is all ASCII digits;
- at the end of the stream an unfinished event is discarded.

Leaves out: bytes and UTF-8 decoding (feed `str`; decode with an incremental UTF-8 decoder
first), reconnection with `Last-Event-ID` (the decoder tracks the id a client would send),
WebSockets, and partial tool-call argument deltas.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

from llmprep.core.errors import (
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    ServerError,
)
from llmprep.core.llm import StreamEnd, StreamEvent, TextDelta, ToolCallEvent, collect
from llmprep.core.messages import Completion, ToolCall, Usage
from llmprep.production.clock import LOOP_CLOCK, Clock

# -----------------------------------------------------------------------------
# guarding the start of a stream


async def aclose(iterator: object) -> None:
    """Close an async iterator if it can be closed (async generators can: run `finally`)."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


async def first_event(
    events: AsyncIterator[StreamEvent],
) -> tuple[AsyncIterator[StreamEvent], StreamEvent | None]:
    """Pull a stream's first event; on failure close the stream and re-raise.

    Why a separate step: a wrapper that retries, falls back or counts failures can only
    act before the first event reaches the caller. After that the user has seen text, and
    starting again would show it twice. Providers fail most often at connection time (a
    429 or 503 arrives instead of the first event), so guarding this step covers most
    failures. Returns (the stream, its first event), or (stream, None) for an empty stream.
    """
    try:
        first = await anext(events, None)
    except BaseException:
        await aclose(events)
        raise
    return events, first


_NOT_PULLED: Any = object()


async def resume(
    events: AsyncIterator[StreamEvent], first: StreamEvent | None = _NOT_PULLED
) -> AsyncIterator[StreamEvent]:
    """Yield `first` (if given), then the rest of `events`; close `events` however we stop.

    `first` is the event `first_event` already pulled (None: the stream was empty); leave
    it out to relay a stream from its start.
    """
    try:
        if first is None:
            return
        if first is not _NOT_PULLED:
            yield first
        async for event in events:
            yield event
    finally:
        await aclose(events)


# -----------------------------------------------------------------------------
# SSE framing

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
BOM: Final = "\ufeff"


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One server-sent event. `event=None` is the default type ("message").

    `id` is the id field of this event's block (None if it had none); `retry` the
    reconnection time in milliseconds it asked for.
    """

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


def _single_line(label: str, value: str) -> str:
    if _LINE_BREAK.search(value):
        raise ValueError(f"SSE {label} cannot contain a line break, got {value!r}")
    return value


def encode_sse(event: SSEEvent) -> str:
    """The text/event-stream frame for `event`, ending with the blank line that dispatches it.

    Multi-line data becomes one `data:` line per line (CR and CRLF breaks become LF, the
    only break a decoder gives back). The space after each colon is optional in the
    format; we always write it, so a value that itself starts with a space survives.

    Example:
        encode_sse(SSEEvent("a\\nb", event="delta")) == "event: delta\\ndata: a\\ndata: b\\n\\n"
    """
    lines: list[str] = []
    if event.event is not None:
        lines.append(f"event: {_single_line('event', event.event)}")
    if event.id is not None:
        if "\0" in event.id:
            raise ValueError(f"SSE id cannot contain U+0000: {event.id!r}")
        lines.append(f"id: {_single_line('id', event.id)}")
    if event.retry is not None:
        retry = event.retry
        if isinstance(retry, bool) or not isinstance(retry, int) or retry < 0:
            raise ValueError(f"SSE retry must be an int >= 0 (ms), got {event.retry!r}")
        lines.append(f"retry: {event.retry}")
    lines.extend(f"data: {line}" for line in _LINE_BREAK.split(event.data))
    return "\n".join(lines) + "\n\n"


class SSEDecoder:
    """An incremental text/event-stream parser: `feed` chunks split anywhere, get events.

    Chunks from the network split wherever the TCP segment ended: inside a field name,
    between the CR and LF of one line break, inside the blank line. The decoder keeps the
    unfinished line and the event being built between calls, so the events do not depend
    on where the chunks were cut.

    `last_event_id` is the id a reconnecting client sends as `Last-Event-ID` (it persists
    across events); `reconnection_time` is the latest valid `retry` (ms) or None.

    Example:
        decoder = SSEDecoder()
        decoder.feed("data: hel") == []
        decoder.feed("lo\\r") == [] and decoder.feed("\\n\\r\\n") == [SSEEvent("hello")]
    """

    def __init__(self) -> None:
        self.last_event_id = ""
        self.reconnection_time: int | None = None
        self.incomplete = False  # did `close` discard an unfinished event?
        self._start_stream()

    def _start_stream(self) -> None:
        self._line = ""  # the unfinished line
        self._started = False  # seen any character yet (a BOM counts only first)
        self._after_cr = False  # the last chunk ended with CR: skip one LF at the start
        self._start_event()

    def _start_event(self) -> None:
        self._data: list[str] = []
        self._has_data = False
        self._event = ""
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: str) -> list[SSEEvent]:
        """Parse the next piece of the stream; return the events it completed."""
        if not isinstance(chunk, str):
            kind = type(chunk).__name__
            raise TypeError(f"feed str chunks (decode bytes first), got {kind}")
        if not self._started and chunk:
            self._started = True
            chunk = chunk.removeprefix(BOM)
        if self._after_cr and chunk:
            self._after_cr = False
            chunk = chunk.removeprefix("\n")
        events: list[SSEEvent] = []
        start = 0
        for match in _LINE_BREAK.finditer(chunk):
            line = self._line + chunk[start : match.start()]
            self._line = ""
            start = match.end()
            if match.group() == "\r" and match.end() == len(chunk):
                self._after_cr = True  # a CRLF may be split between this chunk and the next
            if (event := self._process(line)) is not None:
                events.append(event)
        self._line += chunk[start:]
        return events

    def close(self) -> list[SSEEvent]:
        """End of stream: an unfinished event is discarded, as the standard requires.

        Always returns [] (nothing is dispatched at the end); `incomplete` tells you
        whether something was thrown away. The decoder is ready for a new stream after.
        """
        self.incomplete = bool(self._line or self._has_data or self._event or self._id)
        self._start_stream()
        return []

    def _process(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment (servers send them as keep-alive heartbeats)
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        match name:
            case "data":
                self._data.append(value)
                self._has_data = True
            case "event":
                self._event = value
            case "id" if "\0" not in value:
                self._id = value
                self.last_event_id = value
            case "retry" if value.isascii() and value.isdigit():
                self._retry = self.reconnection_time = int(value)
            case _:
                pass  # unknown fields are ignored
        return None

    def _dispatch(self) -> SSEEvent | None:
        event = SSEEvent("\n".join(self._data), self._event or None, self._id, self._retry)
        has_data = self._has_data
        self._start_event()
        # A block without data (only id, retry or event fields) dispatches nothing.
        return event if has_data else None


def decode_sse(text: str) -> list[SSEEvent]:
    """All events of a complete stream (an unfinished last event is dropped)."""
    decoder = SSEDecoder()
    return decoder.feed(text) + decoder.close()


# -----------------------------------------------------------------------------
# core stream events <-> SSE

# Errors a relay can name in an "error" event, and rebuild on the other side.
_ERRORS: dict[str, type[LLMError]] = {
    cls.__name__: cls
    for cls in (RateLimitError, ServerError, LLMTimeoutError, LLMConnectionError, LLMError)
}


def to_frame(event: StreamEvent, number: int) -> SSEEvent:
    """One core stream event as an SSE event with JSON data; `number` becomes its id."""
    match event:
        case TextDelta(text=text):
            return SSEEvent(json.dumps({"text": text}), "delta", str(number))
        case ToolCallEvent(call=call):
            payload = {"id": call.id, "name": call.name, "arguments": call.arguments}
            return SSEEvent(json.dumps(payload), "tool_call", str(number))
        case StreamEnd(finish_reason=finish, usage=usage, model=model):
            payload = {
                "finish_reason": finish,
                "usage": {
                    "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens,
                },
                "model": model,
            }
            return SSEEvent(json.dumps(payload), "end", str(number))
    raise TypeError(f"not a stream event: {event!r}")


def from_frame(frame: SSEEvent) -> StreamEvent:
    """Rebuild a core stream event from its SSE frame; an "error" frame raises its error."""
    try:
        payload = json.loads(frame.data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"SSE data is not JSON: {frame.data!r:.80}") from exc
    match frame.event:
        case "delta":
            return TextDelta(payload["text"])
        case "tool_call":
            call = ToolCall(payload["id"], payload["name"], payload["arguments"])
            return ToolCallEvent(call)
        case "end":
            tokens = payload["usage"]
            usage = Usage(tokens["input_tokens"], tokens["output_tokens"])
            return StreamEnd(payload["finish_reason"], usage, payload.get("model", ""))
        case "error":
            cls = _ERRORS.get(payload.get("type", ""), LLMError)
            raise cls(payload.get("message", "stream failed"))
    raise ValueError(f"unknown SSE event type {frame.event!r}")


async def to_sse(events: AsyncIterable[StreamEvent]) -> AsyncIterator[str]:
    """Frame a stream as text/event-stream, one frame per event, ids counting from 1.

    A failure mid-stream becomes a final `event: error` frame: once a server has sent its
    200 status and the first bytes, an error can no longer be an HTTP status, so the
    providers' streaming APIs report it in-band the same way.
    """
    number = 0
    try:
        async for event in events:
            number += 1
            yield encode_sse(to_frame(event, number))
    except Exception as error:
        payload = {"type": type(error).__name__, "message": str(error)}
        yield encode_sse(SSEEvent(json.dumps(payload), "error", str(number + 1)))


async def from_sse(chunks: AsyncIterable[str]) -> AsyncIterator[StreamEvent]:
    """Parse text/event-stream chunks (split anywhere) back into core stream events."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for frame in decoder.feed(chunk):
            yield from_frame(frame)
    decoder.close()


# -----------------------------------------------------------------------------
# measuring a stream


@dataclass(frozen=True, slots=True)
class StreamStats:
    """Timings of one stream, in seconds.

    `ttft` is the time to the first text or tool call (the whole time if there was none);
    `tokens_per_second` the decode rate after it: (output_tokens - 1) / (total - ttft),
    counting the first token as arriving at `ttft` (0 when there was no decode phase).
    """

    ttft: float
    total: float
    output_tokens: int
    tokens_per_second: float


async def measure(
    events: AsyncIterable[StreamEvent], *, clock: Clock = LOOP_CLOCK
) -> tuple[Completion, StreamStats]:
    """Consume a stream; return its `Completion` and its `StreamStats`.

    Why TTFT and decode rate separately: they have different causes. TTFT is queueing
    plus prefill (it grows with the prompt); decode rate is how fast the model writes
    (it falls as a server batches more requests). A p95 of total latency hides which
    one regressed.
    """
    started = clock.now()
    first_at: float | None = None

    async def timed() -> AsyncIterator[StreamEvent]:
        """Relay the events, noting when the first text or tool call arrives."""
        nonlocal first_at
        async for event in events:
            if first_at is None and isinstance(event, TextDelta | ToolCallEvent):
                first_at = clock.now()
            yield event

    completion = await collect(timed())
    ended = clock.now()
    total = ended - started
    ttft = (first_at if first_at is not None else ended) - started
    decode_time = total - ttft
    tokens = completion.usage.output_tokens
    rate = (tokens - 1) / decode_time if decode_time > 0 and tokens > 1 else 0.0
    return completion, StreamStats(ttft, total, tokens, rate)


# -----------------------------------------------------------------------------
# relaying with back-pressure


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


_DONE: Final = object()


async def relay[E](
    events: AsyncIterable[E],
    *,
    max_buffer: int = 16,
) -> AsyncIterator[E]:
    """Re-yield `events` through a queue of at most `max_buffer` items.

    A producer task reads the source ahead of the consumer, so network reads and slow
    consumer work overlap, but it stops reading once `max_buffer` events wait unread:
    that is back-pressure, and it bounds memory however slow the client is. When the
    consumer stops early (breaks, `aclose`, or is cancelled, e.g. the user closed the
    tab), the producer is cancelled and the source closed, so the upstream request stops
    and its tokens stop costing money. An error in the source reaches the consumer.
    """
    if isinstance(max_buffer, bool) or not isinstance(max_buffer, int):
        raise ValueError(f"max_buffer must be an int >= 1, got {max_buffer!r}")
    if max_buffer < 1:
        raise ValueError(f"max_buffer must be an int >= 1, got {max_buffer!r}")
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max_buffer)

    async def produce() -> None:
        """Fill the queue from the source (waiting while full), then a sentinel."""
        try:
            async for event in events:
                await queue.put(event)
            await queue.put(_DONE)
        except Exception as error:
            await queue.put(_Failed(error))
        finally:
            await aclose(events)

    producer = asyncio.create_task(produce())
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
