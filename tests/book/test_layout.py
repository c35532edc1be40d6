"""The topic is the unit: every topic has all its pieces, and imports run one way.

The topics come from ``_quarto.yml``: a chapter ``chapters/NN-<slug>/<file>.qmd`` belongs to
topic ``<slug>`` (the deep dives share one folder, and each of their files is its own topic; see
GUIDE.md, "Layout: the topic is the unit"). For each topic the repository must have its package,
its tests, its deck and its questions, under the same slug.

The import rule (``core`` <- ``book`` <- topics, a topic above the topics before it in the study
order) is checked twice, independently: here by walking ``ast`` over ``code/llmprep``, and by
import-linter's contract in ``pyproject.toml`` (``make imports``). Both are shown to fail on a
deliberate violation in a throwaway package tree.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "code" / "llmprep"
TIERS = ("core", "book")  # below every topic, in this order
# Folders whose chapters are each a topic of their own (one deck for the folder).
ONE_TOPIC_PER_FILE = frozenset({"deep-dives"})
_CHAPTER = re.compile(
    r"^chapters/(?P<number>\d\d)-(?P<folder>[a-z0-9-]+)/(?P<file>[a-z0-9-]+)\.qmd$"
)


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic of the book, and where each of its pieces must be."""

    slug: str
    number: str  # the chapter folder's two digits, "01"
    folder_slug: str  # the chapter folder's slug; the topic's own unless the folder is split

    @property
    def package(self) -> str:
        return self.slug.replace("-", "_")

    @property
    def deck(self) -> str:
        return f"slides/{self.number}-{self.folder_slug}.qmd"


def _chapter_paths(entries: Sequence[Any]) -> Iterator[str]:
    """Every chapter path in a ``book.chapters`` list, parts included, in order."""
    for entry in entries:
        if isinstance(entry, str):
            yield entry
        elif isinstance(entry, Mapping):
            if isinstance(entry.get("href"), str):
                yield entry["href"]
            if isinstance(entry.get("part"), str) and entry["part"].endswith(".qmd"):
                yield entry["part"]
            yield from _chapter_paths(entry.get("chapters") or [])


def topics_of(quarto: Mapping[str, Any]) -> list[Topic]:
    """The topics of a parsed ``_quarto.yml``, in study order."""
    topics: dict[str, Topic] = {}
    for path in _chapter_paths(quarto.get("book", {}).get("chapters", [])):
        match = _CHAPTER.match(path)
        if match is None:
            continue
        folder = match["folder"]
        slug = match["file"] if folder in ONE_TOPIC_PER_FILE else folder
        topics.setdefault(slug, Topic(slug, match["number"], folder))
    return list(topics.values())


TOPICS = topics_of(yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8")))


def test_topics_are_read_from_quarto_parts() -> None:
    quarto = {
        "book": {
            "chapters": [
                "index.qmd",
                {"part": "Day 1", "chapters": ["chapters/01-foundations/concepts.qmd"]},
                {"part": "Day 2", "chapters": ["chapters/03-rag/concepts.qmd"]},
                "chapters/01-foundations/key-terminology.qmd",
                {"part": "Deep dives", "chapters": ["chapters/07-deep-dives/inference.qmd"]},
                "chapters/slides.qmd",
            ]
        }
    }
    assert [(t.slug, t.package, t.deck) for t in topics_of(quarto)] == [
        ("foundations", "foundations", "slides/01-foundations.qmd"),
        ("rag", "rag", "slides/03-rag.qmd"),
        ("inference", "inference", "slides/07-deep-dives.qmd"),
    ]
    assert [t.slug for t in TOPICS][:1] == ["foundations"]  # the real book has its first topic


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.slug)
def test_every_topic_has_all_its_pieces(topic: Topic) -> None:
    missing = []
    if not (PACKAGE / topic.package / "__init__.py").is_file():
        missing.append(f"code/llmprep/{topic.package}/__init__.py (its package)")
    if not list((ROOT / "tests" / topic.slug).glob("test_*.py")):
        missing.append(f"tests/{topic.slug}/test_*.py (at least one test file)")
    if not (ROOT / topic.deck).is_file():
        missing.append(f"{topic.deck} (its deck)")
    if not (ROOT / "chapters" / "_data" / "questions" / f"{topic.slug}.yml").is_file():
        missing.append(f"chapters/_data/questions/{topic.slug}.yml (its questions)")
    assert not missing, f"topic {topic.slug!r} (from _quarto.yml) lacks: " + "; ".join(missing)


# ---------------------------------------------------------------------------------------------
# The import rule, by walking ast


