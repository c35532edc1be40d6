"""Shared helpers for the core tests: running coroutines, and HTTP mocked at the transport.

The adapters are tested against the real SDK clients. Both SDKs send requests through
`httpx2` (the successor of httpx they moved to), so we hand each client an
`httpx2.AsyncClient` whose transport is an `httpx2.MockTransport`: the SDK builds, sends and
parses real HTTP, and nothing leaves the process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import AsyncIterable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx2

# The adapter tests need the optional SDKs; skip them cleanly where those are not installed.
collect_ignore = [
    test
    for test, module in (
        ("test_openai_adapter.py", "openai"),
        ("test_anthropic_adapter.py", "anthropic"),
    )
    if importlib.util.find_spec(module) is None
]


def run[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine to completion on a fresh event loop (no pytest-asyncio needed)."""
    return asyncio.run(coro)


async def to_list[T](items: AsyncIterable[T]) -> list[T]:
    return [item async for item in items]


type Reply = httpx2.Response | Exception


@dataclass
class FakeServer:
    """Answers each request with the next queued reply and remembers what it was sent."""

    replies: list[Reply]
    requests: list[httpx2.Request] = field(default_factory=list)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle))

    @property
    def body(self) -> dict[str, Any]:
        """The JSON body of the last request."""
        body: dict[str, Any] = json.loads(self.requests[-1].content)
        return body


def json_response(payload: object, status: int = 200, **headers: str) -> httpx2.Response:
    return httpx2.Response(status, json=payload, headers=headers)


def sse_response(events: Iterable[str]) -> httpx2.Response:
    """A server-sent-events body: each event separated by a blank line."""
    body = "".join(f"{event}\n\n" for event in events)
    return httpx2.Response(
        200, content=body.encode(), headers={"content-type": "text/event-stream"}
    )
