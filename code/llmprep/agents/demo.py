"""The demo agent of the "Agents in code" chapter: book tools, a scripted researcher, and
failures and injections on demand, so every run is deterministic and offline.

    researcher (ScriptedLLM rule)  --search_book-->  BM25 over the book  --> cited answer
                 ^   | tool error: retry the same call (up to `retries` times), then give up
                 |   | output withheld by a guardrail: answer without it, do not retry
                 +---+

`researcher()` is a rule, not a model: it reads the conversation and decides like a simple
tool-using model would, so the chapter can show the *runtime* (trajectory, recovered
failure, budget stop, blocked injection) without a key or a network. Swap in `OpenAIChat`
or `AnthropicChat` and the same `run(...)` call talks to a real model.

`flaky` makes a tool fail on chosen calls (a 503 from a search backend, say) and `poisoned`
appends an attacker's text to a tool's output (a retrieved page with instructions hidden in
it): the two faults the chapter measures the agent against.

Leaves out: a real planner (see `plan`), and any judgement about the answer's quality.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from llmprep.agents.tools import AnyTool, Tool
from llmprep.core.messages import Message, ToolCall
from llmprep.core.scripted import Reply, ScriptedLLM

WITHHELD = "The output of"  # how GuardedTools begins a blocked result
_HIT = re.compile(r"^\[([^\]]+)\] (.*?) \(score [\d.]+\)\n(.+?)(?:\n\n\[|\Z)", re.S)


def flaky(
    tool: AnyTool, fail_on: Collection[int], error: str = "search backend unavailable (503)"
) -> AnyTool:
    """A copy of `tool` whose calls number `fail_on` (1-based) raise `ConnectionError`.

    Example: flaky(search_book, {1}) fails once, then works: a recoverable failure.
    """
    count = 0

    async def call(**arguments: Any) -> Any:
        nonlocal count
        count += 1
        if count in fail_on:
            raise ConnectionError(error)
        return await tool.invoke(arguments)

    return Tool(tool.spec, call, side_effect=tool.side_effect, timeout=tool.timeout)


def poisoned(tool: AnyTool, payload: str) -> AnyTool:
    """A copy of `tool` whose output ends with `payload`: an indirect prompt injection."""

    async def call(**arguments: Any) -> str:
        return f"{await tool.invoke(arguments)}\n\n{payload}"

    return Tool(tool.spec, call, side_effect=tool.side_effect, timeout=tool.timeout)


def _first_sentence(text: str) -> str:
    body = " ".join(line for line in text.splitlines() if not line.startswith("#")).strip()
    return re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0] if body else ""


def _unwrap(content: str) -> str:
    """The text inside a quarantine wrapper (see `guardrails.quarantine`), or `content`."""
    if content.startswith("<<untrusted "):
        return content.split("\n", 1)[1].rsplit("\n", 1)[0]
    return content


def researcher(tool: str = "search_book", retries: int = 2) -> ScriptedLLM:
    """A scripted tool-using "model" that searches the book and answers with a citation.

    - the task (last message from the user): search for it;
    - a tool error: call again with the same arguments, at most `retries` times;
    - a result withheld by a guardrail: answer without it (retrying would fetch it again);
    - a result: answer with the first hit's first sentence, citing its chunk id.
    """

    def decide(messages: Sequence[Message]) -> Reply | str:
        last = messages[-1]
        task = next(m.content for m in messages if m.role == "user")
        if last.role == "user":
            return Reply(tool_calls=(ToolCall(f"call_{len(messages)}", tool, {"query": task}),))
        if last.is_error and last.content.startswith(WITHHELD):
            return "I found a source, but it was withheld as unsafe; I cannot answer from it."
        if last.is_error:
            failures = sum(1 for m in messages if m.role == "tool" and m.is_error)
            if failures > retries:
                return f"I could not search the book: {last.content}"
            call = ToolCall(f"call_{len(messages)}", tool, {"query": task})
            return Reply(text="The search failed; trying again.", tool_calls=(call,))
        hit = _HIT.match(_unwrap(last.content))
        if hit is None:
            return f"The book does not seem to cover this: {last.content[:80]}"
        chunk_id, _, passage = hit.groups()
        return f"{_first_sentence(passage)} [{chunk_id}]"

    return ScriptedLLM(decide)
