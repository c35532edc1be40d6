"""Messages, tools, settings and completions: what they accept, and what they refuse."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.errors import ToolArgumentsError
from llmprep.core.messages import (
    Completion,
    GenerationSettings,
    JSONSchema,
    Message,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
    as_conversation,
)

WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)

# JSON values that survive a json.dumps/json.loads round trip unchanged.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=6)


# -----------------------------------------------------------------------------
# Message


def test_unknown_role_is_rejected_with_the_allowed_roles() -> None:
    with pytest.raises(ValueError, match="unknown role 'bot'") as info:
        Message("bot", "hi")  # type: ignore[arg-type]
    for role in ("system", "user", "assistant", "tool"):
        assert repr(role) in str(info.value)


def test_role_constructors_build_the_matching_role() -> None:
    assert Message.system("be brief") == Message("system", "be brief")
    assert Message.user("hi").role == "user"
    call = ToolCall("c1", "get_weather", {"city": "Oslo"})
    assistant = Message.assistant("checking", [call])
    assert (assistant.role, assistant.tool_calls) == ("assistant", (call,))
    failed = Message.tool("c1", "no such city", is_error=True)
    assert (failed.role, failed.tool_call_id, failed.is_error) == ("tool", "c1", True)


def test_messages_are_frozen_values() -> None:
    message = Message.user("hi")
    with pytest.raises(AttributeError):
        message.content = "changed"  # type: ignore[misc]
    assert message == Message("user", "hi")
    assert hash(message) == hash(Message("user", "hi"))


def test_tool_calls_only_on_assistant_messages() -> None:
    with pytest.raises(ValueError, match="only assistant messages carry tool calls"):
        Message("user", "x", tool_calls=(ToolCall("c1", "f"),))


def test_tool_message_needs_the_call_it_answers() -> None:
    with pytest.raises(ValueError, match="tool_call_id"):
        Message("tool", "42")
    with pytest.raises(ValueError, match="tool messages only"):
        Message("user", "42", tool_call_id="c1")
    with pytest.raises(ValueError, match="tool messages only"):
        Message("assistant", "oops", is_error=True)


def test_content_must_be_text() -> None:
    with pytest.raises(TypeError, match="content must be str"):
        Message("user", ["an", "image"])  # type: ignore[arg-type]


def test_tool_calls_must_be_tool_call_values() -> None:
    # A dict from another library would otherwise fail much later, in an adapter.
    with pytest.raises(TypeError, match="tool_calls must hold ToolCall values, got dict"):
        Message.assistant("", [{"id": "c1", "name": "f"}])  # type: ignore[list-item]


def test_tool_result_becomes_a_tool_message() -> None:
    message = ToolResult("c7", "timeout", name="get_weather", is_error=True).to_message()
    assert message == Message("tool", "timeout", tool_call_id="c7", is_error=True)


# -----------------------------------------------------------------------------
# conversations


def test_empty_conversation_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one message"):
        as_conversation([])


def test_conversation_items_must_be_messages() -> None:
    with pytest.raises(TypeError, match="message 1 is dict"):
        as_conversation([Message.user("hi"), {"role": "user", "content": "x"}])  # type: ignore[list-item]


def test_tool_result_must_answer_an_earlier_call() -> None:
    orphan = [Message.user("hi"), ToolResult("c9", "42").to_message()]
    with pytest.raises(ValueError, match="message 1 answers tool call 'c9'"):
        as_conversation(orphan)
    call = ToolCall("c9", "get_weather", {"city": "Oslo"})
    ok = as_conversation([Message.user("hi"), Message.assistant("", [call]), orphan[1]])
    assert isinstance(ok, tuple)
    assert len(ok) == 3


# -----------------------------------------------------------------------------
# tools


@pytest.mark.parametrize("name", ["", "has space", "dots.not.allowed", "x" * 65])
def test_tool_names_follow_the_providers_rule(name: str) -> None:
    with pytest.raises(ValueError, match="1-64 letters"):
        ToolSpec(name, "d")


def test_tool_parameters_must_be_an_object_schema() -> None:
    with pytest.raises(ValueError, match="type 'object'"):
        ToolSpec("f", "d", {"type": "string"})
    assert ToolSpec("f", "d").parameters == {"type": "object", "properties": {}}


def test_tool_call_from_json_parses_arguments() -> None:
    call = ToolCall.from_json("c1", "get_weather", '{"city": "Oslo", "days": 3}')
    assert call == ToolCall("c1", "get_weather", {"city": "Oslo", "days": 3})
    assert ToolCall.from_json("c2", "now", "").arguments == {}
    assert ToolCall.from_json("c2", "now", "  ").arguments == {}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"city": "Os', "invalid JSON"),
        ("{city: Oslo}", "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('"Oslo"', "expected a JSON object, got str"),
        ("null", "expected a JSON object, got NoneType"),
    ],
)
def test_unusable_tool_arguments_keep_the_raw_text(raw: str, reason: str) -> None:
    with pytest.raises(ToolArgumentsError, match=reason) as info:
        ToolCall.from_json("c1", "get_weather", raw)
    assert info.value.raw == raw
    assert info.value.tool_name == "get_weather"
    assert isinstance(info.value, ValueError)


def test_tool_call_arguments_must_be_a_dict() -> None:
    with pytest.raises(ToolArgumentsError, match="not an object"):
        ToolCall("c1", "f", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty id"):
        ToolCall("", "f")


@given(json_objects)
def test_tool_arguments_survive_a_json_round_trip(arguments: dict[str, Any]) -> None:
    call = ToolCall.from_json("c1", "f", json.dumps(arguments))
    assert call.arguments == arguments


# -----------------------------------------------------------------------------
# settings


@pytest.mark.parametrize("temperature", [-0.1, 2.01, float("nan")])
def test_temperature_range_is_checked(temperature: float) -> None:
    with pytest.raises(ValueError, match="temperature must be between 0 and 2"):
        GenerationSettings(temperature=temperature)


@pytest.mark.parametrize("top_p", [-0.01, 1.5])
def test_top_p_range_is_checked(top_p: float) -> None:
    with pytest.raises(ValueError, match="top_p must be between 0 and 1"):
        GenerationSettings(top_p=top_p)


def test_settings_boundaries_are_accepted() -> None:
    settings = GenerationSettings(temperature=0.0, top_p=1.0, max_tokens=1)
    assert (settings.temperature, settings.top_p, settings.max_tokens) == (0.0, 1.0, 1)
    assert GenerationSettings(temperature=2.0).temperature == 2.0


def test_max_tokens_and_stop_are_checked() -> None:
    with pytest.raises(ValueError, match="max_tokens must be at least 1"):
        GenerationSettings(max_tokens=0)
    with pytest.raises(TypeError, match="sequence of strings"):
        GenerationSettings(stop="END")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        GenerationSettings(stop=("",))
    assert GenerationSettings(stop=["A", "B"]).stop == ("A", "B")  # type: ignore[arg-type]


@pytest.mark.parametrize("max_tokens", [1.5, True, "100"])
def test_max_tokens_must_be_an_int(max_tokens: object) -> None:
    with pytest.raises(TypeError, match="max_tokens must be an int"):
        GenerationSettings(max_tokens=max_tokens)  # type: ignore[arg-type]


def test_stop_sequences_must_be_strings() -> None:
    with pytest.raises(TypeError, match="stop sequences must be strings"):
        GenerationSettings(stop=(1,))  # type: ignore[arg-type]


def test_response_format_is_text_or_a_schema() -> None:
    schema = JSONSchema("answer", {"type": "object"})
    assert GenerationSettings(response_format=schema).response_format == schema
    with pytest.raises(ValueError, match="response_format"):
        GenerationSettings(response_format="json")  # type: ignore[arg-type]


# -----------------------------------------------------------------------------
# usage and completions


def test_usage_adds_up_and_rejects_negatives() -> None:
    total = Usage(10, 2) + Usage(5, 1)
    assert total == Usage(15, 3)
    assert total.total_tokens == 18
    with pytest.raises(ValueError, match="negative"):
        Usage(-1, 0)
    with pytest.raises(TypeError, match="must be ints"):
        Usage(1.5, 0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be ints"):
        Usage(0, True)


def test_completion_checks_finish_reason_and_becomes_a_message() -> None:
    with pytest.raises(ValueError, match="unknown finish_reason 'done'"):
        Completion("x", finish_reason="done")  # type: ignore[arg-type]
    call = ToolCall("c1", "get_weather", {"city": "Oslo"})
    completion = Completion("let me check", [call], "tool_calls")  # type: ignore[arg-type]
    assert completion.tool_calls == (call,)
    assert completion.to_message() == Message.assistant("let me check", [call])
