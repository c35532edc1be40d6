"""The web book: one HTML page per chapter, with sidebar, on-page contents and search.

Input is the book context (:mod:`bookbuild.context`). For each chapter this module

1. rewrites internal links: ``#fig-x`` becomes ``../02-rag/concepts.html#fig-x`` when the target
   sits on another page, and links to ``.qmd`` sources become links to their pages;
2. renders the chapter's blocks to an HTML fragment with pandoc (MathML, no JavaScript math), with
   the format-dependent filters (callouts, conditional content, code folding) -- a cached step,
   so only pages whose content changed are rendered again;
3. wraps it in the page template with the sidebar, table of contents and previous/next links;
4. extracts each section's text for the search index, which ships as a ``<script>`` so search
   also works when the book is opened straight from disk (``file://``).

Everything a page loads comes from ``site_libs/`` beside it: no CDN, no remote fonts. With
``book.repo-url`` and ``repo-actions`` set, each page links to its source ("Edit this page") and
to a new issue about it, as Quarto's books do.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import quote

from .. import pandoc_ast as ast
from ..cache import files_key, key, sha
from ..context import BookContext, Outputs
from ..errors import BuildError
from ..pandoc import cached_pandoc, format_filters, pandoc_identity
from ..project import ChapterRef, Link, Project
from ..resolve import EXTERNAL, ResolvedBook
from ..toolchain import HERE, require_npm_asset

TEMPLATES = HERE / "templates"
ASSETS = HERE / "assets"
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


def build_pages(book: ResolvedBook) -> list[Page]:
    pages = []
    for ref, div in book.chapter_blocks():
        # Pages rewrite links; the book stays as resolved. (A JSON round trip is a deep copy
        # several times faster than copy.deepcopy on a pandoc AST.)
        blocks = json.loads(json.dumps(ast.div_content(div)))
        head = ast.first_header(blocks, 1)
        if head is None:
            raise BuildError("chapter has no level-1 header (# Title) and no title", ref.path, 1)
        title = ast.stringify([i for i in ast.header_inlines(head) if not _is_number_span(i)])
        pages.append(Page(ref, book.numbers[ref.path], title, blocks))
    return pages


def _is_number_span(node: ast.Node) -> bool:
    return node["t"] == "Span" and "header-section-number" in ast.classes(node)


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
    ast.map_images(page.blocks, lambda s: s if EXTERNAL.match(s) else relative(s, page.url))


def render_fragment(ctx: BookContext, page: Page) -> str:
    """The chapter's body as HTML, rendered by pandoc with the format filters (cached)."""
    meta = {"lang": ast.meta_string(ctx.project.lang)}
    document = ast.document(page.blocks, meta, ctx.version)
    args = ["--from=json", "--to=html5", "--mathml", "--section-divs", *format_filters(),
            "--wrap=none"]  # fmt: skip
    result = cached_pandoc(
        ctx.store, args, json.dumps(document), what="writing HTML", file=page.ref.path
    )
    return _post_process(result.output)


def _post_process(fragment: str) -> str:
    # Scrollable code and wide display equations must be reachable by keyboard (axe:
    # scrollable-region-focusable).
    fragment = re.sub(r"<pre(?![^>]*tabindex)", '<pre tabindex="0"', fragment)
    block_math = '<math display="block"'
    fragment = re.sub(f"{block_math}(?![^>]*tabindex)", f'{block_math} tabindex="0"', fragment)
    # Wide tables scroll inside their own focusable box instead of widening the page.
    fragment = re.sub(r"<table", '<div class="table-wrap" tabindex="0"><table', fragment)
    return fragment.replace("</table>", "</table></div>")


def toc_html(page: Page) -> str:
    """The on-page table of contents: level-2 and level-3 headers."""
    items: list[tuple[int, str, str]] = []
    for node in page.blocks:
        level = ast.header_level(node)
        if level in (2, 3) and (ident := ast.identifier(node)):
            items.append((level, ident, ast.stringify(ast.header_inlines(node))))
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


def repo_links(project: Project, page: Page) -> list[tuple[str, str]]:
    """(label, URL) of the page's ``repo-actions``: its source on the forge, and a new issue."""
    base, source = project.repo_url, page.ref.path
    links = {
        "edit": ("Edit this page", f"{base}/edit/{project.repo_branch}/{source}"),
        "source": ("View source", f"{base}/blob/{project.repo_branch}/{source}"),
        "issue": (
            "Report an issue",
            f"{base}/issues/new?title={quote(f'{page.label} ({source})')}",
        ),
    }
    return [links[action] for action in project.repo_actions]


def tools_html(project: Project, page: Page, notebook: str | None) -> str:
    """Per-page links above the table of contents: the notebook, the source, an issue."""
    items = []
    if notebook is not None:
        href = html.escape(relative(notebook, page.url))
        items.append(f'<a href="{href}" download>Download as a notebook (.ipynb)</a>')
    for label, url in repo_links(project, page):
        items.append(f'<a href="{html.escape(url)}">{html.escape(label)}</a>')
    return "".join(f'<p class="page-tools">{item}</p>' for item in items)


