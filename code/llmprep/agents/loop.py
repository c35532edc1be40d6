"""The agent loop: call the model, run the tools it asks for, feed back the results, repeat.

    messages = [system, user(task)]
    loop:
        budget left?            no  -> stop ("step_budget", "token_budget", "cost_budget")
        context too long?       yes -> compact old tool results (recorded in the trajectory)
        reply = llm(messages, tools)
        no tool calls?          -> stop ("answer")
        same call N times?      -> stop ("loop_detected")
        results = run every call concurrently (asyncio.TaskGroup); errors become results
        messages += reply, results

Everything that can go wrong is a *stop reason*, not an exception: an agent in production
must end every run with a record of what it did and why it stopped. The only exception
that escapes is cancellation.

Budgets are checked *before* each model call, against a worst case: the tokens used so far,
plus the next prompt (counted with cl100k_base), plus `settings.max_tokens` of output if you
set it. So a budget is never knowingly overspent; without `max_tokens` the last call's
output can still go over, which is why production agents set both.

Context compaction keeps a long run inside its window: when the conversation is over
`Compaction.max_tokens`, every tool result but the last `keep_last` is replaced by a short
note (or by your own summary function). The call ids stay, so the conversation stays valid
for every provider, and the model knows something was there.

Leaves out: streaming the model's reply (see `llmprep.core.llm.collect`), retries of the
model call on transient errors (the production chapter wraps the LLM for that), `tool_choice`
(forcing a call), and memory that outlives one run.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal, get_args

from llmprep.agents.registry import ToolExecutor
from llmprep.core.errors import LLMError
from llmprep.core.llm import LLM
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    GenerationSettings,
    Message,
    ToolCall,
    ToolResult,
    ToolSpec,
    Usage,
)
from llmprep.core.pricing import ModelPrice, price_of
from llmprep.core.tokens import Tokenizer, count_message_tokens, default_tokenizer

type StopReason = Literal[
    "answer", "step_budget", "token_budget", "cost_budget", "loop_detected", "error"
]
STOP_REASONS: tuple[str, ...] = get_args(StopReason.__value__)

type Summarizer = Callable[[Message], Awaitable[str]]
"""Replaces one old tool message's content during compaction (e.g. an LLM summary)."""

DEFAULT_SYSTEM = (
    "You are a careful assistant that uses tools. Call a tool when you need information you "
    "do not have; when you can answer, reply with the answer and no tool call. If a tool "
    "returns an error, read it and fix your call, or try another way."
)


@dataclass(frozen=True, slots=True)
class Budget:
    """When to stop a run that has not answered: steps, tokens (input + output) and USD.

    `max_cost` needs `pricing_model` (a model in `llmprep.core.pricing.PRICES`, or pass a
    `ModelPrice`), so a cost cap is never silently computed as zero. `loop_threshold` is how
    many times the same call (name and arguments) may be made before the run is stopped.

    Example: Budget(max_steps=8, max_cost=Decimal("0.05"), pricing_model="gpt-5-mini")
    """

    max_steps: int = 10
    max_tokens: int | None = None
    max_cost: Decimal | None = None
    pricing_model: str | ModelPrice | None = None
    loop_threshold: int = 3

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {self.max_steps}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.max_cost is not None:
            if not isinstance(self.max_cost, Decimal) or self.max_cost <= 0:
                raise ValueError(f"max_cost must be a positive Decimal, got {self.max_cost!r}")
            if self.pricing_model is None:
                raise ValueError("max_cost needs pricing_model: the price to count cost with")
        if isinstance(self.pricing_model, str):
            price_of(self.pricing_model)  # fail now, with the list of known models
        if self.loop_threshold < 2:
            raise ValueError(f"loop_threshold must be at least 2, got {self.loop_threshold}")

    @property
    def price(self) -> ModelPrice | None:
        if isinstance(self.pricing_model, str):
            return price_of(self.pricing_model)
        return self.pricing_model


DEFAULT_BUDGET = Budget()


@dataclass(frozen=True, slots=True)
class Compaction:
    """Compact the conversation when it is over `max_tokens`; keep the last `keep_last` results.

    `summarize` (async) writes the replacement for one old tool message; the default elides
    it to a one-line note with its size.
    """

    max_tokens: int
    keep_last: int = 2
    summarize: Summarizer | None = None

    def __post_init__(self) -> None:
        if self.max_tokens < 1 or self.keep_last < 0:
            raise ValueError("max_tokens must be >= 1 and keep_last >= 0")


# -----------------------------------------------------------------------------
# the trajectory


@dataclass(frozen=True, slots=True)
class Turn:
    """One model call and the tool calls it made, with their results (in call order)."""

    number: int
    text: str
    calls: tuple[ToolCall, ...]
    results: tuple[ToolResult, ...]
    usage: Usage
    cost: Decimal


