"""The real book's outputs: PDF, EPUB, notebooks and flashcards, checked after a full build."""

from __future__ import annotations

import html
import re
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from bookbuild.build import BuildReport
from bookbuild.project import load_project
from llmprep.bank import load_glossary, load_question_bank

from ..conftest import ARTIFACTS, ROOT
from ..support import notebooks, pdf

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


def chapter_titles() -> list[str]:
    project = load_project(ROOT)
    titles = []
    for ref in project.chapters:
        text = (ROOT / ref.path).read_text(encoding="utf-8")
        match = re.search(r"^# (.+?)(?:\s+\{.*\})?\s*$", text, re.MULTILINE)
        assert match, ref.path
        titles.append(match.group(1).strip())
    return titles


def figure_captions(out: Path) -> list[str]:
    captions = []
    for page in out.rglob("*.html"):
        if page.relative_to(out).parts[0] == "slides":
            continue  # decks have their own figures; the PDF holds the book's
        for raw in re.findall(r"<figcaption>(.*?)</figcaption>", page.read_text(), re.DOTALL):
            captions.append(html.unescape(re.sub(r"<[^>]+>", "", raw)))
    return captions


def squash(text: str) -> str:
    return re.sub(r"[\s\u00a0\u00ad-]+", "", text)


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
    entries = [re.sub(r"^[\d.]+\s+", "", t) for _, t in pdf.outline(book_pdf)]
    positions = [entries.index(title) for title in chapter_titles()]
    assert positions == sorted(positions)
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    parts = [e["part"] for e in config["book"]["chapters"] if isinstance(e, dict)]
    top = [t for depth, t in pdf.outline(book_pdf) if depth == 0]
    assert [p for p in top if p in parts] == parts


def test_pdf_pages_render_for_inspection(book_pdf: Path) -> None:
    pages = pdf.render(book_pdf, ARTIFACTS / "book-pdf", 1, 6)
    assert len(pages) == 6


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
    project = load_project(ROOT)
    for ref in project.chapters:
        has_cells = "```{python}" in (ROOT / ref.path).read_text(encoding="utf-8")
        notebook = out / (ref.stem + ".ipynb")
        assert notebook.exists() == has_cells, ref.path
        if has_cells:
            notebooks.read(notebook)


def test_a_notebook_reexecutes_in_a_fresh_kernel(out: Path) -> None:
    nb = notebooks.read(out / "index.ipynb")
    notebooks.execute(nb, ROOT, timeout=300)
    assert any(
        o.get("output_type") == "display_data" for c in nb.cells for o in c.get("outputs", [])
    )


def anki_notes(apkg: Path) -> list[tuple[str, str]]:
    """(guid, tags) of every note in an .apkg (a zip holding an SQLite collection)."""
    with zipfile.ZipFile(apkg) as archive, archive.open("collection.anki2") as handle:
        data = handle.read()
    db_path = ARTIFACTS / "collection.anki2"
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db_path.write_bytes(data)
    with sqlite3.connect(db_path) as db:
        return [(g, t) for g, t in db.execute("select guid, tags from notes")]


def test_flashcards_hold_one_note_per_question_and_term(out: Path) -> None:
    questions = load_question_bank(DATA / "questions")
    terms = load_glossary(DATA / "glossary.yml")
    notes = anki_notes(out / "llm-interview-prep-flashcards.apkg")
    assert len(notes) == len(questions) + len(terms)
    assert len({guid for guid, _ in notes}) == len(notes)
    csv_rows = (out / "llm-interview-prep-flashcards.csv").read_text().count("\n")
    assert csv_rows >= len(notes) + 1


def test_flashcard_ids_are_stable_across_builds(out: Path, tmp_path: Path) -> None:
    import os
    import sys

    env = {
        **os.environ,
        "QUARTO_PROJECT_OUTPUT_DIR": str(tmp_path),
        "QUARTO_PROJECT_DIR": str(ROOT),
    }
    subprocess.run([sys.executable, "tools/flashcards.py"], cwd=ROOT, env=env, check=True)
    first = sorted(g for g, _ in anki_notes(out / "llm-interview-prep-flashcards.apkg"))
    second = sorted(g for g, _ in anki_notes(tmp_path / "llm-interview-prep-flashcards.apkg"))
    assert first == second
