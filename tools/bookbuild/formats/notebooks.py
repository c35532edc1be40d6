"""Every chapter with code as a Jupyter notebook, with the outputs the build produced.

Readers who want to experiment download a chapter as ``.ipynb``: its prose as Markdown cells,
its code cells with their ``#|`` options (comments to Jupyter, options to Quarto) and the
outputs from this build's single execution. Run it from the chapter's folder in a clone of the
repository, where its relative paths (data files) resolve.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from ..cache import key
from ..context import BookContext, Outputs
from ..errors import BuildError
from ..execute import ExecutedChapter
from ..project import source_stem
from ..qmd import Cell, Document, Markdown

NBFORMAT = 4
NBFORMAT_MINOR = 5


def notebook_name(doc: Document) -> str:
    return source_stem(doc.path) + ".ipynb"


def notebook_paths(ctx: BookContext) -> dict[str, str]:
    """Chapter path -> its notebook's path, for every chapter that has code."""
    return {doc.path: notebook_name(doc) for doc in ctx.chapters if doc.cells}


def _option_lines(cell: Cell, text: str) -> str:
    lines = text.splitlines(keepends=True)[cell.line : cell.code_line - 1]
    return "".join(lines)


def to_notebook(doc: Document, executed: ExecutedChapter) -> dict[str, Any]:
    """The chapter as an nbformat 4 notebook (a plain dict, validated by :func:`write`)."""
    cells: list[dict[str, Any]] = []
    count = 0
    code_index = 0
    values = iter(executed.inline)
    for block in doc.blocks:
        if isinstance(block, Markdown):
            markdown = block.substitute([next(values) for _ in block.inlines])
            if text := markdown.strip("\n"):
                cells.append({"cell_type": "markdown", "id": f"md-{len(cells)}", "metadata": {},
                              "source": text})  # fmt: skip
            continue
        outputs = executed.outputs[code_index]
        code_index += 1
        if block.diagram:  # a notebook cannot run Graphviz: show the drawn diagram instead
            cells.append({"cell_type": "markdown", "id": f"md-{len(cells)}", "metadata": {},
                          "source": _diagram_markdown(block, outputs)})  # fmt: skip
            continue
        ran = block.evaluated
        if ran:
            count += 1
        source = _option_lines(block, doc.text) + block.source
        cells.append(
            {
                "cell_type": "code",
                "id": f"code-{len(cells)}",
                "metadata": {},
                "execution_count": count if ran else None,
                "source": source,
                "outputs": [_with_count(o, count) for o in outputs],
            }
        )
    return {
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": cells,
    }


def _diagram_markdown(cell: Cell, outputs: list[dict[str, Any]]) -> str:
    svg = next((o["data"]["image/svg+xml"] for o in outputs if "data" in o), "")
    payload = base64.b64encode("".join(svg).encode("utf-8")).decode("ascii")
    caption = str(cell.option("fig-cap", "Diagram"))
    return f"![{caption}](data:image/svg+xml;base64,{payload})"


def _with_count(output: dict[str, Any], count: int) -> dict[str, Any]:
    if output.get("output_type") == "execute_result":
        return {**output, "execution_count": count}
    return output


def validated(notebook: dict[str, Any], path: str) -> bytes:
    """The notebook as JSON, after checking it against the nbformat schema."""
    import nbformat

    from_dict: Callable[[dict[str, Any]], Any] = nbformat.from_dict  # untyped in nbformat
    try:
        nbformat.validate(from_dict(notebook))
    except nbformat.ValidationError as exc:
        raise BuildError(f"notebook is not valid nbformat: {exc.message}", path) from None
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def _validator(notebook: dict[str, Any], path: str) -> Callable[[], bytes]:
    return lambda: validated(notebook, path)


def render(ctx: BookContext) -> Outputs:
    """A notebook for every chapter with cells (validated once per distinct notebook)."""
    out: Outputs = {}
    for doc in ctx.chapters:
        if not doc.cells:
            continue
        notebook = to_notebook(doc, ctx.executed[doc.path])
        digest = key("ipynb", notebook)
        ctx.store.get("ipynb", digest, _validator(notebook, doc.path))
        out[notebook_name(doc)] = ctx.store.path("ipynb", digest)
    return out
