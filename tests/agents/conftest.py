"""Shared helpers for the agents tests: running coroutines, a few tools, HTTP at the transport.

The provider tests hand the real OpenAI and Anthropic SDK clients an `httpx2.AsyncClient`
whose transport is an `httpx2.MockTransport` (as `tests/core` does): the SDKs build, send and
parse real HTTP, and nothing leaves the process.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx2

from llmprep.agents.registry import ToolRegistry
from llmprep.agents.tools import tool


def run[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine to completion on a fresh event loop (no pytest-asyncio needed)."""
    return asyncio.run(coro)


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: The first addend.
        b: The second addend.
    """
    return a + b


@tool
async def weather(city: str) -> dict[str, Any]:
    """Current weather for a city.

    Args:
        city: The city, e.g. "Oslo".
    """
    if city == "Atlantis":
        raise LookupError(f"no weather station in {city}")
    return {"city": city, "temp_c": len(city)}


def registry() -> ToolRegistry:
    return ToolRegistry([add, weather])


@dataclass
class FakeServer:
    """Answers each request with the next queued reply and remembers what it was sent."""

    replies: list[httpx2.Response]
    requests: list[httpx2.Request] = field(default_factory=list)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.replies.pop(0)

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle))

    def body(self, i: int) -> dict[str, Any]:
        """The JSON body of request `i`."""
        body: dict[str, Any] = json.loads(self.requests[i].content)
        return body


def json_response(payload: object, status: int = 200) -> httpx2.Response:
    return httpx2.Response(status, json=payload)
