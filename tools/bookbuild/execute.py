"""Run a chapter's Python cells in a fresh Jupyter kernel and keep their outputs.

One kernel per chapter, cells in order, so later cells see earlier cells' variables -- exactly what
a reader gets running the chapter as a notebook. Before the chapter's own cells the builder runs a
hidden setup cell that

* changes to the chapter's folder (Quarto's default ``execute-dir: file``),
* makes matplotlib figures deterministic SVG (fixed hash salt, no date, glyphs as paths), and
* installs an audit hook that records every project file the chapter opens or lists, so the
  freeze cache (:mod:`bookbuild.freeze`) knows which data files the output depends on.

A failing cell stops the build with ``chapter.qmd:LINE`` (the line inside the cell, taken from the
traceback), the cell's code and the traceback, unless the cell says ``#| error: true``.
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
from .qmd import Cell, Document

EXECUTION_VERSION = "6"  # bump when the setup code or output handling changes
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KERNEL_FILE = re.compile(r"\S*ipykernel_\d+/\d+\.py")
_CELL_FRAME = re.compile(r"Cell In\[\d+\], line (\d+)")
_REPORT_MARKER = "__bookbuild_reads__"
IGNORED_DIRS = (".venv", "_freeze", "_book", ".build", "node_modules", ".git")

_SETUP = """\
import json as _bb_json, os as _bb_os, sys as _bb_sys
_bb_os.chdir({cwd!r})
_bb_root = {root!r}
_bb_skip = tuple(_bb_os.path.join(_bb_root, d) + _bb_os.sep for d in {ignored!r})
_bb_reads, _bb_lists = set(), set()

def _bb_audit(event, args):
    # Record project files read (not written) and folders listed; never raise.
    try:
        if event == "open":
            path, mode = args[0], args[1]
            if mode is not None and "r" not in mode and "+" not in mode:
                return
            target = _bb_reads
        elif event in ("os.listdir", "os.scandir"):
            # The import system lists sys.path folders to cache them; that is not the chapter
            # looking at a folder's contents.
            caller = _bb_sys._getframe(1).f_globals.get("__name__", "")
            if caller.startswith("importlib"):
                return
            path, target = args[0], _bb_lists
        else:
            return
        if isinstance(path, int):
            return
        path = _bb_os.path.abspath(_bb_os.fsdecode(path if path is not None else "."))
        inside = path.startswith(_bb_root + _bb_os.sep) and not path.startswith(_bb_skip)
        if inside and "__pycache__" not in path:
            target.add(_bb_os.path.relpath(path, _bb_root))
    except Exception:
        pass

_bb_sys.addaudithook(_bb_audit)
import matplotlib as _bb_mpl
_bb_mpl.rcParams.update({{"svg.hashsalt": "bookbuild", "svg.fonttype": "path",
                         "figure.figsize": {figsize!r}}})
get_ipython().run_line_magic("matplotlib", "inline")  # so a returned Figure is displayed
get_ipython().run_line_magic("config", "InlineBackend.figure_formats = ['svg']")
_bb_kwargs = {{"bbox_inches": "tight", "metadata": {{"Date": None}}}}
get_ipython().run_line_magic("config", f"InlineBackend.print_figure_kwargs = {{_bb_kwargs!r}}")
"""
# Only real files and folders count: the import system also "opens" synthetic sys.path entries
# (such as an editable install's path hook), which are not inputs of the chapter.
_REPORT = (
    f"print({_REPORT_MARKER!r} + _bb_json.dumps(["
    "sorted(p for p in _bb_reads if _bb_os.path.isfile(_bb_os.path.join(_bb_root, p))), "
    "sorted(p for p in _bb_lists if _bb_os.path.isdir(_bb_os.path.join(_bb_root, p)))]))"
)


@dataclass(frozen=True, slots=True)
class ExecutedChapter:
    """What executing a chapter produced: outputs per cell, and the project files it touched."""

    outputs: list[list[dict[str, Any]]]  # one nbformat output list per cell of the document
    reads: list[str]  # project-relative files the chapter opened for reading
    listings: list[str]  # project-relative folders it listed


def setup_code(root: Path, cwd: Path, figsize: tuple[float, float] = (7.0, 4.2)) -> str:
    return _SETUP.format(cwd=str(cwd), root=str(root), ignored=IGNORED_DIRS, figsize=list(figsize))


def execute_document(
    doc: Document,
    root: Path,
    *,
    timeout: float = 600,
    figsize: tuple[float, float] = (7.0, 4.2),
) -> ExecutedChapter:
    """Execute every cell of ``doc`` (those with ``eval: false`` are skipped) in one kernel."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    cells = doc.cells
    new_notebook, new_code_cell = _nbformat_v4()
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    cwd = (root / doc.path).parent
    nb.cells.append(new_code_cell(setup_code(root, cwd, figsize)))
    runnable: list[tuple[int, Cell]] = [
        (i, c) for i, c in enumerate(cells) if c.option("eval", True) is not False
    ]
    for _, cell in runnable:
        nb_cell = new_code_cell(cell.source)
        if cell.option("error", False):
            nb_cell.metadata["tags"] = ["raises-exception"]
        nb.cells.append(nb_cell)
    nb.cells.append(new_code_cell(_REPORT))

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        # The kernel listens on 127.0.0.1 only; its log would warn about plain TCP on every run.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    with ExitStack() as stack:
        try:
            stack.enter_context(client.setup_kernel())
        except Exception as exc:  # no kernel, no chapter: say which chapter could not start
            raise BuildError(f"could not start a Python kernel: {exc}", doc.path) from None
        for index, nb_cell in enumerate(nb.cells):
            source_cell = runnable[index - 1][1] if 0 < index <= len(runnable) else None
            try:
                client.execute_cell(nb_cell, index)
            except CellTimeoutError:
                raise _cell_error(doc, source_cell, f"timed out after {timeout:g} s", "") from None
            except CellExecutionError as exc:
                raise _cell_error(doc, source_cell, "failed", str(exc)) from None
            except DeadKernelError as exc:
                raise _cell_error(doc, source_cell, "crashed the kernel", str(exc)) from None

    outputs: list[list[dict[str, Any]]] = [[] for _ in cells]
    for (i, _), nb_cell in zip(runnable, nb.cells[1:-1], strict=True):
        outputs[i] = [_plain(o) for o in nb_cell.outputs]
    reads, listings = _report(nb.cells[-1].outputs, doc.path)
    return ExecutedChapter(outputs=outputs, reads=reads, listings=listings)


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


def _report(outputs: list[Any], path: str) -> tuple[list[str], list[str]]:
    for output in outputs:
        text = output.get("text", "")
        if output.get("output_type") == "stream" and text.startswith(_REPORT_MARKER):
            reads, listings = json.loads(text[len(_REPORT_MARKER) :])
            return list(reads), list(listings)
    raise BuildError("the kernel did not report which files the chapter read", path)


def _cell_error(doc: Document, cell: Cell | None, what: str, traceback: str) -> BuildError:
    """A BuildError pointing at the failing line: the cell's first code line plus the
    traceback's line within the cell (IPython prints it as ``Cell In[n], line k``)."""
    clean = _ANSI.sub("", traceback).strip()
    if cell is None:
        return BuildError(f"the builder's setup code {what}", doc.path, None, clean)
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
    own state folder, and output does not depend on the machine's user configuration.
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
        }
    )
    return result


def apply_environment(env: dict[str, str]) -> None:
    os.environ.update(env)
