"""`@tool`: schemas derived from hints and docstrings, valid under the 2020-12 meta-schema;
arguments validated and converted before a call; unsupported definitions fail at decoration."""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.agents.tools import (
    Tool,
    ToolDefinitionError,
    make_tool,
    parse_docstring,
    schema_for,
    tool,
)
from llmprep.core.errors import ToolArgumentsError

from .conftest import add, run, weather

META = jsonschema.Draft202012Validator


class Unit(enum.Enum):
    CELSIUS = "c"
    FAHRENHEIT = "f"


@dataclass
class Point:
    """A point on the map."""

    lat: float
    lon: float
    label: str | None = None


class Window(TypedDict):
    start: int
    end: NotRequired[int]


@tool
def everything(
    query: str,
    limit: int = 5,
    ratio: float = 0.5,
    exact: bool = False,
    mode: Literal["fast", "thorough"] = "fast",
    unit: Unit = Unit.CELSIUS,
    tags: list[str] | None = None,
    where: Point | None = None,
    window: Window | None = None,
    weights: dict[str, float] | None = None,
    note: Annotated[str, "Free text for the log."] = "",
) -> dict[str, Any]:
    """Exercise every supported annotation.

    A second paragraph is part of the description.

    Args:
        query: What to look for.
        limit (int): How many results,
            at most.
        unit: Which unit to report in.

    Returns:
        The arguments, as the function received them.
    """
    return dict(locals())


def test_schema_is_derived_from_hints_and_docstring() -> None:
    params = everything.spec.parameters
    assert everything.spec.description == (
        "Exercise every supported annotation.\n\nA second paragraph is part of the description."
    )
    assert params["required"] == ["query"]
    assert params["additionalProperties"] is False
    props = params["properties"]
    assert props["query"] == {"type": "string", "description": "What to look for."}
    assert props["limit"] == {
        "type": "integer",
        "description": "How many results, at most.",
        "default": 5,
    }
    assert props["ratio"] == {"type": "number", "default": 0.5}
    assert props["exact"] == {"type": "boolean", "default": False}
    assert props["mode"] == {"enum": ["fast", "thorough"], "default": "fast"}
    assert props["unit"]["enum"] == ["c", "f"]
    assert props["unit"]["default"] == "c"
    assert props["tags"]["anyOf"] == [
        {"type": "array", "items": {"type": "string"}},
        {"type": "null"},
    ]
    point = props["where"]["anyOf"][0]
    assert point["required"] == ["lat", "lon"]
    assert point["description"] == "A point on the map."
    assert props["window"]["anyOf"][0]["required"] == ["start"]
    assert props["weights"]["anyOf"][0] == {
        "type": "object",
        "additionalProperties": {"type": "number"},
    }
    assert props["note"]["description"] == "Free text for the log."


@pytest.mark.parametrize("t", [everything, add, weather], ids=lambda t: t.name)
def test_every_derived_schema_is_valid_under_the_2020_12_meta_schema(t: Tool[..., Any]) -> None:
    META.check_schema(t.spec.parameters)


# Type hints built from the supported pieces, nested: any of them must give a valid schema.
_LEAVES = st.sampled_from([str, int, float, bool, Unit, Point, Window, Literal["a", "b", 3]])
_HINTS = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        inner.map(lambda h: list[h]),  # type: ignore[valid-type]
        inner.map(lambda h: h | None),
        inner.map(lambda h: dict[str, h]),  # type: ignore[valid-type]
        st.tuples(inner, inner).map(lambda p: p[0] | p[1]),
    ),
    max_leaves=6,
)


@given(_HINTS)
def test_any_supported_hint_gives_a_valid_schema(hint: Any) -> None:
    schema, _ = schema_for(hint)
    META.check_schema({"type": "object", "properties": {"x": schema}})


def test_arguments_are_converted_to_the_declared_types() -> None:
    received = run(
        everything.invoke(
            {
                "query": "q",
                "limit": 3.0,  # JSON Schema calls 3.0 an integer; the function gets 3
                "unit": "f",
                "where": {"lat": 59.9, "lon": 10.7},
                "window": {"start": 1},
            }
        )
    )
    assert received["limit"] == 3
    assert isinstance(received["limit"], int)
    assert received["unit"] is Unit.FAHRENHEIT
    assert received["where"] == Point(59.9, 10.7)
    assert received["window"] == {"start": 1}
    assert received["mode"] == "fast"  # defaults come from the function


def test_bad_arguments_are_rejected_with_every_problem_and_its_path() -> None:
    with pytest.raises(ToolArgumentsError) as info:
        everything.validate({"limit": "ten", "mode": "slow", "where": {"lat": 1}, "extra": 1})
    reason = info.value.reason
    assert info.value.tool_name == "everything"
    for expected in (
        "$: 'query' is a required property",
        "Additional properties are not allowed ('extra' was unexpected)",
        "$.limit: 'ten' is not of type 'integer'",
        "$.mode: 'slow' is not one of ['fast', 'thorough']",
    ):
        assert expected in reason
    assert "$.where" in reason


