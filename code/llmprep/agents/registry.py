"""`ToolRegistry`: the tools an agent may use, and the one place a model's call is executed.

The model only *proposes* a call; the registry decides what happens to it:

    ToolCall(name, arguments) --registry.call--> ToolResult(content, is_error)
        unknown tool        -> is_error: "no tool named 'serach'; available: search, ..."
        invalid arguments   -> is_error: every schema violation, with its path
        timed out           -> is_error: "timed out after 5 s"
        raised an exception -> is_error: "ValueError: ..."
        returned a value    -> content: the value as text (JSON for structured values)

`call` never raises for any of these: a failure is information the model can act on (fix the
arguments, try another tool, give up), so it goes back into the conversation as an error
result instead of crashing the loop. Cancellation still propagates, so a run can be stopped.

`allow(...)` gives a view with fewer tools (least privilege per task or per sub-agent):
the view's specs are all the model sees, and a call to anything else is refused.

Leaves out: tool versioning, per-caller permissions (see `guardrails`), retries (a retry is
the model's next call, with the error in front of it) and result caching.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from llmprep.agents.tools import AnyTool
from llmprep.core.errors import ToolArgumentsError
from llmprep.core.messages import ToolCall, ToolResult, ToolSpec

DEFAULT_TIMEOUT = 30.0


@runtime_checkable
class ToolExecutor(Protocol):
    """What the agent loop needs from its tools: their specs, and a call that never raises."""

    def specs(self) -> Sequence[ToolSpec]: ...

    async def call(self, call: ToolCall) -> ToolResult: ...


def render(value: Any) -> str:
    """A tool's return value as the text the model reads.

    Strings go as they are; anything else as JSON (dataclasses as objects), because models
    read JSON reliably and it keeps numbers and nesting unambiguous.

    Example: render({"temp_c": 4}) == '{"temp_c": 4}'
    """
    if isinstance(value, str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.dumps(value, default=str, ensure_ascii=False)


class ToolRegistry:
    """A name -> tool table with safe execution (see the module docstring).

    Example:
        registry = ToolRegistry([add, search])
        result = await registry.call(ToolCall("c1", "add", {"a": 1, "b": 2}))
        result.content == "3"
    """

    def __init__(
        self, tools: Iterable[AnyTool] = (), *, default_timeout: float | None = DEFAULT_TIMEOUT
    ) -> None:
        if default_timeout is not None and default_timeout <= 0:
            raise ValueError(f"default_timeout must be positive, got {default_timeout}")
        self.default_timeout = default_timeout
        self._tools: dict[str, AnyTool] = {}
        for t in tools:
            self.register(t)

    def register(self, tool: AnyTool) -> AnyTool:
        """Add a tool; two tools with one name is an error (the model could not tell them apart)."""
        if tool.name in self._tools:
            raise ValueError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool
        return tool

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[AnyTool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def get(self, name: str) -> AnyTool | None:
        return self._tools.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def specs(self) -> tuple[ToolSpec, ...]:
        """What the model is told it may call, in registration order."""
        return tuple(t.spec for t in self._tools.values())

    def allow(self, *names: str) -> ToolRegistry:
        """A registry with only these tools (sharing the tool objects): least privilege.

        Naming a tool that is not registered is an error here, not a silent no-op, so a typo
        in a policy cannot quietly remove a tool (or fail to).
        """
        if missing := sorted(set(names) - set(self._tools)):
            raise KeyError(f"cannot allow unregistered tools {missing}; known: {self.names}")
        return ToolRegistry(
            (self._tools[n] for n in self._tools if n in names),
            default_timeout=self.default_timeout,
        )

    def timeout_for(self, tool: AnyTool) -> float | None:
        return tool.timeout if tool.timeout is not None else self.default_timeout

    async def call(self, call: ToolCall) -> ToolResult:
        """Run one call and report what happened as a `ToolResult`; never raises (but cancels)."""
        tool = self._tools.get(call.name)
        if tool is None:
            available = ", ".join(self._tools) or "none"
            return _error(call, f"no tool named {call.name!r}; available tools: {available}")
        timeout = self.timeout_for(tool)
        deadline = asyncio.timeout(timeout)
        try:
            async with deadline:
                value = await tool.invoke(call.arguments)
        except ToolArgumentsError as exc:
            return _error(call, f"invalid arguments for {call.name!r}: {exc.reason}")
        except TimeoutError as exc:
            if not deadline.expired():  # the tool raised TimeoutError itself
                return _error(call, f"tool {call.name!r} failed: TimeoutError: {exc}")
            return _error(call, f"tool {call.name!r} timed out after {timeout:g} s")
        except Exception as exc:  # the tool's own failure: report it, keep the loop alive
            return _error(call, f"tool {call.name!r} failed: {type(exc).__name__}: {exc}")
        return ToolResult(call.id, render(value), name=call.name)


def _error(call: ToolCall, message: str) -> ToolResult:
    return ToolResult(call.id, message, name=call.name, is_error=True)
