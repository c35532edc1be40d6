"""Inspecting built PDFs with Poppler's tools and pypdf, for the output tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

from pypdf import PdfReader


def _run(*args: str) -> str:
    if shutil.which(args[0]) is None:
        raise RuntimeError(f"{args[0]} is missing: install poppler-utils (make test does)")
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def info(pdf: Path) -> dict[str, str]:
    """``pdfinfo`` as a mapping (Pages, Title, Page size, ...)."""
    out = {}
    for line in _run("pdfinfo", str(pdf)).splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def fonts(pdf: Path) -> list[tuple[str, bool]]:
    """(font name, embedded?) for every font ``pdffonts`` lists."""
    rows = _run("pdffonts", str(pdf)).splitlines()[2:]
    result = []
    for row in rows:
        parts = row.split()
        # columns: name type... encoding emb sub uni object ID; "emb" is 5th from the end
        result.append((parts[0], parts[-5] == "yes"))
    return result


def text(pdf: Path) -> str:
    return _run("pdftotext", "-enc", "UTF-8", str(pdf), "-")


def outline(pdf: Path) -> list[tuple[int, str]]:
    """The PDF outline (bookmarks) as (depth, title), depth-first."""
    reader = PdfReader(str(pdf))
    found: list[tuple[int, str]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, str(item.title)))

    walk(reader.outline, 0)
    return found


def _unicode_maps(reader: PdfReader) -> set[str]:
    """Every character some embedded font has a glyph for (from the fonts' ToUnicode maps)."""
    chars: set[str] = set()
    seen: set[int] = set()
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for ref in (resources.get("/Font") or {}).values():
            font = ref.get_object()
            cmap = font.get("/ToUnicode")
            if cmap is None or id(cmap) in seen:
                continue
            seen.add(id(cmap))
            data = cmap.get_object().get_data().decode("latin-1")
            for hexes in re.findall(r"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]+)>", data):
                raw = bytes.fromhex(hexes)
                chars.update(raw.decode("utf-16-be", errors="ignore"))
    return chars


def missing_glyphs(pdf: Path) -> set[str]:
    """Characters in the PDF's text that no embedded font can draw (shown as empty boxes).

    Typst does not warn about a missing glyph: it draws the font's "notdef" box and still records
    the character in the text layer. So the characters extracted from the text layer are compared
    with the characters the embedded fonts actually map.
    """
    reader = PdfReader(str(pdf))
    drawable = _unicode_maps(reader)
    extracted = set(text(pdf))
    # Whitespace and invisible format characters (pdftotext adds bidi marks around Arabic).
    ignorable = {c for c in extracted if c.isspace() or unicodedata.category(c) == "Cf"}
    return extracted - drawable - ignorable


def render(pdf: Path, out: Path, first: int, last: int, dpi: int = 60) -> list[Path]:
    """Render pages ``first``..``last`` to PNG files in ``out`` (for a human to look at)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    _run("pdftoppm", "-png", "-r", str(dpi), "-f", str(first), "-l", str(last), str(pdf),
         str(out / "page"))  # fmt: skip
    return sorted(out.glob("page-*.png"))
