"""The bank page's Markdown on constructed banks: order, counts, folding, links, escaping."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pypandoc
import pytest

from llmprep.book.bank import FollowUp, Question
from llmprep.interview.bank_page import (
    TOPIC_ORDER,
    Drill,
    RapidFire,
    attribute,
    bank_markdown,
    counts,
    counts_table,
    drills_markdown,
    load_drills,
    load_rapid_fire,
    ordered,
    question_markdown,
    rapid_fire_markdown,
    topic_markdown,
    topic_order,
)

ROOT = Path(__file__).resolve().parents[2]


def q(ident: str, topic: str = "rag", level: str = "core", **kw: object) -> Question:
    fields: dict[str, object] = {
        "question": f"What is {ident}?",
        "answer": f"The answer to {ident}, with $x^2$ and `code`.",
        "follow_ups": (),
        "see": f"sec-{ident}",
    }
    fields.update(kw)
    return Question(id=ident, topic=topic, level=level, **fields)  # type: ignore[arg-type]


def pandoc_native(markdown: str) -> str:
    return str(pypandoc.convert_text(markdown, "native", format="markdown"))


def test_questions_are_ordered_by_study_order_then_level_keeping_file_order() -> None:
    bank = [
        q("p-staff", "prompting", "staff"),
        q("r-senior", "rag", "senior"),
        q("f-staff", "foundations", "staff"),
        q("r-core-2", "rag", "core"),
        q("f-core", "foundations", "core"),
        q("r-core-1", "rag", "core"),
        q("b-core", "behavioral", "core"),
        q("t-core", "training", "core"),
    ]
    assert [x.id for x in ordered(bank)] == [
        "f-core", "f-staff", "p-staff", "r-core-2", "r-core-1", "r-senior", "t-core", "b-core",
    ]  # fmt: skip


def test_deep_dives_come_after_production_and_before_interview_topics() -> None:
    order = list(TOPIC_ORDER)
    assert order.index("production") < order.index("training") < order.index("reasoning")
    assert order[-2:] == ["system-design", "behavioral"]


def test_every_known_topic_gets_a_section_even_when_empty() -> None:
    text = bank_markdown([q("only", "agents")])
    ids = re.findall(r"^## .*\{#(sec-questions-[a-z-]+)\}$", text, flags=re.MULTILINE)
    assert ids == [f"sec-questions-{t}" for t in TOPIC_ORDER]
    assert text.count("No questions on this topic yet.") == len(TOPIC_ORDER) - 1


def test_an_unknown_topic_is_rendered_after_the_known_ones() -> None:
    bank = [q("x", "zzz-new"), q("y", "rag")]  # not in the Topic literal, but files may grow
    assert topic_order(bank)[-1] == "zzz-new"
    assert bank_markdown(bank).rstrip().endswith(":::\n\nTaught in @sec-x.".rstrip())


def test_counts_per_topic_and_level() -> None:
    bank = [q("a", "rag", "core"), q("b", "rag", "staff"), q("c", "rag", "staff")]
    bank.append(q("d", "agents", "senior"))
    table = counts(bank)
    assert table["rag"] == {"core": 1, "senior": 0, "staff": 2}
    assert table["agents"] == {"core": 0, "senior": 1, "staff": 0}
    assert sum(map(sum, (row.values() for row in table.values()))) == 4
    markdown = counts_table(bank)
    rows = markdown.splitlines()
    assert rows[0] == "| Topic | Core | Senior | Staff | Total | Section |"
    assert "| Retrieval-augmented generation | 1 | 0 | 2 | 3 | @sec-questions-rag |" in rows
    assert rows[-1] == "| **All topics** | 1 | 1 | 2 | **4** | |"
    assert len(rows) == 2 + len(TOPIC_ORDER) + 1


def test_levels_are_bold_paragraphs_not_headings() -> None:
    bank = [q("a", "rag", "staff"), q("b", "rag", "core"), q("c", "rag", "core")]
    text = topic_markdown("rag", bank)
    assert text.count("\n#") == 0
    assert text.startswith("## Retrieval-augmented generation")
    assert "3 questions (2 core, 1 staff), taught in @sec-rag-concepts" in text
    assert text.index("**Core** (2)") < text.index("What is b?") < text.index("**Staff** (1)")
    assert "**Senior**" not in text


def test_answer_is_folded_and_follow_ups_and_section_are_visible() -> None:
    question = q(
        "chunk",
        follow_ups=(
            FollowUp("What if the documents are tables?", "sec-tables"),
            FollowUp("And   if they\n are code?", "sec-code"),
        ),
    )
    native = pandoc_native(question_markdown(question))
    # one callout, folded, titled by the question, holding the answer (math and code parsed)
    assert native.count('"callout-note"') == 1
    assert '( "collapse" , "true" )' in native
    assert '"title" , "What is chunk?"' in native
    assert "InlineMath" in native
    assert 'Code ( "" , [] , [] ) "code"' in native
    text = question_markdown(question)
    after = text.split(":::\n", 2)[-1].lstrip()
    assert after.startswith("Taught in @sec-chunk. Follow-ups:")
    assert "- What if the documents are tables? See @sec-tables." in after
    assert "- And if they are code? See @sec-code." in after  # joined onto one line
    assert "Follow-ups" not in question_markdown(q("plain"))


def test_question_text_with_quotes_survives_the_title_attribute() -> None:
    text = 'Is "temperature 0" deterministic, and what about C:\\path?'
    assert attribute(text) == 'Is \\"temperature 0\\" deterministic, and what about C:\\\\path?'
    native = pandoc_native(question_markdown(q("quote", question=text)))
    assert '"title"\n        , "Is \\"temperature 0\\" deterministic' in native or (
        '"title" , "Is \\"temperature 0\\" deterministic' in native
    )


def test_bank_markdown_parses_to_one_callout_per_question() -> None:
    pairs = [("rag", "core"), ("rag", "senior"), ("agents", "staff"), ("behavioral", "core")]
    bank = [q(f"q{i}", topic, level) for i, (topic, level) in enumerate(pairs)]
    native = pandoc_native(bank_markdown(bank))
    assert native.count('"callout-note"') == len(bank)
    assert len(re.findall(r"Header\s+2", native)) == len(TOPIC_ORDER)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rapid_fire_loads_and_renders_a_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "rf.yml",
        "- {question: 'What does top-p keep?', answer: 'The smallest set with mass p | more.', "
        "see: sec-sampling}\n"
        "- {question: 'Why RoPE?', answer: Relative positions., see: sec-rope}\n",
    )
    items = load_rapid_fire(path)
    assert items[1] == RapidFire("Why RoPE?", "Relative positions.", "sec-rope")
    lines = rapid_fire_markdown(items).splitlines()
    assert (
        lines[2]
        == "| 1 | What does top-p keep? | The smallest set with mass p \\| more. | @sec-sampling |"
    )
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- {question: A, answer: B, see: sec-x, topic: rag}\n", "unknown field"),
        ("- {question: A, answer: '', see: sec-x}\n", "'answer'"),
        ("- {question: A, answer: B, see: chunking}\n", "'chunking'"),
        (
            "- {question: A, answer: B, see: sec-x}\n- {question: a, answer: C, see: sec-y}\n",
            "twice",
        ),
        ("- {question: A, answer: " + " ".join(["w"] * 41) + ", see: sec-x}\n", "40 words"),
        ("question: A?\n", "list of mappings"),
        ("- {question: [A\n", "malformed YAML"),
    ],
)
def test_bad_rapid_fire_entries_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_rapid_fire(write(tmp_path, "rf.yml", text))


DRILL = """- name: {name}
  title: {title}
  topic: {topic}
  minutes: {minutes}
  prompt: Do the thing.
  key_idea: The trick.
  see: sec-x
