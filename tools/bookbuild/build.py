"""The build, start to finish: sources → executed chapters → one resolved book → every output.

    project = load_project(root)           # _quarto.yml
    documents = parse every chapter        # front matter, Markdown, cells (qmd.py)
    executed = freeze hit, or execute      # one kernel per chapter (execute.py, freeze.py)
    markdown = assemble(document, outputs) # Quarto's "executed .md" (assemble.py)
    book = resolve_book(...)               # numbering, cross-references, citations (resolve.py)
    write_site(...)                        # the web book (site.py), then the other formats

Everything is written into a staging folder under ``.build/``; only when every output is built
and every link checks out does the staging folder replace ``_book/``. A failed build leaves the
previous good ``_book/`` exactly as it was.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .assemble import Assembled, assemble
from .epub import write_epub
from .errors import BuildError
from .execute import ExecutedChapter, apply_environment, execute_document, kernel_environment
from .freeze import FreezeStore
from .linkcheck import require_links
from .notebooks import write_notebooks
from .pandoc import api_version, markdown_to_ast
from .project import Project, load_project
from .qmd import Document, read_qmd
from .resolve import Chapter, ResolvedBook, resolve_book
from .site import book_downloads, write_site
from .slides import write_decks
from .typst_pdf import write_pdf

STATE_DIR = ".build"


@dataclass(frozen=True, slots=True)
class BuildOptions:
    refresh: bool = False  # ignore the freeze cache and execute every chapter
    timeout: float = 600.0  # seconds one cell may run
    jobs: int = 2  # chapters executed in parallel (one kernel each)
    log: Callable[[str], None] = field(default=lambda message: print(message, file=sys.stderr))


@dataclass(slots=True)
class BuildReport:
    """What a build did; tests use it to check the freeze cache."""

    executed: list[str] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)
    output: Path | None = None


def figure_size(project: Project) -> tuple[float, float]:
    html = project.format_options("html")
    return float(html.get("fig-width", 7)), float(html.get("fig-height", 5))


def _execute(
    doc: Document, root: Path, timeout: float, figsize: tuple[float, float]
) -> tuple[ExecutedChapter, float]:
    """Run in a worker process: the chapter's outputs and how long the kernel took."""
    start = time.perf_counter()
    result = execute_document(doc, root, timeout=timeout, figsize=figsize)
    return result, time.perf_counter() - start


def execute_all(
    project: Project, documents: list[Document], options: BuildOptions, report: BuildReport
) -> dict[str, ExecutedChapter]:
    """Outputs for every chapter: from the freeze cache when valid, else by running it."""
    store = FreezeStore(project.root)
    results: dict[str, ExecutedChapter] = {}
    pending: list[Document] = []
    for doc in documents:
        if not doc.cells:
            results[doc.path] = ExecutedChapter(outputs=[], reads=[], listings=[])
            continue
        cached = None if options.refresh else store.load(doc)
        if cached is not None:
            results[doc.path] = cached
            report.frozen.append(doc.path)
        else:
            pending.append(doc)
    if not pending:
        return results
    figsize = figure_size(project)
    workers = max(1, min(options.jobs, len(pending)))
    # "spawn": a fresh interpreter per worker; forking a process that runs threads can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            (doc, pool.submit(_execute, doc, project.root, options.timeout, figsize))
            for doc in pending
        ]
        for doc, future in futures:
            result, seconds = future.result()  # a BuildError from the worker propagates as is
            store.save(doc, result)
            results[doc.path] = result
            report.executed.append(doc.path)
            options.log(f"executed {doc.path} ({len(doc.cells)} cells, {seconds:.1f} s)")
    return results


def parse_chapters(
    project: Project, documents: list[Document], assembled: list[Assembled]
) -> list[Chapter]:
    def parse(pair: tuple[Document, Assembled]) -> Chapter:
        doc, asm = pair
        tree = markdown_to_ast(asm.markdown, file=doc.path)
        ref = project.chapter(doc.path)
        return Chapter(ref=ref, blocks=tree["blocks"], meta=tree["meta"], source_text=doc.text)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(parse, zip(documents, assembled, strict=True)))


def build(root: Path, options: BuildOptions | None = None) -> BuildReport:
    """Build every output of the book at ``root`` into its output folder (``_book/``)."""
    options = options or BuildOptions()
    root = root.resolve()
    report = BuildReport()
    project = load_project(root)
    apply_environment(kernel_environment(root / STATE_DIR / "state"))
    documents = [read_qmd(root, ref.path) for ref in project.chapters]
    decks = [read_qmd(root, path) for path in deck_sources(root)]
    executed = execute_all(project, documents + decks, options, report)
    assembled = [assemble(doc, executed[doc.path].outputs) for doc in documents]
    figures: dict[str, bytes] = {}
    for asm in assembled:
        figures.update(asm.figures)
    version = api_version()
    book = resolve_book(project, parse_chapters(project, documents, assembled), version)

    stage = root / STATE_DIR / f"stage-{os.getpid()}"
    work = root / STATE_DIR / f"work-{os.getpid()}"  # scratch files no output keeps
    for folder in (stage, work):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    try:
        write_outputs(project, book, stage, work, version, figures, documents, decks, executed)
        require_links(stage)
        report.output = publish(stage, root / project.output_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    options.log(
        f"built {report.output} ({len(report.executed)} executed, {len(report.frozen)} from freeze)"
    )
    return report


def write_outputs(
    project: Project,
    book: ResolvedBook,
    stage: Path,
    work: Path,
    version: list[int],
    figures: dict[str, bytes],
    documents: list[Document],
    decks: list[Document],
    executed: dict[str, ExecutedChapter],
) -> None:
    """Every output format: the book's from the one resolved book, the decks' from their own."""
    notebooks = write_notebooks(documents, executed, stage)
    write_site(project, book, stage, version, figures, book_downloads(project), notebooks)
    write_decks(project, stage, version, decks, executed)
    write_pdf(project, book, stage)
    write_epub(project, book, stage, work)
    run_post_render(project, stage)


def run_post_render(project: Project, stage: Path) -> None:
    """Quarto's ``project.post-render`` scripts, run with the output folder in the environment.

    As in Quarto, a script sees ``QUARTO_PROJECT_OUTPUT_DIR`` (here: the staging folder that
    becomes ``_book/``) and runs from the project root; a failing script fails the build.
    """
    scripts = project.config.get("project", {}).get("post-render") or []
    for script in [scripts] if isinstance(scripts, str) else scripts:
        command = [sys.executable, script] if script.endswith(".py") else script.split()
        env = {
            **os.environ,
            "QUARTO_PROJECT_OUTPUT_DIR": str(stage),
            "QUARTO_PROJECT_DIR": str(project.root),
        }
        done = subprocess.run(
            command, cwd=project.root, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise BuildError(
                f"post-render script '{script}' failed", "_quarto.yml", None, done.stderr
            )


def deck_sources(root: Path) -> list[str]:
    """The slide decks: every ``slides/*.qmd`` (files starting with ``_`` are partials)."""
    folder = root / "slides"
    if not folder.is_dir():
        return []
    return sorted(
        p.relative_to(root).as_posix() for p in folder.glob("*.qmd") if not p.name.startswith("_")
    )


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
