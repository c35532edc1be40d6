"""Prompt templates: every slot filled exactly once, nothing missing, nothing extra."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.messages import Message
from llmprep.prompting.templates import ChatTemplate, PromptTemplate, TemplateError

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)
LITERALS = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=12)
VALUES = st.text(max_size=12)  # may contain braces: they must arrive as typed
SLOT = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@st.composite
def templates(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """Alternating literal text and slot names (a name may repeat), plus the template."""
    names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    slots: list[str] = draw(st.lists(st.sampled_from(names), min_size=1, max_size=6))
    literals = draw(st.lists(LITERALS, min_size=len(slots) + 1, max_size=len(slots) + 1))
    return literals, slots


def _text(literals: list[str], slots: list[str]) -> str:
    return literals[0] + "".join(
        "{" + s + "}" + lit for s, lit in zip(slots, literals[1:], strict=True)
    )


@given(templates(), st.data())
def test_render_fills_every_slot_with_its_value_and_leaves_no_slot(
    parts: tuple[list[str], list[str]], data: st.DataObject
) -> None:
    literals, slots = parts
    template = PromptTemplate(_text(literals, slots))
    safe_values = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=12)
    values = {name: data.draw(safe_values) for name in template.variables}
    rendered = template.render(values)
    expected = literals[0] + "".join(
        values[s] + lit for s, lit in zip(slots, literals[1:], strict=True)
    )
    assert rendered == expected
    assert not SLOT.search(rendered)  # no variable left unfilled


@given(templates(), st.data())
def test_values_are_inserted_verbatim_even_when_they_contain_braces(
    parts: tuple[list[str], list[str]], data: st.DataObject
) -> None:
    literals, slots = parts
    template = PromptTemplate(_text(literals, slots))
    values = {name: data.draw(VALUES) for name in template.variables}
    expected = literals[0] + "".join(
        values[s] + lit for s, lit in zip(slots, literals[1:], strict=True)
    )
    assert template.render(values) == expected


@given(templates(), st.data())
def test_any_missing_variable_is_rejected_by_name(
    parts: tuple[list[str], list[str]], data: st.DataObject
) -> None:
    template = PromptTemplate(_text(*parts))
    dropped = data.draw(st.sampled_from(template.variables))
    values = {name: "x" for name in template.variables if name != dropped}
    with pytest.raises(TemplateError, match=f"missing values for .*{dropped}"):
        template.render(values)


def test_unexpected_and_none_values_are_rejected() -> None:
    template = PromptTemplate("Summarize {document}.")
    with pytest.raises(TemplateError, match="no slot for doc"):
        template.render(document="text", doc="typo")
    with pytest.raises(TemplateError, match="document are None"):
        template.render(document=None)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Hello {}", "plain name"),
        ("{user.name}", "plain name"),
        ("{row[0]}", "plain name"),
        ("{x!r}", "format specs"),
        ("{x:>10}", "format specs"),
        ("a lone { brace", "malformed"),
    ],
)
def test_unsafe_or_malformed_slots_fail_at_construction(text: str, why: str) -> None:
    with pytest.raises(TemplateError, match=why):
        PromptTemplate(text)


def test_double_braces_are_literal_and_variables_come_in_order() -> None:
    template = PromptTemplate('Reply as JSON {{"answer": ...}} to {q}, then {a} and {q}.')
    assert template.variables == ("q", "a")
    assert template.render(q="Q", a="A") == 'Reply as JSON {"answer": ...} to Q, then A and Q.'


def test_partial_fills_some_slots_and_keeps_the_rest() -> None:
    template = PromptTemplate("{greeting}, {name}! {{literal}}").partial(greeting="Hi {there}")
    assert template.variables == ("name",)
    assert template.render(name="Ada") == "Hi {there}, Ada! {literal}"
    with pytest.raises(TemplateError, match="no slot for nickname"):
        template.partial(nickname="x")


def test_chat_template_checks_both_messages_as_one_set() -> None:
    chat = ChatTemplate("You are {role}.", "{question}")
    assert chat.variables == ("role", "question")
    assert chat.render(role="terse", question="2+2?") == [
        Message.system("You are terse."),
        Message.user("2+2?"),
    ]
    with pytest.raises(TemplateError, match="missing values for question"):
        chat.render(role="terse")
