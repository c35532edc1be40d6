"""The "Evaluation and safety" chapter's figure helpers: sample sizes, intervals, pass@k
estimators, the position-biased judge and the scanner threshold sweep, checked on
behaviour (monotonicity, agreement with closed forms, invariants), not on pixels."""

from __future__ import annotations

import asyncio
import itertools
import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmprep.core.messages import Message
from llmprep.production import evals
from llmprep.production.figures import evaluation as figs

# -----------------------------------------------------------------------------
# sample size


def test_paired_sample_size_matches_the_hand_computed_case() -> None:
    # (1.96 * sqrt(0.1) + 0.8416 * sqrt(0.1 - 0.0025))^2 / 0.0025 = 311.6 -> 312
    assert figs.paired_sample_size(0.05, 0.10) == 312


def test_pairing_needs_fewer_cases_than_two_independent_sets() -> None:
    for row in figs.sample_size_rows(0.8, [0.03, 0.05, 0.1], [0.1, 0.2]):
        for n in row.paired.values():
            assert n is not None
            assert n < 2 * row.independent_per_arm


def test_more_disagreement_needs_more_cases_and_a_smaller_gap_needs_more() -> None:
    assert figs.paired_sample_size(0.05, 0.2) > figs.paired_sample_size(0.05, 0.1)
    assert figs.paired_sample_size(0.025, 0.1) > 3 * figs.paired_sample_size(0.05, 0.1)


def test_a_gap_larger_than_the_disagreement_is_impossible() -> None:
    with pytest.raises(ValueError, match="discordant"):
        figs.paired_sample_size(0.15, 0.10)
    row = figs.sample_size_rows(0.8, [0.15], [0.1, 0.2])[0]
    assert row.paired[0.1] is None
    assert row.paired[0.2] is not None


def test_sample_size_rows_use_the_independent_formula_and_reject_bad_gaps() -> None:
    row = figs.sample_size_rows(0.8, [0.05], [0.1])[0]
    assert row.independent_per_arm == evals.sample_size_two_proportions(0.8, 0.85)
    with pytest.raises(ValueError, match="gap"):
        figs.sample_size_rows(0.8, [0.25], [0.3])


def test_sample_size_figure_draws_one_line_per_design() -> None:
    rows = figs.sample_size_rows(0.8, [0.02, 0.05, 0.1], [0.1, 0.2])
    fig = figs.sample_size_figure(rows)
    (ax,) = fig.axes
    assert len(ax.lines) == 3
    assert ax.get_yscale() == "log"
    independent = [float(y) for y in np.asarray(ax.lines[0].get_ydata())]
    assert list(independent) == sorted(independent, reverse=True)  # falls with the gap
    with pytest.raises(ValueError, match="at least one"):
        figs.sample_size_figure([])


# -----------------------------------------------------------------------------
# intervals


def test_wald_collapses_at_the_edge_where_wilson_does_not() -> None:
    assert figs.wald_interval(20, 20) == (1.0, 1.0)
    assert evals.wilson_interval(20, 20).low < 0.9
    with pytest.raises(ValueError, match="successes"):
        figs.wald_interval(21, 20)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2000), st.floats(0.0, 1.0))
