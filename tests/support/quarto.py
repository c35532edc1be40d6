"""Hold a project's sources to the names Quarto's schema accepts, reporting ``file:line``.

The names come from ``tools/bookbuild/quarto-names.json`` (extracted from Quarto's schema files).
This checker reads the sources itself, independently of the builder: the builder accepts a subset
of Quarto, and what is checked here is that the sources stay valid Quarto, whatever the builder
does. It checks

* ``_quarto.yml``: top-level keys, ``project:`` keys, ``book:`` keys and the options under each
  ``format:``;
* every ``.qmd``'s front matter, including the options under its ``format:``;
* every ``#|`` option of every executable cell (```` ```{python} ````; a fence nested in a longer
  fence only *shows* a cell, so it is not checked);
* callout types (``.callout-…``) and cross-reference prefixes (``@fig-…``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Names = dict[str, frozenset[str]]
Entry = tuple[str, int, yaml.Node]  # a mapping key, its line in the file, its value

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})\s*(?P<info>.*?)\s*$")
_CELL_INFO = re.compile(r"^\{[A-Za-z0-9_+-]+[^{}]*\}$")  # {python}, {r echo=FALSE}; not {=typst}
_CALLOUT = re.compile(r"\.callout-([a-z]+)")
_CROSSREF = re.compile(r"(?<![\w@])-?@([a-z]+)-[\w-]+")
SOURCE_PATTERNS = ("*.qmd", "chapters/**/*.qmd", "slides/*.qmd")


@dataclass(frozen=True, order=True, slots=True)
class Problem:
    """One name Quarto would not accept, and where it is."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def load_names(path: Path) -> Names:
    """The lists of names in a ``quarto-names.json`` (its prose ``about`` entry left out)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return {key: frozenset(value) for key, value in data.items() if isinstance(value, list)}


def listed_chapters(config: Any) -> list[str]:
    """The chapter files ``book.chapters`` (and ``book.appendices``) list, parts flattened."""

    def walk(items: Any) -> Iterator[str]:
        for item in items or []:
            if isinstance(item, str):
                yield item
            elif isinstance(item, dict):
                yield from walk(item.get("chapters"))

    book = (config or {}).get("book") or {}
    return [*walk(book.get("chapters")), *walk(book.get("appendices"))]


def sources(root: Path) -> list[str]:
    """Every ``.qmd`` of the project: at the root, under ``chapters/``, ``slides/``, or listed."""
    found = {p.relative_to(root).as_posix() for pat in SOURCE_PATTERNS for p in root.glob(pat)}
    config = root / "_quarto.yml"
    if config.exists():
        found |= set(listed_chapters(yaml.safe_load(config.read_text(encoding="utf-8"))))
    return sorted(found)


def check_project(root: Path, names: Names) -> list[Problem]:
    """Every problem in ``root/_quarto.yml`` and in every source :func:`sources` finds."""
    problems = check_config(root, names)
    for path in sources(root):
        file = root / path
        if not file.exists():
            problems.append(Problem(path, 1, "listed in _quarto.yml but does not exist"))
            continue
        problems += check_qmd(file.read_text(encoding="utf-8"), path, names)
    return problems


def check_config(root: Path, names: Names) -> list[Problem]:
    file = "_quarto.yml"
    path = root / file
    if not path.exists():
        return [Problem(file, 1, "missing")]
    top, problems = _compose(path.read_text(encoding="utf-8"), file, 1)
    allowed = names["project_top_level_keys"] | names["document_options"]
    for key, line, value in top:
        if key not in allowed:
            problems.append(Problem(file, line, f"unknown top-level key '{key}'"))
        elif key == "project":
            problems += _unknown(value, names["project_keys"], file, 1, "project key")
        elif key == "book":
            problems += _unknown(value, names["book_keys"], file, 1, "book key")
        elif key == "format":
            problems += _formats(value, names, file, 1)
    return problems


def check_qmd(text: str, file: str, names: Names) -> list[Problem]:
    """Every problem in one ``.qmd`` (``file`` names it in the problems)."""
    lines = text.splitlines()
    problems: list[Problem] = []
    body = 0
    if lines and lines[0].rstrip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in {"---", "..."}), None)
        if end is None:
            return [Problem(file, 1, "front matter is never closed")]
        meta, problems = _compose("\n".join(lines[1:end]), file, 2)
        for key, line, value in meta:
            if key not in names["document_options"]:
                problems.append(Problem(file, line, f"unknown front-matter key '{key}'"))
            elif key == "format":
                problems += _formats(value, names, file, 2)
        body = end + 1
    problems += _cell_options(lines, body, file, names)
    for number, text_line in enumerate(lines, start=1):
        for kind in _CALLOUT.findall(text_line):
            if kind not in names["callout_types"]:
                problems.append(Problem(file, number, f"unknown callout type 'callout-{kind}'"))
        for prefix in _CROSSREF.findall(text_line):
            if prefix not in names["crossref_prefixes"]:
                problems.append(Problem(file, number, f"unknown cross-reference prefix '{prefix}'"))
    return problems


def cells(lines: list[str], start: int = 0) -> list[tuple[int, list[str]]]:
    """(line of the opening fence, body lines) of every executable cell from ``lines[start]``.

    Cells are ```` ```{python} ```` fences (any ``{lang}``); a fence inside a longer fence is
    text, which is how a chapter shows a cell without running it.
    """
    found: list[tuple[int, list[str]]] = []
    i = start
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match["fence"]
        end = next(
            (
                j
                for j in range(i + 1, len(lines))
                if (s := lines[j].strip()) and set(s) == {fence[0]} and len(s) >= len(fence)
            ),
            len(lines),
        )
        if _CELL_INFO.match(match["info"]):
            found.append((i + 1, lines[i + 1 : end]))
        i = end + 1
    return found


def _cell_options(lines: list[str], start: int, file: str, names: Names) -> list[Problem]:
    problems: list[Problem] = []
    for fence_line, body in cells(lines, start):
        options = []
        prefix = "//|" if body and body[0].startswith("//|") else "#|"  # {dot} cells use //|
        for line in body:
            if not line.startswith(prefix):
                break
            options.append(line[len(prefix) :].removeprefix(" "))
        found, errors = _compose("\n".join(options), file, fence_line + 1)
        problems += errors
        problems += [
            Problem(file, line, f"unknown cell option '{key}'")
            for key, line, _ in found
            if key not in names["cell_options_jupyter"]
        ]
    return problems


def _compose(text: str, file: str, first_line: int) -> tuple[list[Entry], list[Problem]]:
    """The keys of a YAML mapping with their file lines; ``first_line`` is where ``text`` starts."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        return [], [Problem(file, line, f"malformed YAML: {exc.problem or exc.context}")]
    if node is None:
        return [], []
    if not isinstance(node, yaml.MappingNode):
        return [], [Problem(file, first_line + node.start_mark.line, "expected a YAML mapping")]
    return _entries(node, first_line), []


def _entries(node: yaml.MappingNode, first_line: int) -> list[Entry]:
    return [(str(k.value), first_line + k.start_mark.line, v) for k, v in node.value]


def _unknown(
    node: yaml.Node, allowed: frozenset[str], file: str, first_line: int, what: str
) -> list[Problem]:
    if not isinstance(node, yaml.MappingNode):
        return []
    return [
        Problem(file, line, f"unknown {what} '{key}'")
        for key, line, _ in _entries(node, first_line)
        if key not in allowed
    ]


def _formats(node: yaml.Node, names: Names, file: str, first_line: int) -> list[Problem]:
    """The options under each format of a ``format:`` mapping (``format: html`` has none)."""
    if not isinstance(node, yaml.MappingNode):
        return []
    problems: list[Problem] = []
    for fmt, _, options in _entries(node, first_line):
        what = f"{fmt} format option"
        problems += _unknown(options, names["document_options"], file, first_line, what)
    return problems
