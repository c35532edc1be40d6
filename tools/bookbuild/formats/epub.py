"""The EPUB: the resolved book through pandoc's EPUB 3 writer.

Same numbered, cross-referenced book as the web and PDF editions. Chapters become the EPUB's
chapters (parts nest above them in the navigation), math is MathML, figures are the same SVGs,
and the cover is rendered by Typst from the book's title. The result passes ``epubcheck``.

Reproducible: the EPUB identifier is derived from the title (not random), and pandoc stamps the
``SOURCE_DATE_EPOCH`` we give it (the book's date) instead of the current time. Cached on the
book's AST, the figures, the cover's inputs and the stylesheet.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from ..cache import key
from ..context import BookContext, Outputs
from ..errors import BuildError
from ..pandoc import cached_pandoc, format_filters
from ..progress import TRACE
from ..project import Project
from ..toolchain import HERE, font_paths, fonts_key

ASSETS = HERE / "epub_assets"
TEMPLATES = HERE / "templates"


def render_cover(project: Project) -> bytes:
    """A PNG cover made by Typst from the title, subtitle, author and date."""
    import typst

    inputs = {"title": project.title, "subtitle": project.subtitle, "author": project.author,
              "date": project.date_text}  # fmt: skip
    try:
        with TRACE.timed("typst", "rendering the EPUB cover"):
            png = typst.compile(
                str(TEMPLATES / "cover.typ"), format="png", ppi=200, sys_inputs=inputs,
                font_paths=font_paths(), ignore_system_fonts=True,
            )  # fmt: skip
    except typst.TypstError as exc:
        raise BuildError(f"Typst could not render the EPUB cover: {exc.message}") from None
    assert isinstance(png, bytes)
    return png


def _prepare(ctx: BookContext, folder: Path) -> None:
    ctx.progress.message("EPUB: writing with pandoc")
    ctx.write_figures(folder)


def render(ctx: BookContext) -> Outputs:
    """The EPUB file, built by pandoc from the resolved book."""
    project = ctx.project
    cover_key = key("cover", metadata.version("typst"), fonts_key(), project.title,
                    project.subtitle, project.author, project.date_text,
                    (TEMPLATES / "cover.typ").read_text(encoding="utf-8"))  # fmt: skip
    cover_key += ".png"  # pandoc tells the cover's media type by its extension
    ctx.store.get("cover", cover_key, lambda: render_cover(project))
    cover = ctx.store.path("cover", cover_key)
    folder = ctx.work / "epub"
    identifier = uuid.uuid5(uuid.NAMESPACE_URL, f"{project.slug}:{project.title}")
    date = datetime(project.date.year, project.date.month, project.date.day, tzinfo=UTC)
    args = [
        "--from=json", "--to=epub3", "--output=-", "--mathml", "--toc", "--toc-depth=2",
        "--split-level=2", f"--epub-cover-image={cover}", f"--css={ASSETS / 'epub.css'}",
        f"--resource-path={folder}", *format_filters(chapters=True),
        f"--metadata=title:{project.title}", f"--metadata=subtitle:{project.subtitle}",
        f"--metadata=author:{project.author}", f"--metadata=date:{project.date_text}",
        f"--metadata=identifier:urn:uuid:{identifier}", f"--metadata=lang:{project.lang}",
    ]  # fmt: skip
    epoch = {"SOURCE_DATE_EPOCH": str(int(date.timestamp()))}
    try:
        result = cached_pandoc(
            ctx.store, args, json.dumps(ctx.book.document), what="writing the EPUB",
            reads=[cover], inputs=ctx.figures_key, prepare=lambda: _prepare(ctx, folder),
            scratch=ctx.work, env=epoch,
        )  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if result.warnings:
        detail = "\n".join(result.warnings)
        raise BuildError("pandoc warned while writing the EPUB", None, None, detail)
    return {project.output_name("epub"): result.data}
