"""Write the web book: one HTML page per chapter, with sidebar, on-page contents and search.

Input is the resolved book (:mod:`bookbuild.resolve`). For each chapter this module

1. rewrites internal links: ``#fig-x`` becomes ``../02-rag/concepts.html#fig-x`` when the target
   sits on another page, and links to ``.qmd`` sources become links to their pages;
2. renders the chapter's blocks to an HTML fragment with pandoc (MathML, no JavaScript math), with
   the format-dependent filters (callouts, conditional content, code folding);
3. wraps it in the page template with the sidebar, table of contents and previous/next links;
4. extracts each section's text for the search index, which ships as a ``<script>`` so search
   also works when the book is opened straight from disk (``file://``).

Everything a page loads comes from ``site_libs/`` beside it: no CDN, no remote fonts.
"""

from __future__ import annotations

import copy
import html
import json
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from string import Template

from . import ast
from .errors import BuildError, line_of
from .pandoc import filter_path, run_pandoc
from .project import ChapterRef, Project
from .resolve import ResolvedBook

TEMPLATES = Path(__file__).parent / "templates"
ASSETS = Path(__file__).parent / "assets"
SITE_LIBS = "site_libs"


@dataclass(frozen=True, slots=True)
class Page:
    """One web page: where it goes and what it shows."""

    ref: ChapterRef
    number: str
    title: str  # plain text, without the number
    blocks: list[ast.Node]

    @property
    def url(self) -> str:
        return self.ref.html_name

    @property
    def label(self) -> str:
        return f"{self.number}\u2002{self.title}" if self.number else self.title


@dataclass(frozen=True, slots=True)
class Download:
    """A file offered for download from the sidebar (PDF, EPUB, ...)."""

    label: str
    url: str  # root-relative


def book_downloads(project: Project) -> list[Download]:
    """Sidebar downloads: Quarto's ``book.downloads`` formats, then ``other-links`` of html."""
    from .epub import epub_name
    from .typst_pdf import pdf_name

    names = {"pdf": ("PDF", pdf_name(project)), "epub": ("EPUB", epub_name(project))}
    downloads = []
    for fmt in project.book.get("downloads") or []:
        if fmt not in names:
            raise BuildError(
                f"book.downloads: '{fmt}' is not built here (pdf, epub)", "_quarto.yml"
            )
        downloads.append(Download(*names[fmt]))
    for link in project.format_options("html").get("other-links") or []:
        downloads.append(Download(str(link["text"]), str(link["href"])))
    return downloads


def line_of_config(project: Project, needle: str) -> int | None:
    return line_of((project.root / "_quarto.yml").read_text(encoding="utf-8"), needle)


def build_pages(book: ResolvedBook) -> list[Page]:
    pages = []
    for ref, div in book.chapter_blocks():
        blocks = copy.deepcopy(div["c"][1])  # pages rewrite links; the book stays as resolved
        head = next((b for b in blocks if b["t"] == "Header" and b["c"][0] == 1), None)
        if head is None:
            raise BuildError("chapter has no level-1 header (# Title) and no title", ref.path, 1)
        title = ast.stringify([i for i in head["c"][2] if not _is_number_span(i)])
        pages.append(Page(ref, book.numbers[ref.path], title, blocks))
    return pages


def _is_number_span(node: ast.Node) -> bool:
    return node["t"] == "Span" and "header-section-number" in node["c"][0][1]


def id_index(pages: list[Page]) -> dict[str, str]:
    """Identifier -> page URL for every identifier in the book."""
    index: dict[str, str] = {}
    for page in pages:
        for ident in ast.ids(page.blocks):
            index.setdefault(ident, page.url)
    return index


def relative(url: str, from_page: str) -> str:
    """``url`` (root-relative) as seen from the page ``from_page`` (root-relative)."""
    return posixpath.relpath(url, posixpath.dirname(from_page) or ".")


def rewrite_links(page: Page, index: dict[str, str]) -> None:
    """Point anchors that live on another page at that page, and images at their files."""

    def rewrite(target: str) -> str:
        if not target.startswith("#"):
            return target
        home = index.get(target[1:])
        if home is None or home == page.url:
            return target
        return relative(home, page.url) + target

    ast.map_links(page.blocks, rewrite)
    ast.map_images(
        page.blocks, lambda src: src if re.match(r"^[a-z]+:", src) else relative(src, page.url)
    )


