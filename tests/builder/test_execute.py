"""Executing chapters in a real Jupyter kernel: outputs, failures and timeouts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bookbuild.errors import BuildError
from bookbuild.execute import apply_environment, execute_document, kernel_environment
from bookbuild.qmd import read_qmd

from .conftest import MakeBook, quiet_build


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path) -> None:
    apply_environment(kernel_environment(tmp_path / "state"))


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
    result = execute_document(read_qmd(root, "index.qmd"), root, timeout=60)
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
    result = execute_document(read_qmd(root, "chapters/c.qmd"), root, timeout=60)
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
        execute_document(read_qmd(root, "chapters/broken.qmd"), root, timeout=60)
    error = caught.value
    assert error.file == "chapters/broken.qmd"
    assert error.line == 6  # the line of `b = a / 0` in the .qmd
    assert error.message == "cell 'compute' failed"
    assert "     6 | b = a / 0" in error.detail
    assert "ZeroDivisionError" in error.detail
    assert "\x1b[" not in error.detail


def test_error_true_lets_a_cell_fail(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# H\n\n```{python}\n#| error: true\n1/0\n```\n"})
    result = execute_document(read_qmd(root, "index.qmd"), root, timeout=60)
    assert result.outputs[0][0]["output_type"] == "error"
    assert result.outputs[0][0]["ename"] == "ZeroDivisionError"


def test_cell_past_the_timeout_is_stopped(make_book: MakeBook) -> None:
    root = make_book({"index.qmd": "# H\n\n```{python}\nimport time\ntime.sleep(30)\n```\n"})
    with pytest.raises(BuildError) as caught:
        execute_document(read_qmd(root, "index.qmd"), root, timeout=2)
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
    result = execute_document(read_qmd(root, "index.qmd"), root, timeout=60)
    [warning] = result.outputs[0]
    assert warning["text"].startswith("<cell>:2: UserWarning: w")
