"""Golden tests: each Lua filter's output, and the page template's, against reviewed files.

After a deliberate change, run `make golden` and review `git diff tests/builder/golden`.
"""

from __future__ import annotations

import pytest

from tests.builder.golden_files import CASES, Case, diff


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.sample}->{c.to}")
def test_filter_output_matches_golden_file(case: Case) -> None:
    assert diff(case) == "", "output changed; run `make golden` and review the diff"
