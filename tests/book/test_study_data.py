"""Study data: the question bank and glossary exist, are valid and point at real sections.

Missing data is a failure, not a skip: the chapters, the flashcards and the decks all read these
files, so a moved or deleted folder must turn this red.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from llmprep.book.bank import FILE_TOPICS, load_glossary, load_question_bank, load_questions

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "chapters" / "_data"
QUESTIONS = DATA / "questions"
GLOSSARY = DATA / "glossary.yml"


def section_labels() -> set[str]:
    """Every `{#sec-…}` label in the book's sources."""
    labels: set[str] = set()
    for path in [ROOT / "index.qmd", *ROOT.glob("chapters/**/*.qmd")]:
        labels |= set(re.findall(r"\{#(sec-[A-Za-z0-9_-]+)", path.read_text(encoding="utf-8")))
    return labels


def topic_files() -> list[Path]:
    assert QUESTIONS.is_dir(), f"the question bank is missing: {QUESTIONS.relative_to(ROOT)}/"
    files = sorted(QUESTIONS.glob("[!_]*.yml"))
    assert files, f"the question bank {QUESTIONS.relative_to(ROOT)}/ holds no topic files"
    return files


def test_every_topic_file_holds_questions_of_its_topic() -> None:
    for path in topic_files():
        questions = load_questions(path)
        assert questions, f"{path.name} holds no questions"
        topics = {q.topic for q in questions}
        allowed = set(FILE_TOPICS.get(path.stem, (path.stem,)))
        assert topics <= allowed, f"{path.name} holds questions of topics {topics - allowed}"


def test_question_bank_is_valid_and_links_resolve() -> None:
    topic_files()
    questions = load_question_bank(QUESTIONS)
    assert questions
    missing = sorted({q.see for q in questions} - section_labels())
    assert missing == [], f"questions point at sections that do not exist: {missing}"


def test_glossary_is_valid_and_links_resolve() -> None:
    assert GLOSSARY.is_file(), f"the glossary is missing: {GLOSSARY.relative_to(ROOT)}"
    terms = load_glossary(GLOSSARY)
    assert terms, "the glossary holds no terms"
    missing = sorted({t.see for t in terms} - section_labels())
    assert missing == [], f"glossary terms point at sections that do not exist: {missing}"


def test_every_follow_up_names_a_section_that_exists() -> None:
    # A follow-up promises an answer; `see` says where the book gives it, so it must be a real
    # `{#sec-…}` anchor in the sources, not a section planned for later.
    labels = section_labels()
    questions = load_question_bank(QUESTIONS)
    assert any(q.follow_ups for q in questions), "no question lists a follow-up"
    missing = [
        f"{q.id}: {f.see} ({f.question})"
        for q in questions
        for f in q.follow_ups
        if f.see not in labels
    ]
    assert missing == [], f"follow-ups point at sections that do not exist: {missing}"


def test_no_question_or_follow_up_is_asked_twice_word_for_word() -> None:
    questions = load_question_bank(QUESTIONS)
    texts = [q.question for q in questions] + [f.question for q in questions for f in q.follow_ups]
    counts = Counter(" ".join(text.casefold().split()) for text in texts)
    assert [text for text, n in counts.items() if n > 1] == []
