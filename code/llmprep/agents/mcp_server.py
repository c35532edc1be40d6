"""A real MCP server: the book's search, glossary and cost table as tools any MCP host can use.

The Model Context Protocol (MCP) separates *who has the tools* from *who runs the model*: a
host (Claude Desktop, an IDE, your agent) starts an MCP client per server; the client and
server agree on a protocol version and on capabilities, then the client lists the server's
tools (`tools/list`) and calls them (`tools/call`). Up to protocol revision 2025-11-25 the
agreement is an `initialize` handshake at the start of a session; revision 2026-07-28 makes
the protocol stateless: no handshake, every request carries its version and capabilities in
`_meta`, and `server/discover` says what the server supports. The SDK serves both, so old
and new clients can connect. Over the stdio transport the host runs the server as a
subprocess and exchanges JSON-RPC messages with it, one per line, on stdin and stdout (so a
stdio server must never print to stdout).

This server is built on the official Python SDK (`mcp` 2.x, where the high-level server
class is `MCPServer`, formerly `FastMCP`). Like `@tool`, the SDK derives each tool's input
schema from type hints (here `Annotated[..., Field(...)]`, which adds descriptions and
bounds) and its description from the docstring. Three tools, all read-only (announced with
`readOnlyHint`; a hint only, which a host should trust no more than it trusts the server):

- `search_book(query, k)`: BM25 over the book's RAG corpus (`llmprep.rag`), chunked by
  Markdown section; hits come back with their chunk ids, for citation.
- `lookup_term(term)`: a glossary entry (`chapters/_data/glossary.yml`), by term or alias,
  case-insensitively, with close matches suggested when there is none.
  (Both share their index and glossary with `llmprep.agents.booktools`.)
- `estimate_cost(model, input_tokens, output_tokens)`: exact USD from the dated price table
  (`llmprep.core.pricing`), as structured content with an output schema.

A tool that fails raises; the SDK turns the exception into a result with `isError: true`, so
the model reads the message (as in our `ToolRegistry`). Run it with

    python -m llmprep.agents.mcp_server          # stdio; register this command in a host

Leaves out: resources and prompts (the other two server primitives), the streamable HTTP
transport and its OAuth authorisation, and progress notifications.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, TypedDict

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from llmprep.agents.booktools import GLOSSARY, BookIndex, Glossary, format_hits
from llmprep.core.pricing import PRICES, UnknownModelError, price_of

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
INSTRUCTIONS = (
    "Tools over the LLM Interview Prep book: search its text, look up glossary terms, and "
    "estimate the cost of a model call from a dated price table."
)


class CostEstimate(TypedDict):
    """The cost of one call, with the price it was computed from and where that came from."""

    model: str
    input_tokens: int
    output_tokens: int
    usd: str
    price_as_of: str
    source: str


def build_server(glossary: Path = GLOSSARY, corpus: Path | None = None) -> MCPServer:
    """The llmprep MCP server, with its three tools registered (see the module docstring)."""
    server: MCPServer = MCPServer(
        "llmprep", instructions=INSTRUCTIONS, version="0.1.0", log_level="WARNING"
    )
    index = BookIndex(corpus)
    terms = Glossary(glossary)

    @server.tool(annotations=READ_ONLY)
    def search_book(
        query: Annotated[str, Field(description="Words to search for; exact terms matter.")],
        k: Annotated[int, Field(description="How many passages to return.", ge=1, le=10)] = 3,
    ) -> str:
        """Search the text of the LLM Interview Prep book (BM25) and return the best passages."""
        if not query.strip():
            raise ToolError("query is empty: say what to search for")
        hits = index.search(query, k)
        return format_hits(hits) if hits else f"No passage of the book matches {query!r}."

    @server.tool(annotations=READ_ONLY)
    def lookup_term(
        term: Annotated[str, Field(description='The term, e.g. "KV cache" or "RAG".')],
    ) -> str:
        """Look up a term in the book's glossary, by name or alias, in any case."""
        try:
            return terms.describe(term)
        except LookupError as exc:
            raise ToolError(str(exc)) from None

    @server.tool(annotations=READ_ONLY)
    def estimate_cost(
        model: Annotated[str, Field(description=f"A model id: one of {', '.join(PRICES)}.")],
        input_tokens: Annotated[int, Field(description="Tokens in the prompt.", ge=0)],
        output_tokens: Annotated[int, Field(description="Tokens in the reply.", ge=0)],
    ) -> CostEstimate:
        """Estimate the exact USD cost of one model call from the book's dated price table."""
        try:
            price = price_of(model)
        except UnknownModelError as exc:
            raise ToolError(str(exc)) from None
        usd = price.cost(input_tokens, output_tokens)
        return CostEstimate(
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            usd=str(usd),
            price_as_of=price.as_of.isoformat(),
            source=price.source,
        )

    return server


def main() -> None:
    """Serve over stdio until the client closes stdin."""
    build_server().run("stdio")


if __name__ == "__main__":
    main()
