"""llmprep.book.show_source: the book prints the real code, without docstrings, fit for the page."""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from llmprep.book import PAGE_WIDTH, show_source, source_without_docstring
from llmprep.foundations import bpe, tiny_lm

SAMPLE = '''\
"""A module docstring."""

import functools


@functools.cache
def documented(x: int) -> int:
    """Double a number.

    Over two lines.
    """
    y = x * 2  # the body stays
    return y


def bare(x: int) -> int:
    return x


def not_a_docstring() -> str:
    label = "a string, but assigned"
    return label


def one_liner(): "the docstring shares the def line"


class Counter:
    """A class docstring."""

    def bump(self, n: int) -> int:
        """A method docstring."""
        return n + 1


def wide() -> str:
    return "{long}"
'''


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A real module on disk, so `inspect` reads its source as it reads the package's."""
    long = "x" * (PAGE_WIDTH + 1 - len('    return ""'))  # one character past the page
    (tmp_path / "show_source_sample.py").write_text(SAMPLE.replace("{long}", long))
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module("show_source_sample")


def printed(obj: Callable[..., object] | ModuleType, capsys: pytest.CaptureFixture[str]) -> str:
    show_source(obj)
    out = capsys.readouterr().out
    assert out.startswith("```python\n")
    assert out.endswith("\n```\n")
    return out.removeprefix("```python\n").removesuffix("\n```\n")


def test_prints_the_function_without_its_docstring(
    sample: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert printed(sample.documented, capsys) == textwrap.dedent("""\
        @functools.cache
        def documented(x: int) -> int:
            y = x * 2  # the body stays
            return y""")


def test_code_without_a_docstring_is_printed_whole(
    sample: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert printed(sample.bare, capsys) == "def bare(x: int) -> int:\n    return x"
    assert '"a string, but assigned"' in printed(sample.not_a_docstring, capsys)
    # a docstring on the def line cannot be cut without cutting the definition
    assert printed(sample.one_liner, capsys) == inspect.getsource(sample.one_liner).rstrip("\n")


def test_a_method_is_dedented_and_a_class_keeps_its_methods_docstrings(
    sample: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        printed(sample.Counter.bump, capsys) == "def bump(self, n: int) -> int:\n    return n + 1"
    )
    whole = printed(sample.Counter, capsys)
    assert "A class docstring" not in whole
    assert '"""A method docstring."""' in whole  # only the object's own docstring goes


def test_a_module_loses_its_docstring(sample: ModuleType) -> None:
    source = source_without_docstring(sample)
    assert "A module docstring" not in source
    assert source.startswith("\nimport functools")


def test_a_line_too_wide_for_the_page_is_an_error(
    sample: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValueError, match=r"wide: lines too wide .*> 88.*xxxx"):
        show_source(sample.wide)
    assert capsys.readouterr().out == ""  # nothing half-printed into the page
    show_source(sample.wide, width=PAGE_WIDTH + 1)  # exactly one character over
    assert "xxxx" in capsys.readouterr().out


@pytest.mark.parametrize(
    "obj", [bpe.merge, bpe.get_stats, tiny_lm.forward, tiny_lm.TinyLM.generate], ids=repr
)
def test_library_code_prints_as_valid_python_that_fits_the_page(
    obj: Callable[..., object], capsys: pytest.CaptureFixture[str]
) -> None:
    code = printed(obj, capsys)
    (node,) = ast.parse(code).body  # the definition, and only it
    assert isinstance(node, ast.FunctionDef)
    assert ast.get_docstring(node) is None
    assert inspect.getdoc(obj)  # the library's docstring exists; the listing drops it
    assert max(len(line) for line in code.splitlines()) <= PAGE_WIDTH
