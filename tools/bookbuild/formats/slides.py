"""Slide decks: each ``slides/*.qmd`` becomes one self-contained reveal.js file and two handouts.

Decks are Quarto ``revealjs`` documents, executed with the chapters (same kernel setup, same
freeze cache). Here each one is assembled to Markdown like a chapter, cross-referenced on its own
(a deck sits outside the book's numbering), and written by pandoc's revealjs writer with our
template (``templates/revealjs.html``):

* reveal.js comes from ``node_modules`` and is embedded, with every figure, stylesheet and script
  (``--embed-resources``): a deck is one HTML file that opens from a USB stick with no network;
* math is MathML, rendered at build time -- no MathJax, no CDN;
* the theme (``slides_assets/slides.css``) is the web book's light colours and system fonts, at
  sizes readable from the back of a room;
* callouts and conditional content use the book's own filters (``FORMAT`` is ``revealjs``).

Every step is cached on its inputs (the deck's AST, its figures, reveal.js, the template and
stylesheet; for the handouts, the deck's HTML and Chromium itself). Headless Chromium prints
reveal.js's print view (``?print-pdf``) into ``<deck>.pdf``, one slide per page with every
fragment shown, and ``<deck>-notes.pdf``, each slide with its speaker
notes beneath it (``slides_assets/notes-handout.js``).

Not supported (Quarto has them): reveal.js themes, citations in decks, per-deck figure sizes, and
plugins beyond notes, search and zoom. A front-matter key that is not a Quarto option, or one
this builder ignores, is an error rather than a silent no-op.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import pandoc_ast as ast
from ..assemble import assemble
from ..cache import key as cache_key
from ..cache import sha
from ..context import BookContext, Outputs
from ..errors import BuildError, line_of
from ..execute import ExecutedChapter
from ..pandoc import cached_pandoc, format_filters, markdown_to_ast
from ..progress import TRACE
from ..project import source_stem
from ..qmd import Document, quarto_names
from ..resolve import EXTERNAL, chapter_div, run_crossref
from ..toolchain import CHROMIUM_FLAGS, HERE, chromium_identity, chromium_path, require_npm_asset

TEMPLATE = HERE / "templates" / "revealjs.html"
ASSETS = HERE / "slides_assets"

# Quarto's revealjs option -> reveal.js's config name. Defaults are Quarto's, except slide size
# and print settings chosen for handouts: one page per slide, fragments shown, not split.
REVEAL_OPTIONS = {
    "slide-number": "slideNumber", "show-slide-number": "showSlideNumber",
    "transition": "transition", "controls": "controls", "progress": "progress",
    "center": "center", "navigation-mode": "navigationMode", "width": "width",
    "height": "height", "margin": "margin", "pdf-separate-fragments": "pdfSeparateFragments",
    "pdf-max-pages-per-slide": "pdfMaxPagesPerSlide",
}  # fmt: skip
REVEAL_DEFAULTS: dict[str, Any] = {
    "width": 1050, "height": 700, "margin": 0.1, "center": False, "controls": True,
    "controlsTutorial": False, "progress": True, "slideNumber": False, "showSlideNumber": "all",
    "hash": True, "history": False, "navigationMode": "linear", "transition": "none",
    "backgroundTransition": "none", "pdfSeparateFragments": False, "pdfMaxPagesPerSlide": 1,
}  # fmt: skip
# Front-matter keys read here rather than passed to reveal.js.
DECK_KEYS = frozenset(
    {"title", "subtitle", "author", "date", "description", "format", "lang", "jupyter"}
    | {"incremental", "slide-level", "footer", "logo"}
)
_TITLE_KEYS = ("title", "subtitle", "author", "date", "description", "footer", "logo")


def deck_options(doc: Document) -> dict[str, Any]:
    """The deck's options: front matter merged with ``format: revealjs:`` (which wins).

    Every key must be a Quarto option this builder honours; anything else names its line.
    """
    fmt = doc.meta.get("format")
    if fmt == "revealjs":
        extra: Any = {}
    elif isinstance(fmt, dict) and "revealjs" in fmt:
        extra = fmt["revealjs"] or {}
    else:
        line = line_of(doc.text, "format:") or 1
        raise BuildError("a deck needs `format: revealjs` in its front matter", doc.path, line)
    if not isinstance(extra, dict):
        raise BuildError(
            "`format: revealjs:` must hold options", doc.path, line_of(doc.text, "revealjs")
        )
    options = {k: v for k, v in doc.meta.items() if k != "format"} | extra
    known = set(quarto_names()["document_options"])
    for key in options:
        where = line_of(doc.text, f"{key}:")
        if key not in known:
            raise BuildError(
                f"unknown front-matter key '{key}' (not a Quarto option)", doc.path, where
            )
        if key not in DECK_KEYS and key not in REVEAL_OPTIONS:
            supported = ", ".join(sorted(DECK_KEYS | set(REVEAL_OPTIONS)))
            raise BuildError(
                f"'{key}' is a Quarto option but decks here do not support it "
                f"(supported: {supported})",
                doc.path,
                where,
            )
    if not options.get("title"):
        raise BuildError("a deck needs a `title` in its front matter", doc.path, 1)
    return options


def reveal_config(options: dict[str, Any]) -> dict[str, Any]:
    """reveal.js's ``initialize`` options for a deck (Quarto names translated)."""
    config = dict(REVEAL_DEFAULTS)
    for key, name in REVEAL_OPTIONS.items():
        if key in options:
            config[name] = options[key]
    if config["slideNumber"] is True:
        config["slideNumber"] = "c/t"  # reveal's own default, "h.v", exposes the section stacks
    return config


