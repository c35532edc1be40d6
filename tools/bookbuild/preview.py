"""``make preview``: serve ``_book/`` on 127.0.0.1 and rebuild when a source changes.

A plain polling loop (no file-watching dependency): every second it compares the modification
times of the sources -- chapters, ``_quarto.yml``, the bibliography, data files, the ``llmprep``
package and the builder itself -- and rebuilds when one moved. A failed rebuild prints its error
and keeps serving the last good build.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path

from .build import BuildOptions, build
from .errors import BuildError

WATCHED = ("_quarto.yml", "*.qmd", "*.bib", "chapters", "slides", "code/llmprep", "tools/bookbuild")


def snapshot(root: Path) -> dict[str, float]:
    """Modification time of every watched file."""
    times: dict[str, float] = {}
    for pattern in WATCHED:
        for path in root.glob(pattern):
            files = path.rglob("*") if path.is_dir() else [path]
            for file in files:
                if file.is_file() and "__pycache__" not in file.parts:
                    times[str(file)] = file.stat().st_mtime
    return times


def _rebuild(root: Path) -> None:
    try:
        build(root, BuildOptions())
    except BuildError as error:
        print(f"error: {error.render()}\n(serving the previous build)", flush=True)


def serve(root: Path, port: int) -> None:
    root = root.resolve()
    _rebuild(root)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root / "_book"))
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
                _rebuild(root)
                seen = snapshot(root)
    finally:
        server.shutdown()
