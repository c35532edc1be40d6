"""The book's slide decks in a real browser, opened straight from disk as a reader would.

Each deck must work from a USB stick: no request leaves ``file:``, reveal.js runs without errors,
the arrow keys move through it, every content slide carries speaker notes that the audience never
sees, the PDF handouts have one page per slide, and axe-core finds nothing serious.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import OpenPage, Site, serious_violations

pytestmark = pytest.mark.browser
LOCAL = ("file:", "data:", "blob:", "about:")

# Content slides: every slide but the title slide and the section title slides (`#` headers).
CONTENT_SLIDES = """() => Reveal.getSlides()
  .filter(s => s.id !== 'title-slide' && !s.classList.contains('level1'))
  .map(s => ({id: s.id, notes: (Reveal.getSlideNotes(s) || '').trim()}))"""
NOTES_HIDDEN = """() => [...document.querySelectorAll('aside.notes')]
  .every(a => a.getClientRects().length === 0 && getComputedStyle(a).display === 'none')"""
SHOW_SLIDE = """(n) => { const i = Reveal.getIndices(Reveal.getSlides()[n]);
  Reveal.slide(i.h, i.v, Number.MAX_SAFE_INTEGER); }"""


def decks(site: Site) -> list[Path]:
    found = sorted((site.folder / "slides").glob("*.html"))
    assert found, "the book has no slide decks"
    return found


def open_deck(open_page: OpenPage, deck: Path) -> Any:
    visit = open_page(deck.as_uri(), width=1050)
    visit.page.wait_for_function("window.Reveal && Reveal.isReady()")
    return visit


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    match = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
    assert match, info.stdout
    return int(match.group(1))


def test_decks_load_from_disk_with_no_network_and_no_errors(
    book_site: Site, open_page: OpenPage
) -> None:
    for deck in decks(book_site):
        visit = open_deck(open_page, deck)
        visit.page.keyboard.press("End")  # visit the whole deck: lazy figures load too
        visit.page.wait_for_timeout(300)
        remote = [u for u in visit.requests if not u.startswith(LOCAL)]
        assert remote == [], f"{deck.name}: requests off the disk {remote}"
        assert visit.errors == [], f"{deck.name}: console errors {visit.errors}"
        assert visit.page.title()


def test_arrow_keys_move_between_slides(book_site: Site, open_page: OpenPage) -> None:
    for deck in decks(book_site):
        page = open_deck(open_page, deck).page
        start = page.evaluate("Reveal.getIndices()")
        page.keyboard.press("ArrowRight")
        moved = page.evaluate("Reveal.getIndices()")
        assert moved != start, deck.name
        page.keyboard.press("ArrowLeft")
        assert page.evaluate("Reveal.getIndices()") == start, deck.name


def test_every_content_slide_has_notes_that_stay_hidden(
    book_site: Site, open_page: OpenPage
) -> None:
    for deck in decks(book_site):
        page = open_deck(open_page, deck).page
        slides = page.evaluate(CONTENT_SLIDES)
        assert slides, deck.name
        missing = [s["id"] for s in slides if not s["notes"]]
        assert missing == [], f"{deck.name}: content slides without speaker notes {missing}"
        for n in range(page.evaluate("Reveal.getTotalSlides()")):
            page.evaluate(SHOW_SLIDE, n)
            assert page.evaluate(NOTES_HIDDEN), f"{deck.name}: a note is visible on slide {n + 1}"


def test_handouts_have_one_page_per_slide(book_site: Site, open_page: OpenPage) -> None:
    for deck in decks(book_site):
        total = open_deck(open_page, deck).page.evaluate("Reveal.getTotalSlides()")
        slides_pdf = deck.with_suffix(".pdf")
        notes_pdf = deck.with_name(deck.stem + "-notes.pdf")
        assert pdf_pages(slides_pdf) == total, slides_pdf.name
        assert pdf_pages(notes_pdf) == total, notes_pdf.name


def test_presenter_handout_prints_notes_beneath_each_slide(
    book_site: Site, open_page: OpenPage
) -> None:
    for deck in decks(book_site):
        page = open_deck(open_page, deck).page
        first = page.evaluate(CONTENT_SLIDES)[0]
        number = page.evaluate(
            "(id) => Reveal.getSlides().findIndex(s => s.id === id) + 1", first["id"]
        )
        note = page.evaluate(
            "(id) => document.getElementById(id).querySelector('aside.notes').innerText",
            first["id"],
        )
        notes_pdf = deck.with_name(deck.stem + "-notes.pdf")
        text = _pdf_text(notes_pdf, number)
        words = " ".join(note.split()[:6])
        assert words in " ".join(text.split()), f"{notes_pdf.name} p.{number}: {words!r} missing"
        assert words not in " ".join(_pdf_text(deck.with_suffix(".pdf"), number).split())
        assert _page_height(notes_pdf) > _page_height(deck.with_suffix(".pdf")) * 1.3


def test_no_serious_accessibility_violations(book_site: Site, open_page: OpenPage) -> None:
    for deck in decks(book_site):
        page = open_deck(open_page, deck).page
        viewport = page.get_attribute('meta[name="viewport"]', "content") or ""
        assert "user-scalable=no" not in viewport
        assert "maximum-scale" not in viewport
        assert page.get_attribute("html", "lang")
        for n in range(page.evaluate("Reveal.getTotalSlides()")):
            page.evaluate(SHOW_SLIDE, n)
            serious = serious_violations(page)
            assert serious == [], f"{deck.name}, slide {n + 1}: {serious}"


def _pdf_text(path: Path, page: int) -> str:
    args = ["pdftotext", "-f", str(page), "-l", str(page), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _page_height(path: Path) -> float:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    match = re.search(r"^Page size:\s+[\d.]+ x ([\d.]+) pts", info.stdout, re.MULTILINE)
    assert match, info.stdout
    return float(match.group(1))
