"""Slide decks without a browser: front matter, execution errors, and the HTML pandoc writes.

The decks' behaviour in a real browser (navigation, notes, PDF handouts, accessibility) is
tested in ``tests/browser/test_slides.py``, and the book's own decks in ``tests/book/``
(``test_sources_slides.py``, ``test_outputs_slides.py``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bookbuild import toolchain
from bookbuild.errors import BuildError
from bookbuild.execute import execute_document
from bookbuild.formats import slides
from bookbuild.qmd import parse_qmd, read_qmd

from .conftest import MakeBook, deck_context, kernel_settings, quiet_build, write_book

DECK = """\
---
title: "Demo deck"
subtitle: "Every slide feature"
author: "The builder's tests"
date: "2026-11-29"
format: revealjs
slide-number: true
footer: "Demo footer"
---

# A section

## Bullets and a pause

- one
- two

. . .

After the pause, $E = mc^2$ and

$$
\\operatorname{softmax}(x)_i = \\frac{e^{x_i}}{\\sum_j e^{x_j}}
$$

::: notes
Note for the pause slide.
:::

## Columns and code

:::: columns
::: {.column width="40%"}
Left column.
:::
::: {.column width="60%"}
```python
def add_one(x: int) -> int:
    return x + 1
```
:::
::::

::: notes
Note for the columns slide.
:::

## A figure

```{python}
#| label: fig-line
#| echo: false
#| fig-cap: "A straight line."
#| fig-alt: "A line rising from left to right."
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
plt.show()
```

See @fig-line.

::: notes
Note for the figure slide.
:::

## Incremental and a callout

::: incremental
- first
- second
:::

::: {.callout-tip title="In the interview"}
Say it in one minute.
:::

::: notes
Note for the callout slide.
:::
"""

NOTES = [
    "Note for the pause slide.",
    "Note for the columns slide.",
    "Note for the figure slide.",
    "Note for the callout slide.",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A tiny book with the demo deck, rendered to HTML (executed, not printed: no browser)."""
    base = tmp_path_factory.mktemp("slides")
    root = write_book(
        base / "book", {"index.qmd": "# Home\n", "slides/demo.qmd": DECK}, ["index.qmd"]
    )
    return root, render(root, "slides/demo.qmd", base / "work")


def render(root: Path, path: str, work: Path) -> str:
    doc = read_qmd(root, path)
    executed = execute_document(doc, root, kernel_settings(work / "state"))
    ctx = deck_context(root, [doc], {doc.path: executed}, work)
    return slides.render_deck(ctx, doc).decode("utf-8")


def test_a_failing_cell_fails_the_build_naming_the_deck_line(make_book: MakeBook) -> None:
    deck = "---\ntitle: X\nformat: revealjs\n---\n\n## One\n\n```{python}\nx = 1\n1 / 0\n```\n"
    root = make_book({"index.qmd": "# Home\n", "slides/x.qmd": deck}, ["index.qmd"])
    with pytest.raises(BuildError) as caught:
        quiet_build(root, formats=("revealjs",))
    assert caught.value.location == "slides/x.qmd:10"
    assert "ZeroDivisionError" in caught.value.detail


def test_the_deck_is_one_self_contained_file(demo: tuple[Path, str]) -> None:
    _, html = demo
    for match in re.finditer(r"<(?:script|link|img|source)\b[^>]*>", html):
        tag = match.group(0)
        assert not re.search(r'(?:src|href)="(?:https?:)?//', tag), tag
    assert "<link" not in html  # every stylesheet is inlined
    assert '<script src="' not in html  # and every script
    assert 'const K="5.2.1"' in html  # reveal.js 5.2.1 itself, inlined
    assert "Reveal.initialize(" in html
    assert "@import" not in html
    assert re.search(r'data-src="data:image/svg\+xml;base64,', html)  # the figure, embedded


def test_notes_are_present_but_only_inside_asides(demo: tuple[Path, str]) -> None:
    _, html = demo
    asides = re.findall(r'<aside class="notes">(.*?)</aside>', html, re.DOTALL)
    for note in NOTES:
        assert html.count(note) == 1, note
        assert any(note in aside for aside in asides), note


def test_notes_sit_outside_pauses(demo: tuple[Path, str]) -> None:
    """A presenter needs a slide's notes from its first fragment, not after the pause."""
    _, html = demo
    slide = html[html.index('id="bullets-and-a-pause"') :]
    slide = slide[: slide.index("</section>")]
    assert slide.index('<aside class="notes">') < slide.index('class="fragment"')


