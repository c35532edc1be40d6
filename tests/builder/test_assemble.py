"""From executed cells to Markdown: what each cell option does to the page."""

from __future__ import annotations

from typing import Any

import pytest

from bookbuild.assemble import assemble, fence_for
from bookbuild.errors import BuildError
from bookbuild.execute import ExecutedChapter
from bookbuild.qmd import parse_qmd

SVG = '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg></svg>'


def stdout(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def stderr(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stderr", "text": text}


def display(data: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": {}}


def ran(outputs: list[list[dict[str, Any]]], inline: list[str] | None = None) -> ExecutedChapter:
    """What executing a document produced: per-cell outputs and inline values."""
    return ExecutedChapter(outputs, inline or [], [], [], [])


def one_cell(options: str, outputs: list[dict[str, Any]], code: str = "x = 1") -> str:
    doc = parse_qmd(f"```{{python}}\n{options}{code}\n```\n", "ch/a.qmd")
    return assemble(doc, ran([outputs])).markdown


def test_default_cell_shows_code_and_output() -> None:
    md = one_cell("", [stdout("hello\n")])
    assert "``` {.python .cell-code}\nx = 1\n```" in md
    assert "::: {.cell-output .cell-output-stdout}" in md
    assert "hello" in md


def test_echo_false_hides_code_only() -> None:
    md = one_cell("#| echo: false\n", [stdout("hello\n")])
    assert "x = 1" not in md
    assert "hello" in md


def test_output_false_hides_outputs_only() -> None:
    md = one_cell("#| output: false\n", [stdout("hello\n")])
    assert "x = 1" in md
    assert "hello" not in md


def test_include_false_hides_everything() -> None:
    assert one_cell("#| include: false\n", [stdout("hello\n")]).strip() == ""


def test_output_asis_splices_markdown() -> None:
    md = one_cell("#| output: asis\n#| echo: false\n", [stdout("## A real heading\n")])
    assert "\n## A real heading\n" in md
    assert ".cell-output" not in md


def test_warning_false_drops_stderr() -> None:
    md = one_cell("#| warning: false\n", [stderr("UserWarning: noisy\n"), stdout("ok\n")])
    assert "noisy" not in md
    assert "ok" in md
    assert "noisy" in one_cell("", [stderr("UserWarning: noisy\n")])


def test_code_fold_wraps_code_with_summary() -> None:
    md = one_cell('#| code-fold: true\n#| code-summary: "Show it"\n', [])
    assert '::: {.code-fold summary="Show it"}' in md
    md_show = one_cell("#| code-fold: show\n", [])
    assert 'summary="Code" open="true"' in md_show


def test_error_output_is_shown_without_ansi() -> None:
    error = {
        "output_type": "error",
        "ename": "E",
        "evalue": "v",
        "traceback": ["\x1b[31mE: v\x1b[0m"],
    }
    md = one_cell("#| error: true\n", [error])
    assert ".cell-output-error" in md
    assert "E: v" in md
    assert "\x1b" not in md


def test_figure_cell_becomes_numbered_figure_with_alt_text() -> None:
    doc = parse_qmd(
        '```{python}\n#| label: fig-x\n#| fig-cap: "Cap"\n#| fig-alt: "Alt \\"q\\""\nplot()\n```\n',
        "chapters/a.qmd",
    )
    result = assemble(doc, ran([[display({"image/svg+xml": SVG, "text/plain": "<Figure>"})]]))
    path = "chapters/a_files/figure-html/fig-x-1.svg"
    assert f'![Cap]({path}){{#fig-x fig-alt="Alt \\"q\\""}}' in result.markdown
    assert result.figures[path] == b"<svg></svg>"  # declaration and DOCTYPE stripped


def test_figure_cell_must_make_exactly_one_figure() -> None:
    doc = parse_qmd(
        '```{python}\n#| label: fig-x\n#| fig-cap: "Cap"\n#| fig-alt: "Alt"\nx\n```\n', "a.qmd"
    )
    with pytest.raises(BuildError, match="exactly one figure, produced 0"):
        assemble(doc, ran([[stdout("no plot")]]))


def test_unlabelled_figure_without_caption_is_an_error() -> None:
    doc = parse_qmd("```{python}\nplot()\n```\n", "a.qmd")
    with pytest.raises(BuildError, match="lacks fig-cap"):
        assemble(doc, ran([[display({"image/png": "iVBORw0KGgo="})]]))


def test_table_cell_is_wrapped_with_its_caption() -> None:
    doc = parse_qmd(
        '```{python}\n#| label: tbl-t\n#| tbl-cap: "Rows"\n#| output: asis\nprint(t)\n```\n',
        "a.qmd",
    )
    md = assemble(doc, ran([[stdout("| a |\n|---|\n| 1 |\n")]])).markdown
    assert '::: {#tbl-t tbl-cap="Rows"}' in md
    assert "| 1 |" in md


def test_rich_outputs_prefer_markdown_then_html_with_fallback() -> None:
    md = one_cell("", [display({"text/markdown": "**bold**", "text/html": "<b>bold</b>"})])
    assert "**bold**" in md
    assert "<b>" not in md
    html = one_cell("", [display({"text/html": "<b>b</b>", "text/plain": "b"})])
    assert "``` {=html}\n<b>b</b>\n```" in html
    assert '.content-hidden when-format="html"' in html


def test_front_matter_title_becomes_heading_when_missing() -> None:
    doc = parse_qmd('---\ntitle: "From YAML"\n---\n\nText.\n', "a.qmd")
    assert "# From YAML" in assemble(doc, ran([])).markdown


@pytest.mark.parametrize(
    ("text", "fence"), [("plain", "```"), ("a ``` b", "````"), ("`````", "``````")]
)
def test_fence_is_longer_than_any_backtick_run(text: str, fence: str) -> None:
    assert fence_for(text) == fence


def test_svg_glyph_paths_without_data_get_an_empty_d() -> None:
    from bookbuild.assemble import _clean_svg

    svg = '<svg><path id="DejaVuSans-20" transform="scale(0.015625)"/><path d="M 0 0"/></svg>'
    assert _clean_svg(svg) == (
        '<svg><path d="" id="DejaVuSans-20" transform="scale(0.015625)"/><path d="M 0 0"/></svg>'
    )


def test_split_stream_outputs_are_joined_before_rendering() -> None:
    md = one_cell(
        "#| output: asis\n",
        [stdout("| a |\n"), stdout("|---|\n"), stderr("w\n"), stdout("| 1 |\n")],
    )
    assert "| a |\n|---|\n" in md
    assert md.count("| 1 |") == 1


def test_inline_values_replace_the_expressions() -> None:
    doc = parse_qmd("A `{python} n` and `{python} f'{x:.1f}'` here.\n\n```{python}\nn = 2\n```\n"
                    "Then `{python} n * 2`.\n", "ch/a.qmd")  # fmt: skip
    md = assemble(doc, ran([[]], ["2", "1.5", "**4**"])).markdown
    assert md.startswith("A 2 and 1.5 here.")
    assert "Then **4**." in md
    assert "{python}" not in md
