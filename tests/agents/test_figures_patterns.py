"""The patterns chapter's computations: the failure sweep matches 1 - r^attempts, retries
help only within the loop threshold, pass^k and pass@k match their closed forms, and the
token model's designs keep the orderings the chapter states."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.agents.booktools import book_tools
from llmprep.agents.figures.patterns import (
    CostAssumptions,
    Policy,
    agent_token_cost,
    failing_calls,
    failure_sweep,
    pass_at_k,
    pass_curves,
    pass_hat_k,
    success_vs_failure_rate,
)
from llmprep.agents.tools import AnyTool

from .conftest import run


def search() -> AnyTool:
    tool = book_tools().get("search_book")
    assert tool is not None
    return tool


def test_failing_calls_is_seeded_and_follows_the_rate() -> None:
    assert failing_calls(0.3, 7) == failing_calls(0.3, 7)
    assert failing_calls(0.0, 7) == set()
    assert failing_calls(1.0, 7) == set(range(1, 21))


def test_the_sweep_counts_successes_and_retries_help() -> None:
    policies = [Policy("none", 0), Policy("retry", 2, loop_threshold=4)]
    points = run(failure_sweep(search(), [0.0, 0.5, 1.0], policies, trials=40))
    rate = {(p.policy, p.rate): p.success_rate for p in points}
    assert rate["none", 0.0] == rate["retry", 0.0] == 1.0
    assert rate["none", 1.0] == rate["retry", 1.0] == 0.0
    assert rate["retry", 0.5] > rate["none", 0.5]
    assert abs(rate["none", 0.5] - 0.5) < 0.2  # one attempt: about 1 - r


def test_the_default_loop_threshold_cuts_a_third_identical_retry() -> None:
    # Retrying the same call is, to loop detection, the same call three times.
    points = run(failure_sweep(search(), [1.0], [Policy("retry", 2)], trials=5))
    assert dict(points[0].stops) == {"loop_detected": 5}


@given(st.integers(1, 12).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_pass_hat_k_never_exceeds_pass_at_k(nc: tuple[int, int]) -> None:
    n, c = nc
    for k in range(1, n + 1):
        assert pass_hat_k(n, c, k) <= c / n + 1e-12 <= pass_at_k(n, c, k) + 2e-12


def test_pass_metrics_at_k_one_are_the_success_rate() -> None:
    assert pass_hat_k(8, 6, 1) == pass_at_k(8, 6, 1) == 0.75
    assert pass_hat_k(4, 2, 2) == pytest.approx(1 / 6)
    assert pass_at_k(4, 2, 2) == pytest.approx(5 / 6)
    with pytest.raises(ValueError, match="need 0 <= c <= n"):
        pass_hat_k(3, 4, 1)


def test_token_model_orderings() -> None:
    a = CostAssumptions()
    single, reports, transcripts, chain = agent_token_cost(a)
    # at equal work, separate short contexts beat one long one (less re-reading)
    assert reports.input_tokens < transcripts.input_tokens < single.input_tokens
    # a hand-off that passes everything re-reads exactly what a single agent does
    assert chain.input_tokens == single.input_tokens
    broad = agent_token_cost(replace(a, worker_steps=a.steps))[1]
    assert broad.input_tokens > 2 * single.input_tokens
    assert single.usd("gpt-5-mini") > 0


def test_figures_draw_one_line_per_series() -> None:
    points = run(failure_sweep(search(), [0.0, 1.0], [Policy("none", 0)], trials=2))
    fig = success_vs_failure_rate(points, {"none": 1})
    assert len(fig.axes[0].lines) == 2
    fig = pass_curves([0.5, 0.9], [1, 2, 4])
    assert len(fig.axes[0].lines) == 4
    legend = fig.axes[0].get_legend()
    assert legend is not None
    assert len(legend.get_texts()) == 4  # two p values, two line styles
