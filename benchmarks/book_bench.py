"""``make bench``: build the real book in a scratch copy and print one table of what it costs.

Cases, in one run, each a fresh ``python -m bookbuild build`` process on the same scratch copy:

(a) clean: every output from nothing (no freeze, no output cache), default ``-j``;
(b) no-op: the same again, nothing changed;
(c) prose edit: one sentence added to a paragraph of "How LLMs work";
(d) code-cell edit: a comment added to one cell of "How LLMs work" (it re-executes);
(e) deck edit: one sentence changed on a slide of the foundations deck;

then the *irreducible engine time*: a second clean build with one job, where every engine call
runs alone, and the sum of those calls' durations from the builder's trace (each kernel's
execution, each pandoc, Typst and Chromium call). Wall time is ``time.perf_counter`` around the
process; peak memory is the largest resident set of the build or any process it waited for
(``wait4``). Benchmarks measure; no test ever times anything.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "chapters/01-foundations/concepts.qmd"
DECK = "slides/01-foundations.qmd"


@dataclass(frozen=True, slots=True)
class Run:
    name: str
    seconds: float
    peak_mb: float
    engine_seconds: float
    engine_calls: int


def scratch_copy(target: Path) -> Path:
    """The working tree's sources (tracked and untracked, not ignored) in ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / "node_modules").symlink_to(ROOT / "node_modules")
    return target


def build(root: Path, name: str, *extra: str) -> Run:
    trace = root / ".build" / f"trace-{name}.json"
    trace.parent.mkdir(parents=True, exist_ok=True)
    # The scratch copy's own package and builder, not the checkout's editable installs.
    env = {**os.environ, "PYTHONPATH": f"{root / 'code'}{os.pathsep}{root / 'tools'}"}
    command = [sys.executable, "-m", "bookbuild", "--root", str(root), "build", "--quiet",
               "--trace", str(trace), *extra]  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=root, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: the {name} build failed")
    calls = json.loads(trace.read_text(encoding="utf-8"))
    engine = sum(float(c["seconds"]) for c in calls)
    return Run(name, seconds, usage.ru_maxrss / 1024, engine, len(calls))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise SystemExit(f"bench: cannot find {old!r} in {path}")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def prose_edit(root: Path) -> None:
    path = root / CHAPTER
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # The first paragraph line after the title and setup cell: plain prose, no code.
    index = next(i for i, line in enumerate(lines) if line.startswith("Every LLM interview"))
    lines[index] = lines[index].rstrip("\n") + " (An added sentence.)\n"
    path.write_text("".join(lines), encoding="utf-8")


def code_edit(root: Path) -> None:
    path = root / CHAPTER
    text = path.read_text(encoding="utf-8")
    start = text.index("```{python}", text.index("```{python}") + 1)  # the first real cell
    end = text.index("\n", start)
    path.write_text(text[: end + 1] + "# an edit for the benchmark\n" + text[end + 1 :])


def deck_edit(root: Path) -> None:
    edit(root / DECK, "A transformer trained to", "A transformer that is trained to")


def table(runs: dict[str, Run], irreducible: Run) -> str:
    clean = runs["clean"].seconds
    rows = [
        "| case | wall time (s) | peak memory (MB) | engine calls |",
        "|---|---:|---:|---:|",
    ]
    labels = {
        "clean": "(a) clean build, every output",
        "noop": "(b) no-op rebuild",
        "prose": "(c) prose edit of one chapter",
        "code": "(d) code-cell edit of one chapter",
        "deck": "(e) edit of one deck",
    }
    for key, label in labels.items():
        run = runs[key]
        rows.append(f"| {label} | {run.seconds:.2f} | {run.peak_mb:.0f} | {run.engine_calls} |")
    rows.append(
        f"| irreducible engine time (-j 1, each call alone) | {irreducible.engine_seconds:.2f} "
        f"| {irreducible.peak_mb:.0f} | {irreducible.engine_calls} |"
    )
    ratios = [
        ("clean / irreducible", clean / irreducible.engine_seconds, 1.3),
        ("no-op / clean", runs["noop"].seconds / clean, 0.02),
        ("prose edit / clean", runs["prose"].seconds / clean, 0.15),
    ]
    rows += ["", "| ratio | measured | target | met |", "|---|---:|---:|---|"]
    for name, value, target in ratios:
        shown = f"{value:.3f}" if value < 1 else f"{value:.2f}"
        rows.append(f"| {name} | {shown} | ≤ {target:g} | {'yes' if value <= target else 'NO'} |")
    when = dt.datetime.now().strftime("%Y-%m-%d")
    return f"Measured {when} on {os.cpu_count()} cores:\n\n" + "\n".join(rows)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="book-bench-") as tmp:
        root = scratch_copy(Path(tmp) / "book")
        runs = {"clean": build(root, "clean", "--refresh")}
        runs["noop"] = build(root, "noop")
        prose_edit(root)
        runs["prose"] = build(root, "prose")
        code_edit(root)
        runs["code"] = build(root, "code")
        deck_edit(root)
        runs["deck"] = build(root, "deck")
        irreducible = build(root, "serial", "--refresh", "-j", "1")
    print(table(runs, irreducible))
    return 0


if __name__ == "__main__":
    sys.exit(main())
