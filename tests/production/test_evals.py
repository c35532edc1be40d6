"""Eval statistics checked against scipy, hand computations and simulation; run_eval end to end."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from llmprep.core.messages import (
    Message,
)
from llmprep.core.scripted import Fault, ScriptedLLM
from llmprep.production.evals import (
    EvalCase,
    bootstrap_ci,
    contains_expected,
    exact_match,
    load_golden_set,
    mcnemar_p,
    paired_bootstrap_diff,
    pass_at_k,
    run_eval,
    sample_size_two_proportions,
    wilson_interval,
)
from tests.support.llms import InFlight

# -- Wilson ---------------------------------------------------------------------


@given(st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_matches_scipy(kn: tuple[int, int]) -> None:
    k, n = kn
    ours = wilson_interval(k, n)
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert ours.estimate == pytest.approx(k / n)
    assert ours.low == pytest.approx(ref.low, abs=1e-9)
    assert ours.high == pytest.approx(ref.high, abs=1e-9)


@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.99])
def test_wilson_other_confidence_levels(confidence: float) -> None:
    ref = stats.binomtest(37, 50).proportion_ci(confidence_level=confidence, method="wilson")
    ours = wilson_interval(37, 50, confidence)
    assert (ours.low, ours.high) == pytest.approx((ref.low, ref.high), abs=1e-9)


def test_wilson_is_honest_at_the_extremes() -> None:
    """20/20 is not "100% ± 0": the interval still reaches well below 1."""
    perfect = wilson_interval(20, 20)
    assert perfect.high == 1.0
    assert perfect.low < 0.85


@pytest.mark.parametrize(("k", "n"), [(-1, 10), (11, 10), (0, 0)])
def test_wilson_rejects_bad_counts(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        wilson_interval(k, n)


# -- bootstrap -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["binary", "ratings", "skewed"])
def test_bootstrap_matches_scipy_percentile(kind: str) -> None:
    rng = np.random.default_rng(7)
    values = {
        "binary": rng.random(200) < 0.7,
        "ratings": rng.integers(1, 6, 150),
        "skewed": rng.exponential(1.0, 120),
    }[kind].astype(float)
    ours = bootstrap_ci(values, rng=np.random.default_rng(1))
    ref = stats.bootstrap(
        (values,), np.mean, method="percentile", n_resamples=10_000, random_state=2
    ).confidence_interval
    # Two Monte-Carlo estimates of the same quantiles: they agree to within their own noise.
    tolerance = 0.05 * values.std()
    assert ours.low == pytest.approx(ref.low, abs=tolerance)
    assert ours.high == pytest.approx(ref.high, abs=tolerance)
    assert ours.estimate == pytest.approx(values.mean())


def test_bootstrap_is_reproducible_and_takes_a_statistic() -> None:
    values = [1.0, 2.0, 3.0, 10.0, 4.0, 2.5]
    assert bootstrap_ci(values) == bootstrap_ci(values)
    median = bootstrap_ci(values, statistic=np.median)
    assert median.estimate == 2.75
    assert median.low <= median.estimate <= median.high


@pytest.mark.parametrize("bad", [[], [1.0], [[1.0, 2.0]]])
def test_bootstrap_rejects_too_little_data(bad: Sequence[float]) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap_ci(bad)


def test_paired_bootstrap_sees_what_unpaired_intervals_miss() -> None:
    """Shared case difficulty: B is 3 points better on every case, plus small noise.

    The two separate intervals overlap, yet the paired difference is clearly above 0.
    """
    rng = np.random.default_rng(3)
    difficulty = rng.random(300)
    a = difficulty
    b = np.clip(difficulty + 0.03 + rng.normal(0, 0.02, 300), 0, 1)
    ia, ib = bootstrap_ci(a), bootstrap_ci(b)
    assert ia.high > ib.low  # the unpaired intervals overlap
    diff = paired_bootstrap_diff(a, b)
    assert diff.estimate == pytest.approx(float(np.mean(b - a)))
    assert diff.low > 0.02


def test_paired_bootstrap_of_a_constant_gain_is_that_gain() -> None:
    a = [0.1, 0.5, 0.9, 0.3]
    diff = paired_bootstrap_diff(a, [x + 0.25 for x in a])
    assert (diff.low, diff.estimate, diff.high) == pytest.approx((0.25, 0.25, 0.25))


def test_paired_bootstrap_needs_pairs() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        paired_bootstrap_diff([1, 0, 1], [1, 0])


# -- McNemar -----------------------------------------------------------------------


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=200))
def test_mcnemar_is_a_binomial_test_on_the_discordant_pairs(pairs: list[tuple[bool, bool]]) -> None:
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    n_ab = sum(x and not y for x, y in pairs)
    n_ba = sum(y and not x for x, y in pairs)
    expected = 1.0 if n_ab + n_ba == 0 else stats.binomtest(n_ab, n_ab + n_ba, 0.5).pvalue
    assert mcnemar_p(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_mcnemar_ignores_cases_both_get_right() -> None:
    """Adding 1,000 cases both systems pass changes nothing: only disagreements count."""
    a, b = [True] * 9 + [False], [False] * 9 + [True]
    assert mcnemar_p(a, b) == mcnemar_p(a + [True] * 1000, b + [True] * 1000)
    assert mcnemar_p(a, b) == pytest.approx(2 * 11 / 1024)


# -- sample size -------------------------------------------------------------------


def test_sample_size_by_hand() -> None:
    """80% vs 85%, alpha 0.05 two-sided, power 0.8, worked through on paper."""
    z_a, z_b = 1.959963984540054, 0.8416212335729143
    root = z_a * math.sqrt(2 * 0.825 * 0.175) + z_b * math.sqrt(0.8 * 0.2 + 0.85 * 0.15)
    by_hand = math.ceil(root**2 / 0.05**2)
    assert by_hand == 906
    assert sample_size_two_proportions(0.80, 0.85) == by_hand
    assert sample_size_two_proportions(0.85, 0.80) == by_hand


def test_sample_size_delivers_the_stated_power() -> None:
    """With n per arm, a seeded simulation of the z-test detects 80% vs 85% about 80% of runs."""
    n = sample_size_two_proportions(0.80, 0.85)
    rng = np.random.default_rng(11)
    runs = 20_000
    x1, x2 = rng.binomial(n, 0.80, runs), rng.binomial(n, 0.85, runs)
    pooled = (x1 + x2) / (2 * n)
    z = (x2 - x1) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
    power = float(np.mean(np.abs(z) > 1.959963984540054))
    assert power == pytest.approx(0.80, abs=0.015)


def test_halving_the_difference_quadruples_the_sample() -> None:
    wide = sample_size_two_proportions(0.70, 0.80)
    narrow = sample_size_two_proportions(0.70, 0.75)
    assert 3.5 < narrow / wide < 4.5


@pytest.mark.parametrize(
    ("p1", "p2", "kw"),
    [
        (0.8, 0.8, {}),
        (0.0, 0.5, {}),
        (0.5, 1.0, {}),
        (0.5, 0.6, {"power": 1.0}),
        (0.5, 0.6, {"alpha": 0.0}),
    ],
)
def test_sample_size_rejects_bad_input(p1: float, p2: float, kw: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"p1|p2|power|alpha"):
        sample_size_two_proportions(p1, p2, **kw)


# -- pass@k ----------------------------------------------------------------------


@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))), st.data())
def test_pass_at_k_matches_the_combinatorial_formula(
    nc: tuple[int, int], data: st.DataObject
) -> None:
    n, c = nc
    k = data.draw(st.integers(1, n))
    direct = 1 - math.comb(n - c, k) / math.comb(n, k)
    assert pass_at_k(n, c, k) == pytest.approx(direct, abs=1e-12)


def test_pass_at_1_is_the_pass_rate_and_pass_at_n_is_any_pass() -> None:
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    assert pass_at_k(10, 1, 10) == 1.0
    assert pass_at_k(10, 0, 10) == 0.0


def test_pass_at_k_equals_drawing_k_of_the_n_samples() -> None:
    """Simulate the definition: draw k of the n samples without replacement, any pass?"""
    rng = np.random.default_rng(5)
    n, c, k = 20, 4, 5
    samples = np.array([True] * c + [False] * (n - c))
    draws = np.argsort(rng.random((50_000, n)), axis=1)[:, :k]
    hit_rate = float(samples[draws].any(axis=1).mean())
    assert hit_rate == pytest.approx(pass_at_k(n, c, k), abs=0.01)


def test_pass_at_k_is_unbiased_where_the_naive_formula_is_not() -> None:
    """Averaged over many tasks with true pass rate p, the estimator recovers 1 - (1-p)^k."""
    rng = np.random.default_rng(9)
    p, n, k = 0.2, 10, 5
    correct = rng.binomial(n, p, 40_000)
    unbiased = np.mean([pass_at_k(n, int(c), k) for c in correct])
    naive = np.mean(1 - (1 - correct / n) ** k)
    truth = 1 - (1 - p) ** k
    assert unbiased == pytest.approx(truth, abs=0.005)
    assert naive < truth - 0.03  # plugging in c/n underestimates pass@k


@pytest.mark.parametrize(("n", "c", "k"), [(0, 0, 1), (5, 6, 1), (5, 2, 0), (5, 2, 6)])
def test_pass_at_k_rejects_bad_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match="need n"):
        pass_at_k(n, c, k)


# -- run_eval --------------------------------------------------------------------

CASES = [
    EvalCase("fr", "Capital of France?", "Paris", ("geo",)),
    EvalCase("de", "Capital of Germany?", "Berlin", ("geo",)),
    EvalCase("add", "2 + 2?", "4", ("math",)),
    EvalCase("mul", "6 * 7?", "42", ("math",)),
    EvalCase("it", "Capital of Italy?", "Rome", ("geo", "hard")),
]
ANSWERS = {"France": "Paris", "Germany": "Berlin", "2 + 2": "4", "6 * 7": "41", "Italy": "Milan"}


def answer(messages: Sequence[Message]) -> str:
    question = messages[-1].content
    return next(v for k, v in ANSWERS.items() if k in question)


def test_run_eval_scores_slices_and_lists_failures() -> None:
    report = asyncio.run(run_eval(ScriptedLLM(answer), CASES, exact_match))
    assert report.scores == [1.0, 1.0, 1.0, 0.0, 0.0]
    assert report.mean.estimate == pytest.approx(0.6)
    assert report.mean.low <= 0.6 <= report.mean.high
    tags = {t.tag: (t.n, t.mean.estimate) for t in report.by_tag}
    assert tags == {"geo": (3, pytest.approx(2 / 3)), "math": (2, 0.5), "hard": (1, 0.0)}
    assert [f.case.id for f in report.failures] == ["mul", "it"]
    assert report.failures[0].output == "41"
    assert report.errors == 0


def test_run_eval_respects_the_concurrency_limit() -> None:
    cases = [EvalCase(f"c{i}", "2 + 2?", "4") for i in range(40)]
    llm = InFlight(ScriptedLLM(answer))
    report = asyncio.run(run_eval(llm, cases, exact_match, concurrency=3))
    assert llm.peak == 3
    assert report.mean.estimate == 1.0


def test_run_eval_counts_a_failed_call_as_a_failure() -> None:
    llm = ScriptedLLM(answer, faults=[Fault.server_error(2)])
    report = asyncio.run(run_eval(llm, CASES[:3], contains_expected, concurrency=1))
    assert report.scores == [1.0, 0.0, 1.0]
    assert report.errors == 1
    (failure,) = report.failures
    assert failure.case.id == "de"
    assert failure.error is not None
    assert "ServerError" in failure.error


def test_run_eval_sends_the_prompt_and_deterministic_settings() -> None:
    llm = ScriptedLLM(answer)
    asyncio.run(run_eval(llm, CASES[:1], exact_match))
    (call,) = llm.calls
    assert call.messages == (Message.user("Capital of France?"),)
    assert call.settings.temperature == 0.0


def test_metrics_normalise_as_documented() -> None:
    case = EvalCase("x", "q", "New  York")
    assert exact_match(case, " new york ") == 1.0
    assert exact_match(case, "New York City") == 0.0
    assert contains_expected(case, "It is NEW  YORK.") == 1.0


@pytest.mark.parametrize(
    ("n_cases", "concurrency", "message"), [(5, 0, "concurrency"), (0, 8, "one case")]
)
def test_run_eval_rejects_bad_arguments(n_cases: int, concurrency: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        asyncio.run(
            run_eval(ScriptedLLM(answer), CASES[:n_cases], exact_match, concurrency=concurrency)
        )


# -- golden sets -----------------------------------------------------------------

GOOD = """\
cases:
  - id: refund-eu
    input: What is the refund window in the EU?
    expected: 14 days
    tags: [refunds, eu]
  - id: refund-us
    input: What is the refund window in the US?
    expected: 30 days
"""


def test_load_golden_set(tmp_path: Path) -> None:
    path = tmp_path / "golden.yml"
    path.write_text(GOOD)
    cases = load_golden_set(path)
    assert cases[0] == EvalCase(
        "refund-eu", "What is the refund window in the EU?", "14 days", ("refunds", "eu")
    )
    assert cases[1].tags == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- id: a\n  input: q\n", r"entry 0 \(id 'a'\): 'expected' must be a non-empty string"),
        ("- id: a\n  input: q\n  expected: x\n  tag: [t]\n", r"entry 0 .*unknown keys \['tag'\]"),
        ("- id: a\n  input: q\n  expected: x\n  tags: t\n", r"'tags' must be a list"),
        ("- {id: a, input: q, expected: x}\n- {id: a, input: r, expected: y}\n", "entry 1: dup"),
        ("- just a string\n", "entry 0: expected a mapping"),
        ("id: a\n", "expected a list of cases"),
        ("- {id: a, input: q, expected: 4}\n", "'expected' must be a non-empty string, got 4"),
    ],
)
def test_golden_set_errors_name_the_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        load_golden_set(path)
    assert str(path) in str(info.value)