def _module_name(path: Path, package_dir: Path) -> str:
    parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The absolute names a statement imports (for ``from X import a``: ``X.a``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor if is_package else anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return [f"{base}.{alias.name}" if alias.name != "*" else base for alias in node.names]


def import_violations(package_dir: Path, order: Sequence[str]) -> list[str]:
    """Every import in `package_dir` that breaks the one-way rule, as ``file:line: why``.

    `package_dir` is the top-level package (its folder name is the package name); `order` is
    the topics in study order. Tiers rank core < book < order[0] < order[1] < ...; a module may
    import its own tier or a lower one. The top-level ``__init__`` (which re-exports the core)
    is the one module outside the tiers; nothing inside may import through it.
    """
    root = package_dir.name
    chain = [*TIERS, *order]
    rank = {name: i for i, name in enumerate(chain)}
    problems: list[tuple[str, int, str]] = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir.parent).as_posix()
        module = _module_name(path, package_dir)
        if module == root:
            continue
        tier = module.split(".")[1]
        if tier not in rank:
            why = f"{module} is in no tier: make it part of core, book or a topic (a layer)"
            problems.append((rel, 1, why))
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        imports = (n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom))
        for node in imports:
            for name in _imported(node, module, path.name == "__init__.py"):
                root_name, _, rest = name.partition(".")
                if root_name != root:
                    continue
                target = rest.split(".")[0]
                defined = bool(target) and (
                    (package_dir / target).is_dir() or (package_dir / f"{target}.py").is_file()
                )
                if target in rank and rank[target] <= rank[tier]:
                    continue
                if target in rank:
                    why = f"{tier} may not import {target}, which comes after it"
                    why += f" (order: {' < '.join(chain)})"
                elif defined:
                    why = f"{root}.{target} is in no tier"
                else:  # `import llmprep`, `from llmprep import Message`
                    why = f"import from the tier that defines it, not through {root}"
                problems.append((rel, node.lineno, f"{module} imports {name}: {why}"))
    return [f"{rel}:{line}: {why}" for rel, line, why in sorted(problems)]


def study_order() -> list[str]:
    """Every topic package in study order: the contract's layers, which the test below holds
    to _quarto.yml (a topic's code may land before its chapter does)."""
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = options["tool"]["importlinter"]["contracts"]
    layers = [layer.strip("()") for layer in reversed(contract["layers"])]
    return layers[len(TIERS) :]


def test_the_package_imports_run_one_way() -> None:
    problems = import_violations(PACKAGE, study_order())
    assert not problems, "imports that break the one-way rule:\n" + "\n".join(problems)


def _write_tree(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


CLEAN_TREE = {
    "llmprep/__init__.py": "from llmprep.core.messages import Message\n",
    "llmprep/core/__init__.py": "",
    "llmprep/core/messages.py": "class Message: ...\n",
    "llmprep/core/tokens.py": "from llmprep.core.messages import Message\nfrom . import messages\n",
    "llmprep/book/__init__.py": "",
    "llmprep/book/plotting.py": "from llmprep.core import messages\n",
    "llmprep/foundations/__init__.py": "",
    "llmprep/foundations/bpe.py": "from llmprep.book import plotting\nfrom ..core import tokens\n",
    "llmprep/prompting/__init__.py": "",
    "llmprep/prompting/chat.py": "from llmprep.foundations import bpe\n",
}


def test_the_ast_check_passes_a_clean_tree(tmp_path: Path) -> None:
    tree = _write_tree(tmp_path, CLEAN_TREE)
    assert import_violations(tree / "llmprep", ["foundations", "prompting"]) == []


def test_the_ast_check_names_file_and_line_of_each_violation(tmp_path: Path) -> None:
    tree = _write_tree(
        tmp_path,
        {
            **CLEAN_TREE,
            # core reaching up into a topic, absolutely and relatively (inside a function too)
            "llmprep/core/tokens.py": """\
                import os

                from llmprep.foundations import bpe


                def late():
                    from ..book import plotting
            """,
            # an earlier topic using a later one
            "llmprep/foundations/bpe.py": "from llmprep.prompting.chat import x\n",
            # a module outside every tier, and an import through the top level
            "llmprep/extra.py": "",
            "llmprep/book/plotting.py": "from llmprep import Message\nimport llmprep\n",
        },
    )
    problems = import_violations(tree / "llmprep", ["foundations", "prompting"])
    assert [p.split(": ", 1)[0] for p in problems] == [
        "llmprep/book/plotting.py:1",
        "llmprep/book/plotting.py:2",
        "llmprep/core/tokens.py:3",
        "llmprep/core/tokens.py:7",
        "llmprep/extra.py:1",
        "llmprep/foundations/bpe.py:1",
    ]
    assert all("not through llmprep" in p for p in problems[:2])
    assert "core may not import foundations" in problems[2]
    assert "imports llmprep.book.plotting: core may not import book" in problems[3]
    assert "llmprep.extra is in no tier" in problems[4]
    assert "foundations may not import prompting" in problems[5]


# ---------------------------------------------------------------------------------------------
# The same rule, by import-linter


def _importlinter_config(pyproject: Path) -> str:
    """The ``[tool.importlinter]`` tables of `pyproject`, as a standalone TOML file."""
    options = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]
    contracts = options.pop("contracts")
    lines = ["[tool.importlinter]", *(f"{k} = {json.dumps(v)}" for k, v in options.items())]
    for contract in contracts:
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in contract.items()]
    return "\n".join(lines) + "\n"


