"""The builder's side of a chapter's kernel: imported and called by the hidden setup cell.

This module runs *inside* the Jupyter kernel that executes a chapter, not in the builder. It

* changes to the chapter's folder (Quarto's default ``execute-dir: file``);
* makes matplotlib figures deterministic SVG (fixed hash salt, no date, glyphs as paths) at the
  book's figure size;
* installs an audit hook that records every project file the chapter opens for reading and every
  folder it lists, and at the end reports those and every module the chapter imported from the
  project (``sys.modules``), so the freeze (:mod:`bookbuild.freeze`) is keyed on what actually
  ran;
* evaluates inline expressions (`` `{python} expr` ``) and reports their values as Markdown.

The builder reads the reports from the cell output: one line starting with a marker, then JSON.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any

REPORT_MARKER = "__bookbuild_report__"
INLINE_MARKER = "__bookbuild_inline__"

_state: dict[str, Any] = {"root": "", "skip": (), "reads": set(), "lists": set()}


def _inside(path: str) -> str | None:
    """``path`` relative to the project root, if it is a project file the freeze should see."""
    root: str = _state["root"]
    if not path.startswith(root + os.sep) or path.startswith(_state["skip"]):
        return None
    if "__pycache__" in path:
        return None
    return os.path.relpath(path, root)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Record project files read (not written) and folders listed; never raise."""
    try:
        if event == "open":
            path, mode = args[0], args[1]
            if mode is not None and "r" not in mode and "+" not in mode:
                return
            target = _state["reads"]
        elif event in ("os.listdir", "os.scandir"):
            # The import system lists sys.path folders to cache them; that is not the chapter
            # looking at a folder's contents.
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if caller.startswith("importlib"):
                return
            path, target = args[0], _state["lists"]
        else:
            return
        if isinstance(path, int):
            return
        relative = _inside(os.path.abspath(os.fsdecode(path if path is not None else ".")))
        if relative is not None:
            target.add(relative)
    except Exception:
        pass


def record(root: str, ignored: list[str]) -> None:
    """Start recording the project files this process reads (for the rest of its life)."""
    _state["root"] = root
    _state["skip"] = tuple(os.path.join(root, d) + os.sep for d in ignored)
    sys.addaudithook(_audit)


def recorded() -> dict[str, list[str]]:
    """Project files read, folders listed and modules imported since :func:`record`."""
    root: str = _state["root"]
    modules = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and (relative := _inside(os.path.abspath(file))):
            modules.add(relative)
    # Only real files and folders count: the import system also "opens" synthetic sys.path
    # entries (such as an editable install's path hook), which are not inputs of the chapter.
    reads = sorted(p for p in _state["reads"] if os.path.isfile(os.path.join(root, p)))
    lists = sorted(p for p in _state["lists"] if os.path.isdir(os.path.join(root, p)))
    return {"reads": reads, "listings": lists, "modules": sorted(modules)}


def setup(cwd: str, root: str, figsize: list[float], ignored: list[str]) -> None:
    """Prepare the kernel for one chapter (called once, by the hidden setup cell)."""
    os.chdir(cwd)
    record(root, ignored)
    import matplotlib
    from IPython import get_ipython

    matplotlib.rcParams.update(
        {"svg.hashsalt": "bookbuild", "svg.fonttype": "path", "figure.figsize": figsize}
    )
    shell = get_ipython()
    shell.run_line_magic("matplotlib", "inline")  # so a returned Figure is displayed
    shell.run_line_magic("config", "InlineBackend.figure_formats = ['svg']")
    kwargs = {"bbox_inches": "tight", "metadata": {"Date": None}}
    shell.run_line_magic("config", f"InlineBackend.print_figure_kwargs = {kwargs!r}")


def _markdown(value: object) -> str:
    """How an inline value reads in the text: a string as itself (Markdown), anything else
    as its ``text/markdown`` display if it has one, else its plain ``repr``."""
    if isinstance(value, str):
        return value
    from IPython import get_ipython

    data, _ = get_ipython().display_formatter.format(value)
    return str(data.get("text/markdown") or data.get("text/plain") or value)


def inline(codes: list[str]) -> None:
    """Evaluate inline expressions in the chapter's namespace and print their values."""
    from IPython import get_ipython

    namespace = get_ipython().user_ns
    results: list[dict[str, str]] = []
    for code in codes:
        try:
            results.append({"value": _markdown(eval(code, namespace))})
        except Exception:
            results.append({"error": traceback.format_exc(limit=-3)})
            break
    print(INLINE_MARKER + json.dumps(results))


def report() -> None:
    """Print what :func:`recorded` found, for the builder to read from the cell output."""
    print(REPORT_MARKER + json.dumps(recorded()))
