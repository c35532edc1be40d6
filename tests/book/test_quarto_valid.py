"""The sources stay valid Quarto: only names Quarto's own schema accepts.

The list of names is `tools/bookbuild/quarto-names.json`, extracted from Quarto's schema files;
anyone with the Quarto CLI must be able to `quarto render` this repository.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bookbuild.qmd import quarto_names, read_qmd

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    p.relative_to(ROOT).as_posix()
    for pattern in ("*.qmd", "chapters/**/*.qmd", "slides/*.qmd")
    for p in ROOT.glob(pattern)
)
NAMES = quarto_names()


def config() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    return data


def test_names_file_matches_the_shared_copy() -> None:
    shared = ROOT.parent / "shared" / "quarto-names.json"
    if not shared.exists():
        pytest.skip("the authors' shared folder is not beside this checkout")
    ours = ROOT / "tools" / "bookbuild" / "quarto-names.json"
    assert ours.read_text() == shared.read_text()


def test_quarto_yml_uses_only_quarto_keys() -> None:
    data = config()
    allowed_top = set(NAMES["project_top_level_keys"]) | set(NAMES["document_options"])
    assert set(data) - allowed_top == set()
    assert set(data["project"]) - set(NAMES["project_keys"]) == set()
    assert set(data["book"]) - set(NAMES["book_keys"]) == set()
    for fmt, options in (data.get("format") or {}).items():
        assert set(options or {}) - set(NAMES["document_options"]) == set(), fmt


@pytest.mark.parametrize("path", SOURCES)
def test_front_matter_and_cell_options_are_quarto_names(path: str) -> None:
    doc = read_qmd(ROOT, path)
    unknown = set(doc.meta) - set(NAMES["document_options"])
    assert unknown == set(), f"{path}: front matter keys {unknown}"
    formats = doc.meta.get("format") or {}
    for fmt_options in formats.values() if isinstance(formats, dict) else []:
        if isinstance(fmt_options, dict):
            assert set(fmt_options) - set(NAMES["document_options"]) == set()
    for cell in doc.cells:
        assert set(cell.options) - set(NAMES["cell_options_jupyter"]) == set()


@pytest.mark.parametrize("path", SOURCES)
def test_callouts_and_crossrefs_use_quarto_names(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    callouts = set(re.findall(r"\.callout-([a-z]+)", text))
    assert callouts - set(NAMES["callout_types"]) == set()
    prefixes = set(re.findall(r"(?<![\w@])-?@([a-z]+)-[\w-]+", text))
    assert prefixes - set(NAMES["crossref_prefixes"]) == set(), path
