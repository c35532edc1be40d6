"""`AnthropicChat`: the `LLM` protocol over Anthropic's Messages API (official SDK).

The Messages API differs from Chat Completions in four ways that the translation handles:

- the system prompt is a separate `system` parameter, not a message;
- content is a list of typed blocks: `text`, `tool_use` (the model calls a tool, with
  `input` already parsed into an object), `tool_result` (you answer, inside a *user* turn);
- results of parallel tool calls go back together in one user turn, so consecutive tool
  (and user) messages are merged into one;
- `max_tokens` is required (we default to `default_max_tokens`), and stop reasons are named
  differently (`end_turn`, `max_tokens`, `tool_use`, ...; mapped to our finish reasons).

Sampling settings are sent only when you set them. The SDK (1.0 and later) no longer takes
`temperature` or `top_p` as arguments, so they travel in `extra_body`, which lands in the
same JSON; and newer Claude models reject them outright, which the API reports as a 400.

Streaming uses server-sent events with explicit structure: `message_start` (input usage),
then per content block `content_block_start` / `content_block_delta` (`text_delta`, or
`input_json_delta` carrying fragments of a tool call's JSON) / `content_block_stop`, then
`message_delta` (stop reason, output usage) and `message_stop`. Errors can also arrive as
an `error` event in the middle of an HTTP 200 stream; we map them by their error type.

Usage: our `input_tokens` adds Anthropic's cache-read and cache-write input tokens to
`input_tokens`, so it means "the whole prompt", as OpenAI's `prompt_tokens` does.

Leaves out: extended thinking blocks, citations, server tools (web search, code execution),
prompt-cache control, images and PDFs, and the `pause_turn` continuation protocol.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any, Self

import anthropic
from anthropic import AsyncStream
from anthropic.types import Message as AnthropicMessage
from anthropic.types import RawMessageStreamEvent

from llmprep.core.errors import LLMConnectionError, LLMError, LLMTimeoutError
from llmprep.core.llm import StreamEnd, StreamEvent, TextDelta, ToolCallEvent
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    FinishReason,
    GenerationSettings,
    JSONSchema,
    Message,
    ToolCall,
    ToolSpec,
    Usage,
    as_conversation,
)
from llmprep.core.providers._http import error_from_status

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# Request fields the SDK (>= 1.0) no longer takes as arguments; they go through extra_body.
_SAMPLING_FIELDS = ("temperature", "top_p")

# Error types Anthropic sends in an `error` event inside a 200 stream, as HTTP statuses.
_ERROR_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


def _content_blocks(message: Message) -> list[dict[str, Any]]:
    match message.role:
        case "tool":
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content,
            }
            if message.is_error:
                block["is_error"] = True
            return [block]
        case "assistant":
            blocks: list[dict[str, Any]] = []
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            blocks += [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in message.tool_calls
            ]
            return blocks
        case _:
            return [{"type": "text", "text": message.content}]


def to_anthropic_messages(messages: Sequence[Message]) -> tuple[str, list[dict[str, Any]]]:
    """Split our conversation into Anthropic's `system` string and `messages` array.

    System messages are joined (in order) into the system prompt. Tool results travel in
    user turns, and consecutive turns of the same role are merged into one. In a merged user
    turn the tool results go first: the API rejects a turn with text before its tool results.
    """
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    wire: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        role = "assistant" if m.role == "assistant" else "user"
        blocks = _content_blocks(m)
        if wire and wire[-1]["role"] == role:
            wire[-1]["content"] += blocks
        else:
            wire.append({"role": role, "content": blocks})
    for item in wire:
        if item["role"] == "user":  # stable: results keep their order, and so does the text
            item["content"].sort(key=lambda block: block["type"] != "tool_result")
        # a turn that is just one text block reads better as a plain string
        match item["content"]:
            case [{"type": "text", "text": str(text)}]:
                item["content"] = text
    return system, wire


def to_anthropic_request(
    messages: Sequence[Message],
    settings: GenerationSettings,
    tools: Sequence[ToolSpec],
    default_max_tokens: int,
) -> dict[str, Any]:
    """Everything but the model name: the JSON body a messages.create call sends."""
    system, wire = to_anthropic_messages(as_conversation(messages))
    request: dict[str, Any] = {
        "messages": wire,
        "max_tokens": settings.max_tokens or default_max_tokens,
    }
    if system:
        request["system"] = system
    if tools:
        request["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in tools
        ]
    if settings.temperature is not None:
        request["temperature"] = settings.temperature
    if settings.top_p is not None:
        request["top_p"] = settings.top_p
    if settings.stop:
        request["stop_sequences"] = list(settings.stop)
    if isinstance(settings.response_format, JSONSchema):
        request["output_config"] = {
            "format": {"type": "json_schema", "schema": settings.response_format.schema}
        }
    return request


def _sdk_arguments(request: dict[str, Any]) -> dict[str, Any]:
    """The request as `messages.create` keyword arguments (sampling fields via extra_body)."""
    arguments = dict(request)
    extra = {k: arguments.pop(k) for k in _SAMPLING_FIELDS if k in arguments}
    if extra:
        arguments["extra_body"] = extra
    return arguments


def _tool_call(id: str, name: str, arguments: object) -> ToolCall:
    """A tool_use block as a ToolCall; the API sends `input` parsed, but check it is an object."""
    if isinstance(arguments, dict):
        return ToolCall(id, name, arguments)
    return ToolCall.from_json(id, name, json.dumps(arguments))  # raises ToolArgumentsError


def _usage(
    input_tokens: int | None,
    cache_write: int | None,
    cache_read: int | None,
    output_tokens: int,
) -> Usage:
    return Usage((input_tokens or 0) + (cache_write or 0) + (cache_read or 0), output_tokens)


def from_anthropic_message(response: AnthropicMessage) -> Completion:
    """An Anthropic Message as our `Completion`."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in response.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            calls.append(_tool_call(block.id, block.name, block.input))
    u = response.usage
    usage = _usage(
        u.input_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens, u.output_tokens
    )
    return Completion(
        text="".join(texts),
        tool_calls=tuple(calls),
        finish_reason=_FINISH.get(response.stop_reason or "", "other"),
        usage=usage,
        model=response.model,
    )


