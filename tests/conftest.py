"""Session-wide fixtures shared by the builder, book and browser tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import settings

from bookbuild.build import BuildOptions, BuildReport, build
from tests.builder.golden_files import build_fixture

# Property tests draw the same examples on every run, so a failure in CI reproduces locally.
settings.register_profile("book", derandomize=True, deadline=None)
settings.load_profile("book")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / ".build" / "test-artifacts"  # files a human may want to look at after a run


@pytest.fixture(scope="session")
def fixture_book_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture book (every builder feature), built once per test session."""
    return build_fixture(tmp_path_factory.mktemp("fixture-book") / "book")


@pytest.fixture(scope="session")
def real_book() -> BuildReport:
    """The real book, built from this checkout (the freeze cache makes rebuilds cheap)."""
    report = build(ROOT, BuildOptions(quiet=True))
    assert report.output is not None
    return report


@pytest.fixture(scope="module")
def flashcards() -> Iterator[ModuleType]:
    """``tools/flashcards.py`` (a script, not a package module), imported from its file; shared
    by the real-book card tests and the drill-card tests."""
    spec = importlib.util.spec_from_file_location("flashcards", ROOT / "tools" / "flashcards.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]
