"""Grader for drill structured-repair: a scripted model slips in each of the usual ways and
the loop must extract, validate, show the model its error, and stop when out of repairs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pydantic
import pytest

from llmprep.core.messages import GenerationSettings, Message, Usage
from llmprep.core.scripted import ScriptedLLM
from llmprep.prompting.structured import json_schema_validator, pydantic_validator
from tests.drills.target import load

m = load("structured-repair")

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
VALID = '{"name": "Ada", "age": 36}'
ADA = {"name": "Ada", "age": 36}
ASK = (Message.system("Reply with JSON only."), Message.user("Ada Lovelace, 36. As JSON."))


class Person(pydantic.BaseModel):
    name: str
    age: int


def go(
    replies: Sequence[str], max_repairs: int = 1, validate: Any = None
) -> tuple[Any, ScriptedLLM]:
    llm = ScriptedLLM(list(replies))
    check = validate if validate is not None else json_schema_validator(SCHEMA)
    result = asyncio.run(m.with_repair(llm, ASK, check, max_repairs=max_repairs))
    return result, llm


def test_valid_json_is_accepted_at_once() -> None:
    result, llm = go([VALID])
    assert result.value == ADA
    assert len(llm.calls) == 1
    assert [(a.text, a.error) for a in result.attempts] == [(VALID, None)]
    assert llm.calls[0].messages == ASK


@pytest.mark.parametrize(
    "reply",
    [
        f"```json\n{VALID}\n```",
        f"Sure! Here it is: {VALID} Hope that helps.",
        f"  {VALID}\n",
    ],
    ids=["fenced", "in prose", "whitespace"],
)
def test_json_is_found_in_fences_and_prose(reply: str) -> None:
    result, llm = go([reply])
    assert result.value == ADA
    assert len(llm.calls) == 1


def test_an_invalid_value_is_repaired_with_the_error_shown() -> None:
    bad = '{"name": "Ada", "age": "thirty-six"}'
    result, llm = go([bad, VALID])
    assert result.value == ADA
    assert len(llm.calls) == 2
    second = llm.calls[1].messages
    assert second[: len(ASK)] == ASK
    assert second[len(ASK)] == Message.assistant(bad), "show the model its own reply"
    feedback = second[len(ASK) + 1]
    assert feedback.role == "user"
    assert "$.age" in feedback.content
    assert len(second) == len(ASK) + 2
    first, last = result.attempts
    assert first.text == bad
    assert first.error is not None
    assert "$.age" in first.error
    assert (last.text, last.error) == (VALID, None)


def test_unparsable_replies_and_replies_without_json_are_repaired() -> None:
    result, llm = go(['{"name": "Ada", "age": 36', "I cannot do that.", VALID], max_repairs=2)
    assert result.value == ADA
    assert len(llm.calls) == 3
    assert [a.error is None for a in result.attempts] == [False, False, True]


def test_every_violation_reaches_the_model() -> None:
    bad = '{"name": 7, "age": -1, "extra": true}'
    _, llm = go([bad, VALID])
    feedback = llm.calls[1].messages[-1].content
    for path in ("$.name", "$.age"):
        assert path in feedback
    assert "extra" in feedback


def test_out_of_repairs_raises_with_every_attempt() -> None:
    llm = ScriptedLLM(["nope", '{"name": 1}', "[]"])
    with pytest.raises(m.StructuredOutputError) as info:
        asyncio.run(m.with_repair(llm, ASK, json_schema_validator(SCHEMA), max_repairs=2))
    assert isinstance(info.value, ValueError)
    error: Any = info.value  # the starter's class or the library's: read it by duck typing
    assert len(llm.calls) == 3
    assert [a.text for a in error.attempts] == ["nope", '{"name": 1}', "[]"]
    assert all(a.error for a in error.attempts)
    assert error.usage.input_tokens > 0


def test_zero_repairs_means_one_call() -> None:
    llm = ScriptedLLM(['{"name": "Ada"}', VALID])
    with pytest.raises(m.StructuredOutputError):
        asyncio.run(m.with_repair(llm, ASK, json_schema_validator(SCHEMA), max_repairs=0))
    assert len(llm.calls) == 1


def test_negative_max_repairs_is_a_value_error_before_any_call() -> None:
    llm = ScriptedLLM([VALID])
    with pytest.raises(ValueError, match="max_repairs"):
        asyncio.run(m.with_repair(llm, ASK, json_schema_validator(SCHEMA), max_repairs=-1))
    assert llm.calls == []


def test_the_value_is_what_the_validator_returns() -> None:
    result, _ = go(['{"name": "Ada", "age": "36"}'], validate=pydantic_validator(Person))
    assert result.value == Person(name="Ada", age=36)


def test_usage_adds_up_over_the_attempts_and_settings_pass_through() -> None:
    replies = ['{"age": 36}', VALID]
    settings = GenerationSettings(temperature=0.0, max_tokens=50)
    llm = ScriptedLLM(replies)
    result = asyncio.run(m.with_repair(llm, ASK, json_schema_validator(SCHEMA), settings=settings))
    assert [c.settings for c in llm.calls] == [settings, settings]
    expected = Usage()
    for call, reply in zip(llm.calls, replies, strict=True):  # replay each call alone
        again = asyncio.run(ScriptedLLM([reply]).complete(call.messages, settings=settings))
        expected += again.usage
    assert result.usage == expected
