"""The experiments and figures of the "Agent concepts" chapter.

- `capture_requests()`: one agent run against the real OpenAI or Anthropic SDK, with HTTP
  mocked at the transport (as `tests/agents/test_providers.py` does), returning the JSON
  bodies the adapter sent. The chapter reads the wire format from these bodies instead of
  asserting it.
- `wire_excerpt()`: the parts of those bodies where the two APIs differ (tool definition,
  the model's calls, the results sent back), for printing.
- `reading_run()`: a scripted agent that searches the book step after step, the shape of a
  long research run, with or without context compaction; `tokens_per_call()` draws its input
  tokens per model call and their running total.

Leaves out: anything about answer quality (the "model" is a script), and the Responses API
(the book's OpenAI adapter speaks Chat Completions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from llmprep.agents.booktools import book_tools
from llmprep.agents.loop import Budget, Compacted, Compaction, Run, run
from llmprep.agents.registry import ToolRegistry
from llmprep.agents.replay import REPLY, Provider, ReplayServer
from llmprep.book.plotting import PALETTE
from llmprep.core.llm import LLM
from llmprep.core.messages import ToolCall
from llmprep.core.scripted import Reply, ScriptedLLM

TASK = (
    "How much would 12,000 input and 800 output tokens cost on gpt-5-mini, and what is a Paramter?"
)
CALLS = (
    ToolCall(
        "call_1",
        "estimate_cost",
        {"model": "gpt-5-mini", "input_tokens": 12000, "output_tokens": 800},
    ),
    ToolCall("call_2", "lookup_term", {"term": "Paramter"}),
)
ANSWER = "The call costs the amount shown; 'Paramter' is a typo for 'Parameter'."


# -----------------------------------------------------------------------------
# the wire format, captured from the real SDKs


def _replies(provider: Provider, calls: Sequence[ToolCall], answer: str) -> list[dict[str, Any]]:
    """What the mocked server answers: one turn with `calls` (in parallel), then `answer`."""
    encode = REPLY[provider]
    return [encode("", calls, number=1), encode(answer, number=2)]


@dataclass(frozen=True, slots=True)
class Captured:
    """One agent run against a provider's SDK: the run, and every request body it sent."""

    provider: Provider
    result: Run
    bodies: tuple[dict[str, Any], ...]
    paths: tuple[str, ...]


async def capture_requests(
    provider: Provider,
    tools: ToolRegistry | None = None,
    task: str = TASK,
    calls: Sequence[ToolCall] = CALLS,
    answer: str = ANSWER,
) -> Captured:
    """Run the agent loop through the real SDK of `provider`, HTTP mocked at the transport.

    Why the SDK and not the adapter's translation function alone: this is the body that
    would go over the network, after the SDK added what it adds. The mocked server answers
    the first request with `calls` (one turn, several calls) and the second with `answer`.
    """
    server = ReplayServer(_replies(provider, calls, answer))
    http = server.client()
    if provider == "openai":
        import openai

        from llmprep.core.providers.openai import OpenAIChat

        client = openai.AsyncOpenAI(api_key="sk-test", http_client=http, max_retries=0)
        llm: LLM = OpenAIChat(client, "gpt-5-mini")
    else:
        import anthropic

        from llmprep.core.providers.anthropic import AnthropicChat

        aclient = anthropic.AsyncAnthropic(api_key="sk-ant-test", http_client=http, max_retries=0)
        llm = AnthropicChat(aclient, "claude-sonnet-5-5")
    result = await run(llm, tools or book_tools(), task)
    await http.aclose()
    return Captured(provider, result, tuple(server.requests), tuple(server.paths))


