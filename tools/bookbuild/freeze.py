"""The freeze cache: re-execute a chapter only when something its output depends on changed.

Quarto's ``_freeze/`` folder keeps executed outputs so a rebuild need not run every cell again. Its
classic failure is the *stale* freeze: outputs from old code that nobody re-ran. Here a chapter's
entry is keyed on everything its outputs can depend on, and on nothing else:

* the chapter's cells -- their code and the options that change execution (``eval``, ``error``)
  -- and its inline expressions; prose edits do not re-execute anything;
* the kernel settings: the figure size from ``_quarto.yml`` and every environment variable the
  builder gives the kernel, and the builder's kernel-side code (:mod:`bookbuild.kernel`);
* the dependency lock (``requirements.lock``) and the Python version;
* every project module the chapter *imported* (say ``code/llmprep/rag/bm25.py``), every project
  file it *read* and every folder it *listed* while executing, as recorded inside the kernel,
  checked by content hash on every build. An edit to one topic's module re-executes only the
  chapters that imported it.

If any of these differs, the entry is a miss and the chapter runs again. Entries live in
``_freeze/<chapter path>/execute-results/bookbuild.json``, with no absolute paths in their keys,
so a freeze copied to another checkout (a CI cache) is still valid there.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import kernel
from .execute import EXECUTION_VERSION, ExecutedChapter, KernelSettings
from .project import source_stem
from .qmd import Document

FREEZE_DIR = "_freeze"
LOCK_FILE = "requirements.lock"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    """Content hash of a file, or ``"missing"``."""
    try:
        return _sha(path.read_bytes())
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return "missing"


def listing_digest(path: Path) -> str:
    """Hash of a folder's entry names (a new or removed file changes it)."""
    try:
        return _sha("\n".join(sorted(os.listdir(path))).encode())
    except (FileNotFoundError, NotADirectoryError):
        return "missing"


def static_key(doc: Document, root: Path, settings: KernelSettings) -> str:
    """The part of a chapter's key known before execution (everything but what it touched)."""
    cells = [[c.source, c.evaluated, c.may_fail] for c in doc.cells]
    parts = {
        "execution": EXECUTION_VERSION,
        "kernel-code": file_digest(Path(kernel.__file__)),
        "kernel": settings.portable(root),
        "cwd": Path(doc.path).parent.as_posix(),
        "python": sys.version,
        "cells": cells,
        "inline": [i.code for i in doc.inlines],
        "lock": file_digest(root / LOCK_FILE),
    }
    return _sha(json.dumps(parts, sort_keys=True).encode())


@dataclass(frozen=True, slots=True)
class FreezeStore:
    """Reads and writes freeze entries under ``root/_freeze``."""

    root: Path
    settings: KernelSettings

    def entry_path(self, doc: Document) -> Path:
        return self.root / FREEZE_DIR / source_stem(doc.path) / "execute-results" / "bookbuild.json"

    def load(self, doc: Document) -> ExecutedChapter | None:
        """The frozen outputs of ``doc`` if, and only if, every input is unchanged."""
        path = self.entry_path(doc)
        try:
            entry: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if entry.get("key") != static_key(doc, self.root, self.settings):
            return None
        for group in ("modules", "reads"):
            for name, digest in entry.get(group, {}).items():
                if file_digest(self.root / name) != digest:
                    return None
        for name, digest in entry.get("listings", {}).items():
            if listing_digest(self.root / name) != digest:
                return None
        outputs, inline = entry.get("outputs"), entry.get("inline")
        if not isinstance(outputs, list) or len(outputs) != len(doc.cells):
            return None
        if not isinstance(inline, list) or len(inline) != len(doc.inlines):
            return None
        return ExecutedChapter(
            outputs=outputs,
            inline=inline,
            reads=sorted(entry["reads"]),
            listings=sorted(entry["listings"]),
            modules=sorted(entry["modules"]),
        )

    def save(self, doc: Document, result: ExecutedChapter) -> None:
        """Store ``result``, written atomically so an interrupted build leaves no torn entry."""
        entry = {
            "key": static_key(doc, self.root, self.settings),
            "source": doc.path,
            "modules": {n: file_digest(self.root / n) for n in result.modules},
            "reads": {n: file_digest(self.root / n) for n in result.reads},
            "listings": {n: listing_digest(self.root / n) for n in result.listings},
            "outputs": result.outputs,
            "inline": result.inline,
        }
        path = self.entry_path(doc)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entry, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
