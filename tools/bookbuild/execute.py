"""Run a chapter's Python cells in a fresh Jupyter kernel and keep their outputs.

One kernel per chapter, cells in order, so later cells see earlier cells' variables -- exactly what
a reader gets running the chapter as a notebook. Inline expressions are evaluated in the same
kernel, in document order: each sees the cells above it. Before the chapter's own cells a hidden
setup cell calls :func:`bookbuild.kernel.setup` (working folder, deterministic figures at the
book's size, the audit hook); after them :func:`bookbuild.kernel.report` says which project
files the chapter read and which project modules it imported, for the freeze.

A failing cell stops the build with ``chapter.qmd:LINE`` (the line inside the cell, taken from the
traceback), the cell's code and the traceback, unless the cell says ``#| error: true``; a failing
inline expression names its own line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BuildError
from .kernel import INLINE_MARKER, REPORT_MARKER
from .qmd import Cell, Document, Inline, Markdown

EXECUTION_VERSION = "7"  # bump when output handling changes (kernel.py is hashed by content)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KERNEL_FILE = re.compile(r"\S*ipykernel_\d+/\d+\.py")
_CELL_FRAME = re.compile(r"Cell In\[\d+\], line (\d+)")
IGNORED_DIRS = (".venv", "_freeze", "_book", ".build", "node_modules", ".git")


@dataclass(frozen=True, slots=True)
class ExecutedChapter:
    """What executing a chapter produced, and what it depended on."""

    outputs: list[list[dict[str, Any]]]  # one nbformat output list per cell of the document
    inline: list[str]  # the value of each inline expression, as Markdown, in document order
    reads: list[str]  # project-relative files the chapter opened for reading
    listings: list[str]  # project-relative folders it listed
    modules: list[str]  # project-relative source files of the modules it imported

    @staticmethod
    def empty(cells: int = 0) -> ExecutedChapter:
        """What a document that needs no kernel "produced": no output for any of its cells."""
        return ExecutedChapter([[] for _ in range(cells)], [], [], [], [])


@dataclass(frozen=True, slots=True)
class KernelSettings:
    """Everything about the kernel that can change a chapter's output (part of its key)."""

    figsize: tuple[float, float]
    env: dict[str, str]  # environment variables given to the kernel (paths under the state dir)
    timeout: float = 600.0

    def portable(self, root: Path) -> dict[str, Any]:
        """The settings without this checkout's absolute path (the freeze moves with it)."""
        env = {k: v.replace(str(root), "<root>") for k, v in sorted(self.env.items())}
        return {"figsize": list(self.figsize), "env": env}


def setup_code(root: Path, cwd: Path, figsize: tuple[float, float]) -> str:
    args = [str(cwd), str(root), list(figsize), list(IGNORED_DIRS)]
    call = ", ".join(json.dumps(a) for a in args)
    return f"import bookbuild.kernel as _bb_kernel\n_bb_kernel.setup({call})"


@dataclass(frozen=True, slots=True)
class _Step:
    """One notebook cell of the run: a chapter cell, a batch of inline expressions, or ours."""

    kind: str  # "setup" | "cell" | "inline" | "report"
    cell: Cell | None = None
    inlines: tuple[Inline, ...] = ()


def _plan(doc: Document) -> list[_Step]:
    steps = [_Step("setup")]
    for block in doc.blocks:
        if isinstance(block, Markdown) and block.inlines:
            steps.append(_Step("inline", inlines=block.inlines))
        elif isinstance(block, Cell) and block.evaluated:
            steps.append(_Step("cell", cell=block))
    steps.append(_Step("report"))
    return steps


def _source(step: _Step, root: Path, cwd: Path, figsize: tuple[float, float]) -> str:
    if step.kind == "setup":
        return setup_code(root, cwd, figsize)
    if step.kind == "report":
        return "_bb_kernel.report()"
    if step.kind == "inline":
        return f"_bb_kernel.inline({json.dumps([i.code for i in step.inlines])})"
    assert step.cell is not None
    return step.cell.source


