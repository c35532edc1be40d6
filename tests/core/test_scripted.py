"""ScriptedLLM: replies, rules, tool calls, streaming, usage, limits, latency, faults."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmprep.core.errors import (
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    ScriptExhaustedError,
    ServerError,
)
from llmprep.core.llm import StreamEnd, TextDelta, ToolCallEvent, collect
from llmprep.core.messages import (
    Completion,
    GenerationSettings,
    Message,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)
from llmprep.core.scripted import Fault, Reply, ReplyLike, ScriptedLLM, as_reply, chunk_text
from llmprep.core.tokens import count_message_tokens, count_tokens

from .conftest import run, to_list

HI = [Message.user("hi")]
WEATHER_CALL = ToolCall("call_1", "get_weather", {"city": "Oslo"})


def complete(llm: ScriptedLLM, messages: Sequence[Message] = HI, **kw: object) -> Completion:
    return run(llm.complete(messages, **kw))  # type: ignore[arg-type]


def streamed(llm: ScriptedLLM, messages: Sequence[Message] = HI, **kw: object) -> Completion:
    return run(collect(llm.stream(messages, **kw)))  # type: ignore[arg-type]


# -----------------------------------------------------------------------------
# replies


def test_script_replies_in_order_then_runs_out_naming_the_call() -> None:
    llm = ScriptedLLM(["one", "two"])
    assert [complete(llm).text, complete(llm).text] == ["one", "two"]
    assert llm.replies_left == 0
    with pytest.raises(ScriptExhaustedError, match="call 3 needs reply 3") as info:
        complete(llm)
    assert (info.value.call_number, info.value.script_length) == (3, 2)


def test_rule_function_answers_from_the_messages_and_never_runs_out() -> None:
    def echo(messages: Sequence[Message]) -> str:
        return messages[-1].content.upper()

    llm = ScriptedLLM(echo)
    assert complete(llm, [Message.user("quiet")]).text == "QUIET"
    assert complete(llm, [Message.user("again")]).text == "AGAIN"
    assert llm.replies_left is None


def test_replies_can_be_text_tool_calls_or_both() -> None:
    both = Reply("Let me check.", (WEATHER_CALL,))
    llm = ScriptedLLM(["plain", WEATHER_CALL, both])
    plain, call_only, mixed = complete(llm), complete(llm), complete(llm)
    assert (plain.text, plain.tool_calls, plain.finish_reason) == ("plain", (), "stop")
    assert (call_only.text, call_only.tool_calls) == ("", (WEATHER_CALL,))
    assert call_only.finish_reason == "tool_calls"
    assert (mixed.text, mixed.tool_calls) == ("Let me check.", (WEATHER_CALL,))


def test_an_explicit_finish_reason_wins() -> None:
    llm = ScriptedLLM([Reply("I can't help with that.", finish_reason="content_filter")])
    assert complete(llm).finish_reason == "content_filter"


def test_a_tool_loop_runs_end_to_end() -> None:
    llm = ScriptedLLM([WEATHER_CALL, "It is 4 °C in Oslo."])
    conversation = [Message.user("Weather in Oslo?")]
    first = complete(llm, conversation)
    conversation += [first.to_message(), ToolResult("call_1", "4 °C").to_message()]
    assert complete(llm, conversation).text == "It is 4 °C in Oslo."
    assert llm.calls[1].messages[-1] == Message("tool", "4 °C", tool_call_id="call_1")


def test_bad_construction_is_rejected() -> None:
    with pytest.raises(TypeError, match="list of replies"):
        ScriptedLLM("hello")
    with pytest.raises(ValueError, match="chunk_size"):
        ScriptedLLM(["x"], chunk_size=0)
    with pytest.raises(ValueError, match="negative"):
        ScriptedLLM(["x"], latency=-1)
    with pytest.raises(TypeError, match="str, ToolCall or Reply"):
        as_reply(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ToolCall values, got str"):
        Reply("x", ("get_weather",))  # type: ignore[arg-type]


def test_requests_are_validated_like_a_provider_would() -> None:
    llm = ScriptedLLM(["x"])
    with pytest.raises(ValueError, match="at least one message"):
        complete(llm, [])
    assert llm.calls == []


# -----------------------------------------------------------------------------
# recording


def test_calls_are_recorded_with_everything_they_received() -> None:
    llm = ScriptedLLM(["a", "b"])
    tools = [ToolSpec("get_weather", "Weather for a city.")]
    hot = GenerationSettings(temperature=1.2)
    complete(llm, HI, settings=hot, tools=tools)
    streamed(llm, [Message.system("terse"), Message.user("hey")])
    first, second = llm.calls
    assert (first.number, first.messages, first.settings, first.tools) == (
        1,
        tuple(HI),
        hot,
        tuple(tools),
    )
    assert (first.streamed, second.streamed) == (False, True)
    assert second.messages[0] == Message.system("terse")


# -----------------------------------------------------------------------------
# streaming


def test_stream_sends_chunks_then_tool_calls_then_the_end() -> None:
    llm = ScriptedLLM([Reply("Checking the weather", (WEATHER_CALL,))], chunk_size=8)
    events = run(to_list(llm.stream(HI)))
    assert events[:3] == [TextDelta("Checking"), TextDelta(" the wea"), TextDelta("ther")]
    assert events[3] == ToolCallEvent(WEATHER_CALL)
    end = events[4]
    assert isinstance(end, StreamEnd)
    assert (end.finish_reason, end.model) == ("tool_calls", "scripted")
    assert len(events) == 5


def test_collected_stream_equals_complete_for_the_same_script() -> None:
    script: list[ReplyLike] = ["Hello there!", Reply("Let me look.", (WEATHER_CALL,)), WEATHER_CALL]
    a, b = ScriptedLLM(script, chunk_size=3), ScriptedLLM(script, chunk_size=3)
    for _ in script:
        assert streamed(a) == complete(b)


@settings(max_examples=60, deadline=None)
@given(st.text(), st.integers(min_value=1, max_value=40))
def test_stream_chunks_reassemble_any_text(text: str, size: int) -> None:
    chunks = chunk_text(text, size)
    assert "".join(chunks) == text
    assert all(0 < len(c) <= size for c in chunks)
    llm = ScriptedLLM([text], chunk_size=size)
    twin = ScriptedLLM([text], chunk_size=size)
    assert streamed(llm) == complete(twin)


def test_empty_text_streams_no_text_events() -> None:
    events = run(to_list(ScriptedLLM([""]).stream(HI)))
    assert len(events) == 1
    assert isinstance(events[0], StreamEnd)


# -----------------------------------------------------------------------------
# usage, max_tokens and stop sequences


def test_usage_is_counted_with_the_real_tokenizer() -> None:
    messages = [Message.system("Be brief."), Message.user("Capital of France?")]
    result = complete(ScriptedLLM(["Paris is the capital of France."]), messages)
    assert result.usage == Usage(
        count_message_tokens(messages), count_tokens("Paris is the capital of France.")
    )


def test_tools_add_input_tokens_and_tool_calls_add_output_tokens() -> None:
    tool = ToolSpec("get_weather", "Current weather for a city.")
    without = complete(ScriptedLLM([WEATHER_CALL]))
    with_tools = complete(ScriptedLLM([WEATHER_CALL]), tools=[tool])
    assert with_tools.usage.input_tokens > without.usage.input_tokens
    expected_out = count_tokens("get_weather") + count_tokens('{"city": "Oslo"}')
    assert without.usage.output_tokens == expected_out


def test_max_tokens_truncates_text_and_reports_length() -> None:
    text = "one two three four five six seven eight"
    llm = ScriptedLLM([Reply(text, (WEATHER_CALL,))])
    result = complete(llm, settings=GenerationSettings(max_tokens=3))
    assert result.text == "one two three"
    assert (result.finish_reason, result.tool_calls) == ("length", ())
    assert result.usage.output_tokens == 3


def test_truncation_never_splits_a_character() -> None:
    # Each of these emoji is three or more tokens; 4 tokens fit one emoji, not two.
    result = complete(ScriptedLLM(["🚀🚀🚀"]), settings=GenerationSettings(max_tokens=4))
    assert result.text == "🚀"
    assert result.finish_reason == "length"


def test_text_that_fits_is_untouched() -> None:
    result = complete(ScriptedLLM(["short"]), settings=GenerationSettings(max_tokens=50))
    assert (result.text, result.finish_reason) == ("short", "stop")


def test_stop_sequence_cuts_at_its_first_occurrence() -> None:
    llm = ScriptedLLM(["Answer: 42\n\nExplanation: ...END"])
    result = complete(llm, settings=GenerationSettings(stop=("END", "\n\n")))
    assert (result.text, result.finish_reason) == ("Answer: 42", "stop")


# -----------------------------------------------------------------------------
# latency and faults


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every delay the scripted model asks asyncio for, recorded instead of slept (no test
    measures time)."""
    asked: list[float] = []

    async def record(delay: float, result: object = None) -> object:
        asked.append(delay)
        return result

    monkeypatch.setattr("llmprep.core.scripted.asyncio.sleep", record)
    return asked


