"""Grader for drill sse-parser: the WHATWG event-stream rules one by one, then hypothesis:
events encoded by the library's `encode_sse`, with any line endings, cut into chunks
anywhere, must decode to the same events."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.production.streaming import SSEEvent as LibraryEvent
from llmprep.production.streaming import encode_sse
from tests.drills.target import load

m = load("sse-parser")


def decode(chunks: Sequence[str]) -> list[Any]:
    decoder = m.SSEDecoder()
    events: list[Any] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    events += decoder.close()
    return events


def fields(events: Sequence[Any]) -> list[tuple[str, str | None, str | None, int | None]]:
    """Compare events by value, whichever SSEEvent class made them."""
    return [(e.data, e.event, e.id, e.retry) for e in events]


def test_one_event() -> None:
    assert decode(["data: hello\n\n"]) == [m.SSEEvent("hello")]


def test_data_lines_join_with_newlines_and_one_space_is_dropped() -> None:
    text = "data: first\ndata:second\ndata:  third\ndata\n\n"
    assert decode([text]) == [m.SSEEvent("first\nsecond\n third\n")]


def test_event_id_and_retry_fields() -> None:
    text = "event: delta\nid: 7\nretry: 3000\ndata: x\n\nevent:\nretry: 3s\ndata: y\n\n"
    assert fields(decode([text])) == [("x", "delta", "7", 3000), ("y", None, None, None)]


def test_comments_and_unknown_fields_are_ignored() -> None:
    text = ": keep-alive\n\n:another\nDATA: no\nfoo: bar\ndata: yes\n\n"
    assert fields(decode([text])) == [("yes", None, None, None)]


def test_every_line_ending_works() -> None:
    text = "data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r"
    assert fields(decode([text])) == [("a\nb\nc", None, None, None), ("d", None, None, None)]


def test_a_crlf_split_across_chunks_is_one_line_break() -> None:
    decoder = m.SSEDecoder()
    assert decoder.feed("data: hel") == []
    assert decoder.feed("lo\r") == []
    assert fields(decoder.feed("\n\r\n")) == [("hello", None, None, None)]
    assert decoder.feed("data: next\r") == []
    assert fields(decoder.feed("\r")) == [("next", None, None, None)]


def test_a_block_without_data_dispatches_nothing_but_a_bare_data_line_does() -> None:
    assert decode(["event: ping\n\nretry: 10\n\n"]) == []
    assert fields(decode(["data\n\n"])) == [("", None, None, None)]
    assert fields(decode(["data:\n\n"])) == [("", None, None, None)]


def test_last_event_id_persists_and_nul_ids_are_ignored() -> None:
    decoder = m.SSEDecoder()
    assert decoder.last_event_id == ""
    events = decoder.feed("id: 1\ndata: a\n\ndata: b\n\nid: 2\n\nid: x\x00y\ndata: c\n\n")
    assert [(e.data, e.id) for e in events] == [("a", "1"), ("b", None), ("c", None)]
    assert decoder.last_event_id == "2"


def test_a_byte_order_mark_is_skipped_only_at_the_start() -> None:
    assert fields(decode(["\ufeffdata: x\n\n"])) == [("x", None, None, None)]
    assert fields(decode(["\ufeff", "data: x\n\n"])) == [("x", None, None, None)]
    assert fields(decode(["data: \ufeffy\n\n"])) == [("\ufeffy", None, None, None)]


def test_close_discards_an_unfinished_event() -> None:
    decoder = m.SSEDecoder()
    assert fields(decoder.feed("data: done\n\ndata: partial\n")) == [("done", None, None, None)]
    assert decoder.close() == []
    assert decode(["data: no blank line"]) == []


def test_an_llm_style_stream() -> None:
    chunks = [
        'data: {"delta": "Hel"}\n',
        '\ndata: {"delta": "lo"}\n\n: ping\n\nda',
        "ta: [DONE]\n\n",
    ]
    assert [e.data for e in decode(chunks)] == ['{"delta": "Hel"}', '{"delta": "lo"}', "[DONE]"]


def test_bytes_are_a_type_error() -> None:
    with pytest.raises(TypeError):
        m.SSEDecoder().feed(b"data: x\n\n")


text = st.text(alphabet=st.characters(blacklist_characters="\r\n\x00", codec="utf-8"), max_size=12)
events = st.lists(
    st.builds(
        LibraryEvent,
        data=st.lists(text, min_size=1, max_size=3).map("\n".join),
        event=st.none() | text.filter(bool),
        id=st.none() | text,
        retry=st.none() | st.integers(0, 10**6),
    ),
    max_size=6,
)


@given(
    stream=events,
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(0, 400), max_size=12),
    heartbeat=st.booleans(),
)
def test_property_chunking_does_not_change_the_events(
    stream: list[LibraryEvent], newline: str, cuts: list[int], heartbeat: bool
) -> None:
    frames = [encode_sse(e) for e in stream]
    if heartbeat:
        frames = [f": ping\n\n{f}" for f in frames]
    wire = "".join(frames).replace("\n", newline)
    points = sorted({0, len(wire), *(c for c in cuts if c < len(wire))})
    chunks = [wire[a:b] for a, b in itertools.pairwise(points)]
    assert fields(decode(chunks)) == fields(stream)
    assert fields(decode(list(wire))) == fields(stream), "one character at a time"
