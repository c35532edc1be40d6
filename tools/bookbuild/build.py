"""The build, start to finish: sources → executed chapters → one resolved book → every output.

    project = load_project(root)             # _quarto.yml, validated before anything runs
    documents = parse every chapter and deck # front matter, Markdown, cells, inline code
    executed = freeze hit, or execute        # one kernel per document, -j in parallel
    markdown = assemble(document, executed)  # Quarto's "executed .md"
    book = resolve_book(...)                 # numbering, cross-references, citations
    outputs = render_all(context)            # every format, each from the one context

Every step after execution goes through the output cache (:mod:`bookbuild.cache`), so a build
where nothing changed runs no kernel, no pandoc, no Typst and no Chromium. Everything is staged
under ``.build/``; only when every output is built and every link checks out does the staging
folder replace ``_book/``. A failed build leaves the previous good ``_book/`` exactly as it was.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .assemble import assemble
from .cache import CACHE_DIR, OutputCache, file_sha, files_key, key, link, sha
from .context import FORMATS, BookContext, Outputs, figures_digest
from .diagrams import draw
from .errors import BuildError
from .execute import ExecutedChapter, KernelSettings, execute_document, kernel_environment
from .formats import render_all
from .freeze import FreezeStore
from .linkcheck import require_links
from .pandoc import api_version, filter_path, markdown_to_ast, pandoc_identity
from .progress import TRACE, Progress, quiet
from .project import Project, load_project
from .qmd import Document, read_qmd
from .resolve import Chapter, ResolvedBook, resolve_book

STATE_DIR = ".build"
DECKS_DIR = "slides"  # every slides/*.qmd is a deck (files starting with _ are partials)


@dataclass(frozen=True, slots=True)
class BuildOptions:
    refresh: bool = False  # ignore the freeze and output caches: execute and render everything
    timeout: float = 600.0  # seconds one cell may run
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)  # kernels in parallel
    formats: frozenset[str] = frozenset(FORMATS)  # which outputs to build (tests pick one)
    quiet: bool = False  # no progress lines (tests read the report instead)


@dataclass(slots=True)
class BuildReport:
    """What a build did; tests use it to check the caches."""

    executed: list[str] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)  # kinds of cached steps that had to run
    output: Path | None = None


def _execute(doc: Document, root: Path, settings: KernelSettings) -> tuple[ExecutedChapter, float]:
    """Run in a worker process: the chapter's outputs and how long the kernel took."""
    start = time.perf_counter()
    result = execute_document(doc, root, settings)
    return result, time.perf_counter() - start


def execute_all(
    root: Path,
    documents: list[Document],
    settings: KernelSettings,
    options: BuildOptions,
    report: BuildReport,
    progress: Progress,
) -> dict[str, ExecutedChapter]:
    """Outputs for every document: from the freeze cache when valid, else by running it."""
    store = FreezeStore(root, settings)
    results: dict[str, ExecutedChapter] = {}
    pending: list[Document] = []
    for doc in documents:
        if not doc.executable:
            results[doc.path] = ExecutedChapter.empty(len(doc.cells))
        elif (cached := None if options.refresh else store.load(doc)) is not None:
            results[doc.path] = cached
            report.frozen.append(doc.path)
        else:
            pending.append(doc)
    if not pending:
        return results
    progress.stage("executing", len(pending))
    workers = max(1, min(options.jobs, len(pending)))
    # "spawn": a fresh interpreter per worker; forking a process that runs threads can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(_execute, doc, root, settings): doc for doc in pending}
        for future in as_completed(futures):
            doc = futures[future]
            result, seconds = future.result()  # a BuildError from the worker propagates as is
            TRACE.add("kernel", doc.path, seconds)
            store.save(doc, result)
            results[doc.path] = result
            report.executed.append(doc.path)
            progress.step(doc.path, f"{len(doc.cells)} cells, {seconds:.1f} s")
    progress.done()
    report.executed.sort(key=[d.path for d in documents].index)
    return results


def deck_sources(root: Path) -> list[str]:
    """The slide decks: every ``slides/*.qmd`` (files starting with ``_`` are partials)."""
    folder = root / DECKS_DIR
    if not folder.is_dir():
        return []
    return sorted(
        p.relative_to(root).as_posix() for p in folder.glob("*.qmd") if not p.name.startswith("_")
    )


def parse_chapters(
    project: Project, documents: list[Document], markdown: list[str], store: OutputCache
) -> list[Chapter]:
    def parse(pair: tuple[Document, str]) -> Chapter:
        doc, text = pair
        tree = markdown_to_ast(text, file=doc.path, store=store)
        return Chapter(project.chapter(doc.path), tree["blocks"], tree["meta"], doc.text)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(parse, zip(documents, markdown, strict=True)))


