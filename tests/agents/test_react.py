"""The ReAct parser on good and malformed replies (a clear ParseError, never a crash), and
the text-mode runner recovering from a format error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.agents.loop import Budget
from llmprep.agents.react import (
    Action,
    FinalAnswer,
    ParseError,
    parse_react,
    react_prompt,
    react_run,
)
from llmprep.core.messages import Message
from llmprep.core.scripted import ScriptedLLM

from .conftest import registry, run

SEARCH = Action("I should add them.", "add", {"a": 2, "b": 3})


@pytest.mark.parametrize(
    "reply",
    [
        'Thought: I should add them.\nAction: add\nAction Input: {"a": 2, "b": 3}',
        # case and whitespace variants of the labels
        'thought:I should add them.\nACTION :  add\naction input:   {"a": 2, "b": 3}',
        'Thought: I should add them.\nAction: add\nAction_Input: {"a": 2, "b": 3}',
        # markdown decoration models add
        '**Thought:** I should add them.\n**Action:** `add`\n**Action Input:** {"a": 2, "b": 3}',
        # the input in a fence, over several lines
        "Thought: I should add them.\nAction: add\nAction Input:\n"
        '```json\n{\n  "a": 2,\n  "b": 3\n}\n```',
        # prose after the JSON
        'Thought: I should add them.\nAction: add\nAction Input: {"a": 2, "b": 3} (waiting)',
        # the model invents its own observation: everything from there is ignored
        'Thought: I should add them.\nAction: add\nAction Input: {"a": 2, "b": 3}\n'
        "Observation: 5\nThought: done\nFinal Answer: 5",
    ],
)
def test_actions_parse_despite_format_variants(reply: str) -> None:
    assert parse_react(reply) == SEARCH


def test_prose_before_the_first_label_counts_as_thought() -> None:
    step = parse_react('Let me think.\nAction: add\nAction Input: {"a": 1, "b": 1}')
    assert step == Action("Let me think.", "add", {"a": 1, "b": 1})


def test_a_final_answer_parses_with_its_thought() -> None:
    assert parse_react("Thought: I know this.\nFinal Answer: Paris.") == FinalAnswer(
        "I know this.", "Paris."
    )
    assert parse_react("final answer:  It is\nParis.") == FinalAnswer("", "It is\nParis.")


def test_empty_action_input_means_no_arguments() -> None:
    assert parse_react("Action: now\nAction Input:").input == {}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("Thought: hmm\nAction: add", "the Action 'add' has no Action Input"),
        ("Action: add\nAction Input: {a: 2}", "the Action Input for 'add' is not valid JSON"),
        ("Action: add\nAction Input: [2, 3]", "must be a JSON object, got list"),
        ("Action: add\nAction Input: two and three", "is not valid JSON"),
        (
            'Action: add\nAction Input: {"a": 1}\nAction: add\nAction Input: {"a": 2}',
            "the reply has 2 actions; take one action at a time",
        ),
        (
            'Action: add\nAction Input: {"a": 1}\nFinal Answer: 3',
            "both an Action and a Final Answer",
        ),
        ("I think the answer is 5.", "neither an Action nor a Final Answer"),
        ("", "neither an Action nor a Final Answer"),
        ("Action:\nAction Input: {}", "the Action names no tool"),
        ("Final Answer:", "exactly one non-empty Final Answer"),
    ],
)
def test_malformed_replies_raise_a_clear_parse_error(reply: str, problem: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_react(reply)
    assert problem in info.value.problem
    assert info.value.feedback.startswith("Format error: ")
    assert "Final Answer: <the answer>" in info.value.feedback  # the format, restated


_LABELS = st.sampled_from(
    ["Thought:", "Action:", "Action Input:", "Observation:", "Final Answer:", "{", "}", "```"]
)


@given(st.lists(st.one_of(_LABELS, st.text(max_size=20)), max_size=12).map("\n".join))
def test_the_parser_never_fails_with_anything_but_parse_error(text: str) -> None:
    try:
        step = parse_react(text)
    except ParseError:
        return
    assert isinstance(step, Action | FinalAnswer)


def test_the_prompt_lists_every_tool_with_its_schema() -> None:
    prompt = react_prompt(registry().specs())
    assert "- add: Add two integers." in prompt
    assert '"required": ["a", "b"]' in prompt
    assert "Action Input:" in prompt


def test_the_runner_acts_observes_and_answers() -> None:
    llm = ScriptedLLM(
        [
            'Thought: add them\nAction: add\nAction Input: {"a": 2, "b": 3}',
            "Thought: got it\nFinal Answer: 5",
        ]
    )
    result = run(react_run(llm, registry(), "What is 2 + 3?"))
    assert (result.answer, result.stop_reason) == ("5", "answer")
    assert llm.calls[1].messages[-1] == Message.user("Observation: 5")
    assert llm.calls[0].settings.stop == ("Observation:",)  # the model must not invent it
    assert llm.calls[0].tools == ()  # text mode: no native tools
    assert result.tool_calls[0].id == "react-1"


def test_a_format_error_costs_one_step_and_is_fed_back() -> None:
    llm = ScriptedLLM(
        [
            "Action: add\nAction Input: {a: 2, b: 3}",  # not JSON
            'Action: add\nAction Input: {"a": 2, "b": 3}',
            "Final Answer: 5",
        ]
    )
    result = run(react_run(llm, registry(), "2 + 3?"))
    assert result.answer == "5"
    feedback = llm.calls[1].messages[-1].content
    assert feedback.startswith("Observation: Format error: the Action Input for 'add'")


def test_tool_errors_come_back_as_observations() -> None:
    llm = ScriptedLLM(
        ['Action: weather\nAction Input: {"city": "Atlantis"}', "Final Answer: unknown"]
    )
    result = run(react_run(llm, registry(), "Weather in Atlantis?"))
    assert llm.calls[1].messages[-1].content == (
        "Observation: Error: tool 'weather' failed: LookupError: no weather station in Atlantis"
    )
    assert result.stop_reason == "answer"


def test_the_runner_stops_on_its_step_budget_and_on_loops() -> None:
    stuck = 'Action: add\nAction Input: {"a": 1, "b": 1}'
    looped = run(react_run(ScriptedLLM(lambda m: stuck), registry(), "t"))
    assert looped.stop_reason == "loop_detected"
    rambling = run(react_run(ScriptedLLM(lambda m: "hmm"), registry(), "t", Budget(max_steps=2)))
    assert rambling.stop_reason == "step_budget"
    assert len(rambling.turns) == 2
