"""The drills appendix holds together: entries, starters, solutions, graders, pages, flashcards.

Every entry of ``chapters/_data/drills.yml`` has its four files, and every file its entry; the
pages are listed under ``appendices:`` in ``_quarto.yml``; each solution is the library code the
entry names (re-exported, or a few lines that call it); each starter is only signatures, raises
`NotImplementedError` and imports nothing of its solution; and every grader test fails against
the untouched starters (one pytest subprocess with ``DRILL_TARGET=starter``), so no test passes
by checking less than the behaviour. The flashcards hold one card per drill.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.drills.target import CODE, ROOT, load, module_name

DATA = ROOT / "chapters" / "_data" / "drills.yml"
STARTERS = CODE / "drills"
SOLUTIONS = STARTERS / "solutions"
GRADERS = ROOT / "tests" / "drills"
PAGES = ROOT / "appendices" / "drills"
INDEX = "appendices/drills/index.qmd"
INFRA_TESTS = frozenset({"test_drills.py"})  # test files here that are not graders
TOPICS = frozenset(
    {"foundations", "prompting", "rag", "agents", "production", "interview", "training",
     "inference", "reasoning"}
)  # fmt: skip
FIELDS = ("name", "title", "topic", "minutes", "prompt", "key_idea", "solution", "see")
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SHOWN_WIDTH = 92  # starters are printed on their pages: the PDF code column
IN_CALLOUT_WIDTH = 88  # solutions are printed in a callout, narrower: show_source's limit
ADAPTER_LINES = 15  # a solution's own function may adapt an interface, not reimplement it
SETUP = ["#| include: false", "from llmprep.book import setup_chapter, show_source"]


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    title: str
    topic: str
    minutes: int
    prompt: str
    key_idea: str
    solution: tuple[str, ...]
    see: str

    @property
    def module(self) -> str:
        return module_name(self.name)

    @property
    def starter(self) -> Path:
        return STARTERS / f"{self.module}.py"

    @property
    def solution_file(self) -> Path:
        return SOLUTIONS / f"{self.module}.py"

    @property
    def grader(self) -> Path:
        return GRADERS / f"test_{self.module}.py"

    @property
    def page(self) -> Path:
        return PAGES / f"{self.name}.qmd"


def load_entries() -> list[Entry]:
    raw = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    assert isinstance(raw, list), f"{DATA} must be a list of drills"
    entries = []
    for item in raw:
        assert isinstance(item, dict), item
        assert tuple(item) == FIELDS, f"{item.get('name')}: fields must be {FIELDS}"
        entries.append(Entry(**{**item, "solution": tuple(item["solution"])}))
    return entries


ENTRIES = load_entries()
ids = [e.name for e in ENTRIES]


def section_ids() -> set[str]:
    sources = [*ROOT.glob("chapters/**/*.qmd"), *ROOT.glob("appendices/**/*.qmd")]
    return {m for p in sources for m in re.findall(r"\{#(sec-[\w-]+)", p.read_text("utf-8"))}


def resolve(ref: str) -> Any:
    module, _, qualname = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _is_protocol(node: ast.stmt) -> bool:
    """A `class X(Protocol)`: a type for the starter's signatures, not something to implement."""
    bases = node.bases if isinstance(node, ast.ClassDef) else []
    return any(isinstance(b, ast.Name) and b.id == "Protocol" for b in bases)


def public_names(tree: ast.Module) -> list[str]:
    """The functions and classes a starter asks for (Protocols excepted), by name."""
    kinds = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    return [
        n.name
        for n in tree.body
        if isinstance(n, kinds) and not n.name.startswith("_") and not _is_protocol(n)
    ]


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# ---------------------------------------------------------------------------------------------
# entries and files


