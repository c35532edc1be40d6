"""The question bank and the glossary: load, validate and render the book's study data.

Both live as YAML under ``chapters/_data/`` (``questions/<topic>.yml`` and ``glossary.yml``) so
that one source feeds the chapters, the flashcards and the tests. Loading validates every entry
and reports a problem as ``file:line``, because a typo in a data file should be as easy to find
as a typo in code. A question's follow-ups are ``{question, see}`` mappings: each names the
section that answers it, so a follow-up can only promise depth the book actually has.

What it does not do: decide what a good answer is. Length limits and required fields keep the
entries in shape; the prose is the authors' job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

Topic = Literal[
    "foundations",
    "prompting",
    "rag",
    "agents",
    "production",
    "system-design",
    "behavioral",
    "training",
    "inference",
    "reasoning",
]
Level = Literal["core", "senior", "staff"]
FILE_TOPICS: dict[str, tuple[str, ...]] = {"interview": ("system-design", "behavioral")}
"""Topic files that hold more than one topic: the interview topic's file holds the
system-design and behavioral questions. Every other ``<topic>.yml`` holds its own topic."""
TOPICS: tuple[str, ...] = get_args(Topic)
LEVELS: tuple[str, ...] = get_args(Level)
_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SECTION = re.compile(r"^sec-[A-Za-z0-9_-]+$")
ANSWER_WORDS = (60, 250)


class BankError(ValueError):
    """A malformed entry in a study-data file, located as ``file:line``."""

    def __init__(self, file: Path | str, line: int, message: str) -> None:
        self.file, self.line = str(file), line
        super().__init__(f"{file}:{line}: {message}")


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A question an interviewer may ask next, and the section whose text answers it."""

    question: str
    see: str


@dataclass(frozen=True, slots=True)
class Question:
    """One interview question with a model answer (Markdown) and where the book teaches it."""

    id: str
    topic: Topic
    level: Level
    question: str
    answer: str
    follow_ups: tuple[FollowUp, ...]
    see: str


@dataclass(frozen=True, slots=True)
class Term:
    """One glossary entry: a term, its definition (Markdown), its area and its section."""

    term: str
    definition: str
    area: str
    see: str
    aliases: tuple[str, ...] = ()


def _entries(path: Path) -> list[tuple[int, dict[str, Any], yaml.Node]]:
    """(line, mapping, node) for each item of the YAML list in ``path``.

    The node is kept so that a problem inside an entry (one bad follow-up) can be reported at
    its own line rather than at the entry's first line.
    """
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise BankError(
            path, (mark.line + 1) if mark else 1, f"malformed YAML: {exc.problem}"
        ) from None
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise BankError(path, root.start_mark.line + 1, "expected a list of entries")
    out = []
    for node in root.value:
        line = node.start_mark.line + 1
        # subtle: composing checks only the syntax. Building the values can still fail (an
        # unknown tag such as !!python/object, an impossible date such as 2026-02-30), so
        # each entry is built on its own, and a failure is reported at that entry.
        try:
            value = yaml.SafeLoader("").construct_document(node)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = (mark.line + 1) if mark else line
            raise BankError(path, where, f"malformed YAML: {exc.problem}") from None
        except ValueError as exc:
            raise BankError(path, line, f"malformed YAML: {exc}") from None
        if not isinstance(value, dict):
            raise BankError(path, line, "each entry must be a mapping")
        out.append((line, value, node))
    return out


def _text(entry: Mapping[str, Any], key: str, path: Path, line: int) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BankError(path, line, f"'{key}' must be a non-empty string")
    return value.strip()


def _strings(entry: Mapping[str, Any], key: str, path: Path, line: int) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BankError(path, line, f"'{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _check_keys(
    entry: Mapping[str, Any], allowed: set[str], path: Path, line: int, what: str = ""
) -> None:
    if unknown := set(entry) - allowed:
        raise BankError(path, line, f"{what}unknown field(s): {', '.join(sorted(unknown))}")


