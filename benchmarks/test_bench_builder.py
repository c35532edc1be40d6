"""How long the builder takes on the fixture book when every chapter comes from the freeze."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bookbuild.build import BuildOptions, build
from bookbuild.golden import FIXTURE_BOOK


def test_rebuild_from_freeze(benchmark: Any, tmp_path: Path) -> None:
    root = tmp_path / "book"
    shutil.copytree(FIXTURE_BOOK, root)
    options = BuildOptions(log=lambda _: None)
    build(root, options)  # execute once; the benchmark measures rebuilds
    report = benchmark.pedantic(build, args=(root, options), rounds=3, iterations=1)
    assert report.executed == []
