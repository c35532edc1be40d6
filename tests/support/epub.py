"""Reading a built EPUB's table of contents (its EPUB 3 navigation document), for output tests."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

XHTML = "{http://www.w3.org/1999/xhtml}"
OPS = "{http://www.idpf.org/2007/ops}"


@dataclass(frozen=True, slots=True)
class NavEntry:
    depth: int  # 0 for the top level of the table of contents
    text: str  # the link's text, whitespace collapsed
    target: str  # the linked file's path inside the EPUB
    anchor: str  # the fragment after '#', or ""


def nav(epub: Path) -> list[NavEntry]:
    """Every entry of the table of contents, depth-first, found the way a reader finds it.

    ``META-INF/container.xml`` names the package document, whose manifest item with
    ``properties="nav"`` is the navigation document, whose ``<nav epub:type="toc">`` is the table.
    """
    with zipfile.ZipFile(epub) as archive:
        container = archive.read("META-INF/container.xml").decode("utf-8")
        package = re.search(r'full-path="([^"]+)"', container)
        assert package, "META-INF/container.xml names no package document"
        opf = PurePosixPath(package[1])
        manifest = archive.read(str(opf)).decode("utf-8")
        item = re.search(r'<item\b[^>]*href="([^"]+)"[^>]*properties="nav"', manifest)
        assert item, "the package has no navigation document"
        nav_path = opf.parent / item[1]
        root = ElementTree.fromstring(archive.read(str(nav_path)))
    tables = [n for n in root.iter(f"{XHTML}nav") if n.get(f"{OPS}type") == "toc"]
    assert len(tables) == 1, "the navigation document needs exactly one epub:type='toc'"
    found: list[NavEntry] = []

    def walk(ol: ElementTree.Element, depth: int) -> None:
        for li in ol.findall(f"{XHTML}li"):
            link = li.find(f"{XHTML}a")
            assert link is not None, "a table-of-contents entry without a link"
            file, _, anchor = link.get("href", "").partition("#")
            text = " ".join("".join(link.itertext()).split())
            found.append(NavEntry(depth, text, str(nav_path.parent / file), anchor))
            for nested in li.findall(f"{XHTML}ol"):
                walk(nested, depth + 1)

    top = tables[0].find(f"{XHTML}ol")
    assert top is not None, "the table of contents is empty"
    walk(top, 0)
    return found


def broken_links(epub: Path, entries: list[NavEntry]) -> list[str]:
    """Entries whose file is not in the EPUB, or whose anchor is not an id in that file."""
    broken = []
    with zipfile.ZipFile(epub) as archive:
        names = set(archive.namelist())
        for entry in entries:
            if entry.target not in names:
                broken.append(f"{entry.text}: {entry.target} is not in the EPUB")
            elif entry.anchor:
                page = archive.read(entry.target).decode("utf-8")
                if f'id="{entry.anchor}"' not in page:
                    broken.append(f"{entry.text}: no id '{entry.anchor}' in {entry.target}")
    return broken
