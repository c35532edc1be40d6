"""Write the fixed document collection the RAG chapters retrieve from: the book's own pages.

This is a one-off script, not part of the `llmprep` package and not part of the build. The
RAG chapters measure retrieval on a labelled set of questions about this book (chapters/_data/
rag/queries.yml), so they need a fixed copy of the text those questions point into: if they
read the live chapters, every prose edit would move the gold passages and change the measured
numbers. The copy is made from the *rendered* web book (numbers computed, code removed), once:

    make book   # at the commit named in chapters/_data/rag/README.md
    .venv/bin/python scripts/snapshot_rag_corpus.py

Each page's main content is converted to GitHub-flavoured Markdown by pandoc, with code
blocks, cell outputs, figures and navigation removed, and headings, paragraphs, lists, tables
and callouts kept (the structure-aware chunker uses the headings and keeps tables whole).
Do not re-run it after an edit: the snapshot is meant to stay fixed. Re-running it moves the
gold passages, which tests/rag/test_dataset.py will then reject until queries.yml is updated.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

import pypandoc

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "chapters" / "_data" / "rag" / "corpus"
# document id -> rendered page (the chapters that existed when the snapshot was taken)
PAGES = {
    "preface": "index.html",
    "how-llms-work": "chapters/01-foundations/concepts.html",
    "key-terminology": "chapters/01-foundations/key-terminology.html",
    "prompt-techniques": "chapters/02-prompting/techniques.html",
    "prompt-patterns": "chapters/02-prompting/patterns.html",
    "prompting-in-code": "chapters/02-prompting/examples.html",
}
DROP = [
    r"<script\b.*?</script>",
    r"<style\b.*?</style>",
    r"<nav\b.*?</nav>",
    r"<figure\b.*?</figure>",
    r"<pre\b.*?</pre>",
    r'<div class="cell-output[^"]*".*?</div>',
    r"<svg\b.*?</svg>",
    r"<img\b[^>]*>",
    r'<a class="anchorjs-link"[^>]*>.*?</a>',
]


def main_content(html: str) -> str:
    """The page's <main> element, without code, outputs, figures and navigation."""
    match = re.search(r"<main\b[^>]*>(.*)</main>", html, re.S)
    if match is None:
        raise SystemExit("no <main> element: is this a page of the rendered web book?")
    body = match.group(1)
    for pattern in DROP:
        body = re.sub(pattern, "", body, flags=re.S)
    return body


def to_markdown(html: str) -> str:
    text = pypandoc.convert_text(html, "gfm-raw_html", format="html", extra_args=["--wrap=none"])
    # Links become their text: a cross-reference's URL is noise to a retriever.
    text = re.sub(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)", r"\1", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=ROOT / "_book")
    parser.add_argument("--force", action="store_true", help="overwrite an existing snapshot")
    args = parser.parse_args()
    rev = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True, capture_output=True
        )
        .stdout.decode()
        .strip()
    )
    OUT.mkdir(parents=True, exist_ok=True)
    for doc_id, page in PAGES.items():
        target = OUT / f"{doc_id}.md"
        if target.exists() and not args.force:
            raise SystemExit(f"{target} exists; pass --force to overwrite the snapshot")
        html = (args.book / page).read_text(encoding="utf-8")
        target.write_text(to_markdown(main_content(html)), encoding="utf-8")
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size:,} bytes (from {page} at {rev})")


if __name__ == "__main__":
    main()
