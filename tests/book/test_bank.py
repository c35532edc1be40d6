"""llmprep.book.bank: study data loads, validates with file:line errors, and renders."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from llmprep.book.bank import (
    BankError,
    FollowUp,
    Term,
    glossary_markdown,
    load_glossary,
    load_question_bank,
    load_questions,
)

ANSWER = " ".join(["word"] * 70)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


FOLLOW_UPS = """\
  follow_ups:
    - question: Why not characters?
      see: sec-bpe
"""


def question(ident: str = "what-is-a-token", follow_ups: str = FOLLOW_UPS, **changes: str) -> str:
    fields = {
        "id": ident,
        "topic": "foundations",
        "level": "core",
        "question": "What is a token?",
        "answer": ANSWER,
        "see": "sec-tokenization",
    }
    fields.update(changes)
    lines = [f"- id: {fields.pop('id')}"] + [f"  {k}: {v}" for k, v in fields.items()]
    return "\n".join(lines) + "\n" + follow_ups


SECOND = question("first-one").count("\n") + 1  # the line on which a second entry starts


def test_loads_a_valid_question(tmp_path: Path) -> None:
    path = write(tmp_path / "q" / "foundations.yml", question())
    [q] = load_questions(path)
    assert q.id == "what-is-a-token"
    assert q.follow_ups == (FollowUp(question="Why not characters?", see="sec-bpe"),)
    assert q.see == "sec-tokenization"


def test_follow_ups_are_optional(tmp_path: Path) -> None:
    [q] = load_questions(write(tmp_path / "foundations.yml", question(follow_ups="")))
    assert q.follow_ups == ()


def test_a_bare_string_follow_up_is_rejected_at_its_own_line(tmp_path: Path) -> None:
    # The old format: a follow-up with no section that answers it.
    bare = "  follow_ups:\n    - question: Fine.\n      see: sec-bpe\n    - Why not characters?\n"
    path = write(tmp_path / "foundations.yml", question("first-one") + question(follow_ups=bare))
    with pytest.raises(BankError) as caught:
        load_questions(path)
    line = SECOND + 9  # after 6 lines of fields, "follow_ups:" and the first follow-up's 2
    assert (caught.value.file, caught.value.line) == (str(path), line)
    assert str(caught.value).startswith(f"{path}:{line}: follow-up 2: a bare string")


ITEM = SECOND + 7  # the first follow-up's line: after 6 lines of fields and "follow_ups:"


@pytest.mark.parametrize(
    ("follow_ups", "line", "message"),
    [
        ("  follow_ups: Why not characters?\n", SECOND, "'follow_ups' must be a list"),
        (
            "  follow_ups:\n    - see: sec-bpe\n",
            ITEM,
            "follow-up 1: 'question' must be a non-empty",
        ),
        (
            "  follow_ups:\n    - question: Why?\n      see: bpe\n",
            ITEM,
            "follow-up 1: see 'bpe' is not a section label",
        ),
        ("  follow_ups:\n    - question: Why?\n", ITEM, "follow-up 1: see None is not a section"),
        (
            "  follow_ups:\n    - question: Why?\n      see: sec-bpe\n      answer: x\n",
            ITEM,
            "follow-up 1: unknown field(s): answer",
        ),
        ("  follow_ups:\n    - [why, sec-bpe]\n", ITEM, "follow-up 1: must be a mapping"),
    ],
)
def test_bad_follow_up_names_file_and_line(
    tmp_path: Path, follow_ups: str, line: int, message: str
) -> None:
    path = write(
        tmp_path / "foundations.yml", question("first-one") + question(follow_ups=follow_ups)
    )
    with pytest.raises(BankError) as caught:
        load_questions(path)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (question("Bad_Id"), "not kebab-case"),
        (question(topic="poetry"), "topic 'poetry' is not one of"),
        (question(level="guru"), "level 'guru' is not one of"),
        (question(answer="too short"), "answer has 2 words"),
        (question(see="fig-x"), "not a section label"),
        (question() + "  extra: 1\n", "unknown field(s): extra"),
    ],
)
def test_bad_question_names_file_and_line(tmp_path: Path, entry: str, message: str) -> None:
    path = write(tmp_path / "foundations.yml", question("first-one") + entry)
    with pytest.raises(BankError) as caught:
        load_questions(path)
    assert caught.value.line == SECOND
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{SECOND}: ")


def test_duplicate_ids_across_files_name_both_places(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", question("same"))
    b = write(tmp_path / "b.yml", question("other") + question("same"))
    write(tmp_path / "_draft.yml", question("same"))  # skipped: files starting with _
    with pytest.raises(BankError, match="duplicate id 'same'") as caught:
        load_question_bank(tmp_path)
    assert (caught.value.file, caught.value.line) == (str(b), SECOND)  # b.yml's second entry
    assert f"also at {tmp_path / 'a.yml'}:1" in str(caught.value)


def test_a_bank_of_unique_ids_loads_in_file_order(tmp_path: Path) -> None:
    write(tmp_path / "b.yml", question("second"))
    write(tmp_path / "a.yml", question("first"))
    assert [q.id for q in load_question_bank(tmp_path)] == ["first", "second"]


def test_malformed_yaml_is_located(tmp_path: Path) -> None:
    path = write(tmp_path / "g.yml", "- term: Token\n  definition: ok\n- term: [oops\n")
    with pytest.raises(BankError, match="malformed YAML") as caught:
        load_glossary(path)
    assert caught.value.line == 4  # where the parser found the unclosed bracket


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("- !!python/object:os.system {}\n", "could not determine a constructor"),
        ("- term: x\n  when: 2026-02-30\n", "day is out of range"),
    ],
)
def test_values_yaml_cannot_build_are_located_too(tmp_path: Path, entry: str, problem: str) -> None:
    # The syntax is fine; building the value fails (an unsafe tag, an impossible date).
    path = write(tmp_path / "g.yml", "- term: Token\n  definition: ok\n" + entry)
    with pytest.raises(BankError, match=problem) as caught:
        load_glossary(path)
    assert str(caught.value).startswith(f"{path}:3: malformed YAML: ")


GLOSSARY = """\
- term: Token
  definition: A unit of text the model reads.
  area: Tokenization
  see: sec-tokenization
  aliases: [tokens]