def deck_blocks(
    ctx: BookContext, doc: Document, executed: ExecutedChapter, level: int = 2
) -> tuple[list[ast.Node], dict[str, bytes]]:
    """The deck's body as pandoc blocks, cross-references resolved, plus its figures.

    The title slide comes from the template, so the body is assembled without front matter
    (``assemble`` would otherwise add a ``# title`` header, which on a deck is a section slide).
    A deck is numbered on its own: one ``bb-chapter`` Div with no chapter number.
    """
    asm = assemble(replace(doc, meta={}), executed)
    tree = markdown_to_ast(asm.markdown, file=doc.path, store=ctx.store)
    document = ast.document([chapter_div(tree["blocks"], doc.path, "", None)], {}, ctx.version)
    resolved, _ = run_crossref(ctx.store, document, {doc.path: doc.text}, [], file=doc.path)
    blocks = hoist_notes(ast.div_content(resolved["blocks"][0]), level)
    for node in ast.nodes(blocks):
        if node["t"] == "Cite":
            key_ = node["c"][0][0]["citationId"]
            raise BuildError(
                f"citation '@{key_}' in a deck: decks do not cite (cite in the chapter instead)",
                doc.path,
                line_of(doc.text, "@" + key_),
            )
    return blocks, asm.figures


def hoist_notes(blocks: list[ast.Node], level: int) -> list[ast.Node]:
    """Move each slide's ``::: notes`` up to just below its title, and centre section slides.

    After a ``. . .`` pause pandoc puts the rest of the slide, notes included, in a fragment;
    reveal's speaker view shows such notes only once the pause is revealed, which leaves the
    presenter without notes for the start of the slide.
    """
    out: list[ast.Node] = []
    insert_at = 0
    for block in blocks:
        if block["t"] == "Header" and block["c"][0] <= level:
            if block["c"][0] < level:
                block["c"][1][1].append("center")  # a section title slide, centred like the title
            out.append(block)
            insert_at = len(out)
        elif block["t"] == "HorizontalRule":  # also starts a slide
            out.append(block)
            insert_at = len(out)
        elif block["t"] == "Div" and "notes" in block["c"][0][1]:
            out.insert(insert_at, block)
            insert_at += 1
        else:
            out.append(block)
    return out


def reveal_folder(root: Path) -> Path:
    """reveal.js 5.x from ``node_modules`` (6.x moved the notes plugin pandoc's template loads)."""
    package = require_npm_asset(root, "reveal.js/package.json", "reveal.js")
    version = str(json.loads(package.read_text(encoding="utf-8")).get("version", "?"))
    if not version.startswith("5."):
        raise BuildError(f"the decks need reveal.js 5.x, found {version}", "package.json")
    return package.parent


