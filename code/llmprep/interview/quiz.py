"""The self-quiz's spaced-repetition schedule, and the cards and settings its page embeds.

The self-quiz page (``chapters/self-quiz.qmd``) runs in the reader's browser, offline: its
JavaScript (``chapters/_data/interview/self-quiz.js``) shows one question at a time, and the
reader marks each answer *known*, *shaky* or *unknown*. This module is the schedule's reference
implementation; the page embeds `schedule()` as JSON, so the browser uses these constants, and
the browser test checks the two agree.

The schedule is a Leitner system (Leitner, *So lernt man lernen*, 1972): five boxes, and a
card's box sets how long until it comes back.

    mark      new box                      back in this session    back on a later day
    unknown   0                            after 3 more cards      the next day you study
    shaky     1                            after 10 more cards     after 1 day
    known     one up, at least 2 (max 4)   not this session        after 3, 7 or 21 days

So what you miss returns within minutes and what you know returns after days, and a card
moves up one box each time you know it, back down at the first miss. Within a session, the
next card is: a missed card whose gap has passed, else a card never seen (in the bank's
order), else a card due today, lowest box first; if none is left, a missed card comes back
early rather than the quiz stalling. A session is one calendar day: the next day starts with
every card due by its box.

Leaves out: the SM-2 ease factors of Anki and SuperMemo (a per-card multiplier learned from
the reader's history; worth it across thousands of cards and months, not a week before an
interview) and sync between devices (progress stays in one browser's localStorage).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from llmprep.book.bank import LEVELS, Question
from llmprep.interview.bank_page import TOPIC_ORDER, ordered, topic_title

type Mark = Literal["unknown", "shaky", "known"]
MARKS: tuple[Mark, ...] = get_args(Mark.__value__)

BOXES = 5
"""Leitner boxes 0..4; a higher box means better known, so a longer wait."""

BOX_DAYS: tuple[int, ...] = (0, 1, 3, 7, 21)
"""Days until a card in each box is due again (0: the next time you study)."""

BOX_SESSION_GAP: tuple[int | None, ...] = (3, 10, None, None, None)
"""Cards shown before a card in each box comes back in the same session (None: not today)."""

MARK_BOX: Mapping[str, int] = {"unknown": 0, "shaky": 1}
"""The box a miss sends a card to, whatever box it was in."""

KNOWN_MIN_BOX = 2
"""A known card goes up one box, but never lower than this: known must wait longer than shaky."""

STORAGE_KEY = "llmprep-self-quiz-v1"
"""The browser's localStorage key; a new version of the format gets a new key."""

STORAGE_VERSION = 1


@dataclass(frozen=True, slots=True)
class CardState:
    """What the quiz remembers about one question.

    ``due_day`` is the day number (days since 1970-01-01, local time) from which the card is
    due; ``again_after`` is the number of cards seen this session after which it returns today
    (None: not this session); ``reviews`` counts marks; ``last`` is the latest mark.
    """

    box: int
    due_day: int
    again_after: int | None
    reviews: int
    last: Mark


def _check_mark(mark: str) -> Mark:
    if mark not in MARKS:
        raise ValueError(f"mark must be one of {', '.join(MARKS)}, got {mark!r}")
    return mark


def box_after(box: int | None, mark: str) -> int:
    """The box after a mark; ``box`` is None for a card never seen.

    Example: box_after(None, "known") == 2; box_after(3, "known") == 4;
    box_after(4, "shaky") == 1; box_after(2, "unknown") == 0
    """
    checked = _check_mark(mark)
    if box is not None and (isinstance(box, bool) or not 0 <= box < BOXES):
        raise ValueError(f"box must be in 0..{BOXES - 1} or None, got {box!r}")
    if checked == "known":
        return min(max((box if box is not None else -1) + 1, KNOWN_MIN_BOX), BOXES - 1)
    return MARK_BOX[checked]


