"""Quarto's ``{dot}`` cells: drawn by Graphviz at build time, in every format, cached."""

from __future__ import annotations

import json
import zipfile

import pytest

from bookbuild.errors import BuildError
from bookbuild.progress import TRACE

from .conftest import MakeBook, quiet_build

CHAPTER = """\
# Flow

See @fig-flow.

```{dot}
//| label: fig-flow
//| fig-cap: "Tokens flow through the model."
//| fig-alt: "Three boxes in a row: tokens, model, logits, joined by arrows."
digraph { rankdir=LR; tokens -> model -> logits }
```

```{python}
print("a python cell still runs")
```
"""


def test_a_dot_cell_becomes_a_numbered_figure_in_every_format(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n", "chapters/flow.qmd": CHAPTER})
    quiet_build(root, formats=("html", "ipynb", "typst", "epub"))
    site = root / "_book"
    page = (site / "chapters" / "flow.html").read_text()
    assert 'class="quarto-xref">Figure\u00a01.1</a>' in page
    assert "Figure\u00a01.1: Tokens flow through the model." in page
    assert 'alt="Three boxes in a row' in page
    assert "digraph" not in page  # a diagram's source is hidden unless echo: true
    svg = (site / "chapters" / "flow_files" / "figure-html" / "fig-flow-1.svg").read_text()
    assert ">tokens</text>" in svg
    assert ">logits</text>" in svg
    assert "a python cell still runs" in page
    notebook = json.loads((site / "chapters" / "flow.ipynb").read_text())
    kinds = [(c["cell_type"], "".join(c["source"])[:25]) for c in notebook["cells"]]
    assert ("markdown", "![Tokens flow through the") in kinds
    with zipfile.ZipFile(site / "tiny.epub") as epub:
        svgs = [epub.read(n).decode() for n in epub.namelist() if n.endswith(".svg")]
    assert any(">tokens</text>" in text for text in svgs)
    assert (site / "tiny.pdf").stat().st_size > 0


def test_an_unchanged_diagram_is_not_drawn_again(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n", "chapters/flow.qmd": CHAPTER})
    quiet_build(root)
    assert [e for e, _, _ in TRACE.calls].count("graphviz") == 1
    quiet_build(root)
    assert [e for e, _, _ in TRACE.calls].count("graphviz") == 0


def test_echo_true_shows_the_dot_source(make_book: MakeBook) -> None:
    shown = CHAPTER.replace('//| fig-cap: "Tokens', '//| echo: true\n//| fig-cap: "Tokens')
    root = make_book({"index.qmd": "# Home\n", "chapters/flow.qmd": shown})
    quiet_build(root)
    page = (root / "_book" / "chapters" / "flow.html").read_text()
    assert 'class="sourceCode dot cell-code"' in page
    assert "rankdir" in page


def test_a_graphviz_error_names_the_line(make_book: MakeBook) -> None:
    broken = CHAPTER.replace("digraph { rankdir=LR; tokens -> model -> logits }",
                             "digraph {\n  a -> b\n  c -> -> d\n}")  # fmt: skip
    root = make_book({"index.qmd": "# Home\n", "chapters/flow.qmd": broken})
    with pytest.raises(BuildError) as caught:
        quiet_build(root)
    assert caught.value.location == "chapters/flow.qmd:11"
    assert "Graphviz could not draw it" in caught.value.message


def test_dot_options_use_quartos_comment_prefix(make_book: MakeBook) -> None:
    wrong = CHAPTER.replace("//| fig-alt", "//| fig-altt")
    root = make_book({"index.qmd": "# Home\n", "chapters/flow.qmd": wrong})
    with pytest.raises(BuildError, match="unknown cell option 'fig-altt'") as caught:
        quiet_build(root)
    assert caught.value.location == "chapters/flow.qmd:8"


def test_a_diagram_with_no_alt_text_is_an_error(make_book: MakeBook) -> None:
    bare = CHAPTER.replace(
        '//| fig-alt: "Three boxes in a row: tokens, model, logits, joined by arrows."\n', ""
    )
    root = make_book({"index.qmd": "# Home\n", "chapters/flow.qmd": bare})
    with pytest.raises(BuildError, match="lacks fig-alt"):
        quiet_build(root)
