"""Read ``_quarto.yml``: the single definition of the book.

The chapter list, parts, title and output formats live there and nowhere else. This module turns
the ``book:`` section into a :class:`Project` and checks what a build needs: every listed chapter
exists, no chapter is listed twice, the bibliography file is there.

It reads the subset of Quarto's project schema the book uses (``project``, ``book`` with
``chapters``/``appendices`` and parts, ``bibliography``, ``format``); unknown keys are left to the
Quarto-validity test, not rejected here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BuildError, line_of
from .yamlio import load_yaml_mapping

CONFIG_NAME = "_quarto.yml"


@dataclass(frozen=True, slots=True)
class ChapterRef:
    """One entry of ``book.chapters``: a source file and the part it sits in."""

    path: str  # relative to the project root, with forward slashes
    part: str | None
    appendix: bool = False

    @property
    def stem(self) -> str:
        """The path without its extension: the basis of the page name and freeze folder."""
        return self.path.rsplit(".", 1)[0]

    @property
    def html_name(self) -> str:
        """Where the page lands in ``_book/`` (Quarto's rule: same path, ``.html``)."""
        return self.stem + ".html"


@dataclass(frozen=True, slots=True)
class Project:
    """The parsed ``_quarto.yml`` plus the project root it was read from."""

    root: Path
    title: str
    subtitle: str
    author: str
    date: str
    description: str
    chapters: tuple[ChapterRef, ...]
    bibliography: Path | None
    output_dir: str
    formats: dict[str, dict[str, Any]] = field(default_factory=dict)
    book: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """The title as a file name stem: "LLM Interview Prep" -> "llm-interview-prep"."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")

    def format_options(self, name: str) -> dict[str, Any]:
        """Options of one output format (``html``, ``typst``, ``epub``), empty if not declared."""
        return dict(self.formats.get(name) or {})

    def chapter(self, path: str) -> ChapterRef:
        for ref in self.chapters:
            if ref.path == path:
                return ref
        raise KeyError(path)


def load_project(root: Path) -> Project:
    """Parse ``root/_quarto.yml`` and check that the book it describes can be built."""
    config_path = root / CONFIG_NAME
    if not config_path.is_file():
        raise BuildError(f"no {CONFIG_NAME} found in {root}")
    text = config_path.read_text(encoding="utf-8")
    config = load_yaml_mapping(text, CONFIG_NAME)

    project = config.get("project") or {}
    if project.get("type") != "book":
        raise BuildError("project.type must be 'book'", CONFIG_NAME, line_of(text, "type:"))
    book = config.get("book")
    if not isinstance(book, dict):
        raise BuildError("missing 'book:' section", CONFIG_NAME)

    chapters = _chapter_list(book.get("chapters"), text, appendix=False)
    chapters += _chapter_list(book.get("appendices"), text, appendix=True)
    if not chapters:
        raise BuildError("book.chapters lists no chapters", CONFIG_NAME, line_of(text, "chapters"))
    _check_chapters(root, chapters, text)

    bibliography = None
    if bib := config.get("bibliography"):
        bibliography = root / str(bib)
        if not bibliography.is_file():
            raise BuildError(
                f"bibliography '{bib}' not found", CONFIG_NAME, line_of(text, "bibliography")
            )

    formats = config.get("format") or {}
    if not isinstance(formats, dict):
        raise BuildError("'format:' must be a mapping", CONFIG_NAME, line_of(text, "format:"))
    author = book.get("author", "")
    if isinstance(author, list):
        author = ", ".join(str(a) for a in author)
    return Project(
        root=root,
        title=str(book.get("title", "Untitled")),
        subtitle=str(book.get("subtitle", "")),
        author=str(author),
        date=str(book.get("date", "")),
        description=str(book.get("description", "")),
        chapters=tuple(chapters),
        bibliography=bibliography,
        output_dir=str(project.get("output-dir", "_book")),
        formats={str(k): (v if isinstance(v, dict) else {}) for k, v in formats.items()},
        book=book,
        config=config,
    )


def _chapter_list(entries: Any, text: str, *, appendix: bool) -> list[ChapterRef]:
    """Flatten Quarto's chapter list: plain paths, and ``{part: title, chapters: [...]}``."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise BuildError("book.chapters must be a list", CONFIG_NAME, line_of(text, "chapters:"))
    refs: list[ChapterRef] = []
    for entry in entries:
        if isinstance(entry, str):
            refs.append(ChapterRef(entry, None, appendix))
        elif isinstance(entry, dict) and "part" in entry:
            title = str(entry["part"])
            inner = entry.get("chapters") or []
            if not isinstance(inner, list) or not all(isinstance(c, str) for c in inner):
                raise BuildError(
                    f"part '{title}' must list its chapters as file paths",
                    CONFIG_NAME,
                    line_of(text, title),
                )
            refs.extend(ChapterRef(c, title, appendix) for c in inner)
        else:
            raise BuildError(
                f"unrecognised chapter entry: {entry!r}", CONFIG_NAME, line_of(text, str(entry))
            )
    return refs


def _check_chapters(root: Path, chapters: list[ChapterRef], text: str) -> None:
    seen: set[str] = set()
    for ref in chapters:
        where = line_of(text, ref.path)
        if not ref.path.endswith((".qmd", ".md")):
            raise BuildError(f"chapter '{ref.path}' is not a .qmd or .md file", CONFIG_NAME, where)
        if ref.path in seen:
            raise BuildError(f"chapter '{ref.path}' is listed twice", CONFIG_NAME, where)
        seen.add(ref.path)
        if not (root / ref.path).is_file():
            raise BuildError(f"chapter '{ref.path}' is listed but missing", CONFIG_NAME, where)