def render_deck(ctx: BookContext, doc: Document) -> bytes:
    """One deck as a single self-contained HTML document."""
    project = ctx.project
    options = deck_options(doc)
    level = int(options.get("slide-level", 2))
    blocks, figures = deck_blocks(ctx, doc, ctx.executed[doc.path], level)
    work = ctx.work / "slides" / source_stem(doc.path)
    meta = {k: options[k] for k in _TITLE_KEYS if k in options}
    meta["lang"] = str(options.get("lang", project.lang))
    header = markdown_to_ast("---\n" + json.dumps(meta) + "\n---\n", file=doc.path,
                             store=ctx.store)["meta"]  # fmt: skip
    config = json.dumps(reveal_config(options), sort_keys=True)
    deck_dir = (project.root / doc.path).parent
    reveal = reveal_folder(project.root)
    args = [
        "--from=json", "--to=revealjs", "--standalone", f"--template={TEMPLATE}",
        "--embed-resources", "--mathml", "--wrap=none", f"--slide-level={level}",
        *format_filters(), f"--css={ASSETS / 'slides.css'}",
        f"--variable=revealjs-url:{reveal}", f"--variable=reveal-config:{config}",
        f"--resource-path={os.pathsep.join(map(str, (work, deck_dir, project.root)))}",
    ]  # fmt: skip
    if options.get("incremental") is True:
        args.append("--incremental")

    def prepare() -> None:
        for path, data in figures.items():
            (work / path).parent.mkdir(parents=True, exist_ok=True)
            (work / path).write_bytes(data)

    images = [deck_dir / src for src in _image_paths(blocks) if src not in figures]
    revealjs = (reveal / "package.json").read_text(encoding="utf-8")
    inputs = cache_key([(p, sha(d)) for p, d in sorted(figures.items())], revealjs)
    document = ast.document(blocks, header, ctx.version)
    try:
        result = cached_pandoc(
            ctx.store, args, json.dumps(document), what="writing the slides", reads=images,
            inputs=inputs, prepare=prepare, scratch=ctx.work, cwd=ctx.work, file=doc.path,
        )  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if result.warnings:
        raise BuildError(
            "pandoc warned while writing the slides", doc.path, None, "\n".join(result.warnings)
        )
    # Pandoc writes internal links reveal.js-style (#/fig-x). reveal.js follows plain #fig-x as
    # well (to the slide holding that id), and plain anchors are what the link checker verifies.
    return result.output.replace('href="#/', 'href="#').encode("utf-8")


def _image_paths(blocks: list[ast.Node]) -> list[str]:
    return [
        posixpath.normpath(n["c"][2][0])
        for n in ast.nodes(blocks)
        if n["t"] == "Image" and not EXTERNAL.match(n["c"][2][0])
    ]


@dataclass(frozen=True, slots=True)
class Handout:
    """One PDF to print from a deck: with or without the speaker notes."""

    deck: str  # the deck's source path (for errors)
    html: bytes
    notes: bool
    name: str  # output path

    def key(self) -> str:
        script = (ASSETS / "notes-handout.js").read_text(encoding="utf-8")
        return cache_key("handout", chromium_identity(), metadata.version("playwright"), script,
                   self.notes, sha(self.html))  # fmt: skip


def render(ctx: BookContext) -> Outputs:
    """Every deck as HTML and its two handouts, each built only when its inputs changed."""
    out: Outputs = {}
    if not ctx.decks:
        return out
    ctx.progress.stage("slide decks", len(ctx.decks))

    def one(doc: Document) -> tuple[str, bytes]:
        html = render_deck(ctx, doc)
        ctx.progress.step(doc.path)
        return source_stem(doc.path) + ".html", html

    with ThreadPoolExecutor(max_workers=4) as pool:
        decks = dict(pool.map(one, ctx.decks))
    ctx.progress.done()
    handouts: list[Handout] = []
    for doc in ctx.decks:
        name = source_stem(doc.path) + ".html"
        out[name] = decks[name]
        stem = source_stem(doc.path)
        handouts += [Handout(doc.path, decks[name], False, stem + ".pdf"),
                     Handout(doc.path, decks[name], True, stem + "-notes.pdf")]  # fmt: skip
    missing = [h for h in handouts if not ctx.store.path("handout", h.key()).is_file()]
    if missing or ctx.store.refresh:
        todo = handouts if ctx.store.refresh else missing
        for handout, pdf in zip(todo, print_handouts(ctx, todo), strict=True):
            ctx.store.put(ctx.store.path("handout", handout.key()), pdf)
    for handout in handouts:
        out[handout.name] = ctx.store.path("handout", handout.key())
    return out


