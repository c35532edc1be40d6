"""Grading starters (``DRILL_TARGET=starter``, as ``make drill`` sets it): a faster Hypothesis
profile, and one summary line per drill, "N of M checks pass"."""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath

import pytest
from hypothesis import Phase, settings

from tests.drills.target import target

# Against a starter every example fails at once. Hypothesis still shrinks it to a small
# counterexample (useful to the reader), but skips its "explain" phase, which traces every
# line of the failing runs and takes most of the time.
settings.register_profile(
    "drill-starter",
    parent=settings.get_profile("book"),
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
if target() == "starter":
    settings.load_profile("drill-starter")


def _drill(nodeid: str) -> str | None:
    """The drill a test belongs to, from its file (``tests/drills/test_beam_search.py``)."""
    stem = PurePosixPath(nodeid.split("::")[0]).stem
    if not stem.startswith("test_") or stem == "test_drills":
        return None
    return stem.removeprefix("test_").replace("_", "-")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if target() != "starter":
        return
    passed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            drill = _drill(getattr(report, "nodeid", ""))
            if drill is None or (outcome == "passed" and report.when != "call"):
                continue
            total[drill] += 1
            passed[drill] += outcome == "passed"
    if not total:
        return
    terminalreporter.section("drills", sep="=")
    for drill in sorted(total):
        n, m = passed[drill], total[drill]
        verdict = "done: compare with the solution on its page" if n == m else "keep going"
        terminalreporter.write_line(f"drill {drill}: {n} of {m} checks pass ({verdict})")
    if len(total) > 1:
        done = sum(passed[d] == total[d] for d in total)
        terminalreporter.write_line(f"{done} of {len(total)} drills complete")
