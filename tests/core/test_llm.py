"""The LLM protocol and `collect`, which turns a stream back into a Completion."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from llmprep.core.errors import LLMError
from llmprep.core.llm import LLM, StreamEnd, StreamEvent, TextDelta, ToolCallEvent, collect
from llmprep.core.messages import Completion, Message, ToolCall, Usage
from llmprep.core.scripted import ScriptedLLM

from .conftest import run


async def events(*items: StreamEvent) -> AsyncIterator[StreamEvent]:
    for item in items:
        yield item


def test_collect_joins_text_keeps_tool_order_and_takes_the_end() -> None:
    first, second = ToolCall("a", "f", {"x": 1}), ToolCall("b", "g")
    stream = events(
        TextDelta("Hel"),
        TextDelta("lo"),
        ToolCallEvent(first),
        ToolCallEvent(second),
        StreamEnd("tool_calls", Usage(7, 3), "m1"),
    )
    assert run(collect(stream)) == Completion(
        "Hello", (first, second), "tool_calls", Usage(7, 3), "m1"
    )


def test_collect_rejects_a_stream_without_its_end() -> None:
    with pytest.raises(LLMError, match="without a final StreamEnd"):
        run(collect(events(TextDelta("cut off"))))


def test_collect_rejects_events_after_the_end() -> None:
    stream = events(StreamEnd("stop", Usage()), TextDelta("late"))
    with pytest.raises(LLMError, match="after its final StreamEnd"):
        run(collect(stream))


def test_scripted_model_satisfies_the_protocol() -> None:
    llm: LLM = ScriptedLLM(["ok"])  # checked statically by mypy
    assert isinstance(llm, LLM)  # and structurally at run time
    assert not isinstance(object(), LLM)
    assert run(llm.complete([Message.user("hi")])).text == "ok"