def print_handouts(ctx: BookContext, handouts: list[Handout]) -> list[bytes]:
    """Print handouts with headless Chromium, in one browser.

    Runs in a thread of its own: Playwright's sync API refuses to start inside a thread that
    already runs an event loop (a test session driving a browser, say).
    """
    executable = chromium_path()
    try:
        import playwright.sync_api  # noqa: F401 - fail here, with a message, not in the thread
    except ImportError:
        raise BuildError(
            "the Python package playwright prints the slide handouts: `make book` installs it"
        ) from None
    ctx.progress.stage("slide handouts (Chromium)", len(handouts))
    folder = ctx.work / "handouts"
    folder.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pdfs = pool.submit(_print_all, ctx, executable, handouts, folder).result()
    ctx.progress.done()
    return pdfs


def _print_all(
    ctx: BookContext, executable: str, handouts: list[Handout], folder: Path
) -> list[bytes]:
    from playwright.sync_api import sync_playwright

    pdfs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_FLAGS), env={**os.environ, **ctx.env}
        )
        try:
            for handout in handouts:
                html = folder / (Path(handout.name).stem.removesuffix("-notes") + ".html")
                html.write_bytes(handout.html)
                with TRACE.timed("chromium", f"printing {handout.name}"):
                    pdfs.append(_print_pdf(browser, html, handout))
                ctx.progress.step(handout.name)
        finally:
            browser.close()
    return pdfs


_PAGE_SIZE = "(() => { const p = document.querySelector('.reveal .pdf-page');" \
    " return p ? {width: p.offsetWidth, height: p.offsetHeight} : null; })()"  # fmt: skip


def _print_pdf(browser: Any, html: Path, handout: Handout) -> bytes:
    """Load reveal.js's print view of ``html`` from disk, with the network cut off, and print it."""
    notes = handout.notes
    page = browser.new_page()
    problems: list[str] = []

    def refuse(route: Any) -> None:
        problems.append(f"request to {route.request.url}")
        route.abort()

    try:
        page.route(lambda url: not url.startswith(("file:", "data:", "blob:", "about:")), refuse)
        page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
        page.add_init_script(
            "document.addEventListener('pdf-ready', () => { window.__bookbuildPdfReady = true; });"
        )
        query = "?print-pdf&showNotes=true" if notes else "?print-pdf"
        page.goto(html.as_uri() + query, wait_until="load")
        page.wait_for_function("window.__bookbuildPdfReady === true", timeout=60_000)
        script = (ASSETS / "notes-handout.js").read_text(encoding="utf-8") if notes else _PAGE_SIZE
        size = page.evaluate(script)
        if problems or not size:
            detail = "\n".join(problems) or "reveal.js produced no pages"
            raise BuildError("the slides could not be printed", handout.deck, None, detail)
        pdf = page.pdf(
            width=f"{size['width']}px",
            height=f"{size['height']}px",
            print_background=True,
            margin={"top": "0", "right": "0", "bottom": "0", "left": "0"},
        )
    finally:
        page.close()
    return fixed_dates(pdf)


_PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate)\s*\()(D:[^)]*)(\))")


def fixed_dates(pdf: bytes) -> bytes:
    """Set the PDF's creation and modification dates to 1970-01-01 (SOURCE_DATE_EPOCH=0).

    Same length in, same length out, so the cross-reference table's byte offsets stay valid.

    >>> fixed_dates(b"/CreationDate (D:20261129101500+01'00')")
    b"/CreationDate (D:19700101000000+00'00')"
    """

    def fix(match: re.Match[bytes]) -> bytes:
        value = match.group(2)
        stamp = b"D:19700101000000"[: len(value)] + re.sub(rb"\d", b"0", value[16:])
        return match.group(1) + stamp + match.group(3)

    return _PDF_DATE.sub(fix, pdf)
