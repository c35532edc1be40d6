"""Inspecting built PDFs with Poppler's tools and pypdf, for the output tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
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


def pages(pdf: Path) -> list[str]:
    """The text layer page by page (``pdftotext`` ends every page with a form feed)."""
    found = text(pdf).split("\f")
    return found[:-1] if found and found[-1] == "" else found


def squash(value: str) -> str:
    """``value`` without spaces, hyphens or soft hyphens, and with straight quotes.

    The text layer breaks lines (and words, with a soft hyphen) wherever the layout does, and
    Typst curls apostrophes; squashing both sides lets a test look for a title in a page.
    """
    value = value.replace("\u2019", "'").replace("\u2018", "'")
    value = value.replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"[\s\u00a0\u00ad\u2060-]+", "", value)


@dataclass(frozen=True, slots=True)
class Caption:
    """A numbered caption in the text layer: ``Figure 1.2: ...`` is chapter "1", number 2."""

    page: int  # 0-based, like the outline's pages
    kind: str  # "Figure", "Table" or "Listing"
    chapter: str | None  # None for the unnumbered chapters' "Figure 1"
    number: int
    text: str  # the rest of the caption's first line

    @property
    def label(self) -> str:
        return f"{self.kind} {self.chapter + '.' if self.chapter else ''}{self.number}"


_CAPTION = re.compile(r"^(Figure|Table|Listing) (?:(\d+)\.)?(\d+): (.*)$", re.MULTILINE)


def captions(pdf: Path) -> list[Caption]:
    """Every numbered caption, in reading order (a caption starts a line of the text layer)."""
    return [
        Caption(page, m[1], m[2], int(m[3]), m[4].strip())
        for page, content in enumerate(pages(pdf))
        for m in _CAPTION.finditer(content)
    ]


def numbering_problems(found: list[Caption], starts: list[tuple[int, str | None]]) -> list[str]:
    """Captions numbered out of sequence, or numbered for another chapter than theirs.

    ``starts`` is (first page, chapter number or None) of every part and chapter, in page order.
    Each kind of caption must count 1, 2, 3... within its chapter, prefixed with the number of
    the chapter whose pages it sits on.
    """
    problems = []
    counts: dict[tuple[str | None, str, int], int] = {}
    for caption in found:
        owners = [(i, number) for i, (page, number) in enumerate(starts) if page <= caption.page]
        if not owners:
            problems.append(f"{caption.label} on page {caption.page + 1}, before any chapter")
            continue
        index, number = owners[-1]
        if caption.chapter != number:
            problems.append(
                f"{caption.label} on page {caption.page + 1} sits in chapter {number or '(none)'}"
            )
        key = (number, caption.kind, index)
        counts[key] = counts.get(key, 0) + 1
        if caption.number != counts[key]:
            problems.append(f"{caption.label} on page {caption.page + 1}: expected {counts[key]}")
    return problems


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


def outline_pages(pdf: Path) -> list[tuple[int, str, int]]:
    """The PDF outline as (depth, title, 0-based page the bookmark opens), depth-first."""
    reader = PdfReader(str(pdf))
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                page = reader.get_destination_page_number(item)
                assert page is not None, f"the bookmark {item.title!r} opens no page"
                found.append((depth, str(item.title), page))

    walk(reader.outline, 0)
    return found


def is_blank(png: Path) -> bool:
    """Whether a rendered page is one flat colour (nothing drawn)."""
    from PIL import Image

    with Image.open(png) as image:
        low, high = image.convert("L").getextrema()
    return bool(low == high)


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