"""


def test_drills_are_grouped_by_topic_with_the_key_idea_folded(tmp_path: Path) -> None:
    text = DRILL.format(name="rrf", title="Fusion", topic="rag", minutes=15)
    text += DRILL.format(name="attention", title="Attention", topic="foundations", minutes=30)
    text += DRILL.format(name="bm25", title="BM25", topic="rag", minutes=30)
    drills = load_drills(write(tmp_path, "drills.yml", text))
    assert drills[0] == Drill("rrf", "Fusion", "rag", 15, "Do the thing.", "The trick.")
    markdown = drills_markdown(drills)
    assert markdown.index("**Foundations**") < markdown.index("**Retrieval-augmented")
    assert "**Retrieval-augmented generation**: 2 drills, 45 minutes in all." in markdown
    assert "*Fusion* (15 minutes, @sec-drill-rrf). Do the thing." in markdown
    native = pandoc_native(markdown)
    assert native.count('"collapse" , "true"') == 3
    assert "Key idea: BM25" in native


def test_a_drill_without_a_time_box_is_refused(tmp_path: Path) -> None:
    text = DRILL.format(name="rrf", title="Fusion", topic="rag", minutes="soon")
    with pytest.raises(ValueError, match="'soon'"):
        load_drills(write(tmp_path, "drills.yml", text))


# -----------------------------------------------------------------------------
# the real data files this chapter renders


def section_homes() -> dict[str, str]:
    """Every `{#sec-…}` label of the sources -> the file that defines it."""
    homes = {}
    for path in [
        ROOT / "index.qmd",
        *ROOT.glob("chapters/**/*.qmd"),
        *ROOT.glob("appendices/**/*.qmd"),
    ]:
        for label in re.findall(r"\{#(sec-[A-Za-z0-9_-]+)", path.read_text(encoding="utf-8")):
            homes[label] = path.relative_to(ROOT).as_posix()
    return homes


def test_rapid_fire_file_has_50_to_70_answers_pointing_at_real_sections() -> None:
    items = load_rapid_fire(ROOT / "chapters/_data/interview/rapid-fire.yml")
    assert 50 <= len(items) <= 70
    homes = section_homes()
    missing = [item.see for item in items if item.see not in homes]
    assert missing == [], f"rapid-fire answers point at missing sections: {missing}"


def test_rapid_fire_spans_every_topic_chapter() -> None:
    items = load_rapid_fire(ROOT / "chapters/_data/interview/rapid-fire.yml")
    homes = section_homes()
    folders = {homes[item.see].split("/")[1] for item in items if item.see in homes}
    expected = {"01-foundations", "02-prompting", "03-rag", "04-agents", "05-production",
                "06-interview", "07-deep-dives"}  # fmt: skip
    assert expected <= folders, f"no rapid-fire answer points into {sorted(expected - folders)}"


def test_real_drills_file_renders() -> None:
    drills = load_drills(ROOT / "chapters/_data/drills.yml")
    assert drills
    assert drills_markdown(drills).count("@sec-drill-") == len(drills)


def test_pandoc_is_the_one_the_book_uses() -> None:
    # The parsing checks above run the same pandoc the builder runs (pypandoc-binary).
    out = subprocess.run([pypandoc.get_pandoc_path(), "--version"], capture_output=True, text=True)
    assert out.stdout.startswith("pandoc 3.")
