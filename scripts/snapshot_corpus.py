"""Write the fixed training text of the foundations chapter's tiny BPE and tiny language model.

This is a one-off script, not part of the `llmprep` package and not part of the build. The
chapter "How LLMs work" and its deck train a byte-level BPE and a character-level language
model on "this book's own text". They used to read the live sources (`index.qmd` and
`chapters/01-foundations/concepts.qmd`), so every prose edit changed what the models learned
and forced both to re-execute. They now read a snapshot of those sources, written once by
this script and committed:

    .venv/bin/python scripts/snapshot_corpus.py --rev 44e1e99

It reads each source as it was at the Git revision `--rev` (`git show REV:PATH`), so the same
command always writes the same bytes, and concatenates them in order, exactly as the chapter
cells used to. Do not re-run it after an edit: the snapshot is meant to stay fixed. Re-run it
only to change the examples' data on purpose, and then re-read every number and claim in the
prose that comes from those examples (the merge table, the compression figure, the token
counts and the tiny model's losses and samples), and update `chapters/_data/corpus/README.md`.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The preface, then the chapter: the order the chapter's cells concatenated them in.
SOURCES = ("index.qmd", "chapters/01-foundations/concepts.qmd")
OUT = ROOT / "chapters" / "_data" / "corpus" / "preface-and-foundations.txt"


def source_at(rev: str, path: str) -> str:
    """The text of `path` at Git revision `rev`, exactly as committed."""
    shown = subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True
    )
    return shown.stdout.decode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Snapshot the foundations examples' corpus.")
    parser.add_argument("--rev", required=True, help="the Git revision to snapshot")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the snapshot")
    parser.add_argument("--force", action="store_true", help="overwrite an existing snapshot")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.force:
        parser.error(f"{args.out} exists; the snapshot is meant to stay fixed (use --force)")
    text = "".join(source_at(args.rev, path) for path in SOURCES)
    data = text.encode("utf-8")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{args.out}: {len(text):,} characters, {len(data):,} bytes")
    print(f"sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
