"""What a long build is doing, for the person waiting, and how long each engine call took.

:class:`Progress` prints one line per stage with counts done and total, the item being worked on
and the elapsed time: a live, rewritten line on a terminal, plain lines in CI logs (any output
that is not a TTY). :class:`Trace` records every engine call (a kernel executing a chapter, a
pandoc, Typst or Chromium run) with its duration; ``make bench`` sums them to find the build's
irreducible engine time.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


@dataclass(slots=True)
class Trace:
    """Engine calls as (engine, what, seconds), in the order they finished."""

    calls: list[tuple[str, str, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def timed(self, engine: str, what: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(engine, what, time.perf_counter() - start)

    def add(self, engine: str, what: str, seconds: float) -> None:
        with self._lock:
            self.calls.append((engine, what, seconds))

    def write(self, path: Path) -> None:
        rows = [{"engine": e, "what": w, "seconds": s} for e, w, s in self.calls]
        path.write_text(json.dumps(rows, indent=1), encoding="utf-8")


TRACE = Trace()  # the process-wide trace; engines report here, a build resets it


class Progress:
    """``stage(name, total)`` then ``step(item)``; ``done()`` ends the stage's line."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.start = time.perf_counter()
        self.name = ""
        self.total = 0
        self.count = 0
        self._lock = threading.Lock()

    def _elapsed(self) -> str:
        return f"{time.perf_counter() - self.start:6.1f} s"

    def _write(self, text: str, *, final: bool) -> None:
        if self.live:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def stage(self, name: str, total: int) -> None:
        with self._lock:
            self.name, self.total, self.count = name, total, 0
            if self.live:
                self._write(f"[{self._elapsed()}] {name} 0/{total}", final=False)

    def step(self, item: str, note: str = "") -> None:
        with self._lock:
            self.count += 1
            extra = f" ({note})" if note else ""
            line = f"[{self._elapsed()}] {self.name} {self.count}/{self.total} {item}{extra}"
            self._write(line, final=not self.live)

    def done(self, summary: str = "") -> None:
        with self._lock:
            text = f"[{self._elapsed()}] {self.name}: {summary or f'{self.count}/{self.total}'}"
            self._write(text, final=True)

    def message(self, text: str) -> None:
        with self._lock:
            self._write(f"[{self._elapsed()}] {text}", final=True)


def quiet() -> Progress:
    """A progress reporter that prints nothing (tests read the build report instead)."""

    class _Null:
        def write(self, _: str) -> int:
            return 0

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    return Progress(_Null(), live=False)  # type: ignore[arg-type]


LogFunction = Callable[[str], None]
