"""Assemble the chapters into one book and resolve everything that spans chapters.

Numbering has to be book-wide ("Figure 3.2" must mean the same in the web book, the PDF and the
EPUB), so the chapters' ASTs are joined into one document -- each chapter a Div with class
``bb-chapter`` -- and pandoc runs over it once with our ``crossref.lua`` and then ``--citeproc``.
Every output format starts from that single resolved AST.

Checks made here, each naming the file and line: unknown cross-references, duplicate labels,
unknown citation keys, and bibliography entries nobody cites.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import pandoc_ast as ast
from .cache import OutputCache
from .errors import BuildError, line_of
from .pandoc import cached_pandoc, filter_path
from .project import ChapterRef, Project
from .qmd import quarto_names

_CROSSREF_PREFIX = re.compile(rf"^({'|'.join(quarto_names()['crossref_prefixes'])})-")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|/|#)", re.IGNORECASE)  # not a project path
_PROBLEM = re.compile(r"^BOOKBUILD-(\w+)\t(.*?)\t(.*)$")
_CITEPROC_MISSING = re.compile(r"Citeproc: citation (\S+) not found")


@dataclass(frozen=True, slots=True)
class Chapter:
    """A chapter's parsed AST, its source text (for locating problems) and its place."""

    ref: ChapterRef
    blocks: list[ast.Node]
    meta: dict[str, Any]
    source_text: str


@dataclass(frozen=True, slots=True)
class ResolvedBook:
    """The whole book after cross-references and citations: one pandoc document."""

    document: dict[str, Any]
    chapters: list[ChapterRef]
    numbers: dict[str, str]  # chapter path -> chapter number ("" when unnumbered)
    texts: dict[str, str]  # chapter path -> source text, for locating problems later

    def chapter_blocks(self) -> list[tuple[ChapterRef, ast.Node]]:
        divs = [b for b in self.document["blocks"] if b["t"] == "Div"]
        return list(zip(self.chapters, divs, strict=True))


def chapter_numbers(chapters: list[Chapter]) -> dict[str, str]:
    """Number chapters in order; the first page (the preface) and ``.unnumbered`` ones get "".

    Appendices (``book.appendices``) are lettered A, B, ... as Quarto letters them, so their
    sections are "A.1", their figures "Figure A.1", and a reference to one says "Appendix A".
    """
    numbers: dict[str, str] = {}
    count = appendices = 0
    for position, chapter in enumerate(chapters):
        head = ast.first_header(chapter.blocks, 1)
        classes = ast.classes(head) if head else []
        if position == 0 or "unnumbered" in classes or "-" in classes:
            numbers[chapter.ref.path] = ""
        elif chapter.ref.appendix:
            appendices += 1
            numbers[chapter.ref.path] = appendix_letter(appendices)
        else:
            count += 1
            numbers[chapter.ref.path] = str(count)
    return numbers


def appendix_letter(n: int) -> str:
    """The label of the n-th appendix (1-based): A ... Z, then AA, AB, ... like spreadsheet
    columns, so a long appendix list never runs out of labels."""
    if n < 1:
        raise ValueError(f"appendix numbers start at 1, got {n}")
    label = ""
    while n:
        n, rest = divmod(n - 1, 26)
        label = chr(ord("A") + rest) + label
    return label


def normalise_chapter(chapter: Chapter, used_ids: dict[str, str]) -> None:
    """Make image paths root-relative and identifiers unique across the book (in place).

    Pandoc invents identifiers for headers ("key-takeaways") that repeat from chapter to chapter;
    they are renamed ``key-takeaways-2``... Labels with a cross-reference prefix are the author's,
    and a repeat is an error.
    """
    path = chapter.ref.path
    folder = posixpath.dirname(path)

    figures = chapter.ref.stem + "_files/figure-html/"  # written root-relative by assemble.py

    def image(src: str) -> str:
        if EXTERNAL.match(src) or src.startswith(figures):
            return src
        return posixpath.normpath(posixpath.join(folder, src))

    ast.map_images(chapter.blocks, image)
    renames: dict[str, str] = {}
    for node in ast.nodes(chapter.blocks):
        a = ast.attr(node)
        if not a or not a[0]:
            continue
        ident = a[0]
        if ident in used_ids:
            if _CROSSREF_PREFIX.match(ident) or used_ids[ident] == path:
                where = used_ids[ident]
                raise BuildError(
                    f"duplicate label '{ident}' (also in {where})",
                    path,
                    line_of(chapter.source_text, ident),
                )
            n = 2
            while f"{ident}-{n}" in used_ids:
                n += 1
            renames[ident] = f"{ident}-{n}"
            a[0] = renames[ident]
        used_ids[a[0]] = path
    if renames:
        ast.map_links(
            chapter.blocks, lambda t: "#" + renames.get(t[1:], t[1:]) if t[:1] == "#" else t
        )


