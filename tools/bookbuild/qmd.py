"""Split a ``.qmd`` source into front matter, Markdown and executable cells.

A Quarto document is Markdown with fenced code cells written ```` ```{python} ````. The options of
a cell are the ``#|`` comment lines at its top, in YAML::

    ```{python}
    #| label: fig-softmax
    #| fig-cap: "Softmax at three temperatures."
    plot_softmax()
    ```

We keep every line number so that any later error -- a bad option, a failing cell -- can name
``chapter.qmd:LINE``. Ordinary fenced code blocks (```` ```python ````, without braces) are text,
and a fence nested inside a longer fence is not a cell: that is how a chapter *shows* a cell.

Inline code, Quarto's `` `{python} expr` ``, is found here too (outside fenced blocks, on one
line, in a single-backtick code span): each expression becomes an :class:`Inline` of its Markdown
run, evaluated in document order after the cells before it, and its value replaces it in every
output, so a number in the prose is the number the code computed.

Diagram cells, Quarto's ```` ```{dot} ```` with ``//|`` options, are cells too: Graphviz draws
them at build time (:mod:`bookbuild.diagrams`), and their code is hidden unless ``echo: true``.

Not supported (Quarto has them; this book does not use them): engines other than Jupyter/Python
and Graphviz, inline code spanning lines, and ```` ```{{python}} ```` verbatim cells.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .errors import BuildError
from .yamlio import load_yaml_mapping

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>.*?)\s*$")
_CELL_INFO = re.compile(r"^\{(?P<lang>[A-Za-z0-9_+-]+)(?P<rest>[^{}]*)\}$")
_LABEL = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
# The content of a single-backtick code span that is inline code: `{python} expr`.
_INLINE = re.compile(r"^\{(?P<lang>[A-Za-z0-9_+-]+)\}[ \t]+(?P<code>.*?)[ \t]*$")
_TICKS = re.compile(r"`+")
EXECUTABLE = frozenset({"python"})  # run in a Jupyter kernel
DIAGRAMS = frozenset({"dot"})  # drawn by an engine at build time (Graphviz), as in Quarto
OPTION_PREFIX = {"python": "#|", "dot": "//|"}  # Quarto's comment syntax per language


@dataclass(frozen=True, slots=True)
class Inline:
    """An inline expression: its code and where it sits (offsets into its Markdown run)."""

    code: str
    line: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Markdown:
    """A run of Markdown text; ``line`` is where it starts in the source file."""

    text: str
    line: int
    inlines: tuple[Inline, ...] = ()

    def substitute(self, values: list[str]) -> str:
        """The text with each inline expression replaced by its value (in order)."""
        out, at = [], 0
        for inline, value in zip(self.inlines, values, strict=True):
            out += [self.text[at : inline.start], value]
            at = inline.end
        return "".join(out) + self.text[at:]


@dataclass(frozen=True, slots=True)
class Cell:
    """An executable code cell: its code (options stripped), options and position."""

    source: str
    options: dict[str, Any]
    line: int  # line of the opening fence
    code_line: int  # line of the first line of code, after the options
    language: str = "python"

    @property
    def label(self) -> str | None:
        value = self.options.get("label")
        return str(value) if value is not None else None

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

    @property
    def evaluated(self) -> bool:
        """Whether the cell runs in the kernel (``eval: false`` shows it without running it;
        a diagram is drawn by its engine, not run)."""
        return self.language in EXECUTABLE and self.options.get("eval", True) is not False

    @property
    def diagram(self) -> bool:
        return self.language in DIAGRAMS

    @property
    def echoed(self) -> bool:
        """Whether the cell's code is shown: by default yes, for a diagram no (Quarto's
        defaults)."""
        return self.options.get("echo", not self.diagram) is not False

    @property
    def may_fail(self) -> bool:
        """``error: true``: an exception is shown as output instead of failing the build."""
        return bool(self.options.get("error", False))

    def describe(self) -> str:
        """How error messages name the cell: by label when it has one."""
        return f"cell '{self.label}'" if self.label else "cell"


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed ``.qmd``: front matter plus the body as Markdown runs and cells, in order."""

    path: str  # relative to the project root
    meta: dict[str, Any]
    blocks: tuple[Markdown | Cell, ...]
    text: str = field(repr=False)

    @property
    def cells(self) -> list[Cell]:
        return [b for b in self.blocks if isinstance(b, Cell)]

    @property
    def inlines(self) -> list[Inline]:
        return [i for b in self.blocks if isinstance(b, Markdown) for i in b.inlines]

    @property
    def executable(self) -> bool:
        """Whether the document needs a kernel at all."""
        return any(c.language in EXECUTABLE for c in self.cells) or bool(self.inlines)


