"""The same agent run against three tool-calling wire formats: OpenAI Chat Completions and
Anthropic Messages (real SDKs, HTTP mocked at the transport) and ScriptedLLM. The loop sees
the same calls and results whichever it talks to; the requests carry them in each API's own
shape (tool messages vs tool_result blocks, is_error, derived schemas as parameters)."""

from __future__ import annotations

from collections.abc import Callable

import anthropic
import openai
import pytest

from llmprep.agents.loop import Run, run
from llmprep.agents.replay import anthropic_reply, openai_reply
from llmprep.core.llm import LLM
from llmprep.core.messages import ToolCall
from llmprep.core.providers.anthropic import AnthropicChat
from llmprep.core.providers.openai import OpenAIChat
from llmprep.core.scripted import Reply, ScriptedLLM

from .conftest import FakeServer, add, json_response, registry
from .conftest import run as arun

TASK = "What is 2 + 3, and how warm is it in Atlantis?"
CALLS = (
    ToolCall("call_1", "add", {"a": 2, "b": 3}),
    ToolCall("call_2", "weather", {"city": "Atlantis"}),
)
ANSWER = "2 + 3 = 5; Atlantis has no weather station."


def openai_llm(server: FakeServer) -> OpenAIChat:
    server.replies += [
        json_response(openai_reply("", CALLS, model="gpt-5-mini-2025-08-07")),
        json_response(openai_reply(ANSWER, number=2, model="gpt-5-mini-2025-08-07")),
    ]
    client = openai.AsyncOpenAI(api_key="sk-test", http_client=server.client(), max_retries=0)
    return OpenAIChat(client, "gpt-5-mini")


def anthropic_llm(server: FakeServer) -> AnthropicChat:
    server.replies += [
        json_response(anthropic_reply("Let me check both.", CALLS)),
        json_response(anthropic_reply(ANSWER, number=2)),
    ]
    client = anthropic.AsyncAnthropic(
        api_key="sk-ant-test", http_client=server.client(), max_retries=0
    )
    return AnthropicChat(client, "claude-sonnet-5-5")


def scripted_llm(server: FakeServer) -> ScriptedLLM:
    return ScriptedLLM([Reply(tool_calls=CALLS), ANSWER])


BACKENDS: dict[str, Callable[[FakeServer], LLM]] = {
    "openai": openai_llm,
    "anthropic": anthropic_llm,
    "scripted": scripted_llm,
}


def agent_run(backend: str) -> tuple[Run, FakeServer]:
    server = FakeServer([])
    llm: LLM = BACKENDS[backend](server)
    return arun(run(llm, registry(), TASK)), server


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_the_loop_runs_the_same_trajectory_on_every_wire_format(backend: str) -> None:
    result, _ = agent_run(backend)
    assert (result.answer, result.stop_reason) == (ANSWER, "answer")
    assert result.tool_calls == CALLS
    assert [(r.call_id, r.content, r.is_error) for r in result.turns[0].results] == [
        ("call_1", "5", False),
        ("call_2", "tool 'weather' failed: LookupError: no weather station in Atlantis", True),
    ]


def test_openai_requests_carry_the_derived_schemas_and_tool_messages() -> None:
    _, server = agent_run("openai")
    first, second = server.body(0), server.body(1)
    assert first["tools"][0] == {
        "type": "function",
        "function": {
            "name": "add",
            "description": add.spec.description,
            "parameters": add.spec.parameters,
        },
    }
    assistant, *results = second["messages"][-3:]
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_1", "call_2"]
    assert results == [
        {"role": "tool", "tool_call_id": "call_1", "content": "5"},
        {
            "role": "tool",
            "tool_call_id": "call_2",
            # Chat Completions has no error flag: the error is in the content
            "content": "tool 'weather' failed: LookupError: no weather station in Atlantis",
        },
    ]


def test_anthropic_requests_carry_input_schemas_and_tool_result_blocks() -> None:
    _, server = agent_run("anthropic")
    first, second = server.body(0), server.body(1)
    assert first["tools"][0] == {
        "name": "add",
        "description": add.spec.description,
        "input_schema": add.spec.parameters,
    }
    assert "system" in first  # the loop's system prompt goes in the separate field
    results_turn = second["messages"][-1]
    assert results_turn["role"] == "user"  # both results in one user turn
    assert results_turn["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "5"},
        {
            "type": "tool_result",
            "tool_use_id": "call_2",
            "content": "tool 'weather' failed: LookupError: no weather station in Atlantis",
            "is_error": True,
        },
    ]
