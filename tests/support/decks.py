"""What a slide deck's source asks for, read without the builder: what its output must show."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^(#{1,2}) (.+?)(?:\s+\{.*\})?\s*$")


def deck_paths(root: Path) -> list[str]:
    """Every deck of a book: ``slides/*.qmd``, except partials (names starting with ``_``)."""
    folder = root / "slides"
    return sorted(
        p.relative_to(root).as_posix() for p in folder.glob("*.qmd") if not p.name.startswith("_")
    )


def front_matter(text: str) -> dict[str, Any]:
    """The YAML between the opening ``---`` and the next ``---`` line."""
    lines = text.splitlines()
    assert lines, "empty deck"
    assert lines[0].rstrip() == "---", "a deck starts with front matter"
    end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in {"---", "..."})
    data = yaml.safe_load("\n".join(lines[1:end])) or {}
    assert isinstance(data, dict)
    return data


def asked_options(text: str) -> dict[str, Any]:
    """The deck's settings as Quarto reads them: front matter, ``format: revealjs:`` winning."""
    meta = front_matter(text)
    fmt = meta.get("format")
    extra = fmt.get("revealjs") if isinstance(fmt, dict) else None
    return {k: v for k, v in meta.items() if k != "format"} | (extra or {})


def slide_headings(text: str) -> list[tuple[int, str]]:
    """(level, title) of every ``#`` (section slide) and ``##`` (slide) header outside code."""
    lines = text.splitlines()
    if lines and lines[0].rstrip() == "---":  # skip the front matter (its comments start "# ")
        lines = lines[
            next(i for i in range(1, len(lines)) if lines[i].rstrip() in {"---", "..."}) + 1 :
        ]
    fence = ""
    found = []
    for line in lines:
        if match := _FENCE.match(line):
            if not fence:
                fence = match[1]
            elif match[1].startswith(fence) and not line.strip().strip(fence[0]):
                fence = ""
        elif not fence and (match := _HEADING.match(line)):
            found.append((len(match[1]), match[2]))
    return found


def notes_count(text: str) -> int:
    """How many ``::: notes`` blocks the source has."""
    return len(re.findall(r"^:::+ *\{?\.?notes\}? *$", text, re.MULTILINE))