def test_validation_happens_before_the_function_runs() -> None:
    calls: list[int] = []

    @tool
    def record(n: int) -> int:
        """Record n."""
        calls.append(n)
        return n

    with pytest.raises(ToolArgumentsError):
        run(record.invoke({"n": True}))  # a bool is not an integer in JSON Schema
    assert calls == []


@given(a=st.integers(), b=st.integers())
def test_valid_arguments_always_pass_and_reach_the_function(a: int, b: int) -> None:
    assert run(add.invoke({"a": a, "b": b})) == a + b


_NOT_INTEGERS = st.one_of(
    st.text(),
    st.floats().filter(lambda x: not x.is_integer()),
    st.booleans(),
    st.none(),
    st.lists(st.integers()),
)


@given(_NOT_INTEGERS)
def test_non_integers_are_always_rejected(bad: Any) -> None:
    with pytest.raises(ToolArgumentsError):
        add.validate({"a": bad, "b": 1})


def test_sync_tools_run_in_a_worker_thread_and_async_tools_are_awaited() -> None:
    @tool
    def where_am_i() -> int:
        """The id of the thread running this tool."""
        return threading.get_ident()

    assert run(where_am_i.invoke({})) != threading.get_ident()
    assert run(weather.invoke({"city": "Oslo"})) == {"city": "Oslo", "temp_c": 4}


def test_a_tool_is_still_the_function() -> None:
    assert add(2, 3) == 5
    assert add.name == "add"


def test_decorator_options_name_side_effect_and_timeout() -> None:
    @tool(name="send-email", side_effect=True, timeout=2.5)
    def send(to: str) -> str:
        """Send an email."""
        return to

    assert (send.name, send.side_effect, send.timeout) == ("send-email", True, 2.5)
    assert send.spec.parameters["required"] == ["to"]


def no_doc(x: int) -> int:
    return x


def unannotated(x):  # type: ignore[no-untyped-def]
    """No hint."""
    return x


def star_args(*xs: int) -> int:
    """Varargs."""
    return sum(xs)


def star_kwargs(**kw: int) -> int:
    """Keyword varargs."""
    return sum(kw.values())


def positional_only(x: int, /) -> int:
    """Positional only."""
    return x


def a_set(xs: set[int]) -> int:
    """A set."""
    return len(xs)


def bare_list(xs: list) -> int:  # type: ignore[type-arg]
    """A bare list."""
    return len(xs)


def int_keys(m: dict[int, str]) -> int:
    """Int keys."""
    return len(m)


def any_type(x: Any) -> Any:
    """Anything."""
    return x


def float_literal(x: Literal[0.5, 1.5]) -> float:  # type: ignore[valid-type]
    """Float literals."""
    return float(x)


def drifted(x: int) -> int:
    """Drifted docstring.

    Args:
        y: A parameter that was renamed.
    """
    return x


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (no_doc, "needs a description"),
        (unannotated, "needs a type annotation"),
        (star_args, "only named parameters"),
        (star_kwargs, "only named parameters"),
        (positional_only, "only named parameters"),
        (a_set, "unsupported annotation set[int]"),
        (bare_list, "unsupported annotation <class 'list'>"),
        (int_keys, "a dict needs str keys"),
        (any_type, "unsupported annotation typing.Any"),
        (float_literal, "Literal values must be str, int, bool or None"),
        (drifted, "documents ['y'], which are not parameters"),
    ],
)
def test_unsupported_definitions_raise_at_decoration_time(fn: Any, message: str) -> None:
    with pytest.raises(ToolDefinitionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make_tool(fn)


def test_an_explicit_description_replaces_a_missing_docstring() -> None:
    assert make_tool(no_doc, description="Echo x.").spec.description == "Echo x."


def test_docstring_parser_reads_google_style_args() -> None:
    doc = """Summary line.

    Args:
        a (int): First,
            continued.
        b: Second.

    Raises:
        ValueError: never documented as an argument.
    """
    assert parse_docstring(doc) == ("Summary line.", {"a": "First, continued.", "b": "Second."})
    assert parse_docstring(None) == ("", {})


def test_the_module_docstring_example_is_what_tool_derives() -> None:
    @tool
    def search(query: str, k: int = 3) -> str:
        """Search the book.

        Args:
            query: What to find.
            k: How many passages to return.
        """
        return query * k

    assert search.spec.description == "Search the book."
    assert search.spec.parameters == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to find."},
            "k": {"type": "integer", "default": 3, "description": "How many passages to return."},
        },
        "required": ["query"],
        "additionalProperties": False,
    }
