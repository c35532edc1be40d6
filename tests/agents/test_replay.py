"""The fake provider endpoint: reply bodies in each wire format, and a server that says when
it has run out of replies instead of hanging or answering garbage."""

from __future__ import annotations

import httpx2
import pytest

from llmprep.agents.replay import ReplayServer, anthropic_reply, openai_reply
from llmprep.core.messages import ToolCall, Usage

from .conftest import run

CALL = ToolCall("call_1", "add", {"a": 2, "b": 3})


def test_openai_bodies_carry_arguments_as_json_text_and_say_why_they_stopped() -> None:
    body = openai_reply("", [CALL], Usage(7, 3))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert choice["message"]["tool_calls"][0]["function"]["arguments"] == '{"a": 2, "b": 3}'
    assert body["usage"] == {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    assert openai_reply("done")["choices"][0]["finish_reason"] == "stop"


def test_anthropic_bodies_put_text_before_tool_use_blocks() -> None:
    body = anthropic_reply("Checking.", [CALL], Usage(7, 3), number=4)
    assert [b["type"] for b in body["content"]] == ["text", "tool_use"]
    assert body["content"][1]["input"] == {"a": 2, "b": 3}
    assert (body["id"], body["stop_reason"]) == ("msg_4", "tool_use")
    assert anthropic_reply("done")["stop_reason"] == "end_turn"


def test_the_server_records_requests_and_names_the_request_it_cannot_answer() -> None:
    server = ReplayServer([openai_reply("hi")])

    async def talk() -> httpx2.Response:
        async with server.client() as http:
            first = await http.post("https://api.example/v1/chat", json={"n": 1})
            with pytest.raises(RuntimeError, match="no reply left for request /v2/x"):
                await http.post("https://api.example/v2/x", json={"n": 2})
        return first

    first = run(talk())
    assert first.json()["choices"][0]["message"]["content"] == "hi"
    assert server.requests == [{"n": 1}]
    assert server.paths == ["/v1/chat"]