def translate_error(exc: anthropic.AnthropicError) -> LLMError:
    """An Anthropic SDK exception as one of ours."""
    if isinstance(exc, anthropic.APITimeoutError):
        return LLMTimeoutError(str(exc))
    if isinstance(exc, anthropic.APIConnectionError):
        return LLMConnectionError(str(exc))
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status < 400:  # an `error` event inside a successful (200) stream
            status = _ERROR_TYPE_STATUS.get(exc.type or "", 500)
        return error_from_status(status, exc.api_message or exc.message, exc.response.headers)
    return LLMError(str(exc))


class AnthropicChat:
    """An `LLM` backed by Anthropic's Messages API.

    Pass your own `anthropic.AsyncAnthropic` client, or use `from_env`. Anthropic requires
    `max_tokens` on every request: `default_max_tokens` is used when settings leave it unset.

    Example: llm = AnthropicChat(anthropic.AsyncAnthropic(), "claude-sonnet-5-5")
    """

    def __init__(
        self, client: anthropic.AsyncAnthropic, model: str, *, default_max_tokens: int = 1024
    ) -> None:
        if default_max_tokens < 1:
            raise ValueError(f"default_max_tokens must be at least 1, got {default_max_tokens}")
        self.client = client
        self.model = model
        self.default_max_tokens = default_max_tokens

    @classmethod
    def from_env(cls, model: str, **client_options: Any) -> Self:
        """The one-line switch: a client configured from ANTHROPIC_API_KEY (and friends)."""
        return cls(anthropic.AsyncAnthropic(**client_options), model)

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        request = to_anthropic_request(messages, settings, tools, self.default_max_tokens)
        try:
            response: AnthropicMessage = await self.client.messages.create(
                model=self.model, **_sdk_arguments(request)
            )
        except anthropic.AnthropicError as exc:
            raise translate_error(exc) from exc
        return from_anthropic_message(response)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        request = to_anthropic_request(messages, settings, tools, self.default_max_tokens)
        tool_blocks: dict[int, tuple[str, str, list[str]]] = {}  # index -> (id, name, json parts)
        usage_in = (0, 0, 0)
        output_tokens = 0
        finish: FinishReason = "other"
        model = self.model
        try:
            events: AsyncStream[RawMessageStreamEvent] = await self.client.messages.create(
                model=self.model, stream=True, **_sdk_arguments(request)
            )
            async with events:
                async for event in events:
                    match event.type:
                        case "message_start":
                            model = event.message.model or model
                            u = event.message.usage
                            usage_in = (
                                u.input_tokens,
                                u.cache_creation_input_tokens or 0,
                                u.cache_read_input_tokens or 0,
                            )
                            output_tokens = u.output_tokens
                        case "content_block_start":
                            block = event.content_block
                            if block.type == "tool_use":
                                tool_blocks[event.index] = (block.id, block.name, [])
                        case "content_block_delta":
                            delta = event.delta
                            if delta.type == "text_delta":
                                yield TextDelta(delta.text)
                            elif delta.type == "input_json_delta":
                                tool_blocks[event.index][2].append(delta.partial_json)
                        case "content_block_stop":
                            if event.index in tool_blocks:
                                id, name, parts = tool_blocks.pop(event.index)
                                yield ToolCallEvent(ToolCall.from_json(id, name, "".join(parts)))
                        case "message_delta":
                            if event.delta.stop_reason is not None:
                                finish = _FINISH.get(event.delta.stop_reason, "other")
                            output_tokens = event.usage.output_tokens
                            if event.usage.input_tokens is not None:
                                usage_in = (
                                    event.usage.input_tokens,
                                    event.usage.cache_creation_input_tokens or usage_in[1],
                                    event.usage.cache_read_input_tokens or usage_in[2],
                                )
        except anthropic.AnthropicError as exc:
            raise translate_error(exc) from exc
        yield StreamEnd(finish, _usage(*usage_in, output_tokens), model)
