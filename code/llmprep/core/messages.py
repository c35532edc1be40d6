"""The vocabulary of a chat LLM call: messages in, a completion out.

Every provider's chat API has the same shape underneath its JSON:

    [Message, Message, ...] + tools + settings  --LLM-->  Completion (text, tool calls, usage)

These types name that shape once, with no provider in sight. The adapters in
`llmprep.core.providers` translate them to and from each API's wire format; the scripted model
uses them directly. They are frozen dataclasses: a conversation is a value you can log,
compare and replay, and nothing downstream can edit a message after it was sent.

Validation happens at construction, so a typo fails where you made it (an unknown role, a
temperature of 5, a tool result that answers no call), not three calls later as an HTTP 400.

Leaves out: images, audio and other multi-part content (content is plain text here), the
`name` field on messages, logprobs, `n > 1` choices, and provider extras such as prompt-cache
controls or reasoning effort.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from llmprep.core.errors import ToolArgumentsError

type Role = Literal["system", "user", "assistant", "tool"]
type FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "other"]
type JSONObject = dict[str, Any]

ROLES: tuple[str, ...] = get_args(Role.__value__)
FINISH_REASONS: tuple[str, ...] = get_args(FinishReason.__value__)

# Both OpenAI and Anthropic accept tool names matching this pattern (and nothing longer).
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _choices(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


# -----------------------------------------------------------------------------
# tools


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call: a name, what it is for, and a JSON Schema for its arguments.

    The description is a prompt: the model reads it to decide when to call the tool, so say
    what the tool does and when to use it.

    Example:
        ToolSpec("get_weather", "Current weather for a city.",
                 {"type": "object", "properties": {"city": {"type": "string"}},
                  "required": ["city"]})
    """

    name: str
    description: str
    parameters: JSONObject = field(default_factory=lambda: {"type": "object", "properties": {}})

    def __post_init__(self) -> None:
        if not _TOOL_NAME.match(self.name):
            raise ValueError(
                f"tool name {self.name!r} must be 1-64 letters, digits, '_' or '-' "
                "(the rule OpenAI and Anthropic share)"
            )
        if not isinstance(self.parameters, Mapping) or self.parameters.get("type") != "object":
            raise ValueError(
                f"tool {self.name!r}: parameters must be a JSON Schema with type 'object', "
                f"got {self.parameters!r}"
            )


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The model asking to run a tool: which one, with which arguments, under which id.

    The id ties the call to its result: you answer with a `ToolResult` carrying the same id.
    """

    id: str
    name: str
    arguments: JSONObject = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a tool call needs a non-empty id")
        if not self.name:
            raise ValueError("a tool call needs a tool name")
        if not isinstance(self.arguments, dict):
            raise ToolArgumentsError(self.name, repr(self.arguments), "arguments are not an object")

    @classmethod
    def from_json(cls, id: str, name: str, raw: str) -> ToolCall:
        """Build a call from the JSON text a model wrote for its arguments.

        Why a separate constructor: providers send arguments as a *string* the model
        generated, and models do write broken JSON. This is the one place that turns that
        text into a dict, and it fails loudly with the raw text kept for a retry prompt.
        Empty text means "no arguments".

        Example: ToolCall.from_json("c1", "add", '{"a": 1, "b": 2}').arguments == {"a": 1, "b": 2}
        """
        if not raw.strip():
            return cls(id, name, {})
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ToolArgumentsError(name, raw, f"invalid JSON: {exc.msg}") from exc
        if not isinstance(value, dict):
            raise ToolArgumentsError(
                name, raw, f"expected a JSON object, got {type(value).__name__}"
            )
        return cls(id, name, value)


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What running a tool produced, addressed to the call that asked for it.

    Set `is_error` when the tool failed: the model sees the message and can try again.
    """

    call_id: str
    content: str
    name: str = ""
    is_error: bool = False

    def to_message(self) -> Message:
        """The `tool` message that carries this result back into the conversation."""
        return Message.tool(self.call_id, self.content, is_error=self.is_error)


