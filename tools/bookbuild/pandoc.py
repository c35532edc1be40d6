"""Run the pandoc binary that ships in PyPI's ``pypandoc-binary`` (never a system pandoc).

Pinning pandoc through the Python lock keeps every machine on the same version, so the HTML,
Typst and EPUB a build produces do not depend on what the machine happens to have installed.

:func:`run_pandoc` runs it; :func:`cached_pandoc` runs it at most once per distinct input: the
key covers pandoc's identity, the arguments, the text on stdin, every filter, template and
stylesheet named in the arguments and any other file the caller says the run reads.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from .cache import OutputCache, files_key, key
from .errors import BuildError
from .progress import TRACE

FILTERS = Path(__file__).parent / "filters"
_FILE_ARGS = ("--lua-filter=", "--template=", "--css=", "--csl=", "--bibliography=")


@cache
def pandoc_binary() -> str:
    import pypandoc

    path: str = pypandoc.get_pandoc_path()
    return path


@cache
def pandoc_identity() -> str:
    """Which pandoc this is, cheaply: the package version and the binary's size."""
    try:
        version = metadata.version("pypandoc-binary")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}:{Path(pandoc_binary()).stat().st_size}"


@dataclass(frozen=True, slots=True)
class PandocResult:
    output: str
    warnings: list[str]
    data: bytes = b""  # the raw output (for binary formats such as EPUB)


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
    with TRACE.timed("pandoc", f"{what} ({file})" if file else what):
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
    return PandocResult(process.stdout.decode("utf-8", errors="replace"), warnings, process.stdout)


def cached_pandoc(
    store: OutputCache,
    args: list[str],
    text: str,
    *,
    what: str,
    reads: Iterable[Path] = (),
    inputs: str = "",
    prepare: Callable[[], None] | None = None,
    scratch: Path | None = None,
    cwd: Path | None = None,
    file: str | None = None,
    env: dict[str, str] | None = None,
) -> PandocResult:
    """:func:`run_pandoc`, but served from the output cache when nothing it reads changed.

    ``reads`` are files pandoc reads that the arguments do not name; ``inputs`` is a digest of
    anything else it reads (the figures a format embeds), which ``prepare`` puts on disk just
    before pandoc runs -- so a cache hit writes nothing. ``scratch`` is the build's temporary
    folder: its (per-build) name is left out of the key.
    """
    named = [Path(a.split("=", 1)[1]) for a in args if a.startswith(_FILE_ARGS)]
    stable = [a.replace(str(scratch), "<scratch>") for a in args] if scratch else args
    digest = key(pandoc_identity(), stable, text, env, files_key([*named, *reads]), inputs)
    cwd_arg = cwd

    def make() -> bytes:
        if prepare is not None:
            prepare()
        result = run_pandoc(args, text, what=what, cwd=cwd_arg, file=file, env=env)
        return json.dumps(result.warnings).encode() + b"\n" + result.data

    blob = store.get("pandoc", digest, make)
    head, _, data = blob.partition(b"\n")
    warnings: list[str] = json.loads(head)
    return PandocResult(data.decode("utf-8", errors="replace"), warnings, data)


def filter_path(name: str) -> str:
    return str(FILTERS / name)


def format_filters(*, chapters: bool = False) -> list[str]:
    """The filters every output format runs: callouts and conditional content (and the
    chapter/part shaping of the paged formats)."""
    names = ["callouts.lua", "book.lua"] + (["chapters.lua"] if chapters else [])
    return [f"--lua-filter={filter_path(n)}" for n in names]


def markdown_to_ast(
    markdown: str, *, file: str, store: OutputCache | None = None
) -> dict[str, Any]:
    """Parse Pandoc Markdown (Quarto's dialect is Pandoc's) into the JSON AST."""
    args = ["--from=markdown", "--to=json"]
    if store is None:
        result = run_pandoc(args, markdown, what="parsing Markdown", file=file)
    else:
        result = cached_pandoc(store, args, markdown, what="parsing Markdown", file=file)
    ast: dict[str, Any] = json.loads(result.output)
    return ast


def api_version(store: OutputCache | None = None) -> list[int]:
    """The pandoc AST API version, needed to build documents by hand."""
    ast = markdown_to_ast("", file="<probe>", store=store)
    version: list[int] = ast["pandoc-api-version"]
    return version