def render_fragment(page: Page, version: list[int], lang: str) -> str:
    """The chapter's body as HTML, rendered by pandoc with the format filters."""
    document = ast.document(page.blocks, {"lang": ast.meta_string(lang)}, version)
    args = [
        "--from=json",
        "--to=html5",
        "--mathml",
        "--section-divs",
        f"--lua-filter={filter_path('callouts.lua')}",
        f"--lua-filter={filter_path('book.lua')}",
        "--wrap=none",
    ]
    result = run_pandoc(args, json.dumps(document), what="writing HTML", file=page.ref.path)
    return _post_process(result.output)


def _post_process(fragment: str) -> str:
    # Scrollable code must be reachable by keyboard (axe: scrollable-region-focusable).
    fragment = re.sub(r"<pre(?![^>]*tabindex)", '<pre tabindex="0"', fragment)
    # Wide tables scroll inside their own focusable box instead of widening the page.
    fragment = re.sub(r"<table", '<div class="table-wrap" tabindex="0"><table', fragment)
    return fragment.replace("</table>", "</table></div>")


def toc_html(page: Page) -> str:
    """The on-page table of contents: level-2 and level-3 headers."""
    items: list[tuple[int, str, str]] = []
    for node in page.blocks:
        if node["t"] == "Header" and node["c"][0] in (2, 3) and node["c"][1][0]:
            items.append((node["c"][0], node["c"][1][0], ast.stringify(node["c"][2])))
    if not items:
        return ""
    rows = []
    for level, ident, text in items:
        rows.append(
            f'<li class="toc-l{level}"><a href="#{html.escape(ident)}">{html.escape(text)}</a></li>'
        )
    return (
        '<nav class="toc" aria-labelledby="toc-title"><h2 id="toc-title">On this page</h2>'
        f"<ul>{''.join(rows)}</ul></nav>"
    )


def tools_html(page: Page, notebook: str | None) -> str:
    """Per-page downloads shown above the table of contents (the chapter's notebook)."""
    if notebook is None:
        return ""
    href = html.escape(relative(notebook, page.url))
    return (
        f'<p class="page-tools"><a href="{href}" download>Download as a notebook (.ipynb)</a></p>'
    )


def sidebar_html(pages: list[Page], current: Page, downloads: list[Download]) -> str:
    """Parts and chapters, with the current page marked for screen readers and the eye."""
    out: list[str] = ['<ul class="chapters">']
    part: str | None = None
    for page in pages:
        if page.ref.part != part:
            if part is not None:
                out.append("</ul></li>")
            part = page.ref.part
            if part is not None:
                out.append(
                    f'<li class="part"><span class="part-title">{html.escape(part)}</span><ul>'
                )
        href = html.escape(relative(page.url, current.url))
        marker = ' aria-current="page" class="active"' if page is current else ""
        number = f'<span class="chapter-number">{page.number}</span>' if page.number else ""
        out.append(f'<li><a href="{href}"{marker}>{number}{html.escape(page.title)}</a></li>')
    if part is not None:
        out.append("</ul></li>")
    out.append("</ul>")
    if downloads:
        links = "".join(
            f'<li><a href="{html.escape(relative(d.url, current.url))}">'
            f"{html.escape(d.label)}</a></li>"
            for d in downloads
        )
        out.append(f'<h2 class="downloads-title">Downloads</h2><ul class="downloads">{links}</ul>')
    return "".join(out)


def _nav_link(kind: str, label: str, target: Page, current: Page) -> str:
    href = html.escape(relative(target.url, current.url))
    return (
        f'<a class="{kind}" rel="{kind}" href="{href}"><span class="dir">{label}</span>'
        f'<span class="name">{html.escape(target.label)}</span></a>'
    )


def neighbours_html(pages: list[Page], index: int) -> str:
    links = []
    if index > 0:
        links.append(_nav_link("prev", "Previous", pages[index - 1], pages[index]))
    if index + 1 < len(pages):
        links.append(_nav_link("next", "Next", pages[index + 1], pages[index]))
    return f'<nav class="page-nav" aria-label="Previous and next chapter">{"".join(links)}</nav>'


