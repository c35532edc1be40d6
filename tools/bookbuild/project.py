"""Read ``_quarto.yml``, the single definition of the book, into typed, validated values.

The chapter list, parts, title and output formats live there and nowhere else. Everything a build
needs from the file is read here, once, before anything executes, and every value has exactly one
default. A mistake (a missing chapter, ``date: someday``, a download format we do not build, an
``other-links`` entry without ``text``) is a :class:`BuildError` naming ``_quarto.yml:LINE``; no
other module reads the raw configuration.

It reads the subset of Quarto's project schema the book uses (``project``, ``book`` with
``chapters``/``appendices`` and parts, ``bibliography``, ``csl``, ``lang``, ``number-depth``,
``format``); whether every key is a Quarto key at all is checked by the Quarto-validity test.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BuildError, line_of
from .yamlio import load_yaml_mapping

CONFIG_NAME = "_quarto.yml"
PAPER_SIZES = {"a4": "a4", "letter": "us-letter", "us-letter": "us-letter"}
DOWNLOADABLE = ("pdf", "epub")
REPO_ACTIONS = ("edit", "source", "issue")


@dataclass(frozen=True, slots=True)
class ChapterRef:
    """One entry of ``book.chapters``: a source file and the part it sits in."""

    path: str  # relative to the project root, with forward slashes
    part: str | None
    appendix: bool = False

    @property
    def stem(self) -> str:
        """The path without its extension: the basis of the page name and freeze folder."""
        return source_stem(self.path)

    @property
    def html_name(self) -> str:
        """Where the page lands in ``_book/`` (Quarto's rule: same path, ``.html``)."""
        return self.stem + ".html"


def source_stem(path: str) -> str:
    """``chapters/a/b.qmd`` -> ``chapters/a/b``."""
    return path.rsplit(".", 1)[0]


@dataclass(frozen=True, slots=True)
class Link:
    """A sidebar link: a download (PDF, EPUB) or one of ``format.html.other-links``."""

    text: str
    href: str  # root-relative or absolute


@dataclass(frozen=True, slots=True)
class Project:
    """The parsed ``_quarto.yml`` plus the project root it was read from."""

    root: Path
    title: str
    subtitle: str
    author: str
    date: dt.date
    description: str
    chapters: tuple[ChapterRef, ...]
    bibliography: Path | None
    csl: Path | None
    output_dir: str
    lang: str
    number_depth: int | None
    fig_size: tuple[float, float]  # inches; the one owner of the figure size
    paper_size: str  # Typst's name: "a4" or "us-letter"
    downloads: tuple[str, ...]  # formats offered for download ("pdf", "epub")
    other_links: tuple[Link, ...]
    post_render: tuple[str, ...]
    repo_url: str
    repo_actions: tuple[str, ...]
    repo_branch: str

    @property
    def slug(self) -> str:
        """The title as a file name stem: "LLM Interview Prep" -> "llm-interview-prep"."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")

    def output_name(self, fmt: str) -> str:
        """The file a whole-book format writes into the output folder ("pdf" -> "x.pdf")."""
        return f"{self.slug}.{fmt}"

    @property
    def date_text(self) -> str:
        return self.date.isoformat()

    def sidebar_links(self) -> list[Link]:
        """Downloads first (in ``book.downloads`` order), then ``other-links``."""
        labels = {"pdf": "PDF", "epub": "EPUB"}
        links = [Link(labels[f], self.output_name(f)) for f in self.downloads]
        return links + list(self.other_links)

    def chapter(self, path: str) -> ChapterRef:
        for ref in self.chapters:
            if ref.path == path:
                return ref
        raise KeyError(path)


class _Config:
    """The raw mapping plus its text, so that every error can name its line."""

    def __init__(self, text: str, data: dict[str, Any]) -> None:
        self.text = text
        self.data = data

    def fail(self, message: str, needle: str) -> BuildError:
        return BuildError(message, CONFIG_NAME, line_of(self.text, needle))

    def mapping(self, value: Any, name: str, needle: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"'{name}' must be a mapping", needle)
        return value

    def strings(self, value: Any, name: str, needle: str) -> tuple[str, ...]:
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise self.fail(f"'{name}' must be a string or a list of strings", needle)
        return tuple(items)


def load_project(root: Path) -> Project:
    """Parse ``root/_quarto.yml`` and check that the book it describes can be built."""
    config_path = root / CONFIG_NAME
    if not config_path.is_file():
        raise BuildError(f"no {CONFIG_NAME} found in {root}")
    text = config_path.read_text(encoding="utf-8")
    cfg = _Config(text, load_yaml_mapping(text, CONFIG_NAME))

    project = cfg.mapping(cfg.data.get("project"), "project", "project:")
    if project.get("type") != "book":
        raise cfg.fail("project.type must be 'book'", "type:")
    book = cfg.data.get("book")
    if not isinstance(book, dict):
        raise BuildError("missing 'book:' section", CONFIG_NAME)

    chapters = _chapter_list(cfg, book.get("chapters"), appendix=False)
    chapters += _chapter_list(cfg, book.get("appendices"), appendix=True)
    if not chapters:
        raise cfg.fail("book.chapters lists no chapters", "chapters")
    _check_chapters(root, chapters, cfg)

    formats = cfg.mapping(cfg.data.get("format"), "format", "format:")
    html = cfg.mapping(formats.get("html"), "format.html", "html:")
    typst = cfg.mapping(formats.get("typst"), "format.typst", "typst:")
    author = book.get("author", "")
    if isinstance(author, list):
        author = ", ".join(str(a) for a in author)
    return Project(
        root=root,
        title=str(book.get("title", "Untitled")),
        subtitle=str(book.get("subtitle", "")),
        author=str(author),
        date=_date(cfg, book.get("date")),
        description=str(book.get("description", "")),
        chapters=tuple(chapters),
        bibliography=_existing_file(cfg, root, cfg.data.get("bibliography"), "bibliography"),
        csl=_existing_file(cfg, root, cfg.data.get("csl"), "csl"),
        output_dir=str(project.get("output-dir", "_book")),
        lang=str(cfg.data.get("lang", "en")),
        number_depth=_number_depth(cfg),
        fig_size=(_inches(cfg, html, "fig-width", 7.0), _inches(cfg, html, "fig-height", 4.2)),
        paper_size=_paper_size(cfg, typst),
        downloads=_downloads(cfg, book),
        other_links=_other_links(cfg, html),
        post_render=cfg.strings(project.get("post-render"), "project.post-render", "post-render"),
        repo_url=str(book.get("repo-url", "")).rstrip("/"),
        repo_actions=_repo_actions(cfg, book),
        repo_branch=str(book.get("repo-branch", "main")),
    )


def _date(cfg: _Config, value: Any) -> dt.date:
    """``YYYY-MM-DD`` or Quarto's ``today``; anything else is an error, named by line."""
    if value is None:
        return dt.date(1970, 1, 1)
    if isinstance(value, dt.date):  # YAML reads an unquoted 2026-11-29 as a date
        return value
    if str(value) == "today":
        return dt.date.today()
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise cfg.fail(
            f"book.date '{value}' is not a date: write YYYY-MM-DD (or Quarto's 'today')", "date:"
        ) from None


def _existing_file(cfg: _Config, root: Path, value: Any, name: str) -> Path | None:
    if not value:
        return None
    path = root / str(value)
    if not path.is_file():
        raise cfg.fail(f"{name} '{value}' not found", f"{name}:")
    return path


def _number_depth(cfg: _Config) -> int | None:
    value = cfg.data.get("number-depth")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 6:
        raise cfg.fail(f"number-depth must be a whole number from 1 to 6, not {value!r}", "number")
    return value


def _inches(cfg: _Config, html: dict[str, Any], key: str, default: float) -> float:
    value = html.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise cfg.fail(f"format.html.{key} must be a positive number of inches", f"{key}:")
    return float(value)


def _paper_size(cfg: _Config, typst: dict[str, Any]) -> str:
    requested = str(typst.get("papersize", "a4")).lower()
    if requested not in PAPER_SIZES:
        raise cfg.fail(
            f"format.typst.papersize '{requested}' is not one of {', '.join(PAPER_SIZES)}",
            "papersize",
        )
    return PAPER_SIZES[requested]


def _downloads(cfg: _Config, book: dict[str, Any]) -> tuple[str, ...]:
    formats = cfg.strings(book.get("downloads"), "book.downloads", "downloads")
    for fmt in formats:
        if fmt not in DOWNLOADABLE:
            raise cfg.fail(
                f"book.downloads: '{fmt}' is not built here ({', '.join(DOWNLOADABLE)})",
                "downloads",
            )
    return formats


def _other_links(cfg: _Config, html: dict[str, Any]) -> tuple[Link, ...]:
    entries = html.get("other-links") or []
    if not isinstance(entries, list):
        raise cfg.fail("format.html.other-links must be a list", "other-links")
    links = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("text") or not entry.get("href"):
            needle = str(entry.get("href") or entry.get("text")) if isinstance(entry, dict) else ""
            raise cfg.fail(
                "each format.html.other-links entry needs a 'text' and an 'href'",
                needle or "other-links",
            )
        links.append(Link(str(entry["text"]), str(entry["href"])))
    return tuple(links)


def _repo_actions(cfg: _Config, book: dict[str, Any]) -> tuple[str, ...]:
    actions = cfg.strings(book.get("repo-actions"), "book.repo-actions", "repo-actions")
    for action in actions:
        if action not in REPO_ACTIONS:
            raise cfg.fail(
                f"book.repo-actions: '{action}' is not one of {', '.join(REPO_ACTIONS)}",
                "repo-actions",
            )
    if actions and not book.get("repo-url"):
        raise cfg.fail("book.repo-actions needs book.repo-url", "repo-actions")
    return actions


APPENDICES = "Appendices"


def _chapter_list(cfg: _Config, entries: Any, *, appendix: bool) -> list[ChapterRef]:
    """Flatten Quarto's chapter list: plain paths, and ``{part: title, chapters: [...]}``."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise cfg.fail("book.chapters must be a list", "chapters:")
    refs: list[ChapterRef] = []
    for entry in entries:
        if isinstance(entry, str):
            # Quarto lists appendices under one "Appendices" heading unless a part names them.
            refs.append(ChapterRef(entry, APPENDICES if appendix else None, appendix))
        elif isinstance(entry, dict) and "part" in entry:
            title = str(entry["part"])
            inner = entry.get("chapters") or []
            if not isinstance(inner, list) or not all(isinstance(c, str) for c in inner):
                raise cfg.fail(f"part '{title}' must list its chapters as file paths", title)
            refs.extend(ChapterRef(c, title, appendix) for c in inner)
        else:
            raise cfg.fail(f"unrecognised chapter entry: {entry!r}", str(entry))
    return refs


def _check_chapters(root: Path, chapters: list[ChapterRef], cfg: _Config) -> None:
    seen: set[str] = set()
    for ref in chapters:
        if not ref.path.endswith((".qmd", ".md")):
            raise cfg.fail(f"chapter '{ref.path}' is not a .qmd or .md file", ref.path)
        if ref.path in seen:
            raise cfg.fail(f"chapter '{ref.path}' is listed twice", ref.path)
        seen.add(ref.path)
        if not (root / ref.path).is_file():
            raise cfg.fail(f"chapter '{ref.path}' is listed but missing", ref.path)
