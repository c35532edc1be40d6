"""The PDF: the resolved book through pandoc's Typst writer and the Typst compiler.

Pandoc turns the book (numbered and cross-referenced already, see :mod:`bookbuild.resolve`) into
Typst markup using our template ``templates/book.typ`` and the ``chapters.lua`` filter (parts,
chapter openings, running headers); the ``typst`` package (PyPI) compiles it in-process. Both
steps are cached on their inputs (the Typst source, every figure, the fonts, Typst's version).

Strictness: a pandoc warning (for instance "Could not convert TeX math") or any Typst warning
fails the build, naming the chapter it came from, because both mean the PDF silently differs from
the web book. Fonts come from Typst's embedded set plus the Noto fonts Debian installs for
non-Latin scripts and emoji; system font lookup is off, so the PDF is the same on every machine.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ..cache import key
from ..context import BookContext, Outputs
from ..errors import BuildError, line_of
from ..pandoc import cached_pandoc, format_filters
from ..progress import TRACE
from ..project import Project
from ..resolve import ResolvedBook
from ..toolchain import HERE, font_paths, fonts_key

TEMPLATES = HERE / "templates"
_SOURCE_MARK = re.compile(r"^// source: (.+)$")
_TEX_MATH = re.compile(r"Could not convert TeX math (.+?), rendering as TeX", re.DOTALL)


def to_typst(ctx: BookContext) -> str:
    """The whole book as Typst source."""
    project = ctx.project
    variables = {
        "title": project.title,
        "subtitle": project.subtitle,
        "author": project.author,
        "description": project.description,
        "date": project.date.strftime("%B %-d, %Y"),
        "year": str(project.date.year),
        "month": str(project.date.month),
        "day": str(project.date.day),
        "lang": project.lang,
        "papersize": project.paper_size,
    }
    args = ["--from=json", "--to=typst", f"--template={TEMPLATES / 'book.typ'}",
            *format_filters(chapters=True), "--wrap=preserve"]  # fmt: skip
    args += [f"--variable={name}={_markup(value)}" for name, value in variables.items()]
    args.append(f"--variable=author-string={_string(project.author)}")
    result = cached_pandoc(ctx.store, args, json.dumps(ctx.book.document), what="writing Typst")
    for warning in result.warnings:
        raise _pandoc_warning(warning, ctx.book)
    return result.output


def _markup(value: str) -> str:
    """Escape text pasted into Typst markup (``[...]``)."""
    return re.sub(r"([\\#$*_<>@\[\]`~])", r"\\\1", value)


def _string(value: str) -> str:
    """Escape text pasted into a Typst string literal (``"..."``)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _pandoc_warning(warning: str, book: ResolvedBook) -> BuildError:
    if match := _TEX_MATH.search(warning):
        math = match.group(1).strip()
        for ref in book.chapters:
            text = book.texts.get(ref.path, "")
            if (line := line_of(text, math.split("\n")[0].strip())) is not None:
                return BuildError(f"TeX math that Typst cannot show: {math}", ref.path, line)
    return BuildError("pandoc warned while writing Typst", None, None, warning)


def compile_pdf(source: str, root: Path, project: Project) -> bytes:
    """Compile Typst ``source`` with images resolved under ``root``; warnings are errors."""
    import typst

    main = root / "book.typ"
    main.write_text(source, encoding="utf-8")
    timestamp = datetime(project.date.year, project.date.month, project.date.day, tzinfo=UTC)
    try:
        with TRACE.timed("typst", "compiling the PDF"):
            compiler = typst.Compiler(
                str(main), root=str(root), font_paths=font_paths(), ignore_system_fonts=True
            )
            pdf, warnings = compiler.compile_with_warnings(timestamp=timestamp)
    except typst.TypstError as exc:
        raise _typst_problem(exc.message, exc.diagnostic, source) from None
    finally:
        main.unlink(missing_ok=True)
    if warnings:
        first: Any = warnings[0]
        raise _typst_problem(first.message, first.diagnostic, source, warning=True)
    assert isinstance(pdf, bytes)
    return pdf


def _typst_problem(
    message: str, diagnostic: str, source: str, *, warning: bool = False
) -> BuildError:
    """Name the chapter a Typst diagnostic points into (via the ``// source:`` marks)."""
    kind = "warning" if warning else "error"
    chapter = None
    if match := re.search(r"book\.typ:(\d+)", diagnostic):
        line = int(match.group(1))
        for text in reversed(source.splitlines()[:line]):
            if mark := _SOURCE_MARK.match(text):
                chapter = mark.group(1)
                break
    return BuildError(f"Typst {kind} in the PDF: {message}", chapter, None, diagnostic)


def render(ctx: BookContext) -> Outputs:
    """The PDF, from the cache when the Typst source, figures and fonts are unchanged."""
    source = to_typst(ctx)
    digest = key("typst", metadata.version("typst"), source, ctx.figures_key, fonts_key(),
                 ctx.project.date_text)  # fmt: skip

    def make() -> bytes:
        ctx.progress.message("PDF: compiling with Typst")
        folder = ctx.work / "typst"  # Typst reads images only from under its compile root
        folder.mkdir(parents=True, exist_ok=True)
        ctx.write_figures(folder)
        try:
            return compile_pdf(source, folder, ctx.project)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    ctx.store.get("pdf", digest, make)
    return {ctx.project.output_name("pdf"): ctx.store.path("pdf", digest)}
