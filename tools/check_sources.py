"""The fast source checks: what can be wrong in the sources, found in a second, without a build.

Run it before you commit (the pre-commit hook does)::

    .venv/bin/python tools/check_sources.py

It checks, and reports each problem as ``file:line: message`` (exit status 1 when there is any):

* **data files**: the question bank (``chapters/_data/questions/*.yml``) and the glossary
  (``chapters/_data/glossary.yml``) load with the book's own loader, which validates every
  field, and every ``see:`` names a ``{#sec-…}`` section that exists;
* **Quarto names**: ``_quarto.yml``, every ``.qmd`` file's front matter and every cell option
  (``#|`` in a Python cell, ``//|`` in a Graphviz ``{dot}`` diagram) use only names in
  ``tools/bookbuild/quarto-names.json`` (Quarto's own schema): the top-level, ``project:`` and
  ``book:`` keys of ``_quarto.yml`` and the options under each ``format:`` (there and in front
  matter); every callout is one of Quarto's callout types, every cross-reference prefix
  (``@fig-…``) one of Quarto's, every cell one the builder can run or draw, every chapter
  ``_quarto.yml`` lists exists, and all this YAML is well formed;
* **citations**: every ``[@key]`` / ``@key`` in a ``.qmd`` file (or in a data file, whose
  Markdown the chapters render) is an entry of the bibliography, and every entry is cited.
  Cross-references (``@sec-…``, ``@fig-…``, …: the prefixes are in quarto-names.json) are not
  citations, and neither is anything inside code.

The full build makes all of these checks too, and more; this one exists so that a typo costs a
second, not a build.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmprep.book.bank import BankError, load_glossary, load_question_bank

ROOT = Path(__file__).resolve().parents[1]
NAMES_FILE = Path("tools") / "bookbuild" / "quarto-names.json"

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>.*?)\s*$")
_CELL = re.compile(r"^\{(?P<lang>[A-Za-z0-9_+-]+)[^{}]*\}$")
_SECTION_LABEL = re.compile(r"\{#(sec-[A-Za-z0-9_-]+)")
_CALLOUT = re.compile(r"\.callout-([A-Za-z]+)")
_CROSSREF = re.compile(r"(?<![\w@])-?@([a-z]+)-[\w-]+")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
# A citation key, as pandoc reads it: starts with a letter, digit or _, and may hold internal
# punctuation (:.#$%&-+?<>~/) followed by a letter or digit. Not after a letter, a digit or a
# backslash (an e-mail address, an escaped @). Or the braced form @{key}.
_CITATION = re.compile(
    r"(?<![\w\\])@(?:\{(?P<braced>[^{}\s]+)\}"
    r"|(?P<key>[A-Za-z0-9_](?:[A-Za-z0-9_]|[:.#$%&+?<>~/-](?=[A-Za-z0-9_]))*))"
)
_BIB_ENTRY = re.compile(r"^\s*@(?P<type>[A-Za-z]+)\s*[{(]\s*(?P<key>[^,\s]+)\s*,", re.MULTILINE)
_BIB_NOT_ENTRIES = {"comment", "string", "preamble"}
# Quarto's option comment per cell language, for the cells the builder runs or draws.
OPTION_PREFIX = {"python": "#|", "dot": "//|"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a source file; ``line`` is 1-based."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


# -- helpers ---------------------------------------------------------------------------------


def _rel(root: Path, path: Path | str) -> str:
    path = Path(path)
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based line of the first ``needle`` in ``text`` (1 when absent)."""
    index = text.find(needle, start)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def listed_chapters(config: Any) -> list[str]:
    """The chapter files ``book.chapters`` (and ``book.appendices``) list, parts flattened."""

    def walk(items: Any) -> Iterator[str]:
        for item in items if isinstance(items, list) else []:
            if isinstance(item, str):
                yield item
            elif isinstance(item, dict):
                yield from walk(item.get("chapters"))

    book = config.get("book") if isinstance(config, dict) else None
    book = book if isinstance(book, dict) else {}
    return [*walk(book.get("chapters")), *walk(book.get("appendices"))]


def _config(root: Path) -> Any:
    """``_quarto.yml``, loaded (None when it is missing or malformed: the Quarto check says so)."""
    config = root / "_quarto.yml"
    try:
        return yaml.safe_load(config.read_text(encoding="utf-8")) if config.exists() else None
    except yaml.YAMLError:
        return None


def qmd_sources(root: Path) -> list[Path]:
    """Every Quarto source of the book and the decks (and every chapter listed), stably ordered."""
    found = {
        p
        for pattern in ("*.qmd", "chapters/**/*.qmd", "slides/**/*.qmd")
        for p in root.glob(pattern)
        if not any(part.startswith(".") or part in {"_book", "_freeze"} for part in p.parts)
    }
    found |= {root / path for path in listed_chapters(_config(root)) if (root / path).is_file()}
    return sorted(found)


