"""The freeze cache: re-execute a chapter only when something its output depends on changed.

Quarto's ``_freeze/`` folder keeps executed outputs so a rebuild need not run every cell again. Its
classic failure is the *stale* freeze: outputs from old code that nobody re-ran. Here a chapter's
entry is keyed on everything its outputs can depend on:

* the chapter's cells -- their code and the options that change execution (``eval``, ``error``);
  prose edits do not re-execute anything;
* the ``llmprep`` package source (every file under ``code/llmprep``);
* the dependency lock (``requirements.lock``) and the Python version;
* the builder's own execution code (:data:`bookbuild.execute.EXECUTION_VERSION`);
* every project file the chapter *read* or folder it *listed* while executing, as recorded by
  the kernel's audit hook, checked by content hash on every build.

If any of these differs, the entry is a miss and the chapter runs again. Entries live in
``_freeze/<chapter path>/execute-results/bookbuild.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .execute import EXECUTION_VERSION, ExecutedChapter, setup_code
from .qmd import Document

FREEZE_DIR = "_freeze"
PACKAGE_DIR = "code/llmprep"
LOCK_FILE = "requirements.lock"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    """Content hash of a file, or ``"missing"``."""
    try:
        return _sha(path.read_bytes())
    except (FileNotFoundError, IsADirectoryError):
        return "missing"


def listing_digest(path: Path) -> str:
    """Hash of a folder's entry names (a new or removed file changes it)."""
    try:
        return _sha("\n".join(sorted(os.listdir(path))).encode())
    except (FileNotFoundError, NotADirectoryError):
        return "missing"


def tree_digest(root: Path, folder: str) -> str:
    """Hash of every file under ``folder`` (names and contents), ignoring bytecode caches."""
    digest = hashlib.sha256()
    base = root / folder
    for path in sorted(base.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def static_key(doc: Document, root: Path) -> str:
    """The part of a chapter's key known before execution (everything but the files it reads)."""
    cells = [[c.source, c.option("eval", True), c.option("error", False)] for c in doc.cells]
    parts = {
        "execution": EXECUTION_VERSION,
        "setup": setup_code(root, (root / doc.path).parent),
        "python": sys.version,
        "cells": cells,
        "package": tree_digest(root, PACKAGE_DIR) if (root / PACKAGE_DIR).is_dir() else "",
        "lock": file_digest(root / LOCK_FILE),
    }
    return _sha(json.dumps(parts, sort_keys=True).encode())


@dataclass(frozen=True, slots=True)
class FreezeStore:
    """Reads and writes freeze entries under ``root/_freeze``."""

    root: Path

    def entry_path(self, doc: Document) -> Path:
        stem = doc.path.rsplit(".", 1)[0]
        return self.root / FREEZE_DIR / stem / "execute-results" / "bookbuild.json"

    def load(self, doc: Document) -> ExecutedChapter | None:
        """The frozen outputs of ``doc`` if, and only if, every input is unchanged."""
        path = self.entry_path(doc)
        try:
            entry: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if entry.get("key") != static_key(doc, self.root):
            return None
        for name, digest in entry.get("reads", {}).items():
            if file_digest(self.root / name) != digest:
                return None
        for name, digest in entry.get("listings", {}).items():
            if listing_digest(self.root / name) != digest:
                return None
        outputs = entry.get("outputs")
        if not isinstance(outputs, list) or len(outputs) != len(doc.cells):
            return None
        return ExecutedChapter(
            outputs=outputs, reads=sorted(entry["reads"]), listings=sorted(entry["listings"])
        )

    def save(self, doc: Document, result: ExecutedChapter) -> None:
        """Store ``result``, written atomically so an interrupted build leaves no torn entry."""
        entry = {
            "key": static_key(doc, self.root),
            "source": doc.path,
            "reads": {n: file_digest(self.root / n) for n in result.reads},
            "listings": {n: listing_digest(self.root / n) for n in result.listings},
            "outputs": result.outputs,
        }
        path = self.entry_path(doc)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entry, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
