"""Structured output: extraction, both validators, and the one-repair loop."""

from __future__ import annotations

from typing import Any, Literal

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.messages import Message
from llmprep.core.scripted import Reply, ScriptedLLM
from llmprep.core.tokens import count_message_tokens, count_tokens
from llmprep.prompting.structured import (
    OutputError,
    StructuredOutputError,
    extract_json,
    json_schema_validator,
    pydantic_validator,
    with_repair,
)

from .conftest import run

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
    },
    "required": ["name", "age"],
}
ASK = [Message.user("Extract the person: 'Ada Lovelace, 36, mathematician.'")]
VALID = '{"name": "Ada Lovelace", "age": 36}'
WRONG_TYPE = '{"name": "Ada Lovelace", "age": "thirty-six"}'


class Person(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0)


@pytest.mark.parametrize(
    "reply",
    [
        VALID,
        f"```json\n{VALID}\n```",
        f"Sure! Here is the JSON:\n{VALID}\nLet me know if you need more.",
        f"Here you go: ```\n{VALID}\n```",
    ],
)
def test_extract_json_accepts_fences_and_prose_around_the_value(reply: str) -> None:
    assert extract_json(reply) == {"name": "Ada Lovelace", "age": 36}


@pytest.mark.parametrize(
    ("reply", "expect", "value"),
    [
        ('Note [1]: {"a": 1}', "object", {"a": 1}),  # a bracket in the prose decodes ...
        ('Options {x} then {"a": 1}', "object", {"a": 1}),  # ... or does not
        ('See [1] and [2]. Answer: {"a": [3]} (from {"b": 4})', "object", {"a": [3]}),
        ('Sure: [{"a": 1}, {"a": 2}] done', "object", [{"a": 1}, {"a": 2}]),  # no object: fallback
        ("Note {x} then [1, 2]", "array", [1, 2]),
        ('Note [1]: {"a": 1} [2]', "array", [1]),
        ('Note {"a": 1} [1]', "any", {"a": 1}),  # the first container of either kind
        ("[1, 2]", "object", [1, 2]),  # the whole text is JSON: taken as it is
    ],
)
def test_extract_json_finds_the_first_span_of_the_expected_kind(
    reply: str, expect: Literal["object", "array", "any"], value: Any
) -> None:
    assert extract_json(reply, expect=expect) == value


def test_extract_json_does_not_pick_a_fragment_out_of_broken_json() -> None:
    # the outer object is broken after its inner one: report that, not {"city": "X"}
    with pytest.raises(OutputError, match="Expecting property name"):
        extract_json('Here: {"name": "Ada", "address": {"city": "X"}, }')
    with pytest.raises(ValueError, match="expect"):
        extract_json("{}", expect="dict")  # type: ignore[arg-type]


def test_extract_json_reports_where_the_json_breaks() -> None:
    with pytest.raises(OutputError) as info:
        extract_json('Result: {"name": "Ada", "age": 36,}')
    assert info.value.kind == "parse"
    assert info.value.feedback == (
        "not valid JSON: Expecting property name enclosed in double quotes (char 34)"
    )
    with pytest.raises(OutputError, match="Expecting value"):
        extract_json("I could not find a person.")


def test_json_schema_validator_lists_every_violation_with_its_path() -> None:
    validate = json_schema_validator(SCHEMA)
    assert validate({"name": "Ada", "age": 36}) == {"name": "Ada", "age": 36}
    with pytest.raises(OutputError) as info:
        validate({"age": -1})
    assert info.value.kind == "validation"
    assert info.value.feedback.splitlines() == [
        "$: 'name' is a required property",
        "$.age: -1 is less than the minimum of 0",
    ]


def test_json_schema_validator_enforces_format() -> None:
    email = json_schema_validator({"type": "string", "format": "email"})
    assert email("ada@example.org") == "ada@example.org"
    with pytest.raises(OutputError, match="'not an email' is not a 'email'"):
        email("not an email")
    date = json_schema_validator({"type": "string", "format": "date"})
    assert date("2024-02-29") == "2024-02-29"
    with pytest.raises(OutputError, match="is not a 'date'"):
        date("2024-13-45")
    # a format with no checker is an annotation: it passes
    assert json_schema_validator({"format": "no-such-format"})("anything") == "anything"


