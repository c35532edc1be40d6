"""llmprep: the tested code behind LLM Interview Prep.

The top level is the provider-agnostic core every chapter uses:

- `messages`: `Message`, `ToolSpec`, `ToolCall`, `ToolResult`, `GenerationSettings`,
  `Completion`, `Usage`: what goes into and comes out of a chat model;
- `llm`: the `LLM` protocol (`complete` and `stream`), stream events and `collect`;
- `scripted`: `ScriptedLLM`, a deterministic offline model with failures on a schedule;
- `tokens`: token counting with cl100k_base (offline);
- `pricing`: a dated price table and exact cost arithmetic;
- `errors`: one error hierarchy for every provider.

Adapters for real providers live in `llmprep.providers.openai` and
`llmprep.providers.anthropic`; they are not imported here, so the core needs neither SDK.
Topic code lives in subpackages (`llmprep.foundations`, ...).
"""

from llmprep.errors import (
    AuthenticationError,
    BadRequestError,
    LLMConnectionError,
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    ScriptExhaustedError,
    ServerError,
    ToolArgumentsError,
)
from llmprep.llm import LLM, StreamEnd, StreamEvent, TextDelta, ToolCallEvent, collect
from llmprep.messages import (
    DEFAULT_SETTINGS,
    Completion,
    FinishReason,
    GenerationSettings,
    JSONSchema,
    Message,
    Role,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
    as_conversation,
)
from llmprep.pricing import PRICES, ModelPrice, UnknownModelError, estimate_cost, price_of
from llmprep.scripted import Fault, FaultKind, RecordedCall, Reply, ScriptedLLM
from llmprep.tokens import (
    TiktokenTokenizer,
    Tokenizer,
    count_message_tokens,
    count_tokens,
    default_tokenizer,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "LLM",
    "PRICES",
    "AuthenticationError",
    "BadRequestError",
    "Completion",
    "Fault",
    "FaultKind",
    "FinishReason",
    "GenerationSettings",
    "JSONSchema",
    "LLMConnectionError",
    "LLMError",
    "LLMTimeoutError",
    "Message",
    "ModelPrice",
    "RateLimitError",
    "RecordedCall",
    "Reply",
    "Role",
    "ScriptExhaustedError",
    "ScriptedLLM",
    "ServerError",
    "StreamEnd",
    "StreamEvent",
    "TextDelta",
    "TiktokenTokenizer",
    "Tokenizer",
    "ToolArgumentsError",
    "ToolCall",
    "ToolCallEvent",
    "ToolResult",
    "ToolSpec",
    "UnknownModelError",
    "Usage",
    "as_conversation",
    "collect",
    "count_message_tokens",
    "count_tokens",
    "default_tokenizer",
    "estimate_cost",
    "price_of",
]
