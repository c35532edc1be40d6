"""ReAct in text: a parser for Thought / Action / Action Input / Final Answer, and a runner.

Before native tool calling, and still for models without it, an agent is a prompt format
(Yao et al., 2022): the model writes

    Thought: I need the population of Oslo.
    Action: search
    Action Input: {"query": "population of Oslo"}

the program runs the action and appends `Observation: <result>`, and the model continues
until it writes `Final Answer: ...`. The stop sequence `Observation:` keeps the model from
inventing the observation itself.

Models break the format in predictable ways, and the parser handles each on purpose:

    labels in any case, with extra spaces, `Action_Input` or `Action input`   accepted
    prose before the first label, a ```json fence around the input          accepted
    an `Observation:` the model wrote itself                                 cut off there
    JSON followed by more prose ("... I'll wait for the result")             accepted
    no Action Input, input that is not a JSON object, broken JSON           ParseError
    two actions, or an action and a final answer in one reply               ParseError
    neither an action nor a final answer                                    ParseError

A `ParseError` carries `feedback` written for the model; the runner sends it back as the
observation, so a format slip costs one step instead of the run.

Leaves out: the MRKL one-line form (`Action: search[Oslo]`), and streaming the parse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from llmprep.agents.loop import DEFAULT_BUDGET, Budget, Run, Step, StopReason, Turn, call_key
from llmprep.agents.registry import ToolExecutor
from llmprep.core.errors import LLMError
from llmprep.core.llm import LLM
from llmprep.core.messages import GenerationSettings, Message, ToolCall, ToolResult, ToolSpec, Usage
from llmprep.prompting.structured import OutputError, extract_json

_LABEL = re.compile(
    r"^[ \t>*_#-]*(thought|action[ \t_-]*input|action|observation|final[ \t_-]*answer)"
    r"[ \t*_]*:[ \t]*[*_]*[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
FORMAT_REMINDER = (
    "Reply in exactly this format:\n"
    "Thought: <your reasoning>\n"
    "Action: <one tool name>\n"
    'Action Input: <a JSON object, e.g. {"query": "..."}>\n'
    "or, when you know the answer:\n"
    "Thought: <your reasoning>\n"
    "Final Answer: <the answer>"
)


class ParseError(ValueError):
    """The reply does not follow the ReAct format; `feedback` says how, for the model."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        self.feedback = f"Format error: {problem}\n{FORMAT_REMINDER}"
        super().__init__(problem)


@dataclass(frozen=True, slots=True)
class Action:
    """The model wants `tool` run with `input`."""

    thought: str
    tool: str
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FinalAnswer:
    """The model is done."""

    thought: str
    answer: str


type ReActStep = Action | FinalAnswer


def _sections(text: str) -> list[tuple[str, str]]:
    """(label, body) pairs in order; the label normalised ("action input"), body stripped."""
    matches = list(_LABEL.finditer(text))
    out: list[tuple[str, str]] = []
    if matches and (lead := text[: matches[0].start()].strip()):
        out.append(("prose", lead))
    for m, nxt in zip(matches, [*matches[1:], None], strict=False):
        label = re.sub(r"[\s_-]+", " ", m.group(1).lower())
        body = text[m.end() : nxt.start() if nxt else len(text)].strip()
        out.append((label, body))
    return out


def parse_react(text: str) -> ReActStep:
    """Parse one ReAct reply into an `Action` or a `FinalAnswer`, or raise `ParseError`.

    Example:
        parse_react('Thought: look it up\\nAction: search\\nAction Input: {"query": "BM25"}')
        == Action("look it up", "search", {"query": "BM25"})
    """
    sections = _sections(text)
    labels = [label for label, _ in sections]
    if "observation" in labels:  # the model wrote its own observation: ignore it and after
        sections = sections[: labels.index("observation")]
        labels = labels[: len(sections)]
    thought = " ".join(body for label, body in sections if label in ("thought", "prose"))
    actions = [body for label, body in sections if label == "action"]
    inputs = [body for label, body in sections if label == "action input"]
    finals = [body for label, body in sections if label == "final answer"]
    if actions and finals:
        raise ParseError("the reply has both an Action and a Final Answer; write only one")
    if len(actions) > 1 or len(inputs) > 1:
        raise ParseError(f"the reply has {len(actions)} actions; take one action at a time")
    if finals:
        if len(finals) > 1 or not finals[0]:
            raise ParseError("write exactly one non-empty Final Answer")
        return FinalAnswer(thought, finals[0])
    if not actions:
        raise ParseError("the reply has neither an Action nor a Final Answer")
    tool = (actions[0].splitlines() or [""])[0].strip().strip("`'\"*").rstrip(".").strip()
    if not tool:
        raise ParseError("the Action names no tool")
    if not inputs:
        raise ParseError(f"the Action {tool!r} has no Action Input (use {{}} for no arguments)")
    return Action(thought, tool, _input(tool, inputs[0]))