def test_math_is_mathml_without_javascript(demo: tuple[Path, str]) -> None:
    _, html = demo
    assert '<math display="block"' in html
    assert '<math display="inline"' in html
    assert "mathjax" not in html.lower()
    assert "katex" not in html.lower()


def test_viewport_allows_zooming(demo: tuple[Path, str]) -> None:
    _, html = demo
    viewport = re.findall(r'<meta name="viewport" content="([^"]*)"', html)
    assert viewport == ["width=device-width, initial-scale=1"]


def test_title_slide_sections_columns_code_and_callouts(demo: tuple[Path, str]) -> None:
    _, html = demo
    assert '<section id="title-slide" class="deck-title center">' in html
    assert '<p class="subtitle">Every slide feature</p>' in html
    assert 'class="title-slide slide level1 center"' in html  # `#` makes a section slide
    assert '<div class="column" style="width:40%;">' in html
    assert '<span class="kw">def</span>' in html  # highlighted at build time
    assert 'class="callout callout-tip"' in html
    assert '<li class="fragment">first</li>' in html
    assert '<div class="deck-footer">Demo footer</div>' in html
    assert '"slideNumber": "c/t"' in html


def test_cross_references_inside_a_deck_resolve(demo: tuple[Path, str]) -> None:
    _, html = demo
    assert '<a href="#fig-line" class="quarto-xref">Figure\u00a01</a>' in html
    assert re.search(r'<figure id="fig-line"', html)


def test_rendering_is_deterministic(demo: tuple[Path, str], tmp_path: Path) -> None:
    root, html = demo
    assert render(root, "slides/demo.qmd", tmp_path) == html


def test_unknown_cross_reference_and_citations_name_the_line(tmp_path: Path) -> None:
    deck = "---\ntitle: X\nformat: revealjs\n---\n\n## One\n\nSee @fig-missing.\n"
    root = write_book(tmp_path / "a", {"index.qmd": "# H\n", "slides/x.qmd": deck}, ["index.qmd"])
    with pytest.raises(BuildError, match="unknown cross-reference '@fig-missing'") as caught:
        render(root, "slides/x.qmd", tmp_path / "w1")
    assert caught.value.location == "slides/x.qmd:8"
    deck = "---\ntitle: X\nformat: revealjs\n---\n\n## One\n\nAs shown [@vaswani2017].\n"
    root = write_book(tmp_path / "b", {"index.qmd": "# H\n", "slides/x.qmd": deck}, ["index.qmd"])
    with pytest.raises(BuildError, match="decks do not cite") as caught:
        render(root, "slides/x.qmd", tmp_path / "w2")
    assert caught.value.location == "slides/x.qmd:8"


@pytest.mark.parametrize(
    ("front", "message", "line"),
    [
        ("title: X\nformat: html\n", "needs `format: revealjs`", 3),
        ("title: X\nformat: revealjs\nslideNumber: true\n", "unknown front-matter key", 4),
        ("title: X\nformat: revealjs\ntheme: moon\n", "decks here do not support it", 4),
        ("format: revealjs\n", "needs a `title`", 1),
    ],
)
def test_front_matter_must_be_supported_quarto_options(front: str, message: str, line: int) -> None:
    doc = parse_qmd(f"---\n{front}---\n\n## A\n", "slides/x.qmd")
    with pytest.raises(BuildError, match=message) as caught:
        slides.deck_options(doc)
    assert caught.value.line == line


def test_options_under_format_revealjs_win_and_translate_to_reveal() -> None:
    doc = parse_qmd(
        "---\ntitle: X\nslide-number: false\nformat:\n  revealjs:\n    slide-number: true\n"
        "    transition: fade\n---\n",
        "slides/x.qmd",
    )
    config = slides.reveal_config(slides.deck_options(doc))
    assert config["slideNumber"] == "c/t"
    assert config["transition"] == "fade"
    assert config["pdfSeparateFragments"] is False  # one handout page per slide
    assert config["pdfMaxPagesPerSlide"] == 1
    assert (config["width"], config["height"]) == (1050, 700)


def test_missing_chromium_is_a_clear_build_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(toolchain, "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(BuildError, match="install the Debian package chromium"):
        toolchain.chromium_path()


def test_pdf_dates_are_fixed_without_moving_bytes() -> None:
    pdf = b"<< /CreationDate (D:20261129101500+01'00') /ModDate(D:20261129101501Z) >>"
    fixed = slides.fixed_dates(pdf)
    assert fixed == b"<< /CreationDate (D:19700101000000+00'00') /ModDate(D:19700101000000Z) >>"
    assert len(fixed) == len(pdf)
