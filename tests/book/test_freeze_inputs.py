"""What each chapter and deck of the real book depends on, as its freeze entry recorded it.

The freeze re-executes a document when a module it imported, a file it read or a folder it
listed changes. So: no document may read a chapter or deck source (a prose edit would re-execute
it), and each records the ``llmprep`` modules it really imported, and only those.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bookbuild.build import BuildReport

from ..conftest import ROOT


def entries() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted((ROOT / "_freeze").rglob("bookbuild.json")):
        entry = json.loads(path.read_text(encoding="utf-8"))
        found[entry["source"]] = entry
    return found


def test_every_executed_document_has_a_freeze_entry(real_book: BuildReport) -> None:
    recorded = entries()
    assert "chapters/01-foundations/concepts.qmd" in recorded
    assert "slides/01-foundations.qmd" in recorded


def is_data(name: str) -> bool:
    """Files under chapters/_data are data, not book sources: Quarto skips folders whose name
    starts with "_", and they change only on purpose (the RAG corpus is Markdown data)."""
    return name.startswith("chapters/_data/")


def test_no_document_reads_a_chapter_or_deck_source(real_book: BuildReport) -> None:
    for source, entry in entries().items():
        names = [n for n in [*entry["reads"], *entry["listings"]] if not is_data(n)]
        sources = [n for n in names if n.endswith((".qmd", ".md"))]
        assert sources == [], f"{source} reads {sources}: a prose edit would re-execute it"
        listed = [
            n for n in names if n in entry["listings"] and n.startswith(("chapters", "slides"))
        ]
        assert listed == [], f"{source} lists {listed}: a new chapter would re-execute it"


def test_imported_modules_are_recorded_per_document(real_book: BuildReport) -> None:
    recorded = entries()
    concepts = set(recorded["chapters/01-foundations/concepts.qmd"]["modules"])
    assert "code/llmprep/foundations/sampling.py" in concepts
    assert "code/llmprep/book/setup.py" in concepts
    preface = set(recorded["index.qmd"]["modules"])
    assert "code/llmprep/foundations/sampling.py" not in preface  # it never imported it
    for source, entry in recorded.items():
        for name in entry["modules"]:
            assert Path(ROOT / name).is_file(), f"{source}: {name}"
            assert name.startswith(("code/llmprep/", "tools/bookbuild/")), f"{source}: {name}"
