"""SSE framing follows the WHATWG rules and survives any chunking; core streams round-trip
through SSE; measure reads TTFT and decode rate; relay applies back-pressure and cancels
its producer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.errors import ServerError
from llmprep.core.llm import StreamEnd, StreamEvent, TextDelta, collect
from llmprep.core.messages import Message, ToolCall, Usage
from llmprep.core.scripted import Reply, ScriptedLLM
from llmprep.production.clock import LOOP_CLOCK, run_virtual
from llmprep.production.streaming import (
    SSEDecoder,
    SSEEvent,
    aclose,
    decode_sse,
    encode_sse,
    from_sse,
    measure,
    relay,
    to_sse,
)

HI = [Message.user("hi")]


async def drain[T](events: AsyncIterator[T], into: list[T]) -> None:
    """Append every event to `into` (so a test can inspect them after an exception)."""
    async for event in events:
        into.append(event)


def test_encoding_writes_one_data_line_per_line() -> None:
    event = SSEEvent("a\nb", event="delta", id="7", retry=3000)
    assert encode_sse(event) == "event: delta\nid: 7\nretry: 3000\ndata: a\ndata: b\n\n"
    assert encode_sse(SSEEvent("")) == "data: \n\n"
    assert decode_sse(encode_sse(event)) == [event]


@pytest.mark.parametrize(
    ("event", "match"),
    [
        (SSEEvent("x", event="a\nb"), "event"),
        (SSEEvent("x", id="1\r2"), "id"),
        (SSEEvent("x", id="a\0b"), "U\\+0000"),
        (SSEEvent("x", retry=-5), "-5"),
    ],
)
def test_unencodable_fields_are_refused_by_value(event: SSEEvent, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        encode_sse(event)


def test_field_parsing_follows_the_standard() -> None:
    # Adapted from the web-platform-tests EventSource "field parsing" case: only exact,
    # lowercase "data" fields count; one space after the colon is stripped; a bare "data:"
    # adds an empty line; CR, LF and CRLF all end lines.
    stream = (
        "data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\r"
        "data:\r\n data:32\ndata:4\n\n"
    )
    assert decode_sse(stream) == [SSEEvent("\0\n 2\n1\n3\n\n4")]


def test_comments_blank_blocks_and_dataless_blocks_dispatch_nothing() -> None:
    decoder = SSEDecoder()
    stream = ": keep-alive\n\n\nid: 5\nretry: 1500\n\nevent: ping\n\ndata\n\n"
    assert decoder.feed(stream) == [SSEEvent("")]  # "data" with no colon: empty data
    assert decoder.last_event_id == "5"  # the id block set it, though nothing dispatched
    assert decoder.reconnection_time == 1500


def test_ids_persist_and_bad_ids_and_retries_are_ignored() -> None:
    decoder = SSEDecoder()
    events = decoder.feed("id: 1\ndata: a\n\ndata: b\n\nid: x\0y\nretry: 12s\ndata: c\n\n")
    assert events == [SSEEvent("a", id="1"), SSEEvent("b"), SSEEvent("c")]
    assert decoder.last_event_id == "1"
    assert decoder.reconnection_time is None
    # Only ASCII digits count: "\u0661\u0662" (Arabic-Indic 12) and "\u00b2" are digits to
    # str.isdigit, but the standard's "ASCII digits" rule ignores them.
    assert decoder.feed("retry: \u0661\u0662\nretry: \u00b2\ndata: d\n\n") == [SSEEvent("d")]
    assert decoder.reconnection_time is None


def test_a_leading_bom_is_ignored_once() -> None:
    assert decode_sse("\ufeffdata: a\n\n") == [SSEEvent("a")]
    decoder = SSEDecoder()
    assert decoder.feed("") == []
    assert decoder.feed("\ufeff") == []
    # A second BOM is part of the next field name, so that field is unknown and ignored.
    assert decoder.feed("\ufeffdata: a\n\ndata: b\n\n") == [SSEEvent("b")]


def test_an_unfinished_event_is_dropped_at_the_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed("data: done\n\ndata: cut off\n") == [SSEEvent("done")]
    assert decoder.close() == []
    assert decoder.incomplete


def test_a_crlf_split_across_chunks_is_one_line_break() -> None:
    decoder = SSEDecoder()
    assert decoder.feed("data: a\r") == []
    assert decoder.feed("\ndata: b\r") == []
    assert decoder.feed("\n\r") == [SSEEvent("a\nb")]
    assert decoder.feed("\n") == []  # the LF of the blank line's CRLF, not a second blank


def test_decoder_rejects_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        SSEDecoder().feed(b"data: x\n\n")  # type: ignore[arg-type]


single_line = st.text(st.characters(exclude_characters="\r\n\0"), max_size=12)
sse_events = st.builds(
    SSEEvent,
    data=st.text(st.characters(exclude_characters="\r"), max_size=30),
    event=st.none() | single_line.filter(bool),
    id=st.none() | single_line,
    retry=st.none() | st.integers(0, 10**6),
)


def split_at(text: str, cuts: Sequence[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]


@given(
    events=st.lists(sse_events, max_size=6),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
    cuts=st.lists(st.integers(0, 10_000), max_size=12),
)
def test_any_chunking_of_an_encoded_stream_decodes_to_the_same_events(
    events: list[SSEEvent], newline: str, bom: bool, cuts: list[int]
) -> None:
    text = ("\ufeff" if bom else "") + "".join(map(encode_sse, events)).replace("\n", newline)
    decoder = SSEDecoder()
    decoded = [e for chunk in split_at(text, cuts) for e in decoder.feed(chunk)]
    assert decoded + decoder.close() == events
    assert not decoder.incomplete


async def chunked(frames: AsyncIterator[str], cuts: Sequence[int]) -> AsyncIterator[str]:
    text = "".join([frame async for frame in frames])
    for chunk in split_at(text, cuts):
        yield chunk


@given(text=st.text(max_size=60), size=st.integers(1, 9), cuts=st.lists(st.integers(0, 999)))
def test_core_streams_round_trip_through_sse(text: str, size: int, cuts: list[int]) -> None:
    call = ToolCall("call_1", "search", {"q": "sse", "k": 3})
    llm = ScriptedLLM([Reply(text, (call,)), Reply(text, (call,))], chunk_size=size)

    async def main() -> tuple[list[StreamEvent], list[StreamEvent]]:
        direct = [event async for event in llm.stream(HI)]
        relayed = [event async for event in from_sse(chunked(to_sse(llm.stream(HI)), cuts))]
        return direct, relayed

    direct, relayed = asyncio.run(main())
    assert relayed == direct


def test_a_failure_mid_stream_becomes_an_error_frame_and_is_raised_again() -> None:
    async def failing() -> AsyncIterator[StreamEvent]:
        yield TextDelta("partial ")
        raise ServerError("upstream died", status=502)

    async def main() -> list[str]:
        frames = [frame async for frame in to_sse(failing())]

        async def replay() -> AsyncIterator[str]:
            for frame in frames:
                yield frame

        events: list[StreamEvent] = []
        with pytest.raises(ServerError, match="upstream died"):
            await drain(from_sse(replay()), events)
        received = [e.text for e in events if isinstance(e, TextDelta)]
        return [*received, frames[-1]]

    *texts, last = asyncio.run(main())
    assert texts == ["partial "]
    assert last.startswith("event: error\nid: 2\n")


def test_measure_separates_time_to_first_token_from_decode_rate() -> None:
    text = "x" * 80  # 10 chunks of 8 characters
    llm = ScriptedLLM([text], latency=0.4, chunk_delay=0.05)

    async def main() -> tuple[str, float, float, int, float]:
        completion, stats = await measure(llm.stream(HI))
        return (
            completion.text,
            stats.ttft,
            stats.total,
            stats.output_tokens,
            stats.tokens_per_second,
        )

    got, ttft, total, tokens, rate = run_virtual(main())
    assert got == text
    assert ttft == pytest.approx(0.4)
    assert total == pytest.approx(0.4 + 10 * 0.05)
    assert rate == pytest.approx((tokens - 1) / (10 * 0.05))


def test_measure_of_an_instant_stream_reports_no_decode_rate() -> None:
    async def instant() -> AsyncIterator[StreamEvent]:
        yield StreamEnd("stop", Usage(3, 0))

    completion, stats = asyncio.run(measure(instant(), clock=LOOP_CLOCK))
    assert completion.text == ""
    assert stats.tokens_per_second == 0.0
    assert stats.ttft == stats.total


class Source:
    """A producer of numbered events that records how far it got and whether it was closed."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.produced = 0
        self.closed = False

    async def events(self) -> AsyncIterator[int]:
        try:
            for i in range(self.n):
                self.produced += 1
                yield i
                await asyncio.sleep(0.01)  # the network delivers quickly...
        finally:
            self.closed = True


