"""The output caches: a no-op build runs no engine; an edit re-runs only what it touches."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bookbuild.progress import TRACE, Progress

from .conftest import MakeBook, quiet_build

DECK = "---\ntitle: Deck\nformat: revealjs\n---\n\n## One\n\nA slide.\n\n::: notes\nSay it.\n:::\n"


def chapter(name: str, value: int) -> str:
    return f"# {name}\n\nProse about {name}.\n\n```{{python}}\nprint({value} * 2)\n```\n"


@pytest.fixture
def book(make_book: MakeBook) -> Path:
    root = make_book(
        {
            "index.qmd": "# Home\n\nWelcome.\n",
            "chapters/a.qmd": chapter("Alpha", 1),
            "chapters/b.qmd": chapter("Beta", 2),
            "slides/deck.qmd": DECK,
        },
        ["index.qmd", "chapters/a.qmd", "chapters/b.qmd"],
    )
    quiet_build(root, formats=("all",))
    return root


def engines() -> list[tuple[str, str]]:
    return [(engine, what) for engine, what, _ in TRACE.calls]


def test_no_op_build_runs_no_kernel_no_pandoc_no_typst_no_chromium(book: Path) -> None:
    report = quiet_build(book, formats=("all",))
    assert report.executed == []
    assert report.rendered == []
    assert engines() == []
    assert (book / "_book" / "slides" / "deck-notes.pdf").is_file()


def test_prose_edit_re_renders_that_page_the_pdf_and_the_epub_only(book: Path) -> None:
    source = book / "chapters" / "b.qmd"
    source.write_text(source.read_text().replace("Prose about Beta.", "Edited prose."))
    report = quiet_build(book, formats=("all",))
    assert report.executed == []
    called = engines()
    assert ("pandoc", "writing HTML (chapters/b.qmd)") in called
    assert not any(what.startswith("writing HTML (chapters/a.qmd") for _, what in called)
    assert {e for e, _ in called} == {"pandoc", "typst"}  # no kernel, no Chromium
    assert not any("slides" in what for _, what in called)
    assert sorted(w for e, w in called if e == "pandoc") == sorted(
        [
            "parsing Markdown (chapters/b.qmd)",
            "resolving cross-references",
            "writing HTML (chapters/b.qmd)",
            "writing Typst",
            "writing the EPUB",
        ]
    )
    assert "Edited prose." in (book / "_book" / "chapters" / "b.html").read_text()


def test_deck_edit_reprints_only_that_decks_handouts(book: Path) -> None:
    (book / "slides" / "deck.qmd").write_text(DECK.replace("A slide.", "A changed slide."))
    quiet_build(book, formats=("all",))
    called = engines()
    assert [w for e, w in called if e == "chromium"] == [
        "printing slides/deck.pdf",
        "printing slides/deck-notes.pdf",
    ]
    assert not any(e == "typst" for e, _ in called)


def test_output_is_byte_identical_whatever_the_number_of_jobs(make_book: MakeBook) -> None:
    files = {
        "index.qmd": "# Home\n",
        **{f"chapters/c{i}.qmd": chapter(f"C{i}", i) for i in range(4)},
    }
    trees = []
    for jobs in (1, 2):
        root = make_book(files)
        quiet_build(root, formats=("html", "ipynb"), jobs=jobs, refresh=True)
        site = root / "_book"
        trees.append({p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()})
    assert trees[0] == trees[1]


def test_progress_is_plain_lines_in_logs_and_one_live_line_on_a_terminal() -> None:
    log = io.StringIO()
    plain = Progress(log, live=False)
    plain.stage("executing", 2)
    plain.step("chapters/a.qmd", "3 cells, 1.0 s")
    plain.done()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("executing 1/2 chapters/a.qmd (3 cells, 1.0 s)")
    assert lines[1].endswith("executing: 1/2")
    screen = io.StringIO()
    live = Progress(screen, live=True)
    live.stage("executing", 1)
    live.step("chapters/a.qmd")
    live.done()
    assert screen.getvalue().count("\n") == 1
    assert screen.getvalue().count("\r\x1b[2K") == 3
