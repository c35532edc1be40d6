"""The "Interview questions" chapter as Markdown: the bank, the rapid-fire list, the drills.

The chapter's cells print what these functions return (``#| output: asis``), so pandoc renders
the answers (Markdown with math and code) like any other text, and the page changes whenever a
question file does. The layout is fixed here, once:

    ## <topic> {#sec-questions-<topic>}      one section per topic, in study order
    **Core** (n)                             levels as bold paragraphs, not headings: the page
    ::: {.callout-note collapse="true" ...}  holds hundreds of questions and a heading each
      <model answer>                          would bury the table of contents
    :::
    Taught in @sec-x. Follow-ups: ...        visible under the fold, each with its section

Every function takes the questions it renders, so the tests run on constructed banks and the
chapter on whatever the YAML files hold (a topic with no questions yet gets a one-line note).

Leaves out: choosing which questions to show (the self-quiz does that, `llmprep.interview.quiz`)
and checking that sections exist (the build's cross-reference check does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmprep.book.bank import LEVELS, Question

TOPIC_ORDER: tuple[str, ...] = (
    "foundations",
    "prompting",
    "rag",
    "agents",
    "production",
    "training",
    "inference",
    "reasoning",
    "system-design",
    "behavioral",
)
"""The book's study order, deep dives after production, then the interview-only topics."""

TOPIC_TITLES: Mapping[str, str] = {
    "foundations": "Foundations",
    "prompting": "Prompting and structured output",
    "rag": "Retrieval-augmented generation",
    "agents": "Agents",
    "production": "Production, evaluation and safety",
    "training": "Training and fine-tuning",
    "inference": "Inference optimization",
    "reasoning": "Reasoning models",
    "system-design": "System design",
    "behavioral": "Behavioral and project questions",
}

TOPIC_CHAPTERS: Mapping[str, tuple[str, ...]] = {
    "foundations": ("sec-how-llms-work", "sec-key-terminology"),
    "prompting": ("sec-prompt-techniques", "sec-prompt-patterns", "sec-prompting-in-code"),
    "rag": ("sec-rag-concepts", "sec-rag-architecture", "sec-rag-in-code"),
    "agents": ("sec-agent-concepts", "sec-agent-patterns", "sec-agents-in-code"),
    "production": ("sec-production-guide", "sec-evaluation-and-safety", "sec-production-code"),
    "training": ("sec-training-deep-dive",),
    "inference": ("sec-inference-deep-dive",),
    "reasoning": ("sec-reasoning-deep-dive",),
    "system-design": ("sec-system-design",),
    "behavioral": ("sec-interview-practice",),
}
"""The chapters that teach each topic, linked from the top of its section."""

LEVEL_TITLES: Mapping[str, str] = {"core": "Core", "senior": "Senior", "staff": "Staff"}


def topic_title(topic: str) -> str:
    """The section title of a topic; an unknown slug gets its words capitalized."""
    return TOPIC_TITLES.get(topic, topic.replace("-", " ").capitalize())


def topic_order(questions: Iterable[Question]) -> list[str]:
    """Every known topic in study order, then any other topic the questions use, sorted.

    Known topics appear even with no questions, so their fixed section ids always exist.
    """
    extra = sorted({q.topic for q in questions} - set(TOPIC_ORDER))
    return [*TOPIC_ORDER, *extra]


def _rank(order: Sequence[str], value: str) -> int:
    return order.index(value) if value in order else len(order)


def ordered(questions: Iterable[Question]) -> list[Question]:
    """Questions by topic (study order), then level (core, senior, staff); the bank's order
    within a level is kept, since authors order their files on purpose."""
    items = list(questions)
    topics = topic_order(items)
    return sorted(items, key=lambda q: (_rank(topics, q.topic), _rank(LEVELS, q.level)))


def counts(questions: Iterable[Question]) -> dict[str, dict[str, int]]:
    """topic -> level -> number of questions, for every topic of `topic_order` and every level."""
    items = list(questions)
    table = {topic: dict.fromkeys(LEVELS, 0) for topic in topic_order(items)}
    for q in items:
        table[q.topic][q.level] = table[q.topic].get(q.level, 0) + 1
    return table