def search_documents(pages: list[Page]) -> list[dict[str, str]]:
    """One search document per section (split at level-2 headers) of every page."""
    docs: list[dict[str, str]] = []
    for page in pages:
        for anchor, title, blocks in _sections(page):
            if text := ast.stringify(blocks):
                url = page.url + (f"#{anchor}" if anchor else "")
                docs.append(
                    {"id": str(len(docs)), "url": url, "chapter": page.label, "title": title,
                     "text": text}
                )  # fmt: skip
    return docs


def _sections(page: Page) -> list[tuple[str, str, list[ast.Node]]]:
    """(anchor, title, blocks) for the chapter's opening and each level-2 section."""
    sections: list[tuple[str, str, list[ast.Node]]] = [("", page.label, [])]
    for node in page.blocks:
        if node["t"] == "Header" and node["c"][0] == 2:
            sections.append((node["c"][1][0], ast.stringify(node["c"][2]), []))
        elif node["t"] != "Header" or node["c"][0] > 2:
            sections[-1][2].append(node)
    return sections


def write_site(
    project: Project,
    book: ResolvedBook,
    stage: Path,
    version: list[int],
    figures: dict[str, bytes],
    downloads: list[Download],
    notebooks: dict[str, str] | None = None,
) -> list[Page]:
    """Write every page, the figures, the search index and the assets into ``stage``."""
    pages = build_pages(book)
    index = id_index(pages)
    lang = str(project.config.get("lang", "en"))
    template = Template((TEMPLATES / "page.html").read_text(encoding="utf-8"))
    for page in pages:
        rewrite_links(page, index)
    for position, page in enumerate(pages):
        body = render_fragment(page, version, lang)
        root_prefix = "../" * page.url.count("/")
        page_title = page.title if position == 0 else f"{page.label} \N{EN DASH} {project.title}"
        html_text = template.substitute(
            lang=html.escape(lang),
            title=html.escape(page_title),
            description=html.escape(project.description),
            book_title=html.escape(project.title),
            root=root_prefix,
            home=html.escape(relative(pages[0].url, page.url)),
            sidebar=sidebar_html(pages, page, downloads),
            toc=tools_html(page, (notebooks or {}).get(page.ref.path)) + toc_html(page),
            body=body,
            page_nav=neighbours_html(pages, position),
            footer=html.escape(f"{project.title} · {project.author} · {project.date}"),
        )
        out = stage / page.url
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html_text, encoding="utf-8")
    for path, data in figures.items():
        target = stage / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    copy_resources(project, pages, stage)
    write_assets(project.root, stage, search_documents(pages))
    return pages


def copy_resources(project: Project, pages: list[Page], stage: Path) -> None:
    """Copy images the chapters refer to by path (not executed figures) into the site."""
    for page in pages:
        for node in ast.nodes(page.blocks):
            if node["t"] != "Image":
                continue
            src = node["c"][2][0]
            if re.match(r"^[a-z][a-z0-9+.-]*:", src) or src.startswith("/"):
                continue
            root_path = posixpath.normpath(posixpath.join(posixpath.dirname(page.url), src))
            source = project.root / root_path
            if source.is_file() and not (stage / root_path).exists():
                (stage / root_path).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, stage / root_path)


def npm_asset(root: Path, relative_path: str) -> Path | None:
    """A file from ``node_modules`` (the project's, else the one beside the builder's checkout)."""
    for base in (root, Path(__file__).resolve().parents[2]):
        candidate = base / "node_modules" / relative_path
        if candidate.is_file():
            return candidate
    return None


def write_assets(root: Path, stage: Path, docs: list[dict[str, str]]) -> None:
    """CSS, JavaScript, the search library and the search index into ``site_libs/``."""
    libs = stage / SITE_LIBS
    libs.mkdir(parents=True, exist_ok=True)
    for asset in sorted(ASSETS.iterdir()):
        if asset.is_file():
            shutil.copyfile(asset, libs / asset.name)
    minisearch = npm_asset(root, "minisearch/dist/umd/index.js")
    if minisearch is None:
        raise BuildError(
            "the search library is missing: run `npm ci` (make book does) to install minisearch",
            "package.json",
        )
    shutil.copyfile(minisearch, libs / "minisearch.js")
    payload = json.dumps(docs, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    (libs / "search-index.js").write_text(
        f"window.BOOK_SEARCH_DOCS = {payload};\n", encoding="utf-8"
    )
