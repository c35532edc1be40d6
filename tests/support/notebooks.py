"""Typed wrappers over nbformat and nbclient (neither ships type hints)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def read(path: Path) -> Any:
    """Read and validate a notebook."""
    import nbformat

    reader: Callable[..., Any] = nbformat.read
    notebook = reader(str(path), as_version=4)
    nbformat.validate(notebook)
    return notebook


def execute(notebook: Any, cwd: Path, timeout: int = 300) -> Any:
    """Run every cell in a fresh kernel with ``cwd`` as the working directory."""
    from nbclient import NotebookClient

    NotebookClient(notebook, timeout=timeout, resources={"metadata": {"path": str(cwd)}}).execute()
    return notebook
