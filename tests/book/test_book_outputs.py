"""The real book's outputs: PDF, EPUB, notebooks and flashcards, checked after a full build."""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from bookbuild.build import BuildReport
from llmprep.book.bank import load_glossary, load_question_bank, load_questions

from ..conftest import ARTIFACTS, ROOT
from ..support import epub, notebooks, pdf
from ..support.pdf import squash
from ..support.quarto import listed_chapters

EPUBCHECK = Path("/usr/share/java/epubcheck.jar")
CODE_COLUMNS = 92  # DejaVu Sans Mono at 8.2 pt in the A4 text column (see book.typ)
DATA = ROOT / "chapters" / "_data"


@pytest.fixture(scope="module")
def out(real_book: BuildReport) -> Path:
    assert real_book.output is not None
    return real_book.output


@pytest.fixture(scope="module")
def book_pdf(out: Path) -> Path:
    return out / "llm-interview-prep.pdf"


def config() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    return data


def first_heading(path: str) -> str:
    """A chapter's title: its first level-1 header outside code, without its attributes."""
    fence = ""
    for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^ {0,3}(`{3,}|~{3,})", line):
            if not fence:
                fence = match[1]
            elif match[1].startswith(fence) and not line.strip().strip(fence[0]):
                fence = ""
        elif not fence and (match := re.match(r"^# (.+?)(?:\s+\{.*\})?\s*$", line)):
            return match[1].strip()
    raise AssertionError(f"{path} has no level-1 header")


def chapter_titles() -> list[str]:
    return [first_heading(path) for path in listed_chapters(config())]


def spine() -> list[tuple[int, str]]:
    """The book's parts and chapters as (depth, title), in ``_quarto.yml`` order."""

    def walk(items: list[Any], depth: int) -> Iterator[tuple[int, str]]:
        for item in items:
            if isinstance(item, str):
                yield depth, first_heading(item)
            else:
                yield depth, item["part"]
                yield from walk(item.get("chapters") or [], depth + 1)

    book = config()["book"]
    appendices = book.get("appendices") or []
    # Quarto lists the appendices under one "Appendices" heading, after the chapters.
    tail = [(0, "Appendices"), *walk(appendices, 1)] if appendices else []
    return list(walk(book["chapters"], 0)) + tail


def figure_captions(out: Path) -> list[str]:
    captions = []
    for page in out.rglob("*.html"):
        if page.relative_to(out).parts[0] == "slides":
            continue  # decks have their own figures; the PDF holds the book's
        for raw in re.findall(r"<figcaption>(.*?)</figcaption>", page.read_text(), re.DOTALL):
            captions.append(html.unescape(re.sub(r"<[^>]+>", "", raw)))
    return captions


def web_caption_labels(out: Path) -> list[str]:
    """The label ("Figure 1.2", "Table 1") of every figure and table caption, in book order."""
    labels = []
    for path in listed_chapters(config()):
        page = (out / path).with_suffix(".html").read_text(encoding="utf-8")
        for raw in re.findall(r"<(?:fig)?caption[^>]*>(.*?)</(?:fig)?caption>", page, re.DOTALL):
            text = html.unescape(re.sub(r"<[^>]+>", "", raw)).replace("\u00a0", " ")
            if match := re.match(r"(Figure|Table|Listing) ([\d.]+):", text):
                labels.append(f"{match[1]} {match[2]}")
    return labels


def without_number(title: str) -> str:
    """A title without its leading number(s): "1.2 Title" and "1 1 Title" become "Title"."""
    return re.sub(r"^(?:[\d.]+\s+)+", "", title)


def without_label(title: str) -> str:
    """An appendix title without its letter: "B Title" becomes "Title" (one label only, so a
    title that itself starts with "A" keeps it)."""
    return re.sub(r"^[A-Z]{1,2}\s+", "", title, count=1)


def appendix_titles() -> list[str]:
    return [first_heading(path) for path in config()["book"].get("appendices") or []]


def plain_title(title: str) -> str:
    """A bookmark or nav title as _quarto.yml's files name it: chapter numbers and an
    appendix's letter removed."""
    bare = without_number(title)
    lettered = without_label(bare)
    return lettered if lettered in appendix_titles() else bare


def test_pdf_has_every_chapter_and_caption_as_text(book_pdf: Path, out: Path) -> None:
    text = squash(pdf.text(book_pdf))
    for title in chapter_titles():
        assert squash(title) in text, title
    captions = figure_captions(out)
    assert captions
    for caption in captions:
        assert squash(caption[:60]) in text, caption


def test_pdf_pages_fonts_and_glyphs(book_pdf: Path) -> None:
    pages = int(pdf.info(book_pdf)["Pages"])
    words = len(pdf.text(book_pdf).split())
    assert 250 <= words / pages <= 700, f"{words} words on {pages} pages"
    assert [name for name, embedded in pdf.fonts(book_pdf) if not embedded] == []
    assert pdf.missing_glyphs(book_pdf) == set()


def test_pdf_outline_lists_every_chapter_in_order(book_pdf: Path) -> None:
    # Chapters sit at depth 0 (outside a part) or 1 (inside one); a section deeper down may
    # share a chapter's title (the glossary has an area called "Prompt patterns").
    outline = pdf.outline(book_pdf)
    appendices = appendix_titles()
    at = next((i for i, (d, t) in enumerate(outline) if (d, t) == (0, "Appendices")), None)
    assert (at is not None) == bool(appendices)  # Quarto's one heading over the appendices
    body, tail = (outline, []) if at is None else (outline[:at], outline[at + 1 :])
    entries = [without_number(t) if d <= 1 else None for d, t in body]
    chapters = [t for t in chapter_titles() if t not in appendices]
    positions = [entries.index(title) for title in chapters]
    assert positions == sorted(positions)
    assert [without_label(t) for d, t in tail if d == 1] == appendices
    parts = [e["part"] for e in config()["book"]["chapters"] if isinstance(e, dict)]
    top = [t for depth, t in body if depth == 0]
    assert [p for p in top if p in parts] == parts


def test_pdf_title_page_names_the_book(book_pdf: Path) -> None:
    first = squash(pdf.pages(book_pdf)[0])
    book = config()["book"]
    for key in ("title", "subtitle", "author"):
        assert squash(book[key]) in first, key
    rendered = pdf.render(book_pdf, ARTIFACTS / "book-pdf", 1, 6)  # kept for a human to look at
    assert [page.name for page in rendered if pdf.is_blank(page)] == []


def test_pdf_parts_and_chapters_open_on_their_own_pages_in_order(book_pdf: Path) -> None:
    pages = pdf.pages(book_pdf)
    marks = {
        (depth, plain_title(title)): page for depth, title, page in pdf.outline_pages(book_pdf)
    }
    starts = []
    for depth, title in spine():
        assert (depth, title) in marks, f"no bookmark for {title!r} at depth {depth}"
        page = marks[depth, title]
        assert squash(title) in squash(pages[page]), f"{title!r} is not on page {page + 1}"
        starts.append(page)
    assert starts == sorted(set(starts)), "parts and chapters out of order or sharing a page"


def test_pdf_captions_are_numbered_by_chapter_like_the_web_book(book_pdf: Path, out: Path) -> None:
    captions = pdf.captions(book_pdf)
    assert captions
    starts = [
        (page, match[1] if (match := re.match(r"(\d+) ", title)) else None)
        for depth, title, page in pdf.outline_pages(book_pdf)
        if (depth, plain_title(title)) in set(spine())
    ]
    assert pdf.numbering_problems(captions, starts) == []
    assert [c.label for c in captions] == web_caption_labels(out)
    unresolved = [line for line in pdf.text(book_pdf).splitlines() if "??" in line]
    assert unresolved == [], "unresolved cross-references"


def test_epub_nav_lists_parts_and_chapters_in_order(out: Path) -> None:
    book = out / "llm-interview-prep.epub"
    entries = epub.nav(book)
    expected = spine()
    listed = [(e.depth, plain_title(e.text)) for e in entries]
    assert [e for e in listed if e in expected] == expected
    assert [e for e in listed if e[0] == 0] == [e for e in expected if e[0] == 0]
    assert epub.broken_links(book, entries) == []


def test_code_shown_in_the_book_fits_the_pdf_column(out: Path) -> None:
    too_wide = []
    for page in out.rglob("*.html"):
        blocks = re.findall(
            r'<pre[^>]*class="sourceCode[^"]*"[^>]*>(.*?)</pre>', page.read_text(), re.DOTALL
        )
        for block in blocks:
            for line in html.unescape(re.sub(r"<[^>]+>", "", block)).splitlines():
                if len(line) > CODE_COLUMNS:
                    too_wide.append(f"{page.relative_to(out)}: {line}")
    assert too_wide == []


def test_epub_passes_epubcheck(out: Path) -> None:
    done = subprocess.run(
        ["java", "-jar", str(EPUBCHECK), str(out / "llm-interview-prep.epub")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "0 fatals / 0 errors" in done.stdout + done.stderr, done.stdout + done.stderr


def test_every_chapter_with_code_has_a_valid_notebook(out: Path) -> None:
    for path in listed_chapters(config()):
        has_cells = "```{python}" in (ROOT / path).read_text(encoding="utf-8")
        notebook = (out / path).with_suffix(".ipynb")
        assert notebook.exists() == has_cells, path
        if has_cells:
            notebooks.read(notebook)


def test_a_notebook_reexecutes_in_a_fresh_kernel(out: Path) -> None:
    nb = notebooks.read(out / "index.ipynb")
    notebooks.execute(nb, ROOT, timeout=300)
    assert any(
        o.get("output_type") == "display_data" for c in nb.cells for o in c.get("outputs", [])
    )


def anki_notes(apkg: Path) -> dict[str, list[str]]:
    """guid -> fields of every note in an .apkg (a zip holding an SQLite collection)."""
    with zipfile.ZipFile(apkg) as archive:
        name = next(n for n in ("collection.anki21", "collection.anki2") if n in archive.namelist())
        data = archive.read(name)
    db = sqlite3.connect(":memory:")
    try:
        db.deserialize(data)
        rows = db.execute("select guid, flds from notes").fetchall()
    finally:
        db.close()
    notes = {str(guid): str(fields).split("\x1f") for guid, fields in rows}
    assert len(notes) == len(rows), "two notes share a GUID"
    return notes


def test_flashcards_hold_one_note_per_question_term_and_drill(out: Path) -> None:
    questions = load_question_bank(DATA / "questions")
    terms = load_glossary(DATA / "glossary.yml")
    drills = yaml.safe_load((DATA / "drills.yml").read_text(encoding="utf-8"))
    notes = anki_notes(out / "llm-interview-prep-flashcards.apkg")
    assert len(notes) == len(questions) + len(terms) + len(drills)
    csv_rows = (out / "llm-interview-prep-flashcards.csv").read_text().count("\n")
    assert csv_rows >= len(notes) + 1


# genanki.guid_for("what-is-a-token"). Anki matches notes by GUID when a newer deck is imported;
# if this changes, every reader's cards (and their review history) are duplicated.
PINNED_ID, PINNED_GUID = "what-is-a-token", "w#,XIo3&>!"


def test_editing_an_answer_keeps_its_card_guid(flashcards: ModuleType, tmp_path: Path) -> None:
    before = tmp_path / "before.apkg"
    cards = flashcards.build_cards(ROOT)
    flashcards.write_apkg(cards, before)
    copy = tmp_path / "book"
    shutil.copytree(DATA, copy / "chapters" / "_data")
    topic_file = sorted((copy / "chapters" / "_data" / "questions").glob("[!_]*.yml"))[0]
    question = load_questions(topic_file)[0]
    line = question.answer.splitlines()[0]
    source = topic_file.read_text(encoding="utf-8")
    assert source.count(line) == 1, line
    topic_file.write_text(source.replace(line, line + " Revised wording."), encoding="utf-8")
    after = tmp_path / "after.apkg"
    flashcards.write_apkg(flashcards.build_cards(copy), after)

    old, new = anki_notes(before), anki_notes(after)
    assert len(old) == len(cards)  # one GUID per id: anki_notes fails on a shared GUID
    assert set(old) == set(new), "an edit must update cards, not replace them"
    changed = [guid for guid in old if old[guid] != new[guid]]
    assert len(changed) == 1, f"{len(changed)} notes changed for one edited answer"
    guid = changed[0]
    assert old[guid][0] == new[guid][0]  # the front: the same question
    assert "Revised wording." not in old[guid][1]
    assert "Revised wording." in new[guid][1]


def test_guids_follow_the_id_not_the_content(flashcards: ModuleType, tmp_path: Path) -> None:
    card = flashcards.Card(PINNED_ID, "question", "Front", "Back", ("foundations", "core"), "sec-x")
    variants = {
        "same": card,
        "edited": flashcards.Card(PINNED_ID, "question", "Front", "New back", card.tags, "sec-y"),
        "other-id": flashcards.Card("another-id", "question", "Front", "Back", card.tags, "sec-x"),
    }
    guids = {}
    for name, variant in variants.items():
        flashcards.write_apkg([variant], tmp_path / f"{name}.apkg")
        (guids[name],) = anki_notes(tmp_path / f"{name}.apkg")
    assert guids["same"] == guids["edited"] == PINNED_GUID
    assert guids["other-id"] != PINNED_GUID