def _lint_imports(tree: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--config", str(config), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_linter_contract_breaks_on_a_violation(tmp_path: Path) -> None:
    config = tmp_path / "importlinter.toml"
    config.write_text(_importlinter_config(ROOT / "pyproject.toml"), encoding="utf-8")
    (contract,) = tomllib.loads(config.read_text())["tool"]["importlinter"]["contracts"]

    clean = _write_tree(tmp_path / "clean", CLEAN_TREE)
    kept = _lint_imports(clean, config)
    assert kept.returncode == 0, kept.stdout + kept.stderr  # the real contract, a clean tree

    broken = _write_tree(
        tmp_path / "broken",
        {**CLEAN_TREE, "llmprep/core/tokens.py": "from llmprep.foundations import bpe\n"},
    )
    result = _lint_imports(broken, config)
    assert result.returncode != 0
    assert f"{contract['name']} BROKEN" in result.stdout
    assert "llmprep.core.tokens -> llmprep.foundations.bpe (l.1)" in result.stdout


def test_import_linter_layers_follow_the_study_order() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = options["tool"]["importlinter"]["contracts"]
    assert contract["type"] == "layers"
    assert contract["containers"] == ["llmprep"]
    assert contract["exhaustive"] is True
    layers = [layer.strip("()") for layer in reversed(contract["layers"])]
    assert layers[: len(TIERS)] == list(TIERS)
    topics = layers[len(TIERS) :]
    in_book = [t.package for t in TOPICS]
    assert [t for t in topics if t in in_book] == in_book, "layers and _quarto.yml disagree"
    required = [layer for layer in contract["layers"] if not layer.startswith("(")]
    for layer in required:  # a required layer that does not exist breaks the contract
        assert (PACKAGE / layer / "__init__.py").is_file(), layer


# ---------------------------------------------------------------------------------------------
# One shared setup cell per source

_CELL = re.compile(r"^```\{python\}[^\n]*\n(.*?)^```", re.M | re.S)


def _sources() -> list[Path]:
    quarto = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    chapters = [ROOT / p for p in _chapter_paths(quarto["book"]["chapters"])]
    decks = sorted(p for p in (ROOT / "slides").glob("*.qmd") if not p.name.startswith("_"))
    return [p for p in chapters + decks if p.is_file()]


@pytest.mark.parametrize("source", _sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_source_starts_with_the_shared_setup(source: Path) -> None:
    cells = _CELL.findall(source.read_text(encoding="utf-8"))
    if not cells:
        return  # no code, no kernel, nothing to set up
    first = cells[0].splitlines()
    uses_show_source = any("show_source(" in cell for cell in cells)
    names = "setup_chapter, show_source" if uses_show_source else "setup_chapter"
    assert first == [
        "#| include: false",
        f"from llmprep.book import {names}",
        "setup_chapter()",
    ], f"{source.name}: the first python cell must be the shared setup cell"
    for cell in cells[1:]:
        for private in ("use_house_style(", "def show_source", "setup_chapter("):
            assert private not in cell, f"{source.name}: {private!r} belongs in llmprep.book"


# ---------------------------------------------------------------------------------------------
# The wheel holds llmprep only


@pytest.mark.slow
def test_the_llmprep_wheel_holds_llmprep_only(tmp_path: Path) -> None:
    # Build from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "node_modules")
    for name in ("code", "tools"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    out = tmp_path / "wheels"

    def wheel(project: Path, dist: str) -> list[str]:
        pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        subprocess.run(
            [*pip, "-w", str(out), str(project)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        (built,) = out.glob(f"{dist}-*.whl")
        return zipfile.ZipFile(built).namelist()

    entries = wheel(src, "llmprep")
    strays = [e for e in entries if not re.match(r"^llmprep(/|-[^/]+\.dist-info/)", e)]
    assert not strays, f"the llmprep wheel ships more than llmprep: {strays[:10]}"
    assert {"llmprep/core/messages.py", "llmprep/book/setup.py", "llmprep/py.typed"} <= set(entries)

    # the builder is its own distribution, and carries its data files
    builder = wheel(src / "tools", "bookbuild")
    assert all(re.match(r"^bookbuild(/|-[^/]+\.dist-info/)", e) for e in builder), builder
    shipped = {Path(e).suffix for e in builder}
    data = {p.suffix for p in (ROOT / "tools" / "bookbuild").rglob("*") if p.is_file()}
    assert data - {".pyc", ""} <= shipped
