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


def chromium_path() -> str:
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found is None:
        raise BuildError(
            "Chromium is needed to print the slide handouts (slides/*.pdf) and was not found: "
            "install the Debian package chromium (`make book` does)"
        )
    return found


def chromium_identity() -> str:
    """Which Chromium this is, without starting it: the binary's path and size."""
    path = Path(chromium_path()).resolve()
    return f"{path}:{path.stat().st_size}"
