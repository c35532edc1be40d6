"""The glossary's areas file: study order, and the sections that teach each area's terms.

``key-terminology.qmd`` prints its table from ``chapters/_data/glossary-areas.yml`` instead of
reading the chapters' sources (so a prose edit never re-executes it); this test derives the same
table from the chapters' headers and the glossary, so the file cannot drift from either.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from llmprep.book.bank import load_glossary

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "chapters" / "_data"


def top_level_sections() -> dict[str, str]:
    """Every ``sec-`` label in the chapters, mapped to the ``##`` (or ``#``) section above it."""
    parents: dict[str, str] = {}
    for source in sorted((ROOT / "chapters").glob("*/*.qmd")):
        parent = None
        text = source.read_text(encoding="utf-8")
        for hashes, label in re.findall(r"^(#+) .*\{#(sec-[\w-]+)[^}]*\}", text, re.M):
            parent = label if len(hashes) <= 2 else parent
            parents[label] = parent or label
    return parents


def test_every_area_lists_exactly_the_sections_that_teach_its_terms() -> None:
    areas = yaml.safe_load((DATA / "glossary-areas.yml").read_text(encoding="utf-8"))
    glossary = load_glossary(DATA / "glossary.yml")
    parents = top_level_sections()
    assert {t.area for t in glossary} == {a["area"] for a in areas}
    for entry in areas:
        expected = dict.fromkeys(
            parents.get(t.see, t.see) for t in glossary if t.area == entry["area"]
        )
        assert entry["sections"] == list(expected), entry["area"]


def test_the_sections_exist() -> None:
    areas = yaml.safe_load((DATA / "glossary-areas.yml").read_text(encoding="utf-8"))
    known = top_level_sections()
    missing = [s for a in areas for s in a["sections"] if s not in known]
    assert missing == []
