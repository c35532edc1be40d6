"""The toolchain around the builder: where it finds npm packages, fonts and Chromium.

Every output format that needs one of these asks here, so no format imports another for a path.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

from .cache import sha
from .errors import BuildError

HERE = Path(__file__).resolve().parent
FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/truetype/dejavu"),
)
CHROMIUM = "/usr/bin/chromium"
# Keep Chromium from phoning home, so any request while printing is the deck's own doing.
CHROMIUM_FLAGS = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
)  # fmt: skip


def npm_asset(root: Path, relative_path: str) -> Path | None:
    """A file from ``node_modules`` (the project's, else the one beside the builder's checkout)."""
    for base in (root, HERE.parents[1]):
        candidate = base / "node_modules" / relative_path
        if candidate.is_file():
            return candidate
    return None


def require_npm_asset(root: Path, relative_path: str, what: str) -> Path:
    found = npm_asset(root, relative_path)
    if found is None:
        raise BuildError(
            f"{what} is missing: run `npm ci` (make book does) to install it", "package.json"
        )
    return found


def font_paths() -> list[str]:
    """Font folders given to Typst (its own embedded fonts plus Debian's Noto and DejaVu)."""
    return [str(d) for d in FONT_DIRS if d.is_dir()]


@cache
def fonts_key() -> str:
    """A hash of the font files Typst may use (names and sizes: fonts are never edited)."""
    names = sorted(f"{p}:{p.stat().st_size}" for d in FONT_DIRS if d.is_dir() for p in d.rglob("*"))
    return sha("\n".join(names))


def program(name: str, why: str, package: str, fallback: str | None = None) -> str:
    """The path of an engine the build runs, or a BuildError saying what needs it and which
    Debian package provides it."""
    found = shutil.which(name) or (fallback if fallback and Path(fallback).exists() else None)
    if found is None:
        raise BuildError(
            f"{why} and was not found: install the Debian package {package} (`make book` does)"
        )
    return found


def identity(path: str) -> str:
    """Which build of a program this is, without starting it: its resolved path and size."""
    resolved = Path(path).resolve()
    return f"{resolved}:{resolved.stat().st_size}"


def chromium_path() -> str:
    why = "Chromium is needed to print the slide handouts (slides/*.pdf)"
    return program("chromium", why, "chromium", fallback=CHROMIUM)


def chromium_identity() -> str:
    return identity(chromium_path())


def graphviz_path() -> str:
    return program("dot", "Graphviz draws the {dot} diagrams", "graphviz")
