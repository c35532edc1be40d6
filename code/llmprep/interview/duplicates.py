"""Near-duplicate questions: embed every question's text and flag pairs that ask the same thing.

A bank of hundreds of questions written by several authors drifts into asking one thing twice
in different words ("Why is decoding memory-bound?" and "What limits decode throughput?").
Word overlap misses paraphrases, so each question's text is embedded with a sentence encoder
(all-MiniLM-L6-v2, `llmprep.rag.embedders.MiniLMEmbedder`) and every pair whose cosine
similarity reaches a threshold is reported:

    texts -> unit vectors E (n x 384) -> S = E E^T -> pairs i < j with S[i, j] >= threshold

`THRESHOLD` was calibrated by reading the most similar pairs of the real bank (the method and
the pairs are in the chapter "Interview questions"); above it, pairs asked the same thing.
Pairs that score high but are distinct on purpose (a core and a staff question on one topic)
are listed with a reason in ``chapters/_data/questions/_distinct.yml`` as ``{a, b, why}``.

Run ``python -m llmprep.interview.duplicates [N]`` to print the top N pairs with their files.

Leaves out: comparing answers or follow-ups (two questions may share an answer's material and
still ask different things), clustering groups of three or more (pairs are what a reviewer
resolves), and approximate nearest-neighbor search (n is a few hundred, so the full n x n
matrix costs nothing).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from llmprep.book.bank import Question, load_questions
from llmprep.rag.embedders import Embedder, MiniLMEmbedder

THRESHOLD = 0.70
"""Cosine similarity (MiniLM, question text only) at or above which two questions count as
asking the same thing unless ``_distinct.yml`` says why not. Calibrated on 2026-12-02: reworded
questions that keep their key terms scored 0.71-0.95 (a swapped term, "LoRA" for "low-rank
adaptation", can score below 0.1, out of reach of any threshold), and the 215-question bank's
most similar pair, which asks two different things, scored 0.735."""

REVIEW = 0.60
"""Below `THRESHOLD` but worth a human look: the report marks pairs from here up with ``?``."""

BANK = Path(__file__).resolve().parents[3] / "chapters" / "_data" / "questions"
"""The book's question bank: one YAML file per topic; files starting with ``_`` are not."""

DISTINCT_FILE = "_distinct.yml"
"""The file in the bank folder that lists high-scoring pairs kept on purpose, with a reason."""


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    """Two question ids (in bank order: ``a`` comes first) and the cosine of their texts."""

    a: str
    b: str
    similarity: float


def _check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise TypeError(f"threshold must be a number, got {threshold!r}")
    if not -1.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a cosine in [-1, 1], got {threshold!r}")
    return float(threshold)


def similarity_pairs(
    questions: Sequence[Question], embedder: Embedder, *, top: int | None = None
) -> list[DuplicatePair]:
    """Every pair of distinct questions, most similar first (ties: bank order); at most ``top``.

    Example: three questions whose texts embed to [1, 0], [0.6, 0.8] and [1, 0] give the
    pairs (q1, q3, 1.0), (q1, q2, 0.6), (q2, q3, 0.6).
    """
    if isinstance(questions, str | bytes):
        raise TypeError("pass a sequence of Question objects, not a string")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"question ids must be unique; repeated: {', '.join(repeated)}")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 0):
        raise ValueError(f"top must be a non-negative integer or None, got {top!r}")
    if len(questions) < 2:
        return []
    vectors = np.asarray(embedder.embed([q.question for q in questions]), dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # subtle: the Embedder protocol promises unit rows; normalizing again costs nothing and
    # keeps the result a cosine even for an embedder that breaks the promise.
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    sims = unit @ unit.T
    rows, cols = np.triu_indices(len(questions), k=1)
    values = sims[rows, cols]
    # Most similar first; a stable sort on the negated values keeps ties in bank order.
    order = np.argsort(-values, kind="stable")
    if top is not None:
        order = order[:top]
    return [DuplicatePair(ids[rows[k]], ids[cols[k]], round(float(values[k]), 6)) for k in order]


def near_duplicates(
    questions: Sequence[Question], embedder: Embedder, *, threshold: float
) -> list[DuplicatePair]:
    """Pairs whose question texts have cosine similarity >= ``threshold``, most similar first.

    Example: with ``threshold=0.9`` the three questions of `similarity_pairs` give only
    (q1, q3, 1.0).
    """
    limit = _check_threshold(threshold)
    return [p for p in similarity_pairs(questions, embedder) if p.similarity >= limit]


def load_distinct(path: Path) -> dict[frozenset[str], str]:
    """The pairs kept on purpose: {frozenset({a, b}): why}; an absent file means none."""
    if not path.is_file():
        return {}
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of {{a, b, why}} entries, got {entries!r}")
    out: dict[frozenset[str], str] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or set(entry) != {"a", "b", "why"}:
            raise ValueError(f"{path}: entry {number} must have exactly a, b, why: {entry!r}")
        a, b, why = entry["a"], entry["b"], entry["why"]
        if not all(isinstance(v, str) and v.strip() for v in (a, b, why)):
            raise ValueError(f"{path}: entry {number} needs non-empty strings: {entry!r}")
        if a == b:
            raise ValueError(f"{path}: entry {number} pairs {a!r} with itself")
        out[frozenset((a, b))] = why.strip()
    return out


def unexplained(
    pairs: Iterable[DuplicatePair], distinct: Mapping[frozenset[str], str]
) -> list[DuplicatePair]:
    """The pairs not listed in ``distinct`` (the ones a reviewer still has to resolve)."""
    return [p for p in pairs if frozenset((p.a, p.b)) not in distinct]


def bank_with_files(folder: Path = BANK) -> tuple[list[Question], dict[str, str]]:
    """Every question of the bank in file order, and the file name each id comes from."""
    questions: list[Question] = []
    files: dict[str, str] = {}
    for path in sorted(folder.glob("*.yml")):
        if path.name.startswith("_"):
            continue
        for question in load_questions(path):
            questions.append(question)
            files[question.id] = path.name
    return questions, files


def report(
    pairs: Sequence[DuplicatePair],
    questions: Sequence[Question],
    files: Mapping[str, str],
    distinct: Mapping[frozenset[str], str],
    *,
    threshold: float = THRESHOLD,
    review: float = REVIEW,
) -> str:
    """The pairs as plain text: rank, similarity, a mark, both ids with files and texts.

    The mark is ``!!`` for a pair at or above the threshold that ``_distinct.yml`` does not
    explain, ``ok`` for one it explains, ``?`` for one in the review band (`REVIEW` up to the
    threshold) and blank below it.
    """
    text = {q.id: q.question for q in questions}
    lines = []
    for rank, pair in enumerate(pairs, start=1):
        listed = frozenset((pair.a, pair.b)) in distinct
        if pair.similarity >= threshold:
            mark = "ok" if listed else "!!"
        else:
            mark = "? " if pair.similarity >= review else "  "
        lines.append(f"{rank:3d}  {pair.similarity:.3f} {mark}  {pair.a} ({files[pair.a]})")
        lines.append(f"{'':14}{pair.b} ({files[pair.b]})")
        lines.append(f"{'':14}A: {text[pair.a]}")
        lines.append(f"{'':14}B: {text[pair.b]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the top pairs of the real bank (default 30); exit 1 if any pair is unexplained."""
    args = list(sys.argv[1:] if argv is None else argv)
    top = int(args[0]) if args else 30
    questions, files = bank_with_files()
    distinct = load_distinct(BANK / DISTINCT_FILE)
    pairs = similarity_pairs(questions, MiniLMEmbedder())
    above = unexplained([p for p in pairs if p.similarity >= THRESHOLD], distinct)
    print(f"{len(questions)} questions, threshold {THRESHOLD}; top {top} pairs by cosine:")
    print(report(pairs[:top], questions, files, distinct))
    print(f"{len(above)} pair(s) at or above {THRESHOLD} not listed in {DISTINCT_FILE}")
    return 1 if above else 0


if __name__ == "__main__":
    raise SystemExit(main())