def link_chapters(chapters: list[Chapter]) -> None:
    """Turn links to other chapters' sources (``b.qmd#sec-x``) into in-book anchors (``#sec-x``).

    Quarto lets authors link to a ``.qmd``; in the book every chapter is part of one document, so
    the link becomes an anchor (the chapter's own title when no fragment is given), which each
    output format then resolves in its own way (another web page, a PDF link, an EPUB file).
    """
    titles = {}
    for chapter in chapters:
        head = ast.first_header(chapter.blocks, 1)
        titles[chapter.ref.path] = ast.identifier(head) if head else ""
    for chapter in chapters:
        folder = posixpath.dirname(chapter.ref.path)

        def rewrite(target: str, folder: str = folder, chapter: Chapter = chapter) -> str:
            path, _, fragment = target.partition("#")
            if EXTERNAL.match(target) or not path.endswith((".qmd", ".md")):
                return target
            source = posixpath.normpath(posixpath.join(folder, path))
            if source not in titles:
                raise BuildError(
                    f"link to '{path}', which is not a chapter of the book",
                    chapter.ref.path,
                    line_of(chapter.source_text, path),
                )
            return "#" + (fragment or titles[source])

        ast.map_links(chapter.blocks, rewrite)


def cited_keys(chapters: list[Chapter]) -> dict[str, str]:
    """Bibliography keys cited anywhere, mapped to the first chapter citing each."""
    keys: dict[str, str] = {}
    for chapter in chapters:
        for node in ast.nodes(chapter.blocks):
            if node["t"] == "Cite":
                for citation in node["c"][0]:
                    key = citation["citationId"]
                    if not _CROSSREF_PREFIX.match(key):
                        keys.setdefault(key, chapter.ref.path)
    return keys


def bibliography_keys(bib: Path, root: Path, store: OutputCache) -> list[str]:
    """Keys of every entry in the BibTeX file (parsed by pandoc, which reports syntax errors)."""
    text = bib.read_text(encoding="utf-8")
    result = cached_pandoc(
        store, ["--from=bibtex", "--to=csljson"], text, what="reading the bibliography",
        file=bib.relative_to(root).as_posix(),
    )  # fmt: skip
    if result.warnings:
        raise BuildError(
            "problems in the bibliography", bib.relative_to(root).as_posix(), None,
            "\n".join(result.warnings),
        )  # fmt: skip
    return [str(entry["id"]) for entry in json.loads(result.output)]


def check_citations(project: Project, chapters: list[Chapter], store: OutputCache) -> None:
    """Unknown keys are errors (file:line of the citation); so are entries never cited."""
    cited = cited_keys(chapters)
    if project.bibliography is None:
        if cited:
            key, path = next(iter(cited.items()))
            raise BuildError(f"citation '@{key}' but the book has no bibliography", path)
        return
    bib_name = project.bibliography.relative_to(project.root).as_posix()
    known = bibliography_keys(project.bibliography, project.root, store)
    texts = source_texts(chapters)
    for key, path in cited.items():
        if key not in known:
            raise BuildError(
                f"unknown citation key '@{key}' (not in {bib_name})",
                path,
                line_of(texts[path], "@" + key),
            )
    unused = [k for k in known if k not in cited]
    if unused:
        bib_text = project.bibliography.read_text(encoding="utf-8")
        raise BuildError(
            f"bibliography entries never cited: {', '.join(unused)}",
            bib_name,
            line_of(bib_text, "{" + unused[0] + ","),
        )


def source_texts(chapters: list[Chapter]) -> dict[str, str]:
    return {c.ref.path: c.source_text for c in chapters}