def test_latency_delays_the_answer(sleeps: list[float]) -> None:
    llm = ScriptedLLM(["slow"], latency=0.05)
    assert complete(llm).text == "slow"
    assert sleeps == [0.05]


def test_chunk_delay_spaces_out_stream_events(sleeps: list[float]) -> None:
    llm = ScriptedLLM(["abcdef"], chunk_size=2, chunk_delay=0.02)
    assert streamed(llm).text == "abcdef"
    assert sleeps.count(0.02) == 3  # one delay per chunk of two characters


def test_faults_strike_on_their_call_numbers_only() -> None:
    llm = ScriptedLLM(
        ["first", "second", "third"],
        faults=[Fault.rate_limit(2, retry_after=1.5), Fault.timeout(3), Fault.server_error(5)],
    )
    assert complete(llm).text == "first"  # call 1
    with pytest.raises(RateLimitError) as limited:  # call 2
        complete(llm)
    assert limited.value.retry_after == 1.5
    assert limited.value.status == 429
    with pytest.raises(LLMTimeoutError):  # call 3
        complete(llm)
    assert complete(llm).text == "second"  # call 4: failed calls consumed no reply
    with pytest.raises(ServerError) as failed:  # call 5
        complete(llm)
    assert failed.value.status == 503
    assert complete(llm).text == "third"  # call 6
    assert [c.fault for c in llm.calls] == [
        None,
        "rate_limit",
        "timeout",
        None,
        "server_error",
        None,
    ]


