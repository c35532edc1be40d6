"""The foundations examples learn from a fixed snapshot, not from the book's live sources.

The tiny BPE and the tiny language model of "How LLMs work" (and the deck's BPE) train on
``chapters/_data/corpus/preface-and-foundations.txt``. A prose edit must change neither their
input nor the numbers the prose quotes, so the snapshot is fixed and no cell reads a ``.qmd``.
"""

from __future__ import annotations

import ast
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "chapters" / "_data" / "corpus"
SNAPSHOT = CORPUS_DIR / "preface-and-foundations.txt"
READERS = [ROOT / "chapters/01-foundations/concepts.qmd", ROOT / "slides/01-foundations.qmd"]
_CELL = re.compile(r"^```\{python\}[^\n]*\n(.*?)^```", re.M | re.S)
_REVISION = re.compile(r"--rev (\w+)")


def recorded_sha256() -> str:
    digests: list[str] = re.findall(r"\b[0-9a-f]{64}\b", (CORPUS_DIR / "README.md").read_text())
    (digest,) = digests
    return digest


def test_the_snapshot_is_the_one_the_readme_describes() -> None:
    data = SNAPSHOT.read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded_sha256(), (
        "the corpus snapshot changed: it is meant to stay fixed (see its README.md)"
    )
    text = data.decode("utf-8")
    assert text.startswith("# Preface")  # the preface first, then the chapter
    assert "# How LLMs work {#sec-how-llms-work}" in text


@pytest.mark.parametrize("source", READERS, ids=lambda p: p.name)
def test_the_examples_read_the_snapshot_and_no_qmd(source: Path) -> None:
    cells = _CELL.findall(source.read_text(encoding="utf-8"))
    assert not [c for c in cells if ".qmd" in c], f"{source.name}: a cell reads a .qmd file"
    strings = [
        node.value
        for cell in cells
        for node in ast.walk(ast.parse(cell))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    paths = [s for s in strings if "/corpus/" in s]
    assert paths, f"{source.name}: no cell reads the corpus snapshot"
    for path in paths:  # relative to the source's folder, where its cells run
        assert (source.parent / path).resolve() == SNAPSHOT


def test_the_script_writes_the_same_bytes_again(tmp_path: Path) -> None:
    revisions: list[str] = _REVISION.findall((CORPUS_DIR / "README.md").read_text())
    (rev,) = revisions
    has_rev = subprocess.run(
        ["git", "cat-file", "-e", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True
    )
    if has_rev.returncode != 0:
        pytest.skip(f"revision {rev} is not in this clone's history")
    out = tmp_path / "corpus.txt"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts/snapshot_corpus.py"), "--rev", rev, "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == SNAPSHOT.read_bytes()
    refused = subprocess.run(
        [sys.executable, str(ROOT / "scripts/snapshot_corpus.py"), "--rev", rev, "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "meant to stay fixed" in refused.stderr
