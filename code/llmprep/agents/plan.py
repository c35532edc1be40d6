"""Plan-and-execute: one call writes a numbered plan, an agent runs each step, failures replan.

    planner(task)                 -> "1. find X  2. compute Y  3. write the answer"
    for each step:  run(executor, tools, step + what earlier steps found)
        step failed (any stop but "answer")?
            planner(task, done so far, the failure) -> a new plan for what is left
    answer = the last step's answer

Why split planning from acting (Wang et al., 2023, "Plan-and-Solve"; the LangGraph
plan-and-execute pattern): the planner sees the whole task once, so a long task does not
drift; each step's executor sees a short, focused prompt (and can be a cheaper model); and a
failure triggers a deliberate replan instead of the executor flailing. The cost is at least
one extra call per plan, and a plan can be wrong in ways the executor cannot see.

Leaves out: running independent steps in parallel (a plan as a DAG, as in LLMCompiler), and
a planner that decides mid-plan that the task is already answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from llmprep.agents.loop import Budget, Run, run
from llmprep.agents.react import ParseError
from llmprep.agents.registry import ToolExecutor
from llmprep.core.errors import LLMError
from llmprep.core.llm import LLM
from llmprep.core.messages import Message, Usage

_STEP = re.compile(r"^\s*(?:step\s*)?(\d+)\s*[.):]\s+(.+?)\s*$", re.IGNORECASE | re.MULTILINE)

PLANNER_PROMPT = (
    "Break the task into a short numbered plan, one step per line ('1. ...'), each step one "
    "concrete action. Reply with the plan only."
)
REPLAN_PROMPT = (
    "Task: {task}\n\nDone so far:\n{done}\n\nThis step failed: {step}\nWhy: {why}\n\n"
    "Write a new numbered plan for what is left (one step per line), or a plan of one step "
    "that works around the failure."
)

STEP_BUDGET = Budget(max_steps=5)

type PlanStop = Literal["done", "replan_budget", "error"]


def parse_plan(text: str) -> tuple[str, ...]:
    """The steps of a numbered plan, in order ("1. a", "2) b", "Step 3: c" all count).

    Example: parse_plan("Plan:\\n1. search\\n2. answer") == ("search", "answer")
    """
    steps = tuple(m.group(2) for m in _STEP.finditer(text))
    if not steps:
        raise ParseError("the plan has no numbered steps ('1. ...')")
    return steps


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """One plan step, and the agent run that carried it out."""

    step: str
    run: Run

    @property
    def ok(self) -> bool:
        return self.run.stop_reason == "answer"


@dataclass(frozen=True, slots=True)
class PlanRun:
    """Every plan written (the first, then each replan), every step run, and the answer."""

    task: str
    plans: tuple[tuple[str, ...], ...]
    outcomes: tuple[StepOutcome, ...]
    answer: str | None
    stop_reason: PlanStop
    usage: Usage
    cost: Decimal
    error: str | None = None

    @property
    def replans(self) -> int:
        return len(self.plans) - 1


async def plan_and_execute(
    planner: LLM,
    executor: LLM,
    tools: ToolExecutor,
    task: str,
    *,
    step_budget: Budget = STEP_BUDGET,
    max_replans: int = 2,
) -> PlanRun:
    """Plan with `planner`, run each step with `executor` (the native loop), replan on failure.

    Each step's prompt carries the task, the step, and the answers of the steps before it,
    so later steps build on earlier ones without the whole history. The planner's calls are
    counted in `usage`; cost is counted at `step_budget`'s price (zero without one).
    """
    price = step_budget.price
    usage, cost = Usage(), Decimal(0)
    plans: list[tuple[str, ...]] = []
    outcomes: list[StepOutcome] = []

    async def ask_planner(prompt: str) -> tuple[str, ...]:
        nonlocal usage, cost
        reply = await planner.complete([Message.system(PLANNER_PROMPT), Message.user(prompt)])
        usage = usage + reply.usage
        if price is not None:
            cost += price.cost(reply.usage.input_tokens, reply.usage.output_tokens)
        plan = parse_plan(reply.text)
        plans.append(plan)
        return plan

    def finish(reason: PlanStop, answer: str | None = None, error: str | None = None) -> PlanRun:
        return PlanRun(task, tuple(plans), tuple(outcomes), answer, reason, usage, cost, error)

    try:
        queue = list(await ask_planner(task))
    except (LLMError, ParseError) as exc:
        return finish("error", error=f"{type(exc).__name__}: {exc}")
    answer: str | None = None
    while queue:
        step = queue.pop(0)
        done = "\n".join(f"- {o.step}: {o.run.answer}" for o in outcomes if o.ok) or "- nothing"
        prompt = f"Task: {task}\n\nResults so far:\n{done}\n\nDo this step now: {step}"
        result = await run(executor, tools, prompt, step_budget)
        usage, cost = usage + result.usage, cost + result.cost
        outcomes.append(StepOutcome(step, result))
        if result.stop_reason == "answer":
            answer = result.answer
            continue
        if len(plans) > max_replans:
            return finish("replan_budget", answer)
        why = result.error or f"the step stopped with {result.stop_reason}"
        if result.tool_errors:
            why += f"; last tool error: {result.tool_errors[-1].content}"
        replan = REPLAN_PROMPT.format(task=task, done=done, step=step, why=why)
        try:
            queue = list(await ask_planner(replan))
        except (LLMError, ParseError) as exc:
            return finish("error", answer, f"{type(exc).__name__}: {exc}")
    return finish("done", answer)