def resolved(
    project: Project,
    chapters: list[Document],
    markdown: list[str],
    version: list[int],
    store: OutputCache,
) -> tuple[ResolvedBook, str]:
    """The resolved book and its key: from the cache when no chapter's Markdown, no setting
    that numbering or citations read, and no filter changed (the checks made while resolving
    depend on nothing else either)."""
    files = [p for p in (project.bibliography, project.csl) if p is not None]
    book_key = key(
        "book", pandoc_identity(), version, [sha(m) for m in markdown],
        [(c.path, c.part, c.appendix) for c in project.chapters], project.lang,
        project.number_depth, files_key([*files, Path(filter_path("crossref.lua"))]),
    )  # fmt: skip

    def make() -> bytes:
        parsed = parse_chapters(project, chapters, markdown, store)
        book = resolve_book(project, parsed, version, store)
        return json.dumps({"document": book.document, "numbers": book.numbers}).encode()

    data = json.loads(store.get("book", book_key, make))
    texts = {doc.path: doc.text for doc in chapters}
    return ResolvedBook(data["document"], list(project.chapters), data["numbers"], texts), book_key


def build(root: Path, options: BuildOptions | None = None) -> BuildReport:
    """Build the selected outputs of the book at ``root`` into its output folder (``_book/``)."""
    options = options or BuildOptions()
    unknown = options.formats - set(FORMATS)
    if unknown:
        raise BuildError(f"unknown output formats: {', '.join(sorted(unknown))}")
    root = root.resolve()
    TRACE.calls.clear()
    progress = quiet() if options.quiet else Progress()
    report = BuildReport()
    project = load_project(root)
    env = kernel_environment(root / STATE_DIR / "state")
    settings = KernelSettings(project.fig_size, env, options.timeout)
    chapters = [read_qmd(root, ref.path) for ref in project.chapters]
    decks = [read_qmd(root, p) for p in deck_sources(root)] if "revealjs" in options.formats else []
    executed = execute_all(root, chapters + decks, settings, options, report, progress)

    store = OutputCache(root, refresh=options.refresh)
    for doc in chapters + decks:
        executed[doc.path] = draw(doc, executed[doc.path], store)
    assembled = [assemble(doc, executed[doc.path]) for doc in chapters]
    figures = {path: data for asm in assembled for path, data in asm.figures.items()}
    version = api_version(store)
    book, book_key = resolved(project, chapters, [a.markdown for a in assembled], version, store)

    stage = root / STATE_DIR / f"stage-{os.getpid()}"
    work = root / STATE_DIR / f"work-{os.getpid()}"  # scratch files no output keeps
    for folder in (stage, work):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    try:
        ctx = BookContext(
            project, book, chapters, decks, executed, figures, version, store, env, work,
            options.formats, progress, figures_digest(figures), book_key,
        )  # fmt: skip
        outputs = render_all(ctx)
        write_stage(outputs, stage, root / CACHE_DIR)
        if options.formats == frozenset(FORMATS):  # a partial build may link to what it skipped
            store.get("links", outputs_key(outputs), lambda: _checked(stage))
        report.output = publish(stage, root / project.output_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    report.rendered = store.misses
    progress.message(
        f"built {report.output}: {len(report.executed)} executed, {len(report.frozen)} from "
        f"the freeze; {len(store.misses)} engine steps run, {store.hits} from the cache"
    )
    return report


def outputs_key(outputs: Outputs) -> str:
    """One hash over every output file's name and content (cache paths name their digest)."""
    rows = []
    for name, output in sorted(outputs.items()):
        if isinstance(output, bytes):
            rows.append((name, sha(output)))
        else:
            stat = output.stat()
            rows.append((name, file_sha(output, (stat.st_size, stat.st_mtime_ns))))
    return key(rows)


def _checked(stage: Path) -> bytes:
    require_links(stage)
    return b"ok"


def write_stage(outputs: Outputs, stage: Path, cache_dir: Path) -> None:
    """Write every output into the staging folder: bytes as files, cached files as hard links
    (entries are never modified), and project files as copies (never linked: an edit in the
    output folder must not reach the sources)."""
    for name, output in sorted(outputs.items()):
        target = stage / name
        if isinstance(output, bytes):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(output)
        elif output.is_relative_to(cache_dir):
            link(output, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(output, target)


def publish(stage: Path, out: Path) -> Path:
    """Swap the staged build into place; the old output is removed only after the swap."""
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(stage, out)
    shutil.rmtree(old, ignore_errors=True)
    return out


def fail(error: BuildError) -> int:
    print(f"error: {error.render()}", file=sys.stderr)
    return 1