def data_sources(root: Path) -> list[Path]:
    """The study-data files (their Markdown ends up in the chapters)."""
    return sorted((root / "chapters" / "_data").rglob("*.yml"))


@dataclass(frozen=True, slots=True)
class Source:
    """A ``.qmd`` split into what the checks need, every piece with its line numbers."""

    front_matter: list[tuple[int, str]]  # the front matter's lines, numbered
    front_matter_start: int  # line of the first front-matter line (after '---')
    cells: list[Cell]
    prose: list[tuple[int, str]]  # every line outside front matter and code, numbered
    unclosed_front_matter: bool = False  # a first '---' and no closing line


@dataclass(frozen=True, slots=True)
class Cell:
    """One executable cell: ```` ```{python} ```` (any ``{lang}``), not one a longer fence shows."""

    language: str
    line: int  # of the opening fence
    options: list[tuple[int, str]]  # the option lines, numbered, their prefix (``#|``) removed
    body: list[str]  # every line between the fences, options included


def split_qmd(text: str) -> Source:
    """Split a ``.qmd`` the way the builder does: a fence inside a longer fence is text."""
    lines = text.splitlines()
    front: list[tuple[int, str]] = []
    body = 0
    unclosed = False
    if lines and lines[0].rstrip() == "---":
        for end in range(1, len(lines)):
            if lines[end].rstrip() in {"---", "..."}:
                front = [(n + 1, lines[n]) for n in range(1, end)]
                body = end + 1
                break
        else:
            unclosed = True
    cells: list[Cell] = []
    prose: list[tuple[int, str]] = []
    i = body
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        fence = match["fence"]
        end = next(
            (
                j
                for j in range(i + 1, len(lines))
                if (s := lines[j].strip()) and set(s) == {fence[0]} and len(s) >= len(fence)
            ),
            len(lines),
        )
        if cell := _CELL.match(match["info"]):
            prefix = OPTION_PREFIX.get(cell["lang"], "#|")
            options: list[tuple[int, str]] = []
            for j in range(i + 1, end):
                if not lines[j].startswith(prefix):
                    break
                options.append((j + 1, lines[j][len(prefix) :].removeprefix(" ")))
            cells.append(Cell(cell["lang"], i + 1, options, lines[i + 1 : end]))
        i = end + 1
    return Source(front, 2 if front else 0, cells, prose, unclosed)


Key = tuple[str, int, yaml.Node]  # a mapping key, its line in the file, its value's node


def _yaml_keys(numbered: Sequence[tuple[int, str]], file: str) -> tuple[list[Key], list[Problem]]:
    """Top-level keys of the YAML in ``numbered`` lines, each with its line and value."""
    if not numbered:
        return [], []
    text = "\n".join(line for _, line in numbered)
    first = numbered[0][0]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = numbered[min(mark.line, len(numbered) - 1)][0] if mark else first
        return [], [Problem(file, line, f"malformed YAML: {getattr(exc, 'problem', exc)}")]
    if node is None:
        return [], []
    if not isinstance(node, yaml.MappingNode) or not isinstance(value, dict):
        return [], [Problem(file, first, "expected a YAML mapping")]
    return _node_keys(node, numbered), []


def _node_keys(node: yaml.Node, numbered: Sequence[tuple[int, str]]) -> list[Key]:
    """The keys of a mapping node (none if it is not a mapping), each at its line in the file."""
    if not isinstance(node, yaml.MappingNode):
        return []
    last = len(numbered) - 1
    return [(str(k.value), numbered[min(k.start_mark.line, last)][0], v) for k, v in node.value]