def execute_document(doc: Document, root: Path, settings: KernelSettings) -> ExecutedChapter:
    """Execute every cell (those with ``eval: false`` are skipped) and inline expression."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    new_notebook, new_code_cell = _nbformat_v4()
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    cwd = (root / doc.path).parent
    steps = _plan(doc)
    for step in steps:
        nb_cell = new_code_cell(_source(step, root, cwd, settings.figsize))
        if step.cell is not None and step.cell.may_fail:
            nb_cell.metadata["tags"] = ["raises-exception"]
        nb.cells.append(nb_cell)

    client = NotebookClient(
        nb,
        timeout=settings.timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        # The kernel listens on 127.0.0.1 only; its log would warn about plain TCP on every run.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    with ExitStack() as stack:
        try:
            stack.enter_context(client.setup_kernel(env={**os.environ, **settings.env}))
        except Exception as exc:  # no kernel, no chapter: say which chapter could not start
            raise BuildError(f"could not start a Python kernel: {exc}", doc.path) from None
        for index, (step, nb_cell) in enumerate(zip(steps, nb.cells, strict=True)):
            try:
                client.execute_cell(nb_cell, index)
            except CellTimeoutError:
                raise _step_error(
                    doc, step, f"timed out after {settings.timeout:g} s", ""
                ) from None
            except CellExecutionError as exc:
                raise _step_error(doc, step, "failed", str(exc)) from None
            except DeadKernelError as exc:
                raise _step_error(doc, step, "crashed the kernel", str(exc)) from None
    return _collect(doc, steps, nb.cells)


def _collect(doc: Document, steps: list[_Step], cells: list[Any]) -> ExecutedChapter:
    index = {id(c): i for i, c in enumerate(doc.cells)}
    outputs: list[list[dict[str, Any]]] = [[] for _ in doc.cells]
    inline: list[str] = []
    report: dict[str, list[str]] = {}
    for step, nb_cell in zip(steps, cells, strict=True):
        if step.kind == "cell" and step.cell is not None:
            outputs[index[id(step.cell)]] = [_plain(o) for o in nb_cell.outputs]
        elif step.kind == "inline":
            inline += _inline_values(doc, step, nb_cell.outputs)
        elif step.kind == "report":
            report = _marked(nb_cell.outputs, REPORT_MARKER, doc.path)
    return ExecutedChapter(outputs, inline, report["reads"], report["listings"], report["modules"])


def _marked(outputs: list[Any], marker: str, path: str) -> Any:
    for output in outputs:
        text = output.get("text", "")
        if output.get("output_type") == "stream" and text.startswith(marker):
            return json.loads(text[len(marker) :])
    raise BuildError("the kernel did not report back (did a cell replace print?)", path)


def _inline_values(doc: Document, step: _Step, outputs: list[Any]) -> list[str]:
    values: list[str] = []
    for inline, result in zip(
        step.inlines, _marked(outputs, INLINE_MARKER, doc.path), strict=False
    ):
        if "error" in result:
            detail = ANSI.sub("", result["error"]).strip()
            raise BuildError(f"inline expression `{inline.code}` failed", doc.path, inline.line,
                             detail)  # fmt: skip
        values.append(str(result["value"]))
    return values


def _nbformat_v4() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """nbformat's notebook and cell constructors (nbformat ships no type hints)."""
    from nbformat import v4

    return v4.new_notebook, v4.new_code_cell


def _plain(output: Any) -> dict[str, Any]:
    """An nbformat output as plain JSON data (what the freeze cache stores).

    The kernel names a cell's code after a temporary file (``/tmp/ipykernel_8180/2009.py``) in
    warnings and tracebacks; that name changes from run to run, so it becomes ``<cell>`` and
    every output format stays byte-identical between builds.
    """
    data: dict[str, Any] = json.loads(json.dumps(output))
    data.pop("execution_count", None)
    if "text" in data:
        data["text"] = _KERNEL_FILE.sub("<cell>", "".join(data["text"]))
    if "traceback" in data:
        data["traceback"] = [_KERNEL_FILE.sub("<cell>", line) for line in data["traceback"]]
    return data


def _step_error(doc: Document, step: _Step, what: str, traceback: str) -> BuildError:
    """A BuildError pointing at the failing line: the cell's first code line plus the
    traceback's line within the cell (IPython prints it as ``Cell In[n], line k``)."""
    clean = ANSI.sub("", traceback).strip()
    if step.kind == "inline":
        first = step.inlines[0]
        return BuildError(f"inline code {what}", doc.path, first.line, clean)
    cell = step.cell
    if cell is None:
        return BuildError(f"the builder's {step.kind} code {what}", doc.path, None, clean)
    line = cell.line
    if frame := _CELL_FRAME.search(clean):
        line = cell.code_line + int(frame.group(1)) - 1
    code = "\n".join(
        f"{cell.code_line + k:>6} | {text}" for k, text in enumerate(cell.source.splitlines())
    )
    detail = f"{code}\n\n{clean}" if clean else code
    return BuildError(f"{cell.describe()} {what}", doc.path, line, detail)


def kernel_environment(state_dir: Path) -> dict[str, str]:
    """Environment variables that keep Jupyter, IPython, matplotlib & co. out of ``$HOME``.

    Builds are hermetic: everything these tools would cache or configure goes under the build's
    own state folder, and output does not depend on the machine's user configuration. The
    variables are given to the kernels (and Chromium), never set in the builder's own process.
    """
    env = {
        "MPLCONFIGDIR": state_dir / "matplotlib",
        "IPYTHONDIR": state_dir / "ipython",
        "JUPYTER_CONFIG_DIR": state_dir / "jupyter-config",
        "JUPYTER_DATA_DIR": state_dir / "jupyter-data",
        "JUPYTER_RUNTIME_DIR": state_dir / "jupyter-runtime",
        "XDG_CONFIG_HOME": state_dir / "xdg-config",
        "XDG_CACHE_HOME": state_dir / "xdg-cache",
        "TIKTOKEN_CACHE_DIR": state_dir / "tiktoken",
    }
    for path in env.values():
        path.mkdir(parents=True, exist_ok=True)
    result = {k: str(v) for k, v in env.items()}
    result.update(
        {
            "PYTHONHASHSEED": "0",
            "SOURCE_DATE_EPOCH": "0",
            "HF_HUB_OFFLINE": "1",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            # One BLAS thread per kernel: kernels already run in parallel (-j), and on a small
            # machine threads that oversubscribe the cores make NumPy-heavy chapters many times
            # slower; results are also the same whatever the machine's core count.
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
    )
    return result
