"""The self-quiz page (chapters/self-quiz.qmd) in real Chromium, opened from file://.

The page must work with no server and no network: its cards, settings and script are all in the
one HTML file. These tests drive the built page as a reader would (filters, reveal, marks,
reload, reset) and replay a session against `llmprep.interview.quiz`, the schedule's reference
implementation, so the page's JavaScript cannot drift from the rules the book describes. Each
test opens its own browser context, so localStorage starts empty; the clock is fixed, so "today"
is the same for the page and for the Python side.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from llmprep.book.bank import load_question_bank
from llmprep.interview import bank_page, quiz

from ..support import pdf
from .conftest import ROOT, OpenPage, Site, Visit

pytestmark = pytest.mark.browser
PAGE = "chapters/self-quiz.html"
NOON = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
TODAY = (NOON - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).days
UNKNOWN_GAP = quiz.BOX_SESSION_GAP[quiz.MARK_BOX["unknown"]] or 0
SHAKY_GAP = quiz.BOX_SESSION_GAP[quiz.MARK_BOX["shaky"]] or 0
BANK = load_question_bank(ROOT / "chapters" / "_data" / "questions")


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser context (empty localStorage) in UTC, with the clock fixed at NOON."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    ctx.clock.set_fixed_time(NOON)
    yield ctx
    ctx.close()


def open_quiz(site: Site, open_page: OpenPage, context: Any) -> Visit:
    visit = open_page(site.url(PAGE, "file"), context=context)
    visit.page.locator("#quiz-filters").wait_for(state="visible")
    return visit


def current(page: Any) -> str | None:
    """The id of the card on show, or None when the stage is empty."""
    ids: list[str] = page.evaluate(
        "Array.from(document.querySelectorAll('.quiz-card'))"
        ".filter(c => !c.hidden).map(c => c.dataset.id)"
    )
    assert len(ids) <= 1, f"more than one card on show: {ids}"
    return ids[0] if ids else None


def mark(page: Any, kind: str) -> None:
    page.click("#quiz-reveal")
    page.click(f'[data-mark="{kind}"]')


def choose(page: Any, *, topics: set[str], levels: set[str]) -> None:
    """Tick exactly these topics and levels (each click fires the page's change handler)."""
    for name, wanted in (("topic", topics), ("level", levels)):
        boxes = page.locator(f'#quiz-filters input[name="{name}"]')
        for i in range(boxes.count()):
            box = boxes.nth(i)
            box.set_checked(box.get_attribute("value") in wanted)


def stored(page: Any) -> dict[str, Any]:
    raw = page.evaluate(f"window.localStorage.getItem({json.dumps(quiz.STORAGE_KEY)})")
    return json.loads(raw) if raw else {}


def pool(topic: str, level: str | None = None) -> list[str]:
    """The ids a selection holds, in the page's (bank page's) order."""
    return [
        q.id
        for q in bank_page.ordered(BANK)
        if q.topic == topic and (level is None or q.level == level)
    ]


def test_page_runs_offline_with_every_card_embedded(
    book_site: Site, open_page: OpenPage, context: Any
) -> None:
    visit = open_quiz(book_site, open_page, context)
    page = visit.page
    assert visit.errors == []
    others = [u for u in visit.requests if not u.startswith(("file://", "data:"))]
    assert others == [], f"requests other than file:// {others}"
    embedded = page.evaluate(
        "Array.from(document.querySelectorAll('.quiz-card'), c => c.dataset.id)"
    )
    assert embedded == [q.id for q in bank_page.ordered(BANK)]
    config = json.loads(page.locator("#quiz-config").text_content() or "{}")
    assert config["schedule"] == quiz.schedule()
    assert page.locator("#quiz-status").inner_text().startswith(f"Question 1 of {len(BANK)} ")
    assert current(page) == bank_page.ordered(BANK)[0].id


def test_filtering_by_topic_and_level_changes_the_pool(
    book_site: Site, open_page: OpenPage, context: Any
) -> None:
    page = open_quiz(book_site, open_page, context).page
    rag_core = pool("rag", "core")
    assert 0 < len(rag_core) < len(pool("rag"))
    choose(page, topics={"rag"}, levels={"core"})
    assert page.locator("#quiz-status").inner_text().startswith(f"Question 1 of {len(rag_core)} ")
    assert current(page) == rag_core[0]
    assert (
        page.locator("#quiz-progress p")
        .inner_text()
        .startswith(f"{len(rag_core)} questions selected: {len(rag_core)} new")
    )
    choose(page, topics={"rag", "agents"}, levels={"core", "senior", "staff"})
    both = len(pool("rag")) + len(pool("agents"))
    assert page.locator("#quiz-status").inner_text().startswith(f"Question 1 of {both} ")
    choose(page, topics=set(), levels={"core"})
    assert current(page) is None
    assert "No questions match" in page.locator("#quiz-status").inner_text()
    assert page.locator("#quiz-reveal").is_disabled()


def test_reveal_shows_the_answer_and_enables_the_marks(
    book_site: Site, open_page: OpenPage, context: Any
) -> None:
    page = open_quiz(book_site, open_page, context).page
    first = bank_page.ordered(BANK)[0]
    card = page.locator(f'.quiz-card[data-id="{first.id}"]')
    answer = card.locator(".quiz-answer")
    assert card.is_visible()
    assert not answer.is_visible()
    assert page.locator('[data-mark="known"]').is_disabled()
    page.keyboard.press("a")
    assert answer.is_visible()
    assert page.locator("#quiz-reveal").get_attribute("aria-expanded") == "true"
    assert page.locator('[data-mark="known"]').is_enabled()
    shown = answer.inner_text().split()
    assert len(shown) >= 40  # the model answer itself (60 to 250 words), not an empty box
    assert "Taught in" in " ".join(shown)
    page.keyboard.press("3")  # known: the next card, its answer folded again
    assert current(page) == bank_page.ordered(BANK)[1].id
    assert not page.locator(f'.quiz-card[data-id="{current(page)}"] .quiz-answer').is_visible()


def test_unknown_comes_back_after_its_gap_and_known_does_not(
    book_site: Site, open_page: OpenPage, context: Any
) -> None:
    page = open_quiz(book_site, open_page, context).page
    ids = pool("foundations")
    assert UNKNOWN_GAP > 0
    assert len(ids) > UNKNOWN_GAP + 12
    choose(page, topics={"foundations"}, levels={"core", "senior", "staff"})
    missed = current(page)
    assert missed == ids[0]
    mark(page, "unknown")
    shown = []
    for _ in range(UNKNOWN_GAP):
        shown.append(current(page))
        mark(page, "known")
    assert shown == ids[1 : 1 + UNKNOWN_GAP]  # new cards fill the gap, in bank order
    assert current(page) == missed  # ... and then the missed card is back
    mark(page, "known")
    later = []
    for _ in range(12):
        later.append(current(page))
        mark(page, "known")
    assert missed not in later
    assert later == ids[1 + UNKNOWN_GAP : 13 + UNKNOWN_GAP]  # no known card repeats either
    assert stored(page)["cards"][missed]["box"] == quiz.KNOWN_MIN_BOX


def test_a_session_on_the_page_follows_the_python_schedule(
    book_site: Site, open_page: OpenPage, context: Any
) -> None:
    """Marks on a small pool until nothing is left, the page's choice at every step compared
    with `quiz.next_card` and its stored state with `quiz.review`. The pool runs dry, so
    waiting cards come back early and the session finally stops."""
    page = open_quiz(book_site, open_page, context).page
    sizes = {(q.topic, q.level): len(pool(q.topic, q.level)) for q in BANK}
    topic, level = min((k for k, n in sizes.items() if n >= 5), key=lambda k: (sizes[k], k))
    order = pool(topic, level)
    choose(page, topics={topic}, levels={level})
    marks = ["unknown", "shaky", "known", "shaky", "unknown", "known"] * 10
    states: dict[str, quiz.CardState] = {}
    seen = 0
    while (expected := quiz.next_card(order, states, today=TODAY, seen=seen)) is not None:
        assert current(page) == expected, f"after {seen} marks"
        kind = marks[seen]
        mark(page, kind)
        seen += 1
        states[expected] = quiz.review(states.get(expected), kind, today=TODAY, seen=seen)
    assert seen > len(order) + SHAKY_GAP // 2  # misses came back, some of them early
    assert current(page) is None
    assert "Nothing is due" in page.locator("#quiz-status").inner_text()
    data = stored(page)
    assert data["session"] == {"day": TODAY, "seen": seen}
    assert data["cards"] == {
        key: {
            "box": s.box,
            "due": s.due_day,
            "again": s.again_after,
            "reviews": s.reviews,
            "last": s.last,
        }
        for key, s in states.items()
    }


def test_progress_survives_a_reload_and_a_new_day_brings_misses_first(
    book_site: Site, open_page: OpenPage, context: Any
) -> None:
    page = open_quiz(book_site, open_page, context).page
    order = pool("agents", "core")
    choose(page, topics={"agents"}, levels={"core"})
    for kind in ("known", "shaky", "unknown"):
        mark(page, kind)
    page.reload()
    page.locator("#quiz-filters").wait_for(state="visible")
    assert page.locator('input[name="level"][value="senior"]').is_checked() is False
    assert current(page) == order[3]  # the fourth card: the three marked ones are not due yet
    assert "Seen today: 3." in page.locator("#quiz-progress p").inner_text()
    assert {k: v["last"] for k, v in stored(page)["cards"].items()} == {
        order[0]: "known",
        order[1]: "shaky",
        order[2]: "unknown",
    }
    assert quiz.BOX_DAYS[quiz.KNOWN_MIN_BOX] > 1 == quiz.BOX_DAYS[quiz.MARK_BOX["shaky"]]
    context.clock.set_fixed_time(NOON + dt.timedelta(days=1))
    page.reload()  # a new day: new cards first, then what is due, lowest box first
    page.locator("#quiz-filters").wait_for(state="visible")
    for key in order[3:]:
        assert current(page) == key
        mark(page, "known")
    assert current(page) == order[2]  # box 1 (unknown, due after 0 days)
    mark(page, "known")
    assert current(page) == order[1]  # box 2 (shaky, due after 1 day)
    mark(page, "known")
    assert current(page) is None  # the known card waits longer than a day
    assert stored(page)["session"]["day"] == TODAY + 1


def test_reset_clears_progress_but_keeps_the_selection(
    book_site: Site, open_page: OpenPage, context: Any
) -> None:
    page = open_quiz(book_site, open_page, context).page
    order = pool("rag", "senior")
    choose(page, topics={"rag"}, levels={"senior"})
    mark(page, "known")
    mark(page, "unknown")
    assert len(stored(page)["cards"]) == 2
    page.click("#quiz-reset")
    assert page.locator("#quiz-confirm").is_visible()
    page.click("#quiz-reset-no")  # cancel keeps everything
    assert len(stored(page)["cards"]) == 2
    page.click("#quiz-reset")
    page.click("#quiz-reset-yes")
    data = stored(page)
    assert data["cards"] == {}
    assert data["session"]["seen"] == 0
    assert data["filters"] == {"topic": ["rag"], "level": ["senior"]}
    assert current(page) == order[0]
    assert "Seen today: 0." in page.locator("#quiz-progress p").inner_text()
    page.reload()
    page.locator("#quiz-filters").wait_for(state="visible")
    assert current(page) == order[0]


def test_epub_and_pdf_hold_the_fallback_and_no_quiz(book_site: Site) -> None:
    """The quiz is HTML-only: the EPUB's page and the PDF hold the paper fallback, and no page
    of the EPUB has a script."""
    books = sorted(book_site.folder.glob("*.epub"))
    assert books, f"no EPUB in {book_site.folder}"
    with zipfile.ZipFile(books[0]) as archive:
        pages = {
            name: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.endswith((".xhtml", ".html"))
        }
    quiz_pages = [name for name, text in pages.items() if 'id="sec-self-quiz"' in text]
    assert len(quiz_pages) == 1, sorted(pages)
    text = pages[quiz_pages[0]]
    assert "The self-quiz is interactive" in text
    assert "quiz-card" not in text
    assert "quiz-app" not in text
    assert [name for name, page in pages.items() if "<script" in page] == []
    pdfs = sorted(book_site.folder.glob("*.pdf"))
    assert pdfs, f"no PDF in {book_site.folder}"
    printed = " ".join(pdf.text(pdfs[0]).split())
    assert "The self-quiz is interactive" in printed
    assert "Show answer" not in printed
    assert "needs JavaScript" not in printed