@dataclass(frozen=True, slots=True)
class Compacted:
    """The conversation was compacted before turn `before_turn`: which results, and the saving."""

    before_turn: int
    call_ids: tuple[str, ...]
    tokens_before: int
    tokens_after: int


type Step = Turn | Compacted


@dataclass(frozen=True, slots=True)
class Run:
    """The whole record of one agent run: every step, the answer, and why it stopped."""

    task: str
    steps: tuple[Step, ...]
    answer: str | None
    stop_reason: StopReason
    usage: Usage
    cost: Decimal
    messages: tuple[Message, ...] = ()
    error: str | None = None

    @property
    def turns(self) -> tuple[Turn, ...]:
        return tuple(s for s in self.steps if isinstance(s, Turn))

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(c for t in self.turns for c in t.calls)

    @property
    def tool_errors(self) -> tuple[ToolResult, ...]:
        return tuple(r for t in self.turns for r in t.results if r.is_error)


def call_key(call: ToolCall) -> str:
    """What makes two calls "the same" for loop detection: the name and canonical arguments.

    Example: call_key(ToolCall("1", "f", {"b": 1, "a": 2})) == call_key(
        ToolCall("2", "f", {"a": 2, "b": 1}))
    """
    return f"{call.name}:{json.dumps(call.arguments, sort_keys=True, default=str)}"


async def run_calls(
    tools: ToolExecutor,
    calls: Sequence[ToolCall],
) -> tuple[ToolResult, ...]:
    """Run a turn's tool calls concurrently, results in call order.

    Why a TaskGroup: models ask for independent lookups in one turn (the weather in three
    cities), and running them one after another adds their latencies. `ToolExecutor.call`
    never raises, so one failing tool cannot cancel its siblings; if the run itself is
    cancelled, the TaskGroup cancels every call still running.
    """
    if len(calls) == 1:
        return (await tools.call(calls[0]),)
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(tools.call(c)) for c in calls]
    return tuple(t.result() for t in tasks)


async def compact(
    messages: Sequence[Message],
    policy: Compaction,
    tokenizer: Tokenizer,
    before_turn: int,
) -> tuple[list[Message], Compacted | None]:
    """Replace old tool results with short notes; None if there was nothing to compact."""
    tool_positions = [i for i, m in enumerate(messages) if m.role == "tool"]
    keep = set(tool_positions[-policy.keep_last :]) if policy.keep_last else set()
    out = list(messages)
    compacted: list[str] = []
    for i in tool_positions:
        message = messages[i]
        if i in keep or message.content.startswith(ELIDED):
            continue
        if policy.summarize is not None:
            text = f"{ELIDED} summary] {await policy.summarize(message)}"
        else:
            n = tokenizer.count(message.content)
            first = message.content.strip().splitlines()[0][:80] if message.content.strip() else ""
            text = f"{ELIDED} {n} tokens] {first}"
        out[i] = replace(message, content=text)
        compacted.append(message.tool_call_id or "")
    if not compacted:
        return out, None
    before = count_message_tokens(messages, tokenizer)
    after = count_message_tokens(out, tokenizer)
    return out, Compacted(before_turn, tuple(compacted), before, after)


ELIDED = "[compacted:"


async def run(
    llm: LLM,
    tools: ToolExecutor,
    task: str,
    budget: Budget = DEFAULT_BUDGET,
    *,
    system: str | None = DEFAULT_SYSTEM,
    settings: GenerationSettings = DEFAULT_SETTINGS,
    compaction: Compaction | None = None,
    history: Sequence[Message] = (),
    tokenizer: Tokenizer | None = None,
) -> Run:
    """Run the agent on `task` until it answers or a budget, a loop or an error stops it.

    `tools` is a `ToolRegistry` or anything with `specs()` and a never-raising `call()`
    (a guarded registry, an MCP toolbox). `history` goes between the system prompt and the
    task (earlier turns of a chat). See the module docstring for the loop itself.

    Example:
        llm = ScriptedLLM([ToolCall("c1", "add", {"a": 2, "b": 3}), "5"])
        result = await run(llm, ToolRegistry([add]), "What is 2 + 3?")
        (result.answer, result.stop_reason) == ("5", "answer")
    """
    tokenizer = tokenizer or default_tokenizer()
    specs = tuple(tools.specs())
    meter = _Meter(budget, tokenizer, specs)
    messages: list[Message] = [Message.system(system)] if system else []
    messages += [*history, Message.user(task)]
    steps: list[Step] = []
    seen: Counter[str] = Counter()

    def finish(
        reason: StopReason,
        answer: str | None = None,
        error: str | None = None,
    ) -> Run:
        usage, cost = meter.usage, meter.cost
        conversation = tuple(messages)
        return Run(task, tuple(steps), answer, reason, usage, cost, conversation, error)

    for number in range(1, budget.max_steps + 1):
        if compaction is not None and meter.over(messages, compaction.max_tokens):
            messages, record = await compact(messages, compaction, tokenizer, number)
            if record is not None:
                steps.append(record)
        if (reason := meter.would_exceed(messages, settings)) is not None:
            return finish(reason)
        try:
            completion = await llm.complete(messages, settings=settings, tools=specs)
        except LLMError as exc:
            return finish("error", error=f"{type(exc).__name__}: {exc}")
        step_cost = meter.add(completion.usage)
        messages.append(completion.to_message())
        calls = completion.tool_calls
        turn = Turn(number, completion.text, calls, (), completion.usage, step_cost)
        if not calls:
            steps.append(turn)
            return finish("answer", completion.text)
        seen.update(call_key(c) for c in calls)
        if any(seen[call_key(c)] >= budget.loop_threshold for c in calls):
            steps.append(turn)  # the repeated call is not run again
            return finish("loop_detected")
        results = await run_calls(tools, calls)
        messages += [r.to_message() for r in results]
        steps.append(replace(turn, results=results))
    return finish("step_budget")


