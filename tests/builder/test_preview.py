"""``make preview``: the served pages reload themselves after a rebuild; _book/ stays clean."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from bookbuild.preview import RELOAD_SCRIPT, VERSION_PATH, _handler, _Version, snapshot


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, _Version, Path]]:
    site = tmp_path / "_book"
    (site / "chapters").mkdir(parents=True)
    (site / "index.html").write_text("<html><body><p>Home</p></body></html>")
    (site / "chapters" / "a.html").write_text("<html><body>A</body></html>")
    (site / "data.json").write_text("{}")
    version = _Version()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site, version))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", version, site
    finally:
        server.shutdown()


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode("utf-8"))


def test_pages_are_served_with_the_reload_script_but_not_written_with_it(
    served: tuple[str, _Version, Path],
) -> None:
    base, _, site = served
    assert get(base + "/").endswith(RELOAD_SCRIPT + "</body></html>")
    assert RELOAD_SCRIPT in get(base + "/chapters/a.html")
    assert get(base + "/data.json") == "{}"
    assert RELOAD_SCRIPT not in (site / "index.html").read_text()


def test_the_version_changes_when_a_rebuild_is_published(
    served: tuple[str, _Version, Path],
) -> None:
    base, version, _ = served
    before = get(base + VERSION_PATH)
    assert get(base + VERSION_PATH) == before
    version.bump()
    assert get(base + VERSION_PATH) != before


def test_snapshot_sees_sources_but_not_outputs_or_caches(tmp_path: Path) -> None:
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "a.qmd").write_text("# A\n")
    for ignored in ("_book", "_freeze", ".build", ".venv", "node_modules"):
        (tmp_path / ignored).mkdir()
        (tmp_path / ignored / "x.txt").write_text("x")
    assert sorted(Path(p).relative_to(tmp_path).as_posix() for p in snapshot(tmp_path)) == [
        "chapters/a.qmd"
    ]
