"""ToolRegistry: every failure becomes an error result (never an exception), timeouts are
per tool, allow-list views hide and refuse tools, and return values are rendered as text."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from llmprep.agents.registry import ToolExecutor, ToolRegistry, render
from llmprep.agents.tools import tool
from llmprep.core.messages import ToolCall, ToolResult

from .conftest import add, registry, run


def call(name: str, **arguments: object) -> ToolResult:
    return run(registry().call(ToolCall("c1", name, dict(arguments))))


def test_a_successful_call_is_rendered_and_addressed_to_its_call() -> None:
    assert call("add", a=2, b=3) == ToolResult("c1", "5", name="add")
    assert call("weather", city="Oslo").content == '{"city": "Oslo", "temp_c": 4}'


def test_an_unknown_tool_is_an_error_result_that_lists_the_tools() -> None:
    result = call("serach", q="x")  # codespell:ignore
    assert result.is_error
    assert result.content == "no tool named 'serach'; available tools: add, weather"


def test_invalid_arguments_are_an_error_result_with_every_problem() -> None:
    result = call("add", a="two")
    assert result.is_error
    assert result.content == (
        "invalid arguments for 'add': $: 'b' is a required property; "
        "$.a: 'two' is not of type 'integer'"
    )


def test_an_exception_in_the_tool_is_an_error_result_not_a_crash() -> None:
    result = call("weather", city="Atlantis")
    assert result.is_error
    assert result.content == "tool 'weather' failed: LookupError: no weather station in Atlantis"


def test_a_tool_that_never_finishes_times_out_after_its_own_timeout() -> None:
    never = asyncio.Event()  # nobody sets it: the tool would wait forever

    @tool(timeout=0.01)
    async def hang() -> str:
        """Wait forever."""
        await never.wait()
        return "unreachable"

    result = run(ToolRegistry([hang], default_timeout=None).call(ToolCall("c1", "hang")))
    assert result == ToolResult("c1", "tool 'hang' timed out after 0.01 s", "hang", is_error=True)


def test_the_registry_default_timeout_applies_when_the_tool_has_none() -> None:
    never = asyncio.Event()

    @tool
    async def hang() -> str:
        """Wait forever."""
        await never.wait()
        return "unreachable"

    result = run(ToolRegistry([hang], default_timeout=0.01).call(ToolCall("c1", "hang")))
    assert result.content == "tool 'hang' timed out after 0.01 s"


def test_a_timeout_error_raised_by_the_tool_itself_is_not_reported_as_our_timeout() -> None:
    @tool
    async def upstream() -> str:
        """Call a slow upstream service."""
        raise TimeoutError("upstream took too long")

    result = run(ToolRegistry([upstream]).call(ToolCall("c1", "upstream")))
    assert result.content == "tool 'upstream' failed: TimeoutError: upstream took too long"


def test_cancellation_is_not_swallowed() -> None:
    started = asyncio.Event()

    @tool
    async def slow() -> str:
        """Wait until cancelled."""
        started.set()
        await asyncio.Event().wait()
        return "unreachable"

    async def scenario() -> None:
        task = asyncio.create_task(ToolRegistry([slow]).call(ToolCall("c1", "slow")))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario())


def test_allow_gives_a_view_with_only_those_tools() -> None:
    full = registry()
    view = full.allow("add")
    assert [s.name for s in view.specs()] == ["add"]
    assert run(view.call(ToolCall("c1", "weather", {"city": "Oslo"}))).is_error
    assert "weather" in full  # the original is unchanged
    with pytest.raises(KeyError, match="cannot allow unregistered tools"):
        full.allow("add", "delete_everything")


def test_registration_rejects_duplicate_names() -> None:
    with pytest.raises(ValueError, match="already registered"):
        ToolRegistry([add, add])


def test_the_registry_is_a_tool_executor() -> None:
    assert isinstance(registry(), ToolExecutor)
    assert [s.name for s in registry().specs()] == ["add", "weather"]
    assert len(registry()) == 2
    assert registry().get("add") is add
    assert registry().get("x") is None
    assert [t.name for t in registry()] == ["add", "weather"] == list(registry().names)


@dataclass
class Reading:
    city: str
    temp_c: float


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        (3, "3"),
        ({"a": [1, 2]}, '{"a": [1, 2]}'),
        (Reading("Oslo", 4.5), '{"city": "Oslo", "temp_c": 4.5}'),
        ("Zürich", "Zürich"),
    ],
)
def test_render(value: object, text: str) -> None:
    assert render(value) == text


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="default_timeout must be positive"):
        ToolRegistry(default_timeout=0)
    with pytest.raises(ValueError, match="timeout must be positive"):

        @tool(timeout=-1)
        def f() -> None:
            """Nothing."""
