"""The book's slide decks as built: each source deck becomes a deck that shows what it asks for.

Needs the real book (the ``real_book`` fixture builds it). Browser behaviour (navigation, notes,
handout pages, accessibility) is tested in ``tests/browser/test_slides.py``.
"""

from __future__ import annotations

import html
import re
from pathlib import Path, PurePosixPath

import pytest

from bookbuild.build import BuildReport

from ..conftest import ROOT
from ..support.decks import asked_options, deck_paths, notes_count, slide_headings

# A slide: <section id=".." class="slide level2"> (or "title-slide slide level1") and its header.
SLIDE = re.compile(
    r'<section id="[^"]*" class="[^"]*\bslide level(\d)[^"]*"[^>]*>\s*<h\d[^>]*>(.*?)</h\d>',
    re.DOTALL,
)


@pytest.fixture(scope="module")
def out(real_book: BuildReport) -> Path:
    assert real_book.output is not None
    return real_book.output


def stems() -> list[str]:
    found = [PurePosixPath(path).stem for path in deck_paths(ROOT)]
    assert found, "the book has no slide decks"
    return found


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def test_every_deck_is_built_with_both_handouts(out: Path) -> None:
    folder = out / "slides"
    assert sorted(p.stem for p in folder.glob("*.html")) == stems()
    for stem in stems():
        for name in (f"{stem}.pdf", f"{stem}-notes.pdf"):
            assert (folder / name).read_bytes()[:5] == b"%PDF-", name


def test_each_deck_shows_its_front_matter_and_its_slides_in_order(out: Path) -> None:
    for path, stem in zip(deck_paths(ROOT), stems(), strict=True):
        source = (ROOT / path).read_text(encoding="utf-8")
        asked = asked_options(source)
        page = (out / "slides" / f"{stem}.html").read_text(encoding="utf-8")
        title_slide = re.search(r'<section id="title-slide"[^>]*>(.*?)</section>', page, re.DOTALL)
        assert title_slide, stem
        assert text_of(re.findall(r"<title>(.*?)</title>", page)[0]) == asked["title"], stem
        for key in ("title", "subtitle", "author", "date"):
            if key in asked:
                shown = re.search(rf'<[^>]+class="{key}"[^>]*>(.*?)</', title_slide[1], re.DOTALL)
                assert shown, f"{stem}: the title slide has no {key}"
                assert text_of(shown[1]) == str(asked[key]), f"{stem}: {key}"
        if "footer" in asked:
            footers = re.findall(r'<div class="deck-footer">(.*?)</div>', page, re.DOTALL)
            assert [text_of(f) for f in footers] == [asked["footer"]], stem
        if asked.get("slide-number") is True:
            assert '"slideNumber": "c/t"' in page, stem
        slides = [(int(level), text_of(heading)) for level, heading in SLIDE.findall(page)]
        assert slides == slide_headings(source), stem
        assert page.count('<aside class="notes">') == notes_count(source), stem


def test_the_slides_page_links_every_deck_and_its_handouts(out: Path) -> None:
    page = (out / "chapters" / "slides.html").read_text(encoding="utf-8")
    links = {
        href: text_of(label) for href, label in re.findall(r'<a href="([^"]+)">(.*?)</a>', page)
    }
    cells = [text_of(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", page, re.DOTALL)]
    for path, stem in zip(deck_paths(ROOT), stems(), strict=True):
        assert asked_options((ROOT / path).read_text(encoding="utf-8"))["title"] in cells, stem
        assert links.get(f"../slides/{stem}.html") == "Open the deck", stem
        assert links.get(f"../slides/{stem}.pdf") == "Slides (PDF)", stem
        assert links.get(f"../slides/{stem}-notes.pdf") == "with notes (PDF)", stem
