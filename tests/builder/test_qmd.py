"""Parsing .qmd sources: front matter, cells, options and every way they can be wrong."""

from __future__ import annotations

import pytest

from bookbuild.errors import BuildError
from bookbuild.qmd import Cell, Markdown, parse_qmd

SOURCE = """\
---
title: "A chapter"
---

# Heading

Some prose.

```{python}
#| label: fig-demo
#| fig-cap: "A demo figure."
#| fig-alt: "A line."
#| echo: false
x = 1
print(x)
```

More prose.

````markdown
```{python}
# shown, not run: nested inside a longer fence
```
````

```python
# a plain code block is text
```
"""


def test_splits_front_matter_markdown_and_cells() -> None:
    doc = parse_qmd(SOURCE, "ch.qmd")
    assert doc.meta == {"title": "A chapter"}
    assert [type(b) for b in doc.blocks] == [Markdown, Cell, Markdown]
    cell = doc.cells[0]
    assert cell.source == "x = 1\nprint(x)"
    assert cell.options == {
        "label": "fig-demo",
        "fig-cap": "A demo figure.",
        "fig-alt": "A line.",
        "echo": False,
    }
    assert cell.line == 9  # the opening fence
    assert cell.code_line == 14  # first line after the four option lines


def test_nested_and_plain_fences_are_not_cells() -> None:
    doc = parse_qmd(SOURCE, "ch.qmd")
    assert len(doc.cells) == 1
    tail = doc.blocks[-1]
    assert isinstance(tail, Markdown)
    assert "```{python}" in tail.text
    assert "a plain code block is text" in tail.text
    assert tail.line == 17


def test_markdown_keeps_its_starting_line() -> None:
    doc = parse_qmd(SOURCE, "ch.qmd")
    first = doc.blocks[0]
    assert isinstance(first, Markdown)
    assert first.line == 4
    assert first.text.startswith("\n# Heading")


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ("---\ntitle: [unclosed\n---\n", 3, "malformed YAML"),
        ("---\ntitle: x\n", 1, "never closed"),
        ("text\n\n```{python}\nx = 1\n", 3, "never closed"),
        ("```{python}\n#| label: [bad\nx = 1\n```\n", 3, "malformed YAML"),
        ("```{python}\n#| fig-captoin: x\nx = 1\n```\n", 2, "unknown cell option 'fig-captoin'"),
        ("```{python}\n#| fig-pos: h\nx = 1\n```\n", 2, "not supported by this builder"),
        ("```{python}\n#| echo: maybe\nx = 1\n```\n", 2, "invalid value 'maybe'"),
        ("```{python}\n#| output: sometimes\nx = 1\n```\n", 2, "invalid value"),
        ("```{python}\n#| fig-cap: true\nx = 1\n```\n", 2, "invalid value True"),
        ("```{python}\n#| label: 'has space'\nx = 1\n```\n", 2, "invalid cell label"),
        ("```{python}\n#| label: fig-x\n#| fig-alt: a\nx = 1\n```\n", 1, "needs a fig-cap"),
        ("```{python}\n#| label: tbl-x\nx = 1\n```\n", 1, "needs a tbl-cap"),
        ("```{r}\nx <- 1\n```\n", 1, "cannot be executed"),
        (
            "```{python}\n#| label: a\n```\n\n```{python}\n#| label: a\n```\n",
            5,
            "duplicate label 'a' (first used at line 1)",
        ),
    ],
)
def test_bad_input_names_file_and_line(source: str, line: int, message: str) -> None:
    with pytest.raises(BuildError) as caught:
        parse_qmd(source, "chapters/bad.qmd")
    error = caught.value
    assert error.file == "chapters/bad.qmd"
    assert error.line == line
    assert message in error.message
    assert error.render().startswith(f"chapters/bad.qmd:{line}: ")


def test_every_supported_option_is_a_quarto_option() -> None:
    from bookbuild.qmd import SUPPORTED_OPTIONS, quarto_names

    assert set(SUPPORTED_OPTIONS) <= set(quarto_names()["cell_options_jupyter"])


def test_output_asis_and_code_fold_show_are_accepted() -> None:
    doc = parse_qmd("```{python}\n#| output: asis\n#| code-fold: show\nprint(1)\n```\n", "a.qmd")
    assert doc.cells[0].option("output") == "asis"
    assert doc.cells[0].option("code-fold") == "show"