def review(state: CardState | None, mark: str, *, today: int, seen: int) -> CardState:
    """The card's state after the reader marks it, ``seen`` cards into today's session
    (counting this one).

    Example: review(None, "unknown", today=100, seen=1)
             == CardState(box=0, due_day=100, again_after=4, reviews=1, last="unknown")
    """
    if seen < 1:
        raise ValueError(f"seen counts the card being marked, so it must be >= 1, got {seen!r}")
    box = box_after(state.box if state is not None else None, mark)
    gap = BOX_SESSION_GAP[box]
    return CardState(
        box=box,
        due_day=today + BOX_DAYS[box],
        again_after=None if gap is None else seen + gap,
        reviews=(state.reviews if state is not None else 0) + 1,
        last=_check_mark(mark),
    )


def new_session(states: Mapping[str, CardState]) -> dict[str, CardState]:
    """States at the start of a new day: no card is waiting to come back within a session."""
    return {key: replace(value, again_after=None) for key, value in states.items()}


def next_card(
    order: Sequence[str], states: Mapping[str, CardState], *, today: int, seen: int
) -> str | None:
    """The id to show next among ``order`` (the selected cards, in bank order), or None.

    First a card whose in-session gap has passed (the one waiting longest), then a card never
    seen, then a card due by its day, lowest box first (then earliest due, then bank order).
    A card waiting for its in-session gap is not shown early as "due today", unless nothing
    else is left in the selection (then the one due back soonest comes early).
    """
    returning = [
        (s.again_after, i, key)
        for i, key in enumerate(order)
        if (s := states.get(key)) is not None and s.again_after is not None
        if s.again_after <= seen
    ]
    if returning:
        return min(returning)[2]
    for key in order:
        if key not in states:
            return key
    due = [
        (s.box, s.due_day, i, key)
        for i, key in enumerate(order)
        if (s := states[key]).again_after is None and s.due_day <= today
    ]
    if due:
        return min(due)[3]
    # Nothing else to show: rather than stall, bring a waiting card back early.
    waiting = [
        (s.again_after, i, key)
        for i, key in enumerate(order)
        if (s := states[key]).again_after is not None
    ]
    return min(waiting)[2] if waiting else None


def schedule() -> dict[str, Any]:
    """The constants the page's JavaScript reads, so both sides run one schedule."""
    return {
        "version": STORAGE_VERSION,
        "storageKey": STORAGE_KEY,
        "marks": list(MARKS),
        "boxes": BOXES,
        "boxDays": list(BOX_DAYS),
        "boxSessionGap": list(BOX_SESSION_GAP),
        "markBox": dict(MARK_BOX),
        "knownMinBox": KNOWN_MIN_BOX,
    }


def config(questions: Iterable[Question]) -> dict[str, Any]:
    """The page's settings: the schedule, and the topics and levels present, with counts."""
    items = list(questions)
    topics = [*TOPIC_ORDER, *sorted({q.topic for q in items} - set(TOPIC_ORDER))]
    return {
        "schedule": schedule(),
        "topics": [
            {"slug": t, "title": topic_title(t), "count": sum(q.topic == t for q in items)}
            for t in topics
            if any(q.topic == t for q in items)
        ],
        "levels": [
            {
                "slug": level,
                "title": level.capitalize(),
                "count": sum(q.level == level for q in items),
            }
            for level in LEVELS
        ],
    }


def config_html(questions: Iterable[Question]) -> str:
    """`config` as an inert JSON script element, safe to place in the page."""
    text = json.dumps(config(questions), sort_keys=True)
    # subtle: "</" inside a script element would end it early; JSON allows "<\/" for "</".
    return (
        '<script type="application/json" id="quiz-config">'
        + text.replace("</", "<\\/")
        + "</script>"
    )


