"""The EPUB: the resolved book through pandoc's EPUB 3 writer.

Same numbered, cross-referenced book as the web and PDF editions. Chapters become the EPUB's
chapters (parts nest above them in the navigation), math is MathML, figures are the same SVGs,
and the cover is rendered by Typst from the book's title. The result passes ``epubcheck``.

Reproducible: the EPUB identifier is derived from the title (not random), and pandoc stamps the
``SOURCE_DATE_EPOCH`` we give it (the book's date) instead of the current time.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from .errors import BuildError
from .pandoc import filter_path, run_pandoc
from .project import Project
from .resolve import ResolvedBook
from .typst_pdf import FONT_DIRS

ASSETS = Path(__file__).parent / "epub_assets"
TEMPLATES = Path(__file__).parent / "templates"


def epub_name(project: Project) -> str:
    return project.slug + ".epub"


def render_cover(project: Project, out: Path) -> Path:
    """A PNG cover made by Typst from the title, subtitle, author and date."""
    import typst

    inputs = {
        "title": project.title,
        "subtitle": project.subtitle,
        "author": project.author,
        "date": project.date,
    }
    fonts = [str(d) for d in FONT_DIRS if d.is_dir()]
    try:
        png = typst.compile(
            str(TEMPLATES / "cover.typ"), format="png", ppi=200, sys_inputs=inputs,
            font_paths=fonts, ignore_system_fonts=True,
        )  # fmt: skip
    except typst.TypstError as exc:
        raise BuildError(f"Typst could not render the EPUB cover: {exc.message}") from None
    assert isinstance(png, bytes)
    out.write_bytes(png)
    return out


def write_epub(project: Project, book: ResolvedBook, stage: Path, work: Path) -> Path:
    """Write the EPUB into ``stage``; ``work`` is a scratch folder (for the cover)."""
    cover = render_cover(project, work / "cover.png")
    out = stage / epub_name(project)
    identifier = uuid.uuid5(uuid.NAMESPACE_URL, f"llmprep-book:{project.title}")
    date = datetime.strptime(project.date or "2026-01-01", "%Y-%m-%d").replace(tzinfo=UTC)
    args = [
        "--from=json",
        "--to=epub3",
        f"--output={out}",
        "--mathml",
        "--toc",
        "--toc-depth=2",
        "--split-level=2",
        f"--epub-cover-image={cover}",
        f"--css={ASSETS / 'epub.css'}",
        f"--resource-path={stage}",
        f"--lua-filter={filter_path('callouts.lua')}",
        f"--lua-filter={filter_path('book.lua')}",
        f"--lua-filter={filter_path('chapters.lua')}",
        f"--metadata=title:{project.title}",
        f"--metadata=subtitle:{project.subtitle}",
        f"--metadata=author:{project.author}",
        f"--metadata=date:{project.date}",
        f"--metadata=identifier:urn:uuid:{identifier}",
        f"--metadata=lang:{project.config.get('lang', 'en')}",
    ]
    epoch = {"SOURCE_DATE_EPOCH": str(int(date.timestamp()))}
    result = run_pandoc(args, json.dumps(book.document), what="writing the EPUB", env=epoch)
    if result.warnings:
        out.unlink(missing_ok=True)
        detail = "\n".join(result.warnings)
        raise BuildError("pandoc warned while writing the EPUB", None, None, detail)
    return out
