"""OpenAIChat against the real `openai` SDK, with HTTP answered by a fake server.

What goes over the wire is asserted on the request body the SDK actually sends; what comes
back is real Chat Completions JSON and real server-sent events (`data: {...}` chunks ending
with `data: [DONE]`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx2
import openai
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
from llmprep.core.providers.openai import OpenAIChat

from .conftest import FakeServer, json_response, run, sse_response, to_list

MODEL = "gpt-5-mini"
HI = [Message.user("hi")]
WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def chat(server: FakeServer) -> OpenAIChat:
    client = openai.AsyncOpenAI(api_key="sk-test", http_client=server.client(), max_retries=0)
    return OpenAIChat(client, MODEL)


def completion_json(
    content: str | None = "Hello!",
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str = "stop",
    usage: tuple[int, int] = (12, 3),
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_790_000_000,
        "model": "gpt-5-mini-2025-08-07",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    }


def wire_call(id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> str:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    payload = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_790_000_000,
        "model": "gpt-5-mini-2025-08-07",
        "choices": choices,
        **extra,
    }
    return f"data: {json.dumps(payload)}"


def usage_chunk(prompt: int, completion: int) -> str:
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": 0}
    return chunk(None, usage=usage)


def tool_delta(index: int, arguments: str, id: str | None = None, name: str | None = None) -> str:
    piece: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if id is not None:
        piece |= {"id": id, "type": "function"}
        piece["function"]["name"] = name
    return chunk({"tool_calls": [piece]})


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
    server = FakeServer([json_response(completion_json("Paris.", usage=(21, 2)))])
    result = complete(server, [Message.system("Be brief."), Message.user("Capital of France?")])
    assert result == Completion("Paris.", (), "stop", Usage(21, 2), "gpt-5-mini-2025-08-07")
    request = server.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer sk-test"
    assert server.body == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Capital of France?"},
        ],
    }


def test_settings_map_to_request_fields() -> None:
    server = FakeServer([json_response(completion_json())])
    schema = JSONSchema("answer", {"type": "object", "properties": {"a": {"type": "string"}}})
    settings = GenerationSettings(
        temperature=0.2, top_p=0.9, max_tokens=50, stop=("END",), response_format=schema
    )
    complete(server, settings=settings)
    body = server.body
    assert (body["temperature"], body["top_p"], body["max_completion_tokens"]) == (0.2, 0.9, 50)
    assert body["stop"] == ["END"]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema.schema},
    }


@pytest.mark.parametrize(
    ("wire", "ours"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("tool_calls", "tool_calls"),
        ("content_filter", "content_filter"),
        ("function_call", "tool_calls"),
    ],
)
def test_finish_reasons_are_normalised(wire: str, ours: str) -> None:
    server = FakeServer([json_response(completion_json(finish_reason=wire))])
    assert complete(server).finish_reason == ours


def test_a_refusal_is_the_text_whether_complete_or_streamed() -> None:
    refused = completion_json(None)
    refused["choices"][0]["message"]["refusal"] = "I can't help with that."
    streamed = sse_response(
        [
            chunk({"role": "assistant", "content": None, "refusal": ""}),
            chunk({"refusal": "I can't "}),
            chunk({"refusal": "help with that."}),
            chunk({}, finish="stop"),
            usage_chunk(12, 3),
            "data: [DONE]",
        ]
    )
    llm = chat(FakeServer([json_response(refused), streamed]))
    whole = run(llm.complete(HI))
    assert whole.text == "I can't help with that."
    assert run(collect(llm.stream(HI))) == whole


def test_a_response_without_choices_is_an_llm_error() -> None:
    empty = completion_json()
    empty["choices"] = []
    with pytest.raises(LLMError, match="no choices"):
        complete(FakeServer([json_response(empty)]))


def test_an_assistant_turn_without_text_or_calls_sends_empty_text() -> None:
    server = FakeServer([json_response(completion_json())])
    complete(server, [Message.user("hi"), Message.assistant(""), Message.user("still there?")])
    assert server.body["messages"][1] == {"role": "assistant", "content": ""}


def test_invalid_requests_fail_before_any_http() -> None:
    server = FakeServer([])
    with pytest.raises(ValueError, match="at least one message"):
        complete(server, [])
    with pytest.raises(ValueError, match="answers tool call 'call_9'"):
        complete(server, [Message.user("hi"), Message.tool("call_9", "42")])
    assert server.requests == []


# -----------------------------------------------------------------------------
# tool calls, both ways


def test_tools_and_a_tool_conversation_go_out_in_openai_format() -> None:
    call = ToolCall("call_1", "get_weather", {"city": "Oslo"})
    conversation = [
        Message.system("You can check the weather."),
        Message.user("Weather in Oslo?"),
        Message.assistant("", [call]),
        ToolResult("call_1", '{"temp_c": 4}').to_message(),
    ]
    server = FakeServer([json_response(completion_json("It is 4 °C."))])
    assert complete(server, conversation, tools=[WEATHER]).text == "It is 4 °C."
    body = server.body
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": WEATHER.parameters,
            },
        }
    ]
    assert body["messages"][2:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [wire_call("call_1", "get_weather", '{"city": "Oslo"}')],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 4}'},
    ]


def test_response_tool_calls_become_parsed_tool_calls() -> None:
    calls = [
        wire_call("call_1", "get_weather", '{"city": "Oslo"}'),
        wire_call("call_2", "get_weather", '{"city": "Lima"}'),
    ]
    server = FakeServer([json_response(completion_json(None, calls, "tool_calls"))])
    result = complete(server, tools=[WEATHER])
    assert result.text == ""
    assert result.finish_reason == "tool_calls"
    assert result.tool_calls == (
        ToolCall("call_1", "get_weather", {"city": "Oslo"}),
        ToolCall("call_2", "get_weather", {"city": "Lima"}),
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [('{"city": "Os', "invalid JSON"), ('["Oslo"]', "expected a JSON object, got list")],
)
def test_malformed_tool_arguments_raise_with_the_raw_text(raw: str, reason: str) -> None:
    calls = [wire_call("call_1", "get_weather", raw)]
    server = FakeServer([json_response(completion_json(None, calls, "tool_calls"))])
    with pytest.raises(ToolArgumentsError, match=reason) as info:
        complete(server)
    assert (info.value.raw, info.value.tool_name) == (raw, "get_weather")


# -----------------------------------------------------------------------------
# streaming


def test_stream_maps_sse_chunks_to_events() -> None:
    server = FakeServer(
        [
            sse_response(
                [
                    chunk({"role": "assistant", "content": ""}),
                    chunk({"content": "Hel"}),
                    chunk({"content": "lo!"}),
                    chunk({}, finish="stop"),
                    usage_chunk(9, 2),
                    "data: [DONE]",
                ]
            )
        ]
    )
    events = stream_events(server)
    assert events == [
        TextDelta("Hel"),
        TextDelta("lo!"),
        StreamEnd("stop", Usage(9, 2), "gpt-5-mini-2025-08-07"),
    ]
    assert server.body["stream"] is True
    assert server.body["stream_options"] == {"include_usage": True}


def test_stream_assembles_tool_calls_from_argument_fragments() -> None:
    server = FakeServer(
        [
            sse_response(
                [
                    chunk({"role": "assistant", "content": None}),
                    tool_delta(0, "", id="call_1", name="get_weather"),
                    tool_delta(0, '{"ci'),
                    tool_delta(0, 'ty": "Oslo"}'),
                    tool_delta(1, "", id="call_2", name="get_weather"),
                    tool_delta(1, '{"city": "Lima"}'),
                    chunk({}, finish="tool_calls"),
                    usage_chunk(30, 20),
                    "data: [DONE]",
                ]
            )
        ]
    )
    events = stream_events(server)
    assert events == [
        ToolCallEvent(ToolCall("call_1", "get_weather", {"city": "Oslo"})),
        ToolCallEvent(ToolCall("call_2", "get_weather", {"city": "Lima"})),
        StreamEnd("tool_calls", Usage(30, 20), "gpt-5-mini-2025-08-07"),
    ]


def test_stream_with_broken_tool_json_raises_with_the_raw_text() -> None:
    server = FakeServer(
        [
            sse_response(
                [
                    tool_delta(0, "", id="call_1", name="get_weather"),
                    tool_delta(0, '{"city": '),
                    chunk({}, finish="tool_calls"),
                    "data: [DONE]",
                ]
            )
        ]
    )
    with pytest.raises(ToolArgumentsError) as info:
        stream_events(server)
    assert info.value.raw == '{"city": '


def test_collected_stream_equals_complete() -> None:
    calls = [wire_call("call_1", "get_weather", '{"city": "Oslo"}')]
    plain = json_response(completion_json("Checking.", calls, "tool_calls", usage=(40, 12)))
    streamed = sse_response(
        [
            chunk({"role": "assistant", "content": "Check"}),
            chunk({"content": "ing."}),
            tool_delta(0, "", id="call_1", name="get_weather"),
            tool_delta(0, '{"city": "Oslo"}'),
            chunk({}, finish="tool_calls"),
            usage_chunk(40, 12),
            "data: [DONE]",
        ]
    )
    server = FakeServer([plain, streamed])
    llm = chat(server)
    assert run(llm.complete(HI)) == run(collect(llm.stream(HI)))


# -----------------------------------------------------------------------------
# errors


def error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def test_rate_limit_becomes_ours_with_retry_after() -> None:
    limited = json_response(
        error_body("Rate limit reached", "requests"), 429, **{"retry-after": "7"}
    )
    with pytest.raises(RateLimitError) as info:
        complete(FakeServer([limited]))
    assert info.value.retry_after == 7.0
    assert isinstance(info.value.__cause__, openai.RateLimitError)
    assert "Rate limit reached" in str(info.value)


def test_retry_after_ms_is_preferred() -> None:
    headers = {"retry-after-ms": "1500", "retry-after": "2"}
    limited = json_response(error_body("slow down", "requests"), 429, **headers)
    with pytest.raises(RateLimitError) as info:
        complete(FakeServer([limited]))
    assert info.value.retry_after == 1.5


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, ServerError), (503, ServerError), (401, AuthenticationError), (400, BadRequestError)],
)
def test_http_errors_become_ours(status: int, kind: type[LLMError]) -> None:
    server = FakeServer([json_response(error_body("nope", "server_error"), status)])
    with pytest.raises(kind) as info:
        complete(server)
    assert getattr(info.value, "status", None) == status
    assert isinstance(info.value.__cause__, openai.APIStatusError)


def test_timeout_and_connection_failures_become_ours() -> None:
    with pytest.raises(LLMTimeoutError) as info:
        complete(FakeServer([httpx2.ReadTimeout("read timed out")]))
    assert isinstance(info.value.__cause__, openai.APITimeoutError)
    with pytest.raises(LLMConnectionError):
        complete(FakeServer([httpx2.ConnectError("connection refused")]))


def test_stream_errors_become_ours() -> None:
    limited = json_response(error_body("busy", "requests"), 429, **{"retry-after": "3"})
    with pytest.raises(RateLimitError) as info:
        stream_events(FakeServer([limited]))
    assert info.value.retry_after == 3.0
    with pytest.raises(LLMTimeoutError):
        stream_events(FakeServer([httpx2.ReadTimeout("read timed out")]))
