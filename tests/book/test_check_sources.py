"""tools/check_sources.py: the fast source checks find each kind of mistake, at its line.

Each test writes a small, valid project into ``tmp_path``, breaks one thing on purpose and checks
that the problem is reported as ``file:line: message`` -- and that the real sources pass.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import check_sources  # noqa: E402

ANSWER = " ".join(["word"] * 70)

QUARTO_YML = """\
project:
  type: book
book:
  title: "A book"
  chapters:
    - index.qmd
    - chapters/one.qmd
bibliography: references.bib
format:
  html:
    toc: true
"""

CHAPTER = """\
---
title: "One"
---

# One {#sec-one}

Attention was introduced by @vaswani2017 and refined later [@shazeer2019; see also
@fig-plot]. Mail me at someone@example.com; `@notacitation` is code.

::: {.callout-tip title="In the interview"}
Say it in a minute.
:::

```{python}
#| label: fig-plot
#| fig-cap: "A plot."
#| fig-alt: "A line going up."
print("@alsonotacitation")
```

````markdown
```{python}
#| not-an-option: here, this cell is only shown
```
````
"""

BIB = """\
@comment{Every entry is cited.}

@article{vaswani2017,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish},
  year = {2017},
}

@misc{shazeer2019,
  title = {Fast Transformer Decoding},
  author = {Shazeer, Noam},
  year = {2019},
}
"""

QUESTIONS = f"""\
- id: what-is-attention
  topic: foundations
  level: core
  question: What is attention?
  answer: |
    {ANSWER}
  follow_ups:
    - question: Why scale by the square root of d?
      see: sec-one
  see: sec-one