def chapter_div(blocks: list[ast.Node], path: str, number: str, part: str | None) -> ast.Node:
    """A chapter as the crossref and chapter filters expect it: a ``bb-chapter`` Div whose
    attributes say which source it came from, its number and its part (the one contract
    between this module and ``filters/crossref.lua`` / ``filters/chapters.lua``)."""
    attrs = [["source", path], ["number", number]] + ([["part", part]] if part else [])
    return {"t": "Div", "c": [["", ["bb-chapter"], attrs], blocks]}


def run_crossref(
    store: OutputCache,
    document: dict[str, Any],
    texts: dict[str, str],
    extra_args: list[str],
    *,
    file: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Number and cross-reference a document of ``bb-chapter`` Divs with ``crossref.lua``."""
    args = ["--from=json", "--to=json", f"--lua-filter={filter_path('crossref.lua')}"]
    try:
        result = cached_pandoc(
            store, args + extra_args, json.dumps(document), what="resolving cross-references",
            file=file,
        )  # fmt: skip
    except BuildError as exc:
        raise crossref_problem(exc.detail, texts) or exc from None
    resolved: dict[str, Any] = json.loads(result.output)
    return resolved, result.warnings


def resolve_book(
    project: Project, chapters: list[Chapter], version: list[int], store: OutputCache
) -> ResolvedBook:
    """Join chapters, number and cross-reference them, run citeproc; one AST for all formats."""
    used: dict[str, str] = {}
    for chapter in chapters:
        normalise_chapter(chapter, used)
    link_chapters(chapters)
    check_citations(project, chapters, store)
    numbers = chapter_numbers(chapters)
    blocks = [chapter_div(c.blocks, c.ref.path, numbers[c.ref.path], c.ref.part) for c in chapters]
    meta = {
        "link-citations": ast.meta_bool(True),
        "reference-section-title": ast.meta_string(""),
        "lang": ast.meta_string(project.lang),
    }
    if project.number_depth is not None:
        meta["number-depth"] = ast.meta_string(str(project.number_depth))
    args: list[str] = []
    if project.bibliography is not None:
        args += ["--citeproc", f"--bibliography={project.bibliography}"]
        if project.csl is not None:
            args.append(f"--csl={project.csl}")
    texts = source_texts(chapters)
    resolved, warnings = run_crossref(store, ast.document(blocks, meta, version), texts, args)
    for warning in warnings:
        if match := _CITEPROC_MISSING.search(warning):
            key = match.group(1)
            path = cited_keys(chapters).get(key, "?")
            raise BuildError(
                f"unknown citation key '@{key}'", path, line_of(texts.get(path, ""), "@" + key)
            )
    check_anchors(resolved, chapters)
    return ResolvedBook(resolved, [c.ref for c in chapters], numbers, texts)


def check_anchors(document: dict[str, Any], chapters: list[Chapter]) -> None:
    """Every in-book link (``#id``) must name an identifier somewhere in the book."""
    known = set(ast.ids(document["blocks"]))
    divs = [b for b in document["blocks"] if b["t"] == "Div"]
    for chapter, div in zip(chapters, divs, strict=True):
        for node in ast.nodes(div):
            if node["t"] != "Link":
                continue
            target = node["c"][2][0]
            if target.startswith("#") and target[1:] not in known:
                raise BuildError(
                    f"link to '{target}', which is not an anchor anywhere in the book",
                    chapter.ref.path,
                    line_of(chapter.source_text, target),
                )


def crossref_problem(stderr: str, texts: dict[str, str]) -> BuildError | None:
    """The first problem ``crossref.lua`` reported (``BOOKBUILD-<KIND>\tfile\tkey`` lines on
    stderr), as a located error."""
    for line in stderr.splitlines():
        match = _PROBLEM.match(line.strip())
        if not match:
            continue
        kind, path, key = match.groups()
        text = texts.get(path, "")
        if kind == "UNRESOLVED":
            return BuildError(f"unknown cross-reference '@{key}'", path, line_of(text, "@" + key))
        if kind == "DUPLICATE":
            return BuildError(f"duplicate label '{key}'", path, line_of(text, key))
        if kind == "NOTABLE":
            return BuildError(f"'{key}' has no table in it", path, line_of(text, key))
    return None
