"""The real question bank asks nothing twice, by the MiniLM check of llmprep.interview.duplicates.

A pair of questions at or above `THRESHOLD` fails unless ``chapters/_data/questions/_distinct.yml``
lists it with a reason. To see the pairs: ``python -m llmprep.interview.duplicates 40``.
"""

from __future__ import annotations

from llmprep.interview.duplicates import (
    BANK,
    DISTINCT_FILE,
    THRESHOLD,
    bank_with_files,
    load_distinct,
    near_duplicates,
    unexplained,
)
from llmprep.rag.embedders import MiniLMEmbedder


def test_no_two_bank_questions_ask_the_same_thing() -> None:
    questions, files = bank_with_files(BANK)
    assert len(questions) > 1
    distinct = load_distinct(BANK / DISTINCT_FILE)
    pairs = unexplained(near_duplicates(questions, MiniLMEmbedder(), threshold=THRESHOLD), distinct)
    text = {q.id: q.question for q in questions}
    found = [
        f"{p.similarity:.3f} {p.a} ({files[p.a]}) ~ {p.b} ({files[p.b]}): "
        f"{text[p.a]!r} / {text[p.b]!r}"
        for p in pairs
    ]
    assert found == [], (
        f"near-duplicate questions (cosine >= {THRESHOLD}); merge, reword, or list the pair "
        f"with a reason in {DISTINCT_FILE}:\n" + "\n".join(found)
    )


def test_distinct_pairs_name_questions_that_exist() -> None:
    questions, _ = bank_with_files(BANK)
    ids = {q.id for q in questions}
    listed = load_distinct(BANK / DISTINCT_FILE)
    missing = sorted(i for pair in listed for i in pair if i not in ids)
    assert missing == [], f"{DISTINCT_FILE} names questions that are not in the bank: {missing}"
