"""The "Production in code" chapter's figures: the data behind them, and that each draws."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

from llmprep.production.figures.examples import (
    amplification_figure,
    bucket_figure,
    bucket_trace,
    cost_figure,
    latency_figure,
    retry_schedule,
    schedule_figure,
    stack_table,
    success_figure,
    timeline_figure,
)
from llmprep.production.load import STACKS, LoadReport, Scenario, Window, run_load
from llmprep.production.retry import RetryPolicy, backoff_cap


def test_the_schedule_draws_within_each_jitter_band_and_respects_the_deadline() -> None:
    policy = RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=8.0, deadline=30.0)
    schedule = retry_schedule(policy, clients=50)
    assert schedule.caps == tuple(backoff_cap(policy, k) for k in range(1, 8))
    assert set(schedule.waits) == {"full", "equal", "none"}
    for k, cap in enumerate(schedule.caps):
        assert set(schedule.waits["none"][k]) == {cap}
        assert all(0 <= w <= cap for w in schedule.waits["full"][k])
        assert all(cap / 2 <= w <= cap for w in schedule.waits["equal"][k])
        assert len(set(schedule.waits["full"][k])) == 50  # spread out: all different
    caps_so_far = list(itertools.accumulate(schedule.caps))
    assert [ts[0] for ts in schedule.elapsed("none")] == caps_so_far
    # without jitter the last retry (after 0.5+1+2+4+8+8+8 = 31.5 s) misses the deadline
    assert schedule.within_deadline("none") == [1.0] * 6 + [0.0]
    assert all(0 <= share <= 1 for share in schedule.within_deadline("full"))
    assert retry_schedule(policy, clients=50) == schedule
    fig = schedule_figure(schedule)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2


@settings(max_examples=40, deadline=None)
@given(
    rate=st.floats(0.5, 20.0),
    capacity=st.integers(1, 10),
    gaps=st.lists(st.floats(0.0, 2.0), min_size=1, max_size=60),
)
def test_the_bucket_never_admits_more_than_capacity_plus_rate_times_t(
    rate: float, capacity: int, gaps: list[float]
) -> None:
    times = list(itertools.accumulate(gaps))
    steps = bucket_trace(rate, capacity, times)
    assert len(steps) == len(times)
    for i, first in enumerate(steps):
        for last in steps[i:]:
            admitted = sum(s.admitted for s in steps if first.at <= s.at <= last.at)
            assert admitted <= capacity + rate * (last.at - first.at) + 1e-6
    assert all(0 <= s.after <= s.before <= capacity + 1e-9 for s in steps)


def test_bucket_trace_admits_a_burst_up_to_capacity_then_rejects() -> None:
    steps = bucket_trace(2.0, 5.0, [0.0] * 8)
    assert [s.admitted for s in steps] == [True] * 5 + [False] * 3
    fig = bucket_figure(steps, 2.0, 5.0)
    assert isinstance(fig, Figure)


@pytest.fixture(scope="module")
def reports() -> list[LoadReport]:
    base = Scenario()
    small = dataclasses.replace(
        base,
        requests=600,
        spike=Window(10.0, 20.0),
        primary=dataclasses.replace(base.primary, outages=(Window(30.0, 45.0),)),
    )
    return [run_load(small, stack) for stack in STACKS]


def test_stack_table_has_a_row_per_stack(reports: list[LoadReport]) -> None:
    table = stack_table(reports).splitlines()
    assert len(table) == 2 + len(reports)
    assert all(row.count("|") == table[0].count("|") for row in table)
    for row, report in zip(table[2:], reports, strict=True):
        assert f"`{report.stack}`" in row
        assert f"{report.success_rate:.1%}" in row


def test_every_load_figure_draws(reports: list[LoadReport]) -> None:
    figures = [
        success_figure(reports),
        latency_figure(reports),
        cost_figure(reports, ["primary", "fallback"]),
        amplification_figure(reports),
        timeline_figure(reports[2], reports[3], outage=Window(30.0, 45.0), window=(0, 60)),
    ]
    assert all(isinstance(f, Figure) for f in figures)
    assert len(figures[2].axes) == 2
    assert len(figures[4].axes) == 2
    # one bar per stack in the success figure, labelled with its rate
    (ax,) = figures[0].axes
    assert len(ax.patches) == len(reports)
    assert [t.get_text().split()[0] for t in ax.texts] == [f"{r.success_rate:.1%}" for r in reports]
