"""The MCP server, tested as a host uses it: started as a subprocess by the official SDK's
stdio client, then initialize, tools/list and tools/call for every tool and its errors; and
the adapter that lets our agent loop call MCP tools."""

from __future__ import annotations

import io
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, cast

import jsonschema
import mcp.types as mcp_types
import pytest
from mcp import ClientSession

from llmprep.agents.booktools import BookIndex, Glossary, format_hits
from llmprep.agents.loop import run
from llmprep.agents.mcp_client import mcp_registry, result_text, stdio_session, tool_from_mcp
from llmprep.agents.mcp_server import INSTRUCTIONS
from llmprep.core.messages import ToolCall
from llmprep.core.pricing import estimate_cost
from llmprep.core.scripted import ScriptedLLM

from .conftest import run as arun

ROOT = Path(__file__).resolve().parents[2]
SERVER = [sys.executable, "-m", "llmprep.agents.mcp_server"]
TOOLS = {"search_book", "lookup_term", "estimate_cost"}


def with_server[T](
    body: Callable[[ClientSession], Awaitable[T]],
    errlog: Path,
    connect: Literal["initialize", "discover"] = "initialize",
) -> T:
    """Start the server over stdio, run `body` on a connected session, shut it down."""

    async def scenario() -> T:
        with errlog.open("w") as err:
            async with stdio_session(
                SERVER[0], SERVER[1:], cwd=ROOT, errlog=err, connect=connect
            ) as session:
                return await body(session)

    return arun(scenario())


async def call(session: ClientSession, name: str, **arguments: Any) -> mcp_types.CallToolResult:
    return await session.call_tool(name, arguments)


def test_handshake_listing_and_every_tool_over_stdio(tmp_path: Path) -> None:
    async def body(session: ClientSession) -> dict[str, Any]:
        listing = await session.list_tools()
        return {
            "init": session.initialize_result,
            "tools": {t.name: t for t in listing.tools},
            "search": await call(session, "search_book", query="few-shot examples", k=2),
            "term": await call(session, "lookup_term", term="llm"),
            "cost": await call(
                session, "estimate_cost", model="gpt-5-mini", input_tokens=1000, output_tokens=100
            ),
        }

    got = with_server(body, tmp_path / "server.log")
    init = got["init"]
    assert init is not None
    assert init.server_info.name == "llmprep"
    assert init.capabilities.tools is not None  # the server announced the tools capability
    assert init.instructions == INSTRUCTIONS

    tools: dict[str, mcp_types.Tool] = got["tools"]
    assert set(tools) == TOOLS
    for t in tools.values():
        jsonschema.Draft202012Validator.check_schema(t.input_schema)
        assert t.description
        assert t.annotations is not None
        assert t.annotations.read_only_hint is True
    k = tools["search_book"].input_schema["properties"]["k"]
    assert (k["minimum"], k["maximum"], k["default"]) == (1, 10, 3)
    assert tools["estimate_cost"].output_schema is not None  # structured output, with a schema

    search = got["search"]
    assert not search.is_error
    text = result_text(search)
    assert text.startswith("[")
    assert "#" in text.split("]")[0]
    assert "few-shot" in text.lower()
    assert text.count("(score ") == 2

    term = result_text(got["term"])
    assert term.startswith("Large language model (also: LLM)")

    cost = got["cost"]
    assert cost.structured_content["usd"] == str(estimate_cost("gpt-5-mini", 1000, 100))
    assert cost.structured_content["source"].startswith("https://")


def test_the_handshake_negotiates_2025_11_25_and_discover_speaks_2026_07_28(
    tmp_path: Path,
) -> None:
    async def body(session: ClientSession) -> tuple[str | None, list[str], str]:
        listing = await session.list_tools()
        term = await call(session, "lookup_term", term="RAG")
        return session.protocol_version, [t.name for t in listing.tools], result_text(term)

    legacy = with_server(body, tmp_path / "legacy.log", connect="initialize")
    modern = with_server(body, tmp_path / "modern.log", connect="discover")
    assert legacy[0] == "2025-11-25"  # the newest revision with an initialize handshake
    assert modern[0] == "2026-07-28"  # stateless: server/discover, no handshake
    assert legacy[1:] == modern[1:]  # the same tools and answers either way
    assert modern[2].startswith("Retrieval-augmented generation (also: RAG)")


