"""Every chapter with code as a Jupyter notebook, with the outputs the build produced.

Readers who want to experiment download a chapter as ``.ipynb``: its prose as Markdown cells,
its code cells with their ``#|`` options (comments to Jupyter, options to Quarto) and the
outputs from this build's single execution. Run it from the chapter's folder in a clone of the
repository, where its relative paths (data files) resolve.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import BuildError
from .execute import ExecutedChapter
from .qmd import Cell, Document, Markdown

NBFORMAT = 4
NBFORMAT_MINOR = 5


def notebook_name(doc: Document) -> str:
    return doc.path.rsplit(".", 1)[0] + ".ipynb"


def _option_lines(cell: Cell, text: str) -> str:
    lines = text.splitlines(keepends=True)[cell.line : cell.code_line - 1]
    return "".join(lines)


def to_notebook(doc: Document, executed: ExecutedChapter) -> dict[str, Any]:
    """The chapter as an nbformat 4 notebook (a plain dict, validated by :func:`write`)."""
    cells: list[dict[str, Any]] = []
    count = 0
    code_index = 0
    for block in doc.blocks:
        if isinstance(block, Markdown):
            if text := block.text.strip("\n"):
                cells.append({"cell_type": "markdown", "id": f"md-{len(cells)}", "metadata": {},
                              "source": text})  # fmt: skip
            continue
        outputs = executed.outputs[code_index]
        code_index += 1
        ran = block.option("eval", True) is not False
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


def _with_count(output: dict[str, Any], count: int) -> dict[str, Any]:
    if output.get("output_type") == "execute_result":
        return {**output, "execution_count": count}
    return output


def write_notebooks(
    documents: list[Document], executed: dict[str, ExecutedChapter], stage: Path
) -> dict[str, str]:
    """Write a notebook for every chapter with cells; returns chapter path -> notebook path."""
    import nbformat

    from_dict: Callable[[dict[str, Any]], Any] = nbformat.from_dict  # untyped in nbformat
    written: dict[str, str] = {}
    for doc in documents:
        if not doc.cells:
            continue
        notebook = to_notebook(doc, executed[doc.path])
        try:
            nbformat.validate(from_dict(notebook))
        except nbformat.ValidationError as exc:
            raise BuildError(f"notebook is not valid nbformat: {exc.message}", doc.path) from None
        out = stage / notebook_name(doc)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written[doc.path] = notebook_name(doc)
    return written