def test_entries_are_well_formed() -> None:
    assert ENTRIES, "drills.yml lists no drills"
    assert len(set(ids)) == len(ids), [n for n, c in Counter(ids).items() if c > 1]
    sections = section_ids()
    for e in ENTRIES:
        assert KEBAB.match(e.name), e.name
        assert e.topic in TOPICS, f"{e.name}: unknown topic {e.topic!r}"
        assert isinstance(e.minutes, int), e.name
        assert 5 <= e.minutes <= 60, e.name
        for text in (e.title, e.prompt, e.key_idea):
            assert isinstance(text, str), e.name
            assert text.strip(), e.name
        assert len(e.prompt.split()) <= 60, f"{e.name}: the prompt is a flashcard front"
        assert len(e.key_idea.split()) <= 90, f"{e.name}: the key idea is a flashcard back"
        assert e.solution, f"{e.name}: name the library code of the solution"
        assert e.see in sections, f"{e.name}: see: {e.see} is no section of the book"


def test_every_entry_has_its_files_and_every_file_its_entry() -> None:
    missing = [
        str(path.relative_to(ROOT))
        for e in ENTRIES
        for path in (e.starter, e.solution_file, e.grader, e.page)
        if not path.is_file()
    ]
    assert not missing, f"files missing for drills.yml entries: {missing}"
    modules = {e.module for e in ENTRIES}
    names = {e.name for e in ENTRIES}
    strays = [p for p in STARTERS.glob("*.py") if p.stem != "__init__" and p.stem not in modules]
    strays += [p for p in SOLUTIONS.glob("*.py") if p.stem != "__init__" and p.stem not in modules]
    strays += [
        p
        for p in GRADERS.glob("test_*.py")
        if p.name not in INFRA_TESTS and p.stem.removeprefix("test_") not in modules
    ]
    strays += [p for p in PAGES.glob("*.qmd") if p.stem != "index" and p.stem not in names]
    assert not strays, f"drill files without a drills.yml entry: {[str(p) for p in strays]}"


def test_quarto_lists_the_pages_as_appendices() -> None:
    quarto = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))
    appendices = quarto["book"].get("appendices") or []
    listed = [a for a in appendices if isinstance(a, str) and a.startswith("appendices/drills/")]
    assert listed[:1] == [INDEX], "the drills index comes first"
    expected = {f"appendices/drills/{e.name}.qmd" for e in ENTRIES}
    assert set(listed[1:]) == expected, sorted(expected ^ set(listed[1:]))
    assert len(listed) == len(set(listed))


# ---------------------------------------------------------------------------------------------
# solutions


