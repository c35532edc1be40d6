"""The figures and scripted parts of the "Agents in code" chapter.

- `rag_agent()`: a scripted "model" that answers with the RAG pipeline as a tool: one call per
  sub-question (in parallel), a retry of a call that failed, then an answer built from the
  tool's cited answers. A rule, not a model: it shows the runtime, not judgement.
- `MeteredLLM`: any `LLM`, with the tokens of every call added up, so the cost of the model
  *inside* a tool (the RAG reader) can be counted next to the agent's own calls.
- `trajectory_dot()`: a real `Run` as a Graphviz diagram (model calls, fanned-out tool calls,
  errors, the stop reason); `render_svg()` draws it with the `dot` program.
- `workflow_vs_agent()`: model calls and cost per task, a fixed workflow against an agent.

Leaves out: any claim about answer quality (the reader is extractive and the "model" is a
rule), and layout tuning for runs of more than a dozen steps.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from matplotlib.figure import Figure

from llmprep.agents.loop import Compacted, Run
from llmprep.book.plotting import PALETTE
from llmprep.core.llm import LLM, StreamEvent
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    Message,
    ToolCall,
    ToolSpec,
    Usage,
)
from llmprep.core.scripted import Reply, ScriptedLLM

FONT = "DejaVu Sans"
_QUESTION = re.compile(r"[^?]+\?")


def split_questions(task: str) -> list[str]:
    """The questions in a task, one per question mark (the whole task if it has none).

    Example: split_questions("What is RAG? What is BM25?") == ["What is RAG?", "What is BM25?"]
    """
    found = [q.strip() for q in _QUESTION.findall(task) if q.strip()]
    return found or [task.strip()]


def _results_since_last_call(messages: Sequence[Message]) -> list[Message]:
    tail: list[Message] = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        tail.append(message)
    return tail[::-1]


def _root(call_id: str | None) -> str:
    """The question a call id belongs to: "q2.1" (the first retry of q2) -> "q2"."""
    return (call_id or "").split(".")[0]


def rag_agent(tool: str = "ask_book", retries: int = 1) -> ScriptedLLM:
    """A scripted agent over a RAG tool that returns JSON `{"answer", "citations", ...}`.

    - the task: one `tool` call per question in it, all in one turn (parallel calls);
    - a failed call: the same call again, at most `retries` times per question;
    - results: the answer, each part taken from the tool's answer, or an honest "not found".
    """

    def decide(messages: Sequence[Message]) -> Reply | str:
        last = messages[-1]
        if last.role == "user":
            questions = split_questions(last.content)
            calls = tuple(
                ToolCall(f"q{i}", tool, {"question": q}) for i, q in enumerate(questions, 1)
            )
            return Reply(tool_calls=calls)
        asked = {c.id: c for m in messages for c in m.tool_calls}
        done = [m for m in messages if m.role == "tool"]
        attempts = Counter(_root(m.tool_call_id) for m in done)
        again = []
        for result in _results_since_last_call(messages):
            root = _root(result.tool_call_id)
            if result.is_error and attempts[root] <= retries:
                question = asked[result.tool_call_id or ""].arguments
                again.append(ToolCall(f"{root}.{attempts[root]}", tool, dict(question)))
        if again:
            return Reply(text="A lookup failed; trying it again.", tool_calls=tuple(again))
        answers: dict[str, str] = {}
        for m in done:
            if not m.is_error:
                payload = json.loads(m.content)
                text = "The book does not say." if payload["abstained"] else payload["answer"]
                answers[_root(m.tool_call_id)] = str(text)
        if not answers:
            return "I could not look this up: every attempt failed."
        return " ".join(answers[k] for k in sorted(answers, key=lambda k: (len(k), k)))

    return ScriptedLLM(decide)


@dataclass(slots=True)
class MeteredLLM:
    """Any `LLM`, with the usage of every `complete` call added up (a structural wrapper).

    Example: reader = MeteredLLM(ScriptedLLM(extractive_reader)); ...; reader.usage
    """

    llm: LLM
    usage: Usage = field(default_factory=Usage)
    calls: int = 0

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        completion = await self.llm.complete(messages, settings=settings, tools=tools)
        self.usage, self.calls = self.usage + completion.usage, self.calls + 1
        return completion

    def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        return self.llm.stream(messages, settings=settings, tools=tools)

    def reset(self) -> None:
        self.usage, self.calls = Usage(), 0


# -----------------------------------------------------------------------------
# the trajectory as a diagram


def _label(text: str, width: int = 34) -> str:
    flat = " ".join(text.split())
    short = flat if len(flat) <= width else flat[: width - 3] + "..."
    return short.replace("\\", "\\\\").replace('"', '\\"')


def trajectory_dot(result: Run, *, title: str = "") -> str:
    """The run as a Graphviz digraph: task -> model call -> its tool calls -> next call -> end.

    Tool calls of one turn fan out from the model call and join at the next one, so parallel
    calls are visible as parallel edges; failed calls are drawn with a red dashed border.
    """
    lines = [
        "digraph trajectory {",
        f'  graph [rankdir=TB, fontname="{FONT}", nodesep=0.3, ranksep=0.35'
        + (f', label="{_label(title, 80)}", labelloc=t' if title else "")
        + "];",
        f'  node [fontname="{FONT}", fontsize=10, shape=box, style="rounded,filled", '
        'fillcolor=white, color="#1f2328"];',
        f'  edge [fontname="{FONT}", fontsize=9, color="#57606a"];',
        f'  task [label="task\\n{_label(result.task)}", fillcolor="#eaeef2"];',
    ]
    previous = ["task"]
    for step in result.steps:
        if isinstance(step, Compacted):
            node = f"compact{step.before_turn}"
            saved = step.tokens_before - step.tokens_after
            lines.append(f'  {node} [label="compaction\\nsaved {saved} tokens", shape=note];')
            lines += [f"  {p} -> {node};" for p in previous]
            previous = [node]
            continue
        model = f"m{step.number}"
        usd = f"${step.cost:.6f}" if step.cost else f"{step.usage.total_tokens} tokens"
        what = (
            f"{len(step.calls)} tool call{'s' * (len(step.calls) != 1)}"
            if step.calls
            else ("answers")
        )
        lines.append(
            f'  {model} [label="model call {step.number}\\n{what}\\n'
            f'{step.usage.total_tokens} tokens, {usd}", fillcolor="#dbe9f6", color="{PALETTE[0]}"];'
        )
        lines += [f"  {p} -> {model};" for p in previous]
        by_id = {r.call_id: r for r in step.results}
        previous = [model] if not step.calls else []
        for i, call in enumerate(step.calls):
            node = f"t{step.number}_{i}"
            args = ", ".join(f"{k}={json.dumps(v)}" for k, v in call.arguments.items())
            res = by_id.get(call.id)
            outcome = "not run" if res is None else _label(res.content, 30)
            error = res is not None and res.is_error
            style = (
                f'color="{PALETTE[1]}", style="rounded,dashed,filled", fillcolor="#fbe5d6"'
                if error
                else f'color="{PALETTE[2]}", fillcolor="#d9f2e9"'
            )
            lines.append(
                f'  {node} [label="{call.name}({_label(args, 30)})\\n-> {outcome}", {style}];'
            )
            lines.append(f"  {model} -> {node};")
            previous.append(node)
    end_label = {"answer": "answer"}.get(result.stop_reason, f"stopped: {result.stop_reason}")
    text = _label(result.answer or "(no answer)", 40)
    fill = "#eaeef2" if result.stop_reason == "answer" else "#fbe5d6"
    lines.append(f'  end [label="{end_label}\\n{text}", shape=box, fillcolor="{fill}"];')
    lines += [f"  {p} -> end;" for p in previous]
    lines.append("}")
    return "\n".join(lines)


def render_svg(source: str) -> str:
    """Draw a DOT source as SVG text with Graphviz's `dot` (which must be on PATH)."""
    program = shutil.which("dot")
    if program is None:
        raise FileNotFoundError("Graphviz's `dot` is not on PATH (Debian: apt install graphviz)")
    done = subprocess.run(
        [program, "-Tsvg"], input=source.encode(), capture_output=True, check=False
    )
    if done.returncode != 0:
        raise ValueError(f"Graphviz could not draw the diagram: {done.stderr.decode().strip()}")
    return done.stdout.decode("utf-8")


