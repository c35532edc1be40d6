"""Parse JSON while it streams in: show the object as it grows, never something it will undo.

A streamed structured reply arrives as a prefix, `{"title": "Rout`, then `{"title": "Route
planning", "steps": [`, and so on. A UI wants a value at every step. The trick: every prefix of
a JSON document is a valid document minus a suffix, so we track which brackets are open, cut
off the one piece that might still change, close what is open and let `json.loads` do the rest:

    {"title": "Rout           ->  {"title": "Rout"}            (a string grows: show it)
    {"title": "Route", "ste   ->  {"title": "Route"}           (a key is incomplete: hide it)
    {"n": 12                  ->  {}                           (12 may become 123: hide it)
    {"n": 12, "tags": ["a",   ->  {"n": 12, "tags": ["a"]}

What is shown is always consistent with the final value: a string shown is a prefix of the
final string, a key shown is a key of the final object with a consistent value, and a list
shown is at most as long as the final list. So the UI never has to take anything back. A
number or `true`/`false`/`null` appears only once something follows it (or at `close()`).

The scanner reads each character once; each snapshot then re-parses the buffer, so a stream
of n characters costs O(n) per update. A streaming parser that builds values in place (ijson)
avoids that; for replies of a few kilobytes it does not matter.

Leaves out: duplicate keys (the final value keeps the last; a snapshot may have shown the
first), prose or code fences around the JSON, and JSON5 extensions.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from llmprep.core.llm import StreamEvent, TextDelta


class PartialJSONError(ValueError):
    """The text is not a prefix of any JSON document (or, at `close()`, not a whole one)."""


class _Nothing:
    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Any = _Nothing()
"""The snapshot before anything can be shown: only whitespace so far, or a top-level number
or literal still being written. (`{"a` already shows `{}`.)"""

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_DIGITS = frozenset("0123456789")
_WHITESPACE = frozenset(" \t\n\r")  # JSON's four; no other Unicode space
_ESCAPES = frozenset('"\\/bfnrtu')
_HEX = frozenset("0123456789abcdefABCDEF")
_LITERALS = frozenset({"true", "false", "null"})

type _State = Literal["key_or_end", "key", "colon", "value", "value_or_end", "comma_or_end"]
_CLOSER = {"object": "}", "array": "]"}
_CAN_CLOSE = frozenset({"key_or_end", "value_or_end", "comma_or_end"})


@dataclass(slots=True)
class _Frame:
    kind: Literal["object", "array"]
    state: _State
    member_start: int  # cut here to drop the member being written (and its comma)


class PartialJSONParser:
    """Feed text as it arrives; read the best consistent value at any moment.

    Example:
        p = PartialJSONParser()
        p.feed('{"a": "he') == {"a": "he"};  p.feed('llo", "b": 1}') == {"a": "hello", "b": 1}
    """

    def __init__(self) -> None:
        self._buf: list[str] = []
        self._frames: list[_Frame] = []
        self._top: Literal["value", "done"] = "value"
        self._mode: Literal["none", "string", "key", "number", "literal"] = "none"
        self._token_start = 0  # where the current number or literal began
        self._escape_start = -1  # index of the backslash of an unfinished escape
        self._high_surrogate = -1  # index of a \uD8xx escape still waiting for its pair

    # -- reading -------------------------------------------------------------

    def feed(self, chunk: str) -> Any:
        """Consume `chunk` and return the current snapshot (see `value`)."""
        for ch in chunk:
            self._step(ch)
        return self.value

    @property
    def value(self) -> Any:
        """The largest value the text so far commits to, or NOTHING."""
        text = "".join(self._buf)
        cut, suffix = len(text), ""
        frame = self._frames[-1] if self._frames else None
        if self._mode == "string":
            cut, suffix = self._string_safe_end(), '"'
        elif self._mode != "none" or (frame and frame.state in ("key", "colon", "value")):
            if frame is None:
                return NOTHING  # a bare number or literal, still being written
            cut = frame.member_start
        elif frame is None and self._top == "value":
            return NOTHING  # nothing but whitespace yet
        closers = "".join(_CLOSER[f.kind] for f in reversed(self._frames))
        return json.loads(text[:cut] + suffix + closers)

    def close(self) -> Any:
        """The final value; raises `PartialJSONError` if the document is not complete."""
        if self._mode in ("number", "literal"):
            self._end_token()
        if self._frames or self._top != "done":
            raise PartialJSONError("the document is incomplete")
        return json.loads("".join(self._buf))

    # -- the scanner ---------------------------------------------------------

    def _step(self, ch: str) -> None:
        if self._mode in ("string", "key"):
            self._buf.append(ch)
            self._string_char(ch)
            return
        if self._mode in ("number", "literal"):
            if ch.isalnum() or ch in "+-.":
                self._buf.append(ch)
                return
            self._end_token()
        self._buf.append(ch)
        if ch not in _WHITESPACE:
            self._structural(ch, len(self._buf) - 1)

    def _structural(self, ch: str, i: int) -> None:
        frame = self._frames[-1] if self._frames else None
        state = frame.state if frame else ("value" if self._top == "value" else None)
        wants_value = state in ("value", "value_or_end")
        if ch == '"' and frame and state in ("key_or_end", "key"):
            self._mode = "key"
        elif ch == '"' and wants_value:
            self._mode = "string"
        elif ch in "{[" and wants_value:
            kind: Literal["object", "array"] = "object" if ch == "{" else "array"
            first: _State = "key_or_end" if ch == "{" else "value_or_end"
            self._frames.append(_Frame(kind, first, i + 1))
        elif frame and ch == _CLOSER[frame.kind] and state in _CAN_CLOSE:
            self._frames.pop()
            self._value_done()
        elif frame and ch == "," and state == "comma_or_end":
            frame.state = "key" if frame.kind == "object" else "value"
            frame.member_start = i
        elif frame and ch == ":" and state == "colon":
            frame.state = "value"
        elif (ch == "-" or ch in _DIGITS or ch in "tfn") and wants_value:
            self._mode = "literal" if ch in "tfn" else "number"
            self._token_start = i
        else:
            raise PartialJSONError(f"unexpected {ch!r} at char {i}")

    def _string_char(self, ch: str) -> None:
        i = len(self._buf) - 1
        if ord(ch) < 0x20:
            raise PartialJSONError(f"raw control character {ch!r} in a string at char {i}")
        if self._escape_start >= 0:
            escape = "".join(self._buf[self._escape_start :])
            if escape[1] not in _ESCAPES or (len(escape) > 2 and ch not in _HEX):
                where = self._escape_start
                raise PartialJSONError(f"bad escape {escape!r} at char {where}")
            if escape[1] == "u" and len(escape) < 6:
                return  # \u needs four hex digits
            self._escape_start = -1
            high = escape[1] == "u" and 0xD800 <= int(escape[2:], 16) <= 0xDBFF
            self._high_surrogate = i - 5 if high else -1
            return
        if ch == "\\":
            self._escape_start = i  # (a high surrogate before it stays pending)
            return
        self._high_surrogate = -1
        if ch == '"':
            was_key = self._mode == "key"
            self._mode = "none"
            self._value_done(key=was_key)

    def _end_token(self) -> None:
        token = "".join(self._buf[self._token_start :])
        ok = token in _LITERALS if self._mode == "literal" else _NUMBER.match(token)
        if not ok:
            raise PartialJSONError(f"not a JSON value: {token!r}")
        self._mode = "none"
        self._value_done()

    def _value_done(self, *, key: bool = False) -> None:
        if not self._frames:
            self._top = "done"
        elif key:
            self._frames[-1].state = "colon"
        else:
            self._frames[-1].state = "comma_or_end"

    def _string_safe_end(self) -> int:
        """Where the open string can be cut so that what is shown never changes later."""
        if self._high_surrogate >= 0:
            return self._high_surrogate  # half a surrogate pair: wait for the other half
        if self._escape_start >= 0:
            return self._escape_start  # half an escape: "\\" or "\\u00"
        return len(self._buf)


def parse_partial(text: str) -> Any:
    """The snapshot for a prefix of a JSON document (NOTHING if nothing is committed yet).

    Example: parse_partial('{"steps": ["boil", "ad') == {"steps": ["boil", "ad"]}
    """
    return PartialJSONParser().feed(text)


async def stream_partial_json(events: AsyncIterable[StreamEvent]) -> AsyncIterator[Any]:
    """Yield a fresh snapshot each time a streamed reply's text changes what can be shown.

    Example: async for snapshot in stream_partial_json(llm.stream(messages)): render(snapshot)
    """
    parser = PartialJSONParser()
    shown: Any = NOTHING
    async for event in events:
        if isinstance(event, TextDelta):
            snapshot = parser.feed(event.text)
            if snapshot is not NOTHING and snapshot != shown:
                shown = snapshot
                yield snapshot
