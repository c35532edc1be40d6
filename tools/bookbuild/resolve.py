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

from . import ast
from .errors import BuildError, line_of
from .pandoc import filter_path, run_pandoc
from .project import ChapterRef, Project

_CROSSREF_PREFIX = re.compile(
    r"^(fig|tbl|lst|tip|nte|wrn|imp|cau|thm|lem|cor|prp|cnj|def|exm|exr|sol|prf|rem|alg|eq|sec)-"
)
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

    def chapter_blocks(self) -> list[tuple[ChapterRef, ast.Node]]:
        divs = [b for b in self.document["blocks"] if b["t"] == "Div"]
        return list(zip(self.chapters, divs, strict=True))


def chapter_numbers(chapters: list[Chapter]) -> dict[str, str]:
    """Number chapters in order; the first page (the preface) and ``.unnumbered`` ones get ""."""
    numbers: dict[str, str] = {}
    count = 0
    for position, chapter in enumerate(chapters):
        head = next((b for b in chapter.blocks if b["t"] == "Header" and b["c"][0] == 1), None)
        classes = head["c"][1][1] if head else []
        if position == 0 or "unnumbered" in classes or "-" in classes:
            numbers[chapter.ref.path] = ""
        else:
            count += 1
            numbers[chapter.ref.path] = str(count)
    return numbers


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
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", src) or src.startswith(figures):
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
        head = next((b for b in chapter.blocks if b["t"] == "Header" and b["c"][0] == 1), None)
        titles[chapter.ref.path] = head["c"][1][0] if head else ""
    for chapter in chapters:
        folder = posixpath.dirname(chapter.ref.path)

        def rewrite(target: str, folder: str = folder, chapter: Chapter = chapter) -> str:
            path, _, fragment = target.partition("#")
            if re.match(r"^[a-z][a-z0-9+.-]*:|^/", target) or not path.endswith((".qmd", ".md")):
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


def bibliography_keys(bib: Path, root: Path) -> list[str]:
    """Keys of every entry in the BibTeX file (parsed by pandoc, which reports syntax errors)."""
    text = bib.read_text(encoding="utf-8")
    result = run_pandoc(
        ["--from=bibtex", "--to=csljson"], text, what="reading the bibliography",
        file=bib.relative_to(root).as_posix(),
    )  # fmt: skip
    if result.warnings:
        raise BuildError(
            "problems in the bibliography", bib.relative_to(root).as_posix(), None,
            "\n".join(result.warnings),
        )  # fmt: skip
    return [str(entry["id"]) for entry in json.loads(result.output)]


def check_citations(project: Project, chapters: list[Chapter]) -> None:
    """Unknown keys are errors (file:line of the citation); so are entries never cited."""
    cited = cited_keys(chapters)
    if project.bibliography is None:
        if cited:
            key, path = next(iter(cited.items()))
            raise BuildError(f"citation '@{key}' but the book has no bibliography", path)
        return
    bib_name = project.bibliography.relative_to(project.root).as_posix()
    known = bibliography_keys(project.bibliography, project.root)
    texts = {c.ref.path: c.source_text for c in chapters}
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


def resolve_book(project: Project, chapters: list[Chapter], version: list[int]) -> ResolvedBook:
    """Join chapters, number and cross-reference them, run citeproc; one AST for all formats."""
    used: dict[str, str] = {}
    for chapter in chapters:
        normalise_chapter(chapter, used)
    link_chapters(chapters)
    check_citations(project, chapters)
    numbers = chapter_numbers(chapters)
    blocks = []
    for chapter in chapters:
        attrs = [["source", chapter.ref.path], ["number", numbers[chapter.ref.path]]]
        if chapter.ref.part:
            attrs.append(["part", chapter.ref.part])
        blocks.append({"t": "Div", "c": [["", ["bb-chapter"], attrs], chapter.blocks]})
    meta = {
        "link-citations": ast.meta_bool(True),
        "reference-section-title": ast.meta_string(""),
        "lang": ast.meta_string(str(project.config.get("lang", "en-US"))),
    }
    if "number-depth" in project.config:
        meta["number-depth"] = ast.meta_string(str(project.config["number-depth"]))
    args = ["--from=json", "--to=json", f"--lua-filter={filter_path('crossref.lua')}"]
    if project.bibliography is not None:
        args += ["--citeproc", f"--bibliography={project.bibliography}"]
        if csl := project.config.get("csl"):
            args.append(f"--csl={project.root / str(csl)}")
    document = ast.document(blocks, meta, version)
    try:
        result = run_pandoc(args, json.dumps(document), what="resolving cross-references")
    except BuildError as exc:
        raise crossref_problem(exc.detail, chapters) or exc from None
    for warning in result.warnings:
        if match := _CITEPROC_MISSING.search(warning):
            key = match.group(1)
            path = cited_keys(chapters).get(key, "?")
            texts = {c.ref.path: c.source_text for c in chapters}
            raise BuildError(
                f"unknown citation key '@{key}'", path, line_of(texts.get(path, ""), "@" + key)
            )
    resolved: dict[str, Any] = json.loads(result.output)
    check_anchors(resolved, chapters)
    return ResolvedBook(resolved, [c.ref for c in chapters], numbers)


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


def crossref_problem(stderr: str, chapters: list[Chapter]) -> BuildError | None:
    texts = {c.ref.path: c.source_text for c in chapters}
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