def card_markdown(question: Question) -> str:
    """One hidden card: a Pandoc div whose attributes the script reads, holding the question
    and (hidden until revealed) the answer, rendered by Pandoc like any other Markdown."""
    attrs = (
        f'.quiz-card data-id="{question.id}" data-topic="{question.topic}" '
        f'data-level="{question.level}" hidden="hidden"'
    )
    return "\n".join(
        [
            f"::::: {{{attrs}}}",
            "::: {.quiz-question}",
            " ".join(question.question.split()),
            ":::",
            '::: {.quiz-answer hidden="hidden"}',
            question.answer.strip(),
            "",
            f"Taught in @{question.see}.",
            ":::",
            ":::::",
            "",
        ]
    )


def cards_markdown(questions: Iterable[Question]) -> str:
    """Every card, in the bank page's order (topic in study order, then level)."""
    return "\n".join(card_markdown(q) for q in ordered(questions))


def raw_html(text: str) -> str:
    """``text`` as a raw HTML block for Pandoc (passed through to HTML, dropped elsewhere)."""
    if "\n```" in f"\n{text}":
        raise ValueError(
            "raw HTML must not contain a line starting with ``` (it would end the block)"
        )
    return f"```{{=html}}\n{text.strip()}\n```"


def script_html(source: str, style: str = "") -> str:
    """The page's JavaScript (and CSS) as one raw HTML block for Pandoc."""
    if "</script" in source.lower():
        raise ValueError("the script must not contain '</script'")
    if "</style" in style.lower():
        raise ValueError("the style sheet must not contain '</style'")
    parts = [f"<style>\n{style.strip()}\n</style>"] if style.strip() else []
    parts.append(f"<script>\n{source.strip()}\n</script>")
    return raw_html("\n".join(parts))


def _checkboxes(name: str, legend: str, options: Sequence[Mapping[str, Any]]) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="{name}" value="{html.escape(o["slug"])}" checked> '
        f'{html.escape(o["title"])} <span class="quiz-count">({o["count"]})</span></label>'
        for o in options
    )
    return f"<fieldset><legend>{legend}</legend>{boxes}</fieldset>"


def app_html(questions: Iterable[Question]) -> str:
    """The quiz's controls as static HTML (hidden until the script runs), with its settings.

    Every control is a native ``<button>`` or checkbox, so the quiz works from the keyboard; the
    status line is a live region, so a screen reader hears which question is showing.
    """
    items = list(questions)
    settings = config(items)
    return "\n".join(
        [
            '<div id="quiz-app" class="quiz-app">',
            config_html(items),
            '<form id="quiz-filters" class="quiz-filters" hidden>',
            _checkboxes("topic", "Topics", settings["topics"]),
            _checkboxes("level", "Levels", settings["levels"]),
            "</form>",
            '<p id="quiz-status" class="quiz-status" role="status" aria-live="polite">'
            "The self-quiz needs JavaScript.</p>",
            '<div id="quiz-stage" class="quiz-stage" aria-label="Current question"'
            ' role="region"></div>',
            '<div class="quiz-controls" hidden>',
            '<button type="button" id="quiz-reveal" aria-expanded="false">'
            "Show answer <kbd>A</kbd></button>",
            '<div class="quiz-marks" role="group" aria-label="How well did you know it?">',
            '<button type="button" data-mark="unknown" disabled>Unknown <kbd>1</kbd></button>',
            '<button type="button" data-mark="shaky" disabled>Shaky <kbd>2</kbd></button>',
            '<button type="button" data-mark="known" disabled>Known <kbd>3</kbd></button>',
            "</div>",
            "</div>",
            '<div id="quiz-progress" class="quiz-progress"></div>',
            '<div class="quiz-reset" hidden>',
            '<button type="button" id="quiz-reset">Reset progress</button>',
            '<span id="quiz-confirm" hidden>Erase every mark on this device? '
            '<button type="button" id="quiz-reset-yes">Erase</button> '
            '<button type="button" id="quiz-reset-no">Cancel</button></span>',
            "</div>",
            "</div>",
        ]
    )
