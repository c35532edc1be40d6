"""Print the real source of library code in the book, so readers see the code the tests check.

A chapter that explains a function shows it with `show_source(bpe.merge)` in an
``output: asis`` cell, rather than a copy that could drift from the tested code. The
docstring is dropped (the prose around the listing says the same), and every line must fit
the printed page.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from types import ModuleType

PAGE_WIDTH = 88
"""The widest code line that fits the PDF page in the book's code font."""


def source_without_docstring(obj: Callable[..., object] | ModuleType) -> str:
    """The source of a function, method, class or module, dedented, without its docstring.

    Example:
        source_without_docstring(bpe.merge).splitlines()[0]  # 'def merge(ids, pair, idx):' ...
    """
    source = textwrap.dedent(inspect.getsource(obj))
    lines = source.splitlines()
    tree = ast.parse(source)
    owner = tree.body[0] if tree.body else None
    if isinstance(owner, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        body = owner.body
    else:
        owner, body = None, tree.body  # a module: its docstring is its first statement
    first = body[0] if body else None
    is_docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    # A docstring on the `def` line itself (`def f(): "..."`) is left alone: removing its line
    # would remove the definition too.
    if first is not None and is_docstring and (owner is None or first.lineno > owner.lineno):
        del lines[first.lineno - 1 : first.end_lineno or first.lineno]
    return "\n".join(lines)


def show_source(obj: Callable[..., object] | ModuleType, *, width: int = PAGE_WIDTH) -> None:
    """Print `obj`'s source, without its docstring, as a fenced Markdown ``python`` block.

    Use it in a cell with ``output: asis``. Raises `ValueError` naming the offending lines if
    any is wider than `width` characters, because a wider line would run off the printed page.
    """
    code = source_without_docstring(obj)
    too_long = [line for line in code.splitlines() if len(line) > width]
    if too_long:
        name = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))
        raise ValueError(f"{name}: lines too wide for the printed page (> {width}): {too_long}")
    print("```python\n" + code + "\n```")