def _input(tool: str, body: str) -> dict[str, Any]:
    if not body:
        return {}
    try:
        value = extract_json(body, expect="object")
    except OutputError as exc:
        message = f"the Action Input for {tool!r} is not valid JSON ({exc.feedback})"
        raise ParseError(message) from None
    if not isinstance(value, dict):
        raise ParseError(
            f"the Action Input for {tool!r} must be a JSON object, got {type(value).__name__}"
        )
    return value


# -----------------------------------------------------------------------------
# the text-mode runner


def react_prompt(specs: Sequence[ToolSpec]) -> str:
    """The system prompt of a text-mode ReAct agent: the format and every tool's schema."""
    lines = [
        "Answer the question. You can use these tools:",
        *(f"- {s.name}: {s.description} Arguments: {json.dumps(s.parameters)}" for s in specs),
        "",
        FORMAT_REMINDER,
        "After each Action, wait: the Observation will be given to you.",
    ]
    return "\n".join(lines)


async def react_run(
    llm: LLM,
    tools: ToolExecutor,
    task: str,
    budget: Budget = DEFAULT_BUDGET,
    *,
    settings: GenerationSettings | None = None,
) -> Run:
    """Run a ReAct agent over plain text (for models without native tool calling).

    Each step is one model call; its Action runs through the same `ToolExecutor` as the
    native loop, and the result comes back as a user message `Observation: ...`. A reply
    that does not parse costs a step: its `ParseError.feedback` is the observation.
    Returns the same `Run` as `llmprep.agents.loop.run` (each Action is recorded as a
    `ToolCall` with id `react-<step>`). Token and cost budgets are checked after each call.
    """
    settings = settings or GenerationSettings(stop=("Observation:",))
    price = budget.price
    messages: list[Message] = [Message.system(react_prompt(tools.specs())), Message.user(task)]
    steps: list[Step] = []
    usage, cost = Usage(), Decimal(0)
    seen: dict[str, int] = {}

    def finish(reason: StopReason, answer: str | None = None, error: str | None = None) -> Run:
        return Run(task, tuple(steps), answer, reason, usage, cost, tuple(messages), error)

    for number in range(1, budget.max_steps + 1):
        try:
            completion = await llm.complete(messages, settings=settings)
        except LLMError as exc:
            return finish("error", error=f"{type(exc).__name__}: {exc}")
        c = completion.usage
        step_cost = price.cost(c.input_tokens, c.output_tokens) if price else Decimal(0)
        usage, cost = usage + c, cost + step_cost
        messages.append(Message.assistant(completion.text))
        try:
            step = parse_react(completion.text)
        except ParseError as exc:
            observation = exc.feedback
            steps.append(Turn(number, completion.text, (), (), c, step_cost))
        else:
            if isinstance(step, FinalAnswer):
                steps.append(Turn(number, completion.text, (), (), c, step_cost))
                return finish("answer", step.answer)
            call = ToolCall(f"react-{number}", step.tool, step.input)
            seen[call_key(call)] = seen.get(call_key(call), 0) + 1
            if seen[call_key(call)] >= budget.loop_threshold:
                steps.append(Turn(number, completion.text, (call,), (), c, step_cost))
                return finish("loop_detected")
            result: ToolResult = await tools.call(call)
            observation = ("Error: " if result.is_error else "") + result.content
            steps.append(Turn(number, completion.text, (call,), (result,), c, step_cost))
        messages.append(Message.user(f"Observation: {observation}"))
        if budget.max_tokens is not None and usage.total_tokens >= budget.max_tokens:
            return finish("token_budget")
        if budget.max_cost is not None and cost >= budget.max_cost:
            return finish("cost_budget")
    return finish("step_budget")
