"""The self-quiz schedule (the Python reference the page's JavaScript follows), and its cards."""

from __future__ import annotations

import json
import re

import pypandoc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.book.bank import Question
from llmprep.interview.quiz import (
    BOX_DAYS,
    BOX_SESSION_GAP,
    BOXES,
    KNOWN_MIN_BOX,
    MARKS,
    STORAGE_KEY,
    CardState,
    app_html,
    box_after,
    card_markdown,
    cards_markdown,
    config,
    config_html,
    new_session,
    next_card,
    raw_html,
    review,
    schedule,
    script_html,
)


def q(ident: str, topic: str = "rag", level: str = "core") -> Question:
    return Question(
        id=ident,
        topic=topic,  # type: ignore[arg-type]
        level=level,  # type: ignore[arg-type]
        question=f"What is {ident}?",
        answer="It is $x^2$, see `code`.",
        follow_ups=(),
        see="sec-x",
    )


# -----------------------------------------------------------------------------
# boxes and marks


@pytest.mark.parametrize(
    ("box", "mark", "expected"),
    [
        (None, "unknown", 0),
        (None, "shaky", 1),
        (None, "known", 2),  # a new card you know skips the boxes of shaky and unknown
        (0, "known", 2),
        (2, "known", 3),
        (3, "known", 4),
        (4, "known", 4),  # the top box is the last
        (4, "shaky", 1),
        (4, "unknown", 0),
        (1, "shaky", 1),
    ],
)
def test_box_after_a_mark(box: int | None, mark: str, expected: int) -> None:
    assert box_after(box, mark) == expected


def test_bad_marks_and_boxes_name_the_value() -> None:
    with pytest.raises(ValueError, match="'maybe'"):
        box_after(0, "maybe")
    with pytest.raises(ValueError, match="7"):
        box_after(7, "known")
    with pytest.raises(ValueError, match="seen"):
        review(None, "known", today=0, seen=0)


def test_missed_cards_wait_less_than_known_ones() -> None:
    # The schedule's whole point: unknown < shaky < known, both within a session and in days.
    gaps = {m: BOX_SESSION_GAP[box_after(None, m)] for m in MARKS}
    days = {m: BOX_DAYS[box_after(None, m)] for m in MARKS}
    assert gaps["unknown"] is not None
    assert gaps["shaky"] is not None
    assert gaps["unknown"] < gaps["shaky"]
    assert gaps["known"] is None  # not again today
    assert days["unknown"] < days["shaky"] < days["known"]
    assert list(BOX_DAYS) == sorted(BOX_DAYS)
    assert len(BOX_DAYS) == len(BOX_SESSION_GAP) == BOXES
    assert all(BOX_SESSION_GAP[b] is None for b in range(KNOWN_MIN_BOX, BOXES))


def test_review_sets_the_due_day_and_the_return_in_the_session() -> None:
    first = review(None, "unknown", today=100, seen=1)
    assert first == CardState(box=0, due_day=100, again_after=4, reviews=1, last="unknown")
    second = review(first, "shaky", today=100, seen=4)
    assert second == CardState(box=1, due_day=101, again_after=14, reviews=2, last="shaky")
    third = review(second, "known", today=101, seen=1)
    assert third == CardState(box=2, due_day=104, again_after=None, reviews=3, last="known")
    top = review(review(third, "known", today=104, seen=1), "known", today=111, seen=1)
    assert (top.box, top.due_day) == (4, 111 + BOX_DAYS[4])


@given(st.lists(st.sampled_from(MARKS), min_size=1, max_size=30))
def test_any_history_keeps_the_box_in_range_and_counts_reviews(marks: list[str]) -> None:
    state: CardState | None = None
    for n, mark in enumerate(marks, start=1):
        state = review(state, mark, today=n, seen=n)
        assert 0 <= state.box < BOXES
        assert state.due_day == n + BOX_DAYS[state.box]
        # the last mark alone decides how soon the card returns, except known's climb
        if mark != "known":
            assert state.box == {"unknown": 0, "shaky": 1}[mark]
    assert state is not None
    assert state.reviews == len(marks)


# -----------------------------------------------------------------------------
# which card comes next


def test_new_cards_come_in_bank_order() -> None:
    assert next_card(["a", "b", "c"], {}, today=0, seen=0) == "a"


def test_an_unknown_card_returns_after_its_gap_and_a_known_one_does_not() -> None:
    order = [f"q{i}" for i in range(20)]
    states: dict[str, CardState] = {}
    shown: list[str] = []
    marks = {"q0": "unknown", "q1": "known"}
    for seen in range(1, 13):
        card = next_card(order, states, today=0, seen=seen - 1)
        assert card is not None
        shown.append(card)
        states[card] = review(states.get(card), marks.get(card, "known"), today=0, seen=seen)
        marks.pop(card, None)  # the second time round, q0 is known
    gap = BOX_SESSION_GAP[0]
    assert gap is not None
    # q0 was the 1st card; it returns as the (1 + gap + 1)th, after `gap` other cards
    assert shown.index("q0", 1) == gap + 1
    assert shown.count("q1") == 1


