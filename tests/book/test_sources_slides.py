"""The book's slide decks, as sources: the builder takes each one exactly as written.

What the decks look like once built is in ``test_outputs_slides.py``; how they behave in a
browser is in ``tests/browser/test_slides.py``.
"""

from __future__ import annotations

import yaml

from bookbuild.formats import slides
from bookbuild.qmd import read_qmd

from ..conftest import ROOT
from ..support.decks import asked_options, deck_paths


def test_the_book_has_decks() -> None:
    assert deck_paths(ROOT), "the book has no slide decks (slides/*.qmd)"


def test_the_builder_takes_every_setting_a_deck_writes() -> None:
    """Nothing a deck asks for is dropped or invented, and ``format: revealjs:`` wins.

    ``deck_options`` raises (naming the line) on a key it does not support; this checks the other
    half of its promise, that what it accepts it keeps.
    """
    for path in deck_paths(ROOT):
        text = (ROOT / path).read_text(encoding="utf-8")
        options = slides.deck_options(read_qmd(ROOT, path))
        assert options == asked_options(text), path


def test_every_deck_says_what_it_covers_for_the_slides_page() -> None:
    """The Slides chapter lists each deck by its title and its subtitle (or description)."""
    for path in deck_paths(ROOT):
        meta = asked_options((ROOT / path).read_text(encoding="utf-8"))
        assert str(meta.get("title") or "").strip(), f"{path}: no title"
        about = meta.get("subtitle") or meta.get("description")
        assert str(about or "").strip(), f"{path}: no subtitle or description"


def test_the_slides_page_lists_every_deck_as_its_front_matter_says() -> None:
    """``chapters/_data/decks.yml`` (what the Slides page prints) names every deck, in order,
    with the deck's own title and subtitle (or description)."""
    listed = yaml.safe_load((ROOT / "chapters" / "_data" / "decks.yml").read_text(encoding="utf-8"))
    assert [entry["deck"] for entry in listed] == deck_paths(ROOT)
    for entry in listed:
        meta = asked_options((ROOT / entry["deck"]).read_text(encoding="utf-8"))
        assert entry["title"] == meta["title"], entry["deck"]
        assert entry["about"] == (meta.get("subtitle") or meta.get("description")), entry["deck"]
