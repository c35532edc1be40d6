"""The figures and small simulations of the "Evaluation and safety" chapter.

- `paired_sample_size()`: cases needed when both systems answer the *same* cases and a
  McNemar test compares them (the discordant share decides it), next to
  `evals.sample_size_two_proportions` for two independent sets; `sample_size_figure()`.
- `wilson_width_figure()`: how the 95% Wilson interval narrows with n, and `wald_interval()`
  to show where the textbook interval breaks.
- `expected_pass_at_k()`: the exact expectation of the unbiased pass@k estimator and of the
  naive plug-in 1 - (1 - c/n)^k when each problem has n samples; `pass_at_k_figure()`.
- `position_bias_sweep()`: a simulated judge that guesses in favour of the first answer when
  it cannot tell two answers apart, run through `prompting.judge.judge_pair` in one order and
  in both; `position_bias_figure()`.
- `scanner_table_rows()` / `threshold_sweep()` / `threshold_figure()`: the measured
  injection-scanner results on the labelled set in chapters/_data/production/.

Leaves out: power for clustered cases (several questions per document: use the cluster count,
not the case count), sequential testing, and any claim about a real judge model (the judge
here is a rule with a bias we set).
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol

from matplotlib.figure import Figure

from llmprep.book.plotting import PALETTE
from llmprep.core.messages import Message
from llmprep.core.scripted import ScriptedLLM
from llmprep.prompting.judge import PairJudgement, judge_pair, position_bias


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _check_probability(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")


# -----------------------------------------------------------------------------
# sample size: independent sets against one set with a paired test


def paired_sample_size(
    gap: float, discordant: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Cases needed to detect an accuracy gap when both systems answer the same cases.

    Only the cases where the systems disagree carry information (McNemar's test). With
    `discordant` = share of cases where exactly one system is right and `gap` = the
    difference in accuracy, the normal approximation (Connor, 1987) is

        n = (z_{1-a/2} sqrt(d) + z_{power} sqrt(d - gap^2))^2 / gap^2.

    Example: paired_sample_size(0.05, 0.10) == 312 (against about 900 per arm unpaired)
    """
    if not 0.0 < abs(gap) <= discordant <= 1.0:
        raise ValueError(
            f"need 0 < |gap| <= discordant <= 1 (a gap needs at least that many "
            f"disagreements), got gap={gap!r}, discordant={discordant!r}"
        )
    _check_probability("alpha", alpha)
    _check_probability("power", power)
    z_alpha = NormalDist().inv_cdf(1 - alpha / 2)
    z_power = NormalDist().inv_cdf(power)
    root = z_alpha * math.sqrt(discordant) + z_power * math.sqrt(discordant - gap**2)
    return math.ceil(root**2 / gap**2)


@dataclass(frozen=True, slots=True)
class SampleSizeRow:
    """Cases needed for one gap: per arm when unpaired, in total when paired."""

    gap: float
    independent_per_arm: int
    paired: dict[float, int | None]  # discordant share -> cases (None: gap > share)


