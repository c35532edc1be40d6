"""Run the pandoc binary that ships in PyPI's ``pypandoc-binary`` (never a system pandoc).

Pinning pandoc through the Python lock keeps every machine on the same version, so the HTML,
Typst and EPUB a build produces do not depend on what the machine happens to have installed.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .errors import BuildError

FILTERS = Path(__file__).parent / "filters"


@cache
def pandoc_binary() -> str:
    import pypandoc

    path: str = pypandoc.get_pandoc_path()
    return path


@dataclass(frozen=True, slots=True)
class PandocResult:
    output: str
    warnings: list[str]


def run_pandoc(
    args: list[str],
    text: str,
    *,
    what: str,
    cwd: Path | None = None,
    file: str | None = None,
    env: dict[str, str] | None = None,
) -> PandocResult:
    """Run pandoc with ``text`` on stdin; a failure becomes a BuildError naming ``what``.

    ``env`` adds to (or overrides) this process's environment for the one run.
    """
    process = subprocess.run(
        [pandoc_binary(), *args],
        input=text.encode("utf-8"),
        capture_output=True,
        cwd=cwd,
        check=False,
        env={**os.environ, **env} if env else None,
    )
    stderr = process.stderr.decode("utf-8", errors="replace")
    if process.returncode != 0:
        raise BuildError(f"pandoc failed while {what}", file, None, stderr)
    warnings = [line for line in stderr.splitlines() if line.strip()]
    return PandocResult(process.stdout.decode("utf-8"), warnings)


def filter_path(name: str) -> str:
    return str(FILTERS / name)


def markdown_to_ast(markdown: str, *, file: str) -> dict[str, Any]:
    """Parse Pandoc Markdown (Quarto's dialect is Pandoc's) into the JSON AST."""
    result = run_pandoc(
        ["--from=markdown", "--to=json"], markdown, what="parsing Markdown", file=file
    )
    ast: dict[str, Any] = json.loads(result.output)
    return ast


def api_version() -> list[int]:
    """The pandoc AST API version, needed to build documents by hand."""
    ast = markdown_to_ast("", file="<probe>")
    version: list[int] = ast["pandoc-api-version"]
    return version
