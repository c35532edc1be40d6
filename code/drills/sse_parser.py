"""Drill: an incremental server-sent events parser, the wire format of LLM streaming.

"The model API streams its answer as text/event-stream. The network hands you chunks cut
anywhere: inside a field name, between the CR and the LF of one line break. Write the
decoder: feed it chunks, get back the events each chunk completed."

The format (WHATWG HTML, "Server-sent events"): lines end with CRLF, LF or CR. A blank
line dispatches the event built so far. In a line "name: value" the name runs to the
first ":" and one leading space of the value is dropped; a line without ":" is a field
with an empty value; a line starting with ":" is a comment (servers send them as
keep-alive heartbeats). Fields:
    data    appended to the data buffer; the lines of one event are joined with "\\n"
    event   the event type (None in `SSEEvent` when absent or empty)
    id      this event's id; also remembered in `last_event_id` until the next id (the
            `Last-Event-ID` a reconnecting client sends). A value containing U+0000 is
            ignored
    retry   reconnection time in ms, only if the value is ASCII digits; else ignored
    other   ignored (names are case-sensitive: "Data" is not "data")

Rules the grader checks:
- The events do not depend on where the chunks were cut.
- A block with no data field dispatches nothing; a bare "data" line dispatches "".
- One U+FEFF (byte order mark) at the very start of the stream is skipped.
- `close()` ends the stream: an event without its blank line is discarded (returns []).
- Feeding bytes is a `TypeError` (decode them first).

Leaves out: bytes and UTF-8 decoding, reconnection, the EventSource API around it.

Grade it: make drill NAME=sse-parser
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One event: its data, type (None: the default "message"), id and retry (ms)."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed it chunks of a text/event-stream; it returns the events they complete.

    Example:
        decoder = SSEDecoder()
        decoder.feed("data: hel") == []
        decoder.feed("lo\\r") == [] and decoder.feed("\\n\\r\\n") == [SSEEvent("hello")]
    """

    last_event_id: str
    """The latest id seen ("" before any), kept across events."""

    def __init__(self) -> None:
        """An empty decoder at the start of a stream."""
        raise NotImplementedError("drill sse-parser: implement SSEDecoder.__init__")

    def feed(self, chunk: str) -> list[SSEEvent]:
        """Parse the next piece of the stream; return the events it completed."""
        raise NotImplementedError("drill sse-parser: implement SSEDecoder.feed")

    def close(self) -> list[SSEEvent]:
        """End of stream: discard any unfinished event; return []."""
        raise NotImplementedError("drill sse-parser: implement SSEDecoder.close")