def counts_table(questions: Iterable[Question]) -> str:
    """A Markdown pipe table: one row per topic, one column per level, totals, its section."""
    table = counts(questions)
    head = " | ".join(LEVEL_TITLES.get(level, level) for level in LEVELS)
    lines = [f"| Topic | {head} | Total | Section |", "|:--|" + "--:|" * (len(LEVELS) + 1) + ":--|"]
    for topic, row in table.items():
        cells = " | ".join(str(row[level]) for level in LEVELS)
        total = sum(row.values())
        lines.append(f"| {topic_title(topic)} | {cells} | {total} | @sec-questions-{topic} |")
    sums = " | ".join(str(sum(row[level] for row in table.values())) for level in LEVELS)
    grand = sum(sum(row.values()) for row in table.values())
    lines.append(f"| **All topics** | {sums} | **{grand}** | |")
    return "\n".join(lines)


def attribute(text: str) -> str:
    """``text`` as the value of a double-quoted Pandoc attribute (backslash and quote escaped),
    on one line.

    Example: attribute('Say "hi"') == 'Say \\\\"hi\\\\"'
    """
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')


def _one_line(text: str) -> str:
    """Text joined onto one line, so no line of it can start a list or a block by accident."""
    return " ".join(text.split())


def question_markdown(question: Question) -> str:
    """One question: its text as a folded callout's title, the answer inside, then (visible)
    the section that teaches it and each follow-up with the section that answers it."""
    parts = [
        f'::: {{.callout-note collapse="true" title="{attribute(question.question)}"}}',
        question.answer.strip(),
        ":::",
        "",
    ]
    if question.follow_ups:
        parts.append(f"Taught in @{question.see}. Follow-ups:")
        parts.append("")
        parts.extend(f"- {_one_line(f.question)} See @{f.see}." for f in question.follow_ups)
    else:
        parts.append(f"Taught in @{question.see}.")
    return "\n".join(parts) + "\n"


def topic_markdown(topic: str, questions: Iterable[Question]) -> str:
    """The section of one topic: heading with its fixed id, a summary line, then its questions
    grouped by level (each level a bold paragraph with its count)."""
    mine = ordered(q for q in questions if q.topic == topic)
    chapters = TOPIC_CHAPTERS.get(topic, ())
    taught = ", ".join(f"@{c}" for c in chapters)
    parts = [f"## {topic_title(topic)} {{#sec-questions-{topic}}}", ""]
    if not mine:
        parts.append(
            "No questions on this topic yet." + (f" It is taught in {taught}." if taught else "")
        )
        return "\n".join(parts) + "\n"
    by_level = {level: [q for q in mine if q.level == level] for level in LEVELS}
    summary = ", ".join(f"{len(qs)} {level}" for level, qs in by_level.items() if qs)
    noun = "question" if len(mine) == 1 else "questions"
    parts.append(f"{len(mine)} {noun} ({summary})" + (f", taught in {taught}." if taught else "."))
    parts.append("")
    for level, group in by_level.items():
        if not group:
            continue
        parts.append(f"**{LEVEL_TITLES.get(level, level)}** ({len(group)})")
        parts.append("")
        parts.extend(question_markdown(q) for q in group)
    return "\n".join(parts)


def bank_markdown(questions: Iterable[Question]) -> str:
    """Every topic's section, in `topic_order`."""
    items = list(questions)
    return "\n".join(topic_markdown(topic, items) for topic in topic_order(items))


# -----------------------------------------------------------------------------
# rapid fire and drills


@dataclass(frozen=True, slots=True)
class RapidFire:
    """A question with a one-line answer, and the section that teaches it."""

    question: str
    answer: str
    see: str


RAPID_FIRE_WORDS = 40
"""The longest one-line answer, in words: rapid fire is a sentence, not a paragraph."""