def test_relay_applies_back_pressure_to_a_fast_producer() -> None:
    source = Source(100)
    lead: list[int] = []

    async def main() -> list[int]:
        got: list[int] = []
        async for i in relay(source.events(), max_buffer=4):
            got.append(i)
            lead.append(source.produced - len(got))
            await asyncio.sleep(1.0)  # ...the client reads slowly
        return got

    assert run_virtual(main()) == list(range(100))
    assert max(lead) <= 4 + 1  # the queue, plus the one item the producer holds
    assert source.closed


def test_stopping_the_consumer_cancels_the_producer_and_closes_the_source() -> None:
    source = Source(1000)

    async def main() -> None:
        stream = relay(source.events(), max_buffer=2)
        async for i in stream:
            if i == 3:
                break
        await aclose(stream)

    run_virtual(main())
    assert source.closed
    assert source.produced < 10


def test_cancelling_the_consumer_task_closes_the_source() -> None:
    source = Source(1000)

    async def consume() -> None:
        async for _ in relay(source.events()):
            await asyncio.sleep(1.0)

    async def main() -> None:
        task = asyncio.create_task(consume())
        await asyncio.sleep(2.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run_virtual(main())
    assert source.closed
    assert source.produced < 30


def test_relay_passes_errors_through_and_checks_its_buffer() -> None:
    async def failing() -> AsyncIterator[int]:
        yield 1
        raise ServerError("boom")

    async def main() -> list[int]:
        got: list[int] = []
        with pytest.raises(ServerError, match="boom"):
            await drain(relay(failing()), got)
        return got

    assert asyncio.run(main()) == [1]

    async def bad_buffer() -> None:
        await anext(relay(failing(), max_buffer=0))

    with pytest.raises(ValueError, match="max_buffer"):
        asyncio.run(bad_buffer())


def test_relay_keeps_a_core_stream_intact() -> None:
    llm = ScriptedLLM(["relayed answer"], chunk_size=3)
    completion = asyncio.run(collect(relay(llm.stream(HI))))
    assert completion.text == "relayed answer"