# -----------------------------------------------------------------------------
# messages and conversations


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a conversation.

    - `system`: instructions that frame the whole conversation.
    - `user`: what the person (or your program) says.
    - `assistant`: what the model said; may carry `tool_calls`.
    - `tool`: a tool's result; `tool_call_id` names the call it answers.

    Example: Message("user", "What is 2 + 2?")
    """

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    is_error: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {_choices(ROLES)}")
        if not isinstance(self.content, str):
            raise TypeError(f"message content must be str, got {type(self.content).__name__}")
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        for call in self.tool_calls:
            if not isinstance(call, ToolCall):
                raise TypeError(f"tool_calls must hold ToolCall values, got {type(call).__name__}")
        if self.tool_calls and self.role != "assistant":
            raise ValueError(f"only assistant messages carry tool calls, not {self.role!r}")
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a tool message needs the tool_call_id of the call it answers")
        if self.role != "tool" and (self.tool_call_id is not None or self.is_error):
            raise ValueError("tool_call_id and is_error belong on tool messages only")

    @classmethod
    def system(cls, content: str) -> Message:
        return cls("system", content)

    @classmethod
    def user(cls, content: str) -> Message:
        return cls("user", content)

    @classmethod
    def assistant(cls, content: str = "", tool_calls: Sequence[ToolCall] = ()) -> Message:
        return cls("assistant", content, tuple(tool_calls))

    @classmethod
    def tool(cls, call_id: str, content: str, *, is_error: bool = False) -> Message:
        return cls("tool", content, tool_call_id=call_id, is_error=is_error)


def as_conversation(messages: Iterable[Message]) -> tuple[Message, ...]:
    """Check that `messages` can be sent as one request, and freeze them into a tuple.

    Why check here: the mistakes below are easy to make when an agent loop builds the list,
    and every provider rejects them, but only after a network round trip, with a terse 400.

    - the list is empty;
    - an item is not a `Message` (a dict from some other library, say);
    - a tool message answers a call id that no earlier assistant message made.
    """
    conversation = tuple(messages)
    if not conversation:
        raise ValueError("a request needs at least one message")
    issued: set[str] = set()
    for i, message in enumerate(conversation):
        if not isinstance(message, Message):
            raise TypeError(f"message {i} is {type(message).__name__}, not Message")
        issued.update(call.id for call in message.tool_calls)
        if message.role == "tool" and message.tool_call_id not in issued:
            raise ValueError(
                f"message {i} answers tool call {message.tool_call_id!r}, "
                "but no earlier assistant message made that call"
            )
    return conversation


# -----------------------------------------------------------------------------
# settings


@dataclass(frozen=True, slots=True)
class JSONSchema:
    """Ask for output that matches a JSON Schema (OpenAI and Anthropic "structured outputs")."""

    name: str
    schema: JSONObject


type ResponseFormat = Literal["text"] | JSONSchema


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    """How to sample, independent of what to say. None means "the provider's default".

    Ranges are the widest any provider accepts (temperature 0-2 is OpenAI's; Anthropic stops
    at 1, and some newer models reject sampling settings altogether, which the API reports).

    Example: GenerationSettings(temperature=0.0, max_tokens=200, stop=("\\n\\n",))
    """

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    response_format: ResponseFormat = "text"

    def __post_init__(self) -> None:
        if self.temperature is not None and not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"temperature must be between 0 and 2, got {self.temperature}")
        if self.top_p is not None and not 0.0 <= self.top_p <= 1.0:
            raise ValueError(f"top_p must be between 0 and 1, got {self.top_p}")
        if self.max_tokens is not None:
            if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int):
                raise TypeError(f"max_tokens must be an int, got {self.max_tokens!r}")
            if self.max_tokens < 1:
                raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if isinstance(self.stop, str):
            raise TypeError("stop must be a sequence of strings, e.g. stop=('END',)")
        object.__setattr__(self, "stop", tuple(self.stop))
        if any(not isinstance(s, str) for s in self.stop):
            raise TypeError(f"stop sequences must be strings, got {self.stop!r}")
        if any(not s for s in self.stop):
            raise ValueError("stop sequences must be non-empty strings")
        if self.response_format != "text" and not isinstance(self.response_format, JSONSchema):
            raise ValueError(
                f"response_format must be 'text' or a JSONSchema, got {self.response_format!r}"
            )


DEFAULT_SETTINGS = GenerationSettings()


# -----------------------------------------------------------------------------
# the answer


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens read (input, the whole prompt) and written (output) by one call: what you pay."""

    input_tokens: int = 0
    output_tokens: int = 0

    def __post_init__(self) -> None:
        for n in (self.input_tokens, self.output_tokens):
            if isinstance(n, bool) or not isinstance(n, int):
                raise TypeError(f"token counts must be ints, got {n!r}")
        if self.input_tokens < 0 or self.output_tokens < 0:
            raise ValueError(f"token counts cannot be negative: {self}")

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        """Usage adds up, so an agent run's cost is the sum of its calls."""
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True, slots=True)
class Completion:
    """One model answer: text and/or tool calls, why it stopped, and what it cost.

    `finish_reason` is normalised across providers:
    "stop" (natural end or a stop sequence), "length" (hit max_tokens), "tool_calls" (wants
    tools run), "content_filter" (refused or filtered), "other" (anything else).
    """

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: FinishReason = "stop"
    usage: Usage = Usage()
    model: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        if self.finish_reason not in FINISH_REASONS:
            raise ValueError(
                f"unknown finish_reason {self.finish_reason!r}; "
                f"expected one of {_choices(FINISH_REASONS)}"
            )

    def to_message(self) -> Message:
        """The assistant message to append to the conversation before the next call."""
        return Message.assistant(self.text, self.tool_calls)
