"""Real-browser fixtures: Debian's Chromium driven by Playwright, and a loopback web server.

Chromium is started with the flags that keep it from phoning home (background networking,
component updates, sync), so any request a page makes is the page's own doing -- which the tests
then check is never to a host other than the site's own.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bookbuild import toolchain
from bookbuild.build import BuildReport

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = toolchain.CHROMIUM
FLAGS = list(toolchain.CHROMIUM_FLAGS)  # the builder's own: no request leaves the machine


@dataclass
class Site:
    """A built web book, reachable both over http://127.0.0.1 and as file://."""

    name: str
    folder: Path
    http_base: str

    def url(self, page: str, mode: str) -> str:
        if mode == "http":
            return f"{self.http_base}/{page}"
        return (self.folder / page).as_uri()

    def pages(self) -> list[str]:
        """The web book's pages; slide decks (``slides/*.html``) are tested in test_slides.py."""
        return sorted(
            name
            for p in self.folder.rglob("*.html")
            if not (name := p.relative_to(self.folder).as_posix()).startswith("slides/")
        )


@dataclass
class Visit:
    """A loaded page and everything it did: requests made, console errors raised."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on a free loopback port; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests; closed when they end, because Playwright's sync API
    keeps an event loop running that would stop later tests from calling ``asyncio.run``."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make test` installs it (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def fixture_site(fixture_book_site: Path) -> Iterator[Site]:
    with serve(fixture_book_site) as base:
        yield Site("fixture", fixture_book_site, base)


@pytest.fixture(scope="session")
def book_site(real_book: BuildReport) -> Iterator[Site]:
    assert real_book.output is not None
    with serve(real_book.output) as base:
        yield Site("book", real_book.output, base)


@pytest.fixture(params=["fixture", "book"])
def site(request: pytest.FixtureRequest) -> Site:
    chosen: Site = request.getfixturevalue(f"{request.param}_site")
    return chosen


OpenPage = Callable[..., Visit]


@pytest.fixture
def open_page(browser: Any) -> Iterator[OpenPage]:
    contexts: list[Any] = []

    def open_(url: str, *, context: Any = None, width: int = 1280) -> Visit:
        if context is None:
            context = browser.new_context(viewport={"width": width, "height": 900})
            contexts.append(context)
        page = context.new_page()
        visit = Visit(page)
        page.on("request", lambda request: visit.requests.append(request.url))
        page.on(
            "console", lambda msg: visit.errors.append(msg.text) if msg.type == "error" else None
        )
        page.on("pageerror", lambda error: visit.errors.append(str(error)))
        page.goto(url, wait_until="load")
        return visit

    yield open_
    for context in contexts:
        context.close()


def is_local(url: str, site: Site) -> bool:
    return url.startswith(("file://", site.http_base + "/", "data:", "about:", "blob:"))


def serious_violations(page: Any) -> list[tuple[str, str, list[Any]]]:
    """axe-core's serious and critical violations on ``page``: (rule, impact, first targets)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
