"""Study data: the question bank and glossary are valid and point at real sections."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llmprep.bank import load_glossary, load_question_bank, load_questions

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "chapters" / "_data"


def section_labels() -> set[str]:
    """Every `{#sec-…}` label in the book's sources."""
    labels: set[str] = set()
    for path in [ROOT / "index.qmd", *ROOT.glob("chapters/**/*.qmd")]:
        labels |= set(re.findall(r"\{#(sec-[A-Za-z0-9_-]+)", path.read_text(encoding="utf-8")))
    return labels


def test_question_bank_is_valid_and_links_resolve() -> None:
    folder = DATA / "questions"
    if not folder.is_dir():
        pytest.skip("no question bank yet")
    questions = load_question_bank(folder)
    labels = section_labels()
    missing = sorted({q.see for q in questions} - labels)
    assert missing == [], f"questions point at sections that do not exist: {missing}"
    for path in folder.glob("[!_]*.yml"):
        topics = {q.topic for q in load_questions(path)}
        assert topics == {path.stem}, f"{path.name} holds questions of topics {topics}"


def test_glossary_is_valid_and_links_resolve() -> None:
    path = DATA / "glossary.yml"
    if not path.exists():
        pytest.skip("no glossary yet")
    terms = load_glossary(path)
    missing = sorted({t.see for t in terms} - section_labels())
    assert missing == [], f"glossary terms point at sections that do not exist: {missing}"
