"""The PDF: the resolved book through pandoc's Typst writer and the Typst compiler.

Pandoc turns the book (numbered and cross-referenced already, see :mod:`bookbuild.resolve`) into
Typst markup using our template ``templates/book.typ`` and the ``chapters.lua`` filter (parts,
chapter openings, running headers); the ``typst`` package (PyPI) compiles it in-process.

Strictness: a pandoc warning (for instance "Could not convert TeX math") or any Typst warning
fails the build, naming the chapter it came from, because both mean the PDF silently differs from
the web book. Fonts come from Typst's embedded set plus the Noto fonts Debian installs for
non-Latin scripts and emoji; system font lookup is off, so the PDF is the same on every machine.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import BuildError, line_of
from .pandoc import filter_path, run_pandoc
from .project import Project
from .resolve import ResolvedBook

TEMPLATES = Path(__file__).parent / "templates"
FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/truetype/dejavu"),
)
PAPER_SIZES = {"a4": "a4", "letter": "us-letter", "us-letter": "us-letter"}
_SOURCE_MARK = re.compile(r"^// source: (.+)$")
_TEX_MATH = re.compile(r"Could not convert TeX math (.+?), rendering as TeX", re.DOTALL)


def pdf_name(project: Project) -> str:
    """File name of the PDF in the output folder, from the book's title."""
    return project.slug + ".pdf"


def paper_size(project: Project) -> str:
    requested = str(project.format_options("typst").get("papersize", "a4")).lower()
    if requested not in PAPER_SIZES:
        raise BuildError(
            f"format.typst.papersize '{requested}' is not one of {', '.join(PAPER_SIZES)}",
            "_quarto.yml",
        )
    return PAPER_SIZES[requested]


def to_typst(project: Project, book: ResolvedBook) -> str:
    """The whole book as Typst source."""
    date = datetime.strptime(project.date or "2026-01-01", "%Y-%m-%d")
    variables = {
        "title": project.title,
        "subtitle": project.subtitle,
        "author": project.author,
        "description": project.description,
        "date": date.strftime("%B %-d, %Y"),
        "year": str(date.year),
        "month": str(date.month),
        "day": str(date.day),
        "lang": str(project.config.get("lang", "en")),
        "papersize": paper_size(project),
    }
    args = [
        "--from=json",
        "--to=typst",
        f"--template={TEMPLATES / 'book.typ'}",
        f"--lua-filter={filter_path('callouts.lua')}",
        f"--lua-filter={filter_path('book.lua')}",
        f"--lua-filter={filter_path('chapters.lua')}",
        "--wrap=preserve",
    ]
    args += [f"--variable={key}={_markup(value)}" for key, value in variables.items()]
    args.append(f"--variable=author-string={_string(project.author)}")
    result = run_pandoc(args, json.dumps(book.document), what="writing Typst")
    for warning in result.warnings:
        raise _pandoc_warning(warning, book, project)
    return result.output


def _markup(value: str) -> str:
    """Escape text pasted into Typst markup (``[...]``)."""
    return re.sub(r"([\\#$*_<>@\[\]`~])", r"\\\1", value)


def _string(value: str) -> str:
    """Escape text pasted into a Typst string literal (``"..."``)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _pandoc_warning(warning: str, book: ResolvedBook, project: Project) -> BuildError:
    if match := _TEX_MATH.search(warning):
        math = match.group(1).strip()
        for ref in book.chapters:
            text = (project.root / ref.path).read_text(encoding="utf-8")
            if (line := line_of(text, math.split("\n")[0].strip())) is not None:
                return BuildError(f"TeX math that Typst cannot show: {math}", ref.path, line)
    return BuildError("pandoc warned while writing Typst", None, None, warning)


def compile_pdf(source: str, root: Path, project: Project) -> bytes:
    """Compile Typst ``source`` with images resolved under ``root``; warnings are errors."""
    import typst

    main = root / "book.typ"
    main.write_text(source, encoding="utf-8")
    fonts = [str(d) for d in FONT_DIRS if d.is_dir()]
    timestamp = datetime.strptime(project.date or "2026-01-01", "%Y-%m-%d").replace(tzinfo=UTC)
    try:
        compiler = typst.Compiler(
            str(main), root=str(root), font_paths=fonts, ignore_system_fonts=True
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


def write_pdf(project: Project, book: ResolvedBook, stage: Path) -> Path:
    """Build the PDF into ``stage`` (where the figures already are) and return its path."""
    pdf = compile_pdf(to_typst(project, book), stage, project)
    out = stage / pdf_name(project)
    out.write_bytes(pdf)
    return out