_SECTION = re.compile(r"^sec-[A-Za-z0-9_-]+$")


def _mapping_list(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: malformed YAML: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ValueError(f"{path}: expected a list of mappings")
    return data


def _string(entry: Mapping[str, Any], key: str, path: Path, number: int) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"{path}: entry {number}: {key!r} must be a non-empty string, got {value!r}"
        )
    return value.strip()


def load_rapid_fire(path: Path) -> list[RapidFire]:
    """The rapid-fire list: entries ``{question, answer, see}``, validated.

    Each answer is one line of at most `RAPID_FIRE_WORDS` words, each ``see`` a section label,
    and no question appears twice.
    """
    items: list[RapidFire] = []
    seen: set[str] = set()
    for number, entry in enumerate(_mapping_list(path), start=1):
        if unknown := set(entry) - {"question", "answer", "see"}:
            raise ValueError(f"{path}: entry {number}: unknown field(s) {sorted(unknown)}")
        item = RapidFire(*(_string(entry, k, path, number) for k in ("question", "answer", "see")))
        if "\n" in item.answer or len(item.answer.split()) > RAPID_FIRE_WORDS:
            raise ValueError(
                f"{path}: entry {number}: the answer must be one line of at most "
                f"{RAPID_FIRE_WORDS} words: {item.answer!r}"
            )
        if not _SECTION.match(item.see):
            raise ValueError(f"{path}: entry {number}: see {item.see!r} is not a section label")
        key = " ".join(item.question.casefold().split())
        if key in seen:
            raise ValueError(f"{path}: entry {number}: {item.question!r} is asked twice")
        seen.add(key)
        items.append(item)
    return items


def table_cell(text: str) -> str:
    """Text safe inside a pipe-table cell."""
    return _one_line(text).replace("|", "\\|")


def rapid_fire_markdown(items: Iterable[RapidFire]) -> str:
    """The rapid-fire list as a pipe table: number, question, answer, section."""
    lines = ["| | Question | Answer | See |", "|--:|:--|:--|:--|"]
    for number, item in enumerate(items, start=1):
        lines.append(
            f"| {number} | {table_cell(item.question)} | {table_cell(item.answer)} | @{item.see} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Drill:
    """A coding drill from ``chapters/_data/drills.yml`` (the fields this chapter shows)."""

    name: str
    title: str
    topic: str
    minutes: int
    prompt: str
    key_idea: str


def load_drills(path: Path) -> list[Drill]:
    """The drills, in file order; other fields of an entry (solution, see) are ignored here."""
    drills = []
    for number, entry in enumerate(_mapping_list(path), start=1):
        minutes = entry.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
            raise ValueError(
                f"{path}: entry {number}: minutes must be a positive integer, got {minutes!r}"
            )
        text = {
            k: _string(entry, k, path, number)
            for k in ("name", "title", "topic", "prompt", "key_idea")
        }
        drills.append(Drill(minutes=minutes, **text))
    return drills


def drills_markdown(drills: Iterable[Drill]) -> str:
    """The drills grouped by topic (study order): each one's title, time box, page and prompt
    visible, its key idea folded, so the reader can plan an answer before looking."""
    items = list(drills)
    topics = [*TOPIC_ORDER, *sorted({d.topic for d in items} - set(TOPIC_ORDER))]
    parts = []
    for topic in topics:
        group = [d for d in items if d.topic == topic]
        if not group:
            continue
        minutes = sum(d.minutes for d in group)
        noun = "drill" if len(group) == 1 else "drills"
        parts += [f"**{topic_title(topic)}**: {len(group)} {noun}, {minutes} minutes in all.", ""]
        for d in group:
            parts += [
                f"*{_one_line(d.title)}* ({d.minutes} minutes, @sec-drill-{d.name}). "
                + _one_line(d.prompt),
                "",
                f'::: {{.callout-note collapse="true" title="Key idea: {attribute(d.title)}"}}',
                _one_line(d.key_idea),
                ":::",
                "",
            ]
    return "\n".join(parts)
