"""Turn a parsed chapter and its executed outputs into Pandoc Markdown -- Quarto's "executed .md".

Each cell becomes what Quarto would print for it:

* its code (unless ``echo: false``), folded behind a "Code" summary with ``code-fold``;
* its outputs (unless ``output: false``): text in ``.cell-output`` blocks, ``output: asis`` text
  spliced in as Markdown, figures as images, rich Markdown/HTML displays;
* each inline expression becomes its value (Markdown), as computed in the kernel;
* a cell labelled ``fig-…`` becomes one numbered figure with its ``fig-cap`` and ``fig-alt``;
  a cell labelled ``tbl-…`` wraps its table output in a ``#tbl-…`` Div carrying ``tbl-cap``.

Figures are written to ``<chapter>_files/figure-html/`` (Quarto's layout), with paths relative
to the project root; the HTML writer makes them page-relative later.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import BuildError
from .execute import ANSI, ExecutedChapter
from .project import source_stem
from .qmd import Cell, Document, Markdown

_IMAGE_TYPES = {"image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg"}


@dataclass(slots=True)
class Assembled:
    """A chapter as Markdown, plus the figure files it refers to (root-relative path → bytes)."""

    markdown: str
    figures: dict[str, bytes] = field(default_factory=dict)


def fence_for(text: str, char: str = "`") -> str:
    """A code fence longer than any run of ``char`` inside ``text`` (so the text cannot close it).

    >>> fence_for("a ``` b")
    '````'
    """
    longest = max((len(m) for m in re.findall(f"{re.escape(char)}+", text)), default=0)
    return char * max(3, longest + 1)


def _attr_value(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _code_block(text: str, classes: str) -> str:
    fence = fence_for(text)
    return f"{fence} {{{classes}}}\n{text}\n{fence}\n"


def assemble(doc: Document, executed: ExecutedChapter) -> Assembled:
    """Markdown for the whole chapter (front matter included) with outputs in place."""
    result = Assembled(markdown="")
    parts: list[str] = []
    if doc.meta:
        parts.append("---\n" + json.dumps(doc.meta, ensure_ascii=False) + "\n---\n\n")
        if "title" in doc.meta and not _has_level1(doc):
            parts.append(f"# {doc.meta['title']}\n\n")
    cell_index = 0
    values = iter(executed.inline)
    for block in doc.blocks:
        if isinstance(block, Markdown):
            parts.append(block.substitute([next(values) for _ in block.inlines]))
            continue
        outputs = executed.outputs[cell_index] if executed.outputs else []
        parts.append(_cell_markdown(doc, block, outputs, cell_index, result))
        cell_index += 1
    result.markdown = "".join(parts)
    return result


def _has_level1(doc: Document) -> bool:
    return any(
        isinstance(b, Markdown) and re.search(r"^# ", b.text, re.MULTILINE) for b in doc.blocks
    )


def _cell_markdown(
    doc: Document, cell: Cell, outputs: list[dict[str, Any]], index: int, result: Assembled
) -> str:
    if cell.option("include", True) is False:
        return "\n"
    pieces: list[str] = []
    if cell.echoed:
        code = _code_block(cell.source, f".{cell.language} .cell-code")
        fold = cell.option("code-fold", False)
        if fold:
            summary = str(cell.option("code-summary", "Code"))
            opened = ' open="true"' if fold == "show" else ""
            code = f"::: {{.code-fold summary={_attr_value(summary)}{opened}}}\n{code}:::\n"
        pieces.append(code)
    if cell.option("output", True) is not False:
        pieces.extend(_outputs(doc, cell, outputs, index, result))
    label = cell.label or ""
    body = "\n".join(pieces)
    if label.startswith("tbl-"):
        caption = _attr_value(str(cell.option("tbl-cap")))
        body = f"::: {{#{label} tbl-cap={caption}}}\n{body}\n:::\n"
    classes = ".cell" + "".join(f" .{c}" for c in str(cell.option("classes", "")).split() if c)
    if cell.option("output") == "asis":
        return "\n" + body + "\n"
    return f"\n:::: {{{classes}}}\n{body}\n::::\n\n"


def _outputs(
    doc: Document, cell: Cell, outputs: list[dict[str, Any]], index: int, result: Assembled
) -> list[str]:
    asis = cell.option("output") == "asis"
    pieces: list[str] = []
    figures = 0
    for output in coalesce_streams(outputs):
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") == "stderr" and cell.option("warning", True) is False:
                continue
            text = ANSI.sub("", _text(output.get("text", "")))
            if asis and output.get("name") == "stdout":
                pieces.append(text)
            elif text.strip():
                stream = ".cell-output .cell-output-" + str(output.get("name", "stdout"))
                pieces.append(f"::: {{{stream}}}\n{_code_block(text.rstrip(), '.text')}:::\n")
        elif kind == "error":
            trace = ANSI.sub("", "\n".join(output.get("traceback", [])))
            pieces.append(
                f"::: {{.cell-output .cell-output-error}}\n{_code_block(trace, '.text')}:::\n"
            )
        elif kind in {"display_data", "execute_result"}:
            data = output.get("data", {})
            image_type = next((t for t in _IMAGE_TYPES if t in data), None)
            if image_type is not None:
                figures += 1
                pieces.append(
                    _figure(doc, cell, data[image_type], image_type, figures, index, result)
                )
            elif "text/markdown" in data:
                pieces.append(_text(data["text/markdown"]) + "\n")
            elif "text/html" in data:
                html = _text(data["text/html"])
                plain = _text(data.get("text/plain", ""))
                pieces.append(_div(".cell-output-display", _code_block(html, "=html")))
                pieces.append(
                    _div('.content-hidden when-format="html"', _code_block(plain, ".text"))
                )
            elif "text/plain" in data:
                text = _text(data["text/plain"])
                if asis:
                    pieces.append(text)
                else:
                    pieces.append(
                        _div(".cell-output .cell-output-display", _code_block(text, ".text"))
                    )
    label = cell.label or ""
    if label.startswith("fig-") and figures != 1:
        raise BuildError(
            f"figure {cell.describe()} must produce exactly one figure, produced {figures}",
            doc.path,
            cell.line,
        )
    return pieces


def _div(attributes: str, body: str) -> str:
    return f"::: {{{attributes}}}\n{body}:::\n"


def coalesce_streams(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge consecutive stream outputs of the same stream, as a notebook front end shows them.

    The kernel may split one cell's printing into several stream messages at arbitrary points;
    joined, a table printed line by line stays one table.
    """
    merged: list[dict[str, Any]] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.get("output_type") == "stream"
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            merged[-1] = {**previous, "text": _text(previous["text"]) + _text(output["text"])}
        else:
            merged.append(output)
    return merged


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def _figure(
    doc: Document,
    cell: Cell,
    payload: str | list[str],
    mime: str,
    number: int,
    index: int,
    result: Assembled,
) -> str:
    caption = cell.option("fig-cap")
    alt = cell.option("fig-alt")
    if caption is None or alt is None:
        raise BuildError(
            f"{cell.describe()} produced a figure but lacks "
            f"{'fig-cap' if caption is None else 'fig-alt'} (every figure needs a caption and "
            "alt text)",
            doc.path,
            cell.line,
        )
    stem = source_stem(doc.path)
    name = cell.label or f"cell-{index + 1}"
    path = f"{stem}_files/figure-html/{name}-{number}.{_IMAGE_TYPES[mime]}"
    text = _text(payload)
    result.figures[path] = (
        _clean_svg(text).encode() if mime == "image/svg+xml" else base64.b64decode(text)
    )
    ident = f"#{cell.label} " if (cell.label or "").startswith("fig-") else ""
    return f"![{caption}]({path}){{{ident}fig-alt={_attr_value(str(alt))}}}\n"


def _clean_svg(svg: str) -> str:
    """Make matplotlib's SVG valid for every output (EPUB checkers are the strictest).

    Drops the XML declaration and the SVG 1.1 DOCTYPE, and gives the empty glyph paths
    matplotlib writes for spaces (``<path id="DejaVuSans-20" .../>``) the ``d`` attribute SVG
    requires.
    """
    svg = re.sub(r"^<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE svg[^>]*>\s*", "", svg, count=1)
    return re.sub(r"<path(?![^>]*\sd=)", '<path d=""', svg)