- term: Attention
  definition: Weighted mixing of token representations.
  area: Architecture
  see: sec-attention
- term: BPE
  definition: Byte-pair encoding.
  area: Tokenization
  see: sec-bpe
"""


def test_glossary_loads_and_rejects_duplicate_aliases(tmp_path: Path) -> None:
    terms = load_glossary(write(tmp_path / "g.yml", GLOSSARY))
    assert [t.term for t in terms] == ["Token", "Attention", "BPE"]
    duplicate = GLOSSARY + "- term: tokens\n  definition: x\n  area: A\n  see: sec-a\n"
    with pytest.raises(BankError) as caught:
        load_glossary(write(tmp_path / "g2.yml", duplicate))
    assert caught.value.line == 14
    assert "'tokens' is already defined at line 1" in str(caught.value)


def test_glossary_markdown_groups_by_area_in_order(tmp_path: Path) -> None:
    terms = load_glossary(write(tmp_path / "g.yml", GLOSSARY))
    text = glossary_markdown(terms, areas=["Tokenization", "Architecture"])
    assert text.index("## Tokenization") < text.index("## Architecture")
    assert text.index("**BPE**") < text.index("**Token**")  # alphabetical within an area
    assert (
        "**Token** (also: tokens)\n:   A unit of text the model reads. See @sec-tokenization."
        in text
    )


def test_glossary_markdown_default_order_is_alphabetical() -> None:
    terms = [Term("Z", "z.", "Zeta", "sec-z"), Term("A", "a.", "Alpha", "sec-a")]
    text = glossary_markdown(terms)
    assert text.index("## Alpha") < text.index("## Zeta")
