"""Diagrams drawn from text at build time: Quarto's ``{dot}`` cells, rendered by Graphviz.

A chapter writes a diagram as Quarto does::

    ```{dot}
    //| label: fig-agent-loop
    //| fig-cap: "The agent loop."
    //| fig-alt: "A cycle from model to tool and back."
    digraph { model -> tool -> model }
    ```

Here such a cell "executes" by running ``dot -Tsvg`` on its source; its output is an SVG
display, exactly what a Python cell that draws a figure produces, so every format (web, PDF,
EPUB, decks, notebooks) treats the two alike. The SVG is cached on the source and the Graphviz
binary, so an unchanged diagram never runs Graphviz again. The book's sans-serif font (DejaVu
Sans, which Typst embeds too) is the default; a graph may set its own.

Not supported: Quarto's other diagram engine (Mermaid), which needs a browser at build time.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from typing import Any

from .cache import OutputCache, key
from .errors import BuildError
from .execute import ExecutedChapter
from .progress import TRACE
from .qmd import Cell, Document
from .toolchain import graphviz_path, identity

FONT = "DejaVu Sans"
_DOT_LINE = re.compile(r"(?:syntax error )?in line (\d+)")


def render_dot(source: str, doc: Document, cell: Cell, store: OutputCache) -> str:
    """The diagram as SVG text (from the cache when this source was drawn before)."""
    args = [f"-{kind}fontname={FONT}" for kind in "GNE"] + ["-Tsvg"]

    def make() -> bytes:
        with TRACE.timed("graphviz", f"drawing {cell.label or 'a diagram'} ({doc.path})"):
            done = subprocess.run(
                [graphviz_path(), *args], input=source.encode(), capture_output=True, check=False
            )
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", errors="replace").strip()
            line = cell.code_line
            if match := _DOT_LINE.search(message):
                line = cell.code_line + int(match.group(1)) - 1
            raise BuildError(f"{cell.describe()}: Graphviz could not draw it", doc.path, line,
                             message)  # fmt: skip
        return done.stdout

    return store.get("graphviz", key("dot", identity(graphviz_path()), args, source), make).decode(
        "utf-8"
    )


def draw(doc: Document, executed: ExecutedChapter, store: OutputCache) -> ExecutedChapter:
    """``executed`` with every diagram cell's output filled in (an SVG display)."""
    cells = doc.cells
    if not any(c.diagram for c in cells):
        return executed
    outputs: list[list[dict[str, Any]]] = [
        list(o) for o in (executed.outputs or [[] for _ in cells])
    ]
    for index, cell in enumerate(cells):
        if cell.diagram and cell.option("eval", True) is not False:
            svg = render_dot(cell.source, doc, cell, store)
            display = {"output_type": "display_data", "metadata": {},
                       "data": {"image/svg+xml": svg, "text/plain": "<diagram>"}}  # fmt: skip
            outputs[index] = [display]
    return replace(executed, outputs=outputs)