def _item_lines(node: yaml.Node, key: str) -> list[int]:
    """The line of each item of the list stored under ``key`` in a mapping node."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key and isinstance(value_node, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in value_node.value]
    return []


def _follow_ups(
    entry: Mapping[str, Any], node: yaml.Node, path: Path, line: int
) -> tuple[FollowUp, ...]:
    """The entry's follow-ups, each ``{question, see}``; errors point at the follow-up's line."""
    value = entry.get("follow_ups", [])
    if not isinstance(value, list):
        raise BankError(path, line, "'follow_ups' must be a list of {question, see} mappings")
    lines = _item_lines(node, "follow_ups")
    follow_ups = []
    for number, item in enumerate(value, start=1):
        where = lines[number - 1] if number <= len(lines) else line
        what = f"follow-up {number}: "
        if isinstance(item, str):
            raise BankError(
                path,
                where,
                f"{what}a bare string; write it as {{question: ..., see: sec-...}}, naming the "
                "section that answers it",
            )
        if not isinstance(item, dict):
            raise BankError(path, where, f"{what}must be a mapping {{question: ..., see: sec-...}}")
        _check_keys(item, {"question", "see"}, path, where, what)
        question, see = item.get("question"), item.get("see")
        if not isinstance(question, str) or not question.strip():
            raise BankError(path, where, f"{what}'question' must be a non-empty string")
        if not isinstance(see, str) or not _SECTION.match(see.strip()):
            raise BankError(path, where, f"{what}see {see!r} is not a section label (sec-...)")
        follow_ups.append(FollowUp(question=question.strip(), see=see.strip()))
    return tuple(follow_ups)


def load_questions(path: Path) -> list[Question]:
    """Questions from one ``questions/<topic>.yml`` file, validated."""
    return [question for _, question in _located_questions(path)]


def _located_questions(path: Path) -> list[tuple[int, Question]]:
    """(line, question) for each entry of ``path``, validated."""
    questions = []
    allowed = {"id", "topic", "level", "question", "answer", "follow_ups", "see"}
    for line, entry, node in _entries(path):
        _check_keys(entry, allowed, path, line)
        ident = _text(entry, "id", path, line)
        if not _KEBAB.match(ident):
            raise BankError(path, line, f"id '{ident}' is not kebab-case")
        topic, level = entry.get("topic"), entry.get("level")
        if topic not in TOPICS:
            raise BankError(path, line, f"topic {topic!r} is not one of {', '.join(TOPICS)}")
        if level not in LEVELS:
            raise BankError(path, line, f"level {level!r} is not one of {', '.join(LEVELS)}")
        answer = _text(entry, "answer", path, line)
        words = len(answer.split())
        if not ANSWER_WORDS[0] <= words <= ANSWER_WORDS[1]:
            low, high = ANSWER_WORDS
            raise BankError(path, line, f"answer has {words} words; keep it within {low}-{high}")
        see = _text(entry, "see", path, line)
        if not _SECTION.match(see):
            raise BankError(path, line, f"see '{see}' is not a section label (sec-...)")
        questions.append(
            (
                line,
                Question(
                    id=ident,
                    topic=topic,
                    level=level,
                    question=_text(entry, "question", path, line),
                    answer=answer,
                    follow_ups=_follow_ups(entry, node, path, line),
                    see=see,
                ),
            )
        )
    return questions


def load_question_bank(folder: Path) -> list[Question]:
    """Every question under ``folder`` (files starting with ``_`` skipped); ids must be unique."""
    questions: list[Question] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.yml")):
        if path.name.startswith("_"):
            continue
        for line, question in _located_questions(path):
            if question.id in seen:
                raise BankError(
                    path, line, f"duplicate id '{question.id}' (also at {seen[question.id]})"
                )
            seen[question.id] = f"{path}:{line}"
            questions.append(question)
    return questions


def load_glossary(path: Path) -> list[Term]:
    """Every glossary entry, validated; terms and aliases must be unique (case-insensitively)."""
    terms: list[Term] = []
    seen: dict[str, int] = {}
    allowed = {"term", "definition", "area", "see", "aliases"}
    for line, entry, _ in _entries(path):
        _check_keys(entry, allowed, path, line)
        term = Term(
            term=_text(entry, "term", path, line),
            definition=_text(entry, "definition", path, line),
            area=_text(entry, "area", path, line),
            see=_text(entry, "see", path, line),
            aliases=_strings(entry, "aliases", path, line),
        )
        if not _SECTION.match(term.see):
            raise BankError(path, line, f"see '{term.see}' is not a section label (sec-...)")
        for name in (term.term, *term.aliases):
            key = name.casefold()
            if key in seen:
                raise BankError(path, line, f"'{name}' is already defined at line {seen[key]}")
            seen[key] = line
        terms.append(term)
    return terms


def glossary_markdown(terms: Iterable[Term], areas: Iterable[str] | None = None) -> str:
    """The glossary as Markdown: one section per area, terms alphabetical, each with its link.

    ``areas`` fixes the order of the sections (default: alphabetical). The link is a Quarto
    cross-reference (``@sec-…``), so it reads "Section 1.4" and points at the teaching section.
    """
    order = list(areas) if areas is not None else None
    by_area = sorted(terms, key=lambda t: (_area_rank(t.area, order), t.term.casefold()))
    parts = []
    for area, group in groupby(by_area, key=lambda t: t.area):
        parts.append(f"## {area}\n")
        for term in group:
            aliases = f" (also: {', '.join(term.aliases)})" if term.aliases else ""
            parts.append(f"**{term.term}**{aliases}\n:   {term.definition} See @{term.see}.\n")
    return "\n".join(parts)


def _area_rank(area: str, order: list[str] | None) -> tuple[int, str]:
    if order is None:
        return (0, area)
    return (order.index(area) if area in order else len(order), area)
