"""The sources stay valid Quarto: only names Quarto's own schema accepts.

The names are the in-repository list ``tools/bookbuild/quarto-names.json``, extracted from
Quarto's schema files: anyone with the Quarto CLI must be able to ``quarto render`` this
repository. The checker is the Quarto-names check of ``tools/check_sources.py`` (the one the
pre-commit hook runs): it reads the sources itself, so a name our builder happens to tolerate is
still caught, and reports every problem as ``file:line``.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import yaml

from ..conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from check_sources import (
    NAMES_FILE,
    check_quarto_names,
    listed_chapters,
    load_names,
    qmd_sources,
)

NAMES = load_names(ROOT)
LISTS = (
    "project_top_level_keys", "project_keys", "book_keys", "document_options",
    "cell_options_jupyter", "callout_types", "crossref_prefixes",
)  # fmt: skip


def test_the_names_file_holds_every_list() -> None:
    empty = [name for name in LISTS if not NAMES.get(name)]
    assert empty == [], f"{NAMES_FILE.name} lacks or has empty lists: {empty}"


def test_the_check_covers_every_chapter_and_deck() -> None:
    found = [path.relative_to(ROOT).as_posix() for path in qmd_sources(ROOT)]
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    chapters = listed_chapters(config)
    assert "index.qmd" in chapters
    assert [path for path in chapters if not (ROOT / path).is_file()] == []
    assert set(chapters) <= set(found)
    assert [path for path in found if path.startswith("slides/")], "the book has no decks"


def test_config_front_matter_and_cell_options_are_quarto_names() -> None:
    problems = check_quarto_names(ROOT, NAMES)
    assert problems == [], "\n".join(map(str, problems))


BAD_CONFIG = """\
project:
  type: book
  output-folder: _book
book:
  title: "Tiny"
  chapter-list: []
  chapters:
    - index.qmd
    - part: "One"
      chapters:
        - chapters/one.qmd
        - chapters/gone.qmd
colour: blue
format:
  html:
    toc: true
    table-of-contents-depth: 2
"""

BAD_INDEX = """\
---
title: "Home"
titel: "a typo"
format:
  revealjs:
    slide-numbers: true
---

# Home

```{python}
#| echo: false
#| fig-captoin: "misspelt"
print(1)
```

````markdown
```{python}
#| shown-not-run: true
```
````

::: {.callout-tipp}
Text.
:::

See @figure-one and @fig-one.
"""

BAD_CHAPTER = """\
# One

```{python}
#| label: [unclosed
x = 1
```
"""


def test_the_check_reports_each_bad_name_with_file_and_line(tmp_path: Path) -> None:
    for name, text in {
        "_quarto.yml": BAD_CONFIG, "index.qmd": BAD_INDEX, "chapters/one.qmd": BAD_CHAPTER,
    }.items():  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp_path / "slides").mkdir()
    (tmp_path / "slides" / "open.qmd").write_text("---\ntitle: Open\n\n# Slide\n", "utf-8")
    found = [str(p) for p in check_quarto_names(tmp_path, NAMES)]
    assert found == [
        "_quarto.yml:3: project: 'output-folder' is not a Quarto key",
        "_quarto.yml:6: book: 'chapter-list' is not a Quarto key",
        "_quarto.yml:12: book: chapter 'chapters/gone.qmd' does not exist",
        "_quarto.yml:13: 'colour' is not a Quarto project key",
        "_quarto.yml:17: format html: 'table-of-contents-depth' is not a Quarto option",
        "chapters/one.qmd:4: malformed YAML: expected ',' or ']', but got '<stream end>'",
        "index.qmd:3: front matter: 'titel' is not a Quarto option",
        "index.qmd:6: format revealjs: 'slide-numbers' is not a Quarto option",
        "index.qmd:13: cell option '#| fig-captoin' is not Quarto's",
        "index.qmd:23: '.callout-tipp' is not a callout",
        "index.qmd:27: '@figure-' is not a cross-reference prefix",
        "slides/open.qmd:1: front matter is never closed (no second '---')",
    ]


def test_a_project_without_its_config_is_reported(tmp_path: Path) -> None:
    (tmp_path / "index.qmd").write_text("# Home\n", encoding="utf-8")
    assert [str(p) for p in check_quarto_names(tmp_path, NAMES)] == [
        "_quarto.yml:1: missing: every Quarto project has one"
    ]


def test_a_clean_project_has_no_problems(tmp_path: Path) -> None:
    """The other side of the test above: the same files, corrected, pass."""
    config = "project:\n  type: book\nbook:\n  title: T\n  chapters:\n    - index.qmd\n"
    index = "---\ntitle: Home\n---\n\n```{python}\n#| echo: false\nprint(1)\n```\n\n@fig-one\n"
    (tmp_path / "_quarto.yml").write_text(config, encoding="utf-8")
    (tmp_path / "index.qmd").write_text(index, encoding="utf-8")
    assert check_quarto_names(tmp_path, NAMES) == []
