"""Post-render step: the question bank, the glossary and the coding drills as flashcards.

Run by the build (``project.post-render`` in ``_quarto.yml``, a Quarto mechanism) with
``QUARTO_PROJECT_OUTPUT_DIR`` set to the output folder. Writes there:

* ``llm-interview-prep-flashcards.apkg``: an Anki package with three decks, "Questions",
  "Glossary" and "Drills". Every note's GUID is derived from the question id, the term or the
  drill's name, so importing a newer deck updates the cards you already have instead of
  duplicating them.
* ``llm-interview-prep-flashcards.csv``: the same cards as a spreadsheet-friendly table.

Tags carry the topic and level (questions), the area (terms), or "drill" and the topic (drills).
A drill card (``chapters/_data/drills.yml``) asks the task on the front and gives the key idea on
the back, with the drill's page and the command that grades it.
"""

from __future__ import annotations

import csv
import html
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import genanki
import pypandoc
import yaml

from llmprep.book.bank import Question, Term, load_glossary, load_question_bank

STEM = "llm-interview-prep-flashcards"
DATA = Path("chapters/_data")
# Fixed ids: Anki recognises the model and decks across releases of the deck.
MODEL_ID = 1_607_392_319
QUESTIONS_DECK_ID = 2_059_400_110
GLOSSARY_DECK_ID = 2_059_400_111
DRILLS_DECK_ID = 2_059_400_112
_CITATION = re.compile(r"\s*\[@[^\]]+\]")
_CROSSREF = re.compile(r"\s*\(?[Ss]ee @sec-[\w-]+\)?\.?")

MODEL = genanki.Model(
    MODEL_ID,
    "LLM Interview Prep card",
    fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Source"}],
    templates=[
        {
            "name": "Card",
            "qfmt": "<div class=front>{{Front}}</div>",
            "afmt": "{{FrontSide}}<hr id=answer><div class=back>{{Back}}</div>"
            "<div class=source>{{Source}}</div>",
        }
    ],
    css=".card { font-family: system-ui, sans-serif; font-size: 18px; text-align: left; "
    "color: #1f2328; background: #fff; } .front { font-weight: 600; } "
    ".source { margin-top: 1em; font-size: 13px; color: #57606a; }",
)


@dataclass(frozen=True, slots=True)
class Card:
    """One flashcard, before it becomes an Anki note and a CSV row."""

    key: str  # stable identity: the question id, "term:<term>" or "drill:<name>"
    kind: str  # "question" | "term" | "drill"
    front: str  # Markdown
    back: str  # Markdown
    tags: tuple[str, ...]
    source: str  # the section that teaches it


def question_card(q: Question) -> Card:
    """The question on the front; the answer and each follow-up, with its section, on the back.

    A follow-up names the section that answers it (``see``), so the card says where to read
    on, in the same ``sec-…`` form as the card's own source line.
    """
    follow = "".join(f"\n- {f.question} (book section: {f.see})" for f in q.follow_ups)
    back = q.answer + (f"\n\n**Follow-ups to expect:**\n{follow}" if follow else "")
    return Card(q.id, "question", q.question, back, (q.topic, q.level), q.see)


def term_card(t: Term) -> Card:
    area = re.sub(r"[^a-z0-9]+", "-", t.area.lower()).strip("-")
    front = t.term + (f" ({', '.join(t.aliases)})" if t.aliases else "")
    return Card(f"term:{t.term}", "term", front, t.definition, ("glossary", area), t.see)


def drill_card(entry: dict[str, object]) -> Card:
    """The task on the front; the key idea, the drill's page and its grading command on the back.

    `entry` is one item of ``chapters/_data/drills.yml``; its ``name`` is the card's identity.
    """
    fields = {}
    for field in ("name", "topic", "prompt", "key_idea"):
        value = entry.get(field)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"drill {entry.get('name')!r}: {field} must be a non-empty string")
        fields[field] = value.strip()
    name = fields["name"]
    back = (
        f"{fields['key_idea']}\n\nPractice it: the drill page appendices/drills/{name}.html in"
        f" the web book; grade your code with `make drill NAME={name}`."
    )
    return Card(f"drill:{name}", "drill", fields["prompt"], back, ("drill", fields["topic"]),
                f"sec-drill-{name}")  # fmt: skip


def drill_cards(path: Path) -> list[Card]:
    """One card per entry of the drills file (none when the file does not exist yet)."""
    if not path.is_file():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"{path}: expected a list of drills")
    return [drill_card(e) for e in entries]


def to_html(texts: list[str]) -> list[str]:
    """Markdown to HTML for many short texts in one pandoc run (marker-separated)."""
    if not texts:
        return []
    marker = "BOOKBUILD-CARD-SEPARATOR"
    cleaned = [_CROSSREF.sub("", _CITATION.sub("", t)) for t in texts]
    joined = f"\n\n{marker}\n\n".join(cleaned)
    out: str = pypandoc.convert_text(joined, "html", format="markdown", extra_args=["--wrap=none"])
    parts = re.split(rf"<p>{marker}</p>\n?", out)
    if len(parts) != len(texts):
        raise RuntimeError(f"card conversion lost its separators ({len(parts)} != {len(texts)})")
    return [p.strip() for p in parts]


def build_cards(root: Path) -> list[Card]:
    questions = load_question_bank(root / DATA / "questions")
    terms = load_glossary(root / DATA / "glossary.yml")
    drills = drill_cards(root / DATA / "drills.yml")
    return [question_card(q) for q in questions] + [term_card(t) for t in terms] + drills


def write_apkg(cards: list[Card], out: Path) -> None:
    fronts = to_html([c.front for c in cards])
    backs = to_html([c.back for c in cards])
    decks = {
        "question": genanki.Deck(QUESTIONS_DECK_ID, "LLM Interview Prep::Questions"),
        "term": genanki.Deck(GLOSSARY_DECK_ID, "LLM Interview Prep::Glossary"),
        "drill": genanki.Deck(DRILLS_DECK_ID, "LLM Interview Prep::Drills"),
    }
    for card, front, back in zip(cards, fronts, backs, strict=True):
        note = genanki.Note(
            model=MODEL,
            fields=[front, back, html.escape(f"Book section: {card.source}")],
            tags=list(card.tags),
            guid=genanki.guid_for(card.key),
        )
        decks[card.kind].add_note(note)
    genanki.Package(list(decks.values())).write_to_file(str(out))


def write_csv(cards: list[Card], out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "kind", "front", "back", "tags", "section"])
        for card in cards:
            writer.writerow([card.key, card.kind, card.front, card.back, " ".join(card.tags),
                             card.source])  # fmt: skip


def main() -> int:
    root = Path(os.environ.get("QUARTO_PROJECT_DIR", "."))
    output = Path(os.environ.get("QUARTO_PROJECT_OUTPUT_DIR", "_book"))
    cards = build_cards(root)
    write_apkg(cards, output / f"{STEM}.apkg")
    write_csv(cards, output / f"{STEM}.csv")
    print(f"flashcards: {len(cards)} cards", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
