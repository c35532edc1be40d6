"""llmprep: the tested code behind LLM Interview Prep.

The package has three tiers, and imports run one way, from the bottom up:

- `llmprep.core`: the provider-agnostic core (messages, the `LLM` protocol, the scripted
  model, provider adapters, token counting, pricing, errors). It imports nothing else from
  llmprep.
- `llmprep.book`: what every chapter shares (the question bank, the figure house style,
  `show_source`, `setup_chapter`). It may use `core`.
- one package per topic, named by the topic's slug (`llmprep.foundations`, ...). A topic may
  use `core`, `book` and the topics before it in the study order, never a later one.

`tests/book/test_layout.py` and the import-linter contract in `pyproject.toml` enforce that
order. The top level re-exports the core, so `from llmprep import Message` works:

- `Message`, `ToolSpec`, `ToolCall`, `ToolResult`, `GenerationSettings`, `Completion`,
  `Usage`: what goes into and comes out of a chat model;
- the `LLM` protocol (`complete` and `stream`), stream events and `collect`;
- `ScriptedLLM`, a deterministic offline model with failures on a schedule;
- token counting with cl100k_base (offline), a dated price table and exact cost arithmetic;
- one error hierarchy for every provider.

Adapters for real providers live in `llmprep.core.providers.openai` and
`llmprep.core.providers.anthropic`; they are not imported here, so the core needs neither SDK.
"""

from llmprep.core.errors import (
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
from llmprep.core.llm import LLM, StreamEnd, StreamEvent, TextDelta, ToolCallEvent, collect
from llmprep.core.messages import (
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
from llmprep.core.pricing import PRICES, ModelPrice, UnknownModelError, estimate_cost, price_of
from llmprep.core.scripted import Fault, FaultKind, RecordedCall, Reply, ScriptedLLM
from llmprep.core.tokens import (
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
