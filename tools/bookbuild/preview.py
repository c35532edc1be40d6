"""``make preview``: serve ``_book/`` on 127.0.0.1, rebuild when a source changes, reload the page.

A plain polling loop (no file-watching dependency): every second it compares the modification
times of every file in the project (except outputs, caches and environments) and rebuilds when
one moved. The caches make that rebuild do only what the change needs -- a prose edit re-renders
one page, the search index, the PDF and EPUB. A failed rebuild prints its error and keeps
serving the last good build.

Pages are served with a few lines of script added (never written into ``_book/``): the open page
asks ``/__bookbuild__/version`` once a second and reloads itself when a build has finished.
"""

from __future__ import annotations

import http.server
import os
import threading
import time
from pathlib import Path
from typing import Any, override

from .build import BuildOptions, build
from .errors import BuildError
from .execute import IGNORED_DIRS

VERSION_PATH = "/__bookbuild__/version"
RELOAD_SCRIPT = (
    "<script>(() => { let seen = null; setInterval(async () => { try {"
    f" const r = await fetch('{VERSION_PATH}', {{cache: 'no-store'}});"
    " const v = await r.text(); if (seen !== null && v !== seen) location.reload(); seen = v;"
    " } catch (e) {} }, 1000); })();</script>"
)


def snapshot(root: Path) -> dict[str, int]:
    """Modification time of every source file of the project."""
    times: dict[str, int] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS and d != "__pycache__"]
        for name in files:
            path = os.path.join(folder, name)
            try:
                times[path] = os.stat(path).st_mtime_ns
            except FileNotFoundError:
                continue
    return times


class _Version:
    """A counter the page polls: it changes when a rebuild has published a new ``_book``."""

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


def _handler(site: Path, version: _Version) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        @override
        def do_GET(self) -> None:
            if self.path == VERSION_PATH:
                self._send(str(version.value).encode(), "text/plain")
                return
            target = Path(self.translate_path(self.path))
            if target.is_dir():
                target = target / "index.html"
            if target.suffix == ".html" and target.is_file():
                html = target.read_text(encoding="utf-8")
                page = html.replace("</body>", RELOAD_SCRIPT + "</body>", 1)
                self._send(page.encode(), "text/html; charset=utf-8")
                return
            super().do_GET()

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        @override
        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _rebuild(root: Path, version: _Version) -> None:
    try:
        build(root, BuildOptions())
        version.bump()
    except BuildError as error:
        print(f"error: {error.render()}\n(serving the previous build)", flush=True)


def serve(root: Path, port: int) -> None:
    root = root.resolve()
    version = _Version()
    _rebuild(root, version)
    handler = _handler(root / "_book", version)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"serving http://127.0.0.1:{port}/ (Ctrl+C to stop)", flush=True)
    seen = snapshot(root)
    try:
        while True:
            time.sleep(1)
            now = snapshot(root)
            if now != seen:
                print("change detected, rebuilding...", flush=True)
                _rebuild(root, version)
                seen = snapshot(root)
    finally:
        server.shutdown()