# -----------------------------------------------------------------------------
# workflow against agent


@dataclass(frozen=True, slots=True)
class TaskCost:
    """One task run one way: how many model calls it took and what they cost."""

    task: str
    approach: str
    model_calls: int
    usd: Decimal
    solved: bool


def workflow_vs_agent(rows: Sequence[TaskCost], *, height: float = 4.6) -> Figure:
    """Two panels over the same tasks: model calls per task, and cost per task (micro-USD).

    Bars are grouped by task, one colour per approach; an unsolved task's bar is hatched.
    """
    fig = Figure(figsize=(7.0, height), layout="constrained")
    calls_ax, cost_ax = fig.subplots(2, 1, sharex=True)
    tasks = list(dict.fromkeys(r.task for r in rows))
    approaches = list(dict.fromkeys(r.approach for r in rows))
    width = 0.8 / len(approaches)
    by_key = {(r.task, r.approach): r for r in rows}
    for j, (approach, color) in enumerate(zip(approaches, PALETTE, strict=False)):
        xs = [i + (j - (len(approaches) - 1) / 2) * width for i in range(len(tasks))]
        mine = [by_key[(t, approach)] for t in tasks]
        hatches = ["" if r.solved else "///" for r in mine]
        for ax, values in (
            (calls_ax, [r.model_calls for r in mine]),
            (cost_ax, [float(r.usd) * 1e6 for r in mine]),
        ):
            bars = ax.bar(xs, values, width, color=color, label=approach, edgecolor="white")
            for bar, hatch in zip(bars, hatches, strict=True):
                bar.set_hatch(hatch)
    calls_ax.set_ylabel("model calls")
    cost_ax.set_ylabel("cost (micro-USD)")
    cost_ax.set_xticks(range(len(tasks)), tasks)
    cost_ax.set_xlabel("task (hatched: not solved)")
    calls_ax.legend(loc="upper left", ncols=len(approaches))
    calls_ax.yaxis.get_major_locator().set_params(integer=True)
    return fig


