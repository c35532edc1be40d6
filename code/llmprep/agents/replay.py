"""A fake provider endpoint: model turns as real OpenAI and Anthropic response bodies.

The agent chapters and tests run the loop through the providers' official SDKs with HTTP
mocked at the transport, so the requests are the bodies that would go over the network and
the responses go through the SDKs' own parsing. Three pieces do that:

    openai_reply(text, calls, usage)     a Chat Completions response body
    anthropic_reply(text, calls, usage)  a Messages response body
    ReplayServer                         answers request i with body i; keeps what it was sent

`ReplayServer.of(run, provider)` replays a recorded `Run` turn by turn, which is how the same
trajectory is shown on both wire formats.

Leaves out: streaming responses (server-sent events), error bodies (the tests queue those as
plain `httpx2.Response` objects), and the Responses API.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx2

from llmprep.agents.loop import Run
from llmprep.core.messages import ToolCall, Usage

type Provider = Literal["openai", "anthropic"]

# What a turn reports when the caller does not say: a small, plausible call.
DEFAULT_USAGE = Usage(input_tokens=50, output_tokens=10)


def openai_reply(
    text: str,
    calls: Sequence[ToolCall] = (),
    usage: Usage = DEFAULT_USAGE,
    *,
    number: int = 1,
    model: str = "gpt-5-mini",
) -> dict[str, Any]:
    """One model turn as an OpenAI Chat Completions response body.

    Tool calls travel as `tool_calls` with their arguments as a JSON *string*, and the finish
    reason says "tool_calls" whenever there are any.
    """
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for c in calls
        ]
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": 1_790_000_000,
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
        ],
        "usage": {
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
        },
    }


def anthropic_reply(
    text: str,
    calls: Sequence[ToolCall] = (),
    usage: Usage = DEFAULT_USAGE,
    *,
    number: int = 1,
    model: str = "claude-sonnet-5-5",
) -> dict[str, Any]:
    """One model turn as an Anthropic Messages response body.

    Text and tool calls are content blocks of one message (text first, then `tool_use`
    blocks whose `input` is a JSON *object*), and the stop reason says "tool_use".
    """
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    blocks += [
        {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in calls
    ]
    return {
        "id": f"msg_{number}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": "tool_use" if calls else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
    }


REPLY = {"openai": openai_reply, "anthropic": anthropic_reply}


@dataclass(slots=True)
class ReplayServer:
    """Answers request i with reply body i.

    `client()` is an `httpx2.AsyncClient` whose transport is this object, to hand to the
    real `openai` or `anthropic` SDK: the SDK builds, sends and parses real HTTP, and
    `requests` keeps every request body it sent, `paths` every URL path.
    """

    replies: list[dict[str, Any]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, result: Run, provider: Provider) -> ReplayServer:
        """A server that replays the model turns of a recorded run, in order."""
        encode = REPLY[provider]
        return cls([encode(t.text, t.calls, t.usage, number=t.number) for t in result.turns])

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        if not self.replies:
            raise RuntimeError(f"ReplayServer has no reply left for request {request.url.path}")
        self.requests.append(json.loads(request.content))
        self.paths.append(request.url.path)
        return httpx2.Response(200, json=self.replies.pop(0))

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle))
