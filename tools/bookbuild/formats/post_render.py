"""Quarto's ``project.post-render`` scripts (here: the flashcards), run only when needed.

As in Quarto, a script sees ``QUARTO_PROJECT_OUTPUT_DIR`` and ``QUARTO_PROJECT_DIR`` and runs
from the project root; a failing script fails the build. A script's inputs are not declared
anywhere, so they are recorded the way the freeze records a chapter's: the script runs under the
same audit hook (:mod:`bookbuild.kernel`), and the files it read and the project modules it
imported become the key of its outputs. The next build reuses those outputs while every
recorded file is unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..cache import file_sha, key, sha
from ..context import BookContext, Outputs
from ..errors import BuildError
from ..execute import IGNORED_DIRS
from ..pandoc import pandoc_identity
from ..progress import TRACE

_RUNNER = """\
import json, runpy, sys
import bookbuild.kernel as k
k.record(sys.argv[1], json.loads(sys.argv[2]))
report, sys.argv = sys.argv[4], [sys.argv[3]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as stop:
    if stop.code not in (None, 0):
        raise
finally:
    with open(report, "w") as out:
        json.dump(k.recorded(), out)
"""


def _digest(root: Path, name: str) -> str:
    path = root / name
    try:
        stat = path.stat()
    except FileNotFoundError:
        return "missing"
    if path.is_dir():
        return sha("\n".join(sorted(os.listdir(path))))
    return file_sha(path, (stat.st_size, stat.st_mtime_ns))


def _static_key(script: str, root: Path) -> str:
    return key("post-render", script, sys.version, pandoc_identity(), _digest(root, script))


def _load(ctx: BookContext, script: str) -> Outputs | None:
    entry_path = ctx.store.path("post-render", _static_key(script, ctx.project.root))
    try:
        entry: dict[str, Any] = json.loads(entry_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    for name, digest in entry["inputs"].items():
        if _digest(ctx.project.root, name) != digest:
            return None
    outputs: Outputs = {}
    for name, digest in entry["outputs"].items():
        path = ctx.store.path("post-render-file", str(digest))
        if not path.is_file():
            return None
        outputs[str(name)] = path
    return outputs


def _run(ctx: BookContext, script: str) -> Outputs:
    root = ctx.project.root
    folder = ctx.work / "post-render"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    reads_file = ctx.work / "post-render-reads.json"
    env = {**os.environ, **ctx.env, "QUARTO_PROJECT_OUTPUT_DIR": str(folder),
           "QUARTO_PROJECT_DIR": str(root)}  # fmt: skip
    if script.endswith(".py"):
        ignored = json.dumps(IGNORED_DIRS)
        command = [sys.executable, "-c", _RUNNER, str(root), ignored, script, str(reads_file)]
    else:
        command = script.split()
    with TRACE.timed("post-render", script):
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              check=False)  # fmt: skip
    if done.returncode != 0:
        reads_file.unlink(missing_ok=True)
        raise BuildError(f"post-render script '{script}' failed", "_quarto.yml", None, done.stderr)
    seen: dict[str, list[str]] = {"reads": [], "listings": [], "modules": []}
    if reads_file.is_file():
        seen = json.loads(reads_file.read_text(encoding="utf-8"))
        reads_file.unlink()
    names = {*seen["reads"], *seen["listings"], *seen["modules"]} - {script}
    outputs: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            digest = sha(data)
            ctx.store.put(ctx.store.path("post-render-file", digest), data)
            outputs[path.relative_to(folder).as_posix()] = digest
    entry = {"inputs": {n: _digest(root, n) for n in sorted(names)}, "outputs": outputs}
    ctx.store.put(ctx.store.path("post-render", _static_key(script, root)),
                  json.dumps(entry, indent=1).encode())  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)
    return {n: ctx.store.path("post-render-file", d) for n, d in outputs.items()}


def render(ctx: BookContext) -> Outputs:
    """Every post-render script's output files, from the cache when its inputs are unchanged.

    Scripts other than Python ones cannot be watched, so they run on every build.
    """
    out: Outputs = {}
    for script in ctx.project.post_render:
        cached = None if ctx.store.refresh or not script.endswith(".py") else _load(ctx, script)
        out.update(cached if cached is not None else _run(ctx, script))
    return out