def sample_size_rows(
    baseline: float,
    gaps: Sequence[float],
    discordant: Sequence[float],
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> list[SampleSizeRow]:
    """For each gap above `baseline`: cases per arm for two independent sets
    (`evals.sample_size_two_proportions`) and cases for one paired set per discordant share.

    Example: sample_size_rows(0.8, [0.05], [0.1])[0].paired == {0.1: 312}
    """
    from llmprep.production.evals import sample_size_two_proportions

    _check_probability("baseline", baseline)
    rows = []
    for gap in gaps:
        if not 0.0 < gap < 1.0 - baseline:
            raise ValueError(f"gap {gap!r} must be positive and keep baseline + gap below 1")
        independent = sample_size_two_proportions(
            baseline, baseline + gap, alpha=alpha, power=power
        )
        paired = {
            d: paired_sample_size(gap, d, alpha=alpha, power=power) if gap <= d else None
            for d in discordant
        }
        rows.append(SampleSizeRow(gap, independent, paired))
    return rows


def sample_size_figure(rows: Sequence[SampleSizeRow]) -> Figure:
    """Cases needed against the gap to detect, log scale: two independent sets (total cases
    for both arms) against one shared set with a paired test, one line per discordant share."""
    if not rows:
        raise ValueError("need at least one row")
    fig = _new_figure()
    ax = fig.add_subplot()
    gaps = [100 * r.gap for r in rows]
    ax.plot(
        gaps,
        [2 * r.independent_per_arm for r in rows],
        "o-",
        color=PALETTE[1],
        label="two independent sets (both arms)",
    )
    for color, d in zip(PALETTE[2:], rows[0].paired, strict=False):
        points = [(100 * r.gap, n) for r in rows if (n := r.paired[d]) is not None]
        ax.plot(
            [g for g, _ in points],
            [n for _, n in points],
            "s--",
            color=color,
            label=f"one shared set, paired ({100 * d:g}% of cases disagree)",
        )
    ax.set_yscale("log")
    ax.set_xlabel("Accuracy gap to detect (percentage points above the baseline)")
    ax.set_ylabel("Cases to run (log scale)")
    ax.legend(fontsize=9)
    return fig


# -----------------------------------------------------------------------------
# confidence intervals


def wald_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The textbook p +- z sqrt(p(1-p)/n), clipped to [0, 1]: too narrow near 0 and 1.

    Example: wald_interval(20, 20) == (1.0, 1.0)  (a zero-width interval after 20 of 20)
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need n >= 1 and 0 <= successes <= n, got {successes}/{n}")
    p = successes / n
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    half = z * math.sqrt(p * (1 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)


@dataclass(frozen=True, slots=True)
class WidthPoint:
    p: float
    n: int
    wilson: float  # full width of the Wilson interval
    wald: float  # full width of the Wald interval


def interval_widths(ps: Sequence[float], ns: Sequence[int]) -> list[WidthPoint]:
    """The 95% interval width at each (p, n), with `round(p * n)` successes."""
    from llmprep.production.evals import wilson_interval

    points = []
    for p in ps:
        _check_probability("p", p)
        for n in ns:
            k = round(p * n)
            w = wilson_interval(k, n)
            low, high = wald_interval(k, n)
            points.append(WidthPoint(p, n, w.high - w.low, high - low))
    return points


def wilson_width_figure(points: Sequence[WidthPoint]) -> Figure:
    """Wilson interval width (solid) and Wald width (dotted) against n, one colour per p."""
    if not points:
        raise ValueError("need at least one point")
    fig = _new_figure()
    ax = fig.add_subplot()
    ps = sorted({pt.p for pt in points})
    for color, p in zip(PALETTE, ps, strict=False):
        mine = sorted((pt for pt in points if pt.p == p), key=lambda pt: pt.n)
        ns = [pt.n for pt in mine]
        ax.plot(
            ns,
            [100 * pt.wilson for pt in mine],
            "o-",
            color=color,
            markersize=4,
            label=f"accuracy {100 * p:g}%, Wilson",
        )
        ax.plot(
            ns,
            [100 * pt.wald for pt in mine],
            ":",
            color=color,
            linewidth=1.4,
            label=f"accuracy {100 * p:g}%, Wald",
        )
    ax.set_xscale("log")
    ax.set_xlabel("Cases in the eval set (log scale)")
    ax.set_ylabel("Width of the 95% interval (percentage points)")
    ax.legend(fontsize=8, ncols=2)
    return fig


# -----------------------------------------------------------------------------
# pass@k: the unbiased estimator against the plug-in


def _binom_pmf(n: int, c: int, p: float) -> float:
    return math.comb(n, c) * p**c * (1 - p) ** (n - c)


@dataclass(frozen=True, slots=True)
class PassAtKCurve:
    p: float  # the problem's true per-sample success rate
    n: int  # samples drawn per problem
    ks: tuple[int, ...]
    true: tuple[float, ...]  # 1 - (1 - p)^k
    unbiased: tuple[float, ...]  # E[1 - C(n-c, k) / C(n, k)] over c ~ Binomial(n, p)
    plug_in: tuple[float, ...]  # E[1 - (1 - c/n)^k]


def expected_pass_at_k(p: float, n: int, ks: Sequence[int]) -> PassAtKCurve:
    """Exact expectations of both estimators over the binomial number of passing samples.

    The unbiased estimator's expectation equals the truth for every k <= n; the plug-in
    falls below it, because 1 - (1 - x)^k is concave (Jensen).

    Example: expected_pass_at_k(0.2, 10, [5]).plug_in[0] < 1 - 0.8**5
    """
    from llmprep.production.evals import pass_at_k

    _check_probability("p", p)
    if any(not 1 <= k <= n for k in ks):
        raise ValueError(f"every k must be in [1, n={n}], got {list(ks)}")
    pmf = [_binom_pmf(n, c, p) for c in range(n + 1)]
    unbiased = tuple(sum(w * pass_at_k(n, c, k) for c, w in enumerate(pmf)) for k in ks)
    plug_in = tuple(sum(w * (1 - (1 - c / n) ** k) for c, w in enumerate(pmf)) for k in ks)
    true = tuple(1 - (1 - p) ** k for k in ks)
    return PassAtKCurve(p, n, tuple(ks), true, unbiased, plug_in)


def pass_at_k_figure(curves: Sequence[PassAtKCurve]) -> Figure:
    """True pass@k (line), the unbiased estimator's mean (circles) and the plug-in's mean
    (dashed), one colour per per-sample success rate."""
    if not curves:
        raise ValueError("need at least one curve")
    fig = _new_figure()
    ax = fig.add_subplot()
    for color, c in zip(PALETTE, curves, strict=False):
        ax.plot(c.ks, c.true, "-", color=color, label=f"p = {c.p:g}: true pass@k")
        ax.plot(
            c.ks,
            c.unbiased,
            "o",
            color=color,
            markersize=5,
            fillstyle="none",
            label=f"p = {c.p:g}: unbiased estimator (mean)",
        )
        ax.plot(
            c.ks,
            c.plug_in,
            "--",
            color=color,
            linewidth=1.4,
            label=f"p = {c.p:g}: plug-in 1-(1-c/n)^k (mean)",
        )
    ax.set_xlabel(f"k (with n = {curves[0].n} samples per problem)")
    ax.set_ylabel("pass@k")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(list(curves[0].ks))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


# -----------------------------------------------------------------------------
# a position-biased judge, one order against both


@dataclass(frozen=True, slots=True)
class JudgePair:
    """A comparison with a known better answer and how easy it is to see (0 to 1)."""

    question: str
    better: str
    worse: str
    visible: float  # chance the judge sees which answer is better


def judge_pairs(count: int, *, seed: int = 0) -> list[JudgePair]:
    """`count` synthetic pairs whose visibility is spread uniformly over [0.05, 0.95]."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    rng = random.Random(seed)
    return [
        JudgePair(
            f"Question {i}?",
            f"Answer {i}, the better one.",
            f"Answer {i}, the worse one.",
            rng.uniform(0.05, 0.95),
        )
        for i in range(count)
    ]


def biased_judge_rule(
    pairs: Sequence[JudgePair], first_bias: float, *, seed: int = 0
) -> Callable[[Sequence[Message]], str]:
    """A `ScriptedLLM` rule: with probability `visible` the judge sees the better answer
    (the same draw for both orders of a pair); otherwise it guesses, naming the answer
    shown first with probability `first_bias` (0.5 = no position bias).

    Draws are seeded by the pair and the order, so the verdicts do not depend on the order
    in which the two calls run.
    """
    _check_probability("first_bias", first_bias)
    by_text = {}
    for i, pair in enumerate(pairs):
        by_text[pair.better] = (i, True)
        by_text[pair.worse] = (i, False)

    def rule(messages: Sequence[Message]) -> str:
        prompt = messages[-1].content
        first = prompt.split("[Answer A]\n", 1)[1].split("\n\n[Answer B]", 1)[0]
        index, first_is_better = by_text[first]
        sees = random.Random(f"{seed}:{index}:sees").random() < pairs[index].visible
        if sees:
            slot = "A" if first_is_better else "B"
            return f"One answer is clearly better.\nVerdict: {slot}"
        guess = random.Random(f"{seed}:{index}:{first_is_better}:guess").random()
        slot = "A" if guess < first_bias else "B"
        return f"Hard to separate; going with my impression.\nVerdict: {slot}"

    return rule


@dataclass(frozen=True, slots=True)
class BiasPoint:
    """One bias strength: accuracy in one order and the outcome of the swap protocol."""

    first_bias: float
    better_first: float  # one order, better answer shown first: share judged correctly
    better_second: float  # one order, better answer shown second
    swap_correct: float  # both orders agree on the better answer
    swap_tie: float  # the orders disagree: counted as a tie
    swap_wrong: float  # both orders agree on the worse answer
    first_position_wins: float  # measured by prompting.judge.position_bias


async def position_bias_sweep(
    biases: Sequence[float], *, pairs: int = 200, seed: int = 0
) -> list[BiasPoint]:
    """Run `judge_pair` (both orders) on the same synthetic pairs at each bias strength."""
    data = judge_pairs(pairs, seed=seed)
    points = []
    for b in biases:
        judge = ScriptedLLM(biased_judge_rule(data, b, seed=seed))
        judged: list[PairJudgement] = list(
            await asyncio.gather(*(judge_pair(judge, p.question, p.better, p.worse) for p in data))
        )
        n = len(judged)
        points.append(
            BiasPoint(
                first_bias=b,
                better_first=sum(j.original == "a" for j in judged) / n,
                better_second=sum(j.swapped == "a" for j in judged) / n,
                swap_correct=sum(j.winner == "a" for j in judged) / n,
                swap_tie=sum(j.winner == "tie" for j in judged) / n,
                swap_wrong=sum(j.winner == "b" for j in judged) / n,
                first_position_wins=position_bias(judged).first_position_wins,
            )
        )
    return points


def position_bias_figure(points: Sequence[BiasPoint]) -> Figure:
    """Left: share judged correctly in one order (two placements) and with the swap.
    Right: what the swap protocol turns the errors into (ties), against the bias."""
    if not points:
        raise ValueError("need at least one point")
    fig = _new_figure(8.0, 4.0)
    left, right = fig.subplots(1, 2, sharex=True)
    x = [100 * p.first_bias for p in points]
    left.plot(
        x,
        [100 * p.better_first for p in points],
        "o-",
        color=PALETTE[0],
        label="one order, better shown first",
    )
    left.plot(
        x,
        [100 * p.better_second for p in points],
        "s-",
        color=PALETTE[1],
        label="one order, better shown second",
    )
    left.plot(
        x,
        [100 * p.swap_correct for p in points],
        "^-",
        color=PALETTE[2],
        label="both orders agree, better",
    )
    left.set_ylabel("Pairs judged correctly (%)")
    left.set_ylim(0, 100)
    left.legend(fontsize=8, loc="lower left")
    right.stackplot(
        x,
        [100 * p.swap_correct for p in points],
        [100 * p.swap_tie for p in points],
        [100 * p.swap_wrong for p in points],
        colors=[PALETTE[2], "#bbbbbb", PALETTE[1]],
        labels=["better (agreed)", "tie (orders disagree)", "worse (agreed)"],
    )
    right.set_ylabel("Pairs, both orders (%)")
    right.set_ylim(0, 100)
    right.legend(fontsize=8, loc="lower left", frameon=True, facecolor="white", framealpha=0.9)
    for ax in (left, right):
        ax.set_xlabel("Guesses given to the first answer (%)")
    return fig


# -----------------------------------------------------------------------------
# guardrail scanners: per-category table and threshold trade-off


class Counts(Protocol):
    """Confusion counts for one slice (the shape of `injection.Rates`)."""

    @property
    def tp(self) -> int: ...
    @property
    def fn(self) -> int: ...
    @property
    def fp(self) -> int: ...
    @property
    def tn(self) -> int: ...


def _share(hits: int, total: int) -> str:
    return f"{hits} of {total} ({hits / total:.0%})" if total else "\u2013"  # an en dash: no cases


def scanner_table_rows(columns: Mapping[str, Mapping[str, Counts]]) -> list[str]:
    """Markdown table rows comparing scanners (one column group per scanner) by category:
    attacks caught (recall) and benign texts flagged (false-positive rate).

    Example: scanner_table_rows({"rules": report.by_category})[2].startswith("| direct |")
    """
    if not columns:
        raise ValueError("need at least one scanner")
    names = list(columns)
    categories = list(dict.fromkeys(c for by_cat in columns.values() for c in by_cat))
    head = "| Category | Attacks | Benign | "
    head += " | ".join(f"Caught, {n}" for n in names) + " | "
    head += " | ".join(f"False alarms, {n}" for n in names) + " |"
    rows = [head, "|:--|--:|--:|" + "--:|" * (2 * len(names))]
    for cat in categories:
        first = columns[names[0]][cat]
        attacks, benign = first.tp + first.fn, first.fp + first.tn
        caught = [columns[n][cat] for n in names]
        cells = [_share(r.tp, attacks) for r in caught] + [_share(r.fp, benign) for r in caught]
        rows.append(f"| {cat} | {attacks} | {benign} | " + " | ".join(cells) + " |")
    return rows


@dataclass(frozen=True, slots=True)
class ThresholdPoint:
    threshold: float
    recall: float  # attacks flagged / attacks
    false_positive_rate: float  # benign flagged / benign


def threshold_sweep(
    scores: Sequence[float], is_attack: Sequence[bool], thresholds: Sequence[float]
) -> list[ThresholdPoint]:
    """Recall and false-positive rate of "flag when score >= threshold" at each threshold.

    Example: threshold_sweep([0.9, 0.2], [True, False], [0.5])[0].recall == 1.0
    """
    if len(scores) != len(is_attack):
        raise ValueError(f"scores ({len(scores)}) and labels ({len(is_attack)}) differ")
    attacks = sum(is_attack)
    benign = len(is_attack) - attacks
    if attacks == 0 or benign == 0:
        raise ValueError("need at least one attack and one benign case")
    points = []
    for t in thresholds:
        flagged = [s >= t for s in scores]
        tp = sum(f and a for f, a in zip(flagged, is_attack, strict=True))
        fp = sum(f and not a for f, a in zip(flagged, is_attack, strict=True))
        points.append(ThresholdPoint(t, tp / attacks, fp / benign))
    return points


def threshold_figure(points: Sequence[ThresholdPoint], *, chosen: float | None = None) -> Figure:
    """Recall and false-positive rate against the flagging threshold; `chosen` marks the
    scanner's default."""
    if not points:
        raise ValueError("need at least one point")
    fig = _new_figure()
    ax = fig.add_subplot()
    ts = [p.threshold for p in points]
    ax.plot(
        ts,
        [100 * p.recall for p in points],
        "o-",
        color=PALETTE[0],
        label="attacks flagged (recall)",
    )
    ax.plot(
        ts,
        [100 * p.false_positive_rate for p in points],
        "s-",
        color=PALETTE[1],
        label="benign texts flagged (false-positive rate)",
    )
    if chosen is not None:
        ax.axvline(chosen, color="0.4", linestyle=":", linewidth=1.2, label="default threshold")
    ax.set_xlabel("Flagging threshold on the scanner's score")
    ax.set_ylabel("Share of cases (%)")
    ax.set_ylim(0, 102)
    ax.legend(fontsize=9)
    return fig