# -----------------------------------------------------------------------------
# recovery under injected tool failures


@dataclass(frozen=True, slots=True)
class RecoveryPoint:
    """The share of `trials` runs that answered when each tool call failed with `failure_rate`.

    `attempts` is how many calls the run could make (1 + retries that were let through), for
    the independent-failure expectation 1 - failure_rate ** attempts.
    """

    label: str
    attempts: int
    failure_rate: float
    success_rate: float
    trials: int


def recovery_curve(points: Sequence[RecoveryPoint], *, height: float = 4.0) -> Figure:
    """Measured success rate (markers) against the tool's failure rate, one series per label,
    with the expectation for independent failures, 1 - p ** attempts, as a thin line."""
    fig = Figure(figsize=(7.0, height), layout="constrained")
    ax = fig.add_subplot()
    labels = list(dict.fromkeys(p.label for p in points))
    markers = ("o", "s", "^", "D", "v")
    for label, color, marker in zip(labels, PALETTE, markers, strict=False):
        mine = sorted((p for p in points if p.label == label), key=lambda p: p.failure_rate)
        xs = [p.failure_rate for p in mine]
        ax.plot(xs, [p.success_rate for p in mine], marker=marker, linestyle="none",
                color=color, label=label)  # fmt: skip
        grid = [i / 50 * max(xs) for i in range(51)]
        ax.plot(grid, [1 - x ** mine[0].attempts for x in grid], color=color, linewidth=1,
                alpha=0.7)  # fmt: skip
    ax.set_xlabel("probability that a tool call fails")
    ax.set_ylabel("share of runs that answered")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="lower left")
    return fig