def test_errors_come_back_as_error_results_the_model_can_read(tmp_path: Path) -> None:
    async def body(session: ClientSession) -> dict[str, mcp_types.CallToolResult]:
        return {
            "typo": await call(session, "lookup_term", term="Paramter"),
            "model": await call(
                session, "estimate_cost", model="gpt-0", input_tokens=1, output_tokens=1
            ),
            "k": await call(session, "search_book", query="BM25", k=50),
            "empty": await call(session, "search_book", query="  "),
            "negative": await call(
                session, "estimate_cost", model="gpt-5-mini", input_tokens=-1, output_tokens=1
            ),
            "unknown": await call(session, "delete_book"),
        }

    got = with_server(body, tmp_path / "server.log")
    assert all(r.is_error for r in got.values())
    typo = result_text(got["typo"])
    assert "'Paramter' is not in the glossary. Did you mean: " in typo
    assert "Parameter" in typo.split("Did you mean: ")[1].rstrip("?").split(", ")
    assert "no price on file for model 'gpt-0'" in result_text(got["model"])
    assert "less than or equal to 10" in result_text(got["k"])
    assert "query is empty" in result_text(got["empty"])
    assert "greater than or equal to 0" in result_text(got["negative"])
    assert "Unknown tool: delete_book" in result_text(got["unknown"])


def test_the_agent_loop_uses_mcp_tools_through_the_adapter(tmp_path: Path) -> None:
    async def body(session: ClientSession) -> tuple[Any, Any]:
        registry = await mcp_registry(session)
        llm = ScriptedLLM(
            [
                ToolCall("c1", "lookup_term", {"term": "LLM"}),
                ToolCall("c2", "lookup_term", {"term": "Paramter"}),
                "An LLM is a large language model.",
            ]
        )
        return registry, await run(llm, registry, "What is an LLM?")

    registry, result = with_server(body, tmp_path / "server.log")
    assert set(registry.names) == TOOLS
    assert not any(t.side_effect for t in registry)  # all announced read-only
    assert result.stop_reason == "answer"
    first, second = (t.results[0] for t in result.turns[:2])
    assert first.content.startswith("Large language model")
    assert not first.is_error
    assert second.is_error  # the server's isError became our error result
    assert second.content.startswith("tool 'lookup_term' failed: MCPToolError: ")
    assert "'Paramter' is not in the glossary" in second.content


def test_the_adapter_sanitises_names_and_treats_unannotated_tools_as_side_effecting() -> None:
    session = cast(ClientSession, None)  # no call is made
    remote = mcp_types.Tool(name="files.delete", input_schema={"type": "object"})
    t = tool_from_mcp(session, remote, prefix="fs_")
    assert (t.name, t.side_effect, t.spec.description) == ("fs_files_delete", True, "files.delete")
    safe = mcp_types.Tool(
        name="read",
        description="Read a file.",
        input_schema={"type": "object", "properties": {"path": {"type": "string"}}},
        annotations=mcp_types.ToolAnnotations(read_only_hint=True),
    )
    assert tool_from_mcp(session, safe).side_effect is False


def test_result_text_joins_text_and_names_other_content() -> None:
    result = mcp_types.CallToolResult(
        content=[
            mcp_types.TextContent(text="a"),
            mcp_types.ImageContent(data="", mime_type="image/png"),
        ]
    )
    assert result_text(result) == "a\n[image content]"
    structured = mcp_types.CallToolResult(content=[], structured_content={"x": 1})
    assert result_text(structured) == '{"x": 1}'


def test_book_index_and_glossary_in_process(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Alpha\n\nBM25 ranks by term frequency.\n", "utf-8")
    (tmp_path / "b.md").write_text("# Beta\n\nDense retrieval uses embeddings.\n", "utf-8")
    hits = BookIndex(tmp_path).search("embeddings", 3)
    assert [c.doc_id for c, _ in hits] == ["b"]
    assert format_hits(hits).startswith("[b#0] Beta (score ")
    glossary = tmp_path / "glossary.yml"
    glossary.write_text(
        "- term: Key-value cache\n  aliases: [KV cache]\n  area: Inference\n  see: sec-kv\n"
        "  definition: Stored keys and values.\n",
        "utf-8",
    )
    terms = Glossary(glossary)
    found = terms.lookup(" kv CACHE ")
    assert found is not None
    assert found.term == "Key-value cache"
    assert terms.close("kv cach") == ["Key-value cache"]  # codespell:ignore


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_tool_names_are_valid_for_both_providers(name: str) -> None:
    from llmprep.core.messages import ToolSpec

    ToolSpec(name, "x")  # raises if a provider would reject the name


class NoFilenoStream(io.StringIO):
    """Like a Jupyter kernel's stderr: a Python stream with no file descriptor behind it."""

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")


def test_default_server_log_works_when_stderr_has_no_file_descriptor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The book's chapters open sessions inside a kernel, where sys.stderr has no fileno();
    # spawning the server with it as stderr used to fail with UnsupportedOperation.
    monkeypatch.setattr(sys, "stderr", NoFilenoStream())

    async def scenario() -> set[str]:
        async with stdio_session(SERVER[0], SERVER[1:], cwd=ROOT) as session:
            return {t.name for t in (await session.list_tools()).tools}

    assert arun(scenario()) == TOOLS
