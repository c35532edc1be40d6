"""Which code a drill's grader tests: the reader's starter, or the book's reference solution.

A grader does ``m = load("sampling")`` and then tests ``m.top_k_filter`` and friends. With
``DRILL_TARGET=starter`` (what ``make drill`` sets), ``m`` is ``code/drills/sampling.py``, the
file the reader edits; otherwise (the default, so ``make test`` proves the solutions) it is
``code/drills/solutions/sampling.py``, which re-exports the tested library code.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Literal

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "code"
ENV = "DRILL_TARGET"
type Target = Literal["solution", "starter"]
TARGETS: tuple[Target, ...] = ("solution", "starter")


def module_name(name: str) -> str:
    """The Python module of a drill: its kebab-case name in snake_case ("beam-search" ->
    "beam_search")."""
    return name.replace("-", "_")


def target() -> Target:
    """The target named by ``DRILL_TARGET``: "solution" (the default) or "starter"."""
    value = os.environ.get(ENV, "solution") or "solution"
    for known in TARGETS:
        if value == known:
            return known
    raise ValueError(f"{ENV} must be one of {', '.join(TARGETS)}, got {value!r}")


def load(name: str, which: Target | None = None) -> ModuleType:
    """Import drill `name`'s starter or solution module (``which`` defaults to `target()`)."""
    if str(CODE) not in sys.path:
        sys.path.insert(0, str(CODE))
    package = "drills" if (which or target()) == "starter" else "drills.solutions"
    return importlib.import_module(f"{package}.{module_name(name)}")
