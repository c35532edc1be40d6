"""`OpenAIChat`: the `LLM` protocol over OpenAI's Chat Completions API (official SDK).

Translation, both ways:

    ours                                  Chat Completions
    Message("system", ...)                {"role": "system", "content": ...}
    Message("assistant", tool_calls=...)  {"role": "assistant", "tool_calls": [{"id": ...,
                                            "type": "function", "function": {"name": ...,
                                            "arguments": "<JSON text>"}}]}
    Message("tool", tool_call_id=...)     {"role": "tool", "tool_call_id": ..., "content": ...}
    ToolSpec                              {"type": "function", "function": {"name": ...,
                                            "description": ..., "parameters": <schema>}}
    settings.max_tokens                   max_completion_tokens
    JSONSchema(name, schema)              response_format {"type": "json_schema", ...}

Answers come back with tool arguments as JSON *text*, which we parse (and reject, with the
raw text kept, when the model wrote something unusable). Streaming uses server-sent events:
each `data:` chunk carries a text delta or a fragment of a tool call's arguments, and with
`stream_options.include_usage` a last chunk carries the usage. SDK exceptions become ours.

Leaves out: the Responses API, `n > 1`, logprobs, audio and images, the `strict` flag of
structured outputs, and OpenAI's own `is_error` equivalent for tool results (there is none:
say so in the content).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import openai
from openai import AsyncStream
from openai.types.chat import ChatCompletion, ChatCompletionChunk

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
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


def to_openai_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Our messages as the `messages` array Chat Completions expects."""
    wire: list[dict[str, Any]] = []
    for m in messages:
        match m.role:
            case "system" | "user":
                wire.append({"role": m.role, "content": m.content})
            case "assistant":
                # content may be null only when the message carries tool calls
                content = m.content or (None if m.tool_calls else "")
                item: dict[str, Any] = {"role": "assistant", "content": content}
                if m.tool_calls:
                    item["tool_calls"] = [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                        }
                        for c in m.tool_calls
                    ]
                wire.append(item)
            case "tool":
                wire.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
    return wire


def to_openai_request(
    messages: Sequence[Message], settings: GenerationSettings, tools: Sequence[ToolSpec]
) -> dict[str, Any]:
    """Everything but the model name: the JSON body a chat.completions call sends."""
    request: dict[str, Any] = {"messages": to_openai_messages(as_conversation(messages))}
    if tools:
        request["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                },
            }
            for t in tools
        ]
    if settings.temperature is not None:
        request["temperature"] = settings.temperature
    if settings.top_p is not None:
        request["top_p"] = settings.top_p
    if settings.max_tokens is not None:
        request["max_completion_tokens"] = settings.max_tokens
    if settings.stop:
        request["stop"] = list(settings.stop)
    if isinstance(settings.response_format, JSONSchema):
        fmt = settings.response_format
        request["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": fmt.name, "schema": fmt.schema},
        }
    return request


def from_openai_completion(response: ChatCompletion) -> Completion:
    """A ChatCompletion (first choice) as our `Completion`.

    A refusal arrives in `message.refusal`, not `content`; it becomes the text, so the caller
    sees why there is no answer (the finish reason stays what the API said, usually "stop").
    """
    if not response.choices:
        raise LLMError(f"the response from {response.model!r} has no choices")
    choice = response.choices[0]
    message = choice.message
    calls = tuple(
        ToolCall.from_json(c.id, c.function.name, c.function.arguments)
        for c in message.tool_calls or ()
        if c.type == "function"
    )
    usage = response.usage
    return Completion(
        text=message.content or message.refusal or "",
        tool_calls=calls,
        finish_reason=_FINISH.get(choice.finish_reason, "other"),
        usage=Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage(),
        model=response.model,
    )


def translate_error(exc: openai.OpenAIError) -> LLMError:
    """An OpenAI SDK exception as one of ours."""
    if isinstance(exc, openai.APITimeoutError):
        return LLMTimeoutError(str(exc))
    if isinstance(exc, openai.APIConnectionError):
        return LLMConnectionError(str(exc))
    if isinstance(exc, openai.APIStatusError):
        return error_from_status(exc.status_code, exc.message, exc.response.headers)
    return LLMError(str(exc))


@dataclass
class _PartialCall:
    """A tool call being assembled from stream fragments (OpenAI sends arguments in pieces)."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAIChat:
    """An `LLM` backed by OpenAI Chat Completions.

    Pass your own `openai.AsyncOpenAI` client (that is where keys, base URL, timeouts and
    retries live), or use `from_env`.

    Example: llm = OpenAIChat(openai.AsyncOpenAI(), "gpt-5-mini")
    """

    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        self.client = client
        self.model = model

    @classmethod
    def from_env(cls, model: str, **client_options: Any) -> Self:
        """The one-line switch: a client configured from OPENAI_API_KEY (and friends)."""
        return cls(openai.AsyncOpenAI(**client_options), model)

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        request = to_openai_request(messages, settings, tools)
        try:
            response: ChatCompletion = await self.client.chat.completions.create(
                model=self.model, **request
            )
        except openai.OpenAIError as exc:
            raise translate_error(exc) from exc
        return from_openai_completion(response)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        request = to_openai_request(messages, settings, tools)
        partial: dict[int, _PartialCall] = {}
        finish: FinishReason = "other"
        usage = Usage()
        model = self.model
        try:
            chunks: AsyncStream[ChatCompletionChunk] = await self.client.chat.completions.create(
                model=self.model, stream=True, stream_options={"include_usage": True}, **request
            )
            async with chunks:
                async for chunk in chunks:
                    model = chunk.model or model
                    if chunk.usage is not None:
                        usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                    for choice in chunk.choices[:1]:
                        delta = choice.delta
                        if delta.content:
                            yield TextDelta(delta.content)
                        if delta.refusal:  # as in `complete`: a refusal is the answer's text
                            yield TextDelta(delta.refusal)
                        for piece in delta.tool_calls or ():
                            call = partial.setdefault(piece.index, _PartialCall())
                            call.id = piece.id or call.id
                            if piece.function is not None:
                                call.name = piece.function.name or call.name
                                call.arguments.append(piece.function.arguments or "")
                        if choice.finish_reason is not None:
                            finish = _FINISH.get(choice.finish_reason, "other")
        except openai.OpenAIError as exc:
            raise translate_error(exc) from exc
        for _, call in sorted(partial.items()):
            yield ToolCallEvent(ToolCall.from_json(call.id, call.name, "".join(call.arguments)))
        yield StreamEnd(finish, usage, model)