def sidebar_html(pages: list[Page], current: Page, downloads: list[Link]) -> str:
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
            f'<li><a href="{html.escape(relative(d.href, current.url))}">'
            f"{html.escape(d.text)}</a></li>"
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
        level = ast.header_level(node)
        if level == 2:
            sections.append((ast.identifier(node), ast.stringify(ast.header_inlines(node)), []))
        elif level is None or level > 2:
            sections[-1][2].append(node)
    return sections


def render(ctx: BookContext, notebooks: dict[str, str] | None = None) -> Outputs:
    """Every page, the figures, the images the chapters use, the search index and the assets.

    ``notebooks`` maps a chapter to its notebook's path, for the per-page download link. The
    pages and the search index are one cached step, keyed on the resolved book and everything
    else a page shows, so a build in which none of that changed does not walk the book at all.
    """
    notebooks = notebooks or {}
    project = ctx.project
    downloads = [link for link in project.sidebar_links() if _is_built(ctx, link)]
    digest = key(
        "site", ctx.book_key, files_key([TEMPLATES / "page.html"]),
        pandoc_identity(), format_filters(), files_key(Path(f.split("=", 1)[1]) for f in
        format_filters()), project.title, project.description, project.author,
        project.date_text, project.lang, project.repo_url, project.repo_actions,
        project.repo_branch, [(d.text, d.href) for d in downloads], sorted(notebooks.items()),
    )  # fmt: skip
    manifest = json.loads(ctx.store.get("site", digest, lambda: _pages(ctx, notebooks, downloads)))
    out: Outputs = {name: ctx.store.path("site-file", d) for name, d in manifest["pages"].items()}
    out.update(ctx.figures)
    out.update({name: ctx.project.root / name for name in manifest["resources"]})
    out.update(assets(ctx))
    return out


def _pages(ctx: BookContext, notebooks: dict[str, str], downloads: list[Link]) -> bytes:
    """Render the pages and the search index into the cache; returns their manifest."""
    project = ctx.project
    pages = build_pages(ctx.book)
    index = id_index(pages)
    template = Template((TEMPLATES / "page.html").read_text(encoding="utf-8"))
    files: dict[str, bytes] = {}
    for page in pages:
        rewrite_links(page, index)
    ctx.progress.stage("web pages", len(pages))
    for position, page in enumerate(pages):
        body = render_fragment(ctx, page)
        page_title = page.title if position == 0 else f"{page.label} \N{EN DASH} {project.title}"
        html_text = template.substitute(
            lang=html.escape(project.lang),
            title=html.escape(page_title),
            description=html.escape(project.description),
            book_title=html.escape(project.title),
            root="../" * page.url.count("/"),
            home=html.escape(relative(pages[0].url, page.url)),
            sidebar=sidebar_html(pages, page, downloads),
            toc=tools_html(project, page, notebooks.get(page.ref.path)) + toc_html(page),
            body=body,
            page_nav=neighbours_html(pages, position),
            footer=html.escape(f"{project.title} · {project.author} · {project.date_text}"),
        )
        files[page.url] = html_text.encode("utf-8")
        ctx.progress.step(page.url)
    ctx.progress.done()
    payload = json.dumps(search_documents(pages), ensure_ascii=False, separators=(",", ":"),
                         sort_keys=True)  # fmt: skip
    files[f"{SITE_LIBS}/search-index.js"] = f"window.BOOK_SEARCH_DOCS = {payload};\n".encode()
    names: dict[str, str] = {}
    for name, data in files.items():
        names[name] = sha(data)
        ctx.store.put(ctx.store.path("site-file", names[name]), data)
    manifest = {"pages": names, "resources": sorted(resources(ctx, pages))}
    return json.dumps(manifest, sort_keys=True).encode()


def _is_built(ctx: BookContext, link: Link) -> bool:
    """Sidebar links to whole-book outputs only when this build makes them (tests build
    single formats; a link to a file nobody wrote would fail the link check)."""
    made_by = {ctx.project.output_name("pdf"): "typst", ctx.project.output_name("epub"): "epub"}
    needed = made_by.get(link.href, "post-render" if not EXTERNAL.match(link.href) else "html")
    return needed in ctx.formats


def resources(ctx: BookContext, pages: list[Page]) -> list[str]:
    """Images the chapters refer to by path (not executed figures), to copy into the site."""
    out: list[str] = []
    for page in pages:
        for node in ast.nodes(page.blocks):
            if node["t"] != "Image" or EXTERNAL.match(src := node["c"][2][0]):
                continue
            root_path = posixpath.normpath(posixpath.join(posixpath.dirname(page.url), src))
            source = ctx.project.root / root_path
            if source.is_file() and root_path not in ctx.figures and root_path not in out:
                out.append(root_path)
    return out


def assets(ctx: BookContext) -> Outputs:
    """CSS, JavaScript and the search library, for ``site_libs/``."""
    out: Outputs = {
        f"{SITE_LIBS}/{asset.name}": asset for asset in sorted(ASSETS.iterdir()) if asset.is_file()
    }
    minisearch = require_npm_asset(ctx.project.root, "minisearch/dist/umd/index.js", "minisearch")
    out[f"{SITE_LIBS}/minisearch.js"] = minisearch
    return out
