"""Use an MCP server's tools in our agent loop: MCP tool -> `Tool`, MCP result -> text.

An agent is an MCP *host*: for each server it opens a client session, lists the tools, and
offers them to the model next to its own. The mapping is small:

    MCP Tool {name, description, inputSchema, annotations}  ->  ToolSpec + Tool
    annotations.readOnlyHint != true                        ->  side_effect=True (ask first)
    CallToolResult {content: [text...], isError}            ->  the text; isError -> raise,
                                                                which ToolRegistry turns into
                                                                an is_error result

The input schema is validated on our side before the call goes out (as for every `Tool`),
and again by the server. Annotations are *hints* from the server: a third-party server can
claim to be read-only, so a guardrail policy should trust the server, not the hint.

Leaves out: resources, prompts, sampling and elicitation, tool-list change notifications,
and non-text content (images and embedded resources are summarised by their type).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal, TextIO

import mcp.types as mcp_types
from mcp import ClientSession, StdioServerParameters, stdio_client

from llmprep.agents.registry import ToolRegistry
from llmprep.agents.tools import AnyTool, Tool
from llmprep.core.messages import ToolSpec

_INVALID = re.compile(r"[^A-Za-z0-9_-]")


class MCPToolError(RuntimeError):
    """The server reported the call as failed (`isError: true`); the message is its text."""


def result_text(result: mcp_types.CallToolResult) -> str:
    """The text the model should read from a call result (text blocks joined; others named)."""
    parts = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        else:
            parts.append(f"[{block.type} content]")
    if not parts and result.structured_content is not None:
        return json.dumps(result.structured_content)
    return "\n".join(parts)


def tool_from_mcp(session: ClientSession, tool: mcp_types.Tool, prefix: str = "") -> AnyTool:
    """Wrap one MCP tool as a `Tool` whose calls go to `session`.

    `prefix` namespaces the tool ("book_search_book") so two servers with a tool of the same
    name can share a registry; characters our providers reject in names become "_".
    """
    name = _INVALID.sub("_", f"{prefix}{tool.name}")[:64]
    read_only = bool(tool.annotations and tool.annotations.read_only_hint)
    spec = ToolSpec(name, tool.description or tool.name, dict(tool.input_schema))

    async def call(**arguments: Any) -> str:
        result = await session.call_tool(tool.name, arguments)
        text = result_text(result)
        if result.is_error:
            raise MCPToolError(text)
        return text

    return Tool(spec, call, side_effect=not read_only)


async def mcp_registry(
    sessions: Sequence[tuple[str, ClientSession]] | ClientSession,
    *,
    default_timeout: float | None = 30.0,
) -> ToolRegistry:
    """A `ToolRegistry` of every tool of one session, or of several (each with a prefix)."""
    pairs = [("", sessions)] if isinstance(sessions, ClientSession) else list(sessions)
    registry = ToolRegistry(default_timeout=default_timeout)
    for prefix, session in pairs:
        listing = await session.list_tools()
        for tool in listing.tools:
            registry.register(tool_from_mcp(session, tool, prefix))
    return registry


@asynccontextmanager
async def stdio_session(
    command: str,
    args: Sequence[str] = (),
    *,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    errlog: TextIO | None = None,
    connect: Literal["initialize", "discover"] = "initialize",
) -> AsyncIterator[ClientSession]:
    """Start an MCP server as a subprocess and yield a connected client session.

    This is what a host does with a `"command"` / `"args"` entry in its config: spawn the
    process, speak JSON-RPC over its stdin and stdout, and agree on a protocol version.
    `connect="initialize"` runs the handshake of protocol revisions up to 2025-11-25
    (`initialize`, then `notifications/initialized`); `"discover"` sends the 2026-07-28
    revision's `server/discover`, which has no handshake: every later request carries its
    protocol version and capabilities itself.

    Example:
        async with stdio_session(sys.executable, ["-m", "llmprep.agents.mcp_server"]) as s:
            registry = await mcp_registry(s)
    """
    params = StdioServerParameters(command=command, args=list(args), cwd=cwd, env=env)
    with contextlib.ExitStack() as stack:
        log = errlog if errlog is not None else _server_log(stack)
        async with (
            stdio_client(params, errlog=log) as (read, write),
            ClientSession(read, write) as session,
        ):
            if connect == "discover":
                await session.discover()
            else:
                await session.initialize()
            yield session


def _server_log(stack: contextlib.ExitStack) -> TextIO:
    """Where the server's stderr goes by default: ours, if it is a real file descriptor.

    The subprocess needs a descriptor to write to. In a Jupyter kernel (a book chapter) or
    under an output-capturing test runner, `sys.stderr` may be a Python object with no
    usable `fileno()`; then the server's log goes to the null device instead of crashing the
    spawn.
    """
    try:
        sys.stderr.fileno()
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return stack.enter_context(open(os.devnull, "w", encoding="utf-8"))
    return sys.stderr