def test_json_schema_validator_rejects_a_broken_schema_up_front() -> None:
    with pytest.raises(Exception, match="is not valid under any of the given schemas"):
        json_schema_validator({"type": "integr"})


def test_pydantic_validator_returns_a_model_and_explains_failures() -> None:
    validate = pydantic_validator(Person)
    assert validate({"name": "Ada", "age": 36}) == Person(name="Ada", age=36)
    with pytest.raises(OutputError, match=r"\$\.age: Input should be a valid integer"):
        validate({"name": "Ada", "age": "thirty-six"})


def test_an_invalid_reply_is_repaired_by_feeding_the_error_back() -> None:
    llm = ScriptedLLM([WRONG_TYPE, VALID])
    result = run(with_repair(llm, ASK, json_schema_validator(SCHEMA)))
    assert result.value == {"name": "Ada Lovelace", "age": 36}
    assert result.repaired
    assert [a.error for a in result.attempts] == [
        "$.age: 'thirty-six' is not of type 'integer'",
        None,
    ]
    # the second call saw the bad reply and the validation error, after the original request
    second = llm.calls[1].messages
    assert second[:2] == (ASK[0], Message.assistant(WRONG_TYPE))
    assert "$.age: 'thirty-six' is not of type 'integer'" in second[2].content
    # usage adds up both calls: each full conversation in, each reply out
    assert result.usage.input_tokens == sum(count_message_tokens(c.messages) for c in llm.calls)
    assert result.usage.output_tokens == count_tokens(WRONG_TYPE) + count_tokens(VALID)


def test_repair_works_with_pydantic_models_too() -> None:
    llm = ScriptedLLM(['{"name": "Ada"}', VALID])
    result = run(with_repair(llm, ASK, pydantic_validator(Person)))
    assert result.value == Person(name="Ada Lovelace", age=36)
    assert "$.age: Field required" in str(result.attempts[0].error)


def test_a_reply_cut_off_by_max_tokens_is_told_to_be_shorter() -> None:
    llm = ScriptedLLM([Reply('{"name": "Ada Lovelace", "age":', finish_reason="length"), VALID])
    result = run(with_repair(llm, ASK, json_schema_validator(SCHEMA)))
    assert "hit the token limit" in str(result.attempts[0].error)


def test_still_invalid_after_the_repair_raises_with_every_attempt() -> None:
    llm = ScriptedLLM(["no JSON here", WRONG_TYPE, VALID])
    with pytest.raises(StructuredOutputError, match="after 2 attempts") as info:
        run(with_repair(llm, ASK, json_schema_validator(SCHEMA)))
    assert [a.text for a in info.value.attempts] == ["no JSON here", WRONG_TYPE]
    assert len(llm.calls) == 2  # the valid third reply was never asked for
    # the error's usage is the total over both attempts, not the last one's
    assert info.value.usage.input_tokens == sum(count_message_tokens(c.messages) for c in llm.calls)
    assert info.value.usage.output_tokens == count_tokens("no JSON here") + count_tokens(WRONG_TYPE)


@given(st.lists(st.booleans(), max_size=6), st.one_of(st.none(), st.integers(0, 3)))
def test_the_model_is_called_at_most_max_repairs_plus_one_times(
    valid: list[bool], max_repairs: int | None
) -> None:
    budget = 2 if max_repairs is None else max_repairs + 1  # the default: one repair
    llm = ScriptedLLM([VALID if ok else WRONG_TYPE for ok in valid] + [WRONG_TYPE] * budget)
    validate = json_schema_validator(SCHEMA)
    repair = (
        with_repair(llm, ASK, validate)
        if max_repairs is None
        else with_repair(llm, ASK, validate, max_repairs=max_repairs)
    )
    first_valid = valid.index(True) + 1 if True in valid else budget + 1
    if first_valid > budget:
        with pytest.raises(StructuredOutputError):
            run(repair)
        assert len(llm.calls) == budget
    else:
        result = run(repair)
        assert len(llm.calls) == len(result.attempts) == first_valid
        assert result.value == {"name": "Ada Lovelace", "age": 36}
