"""Near-duplicate detection on constructed questions: hand-computed cosines, ordering, inputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from llmprep.book.bank import Question
from llmprep.interview.duplicates import (
    REVIEW,
    THRESHOLD,
    DuplicatePair,
    bank_with_files,
    load_distinct,
    near_duplicates,
    report,
    similarity_pairs,
    unexplained,
)
from llmprep.rag.documents import Vector
from llmprep.rag.embedders import MiniLMEmbedder


class TableEmbedder:
    """Looks each text up in a table of vectors, so every cosine is known in advance."""

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table
        self.calls: list[list[str]] = []

    @property
    def name(self) -> str:
        return "table"

    @property
    def dim(self) -> int:
        return len(next(iter(self.table.values())))

    def embed(self, texts: Sequence[str]) -> Vector:
        self.calls.append(list(texts))
        out: Vector = np.array([self.table[t] for t in texts], dtype=np.float32)
        return out


def question(ident: str, text: str) -> Question:
    return Question(
        id=ident,
        topic="rag",
        level="core",
        question=text,
        answer="An answer.",
        follow_ups=(),
        see="sec-rag",
    )


Q1, Q2, Q3 = question("q1", "one"), question("q2", "two"), question("q3", "three")
TABLE = TableEmbedder({"one": [1.0, 0.0], "two": [0.6, 0.8], "three": [1.0, 0.0]})


def test_pairs_are_sorted_by_cosine_with_ties_in_bank_order() -> None:
    pairs = similarity_pairs([Q1, Q2, Q3], TABLE)
    # cos(one, three) = 1; cos(one, two) = cos(two, three) = 0.6
    assert pairs == [
        DuplicatePair("q1", "q3", 1.0),
        DuplicatePair("q1", "q2", 0.6),
        DuplicatePair("q2", "q3", 0.6),
    ]


def test_only_the_question_text_is_embedded() -> None:
    embedder = TableEmbedder({"one": [1.0, 0.0], "two": [0.0, 1.0]})
    similarity_pairs([Q1, Q2], embedder)
    assert embedder.calls == [["one", "two"]]


def test_threshold_is_inclusive() -> None:
    assert near_duplicates([Q1, Q2, Q3], TABLE, threshold=0.9) == [DuplicatePair("q1", "q3", 1.0)]
    assert len(near_duplicates([Q1, Q2, Q3], TABLE, threshold=0.6)) == 3
    assert near_duplicates([Q1, Q2], TABLE, threshold=0.61) == []


def test_vectors_that_are_not_unit_length_still_give_cosines() -> None:
    embedder = TableEmbedder({"one": [3.0, 0.0], "two": [3.0, 4.0], "three": [0.0, 0.0]})
    pairs = similarity_pairs([Q1, Q2, Q3], embedder)
    assert pairs[0] == DuplicatePair("q1", "q2", 0.6)
    assert {p.similarity for p in pairs[1:]} == {0.0}  # a zero vector is similar to nothing


def test_top_limits_the_pairs_and_small_banks_have_none() -> None:
    assert len(similarity_pairs([Q1, Q2, Q3], TABLE, top=2)) == 2
    assert similarity_pairs([Q1], TABLE) == []
    assert similarity_pairs([], TABLE) == []


def test_bad_inputs_name_the_bad_value() -> None:
    with pytest.raises(ValueError, match="q1"):
        similarity_pairs([Q1, Q1], TABLE)
    with pytest.raises(ValueError, match=r"1\.5"):
        near_duplicates([Q1, Q2], TABLE, threshold=1.5)
    with pytest.raises(TypeError, match="'high'"):
        near_duplicates([Q1, Q2], TABLE, threshold="high")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="-1"):
        similarity_pairs([Q1, Q2], TABLE, top=-1)
    with pytest.raises(TypeError, match="string"):
        similarity_pairs("q1", TABLE)  # type: ignore[arg-type]


def test_distinct_file_is_read_as_unordered_pairs(tmp_path: Path) -> None:
    path = tmp_path / "_distinct.yml"
    assert load_distinct(path) == {}
    path.write_text("- {a: q3, b: q1, why: one is core and one is staff}\n", encoding="utf-8")
    distinct = load_distinct(path)
    assert distinct == {frozenset({"q1", "q3"}): "one is core and one is staff"}
    pairs = similarity_pairs([Q1, Q2, Q3], TABLE)
    assert unexplained(pairs, distinct) == pairs[1:]


@pytest.mark.parametrize(
    "text",
    [
        "a: q1\n",
        "- {a: q1, b: q2}\n",
        "- {a: q1, b: q1, why: same}\n",
        "- {a: q1, b: '', why: empty}\n",
    ],
)
def test_malformed_distinct_files_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "_distinct.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"_distinct\.yml"):
        load_distinct(path)


def test_report_marks_pairs_by_band() -> None:
    pairs = [
        DuplicatePair("q1", "q3", THRESHOLD + 0.01),
        DuplicatePair("q1", "q2", THRESHOLD + 0.01),
        DuplicatePair("q2", "q3", REVIEW),
        DuplicatePair("q2", "q1", REVIEW - 0.01),
    ]
    files = {"q1": "a.yml", "q2": "a.yml", "q3": "b.yml"}
    text = report(pairs, [Q1, Q2, Q3], files, {frozenset({"q1", "q3"}): "why"})
    marks = [line.split()[2] for line in text.splitlines() if line[:3].strip().isdigit()]
    assert marks == ["ok", "!!", "?", "q2"]  # the last pair has no mark: q2 follows the score
    assert "q3 (b.yml)" in text
    assert "A: one" in text


def test_bank_with_files_skips_underscore_files(tmp_path: Path) -> None:
    entry = (
        "- id: {ident}\n  topic: rag\n  level: core\n  question: {ident}?\n"
        "  answer: {answer}\n  see: sec-rag\n"
    )
    answer = " ".join(["word"] * 60)
    (tmp_path / "rag.yml").write_text(entry.format(ident="r1", answer=answer), encoding="utf-8")
    (tmp_path / "_distinct.yml").write_text("[]\n", encoding="utf-8")
    questions, files = bank_with_files(tmp_path)
    assert [q.id for q in questions] == ["r1"]
    assert files == {"r1": "rag.yml"}


def test_minilm_puts_a_reworded_question_above_the_threshold() -> None:
    texts = {
        "bi": "What is the difference between a bi-encoder and a cross-encoder?",
        "bi-reworded": "Bi-encoders versus cross-encoders: how do they differ?",
        "other": "How do you stop a runaway agent from spending money overnight?",
    }
    questions = [question(ident, text) for ident, text in texts.items()]
    pairs = near_duplicates(questions, MiniLMEmbedder(), threshold=THRESHOLD)
    assert [(p.a, p.b) for p in pairs] == [("bi", "bi-reworded")]
