"""One error type for everything that is wrong with the book's sources.

A build error always says *where*: the file (relative to the project root) and, when it is known,
the line. The command-line entry point prints it as ``file:line: message`` -- the format editors
and terminals turn into a clickable link -- and exits non-zero.
"""

from __future__ import annotations

from pathlib import Path


class BuildError(Exception):
    """A problem in the book's sources or toolchain, located in a file (and line if known)."""

    def __init__(
        self,
        message: str,
        file: str | Path | None = None,
        line: int | None = None,
        detail: str = "",
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.detail = detail
        super().__init__(self.render())

    def __reduce__(self) -> tuple[type[BuildError], tuple[str, str | None, int | None, str]]:
        # Errors cross process boundaries (chapters execute in worker processes).
        return (type(self), (self.message, self.file, self.line, self.detail))

    @property
    def location(self) -> str:
        """``file:line`` (or just ``file``) -- empty when the error has no source location."""
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def render(self) -> str:
        head = f"{self.location}: {self.message}" if self.location else self.message
        return f"{head}\n{self.detail.rstrip()}" if self.detail else head


def line_of(text: str, needle: str, start_line: int = 1) -> int | None:
    """The 1-based line of the first occurrence of ``needle`` in ``text`` (None if absent).

    Used when an engine reports *what* is wrong but not *where* (pandoc's AST has no source
    positions), so we can still point the author at a line.

    >>> line_of("a\\nb @key\\n", "@key")
    2
    """
    index = text.find(needle)
    if index < 0:
        return None
    return text.count("\n", 0, index) + start_line
