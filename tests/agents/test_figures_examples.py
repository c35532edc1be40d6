"""The "Agents in code" chapter's scripted agent, metering wrapper, trajectory diagram,
replay server and workflow-vs-agent figure: behaviour, on small real runs."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from typing import Any

import anthropic
import numpy as np
import openai
import pytest
from matplotlib.patches import Rectangle

from llmprep.agents.demo import flaky
from llmprep.agents.figures.examples import (
    MeteredLLM,
    RecoveryPoint,
    TaskCost,
    rag_agent,
    recovery_curve,
    render_svg,
    split_questions,
    trajectory_dot,
    workflow_vs_agent,
)
from llmprep.agents.loop import Budget, Run, run, trajectory
from llmprep.agents.registry import ToolRegistry
from llmprep.agents.replay import ReplayServer
from llmprep.agents.tools import tool
from llmprep.core.llm import LLM
from llmprep.core.messages import Message
from llmprep.core.providers.anthropic import AnthropicChat
from llmprep.core.providers.openai import OpenAIChat
from llmprep.core.scripted import ScriptedLLM

from .conftest import run as arun

ANSWERS = {"What is RAG?": "Retrieval-augmented generation [a#1].", "What is BM25?": ""}


@tool
def ask(question: str) -> dict[str, Any]:
    """Answer a question from a two-entry "book".

    Args:
        question: One question.
    """
    text = ANSWERS.get(question, "")
    return {"answer": text, "citations": [], "abstained": not text}


def test_split_questions() -> None:
    assert split_questions("What is RAG? What is BM25?") == ["What is RAG?", "What is BM25?"]
    assert split_questions("Tell me about RAG") == ["Tell me about RAG"]


def test_the_rag_agent_fans_out_and_joins_the_answers() -> None:
    result = arun(run(rag_agent("ask"), ToolRegistry([ask]), "What is RAG? What is BM25?"))
    assert result.stop_reason == "answer"
    assert [len(t.calls) for t in result.turns] == [2, 0]  # both questions in one turn
    assert result.answer == "Retrieval-augmented generation [a#1]. The book does not say."


def test_the_rag_agent_retries_a_failed_call_once_then_gives_up() -> None:
    once = ToolRegistry([flaky(ask, fail_on={1})])
    recovered = arun(run(rag_agent("ask"), once, "What is RAG?"))
    assert [c.id for c in recovered.tool_calls] == ["q1", "q1.1"]
    assert recovered.answer == "Retrieval-augmented generation [a#1]."
    always = ToolRegistry([flaky(ask, fail_on={1, 2, 3})])
    failed = arun(run(rag_agent("ask", retries=1), always, "What is RAG?"))
    assert len(failed.tool_errors) == 2
    assert failed.answer == "I could not look this up: every attempt failed."


def test_metered_llm_adds_up_usage_across_calls() -> None:
    inner = ScriptedLLM(["one", "two"])
    metered = MeteredLLM(inner)
    first = arun(metered.complete([Message.user("hi")]))
    second = arun(metered.complete([Message.user("hello there")]))
    assert metered.calls == 2
    assert metered.usage == first.usage + second.usage
    metered.reset()
    assert (metered.calls, metered.usage.total_tokens) == (0, 0)


def two_part_run() -> Run:
    tools = ToolRegistry([flaky(ask, fail_on={1})])
    return arun(
        run(
            rag_agent("ask"),
            tools,
            "What is RAG? What is BM25?",
            Budget(pricing_model="gpt-5-mini"),
        )
    )


def test_the_diagram_has_a_node_per_step_and_marks_errors() -> None:
    result = two_part_run()
    source = trajectory_dot(result, title='a "quoted" title')
    model_nodes = [line for line in source.splitlines() if line.strip().startswith("m")]
    assert len([n for n in model_nodes if "[label=" in n]) == len(result.turns)
    tool_nodes = [line for line in source.splitlines() if re.match(r"\s*t\d", line)]
    assert len([n for n in tool_nodes if "[label=" in n]) == len(result.tool_calls)
    assert source.count("dashed") == len(result.tool_errors) == 1
    assert "m1 -> t1_0;" in source
    assert "m1 -> t1_1;" in source  # the two parallel calls fan out from one model call
    assert '\\"quoted\\"' in source


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_svg_draws_the_diagram() -> None:
    svg = render_svg(trajectory_dot(two_part_run()))
    assert svg.lstrip().startswith("<?xml")
    assert "model call 1" in svg
    with pytest.raises(ValueError, match="Graphviz"):
        render_svg("digraph { a -> }")


def test_replaying_a_run_through_both_sdks_gives_the_same_trajectory() -> None:
    recorded = two_part_run()
    shape = [(r["kind"], r["name"], r["detail"], r["error"]) for r in trajectory(recorded)]
    oa = ReplayServer.of(recorded, "openai")
    an = ReplayServer.of(recorded, "anthropic")
    llms: list[LLM] = [
        OpenAIChat(openai.AsyncOpenAI(api_key="k", http_client=oa.client(), max_retries=0), "m"),
        AnthropicChat(
            anthropic.AsyncAnthropic(api_key="k", http_client=an.client(), max_retries=0), "m"
        ),
    ]
    for llm in llms:
        tools = ToolRegistry([flaky(ask, fail_on={1})])
        again = arun(run(llm, tools, recorded.task, Budget(pricing_model="gpt-5-mini")))
        assert [(r["kind"], r["name"], r["detail"], r["error"]) for r in trajectory(again)] == shape
        assert again.usage == recorded.usage  # the replayed usage is the recorded usage
    assert len(oa.requests) == len(an.requests) == len(recorded.turns)
    assert oa.requests[1]["messages"][-1]["role"] == "tool"
    results = an.requests[1]["messages"][-1]["content"]
    assert [b.get("is_error", False) for b in results] == [True, False]


def test_workflow_vs_agent_draws_grouped_bars_and_hatches_unsolved_tasks() -> None:
    rows = [
        TaskCost("t1", "workflow", 1, Decimal("0.0001"), True),
        TaskCost("t1", "agent", 3, Decimal("0.0003"), True),
        TaskCost("t2", "workflow", 1, Decimal("0.0002"), False),
        TaskCost("t2", "agent", 4, Decimal("0.0009"), True),
    ]
    fig = workflow_vs_agent(rows)
    calls_ax, cost_ax = fig.axes
    heights = [p.get_height() for p in calls_ax.patches if isinstance(p, Rectangle)]
    assert heights == [1, 1, 3, 4]  # workflow bars first, then agent bars, in task order
    costs = [round(p.get_height(), 6) for p in cost_ax.patches if isinstance(p, Rectangle)]
    assert costs == [100.0, 200.0, 300.0, 900.0]  # micro-USD
    hatched = [p.get_hatch() for p in calls_ax.patches]
    assert hatched == ["", "///", "", ""]
    assert [t.get_text() for t in cost_ax.get_xticklabels()] == ["t1", "t2"]


def test_recovery_curve_plots_measured_points_and_the_independent_failure_expectation() -> None:
    points = [RecoveryPoint("no retry", 1, p, 1 - p, 10) for p in (0.0, 0.5)] + [
        RecoveryPoint("1 retry", 2, p, 1 - p * p, 10) for p in (0.0, 0.5)
    ]
    fig = recovery_curve(points)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 4  # markers and expectation per series
    markers = [float(y) for y in np.asarray(lines[2].get_ydata())]
    expected = [float(y) for y in np.asarray(lines[3].get_ydata())]
    assert markers == [1.0, 0.75]
    assert expected[0] == 1.0
    assert abs(expected[-1] - 0.75) < 1e-9  # 1 - 0.5 ** 2 at the right end
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["no retry", "1 retry"]