@cache
def quarto_names() -> dict[str, list[str]]:
    """Names Quarto's own schema accepts (copied from Quarto 1.11's schema; see the file)."""
    data: dict[str, list[str]] = json.loads(
        (Path(__file__).parent / "quarto-names.json").read_text(encoding="utf-8")
    )
    return data


# Cell options this builder honours, with the values each accepts. Every name is a Quarto name.
_BOOL = (bool,)
SUPPORTED_OPTIONS: dict[str, tuple[type, ...] | tuple[object, ...]] = {
    "label": (str,),
    "echo": _BOOL,
    "eval": _BOOL,
    "include": _BOOL,
    "output": (bool, "asis"),
    "warning": _BOOL,
    "error": _BOOL,
    "fig-cap": (str,),
    "fig-alt": (str,),
    "tbl-cap": (str,),
    "code-fold": (bool, "show"),
    "code-summary": (str,),
    "classes": (str,),
}


def parse_qmd(text: str, path: str) -> Document:
    """Parse a whole source file (``path`` is only used in messages and for the result)."""
    lines = text.splitlines(keepends=True)
    meta, body_start = _front_matter(lines, path)
    blocks: list[Markdown | Cell] = []
    pending: list[str] = []
    pending_line = body_start + 1
    i = body_start
    while i < len(lines):
        match = _FENCE.match(lines[i].rstrip("\n"))
        if not match:
            pending.append(lines[i])
            i += 1
            continue
        fence = match["fence"]
        end = _closing_fence(lines, i + 1, fence)
        if end is None:
            raise BuildError(f"code fence '{fence}' is never closed", path, i + 1)
        info = _CELL_INFO.match(match["info"])
        if info and info["lang"] in EXECUTABLE | DIAGRAMS:
            if pending:
                blocks.append(_markdown("".join(pending), pending_line, path))
            blocks.append(_cell(lines[i + 1 : end], info["lang"], path, i + 1))
            pending = []
            pending_line = end + 2
        elif info:
            raise BuildError(
                f"code cell language '{info['lang']}' cannot be executed here "
                f"(supported: {', '.join(sorted(EXECUTABLE | DIAGRAMS))})",
                path,
                i + 1,
            )
        else:
            pending.extend(lines[i : end + 1])
        i = end + 1
    if pending:
        blocks.append(_markdown("".join(pending), pending_line, path))
    _check_labels(blocks, path)
    return Document(path=path, meta=meta, blocks=tuple(blocks), text=text)


def read_qmd(root: Path, path: str) -> Document:
    file = root / path
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BuildError("file not found", path) from None
    except UnicodeDecodeError as exc:
        raise BuildError(f"not valid UTF-8 ({exc.reason})", path) from None
    return parse_qmd(text, path)


def _front_matter(lines: list[str], path: str) -> tuple[dict[str, Any], int]:
    """Return (metadata, index of the first body line)."""
    if not lines or lines[0].rstrip() != "---":
        return {}, 0
    for end in range(1, len(lines)):
        if lines[end].rstrip() in {"---", "..."}:
            meta = load_yaml_mapping("".join(lines[1:end]), path, first_line=2)
            return meta, end + 1
    raise BuildError("front matter starts with '---' but is never closed", path, 1)


def _markdown(text: str, first_line: int, path: str) -> Markdown:
    """A Markdown run with its inline expressions (none inside ordinary fenced blocks)."""
    inlines: list[Inline] = []
    offset = 0
    fence: str | None = None
    for number, line in enumerate(text.splitlines(keepends=True), start=first_line):
        if match := _FENCE.match(line.rstrip("\n")):
            if fence is None:
                fence = match["fence"]
            elif (
                match["fence"][0] == fence[0]
                and len(match["fence"]) >= len(fence)
                and not match["info"]
            ):
                fence = None
        elif fence is None:
            for start, end, content in _code_spans(line):
                if not (found := _INLINE.match(content)):
                    continue
                if found["lang"] not in EXECUTABLE:
                    raise BuildError(
                        f"inline code language '{found['lang']}' cannot be executed here "
                        f"(supported: {', '.join(sorted(EXECUTABLE))})",
                        path,
                        number,
                    )
                inlines.append(Inline(found["code"], number, offset + start, offset + end))
        offset += len(line)
    return Markdown(text, first_line, tuple(inlines))