def test_faults_hit_streams_before_the_first_event() -> None:
    llm = ScriptedLLM(["ok"], faults=[Fault.server_error(1, status=500)])
    received: list[object] = []

    async def consume() -> None:
        async for event in llm.stream(HI):
            received.append(event)

    with pytest.raises(ServerError, match="500"):
        run(consume())
    assert received == []
    assert streamed(llm).text == "ok"  # call 2 succeeds


def test_a_retry_loop_gets_through_scheduled_failures() -> None:
    llm = ScriptedLLM(["finally"], faults=[Fault.rate_limit(1), Fault.server_error(2)])
    failures: list[LLMError] = []
    while True:
        try:
            result = complete(llm)
            break
        except LLMError as error:
            if not error.retryable:
                raise
            failures.append(error)
    assert [type(f).__name__ for f in failures] == ["RateLimitError", "ServerError"]
    assert (result.text, len(llm.calls)) == ("finally", 3)


def test_fault_schedule_is_checked() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        Fault.timeout(0)
    with pytest.raises(ValueError, match="5xx"):
        Fault.server_error(1, status=404)
    with pytest.raises(ValueError, match="retry_after"):
        Fault(1, "timeout", retry_after=2.0)
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault(1, "meteor")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="two faults scheduled for call 2"):
        ScriptedLLM(["x"], faults=[Fault.timeout(2), Fault.rate_limit(2)])