def test_the_wald_interval_stays_inside_0_1_and_contains_the_estimate(n: int, p: float) -> None:
    k = round(p * n)
    low, high = figs.wald_interval(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_intervals_narrow_with_n_and_agree_for_large_n() -> None:
    points = figs.interval_widths([0.8], [50, 500, 5000])
    widths = [pt.wilson for pt in points]
    assert widths == sorted(widths, reverse=True)
    big = points[-1]
    assert big.wald == pytest.approx(big.wilson, rel=0.01)
    fig = figs.wilson_width_figure(points)
    assert len(fig.axes[0].lines) == 2  # Wilson and Wald for the one p


# -----------------------------------------------------------------------------
# pass@k


@pytest.mark.parametrize("p", [0.05, 0.2, 0.5, 0.9])
def test_the_unbiased_estimator_is_unbiased_and_the_plug_in_is_low(p: float) -> None:
    curve = figs.expected_pass_at_k(p, 10, range(1, 11))
    for true, unbiased, plug in zip(curve.true, curve.unbiased, curve.plug_in, strict=True):
        assert unbiased == pytest.approx(true, abs=1e-9)
        assert plug <= true + 1e-12
    assert curve.plug_in[0] == pytest.approx(curve.true[0])  # k = 1: both are c / n
    assert curve.plug_in[-1] < curve.true[-1]  # and they part as k grows


def test_pass_at_k_rejects_k_above_n_and_draws_three_series_per_rate() -> None:
    with pytest.raises(ValueError, match="k"):
        figs.expected_pass_at_k(0.2, 5, [6])
    curves = [figs.expected_pass_at_k(p, 8, range(1, 9)) for p in (0.1, 0.5)]
    fig = figs.pass_at_k_figure(curves)
    assert len(fig.axes[0].lines) == 6


# -----------------------------------------------------------------------------
# the position-biased judge


def _prompt(first: str, second: str) -> list[Message]:
    return [Message.user(f"[Question]\nQ?\n\n[Answer A]\n{first}\n\n[Answer B]\n{second}")]


def test_a_fully_biased_judge_always_names_the_first_answer_when_it_cannot_see() -> None:
    pairs = [figs.JudgePair("Q?", "good", "bad", visible=0.0)]
    rule = figs.biased_judge_rule(pairs, 1.0)
    assert rule(_prompt("good", "bad")).endswith("Verdict: A")
    assert rule(_prompt("bad", "good")).endswith("Verdict: A")


def test_a_judge_that_sees_the_difference_is_right_in_both_orders() -> None:
    pairs = [figs.JudgePair("Q?", "good", "bad", visible=1.0)]
    rule = figs.biased_judge_rule(pairs, 1.0)
    assert rule(_prompt("good", "bad")).endswith("Verdict: A")
    assert rule(_prompt("bad", "good")).endswith("Verdict: B")


def test_the_sweep_turns_bias_into_ties_and_never_into_agreed_errors() -> None:
    points = asyncio.run(figs.position_bias_sweep([0.5, 0.8, 1.0], pairs=120, seed=1))
    for pt in points:
        assert pt.swap_correct + pt.swap_tie + pt.swap_wrong == pytest.approx(1.0)
    none, mid, full = points
    assert full.swap_wrong == 0.0  # a judge that always guesses "first" can never agree wrongly
    assert full.better_first == 1.0
    assert full.better_first - full.better_second > mid.better_first - mid.better_second
    assert full.swap_tie > none.swap_tie
    # the measured first-position share rises with the bias that was set
    assert none.first_position_wins < mid.first_position_wins < full.first_position_wins
    fig = figs.position_bias_figure(points)
    assert len(fig.axes) == 2


def test_the_sweep_is_deterministic_for_a_seed() -> None:
    a = asyncio.run(figs.position_bias_sweep([0.7], pairs=50, seed=3))
    b = asyncio.run(figs.position_bias_sweep([0.7], pairs=50, seed=3))
    assert a == b


def test_bad_judge_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="first_bias"):
        figs.biased_judge_rule([], 1.5)
    with pytest.raises(ValueError, match="count"):
        figs.judge_pairs(0)


# -----------------------------------------------------------------------------
# guardrail threshold sweep


def test_threshold_sweep_counts_recall_and_false_positives() -> None:
    scores = [0.9, 0.6, 0.3, 0.7, 0.2, 0.1]
    labels = [True, True, True, False, False, False]
    low, mid, high = figs.threshold_sweep(scores, labels, [0.0, 0.5, 0.95])
    assert (low.recall, low.false_positive_rate) == (1.0, 1.0)
    assert mid.recall == pytest.approx(2 / 3)
    assert mid.false_positive_rate == pytest.approx(1 / 3)
    assert (high.recall, high.false_positive_rate) == (0.0, 0.0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=2, max_size=40))
def test_raising_the_threshold_never_raises_either_rate(cases: list[tuple[float, bool]]) -> None:
    scores = [s for s, _ in cases]
    labels = [a for _, a in cases]
    if all(labels) or not any(labels):
        with pytest.raises(ValueError, match="attack"):
            figs.threshold_sweep(scores, labels, [0.5])
        return
    points = figs.threshold_sweep(scores, labels, [i / 10 for i in range(11)])
    for before, after in itertools.pairwise(points):
        assert after.recall <= before.recall
        assert after.false_positive_rate <= before.false_positive_rate
    assert not math.isnan(points[0].recall)


def test_threshold_figure_marks_the_default() -> None:
    points = figs.threshold_sweep([0.9, 0.1], [True, False], [0.2, 0.5, 0.8])
    fig = figs.threshold_figure(points, chosen=0.5)
    assert len(fig.axes[0].lines) == 3
    with pytest.raises(ValueError, match="scores"):
        figs.threshold_sweep([0.5], [True, False], [0.5])


@dataclass(frozen=True, slots=True)
class _Rates:
    tp: int
    fn: int
    fp: int
    tn: int


def test_scanner_table_compares_scanners_per_category() -> None:
    rules = {"direct": _Rates(8, 2, 0, 0), "benign-tricky": _Rates(0, 0, 1, 9)}
    both = {"direct": _Rates(10, 0, 0, 0), "benign-tricky": _Rates(0, 0, 3, 7)}
    rows = figs.scanner_table_rows({"rules": rules, "rules + similarity": both})
    assert rows[0].count("Caught") == 2
    assert rows[2] == "| direct | 10 | 0 | 8 of 10 (80%) | 10 of 10 (100%) | \u2013 | \u2013 |"
    assert rows[3].endswith("| 1 of 10 (10%) | 3 of 10 (30%) |")
    with pytest.raises(ValueError, match="scanner"):
        figs.scanner_table_rows({})
