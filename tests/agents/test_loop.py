"""The agent loop against ScriptedLLM: answers, tool results and errors fed back, parallel
calls (proved by rendezvous, not timing), every budget, loop detection and compaction."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmprep.agents.loop import (
    ELIDED,
    Budget,
    Compacted,
    Compaction,
    Turn,
    call_key,
    run,
    trajectory,
)
from llmprep.agents.registry import ToolRegistry
from llmprep.agents.tools import tool
from llmprep.core.messages import GenerationSettings, Message, ToolCall, ToolResult, Usage
from llmprep.core.pricing import estimate_cost
from llmprep.core.scripted import Fault, Reply, ReplyLike, ScriptedLLM

from .conftest import registry
from .conftest import run as arun


def add_call(id: str, a: int, b: int) -> ToolCall:
    return ToolCall(id, "add", {"a": a, "b": b})


def test_a_direct_answer_is_one_turn() -> None:
    llm = ScriptedLLM(["Paris."])
    result = arun(run(llm, registry(), "Capital of France?"))
    assert (result.answer, result.stop_reason) == ("Paris.", "answer")
    assert len(result.turns) == 1
    assert result.turns[0].calls == ()
    assert llm.calls[0].tools == registry().specs()  # the model was offered the tools


def test_a_tool_call_is_run_and_its_result_fed_back() -> None:
    llm = ScriptedLLM([add_call("c1", 2, 3), "2 + 3 = 5."])
    result = arun(run(llm, registry(), "What is 2 + 3?"))
    assert result.answer == "2 + 3 = 5."
    assert result.stop_reason == "answer"
    first = result.turns[0]
    assert first.calls == (add_call("c1", 2, 3),)
    assert first.results == (ToolResult("c1", "5", name="add"),)
    assert llm.calls[1].messages[-1] == Message.tool("c1", "5")
    assert result.usage == sum((t.usage for t in result.turns), Usage())


def test_tool_errors_are_fed_back_and_the_model_recovers() -> None:
    def model(messages: Sequence[Message]) -> Reply | str:
        last = messages[-1]
        if last.role == "user":
            return Reply(tool_calls=(ToolCall("c1", "add", {"a": "two", "b": 3}),))
        if last.is_error:  # read the error, fix the call
            return Reply(tool_calls=(add_call("c2", 2, 3),))
        return f"The sum is {last.content}."

    llm = ScriptedLLM(model)
    result = arun(run(llm, registry(), "What is two plus 3?"))
    assert result.answer == "The sum is 5."
    assert [r.content for r in result.tool_errors] == [
        "invalid arguments for 'add': $.a: 'two' is not of type 'integer'"
    ]
    assert llm.calls[1].messages[-1].is_error


def test_an_unknown_tool_is_reported_to_the_model_not_raised() -> None:
    llm = ScriptedLLM([ToolCall("c1", "calculator", {"x": "2+3"}), "Sorry."])
    result = arun(run(llm, registry(), "2+3?"))
    assert result.stop_reason == "answer"
    assert "no tool named 'calculator'" in result.tool_errors[0].content


def test_parallel_tool_calls_run_concurrently_and_keep_their_order() -> None:
    async def scenario() -> tuple[ToolResult, ...]:
        # Each tool waits until the other has started: run one after the other, the first
        # would wait forever (and time out as an error result), so success proves overlap.
        barrier = asyncio.Barrier(2)
        second_done = asyncio.Event()

        @tool
        async def first() -> str:
            """Wait for the second tool, then finish after it."""
            await barrier.wait()
            await second_done.wait()
            return "first"

        @tool
        async def second() -> str:
            """Wait for the first tool."""
            await barrier.wait()
            second_done.set()
            return "second"

        tools = ToolRegistry([first, second], default_timeout=5.0)
        calls = (ToolCall("c1", "first"), ToolCall("c2", "second"))
        llm = ScriptedLLM([Reply(tool_calls=calls), "done"])
        result = await run(llm, tools, "run both")
        return result.turns[0].results

    results = arun(scenario())
    assert [(r.call_id, r.content, r.is_error) for r in results] == [
        ("c1", "first", False),
        ("c2", "second", False),
    ]


def test_one_failing_parallel_call_does_not_cancel_the_others() -> None:
    calls = (add_call("c1", 1, 1), ToolCall("c2", "weather", {"city": "Atlantis"}))
    llm = ScriptedLLM([Reply(tool_calls=calls), "ok"])
    results = arun(run(llm, registry(), "t")).turns[0].results
    assert [(r.content, r.is_error) for r in results] == [
        ("2", False),
        ("tool 'weather' failed: LookupError: no weather station in Atlantis", True),
    ]


def counting_model() -> ScriptedLLM:
    """A model that never answers: it adds a new pair of numbers every turn."""
    return ScriptedLLM(lambda messages: add_call(f"c{len(messages)}", len(messages), 1))


def test_the_step_budget_stops_a_run_that_never_answers() -> None:
    result = arun(run(counting_model(), registry(), "count", Budget(max_steps=3)))
    assert result.stop_reason == "step_budget"
    assert result.answer is None
    assert len(result.turns) == 3
    assert all(t.results for t in result.turns)


def test_the_same_call_repeated_is_detected_as_a_loop() -> None:
    llm = ScriptedLLM(lambda messages: add_call(f"c{len(messages)}", 2, 2))
    result = arun(run(llm, registry(), "t", Budget(max_steps=10, loop_threshold=3)))
    assert result.stop_reason == "loop_detected"
    assert len(result.turns) == 3
    assert result.turns[-1].results == ()  # the third identical call was not run
    assert len({call_key(c) for c in result.tool_calls}) == 1


def test_call_key_ignores_argument_order_and_the_call_id() -> None:
    assert call_key(ToolCall("1", "f", {"a": 1, "b": 2})) == call_key(
        ToolCall("2", "f", {"b": 2, "a": 1})
    )
    assert call_key(ToolCall("1", "f", {"a": 1})) != call_key(ToolCall("1", "f", {"a": 2}))


def test_the_token_budget_stops_before_a_call_that_would_break_it() -> None:
    script: list[ReplyLike] = [add_call("c1", 2, 3), "5"]
    full = arun(run(ScriptedLLM(script), registry(), "2+3?"))
    first_turn = full.turns[0].usage.total_tokens
    llm = ScriptedLLM(script)
    result = arun(run(llm, registry(), "2+3?", Budget(max_tokens=first_turn + 1)))
    assert result.stop_reason == "token_budget"
    assert len(llm.calls) == 1
    assert len(result.turns) == 1
    assert result.usage.total_tokens <= first_turn + 1


def test_a_token_budget_too_small_for_one_call_makes_no_call() -> None:
    llm = ScriptedLLM(["never sent"])
    result = arun(run(llm, registry(), "t", Budget(max_tokens=5)))
    assert (result.stop_reason, result.steps, len(llm.calls)) == ("token_budget", (), 0)


@settings(max_examples=25)
@given(st.integers(min_value=1, max_value=2_000))
def test_a_token_budget_is_never_overspent_when_max_tokens_bounds_the_output(
    budget: int,
) -> None:
    # The input estimate is exact for ScriptedLLM, and output is capped by max_tokens.
    capped = GenerationSettings(max_tokens=40)
    result = arun(
        run(
            counting_model(),
            registry(),
            "count",
            Budget(max_steps=50, max_tokens=budget),
            settings=capped,
        )
    )
    assert result.usage.total_tokens <= budget
    assert result.stop_reason in ("token_budget", "step_budget")


def test_the_cost_budget_stops_the_run_and_cost_is_exact() -> None:
    cap = Decimal("0.0002")
    budget = Budget(max_steps=100, max_cost=cap, pricing_model="gpt-5-mini")
    capped = GenerationSettings(max_tokens=40)
    result = arun(run(counting_model(), registry(), "count", budget, settings=capped))
    assert result.stop_reason == "cost_budget"
    assert result.cost <= cap
    assert result.cost == sum(t.cost for t in result.turns)
    per_turn = [
        estimate_cost("gpt-5-mini", t.usage.input_tokens, t.usage.output_tokens)
        for t in result.turns
    ]
    assert [t.cost for t in result.turns] == per_turn


def test_a_model_error_ends_the_run_with_error_and_the_trajectory_so_far() -> None:
    llm = ScriptedLLM([add_call("c1", 1, 2), "unreachable"], faults=[Fault.server_error(2)])
    result = arun(run(llm, registry(), "t"))
    assert result.stop_reason == "error"
    assert result.error is not None
    assert result.error.startswith("ServerError: ")
    assert len(result.turns) == 1


@tool
def fetch(page: int) -> str:
    """Fetch a long page of text.

    Args:
        page: Which page.
    """
    return f"page {page}: " + "lorem ipsum dolor sit amet " * 40


def test_compaction_elides_old_tool_results_and_is_recorded() -> None:
    script = [ToolCall(f"c{i}", "fetch", {"page": i}) for i in (1, 2, 3)] + ["summary"]
    llm = ScriptedLLM(script)
    tools = ToolRegistry([fetch])
    policy = Compaction(max_tokens=400, keep_last=1)
    result = arun(run(llm, tools, "read three pages", compaction=policy))
    assert result.stop_reason == "answer"
    records = [s for s in result.steps if isinstance(s, Compacted)]
    assert records, "the conversation grew past 400 tokens, so it must have been compacted"
    assert all(r.tokens_after < r.tokens_before for r in records)
    elided = {cid for r in records for cid in r.call_ids}
    assert elided == {"c1", "c2"}  # the newest result is kept verbatim
    last_prompt = llm.calls[-1].messages
    tool_messages = [m for m in last_prompt if m.role == "tool"]
    assert [m.tool_call_id for m in tool_messages] == ["c1", "c2", "c3"]  # ids survive
    assert [m.content.startswith(ELIDED) for m in tool_messages] == [True, True, False]
    assert tool_messages[0].content.startswith(f"{ELIDED} ")
    assert "tokens] page 1: lorem ipsum" in tool_messages[0].content  # size and first line
    # the record sits in the trajectory, before the turn whose prompt it shortened
    kinds = [type(s).__name__ for s in result.steps]
    assert kinds.index("Compacted") > 0
    assert isinstance(result.steps[0], Turn)


def test_compaction_can_use_a_summary_function() -> None:
    async def summarize(message: Message) -> str:
        return f"{len(message.content)} characters of lorem ipsum"

    script = [ToolCall(f"c{i}", "fetch", {"page": i}) for i in (1, 2)] + ["done"]
    llm = ScriptedLLM(script)
    policy = Compaction(max_tokens=200, keep_last=0, summarize=summarize)
    result = arun(run(llm, ToolRegistry([fetch]), "t", compaction=policy))
    contents = [m.content for m in llm.calls[-1].messages if m.role == "tool"]
    assert contents == [
        f"{ELIDED} summary] {len(fetch(1))} characters of lorem ipsum",
        f"{ELIDED} summary] {len(fetch(2))} characters of lorem ipsum",
    ]
    assert result.stop_reason == "answer"


def test_system_prompt_and_history_frame_the_task() -> None:
    llm = ScriptedLLM(["ok"])
    history = [Message.user("Hi"), Message.assistant("Hello!")]
    arun(run(llm, registry(), "Task", system=None, history=history))
    assert llm.calls[0].messages == (*history, Message.user("Task"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_steps": 0}, "max_steps must be at least 1"),
        ({"max_tokens": 0}, "max_tokens must be at least 1"),
        ({"max_cost": Decimal("0.1")}, "max_cost needs pricing_model"),
        ({"max_cost": 0.1, "pricing_model": "gpt-5-mini"}, "positive Decimal"),
        ({"pricing_model": "gpt-0"}, "no price on file for model 'gpt-0'"),
        ({"loop_threshold": 1}, "loop_threshold must be at least 2"),
    ],
)
def test_budget_rejects_nonsense(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises((ValueError, KeyError), match=message):
        Budget(**kwargs)  # type: ignore[arg-type]


def test_trajectory_rows_list_model_calls_tool_calls_and_compactions_in_order() -> None:
    calls = (add_call("c1", 2, 3), ToolCall("c2", "weather", {"city": "Atlantis"}))
    llm = ScriptedLLM([Reply(tool_calls=calls), "5"])
    result = arun(run(llm, registry(), "t", Budget(pricing_model="gpt-5-mini")))
    rows = trajectory(result)
    assert [(r["step"], r["kind"], r["name"], r["error"]) for r in rows] == [
        (1, "model", "", 0),
        (1, "tool", "add", 0),
        (1, "tool", "weather", 1),
        (2, "model", "", 0),
    ]
    assert rows[0]["detail"] == "calls add, weather"
    assert rows[1]["detail"] == '{"a": 2, "b": 3} -> 5'
    assert rows[0]["tokens"] == result.turns[0].usage.total_tokens
    assert sum(Decimal(str(r["usd"])) for r in rows) == result.cost
    looped = arun(
        run(ScriptedLLM(lambda m: add_call("x", 1, 1)), registry(), "t", Budget(loop_threshold=2))
    )
    assert str(trajectory(looped)[-1]["detail"]).endswith("-> not run")


def test_trajectory_rows_record_compaction() -> None:
    script: list[ReplyLike] = [ToolCall(f"c{i}", "fetch", {"page": i}) for i in (1, 2)]
    llm = ScriptedLLM([*script, "done"])
    policy = Compaction(max_tokens=200, keep_last=0)
    rows = trajectory(arun(run(llm, ToolRegistry([fetch]), "t", compaction=policy)))
    compactions = [r for r in rows if r["kind"] == "compaction"]
    assert compactions
    assert str(compactions[0]["detail"]).startswith("elided 1 results, saved ")
