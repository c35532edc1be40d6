"""Executing chapters in a real Jupyter kernel: outputs, failures and timeouts."""

from __future__ import annotations

import pytest

from bookbuild.errors import BuildError
from bookbuild.execute import execute_document
from bookbuild.qmd import read_qmd

from .conftest import MakeBook, kernel_settings, quiet_build


def test_cells_share_one_kernel_and_skip_eval_false(make_book: MakeBook) -> None:
    root = make_book(
        {
            "index.qmd": """\
            # Home

            ```{python}
            x = 20
            ```

            ```{python}
            #| eval: false
            x = 0
            ```

            ```{python}
            print(x + 1)
            ```
            """
        }
    )
    result = execute_document(
        read_qmd(root, "index.qmd"), root, kernel_settings(root.parent / "state", 60)
    )
    assert result.outputs[1] == []
    assert result.outputs[2] == [{"output_type": "stream", "name": "stdout", "text": "21\n"}]


def test_records_project_files_read_and_listed(make_book: MakeBook) -> None:
    root = make_book(
        {
            "data/a.txt": "hello",
            "chapters/c.qmd": """\
            # C

            ```{python}
            import os
            from pathlib import Path
            Path("../data/a.txt").read_text()
            os.listdir("../data")
            Path("../data/out.txt").write_text("written, not read")
            ```
            """,
        }
    )
    result = execute_document(
        read_qmd(root, "chapters/c.qmd"), root, kernel_settings(root.parent / "state", 60)
    )
    assert result.reads == ["data/a.txt"]
    assert result.listings == ["data"]


def test_failing_cell_names_chapter_line_cell_and_traceback(make_book: MakeBook) -> None:
    root = make_book(
        {
            "chapters/broken.qmd": """\
            # Broken

            ```{python}
            #| label: compute
            a = 1
            b = a / 0
            ```
            """
        }
    )
    with pytest.raises(BuildError) as caught:
        execute_document(
            read_qmd(root, "chapters/broken.qmd"), root, kernel_settings(root.parent / "state", 60)
        )
    error = caught.value
    assert error.file == "chapters/broken.qmd"
    assert error.line == 6  # the line of `b = a / 0` in the .qmd
    assert error.message == "cell 'compute' failed"
    assert "     6 | b = a / 0" in error.detail
    assert "ZeroDivisionError" in error.detail
    assert "\x1b[" not in error.detail


def test_error_true_lets_a_cell_fail(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# H\n\n```{python}\n#| error: true\n1/0\n```\n"})
    result = execute_document(
        read_qmd(root, "index.qmd"), root, kernel_settings(root.parent / "state", 60)
    )
    assert result.outputs[0][0]["output_type"] == "error"
    assert result.outputs[0][0]["ename"] == "ZeroDivisionError"


def test_cell_past_the_timeout_is_stopped(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# H\n\n```{python}\nimport time\ntime.sleep(30)\n```\n"})
    with pytest.raises(BuildError) as caught:
        execute_document(
            read_qmd(root, "index.qmd"), root, kernel_settings(root.parent / "state", 2)
        )
    assert caught.value.render().startswith("index.qmd:3: cell timed out after 2 s")


def test_failed_build_keeps_previous_output(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# Home\n\n```{python}\nprint('v1')\n```\n"})
    quiet_build(root)
    page = root / "_book" / "index.html"
    before = page.read_bytes()
    (root / "index.qmd").write_text("# Home\n\n```{python}\nraise RuntimeError('v2')\n```\n")
    with pytest.raises(BuildError, match="cell failed"):
        quiet_build(root)
    assert page.read_bytes() == before
    assert not list((root / ".build").glob("stage-*"))


def test_kernel_temp_file_names_are_replaced(make_book: MakeBook) -> None:
    root = make_book(
        {"index.qmd": "# H\n\n```{python}\nimport warnings\nwarnings.warn('w')\n```\n"}
    )
    result = execute_document(
        read_qmd(root, "index.qmd"), root, kernel_settings(root.parent / "state", 60)
    )
    [warning] = result.outputs[0]
    assert warning["text"].startswith("<cell>:2: UserWarning: w")


INLINE = """\
# Inline

```{python}
from IPython.display import Markdown
gib = 16 * 2**30 / 2**30
```

The cache takes `{python} f"{gib:.0f}"` GiB, `{python} Markdown("**bold**")`, and
`{python} [1, 2]`; shown literally: ``` `{python} gib` ```.

```{python}
gib = 0
```

After the cell: `{python} gib`.
"""


def test_inline_code_is_evaluated_in_document_order(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": INLINE})
    quiet_build(root)
    page = (root / "_book" / "index.html").read_text()
    assert "The cache takes 16 GiB, <strong>bold</strong>, and [1, 2];" in page
    assert "<code>`{python} gib`</code>" in page
    assert "After the cell: 0." in page


def test_a_failing_inline_expression_names_its_line(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# T\n\nFine `{python} 1`.\n\nBad `{python} 1 / 0` here.\n"})
    with pytest.raises(BuildError) as caught:
        quiet_build(root)
    assert caught.value.location == "index.qmd:5"
    assert "inline expression `1 / 0` failed" in caught.value.message
    assert "ZeroDivisionError" in caught.value.detail


def test_inline_code_in_another_language_is_an_error(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# T\n\nNot here: `{r} nrow(mpg)`.\n"})
    with pytest.raises(BuildError, match="inline code language 'r'") as caught:
        quiet_build(root)
    assert caught.value.location == "index.qmd:3"