def _body_lines(source: str) -> int:
    """Lines of a function's body, from its first statement after the docstring."""
    (node,) = ast.parse(textwrap.dedent(source)).body
    assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return 0 if not body else (body[-1].end_lineno or 0) - body[0].lineno + 1


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_the_solution_is_the_library_code(entry: Entry) -> None:
    solution = load(entry.name, "solution")
    starter_tree = parse(entry.starter)
    library = {ref: resolve(ref) for ref in entry.solution}
    for ref, obj in library.items():
        assert getattr(obj, "__module__", "").startswith("llmprep."), f"{ref} is not llmprep code"
    imported = {
        (node.module, alias.name)
        for node in ast.walk(parse(entry.solution_file))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    for ref in library:
        module, _, qualname = ref.partition(":")
        assert (module, qualname.split(".")[0]) in imported, f"the solution does not use {ref}"
    for name in public_names(starter_tree):
        assert hasattr(solution, name), f"{entry.name}: the solution lacks {name}"
        obj = getattr(solution, name)
        if any(obj is lib for lib in library.values()):
            continue
        # Not the library object itself: then a short adapter defined right here.
        assert getattr(obj, "__module__", None) == solution.__name__, (
            f"{entry.name}.{name} is neither named in `solution` nor defined in the solution"
        )
        body = _body_lines(inspect.getsource(obj))
        assert body <= ADAPTER_LINES, f"{entry.name}.{name}: {body} lines is not a thin adapter"
    text = entry.solution_file.read_text("utf-8")
    wide = [ln for ln in text.splitlines() if len(ln) > IN_CALLOUT_WIDTH]
    assert not wide, f"{entry.name}: solution lines wider than {IN_CALLOUT_WIDTH}: {wide}"


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_solution_signatures_accept_the_starters_arguments(entry: Entry) -> None:
    starter, solution = load(entry.name, "starter"), load(entry.name, "solution")
    for name in public_names(parse(entry.starter)):
        want, have = getattr(starter, name), getattr(solution, name)
        try:
            wanted = inspect.signature(want).parameters
            offered = inspect.signature(have).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
            continue
        missing = [p for p in wanted if p not in offered]
        assert not missing, f"{entry.name}.{name}: the solution has no parameters {missing}"


# ---------------------------------------------------------------------------------------------
# starters


def _allowed_import(name: str) -> bool:
    root = name.split(".")[0]
    if root == "llmprep":
        return name == "llmprep.core" or name.startswith("llmprep.core.")
    return root in {"__future__", "numpy"} or root in sys.stdlib_module_names


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_starter_imports_only_stdlib_numpy_and_core(entry: Entry) -> None:
    solution_modules = {ref.partition(":")[0] for ref in entry.solution}
    for node in ast.walk(parse(entry.starter)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{entry.name}: relative import at line {node.lineno}"
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name not in solution_modules, f"{entry.name} imports its solution ({name})"
            assert _allowed_import(name), f"{entry.name}: starter imports {name}"


def _is_stub(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if len(body) != 1 or not isinstance(body[0], ast.Raise):
        return False
    exc = body[0].exc
    if not (isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name)):
        return False
    message = exc.args[0] if exc.args else None
    return (
        exc.func.id == "NotImplementedError"
        and isinstance(message, ast.Constant)
        and str(message.value).startswith(f"drill {name}: ")
    )


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_starter_is_signatures_docstrings_and_not_implemented(entry: Entry) -> None:
    tree = parse(entry.starter)
    doc = ast.get_docstring(tree) or ""
    assert doc.startswith("Drill: "), f"{entry.name}: the docstring poses the task"
    assert f"make drill NAME={entry.name}" in doc
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    assert functions, f"{entry.name}: a starter has something to implement"
    for fn in functions:
        assert ast.get_docstring(fn), f"{entry.name}.{fn.name} needs a docstring"
        assert _is_stub(fn, entry.name), (
            f"{entry.name}.{fn.name} must only raise "
            f'NotImplementedError("drill {entry.name}: implement …")'
        )
    wide = [ln for ln in entry.starter.read_text("utf-8").splitlines() if len(ln) > SHOWN_WIDTH]
    assert not wide, f"{entry.name}: starter lines wider than {SHOWN_WIDTH}: {wide}"


# ---------------------------------------------------------------------------------------------
# graders and pages


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_grader_loads_its_drill_through_the_target(entry: Entry) -> None:
    tree = parse(entry.grader)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "load"
    ]
    assert [ast.literal_eval(c.args[0]) for c in calls] == [entry.name]
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    assert len(tests) >= 5, f"{entry.name}: a grader checks more than a handful of things"


@pytest.mark.parametrize("entry", ENTRIES, ids=ids)
def test_page_has_the_drill_layout(entry: Entry) -> None:
    text = entry.page.read_text(encoding="utf-8")
    first = re.search(r"^```\{python\}\n(.*?)^```", text, re.M | re.S)
    assert first is not None
    assert first[1].splitlines()[:2] == SETUP, f"{entry.name}: starts with the shared setup"
    assert re.search(rf"^# .+ \{{#sec-drill-{entry.name}\}}$", text, re.M), entry.name
    wanted = [
        '::: {.callout-tip collapse="true" title="Hint 1"}',
        '::: {.callout-note collapse="true" title="Solution"}',
        "show_source(",
        f"make drill NAME={entry.name}",
        f"@{entry.see}",
        "## Complexity",
        "## Follow-ups",
    ]
    missing = [w for w in wanted if w not in text]
    assert not missing, f"{entry.name}.qmd lacks {missing}"


def test_index_page_builds_its_table_from_the_data() -> None:
    text = (ROOT / INDEX).read_text(encoding="utf-8")
    assert "{#sec-drills}" in text
    assert "_data/drills.yml" in text


# ---------------------------------------------------------------------------------------------
# every grader test fails against the untouched starters


def _outcomes(junit: Path) -> dict[str, str]:
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        tags = {child.tag for child in case}
        outcome = "skipped" if "skipped" in tags else "passed"
        outcome = "failed" if tags & {"failure", "error"} else outcome
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = outcome
    return outcomes


def test_every_grader_test_fails_against_the_untouched_starter(tmp_path: Path) -> None:
    graders = sorted(p for p in GRADERS.glob("test_*.py") if p.name not in INFRA_TESTS)
    junit = tmp_path / "starters.xml"
    env = {**os.environ, "DRILL_TARGET": "starter", "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "pytest", *(str(p.relative_to(ROOT)) for p in graders)]
    command += ["-p", "no:cacheprovider", "-q", "--tb=no", "--no-header", f"--junitxml={junit}"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout[-3000:] + result.stderr
    outcomes = _outcomes(junit)
    passed = sorted(t for t, o in outcomes.items() if o == "passed")
    skipped = sorted(t for t, o in outcomes.items() if o == "skipped")
    assert not passed, f"grader tests that pass against an untouched starter: {passed}"
    assert not skipped, f"grader tests skipped against a starter: {skipped}"
    per_file = Counter(t.split("::")[0].rsplit(".", 1)[-1] for t in outcomes)
    assert {f"test_{e.module}" for e in ENTRIES} <= set(per_file), per_file


# ---------------------------------------------------------------------------------------------
# flashcards: one card per drill


def _anki_notes(apkg: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(apkg) as archive:
        name = next(n for n in ("collection.anki21", "collection.anki2") if n in archive.namelist())
        data = archive.read(name)
    db = sqlite3.connect(":memory:")
    try:
        db.deserialize(data)
        rows = db.execute("select guid, flds from notes").fetchall()
    finally:
        db.close()
    return {str(guid): str(fields).split("\x1f") for guid, fields in rows}


def test_flashcards_hold_one_card_per_drill(flashcards: ModuleType) -> None:
    cards = [c for c in flashcards.build_cards(ROOT) if c.kind == "drill"]
    assert [c.key for c in cards] == [f"drill:{e.name}" for e in ENTRIES]
    for card, e in zip(cards, ENTRIES, strict=True):
        assert card.front == e.prompt
        assert card.back.startswith(e.key_idea)
        assert f"appendices/drills/{e.name}.html" in card.back
        assert f"make drill NAME={e.name}" in card.back
        assert card.source == f"sec-drill-{e.name}"
        assert card.tags == ("drill", e.topic)


def test_drill_card_guid_follows_the_name_not_the_text(
    flashcards: ModuleType, tmp_path: Path
) -> None:
    import genanki

    copy = tmp_path / "book" / "chapters" / "_data"
    copy.mkdir(parents=True)
    shutil.copy(DATA, copy / "drills.yml")
    first = ENTRIES[0]
    cards = flashcards.drill_cards(copy / "drills.yml")
    flashcards.write_apkg(cards, tmp_path / "before.apkg")
    edited = yaml.safe_load((copy / "drills.yml").read_text(encoding="utf-8"))
    edited[0]["key_idea"] = "REVISED " + edited[0]["key_idea"]
    (copy / "drills.yml").write_text(yaml.safe_dump(edited, allow_unicode=True), "utf-8")
    flashcards.write_apkg(flashcards.drill_cards(copy / "drills.yml"), tmp_path / "after.apkg")
    old, new = _anki_notes(tmp_path / "before.apkg"), _anki_notes(tmp_path / "after.apkg")
    assert set(old) == set(new) == {genanki.guid_for(f"drill:{e.name}") for e in ENTRIES}
    guid = genanki.guid_for(f"drill:{first.name}")
    assert "REVISED" not in old[guid][1]
    assert "REVISED" in new[guid][1]
