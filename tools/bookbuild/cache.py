"""A content-addressed cache for everything a build produces after execution.

The freeze (:mod:`bookbuild.freeze`) saves kernels; this saves engines. Every pandoc, Typst and
Chromium step is wrapped in :meth:`OutputCache.get`: its key is a hash of *everything the step
reads* -- its input text, its arguments, the filter and template files it loads, the figures it
embeds, the engine's version -- and its result is stored under that key in ``.build/cache/``.
So a no-op build runs no engine at all, and a prose edit of one chapter re-runs only the steps
whose inputs changed (that page, the search index, the PDF and EPUB assembly), whatever the
format. Keys are computed, never declared, which is what keeps the cache from going stale: a
step that forgets an input in its key is a bug in that step, visible in one place.

Every key is also salted with the builder itself (its Python modules, Lua filters, templates
and assets): a change to the code that turns inputs into outputs invalidates every output, so
a step never needs to remember to key on its own implementation.

Entries are written atomically and never modified, so a built file can be hard-linked from the
cache into the output folder instead of copied.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

CACHE_DIR = ".build/cache"


def sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


@cache
def file_sha(path: Path, stamp: tuple[int, int]) -> str:
    """Content hash of a file, memoised on its (size, mtime) within one process."""
    return sha(path.read_bytes())


def files_key(paths: Iterable[Path]) -> str:
    """One hash over several files' names and contents (missing files count as missing)."""
    parts = []
    for path in sorted(paths):
        try:
            stat = path.stat()
            parts.append(f"{path}\0{file_sha(path, (stat.st_size, stat.st_mtime_ns))}")
        except FileNotFoundError:
            parts.append(f"{path}\0missing")
    return sha("\n".join(parts))


def key(*parts: object) -> str:
    """A cache key from JSON-serialisable parts (order matters)."""
    return sha(json.dumps(parts, sort_keys=True, default=str))


@cache
def builder_digest() -> str:
    """One hash over the builder's own files (everything under ``bookbuild/`` but caches)."""
    here = Path(__file__).resolve().parent
    files = [p for p in here.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return files_key(files)


@dataclass(slots=True)
class OutputCache:
    """``get(kind, key, make)``: the bytes ``make()`` produced for this key, made at most once."""

    root: Path
    refresh: bool = False
    hits: int = 0
    misses: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def path(self, kind: str, digest: str) -> Path:
        name = sha(builder_digest() + digest) + Path(digest).suffix  # keep an extension
        return self.root / CACHE_DIR / kind / name[:2] / name

    def get(self, kind: str, digest: str, make: Callable[[], bytes]) -> bytes:
        path = self.path(kind, digest)
        if not self.refresh and path.is_file():
            with self._lock:
                self.hits += 1
            return path.read_bytes()
        data = make()
        self.put(path, data)
        with self._lock:
            self.misses.append(kind)
        return data

    def get_text(self, kind: str, digest: str, make: Callable[[], str]) -> str:
        return self.get(kind, digest, lambda: make().encode("utf-8")).decode("utf-8")

    def put(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def place(self, kind: str, digest: str, make: Callable[[], bytes], target: Path) -> None:
        """Put the cached result at ``target``: a hard link when possible, else a copy."""
        self.get(kind, digest, make)
        link(self.path(kind, digest), target)


def link(source: Path, target: Path) -> None:
    """Hard-link ``source`` to ``target`` (falling back to a copy across file systems)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
