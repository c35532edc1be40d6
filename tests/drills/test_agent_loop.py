"""Grader for drill agent-loop: a scripted model and recording tools drive the loop through
each way it can stop (answer, step budget, loop, model error) and check what it sent."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from llmprep.core.messages import Message, ToolCall, ToolResult, ToolSpec
from llmprep.core.scripted import Fault, Reply, ScriptedLLM
from tests.drills.target import load

m = load("agent-loop")

SYSTEM = "You use tools."
NUMBERS = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}
QUERY = {"type": "object", "properties": {"q": {"type": "string"}}}


class Tools:
    """Tools that record every call and how many ran at once. `lookup` takes longer for
    a longer query (it yields to the event loop once per character), so concurrent calls
    finish out of order."""

    def __init__(self) -> None:
        self.executed: list[ToolCall] = []
        self.running = 0
        self.peak = 0

    def specs(self) -> Sequence[ToolSpec]:
        return (
            ToolSpec("add", "Add two numbers.", NUMBERS),
            ToolSpec("lookup", "Look something up.", QUERY),
            ToolSpec("broken", "Always fails.", QUERY),
        )

    async def call(self, call: ToolCall) -> ToolResult:
        self.executed.append(call)
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            args: dict[str, Any] = call.arguments
            if call.name == "add":
                return ToolResult(call.id, str(args["a"] + args["b"]), call.name)
            if call.name == "lookup":
                for _ in str(args.get("q", "")):
                    await asyncio.sleep(0)
                return ToolResult(call.id, f"found {args.get('q')}", call.name)
            return ToolResult(call.id, "RuntimeError: the service is down", call.name, True)
        finally:
            self.running -= 1


def go(llm: ScriptedLLM, tools: Tools, budget: Any = None, task: str = "the task") -> Any:
    budget = budget if budget is not None else m.Budget()
    return asyncio.run(m.run(llm, tools, task, budget, system=SYSTEM))


def assistant_turns(messages: Sequence[Message]) -> int:
    return sum(msg.role == "assistant" for msg in messages)


def test_a_direct_answer_takes_one_call() -> None:
    llm, tools = ScriptedLLM(["Paris."]), Tools()
    result = go(llm, tools, task="Capital of France?")
    assert (result.answer, result.stop_reason) == ("Paris.", "answer")
    assert len(llm.calls) == 1
    assert tools.executed == []
    assert llm.calls[0].messages == (Message.system(SYSTEM), Message.user("Capital of France?"))
    assert list(llm.calls[0].tools) == list(tools.specs()), "send the tool specs every time"
    assert result.tool_calls == ()


def test_a_tool_result_goes_back_to_the_model() -> None:
    call = ToolCall("c1", "add", {"a": 2, "b": 3})
    llm, tools = ScriptedLLM([call, "It is 5."]), Tools()
    result = go(llm, tools)
    assert (result.answer, result.stop_reason) == ("It is 5.", "answer")
    assert tools.executed == [call]
    second = llm.calls[1].messages
    assert second[-2] == Message.assistant("", (call,))
    assert second[-1] == Message.tool("c1", "5")
    assert list(llm.calls[1].tools) == list(tools.specs())
    assert result.messages == (*second, Message.assistant("It is 5."))
    assert result.tool_calls == (call,)


def test_calls_of_one_turn_run_concurrently_and_results_keep_call_order() -> None:
    slow = ToolCall("c1", "lookup", {"q": "a long and slow query"})
    fast = ToolCall("c2", "lookup", {"q": "quick"})
    llm, tools = ScriptedLLM([Reply(tool_calls=(slow, fast)), "done"]), Tools()
    result = go(llm, tools)
    assert result.stop_reason == "answer"
    assert tools.peak == 2, "both calls of the turn must run at the same time"
    results = [msg for msg in llm.calls[1].messages if msg.role == "tool"]
    assert [msg.tool_call_id for msg in results] == ["c1", "c2"]
    assert results[0].content == "found a long and slow query"


def test_a_failing_tool_is_information_not_a_crash() -> None:
    call = ToolCall("c1", "broken", {"q": "x"})
    llm, tools = ScriptedLLM([call, "The service is down; try later."]), Tools()
    result = go(llm, tools)
    assert result.stop_reason == "answer"
    error = llm.calls[1].messages[-1]
    assert error.role == "tool"
    assert error.is_error
    assert "down" in error.content


def test_the_step_budget_stops_a_model_that_never_answers() -> None:
    def endless(messages: Sequence[Message]) -> ToolCall:
        n = assistant_turns(messages)
        return ToolCall(f"c{n}", "lookup", {"q": f"page {n}"})  # new arguments every time

    llm, tools = ScriptedLLM(endless), Tools()
    result = go(llm, tools, m.Budget(max_steps=4))
    assert (result.answer, result.stop_reason) == (None, "step_budget")
    assert len(llm.calls) == 4
    assert [c.arguments["q"] for c in result.tool_calls] == [f"page {n}" for n in range(4)]


def test_an_answer_on_the_last_step_is_still_an_answer() -> None:
    llm = ScriptedLLM([ToolCall("c1", "add", {"a": 1, "b": 1}), "2"])
    result = go(llm, Tools(), m.Budget(max_steps=2))
    assert (result.answer, result.stop_reason) == ("2", "answer")


def test_the_same_call_repeated_is_a_loop() -> None:
    def stuck(messages: Sequence[Message]) -> ToolCall:
        return ToolCall(f"c{assistant_turns(messages)}", "lookup", {"q": "same"})

    llm, tools = ScriptedLLM(stuck), Tools()
    result = go(llm, tools, m.Budget(max_steps=10, loop_threshold=3))
    assert (result.answer, result.stop_reason) == (None, "loop_detected")
    assert len(llm.calls) == 3, "stop when the call is asked for the third time"
    assert len(tools.executed) == 2, "the repeated call is not run a third time"
    assert len(result.tool_calls) == 3


def test_the_same_call_means_same_name_and_equal_arguments() -> None:
    script = [
        ToolCall("c1", "add", {"a": 1, "b": 2}),
        ToolCall("c2", "add", {"a": 1, "b": 3}),  # other arguments: a new call
        ToolCall("c3", "lookup", {"q": "x"}),
        ToolCall("c4", "add", {"b": 2, "a": 1}),  # c1 again, keys in another order
    ]
    llm, tools = ScriptedLLM([*script, "never reached"]), Tools()
    result = go(llm, tools, m.Budget(loop_threshold=2))
    assert result.stop_reason == "loop_detected"
    assert [c.id for c in tools.executed] == ["c1", "c2", "c3"]


def test_a_model_error_ends_the_run_with_a_reason() -> None:
    llm = ScriptedLLM(
        [ToolCall("c1", "add", {"a": 1, "b": 2}), "3"], faults=[Fault.server_error(2)]
    )
    result = go(llm, Tools())
    assert (result.answer, result.stop_reason) == (None, "error")
    assert result.error is not None
    assert "503" in result.error
    assert result.tool_calls == (ToolCall("c1", "add", {"a": 1, "b": 2}),)


def test_no_system_prompt_when_none_is_given() -> None:
    llm = ScriptedLLM(["hi"])
    result = asyncio.run(m.run(llm, Tools(), "Say hi", m.Budget(), system=None))
    assert llm.calls[0].messages == (Message.user("Say hi"),)
    assert result.messages == (Message.user("Say hi"), Message.assistant("hi"))