def test_cards_due_by_day_come_lowest_box_first_and_waiting_cards_are_not_early() -> None:
    states = {
        "a": CardState(box=3, due_day=5, again_after=None, reviews=3, last="known"),
        "b": CardState(box=1, due_day=5, again_after=None, reviews=1, last="shaky"),
        "c": CardState(box=2, due_day=9, again_after=None, reviews=2, last="known"),
        "d": CardState(box=0, due_day=5, again_after=8, reviews=1, last="unknown"),
    }
    assert next_card(["a", "b", "c", "d"], states, today=5, seen=2) == "b"
    assert next_card(["a", "c", "d"], states, today=5, seen=2) == "a"
    # only d is left and its gap has not passed: it comes early rather than the quiz stalling
    assert next_card(["c", "d"], states, today=5, seen=2) == "d"
    assert next_card(["c"], states, today=5, seen=2) is None
    assert next_card(["c"], states, today=9, seen=2) == "c"


def test_a_waiting_card_beats_new_cards_once_its_gap_has_passed() -> None:
    states = {"old": CardState(box=0, due_day=0, again_after=3, reviews=1, last="unknown")}
    assert next_card(["new", "old"], states, today=0, seen=2) == "new"
    assert next_card(["new", "old"], states, today=0, seen=3) == "old"


def test_a_new_day_clears_the_in_session_returns() -> None:
    states = {"a": CardState(box=0, due_day=0, again_after=9, reviews=1, last="unknown")}
    fresh = new_session(states)
    assert fresh["a"].again_after is None
    assert next_card(["a"], fresh, today=1, seen=0) == "a"


def test_unknown_comes_back_on_a_later_day_before_known() -> None:
    day0 = {
        "k": review(None, "known", today=0, seen=1),
        "u": review(None, "unknown", today=0, seen=2),
    }
    tomorrow = new_session(day0)
    assert next_card(["k", "u"], tomorrow, today=1, seen=0) == "u"
    after = {**tomorrow, "u": review(tomorrow["u"], "known", today=1, seen=1)}
    assert next_card(["k", "u"], new_session(after), today=2, seen=0) is None
    assert next_card(["k", "u"], new_session(after), today=BOX_DAYS[2], seen=0) == "k"


# -----------------------------------------------------------------------------
# what the page embeds


def test_schedule_json_holds_the_constants() -> None:
    data = schedule()
    assert data["storageKey"] == STORAGE_KEY
    assert re.fullmatch(r".+-v\d+", STORAGE_KEY)  # versioned
    assert data["boxDays"] == list(BOX_DAYS)
    assert data["boxSessionGap"] == list(BOX_SESSION_GAP)
    assert data["markBox"] == {"unknown": 0, "shaky": 1}
    json.dumps(data)


def test_config_counts_topics_in_study_order() -> None:
    bank = [q("a", "agents"), q("b", "rag", "staff"), q("c", "rag")]
    data = config(bank)
    assert [t["slug"] for t in data["topics"]] == ["rag", "agents"]
    assert data["topics"][0] == {
        "slug": "rag",
        "title": "Retrieval-augmented generation",
        "count": 2,
    }
    assert [lv["count"] for lv in data["levels"]] == [2, 0, 1]


def test_config_html_cannot_end_its_script_early() -> None:
    bank = [q("a")]
    text = config_html(bank)
    assert text.count("</script>") == 1
    body = text.removeprefix('<script type="application/json" id="quiz-config">')
    assert json.loads(body.removesuffix("</script>"))["schedule"]["version"] == 1


def test_a_card_is_a_hidden_div_with_its_data_and_a_hidden_answer() -> None:
    html = str(pypandoc.convert_text(card_markdown(q("rag-x")), "html", format="markdown"))
    native = " ".join(html.split())
    assert re.search(r'<div class="quiz-card" data-id="rag-x" data-topic="rag" '
                     r'data-level="core" hidden="hidden">', native)  # fmt: skip
    assert '<div class="quiz-answer" hidden="hidden">' in native
    assert "<math" in native or "math inline" in native  # the answer's math is rendered
    assert "<code>code</code>" in native


def test_cards_come_in_bank_page_order() -> None:
    text = cards_markdown([q("z", "agents"), q("y", "rag", "staff"), q("x", "rag")])
    assert re.findall(r'data-id="([a-z]+)"', text) == ["x", "y", "z"]


def test_raw_blocks_refuse_text_that_would_break_them() -> None:
    assert raw_html("<p>hi</p>") == "```{=html}\n<p>hi</p>\n```"
    with pytest.raises(ValueError, match="```"):
        raw_html("a\n```\nb")
    with pytest.raises(ValueError, match="</script"):
        script_html("x = '</SCRIPT>'")
    assert "<style>" in script_html("x = 1", ".a {}")
    assert "<style>" not in script_html("x = 1")


def test_app_controls_are_native_and_labelled() -> None:
    text = app_html([q("a", "rag"), q("b", "agents", "senior")])
    assert text.count('type="checkbox"') == 2 + 3  # two topics present, three levels
    assert 'value="agents"' in text
    for mark in MARKS:
        assert f'<button type="button" data-mark="{mark}" disabled>' in text
    assert 'role="status"' in text
    assert "<table" not in text  # the site wraps tables; the quiz has none
