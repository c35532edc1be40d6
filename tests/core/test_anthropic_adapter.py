"""AnthropicChat against the real `anthropic` SDK, with HTTP answered by a fake server.

Requests are asserted on the body the SDK sends; responses are real Messages API JSON and
real server-sent events (message_start, content_block_start / _delta / _stop, message_delta,
message_stop, and the occasional ping or error).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import anthropic
import httpx2
import pytest

from llmprep.core.errors import (
    AuthenticationError,
    BadRequestError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    ServerError,
    ToolArgumentsError,
)
from llmprep.core.llm import LLM, StreamEnd, StreamEvent, TextDelta, ToolCallEvent, collect
from llmprep.core.messages import (
    Completion,
    GenerationSettings,
    JSONSchema,
    Message,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)
from llmprep.core.providers.anthropic import AnthropicChat

from .conftest import FakeServer, json_response, run, sse_response, to_list

MODEL = "claude-sonnet-5-5"
HI = [Message.user("hi")]
WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def chat(server: FakeServer, **options: Any) -> AnthropicChat:
    client = anthropic.AsyncAnthropic(
        api_key="sk-ant-test", http_client=server.client(), max_retries=0
    )
    return AnthropicChat(client, MODEL, **options)


def message_json(
    content: list[dict[str, Any]],
    stop_reason: str = "end_turn",
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 15, "output_tokens": 4},
    }


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(id: str, name: str, input: object) -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": input}


def event(kind: str, **data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}"


def message_start(input_tokens: int = 25) -> str:
    message = message_json([], stop_reason=None)  # type: ignore[arg-type]
    message["usage"] = {"input_tokens": input_tokens, "output_tokens": 1}
    return event("message_start", message=message)


def text_block(index: int, *pieces: str) -> list[str]:
    return [
        event("content_block_start", index=index, content_block=text("")),
        *(
            event("content_block_delta", index=index, delta={"type": "text_delta", "text": p})
            for p in pieces
        ),
        event("content_block_stop", index=index),
    ]


def tool_block(index: int, id: str, name: str, *json_pieces: str) -> list[str]:
    return [
        event("content_block_start", index=index, content_block=tool_use(id, name, {})),
        *(
            event(
                "content_block_delta",
                index=index,
                delta={"type": "input_json_delta", "partial_json": p},
            )
            for p in json_pieces
        ),
        event("content_block_stop", index=index),
    ]


def message_end(stop_reason: str, output_tokens: int) -> list[str]:
    return [
        event(
            "message_delta",
            delta={"stop_reason": stop_reason, "stop_sequence": None},
            usage={"output_tokens": output_tokens},
        ),
        event("message_stop"),
    ]


def complete(server: FakeServer, messages: Sequence[Message] = HI, **kw: Any) -> Completion:
    return run(chat(server).complete(messages, **kw))


def stream_events(server: FakeServer, messages: Sequence[Message] = HI) -> list[StreamEvent]:
    return run(to_list(chat(server).stream(messages)))


def test_adapter_satisfies_the_protocol() -> None:
    llm: LLM = chat(FakeServer([]))
    assert isinstance(llm, LLM)


# -----------------------------------------------------------------------------
# plain replies


def test_plain_reply_maps_text_usage_finish_and_model() -> None:
    server = FakeServer([json_response(message_json([text("Paris.")]))])
    result = complete(server, [Message.system("Be brief."), Message.user("Capital of France?")])
    assert result == Completion("Paris.", (), "stop", Usage(15, 4), MODEL)
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/messages")
    # The key travels as x-api-key (older SDKs) or as a bearer token (2.x).
    auth = request.headers.get("x-api-key", "") + request.headers.get("authorization", "")
    assert "sk-ant-test" in auth
    assert "anthropic-version" in request.headers
    assert server.body == {
        "model": MODEL,
        "max_tokens": 1024,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Capital of France?"}],
    }


def test_settings_map_to_request_fields() -> None:
    server = FakeServer([json_response(message_json([text("{}")]))])
    schema = JSONSchema("answer", {"type": "object", "properties": {"a": {"type": "string"}}})
    settings = GenerationSettings(
        temperature=0.2, top_p=0.9, max_tokens=50, stop=("END",), response_format=schema
    )
    complete(server, settings=settings)
    body = server.body  # sampling fields go through extra_body but land in the same JSON
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.2, 0.9, 50)
    assert body["stop_sequences"] == ["END"]
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema.schema}}
    assert "system" not in body


def test_unset_sampling_settings_are_not_sent() -> None:
    # Newer Claude models reject sampling parameters, so "unset" must mean "absent".
    server = FakeServer([json_response(message_json([text("ok")]))])
    complete(server, settings=GenerationSettings(max_tokens=10))
    assert not {"temperature", "top_p", "stop_sequences", "output_config"} & server.body.keys()


def test_default_max_tokens_is_configurable() -> None:
    server = FakeServer([json_response(message_json([text("ok")]))])
    run(chat(server, default_max_tokens=256).complete(HI))
    assert server.body["max_tokens"] == 256


def test_default_max_tokens_must_be_positive() -> None:
    with pytest.raises(ValueError, match="default_max_tokens must be at least 1"):
        chat(FakeServer([]), default_max_tokens=0)


def test_cache_tokens_count_as_input() -> None:
    usage = {
        "input_tokens": 10,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 1000,
        "output_tokens": 5,
    }
    server = FakeServer([json_response(message_json([text("ok")], usage=usage))])
    assert complete(server).usage == Usage(1110, 5)


@pytest.mark.parametrize(
    ("wire", "ours"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "other"),
    ],
)
def test_stop_reasons_are_normalised(wire: str, ours: str) -> None:
    server = FakeServer([json_response(message_json([text("x")], stop_reason=wire))])
    assert complete(server).finish_reason == ours


# -----------------------------------------------------------------------------
# tool calls, both ways


def test_tools_and_a_tool_conversation_go_out_in_anthropic_format() -> None:
    oslo = ToolCall("toolu_1", "get_weather", {"city": "Oslo"})
    lima = ToolCall("toolu_2", "get_weather", {"city": "Lima"})
    conversation = [
        Message.system("You can check the weather."),
        Message.user("Weather in Oslo and Lima?"),
        Message.assistant("Checking both.", [oslo, lima]),
        ToolResult("toolu_1", '{"temp_c": 4}').to_message(),
        ToolResult("toolu_2", "station offline", is_error=True).to_message(),
        Message.user("Thanks!"),
    ]
    server = FakeServer([json_response(message_json([text("Oslo is 4 °C.")]))])
    assert complete(server, conversation, tools=[WEATHER]).text == "Oslo is 4 °C."
    body = server.body
    assert body["system"] == "You can check the weather."
    assert body["tools"] == [
        {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "input_schema": WEATHER.parameters,
        }
    ]
    assert body["messages"] == [
        {"role": "user", "content": "Weather in Oslo and Lima?"},
        {
            "role": "assistant",
            "content": [
                text("Checking both."),
                tool_use("toolu_1", "get_weather", {"city": "Oslo"}),
                tool_use("toolu_2", "get_weather", {"city": "Lima"}),
            ],
        },
        {  # both results, and the next user text, travel in one user turn
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": '{"temp_c": 4}'},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": "station offline",
                    "is_error": True,
                },
                text("Thanks!"),
            ],
        },
    ]


def test_tool_results_come_before_text_in_a_merged_user_turn() -> None:
    # The API rejects a user turn whose text precedes its tool_result blocks.
    call = ToolCall("toolu_1", "get_weather", {"city": "Oslo"})
    conversation = [
        Message.user("Weather in Oslo?"),
        Message.assistant("", [call]),
        Message.user("In Celsius, please."),
        ToolResult("toolu_1", "4").to_message(),
    ]
    server = FakeServer([json_response(message_json([text("4 °C.")]))])
    complete(server, conversation)
    assert server.body["messages"][2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "4"},
            text("In Celsius, please."),
        ],
    }


def test_system_messages_are_joined_into_the_system_prompt() -> None:
    server = FakeServer([json_response(message_json([text("ok")]))])
    complete(server, [Message.system("Be brief."), Message.system("Use metric."), *HI])
    assert server.body["system"] == "Be brief.\n\nUse metric."


def test_response_tool_use_blocks_become_tool_calls() -> None:
    content = [
        text("Let me check."),
        tool_use("toolu_1", "get_weather", {"city": "Oslo"}),
    ]
    server = FakeServer([json_response(message_json(content, stop_reason="tool_use"))])
    result = complete(server, tools=[WEATHER])
    assert result.text == "Let me check."
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == (ToolCall("toolu_1", "get_weather", {"city": "Oslo"}),)


def test_non_object_tool_input_raises_with_the_raw_text() -> None:
    content = [tool_use("toolu_1", "get_weather", ["Oslo"])]
    server = FakeServer([json_response(message_json(content, stop_reason="tool_use"))])
    with pytest.raises(ToolArgumentsError, match="got list") as info:
        complete(server)
    assert (info.value.raw, info.value.tool_name) == ('["Oslo"]', "get_weather")


# -----------------------------------------------------------------------------
# streaming


def test_stream_maps_sse_events_to_events() -> None:
    body = [
        message_start(25),
        event("ping"),
        *text_block(0, "Hel", "lo!"),
        *message_end("end_turn", 3),
    ]
    server = FakeServer([sse_response(body)])
    assert stream_events(server) == [
        TextDelta("Hel"),
        TextDelta("lo!"),
        StreamEnd("stop", Usage(25, 3), MODEL),
    ]
    assert server.body["stream"] is True


def test_stream_assembles_tool_input_from_json_deltas() -> None:
    body = [
        message_start(40),
        *text_block(0, "Checking."),
        *tool_block(1, "toolu_1", "get_weather", '{"ci', 'ty": "Os', 'lo"}'),
        *tool_block(2, "toolu_2", "get_time"),  # no deltas: a tool with no arguments
        *message_end("tool_use", 60),
    ]
    assert stream_events(FakeServer([sse_response(body)])) == [
        TextDelta("Checking."),
        ToolCallEvent(ToolCall("toolu_1", "get_weather", {"city": "Oslo"})),
        ToolCallEvent(ToolCall("toolu_2", "get_time", {})),
        StreamEnd("tool_calls", Usage(40, 60), MODEL),
    ]


@pytest.mark.parametrize(
    ("pieces", "reason"),
    [(('{"city": ', '"Oslo"'), "invalid JSON"), (('["Oslo"]',), "got list")],
)
def test_stream_with_unusable_tool_json_raises_with_the_raw_text(
    pieces: tuple[str, ...], reason: str
) -> None:
    body = [message_start(), *tool_block(0, "toolu_1", "get_weather", *pieces)]
    with pytest.raises(ToolArgumentsError, match=reason) as info:
        stream_events(FakeServer([sse_response(body)]))
    assert info.value.raw == "".join(pieces)


def test_collected_stream_equals_complete() -> None:
    usage = {"input_tokens": 40, "output_tokens": 12}
    content = [text("Checking."), tool_use("toolu_1", "get_weather", {"city": "Oslo"})]
    plain = json_response(message_json(content, stop_reason="tool_use", usage=usage))
    streamed = sse_response(
        [
            message_start(40),
            *text_block(0, "Check", "ing."),
            *tool_block(1, "toolu_1", "get_weather", '{"city": "Oslo"}'),
            *message_end("tool_use", 12),
        ]
    )
    llm = chat(FakeServer([plain, streamed]))
    assert run(llm.complete(HI)) == run(collect(llm.stream(HI)))


def test_error_event_inside_a_200_stream_becomes_ours() -> None:
    overloaded = {"type": "overloaded_error", "message": "Overloaded"}
    body = [message_start(), *text_block(0, "Hel"), event("error", error=overloaded)]
    received: list[StreamEvent] = []

    async def consume() -> None:
        async for item in chat(FakeServer([sse_response(body)])).stream(HI):
            received.append(item)

    with pytest.raises(ServerError) as info:
        run(consume())
    assert info.value.status == 529
    assert "Overloaded" in str(info.value)
    assert received == [TextDelta("Hel")]  # what arrived before the error was delivered


# -----------------------------------------------------------------------------
# errors


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def test_rate_limit_becomes_ours_with_retry_after() -> None:
    limited = json_response(
        error_body("rate_limit_error", "Number of requests has exceeded your rate limit"),
        429,
        **{"retry-after": "12"},
    )
    with pytest.raises(RateLimitError) as info:
        complete(FakeServer([limited]))
    assert info.value.retry_after == 12.0
    assert isinstance(info.value.__cause__, anthropic.RateLimitError)
    assert "exceeded your rate limit" in str(info.value)


@pytest.mark.parametrize(
    ("status", "kind", "error_type"),
    [
        (500, ServerError, "api_error"),
        (529, ServerError, "overloaded_error"),
        (401, AuthenticationError, "authentication_error"),
        (400, BadRequestError, "invalid_request_error"),
    ],
)
def test_http_errors_become_ours(status: int, kind: type[LLMError], error_type: str) -> None:
    server = FakeServer([json_response(error_body(error_type, "nope"), status)])
    with pytest.raises(kind) as info:
        complete(server)
    assert getattr(info.value, "status", None) == status
    assert isinstance(info.value.__cause__, anthropic.APIStatusError)


def test_timeout_and_connection_failures_become_ours() -> None:
    with pytest.raises(LLMTimeoutError) as info:
        complete(FakeServer([httpx2.ReadTimeout("read timed out")]))
    assert isinstance(info.value.__cause__, anthropic.APITimeoutError)
    with pytest.raises(LLMConnectionError):
        complete(FakeServer([httpx2.ConnectError("connection refused")]))


def test_stream_errors_become_ours() -> None:
    limited = json_response(error_body("rate_limit_error", "busy"), 429, **{"retry-after": "3"})
    with pytest.raises(RateLimitError) as info:
        stream_events(FakeServer([limited]))
    assert info.value.retry_after == 3.0
    with pytest.raises(LLMTimeoutError):
        stream_events(FakeServer([httpx2.ReadTimeout("read timed out")]))