def _code_spans(line: str) -> list[tuple[int, int, str]]:
    """Single-backtick code spans of one line as (start, end, content), as CommonMark pairs
    them: a run of n backticks is closed by the next run of exactly n."""
    spans: list[tuple[int, int, str]] = []
    runs = list(_TICKS.finditer(line))
    i = 0
    while i < len(runs):
        opening = runs[i]
        closing = next(
            (j for j in range(i + 1, len(runs)) if len(runs[j][0]) == len(opening[0])), None
        )
        if closing is None:
            i += 1
            continue
        if len(opening[0]) == 1:
            spans.append(
                (opening.start(), runs[closing].end(), line[opening.end() : runs[closing].start()])
            )
        i = closing + 1
    return spans


def _closing_fence(lines: list[str], start: int, fence: str) -> int | None:
    char, length = fence[0], len(fence)
    for j in range(start, len(lines)):
        stripped = lines[j].strip()
        if stripped and set(stripped) == {char} and len(stripped) >= length:
            return j
    return None


def _cell(body: list[str], language: str, path: str, fence_line: int) -> Cell:
    option_lines: list[str] = []
    prefix = OPTION_PREFIX[language]
    for line in body:
        if line.startswith(prefix):
            option_lines.append(line[len(prefix) :].removeprefix(" "))
        else:
            break
    options = load_yaml_mapping("".join(option_lines), path, first_line=fence_line + 1)
    _check_options(options, option_lines, path, fence_line)
    source = "".join(body[len(option_lines) :]).rstrip("\n")
    return Cell(
        source=source,
        options=options,
        line=fence_line,
        code_line=fence_line + 1 + len(option_lines),
        language=language,
    )


def _check_options(options: dict[str, Any], raw: list[str], path: str, fence_line: int) -> None:
    known = set(quarto_names()["cell_options_jupyter"])
    for name, value in options.items():
        own = re.compile(rf"{re.escape(str(name))}\s*:")
        line = fence_line + 1 + next((k for k, r in enumerate(raw) if own.match(r)), 0)
        if name not in known:
            raise BuildError(f"unknown cell option '{name}' (not a Quarto cell option)", path, line)
        allowed = SUPPORTED_OPTIONS.get(name)
        if allowed is None:
            supported = ", ".join(sorted(SUPPORTED_OPTIONS))
            raise BuildError(
                f"cell option '{name}' is valid Quarto but not supported by this builder "
                f"(supported: {supported})",
                path,
                line,
            )
        if not _accepts(allowed, value):
            raise BuildError(f"cell option '{name}' has invalid value {value!r}", path, line)
    label = options.get("label")
    if label is not None and not _LABEL.match(str(label)):
        raise BuildError(f"invalid cell label {label!r}", path, fence_line + 1)
    if str(label or "").startswith("fig-") and "fig-cap" not in options:
        raise BuildError(f"figure cell '{label}' needs a fig-cap", path, fence_line)
    if str(label or "").startswith("tbl-") and "tbl-cap" not in options:
        raise BuildError(f"table cell '{label}' needs a tbl-cap", path, fence_line)


def _accepts(allowed: tuple[object, ...], value: object) -> bool:
    for kind in allowed:
        if isinstance(kind, type):
            # bool is a subclass of int, and a str option must not accept a bool.
            if isinstance(value, kind) and not (kind is str and isinstance(value, bool)):
                return True
        elif value == kind:
            return True
    return False


def _check_labels(blocks: list[Markdown | Cell], path: str) -> None:
    seen: dict[str, int] = {}
    for block in blocks:
        if isinstance(block, Cell) and block.label:
            if block.label in seen:
                raise BuildError(
                    f"duplicate label '{block.label}' (first used at line {seen[block.label]})",
                    path,
                    block.line,
                )
            seen[block.label] = block.line