@dataclass(slots=True)
class _Meter:
    """What a run has spent, and whether the next call could overspend (module docstring)."""

    budget: Budget
    tokenizer: Tokenizer
    specs: tuple[ToolSpec, ...]
    usage: Usage = field(default_factory=Usage)
    cost: Decimal = field(default_factory=Decimal)
    spec_tokens: int = 0

    def __post_init__(self) -> None:
        # Tool definitions are sent, and billed, with every call (counted as ScriptedLLM does).
        self.spec_tokens = sum(
            self.tokenizer.count(json.dumps([t.name, t.description, t.parameters]))
            for t in self.specs
        )

    def prompt_tokens(self, messages: Sequence[Message]) -> int:
        return count_message_tokens(messages, self.tokenizer)

    def over(self, messages: Sequence[Message], limit: int) -> bool:
        """Whether the conversation is longer than `limit` tokens (time to compact)."""
        return self.prompt_tokens(messages) > limit

    def add(self, usage: Usage) -> Decimal:
        """Count one call's usage; return its cost (zero without a price)."""
        price = self.budget.price
        step = price.cost(usage.input_tokens, usage.output_tokens) if price else Decimal(0)
        self.usage, self.cost = self.usage + usage, self.cost + step
        return step

    def would_exceed(
        self, messages: Sequence[Message], settings: GenerationSettings
    ) -> StopReason | None:
        """The budget the next call could break: its prompt, plus max_tokens of output."""
        budget, price = self.budget, self.budget.price
        if budget.max_tokens is None and budget.max_cost is None:
            return None
        next_in = self.prompt_tokens(messages) + self.spec_tokens
        next_out = settings.max_tokens or 0
        if budget.max_tokens is not None and (
            self.usage.total_tokens + next_in + next_out > budget.max_tokens
        ):
            return "token_budget"
        if budget.max_cost is not None and price is not None:
            projected = self.cost + price.cost(next_in, next_out)
            if projected > budget.max_cost:
                return "cost_budget"
        return None


def trajectory(result: Run) -> list[dict[str, str | int]]:
    """The run as table rows, one per model call, tool call or compaction, in order.

    Why: a trajectory is what you evaluate and debug an agent by (which tools, which
    arguments, which errors, what each step cost); rows drop straight into a DataFrame
    or a figure.

    Example (a model call that asked for `add`, then the call itself):
        {"step": 1, "kind": "model", "name": "", "detail": "calls add", "error": 0, ...}
        {"step": 1, "kind": "tool", "name": "add", "detail": '{"a": 2, "b": 3} -> 5', ...}
    """
    rows: list[dict[str, str | int]] = []
    for step in result.steps:
        if isinstance(step, Compacted):
            saved = step.tokens_before - step.tokens_after
            detail = f"elided {len(step.call_ids)} results, saved {saved} tokens"
            rows.append(_row(step.before_turn, "compaction", "", detail, 0, 0, Decimal(0)))
            continue
        names = ", ".join(c.name for c in step.calls)
        detail = f"calls {names}" if step.calls else _short(step.text)
        rows.append(_row(step.number, "model", "", detail, 0, step.usage.total_tokens, step.cost))
        by_id = {r.call_id: r for r in step.results}
        for call in step.calls:
            res = by_id.get(call.id)
            outcome = "not run" if res is None else _short(res.content)
            error = int(res.is_error) if res is not None else 0
            args = json.dumps(call.arguments, ensure_ascii=False)
            rows.append(
                _row(step.number, "tool", call.name, f"{args} -> {outcome}", error, 0, Decimal(0))
            )
    return rows


def _row(
    step: int, kind: str, name: str, detail: str, error: int, tokens: int, usd: Decimal
) -> dict[str, str | int]:
    return {
        "step": step,
        "kind": kind,
        "name": name,
        "detail": detail,
        "error": error,
        "tokens": tokens,
        "usd": str(usd),
    }


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
