"""Drill: the tool-calling agent loop, with a step budget and loop detection.

"Write the loop that runs an agent: send the conversation and the tool specs to the
model; if it asks for tools, run them and append their results; repeat until it
answers. It must always stop, and always say why."

    messages = [system (if given), user(task)]
    for step in 1 .. budget.max_steps:
        reply = await llm.complete(messages, tools=tools.specs())
        append reply.to_message()
        no tool calls?   -> stop "answer" (answer = reply.text)
        some call of this turn now asked for loop_threshold times in the run (same
        name, equal arguments)?   -> stop "loop_detected" (the turn is not run)
        run the turn's calls *concurrently*; append one tool message per call
    out of steps         -> stop "step_budget" (answer None)

Rules the grader checks:
- The model is called at most `budget.max_steps` times, once per step.
- Results go back as `ToolResult.to_message()` in the order of the calls, so each
  `tool_call_id` matches its call. `tools.call` never raises: a failing tool returns a
  result with `is_error=True`, which the model reads like any other.
- "The same call": the same tool name and equal arguments (key order does not matter).
- An `LLMError` from the model ends the run with stop reason "error" and the error's
  text in `Run.error`; it does not propagate.
- `Run.messages` is the whole conversation at the end; `Run.tool_calls` every call the
  model asked for, in order (including the one that tripped loop detection).

Leaves out: token and cost budgets, context compaction, streaming, retrying the model.

Grade it: make drill NAME=agent-loop
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from llmprep.core.llm import LLM
from llmprep.core.messages import Message, ToolCall, ToolResult, ToolSpec

type StopReason = Literal["answer", "step_budget", "loop_detected", "error"]


class ToolExecutor(Protocol):
    """The tools: their specs (what the model sees) and a call that never raises.

    Nothing to implement here: the grader passes real tools.
    """

    def specs(self) -> Sequence[ToolSpec]:
        """The tools the model may call (send them with every model call)."""
        raise NotImplementedError("drill agent-loop: the grader passes the tools")

    async def call(self, call: ToolCall) -> ToolResult:
        """Run one call; a failure comes back as a result with `is_error=True`."""
        raise NotImplementedError("drill agent-loop: the grader passes the tools")


@dataclass(frozen=True, slots=True)
class Budget:
    """When to stop a run that has not answered."""

    max_steps: int = 10
    loop_threshold: int = 3


@dataclass(frozen=True, slots=True)
class Run:
    """What a run did and why it stopped."""

    answer: str | None
    stop_reason: StopReason
    messages: tuple[Message, ...]
    error: str | None = None

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """Every call the model asked for, in order (from the assistant messages)."""
        raise NotImplementedError("drill agent-loop: implement Run.tool_calls")


DEFAULT_BUDGET = Budget()


async def run(
    llm: LLM,
    tools: ToolExecutor,
    task: str,
    budget: Budget = DEFAULT_BUDGET,
    *,
    system: str | None = None,
) -> Run:
    """Run the agent on `task` until it answers, runs out of steps, loops or fails.

    Example:
        llm = ScriptedLLM([ToolCall("c1", "add", {"a": 2, "b": 3}), "5"])
        result = await run(llm, tools, "What is 2 + 3?")
        (result.answer, result.stop_reason) == ("5", "answer")
    """
    raise NotImplementedError("drill agent-loop: implement run")