def _scalars(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
    """The files a ``chapters:`` list names, parts (``- part: …``, ``chapters:``) flattened."""
    for item in node.value if isinstance(node, yaml.SequenceNode) else []:
        if isinstance(item, yaml.ScalarNode):
            yield item
        elif isinstance(item, yaml.MappingNode):
            for key, value in item.value:
                if key.value == "chapters":
                    yield from _scalars(value)


def _strip_code(text: str) -> str:
    """Text with inline code, HTML comments and URLs blanked out (line breaks kept)."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match[0])

    for pattern in (_HTML_COMMENT, _INLINE_CODE, _URL):
        text = pattern.sub(blank, text)
    return text


# -- the checks ------------------------------------------------------------------------------


def section_labels(root: Path) -> set[str]:
    """Every ``{#sec-…}`` label in the book's pages (the decks are not pages)."""
    labels: set[str] = set()
    for path in [*root.glob("*.qmd"), *root.glob("chapters/**/*.qmd")]:
        labels |= set(_SECTION_LABEL.findall(path.read_text(encoding="utf-8")))
    return labels


def check_data(root: Path) -> list[Problem]:
    """The question bank and the glossary load, and every ``see:`` names a real section."""
    problems: list[Problem] = []
    labels = section_labels(root)
    folder = root / "chapters" / "_data" / "questions"
    glossary = root / "chapters" / "_data" / "glossary.yml"
    loaded: list[tuple[Path, list[Any]]] = []
    if folder.is_dir():
        try:
            loaded.append((folder, list(load_question_bank(folder))))
        except BankError as exc:
            problems.append(_bank_problem(root, exc))
    if glossary.exists():
        try:
            loaded.append((glossary, list(load_glossary(glossary))))
        except BankError as exc:
            problems.append(_bank_problem(root, exc))
    for where, entries in loaded:
        files = sorted(where.glob("[!_]*.yml")) if where.is_dir() else [where]
        texts = {path: path.read_text(encoding="utf-8") for path in files}
        for entry in entries:
            for target in _see_targets(entry):
                if target not in labels:
                    path, line = _locate(texts, f"see: {target}")
                    problems.append(
                        Problem(
                            _rel(root, path), line, f"see '{target}': no such section in the book"
                        )
                    )
    return problems


def _bank_problem(root: Path, exc: Exception) -> Problem:
    file, line = getattr(exc, "file", None), getattr(exc, "line", None)
    message = str(exc)
    if file is not None and isinstance(line, int):
        message = message.removeprefix(f"{file}:{line}: ")
        return Problem(_rel(root, file), line, message)
    return Problem("chapters/_data", 1, message)


def _see_targets(entry: object) -> Iterator[str]:
    if isinstance(see := getattr(entry, "see", None), str):
        yield see
    for follow_up in getattr(entry, "follow_ups", ()) or ():
        if isinstance(see := getattr(follow_up, "see", None), str):
            yield see


def _locate(texts: dict[Path, str], needle: str) -> tuple[Path, int]:
    for path, text in texts.items():
        if needle in text:
            return path, _line_of(text, needle)
    path = next(iter(texts))
    return path, 1


def check_quarto_names(root: Path, names: dict[str, list[str]]) -> list[Problem]:
    """``_quarto.yml``, front matter, cell options and callouts use only Quarto's names."""
    problems: list[Problem] = []
    document = set(names["document_options"])
    config = root / "_quarto.yml"
    if config.exists():
        problems += _check_config(root, config, names)
    else:
        problems.append(Problem("_quarto.yml", 1, "missing: every Quarto project has one"))
    for path in qmd_sources(root):
        file = _rel(root, path)
        source = split_qmd(path.read_text(encoding="utf-8"))
        if source.unclosed_front_matter:
            problems.append(Problem(file, 1, "front matter is never closed (no second '---')"))
        keys, bad = _yaml_keys(source.front_matter, file)
        problems += bad
        for key, line, value in keys:
            if key not in document:
                problems.append(
                    Problem(file, line, f"front matter: '{key}' is not a Quarto option")
                )
            elif key == "format":
                problems += _check_formats(file, value, source.front_matter, document)
        for cell in source.cells:
            language, fence_line, options = cell.language, cell.line, cell.options
            if language not in OPTION_PREFIX:
                supported = ", ".join(sorted(OPTION_PREFIX))
                problems.append(
                    Problem(
                        file, fence_line, f"'{{{language}}}' cells cannot be run (only {supported})"
                    )
                )
                continue
            cell_keys, bad = _yaml_keys(options, file)
            problems += bad
            for key, line, _ in cell_keys:
                if key not in names["cell_options_jupyter"]:
                    prefix = OPTION_PREFIX[language]
                    problems.append(
                        Problem(file, line, f"cell option '{prefix} {key}' is not Quarto's")
                    )
        for line, text in source.prose:
            for callout in _CALLOUT.findall(text):
                if callout not in names["callout_types"]:
                    problems.append(Problem(file, line, f"'.callout-{callout}' is not a callout"))
            for prefix in _CROSSREF.findall(_strip_code(text)):
                if prefix not in names["crossref_prefixes"]:
                    problems.append(
                        Problem(file, line, f"'@{prefix}-' is not a cross-reference prefix")
                    )
    return problems


def _check_formats(
    file: str, formats: yaml.Node, numbered: Sequence[tuple[int, str]], allowed: set[str]
) -> list[Problem]:
    """The options under each format of a ``format:`` mapping (``format: html`` has none)."""
    return [
        Problem(file, line, f"format {fmt}: '{key}' is not a Quarto option")
        for fmt, _, options in _node_keys(formats, numbered)
        for key, line, _ in _node_keys(options, numbered)
        if key not in allowed
    ]


def _check_config(root: Path, config: Path, names: dict[str, list[str]]) -> list[Problem]:
    file = _rel(root, config)
    text = config.read_text(encoding="utf-8")
    numbered = list(enumerate(text.splitlines(), start=1))
    keys, problems = _yaml_keys(numbered, file)
    top = set(names["project_top_level_keys"]) | set(names["document_options"])
    sections = {"project": set(names["project_keys"]), "book": set(names["book_keys"])}
    for key, line, value in keys:
        if key not in top:
            problems.append(Problem(file, line, f"'{key}' is not a Quarto project key"))
        elif key in sections:
            for sub, where, listed in _node_keys(value, numbered):
                if sub not in sections[key]:
                    problems.append(Problem(file, where, f"{key}: '{sub}' is not a Quarto key"))
                elif key == "book" and sub in {"chapters", "appendices"}:
                    problems += [
                        Problem(
                            file,
                            numbered[min(item.start_mark.line, len(numbered) - 1)][0],
                            f"book: chapter '{item.value}' does not exist",
                        )
                        for item in _scalars(listed)
                        if not (root / str(item.value)).is_file()
                    ]
        elif key == "format":
            problems += _check_formats(file, value, numbered, set(names["document_options"]))
    return problems


def bibliography_entries(path: Path) -> dict[str, int]:
    """Key -> line of every entry in a BibTeX file (``@comment``/``@string`` are not entries)."""
    text = path.read_text(encoding="utf-8")
    entries: dict[str, int] = {}
    for match in _BIB_ENTRY.finditer(text):
        if match["type"].lower() not in _BIB_NOT_ENTRIES:
            entries.setdefault(match["key"], text.count("\n", 0, match.start("key")) + 1)
    return entries


def citations(text: str, prefixes: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(line, key) of each citation in Markdown ``text``; cross-references are skipped."""
    crossref = re.compile(rf"^(?:{'|'.join(map(re.escape, prefixes))})-")
    stripped = _strip_code(text)
    for match in _CITATION.finditer(stripped):
        key = match["braced"] or match["key"]
        if not crossref.match(key):
            yield stripped.count("\n", 0, match.start()) + 1, key


def _bibliographies(root: Path) -> list[Path]:
    data = _config(root)
    value = data.get("bibliography") if isinstance(data, dict) else None
    if value is None:
        return [root / "references.bib"] if (root / "references.bib").exists() else []
    return [root / v for v in ([value] if isinstance(value, str) else value)]


def check_citations(root: Path, prefixes: Iterable[str]) -> list[Problem]:
    """Every citation is a bibliography entry, and every entry is cited somewhere."""
    prefixes = list(prefixes)
    problems: list[Problem] = []
    entries: dict[str, tuple[str, int]] = {}
    for bib in _bibliographies(root):
        if not bib.exists():
            problems.append(Problem(_rel(root, root / "_quarto.yml"), 1, f"no file {bib.name}"))
            continue
        for key, line in bibliography_entries(bib).items():
            entries.setdefault(key, (_rel(root, bib), line))
    cited: set[str] = set()
    for path in qmd_sources(root):
        file = _rel(root, path)
        source = split_qmd(path.read_text(encoding="utf-8"))
        # Prose only: the front matter's title or subtitle may cite too, so it is included.
        lines = dict(source.front_matter) | dict(source.prose)
        problems += _check_cited(file, lines, prefixes, entries, cited)
    for path in data_sources(root):
        numbered = enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        lines = {n: text for n, text in numbered if not text.lstrip().startswith("#")}
        problems += _check_cited(_rel(root, path), lines, prefixes, entries, cited)
    for key, (file, line) in entries.items():
        if key not in cited:
            problems.append(Problem(file, line, f"bibliography entry '{key}' is never cited"))
    return problems


def _check_cited(
    file: str,
    lines: dict[int, str],
    prefixes: list[str],
    entries: dict[str, tuple[str, int]],
    cited: set[str],
) -> list[Problem]:
    problems = []
    numbers = sorted(lines)
    # Keep the line structure so that inline code spanning two lines is still recognized.
    text = "\n".join(lines[n] for n in numbers)
    for index, key in citations(text, prefixes):
        line = numbers[index - 1]
        if key in entries:
            cited.add(key)
        else:
            problems.append(Problem(file, line, f"unknown citation key '@{key}'"))
    return problems


def load_names(root: Path) -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads((root / NAMES_FILE).read_text(encoding="utf-8"))
    return data


def run_checks(root: Path) -> list[Problem]:
    """Every fast check over the project at ``root``."""
    names = load_names(root)
    return [
        *check_data(root),
        *check_quarto_names(root, names),
        *check_citations(root, names["crossref_prefixes"]),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=ROOT, help="the project (default: this one)")
    args = parser.parse_args(argv)
    problems = run_checks(args.root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in the sources", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