"""

GLOSSARY = """\
- term: Attention
  definition: Mixing token vectors by learned relevance.
  area: Attention
  see: sec-one
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project that passes every check."""
    (tmp_path / "tools" / "bookbuild").mkdir(parents=True)
    shutil.copy(
        ROOT / "tools" / "bookbuild" / "quarto-names.json",
        tmp_path / "tools" / "bookbuild" / "quarto-names.json",
    )
    (tmp_path / "chapters" / "_data" / "questions").mkdir(parents=True)
    files = {
        "_quarto.yml": QUARTO_YML,
        "index.qmd": "# Preface {.unnumbered}\n\nHello.\n",
        "chapters/one.qmd": CHAPTER,
        "references.bib": BIB,
        "chapters/_data/questions/foundations.yml": QUESTIONS,
        "chapters/_data/glossary.yml": GLOSSARY,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def problems(root: Path) -> list[str]:
    return [str(p) for p in check_sources.run_checks(root)]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_valid_project_passes(project: Path) -> None:
    assert problems(project) == []


def test_the_real_sources_pass() -> None:
    assert problems(ROOT) == []


def test_unknown_citation_key_is_reported_at_its_line(project: Path) -> None:
    edit(project / "chapters/one.qmd", "@vaswani2017 and", "@vaswani2017 and @nobody2020 and")
    assert problems(project) == ["chapters/one.qmd:7: unknown citation key '@nobody2020'"]


def test_a_braced_key_and_a_key_before_a_full_stop_are_citations(project: Path) -> None:
    edit(project / "chapters/one.qmd", "Say it in a minute.", "As @{shazeer2019} said. See @x.")
    assert problems(project) == ["chapters/one.qmd:11: unknown citation key '@x'"]


def test_uncited_bibliography_entry_is_reported_at_the_entry(project: Path) -> None:
    edit(project / "chapters/one.qmd", "[@shazeer2019; see also\n@fig-plot]", "(see @fig-plot)")
    assert problems(project) == [
        "references.bib:9: bibliography entry 'shazeer2019' is never cited"
    ]


def test_citations_in_code_do_not_count(project: Path) -> None:
    edit(project / "chapters/one.qmd", "[@shazeer2019; see also\n@fig-plot]", "`@shazeer2019`")
    assert problems(project) == [
        "references.bib:9: bibliography entry 'shazeer2019' is never cited"
    ]


def test_a_citation_in_the_question_bank_counts(project: Path) -> None:
    edit(project / "chapters/one.qmd", "[@shazeer2019; see also\n@fig-plot]", "here")
    edit(
        project / "chapters/_data/questions/foundations.yml", "    word", "    [@shazeer2019] word"
    )
    assert problems(project) == []


def test_unknown_cell_option_is_reported_at_its_line(project: Path) -> None:
    edit(project / "chapters/one.qmd", "#| fig-alt:", "#| fig-alternative:")
    assert problems(project) == [
        "chapters/one.qmd:17: cell option '#| fig-alternative' is not Quarto's"
    ]


DIAGRAM = """
```{dot}
//| label: fig-flow
//| fig-cap: "Tokens flow through the model."
//| fig-alt: "Three boxes joined by arrows."
digraph { tokens -> model -> logits }
```
"""


def test_a_diagram_cell_passes_and_its_options_are_checked(project: Path) -> None:
    chapter = project / "chapters/one.qmd"
    chapter.write_text(chapter.read_text(encoding="utf-8") + DIAGRAM, encoding="utf-8")
    assert problems(project) == []
    edit(chapter, "//| fig-alt:", "//| fig-alternative:")
    assert problems(project) == [
        "chapters/one.qmd:30: cell option '//| fig-alternative' is not Quarto's"
    ]


def test_a_cell_the_builder_cannot_run_is_reported(project: Path) -> None:
    chapter = project / "chapters/one.qmd"
    chapter.write_text(
        chapter.read_text(encoding="utf-8") + "\n```{mermaid}\nflowchart LR\n  A --> B\n```\n",
        encoding="utf-8",
    )
    assert problems(project) == [
        "chapters/one.qmd:27: '{mermaid}' cells cannot be run (only dot, python)"
    ]


def test_unknown_front_matter_key_is_reported_at_its_line(project: Path) -> None:
    edit(project / "chapters/one.qmd", 'title: "One"\n', 'title: "One"\nsubtitel: "Typo"\n')
    assert problems(project) == [
        "chapters/one.qmd:3: front matter: 'subtitel' is not a Quarto option"
    ]


def test_unknown_format_option_in_front_matter(project: Path) -> None:
    edit(
        project / "chapters/one.qmd",
        'title: "One"\n',
        'title: "One"\nformat:\n  html:\n    tocc: 1\n',
    )
    assert problems(project) == ["chapters/one.qmd:5: format html: 'tocc' is not a Quarto option"]


def test_malformed_front_matter(project: Path) -> None:
    edit(project / "chapters/one.qmd", 'title: "One"\n', 'title: "One"\nlang: [en\n')
    [problem] = problems(project)
    assert problem.startswith("chapters/one.qmd:")
    assert "malformed YAML" in problem


def test_unknown_book_key_in_quarto_yml(project: Path) -> None:
    edit(project / "_quarto.yml", '  title: "A book"\n', '  title: "A book"\n  repo-link: x\n')
    assert problems(project) == ["_quarto.yml:5: book: 'repo-link' is not a Quarto key"]


def test_unknown_format_option_in_quarto_yml(project: Path) -> None:
    edit(project / "_quarto.yml", "    toc: true\n", "    toc: true\n    code-copyy: true\n")
    assert problems(project) == ["_quarto.yml:12: format html: 'code-copyy' is not a Quarto option"]


def test_unknown_callout_type(project: Path) -> None:
    edit(project / "chapters/one.qmd", ".callout-tip", ".callout-hint")
    assert problems(project) == ["chapters/one.qmd:10: '.callout-hint' is not a callout"]


def test_malformed_question_is_reported_by_the_loader(project: Path) -> None:
    edit(project / "chapters/_data/questions/foundations.yml", "level: core", "level: expert")
    [problem] = problems(project)
    assert problem.startswith("chapters/_data/questions/foundations.yml:1: level 'expert'")


def test_question_pointing_at_a_missing_section(project: Path) -> None:
    # The first `see:` is the follow-up's.
    edit(project / "chapters/_data/questions/foundations.yml", "see: sec-one", "see: sec-two")
    assert problems(project) == [
        "chapters/_data/questions/foundations.yml:9: see 'sec-two': no such section in the book"
    ]


def test_the_question_own_section_is_checked_too(project: Path) -> None:
    edit(project / "chapters/_data/questions/foundations.yml", "\n  see: sec-one", "\n  see: sec-x")
    assert problems(project) == [
        "chapters/_data/questions/foundations.yml:10: see 'sec-x': no such section in the book"
    ]


def test_a_follow_up_without_its_section_is_reported_by_the_loader(project: Path) -> None:
    edit(
        project / "chapters/_data/questions/foundations.yml",
        "    - question: Why scale by the square root of d?\n      see: sec-one\n",
        "    - Why scale by the square root of d?\n",
    )
    [problem] = problems(project)
    assert problem.startswith("chapters/_data/questions/foundations.yml:8: follow-up 1: ")
    assert "bare string" in problem


def test_glossary_with_a_duplicate_term(project: Path) -> None:
    glossary = project / "chapters/_data/glossary.yml"
    glossary.write_text(GLOSSARY + GLOSSARY, encoding="utf-8")
    [problem] = problems(project)
    assert problem.startswith("chapters/_data/glossary.yml:5: ")
    assert "already defined at line 1" in problem


def test_cli_prints_file_line_and_exits_1(project: Path) -> None:
    edit(project / "chapters/one.qmd", "@vaswani2017 and", "@vaswani2071 and")
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_sources.py"), "--root", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "chapters/one.qmd:7: unknown citation key '@vaswani2071'" in result.stderr
    assert "references.bib:3: bibliography entry 'vaswani2017' is never cited" in result.stderr


def test_cli_passes_on_the_real_sources() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_sources.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