def wire_excerpt(captured: Captured, tool: str = "estimate_cost") -> dict[str, Any]:
    """Where the two wire formats differ, from the captured bodies.

    - `tool`: the definition of the tool named `tool`, as the first request sent it;
    - `calls`: the assistant turn that carries the model's calls, as sent back in request 2;
    - `results`: the message or turn that carries the tool results in request 2.
    """
    first, second = captured.bodies[0], captured.bodies[1]
    if captured.provider == "openai":
        messages = second["messages"]
        assistant = next(m for m in messages if m.get("tool_calls"))
        results = [m for m in messages if m["role"] == "tool"]
        definition = next(t for t in first["tools"] if t["function"]["name"] == tool)
        return {"tool": definition, "calls": assistant, "results": results}
    turns = second["messages"]
    assistant = next(t for t in turns if t["role"] == "assistant")
    results = turns[-1]
    definition = next(t for t in first["tools"] if t["name"] == tool)
    return {"tool": definition, "calls": assistant, "results": results}


# -----------------------------------------------------------------------------
# a long run, with and without compaction

READING_LIST = (
    "KV cache size",
    "few-shot examples order",
    "chain of thought tokens",
    "temperature sampling",
    "byte pair encoding",
    "self-consistency votes",
    "prompt caching prefix",
    "structured output schema",
    "speculative decoding",
    "mixture of experts routing",
    "LLM as a judge bias",
    "prompt injection delimiters",
)


def reader(queries: Sequence[str] = READING_LIST, k: int = 4) -> ScriptedLLM:
    """A scripted researcher that searches the book once per query, then answers.

    The shape of a long research run: every step adds a large tool result to the context,
    and nothing the model does removes it.
    """
    script: list[Reply | str] = [
        Reply(tool_calls=(ToolCall(f"call_{i}", "search_book", {"query": q, "k": k}),))
        for i, q in enumerate(queries, start=1)
    ]
    script.append("Summary: read the book's passages on every topic in the list.")
    return ScriptedLLM(script)


@dataclass(frozen=True, slots=True)
class ReadingRun:
    """One reading run: its record, and the input tokens of each model call in order."""

    label: str
    result: Run
    input_tokens: tuple[int, ...]
    compactions: tuple[Compacted, ...]

    @property
    def total_input(self) -> int:
        return sum(self.input_tokens)


async def reading_run(
    label: str,
    compaction: Compaction | None,
    queries: Sequence[str] = READING_LIST,
    k: int = 4,
    tools: ToolRegistry | None = None,
) -> ReadingRun:
    """Run `reader()` to its answer, with the given compaction policy (or none)."""
    budget = Budget(max_steps=len(queries) + 2)
    result = await run(
        reader(queries, k),
        tools or book_tools(),
        "Read up on the list.",
        budget,
        compaction=compaction,
    )
    tokens = tuple(t.usage.input_tokens for t in result.turns)
    compacted = tuple(s for s in result.steps if isinstance(s, Compacted))
    return ReadingRun(label, result, tokens, compacted)


def tokens_per_call(runs: Sequence[ReadingRun], *, limit: int | None = None) -> Figure:
    """Left: input tokens of each model call, one line per run (compactions marked).
    Right: the running total of input tokens, which is what the run is billed for."""
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    markers = ("o", "s", "^", "D")
    for i, r in enumerate(runs):
        xs = list(range(1, len(r.input_tokens) + 1))
        color = PALETTE[i % len(PALETTE)]
        left.plot(xs, r.input_tokens, marker=markers[i % 4], ms=4, color=color, label=r.label)
        running = [sum(r.input_tokens[: n + 1]) for n in range(len(r.input_tokens))]
        right.plot(xs, running, marker=markers[i % 4], ms=4, color=color, label=r.label)
        for c in r.compactions:
            left.axvline(c.before_turn, color=color, lw=0.8, ls=":")
    if limit is not None:
        left.axhline(limit, color="#555555", lw=1, ls="--", label="compaction threshold")
    left.set_xlabel("model call")
    left.set_ylabel("input tokens of the call")
    right.set_xlabel("model call")
    right.set_ylabel("input tokens so far")
    right.yaxis.set_major_formatter(lambda v, _: f"{v / 1000:.0f}k")
    left.yaxis.set_major_formatter(lambda v, _: f"{v / 1000:.0f}k")
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 2))
    return fig
