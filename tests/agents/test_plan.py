"""Plan-and-execute: numbered plans parse in their common shapes, steps run in order with
earlier results in view, and a failed step triggers a replan (within a replan budget)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from llmprep.agents.loop import Budget
from llmprep.agents.plan import parse_plan, plan_and_execute
from llmprep.agents.react import ParseError
from llmprep.core.messages import Message, ToolCall
from llmprep.core.scripted import ScriptedLLM

from .conftest import registry, run


@pytest.mark.parametrize(
    "text",
    [
        "1. Look up the weather in Oslo\n2. Add 2 and 3",
        "Plan:\n1) Look up the weather in Oslo\n2) Add 2 and 3\nThat's it.",
        "Step 1: Look up the weather in Oslo\nStep 2: Add 2 and 3",
        "  1.  Look up the weather in Oslo  \n\n  2. Add 2 and 3",
    ],
)
def test_numbered_plans_parse(text: str) -> None:
    assert parse_plan(text) == ("Look up the weather in Oslo", "Add 2 and 3")


def test_a_plan_without_numbered_steps_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no numbered steps"):
        parse_plan("First I would look it up, then add.")


def executor_for(answers: dict[str, str]) -> ScriptedLLM:
    """An executor that answers each step by a keyword in its prompt (no tool calls)."""

    def reply(messages: Sequence[Message]) -> str:
        step = messages[-1].content.rsplit("Do this step now: ", 1)[-1]
        return next(answer for key, answer in answers.items() if key in step)

    return ScriptedLLM(reply)


def test_each_step_runs_in_order_and_sees_earlier_results() -> None:
    planner = ScriptedLLM(["1. Find the temperature\n2. Report it"])
    executor = executor_for({"temperature": "4 °C", "Report": "It is 4 °C in Oslo."})
    result = run(plan_and_execute(planner, executor, registry(), "Weather in Oslo?"))
    assert result.stop_reason == "done"
    assert result.answer == "It is 4 °C in Oslo."
    assert [o.step for o in result.outcomes] == ["Find the temperature", "Report it"]
    second_prompt = executor.calls[1].messages[-1].content
    assert "- Find the temperature: 4 °C" in second_prompt
    assert result.replans == 0
    assert result.usage.total_tokens > 0


def test_a_failed_step_triggers_a_replan_that_works_around_it() -> None:
    planner = ScriptedLLM(
        ["1. Get the weather in Atlantis\n2. Report", "1. Report that it is unknown"]
    )

    def executor_reply(messages: Sequence[Message]) -> ToolCall | str:
        prompt = messages[1].content
        if "Atlantis" in prompt.rsplit("Do this step now: ", 1)[-1]:
            n = len(messages)
            return ToolCall(f"c{n}", "weather", {"city": "Atlantis"})  # fails every time
        return "The weather in Atlantis is unknown."

    executor = ScriptedLLM(executor_reply)
    result = run(
        plan_and_execute(
            planner,
            executor,
            registry(),
            "Weather in Atlantis?",
            step_budget=Budget(max_steps=3, loop_threshold=3),
        )
    )
    assert result.stop_reason == "done"
    assert result.replans == 1
    assert [o.ok for o in result.outcomes] == [False, True]
    replan_prompt = planner.calls[1].messages[-1].content
    assert "This step failed: Get the weather in Atlantis" in replan_prompt
    assert "no weather station in Atlantis" in replan_prompt  # the planner sees why
    assert result.answer == "The weather in Atlantis is unknown."


def test_replanning_stops_at_its_budget() -> None:
    planner = ScriptedLLM(lambda m: "1. Get the weather in Atlantis")
    executor = ScriptedLLM(lambda m: ToolCall(f"c{len(m)}", "weather", {"city": "Atlantis"}))
    result = run(
        plan_and_execute(
            planner, executor, registry(), "t", step_budget=Budget(max_steps=2), max_replans=1
        )
    )
    assert result.stop_reason == "replan_budget"
    assert len(result.plans) == 2
    assert result.answer is None


def test_an_unparseable_plan_is_an_error_stop() -> None:
    result = run(plan_and_execute(ScriptedLLM(["no plan here"]), ScriptedLLM([]), registry(), "t"))
    assert result.stop_reason == "error"
    assert result.error is not None
    assert "no numbered steps" in result.error
