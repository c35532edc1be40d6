"""Offline evaluation with error bars: golden sets, confidence intervals, tests, sample sizes.

An eval score is a measurement on a sample, so it comes with an error bar, and two systems
are different only if the difference survives that error bar. This module is the arithmetic
an interview expects you to do on the whiteboard:

    golden set (YAML) --run_eval--> per-case scores --> mean ± bootstrap CI, per tag, failures
    k passes of n     --wilson_interval-->   a CI for a pass rate that behaves near 0 and 1
    same cases, A vs B --paired_bootstrap_diff / mcnemar_p--> is B really better than A?
    "we want to see 80% -> 85%" --sample_size_two_proportions--> cases needed per arm
    n samples, c correct --pass_at_k--> chance that one of k samples passes (Chen et al., 2021)

Why paired tests: when both systems answer the *same* cases, most of the noise (easy cases,
hard cases) is shared, and only the cases where they disagree carry information. A paired
test sees a 2-point gain on 500 cases that an unpaired comparison of two intervals misses.

Leaves out: multiple-comparison corrections (run twenty evals and one "wins" by luck: fix
the comparisons before you look), stratified and clustered bootstraps (cases that share a
document are not independent), sequential testing for online A/B tests, and graded metrics
beyond a float per case.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import yaml
from numpy.typing import ArrayLike

from llmprep.core.errors import LLMError
from llmprep.core.llm import LLM
from llmprep.core.messages import GenerationSettings, Message
from llmprep.prompting.passk import pass_at_k as pass_at_k  # re-exported

BOOTSTRAP_RESAMPLES = 10_000  # the default for an interval you ask for yourself
RUN_EVAL_RESAMPLES = 2_000  # inside run_eval: enough for a reported interval, and faster

# -----------------------------------------------------------------------------
# golden sets


@dataclass(frozen=True, slots=True)
class EvalCase:
    """One golden example: what to send, what a right answer looks like, and its slices."""

    id: str
    input: str
    expected: str
    tags: tuple[str, ...] = ()


def load_golden_set(path: str | Path) -> tuple[EvalCase, ...]:
    """Read a golden set: a YAML list of {id, input, expected, tags?} (or {cases: [...]}).

    Why strict: a golden set is edited by hand, and a silently skipped row is a case you
    think you test and do not. Every bad row fails with the file and the entry that is wrong.

    Example: load_golden_set("golden.yml")[0].id == "refund-eu"
    """
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "cases" in data:
        data = data["cases"]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of cases (or a 'cases:' key), got {data!r:.60}")
    cases = [_case(path, i, row) for i, row in enumerate(data)]
    seen: set[str] = set()
    for i, case in enumerate(cases):
        if case.id in seen:
            raise ValueError(f"{path}: entry {i}: duplicate id {case.id!r}")
        seen.add(case.id)
    return tuple(cases)


def _case(path: Path, i: int, row: Any) -> EvalCase:
    where = f"{path}: entry {i}"
    if not isinstance(row, dict):
        raise ValueError(f"{where}: expected a mapping with id, input, expected; got {row!r:.60}")
    if "id" in row:
        where += f" (id {row['id']!r})"
    unknown = sorted(set(row) - {"id", "input", "expected", "tags"})
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}")
    for key in ("id", "input", "expected"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise ValueError(f"{where}: {key!r} must be a non-empty string, got {row.get(key)!r}")
    tags = row.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError(f"{where}: 'tags' must be a list of strings, got {tags!r}")
    return EvalCase(row["id"], row["input"], row["expected"], tuple(tags))


# -----------------------------------------------------------------------------
# intervals


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with a confidence interval around it."""

    estimate: float
    low: float
    high: float
    confidence: float

    @property
    def width(self) -> float:
        return self.high - self.low

    def __str__(self) -> str:
        pct = round(self.confidence * 100)
        return f"{self.estimate:.3f} [{self.low:.3f}, {self.high:.3f}] ({pct}% CI)"


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """The Wilson score interval for a pass rate of `successes` out of `n`.

    Why not p ± z·sqrt(p(1-p)/n) (the Wald interval): at 0/20 or 20/20 it has width zero,
    and near 0 or 1 it covers the truth far less often than it claims. Wilson's interval
    stays inside [0, 1] and is honest at the extremes, where good systems live.

    Example: wilson_interval(45, 50) -> 0.900 [0.786, 0.957]
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), confidence)


type Statistic = Callable[..., Any]
"""A numpy reduction that accepts `axis=`, such as np.mean or np.median."""


def _rng(rng: np.random.Generator | None) -> np.random.Generator:
    # A fixed default seed: the book's numbers must come out the same on every build.
    return rng if rng is not None else np.random.default_rng(0)


def _resampled(
    data: np.ndarray, statistic: Statistic, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """`statistic` of `resamples` bootstrap samples (rows drawn with replacement)."""
    if resamples < 100:
        raise ValueError(f"use at least 100 resamples, got {resamples}")
    out = np.empty(resamples)
    block = max(1, 2_000_000 // len(data))  # bound memory: a block is block x n draws
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        idx = rng.integers(0, len(data), size=(stop - start, len(data)))
        out[start:stop] = statistic(data[idx], axis=1)
    return out


def _values(values: ArrayLike, name: str = "values") -> np.ndarray:
    data = np.asarray(values, dtype=float)
    if data.ndim != 1 or len(data) < 2:
        raise ValueError(
            f"{name} must be a flat sequence of at least 2 numbers, got {values!r:.60}"
        )
    return data


def bootstrap_ci(
    values: ArrayLike,
    *,
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    rng: np.random.Generator | None = None,
    statistic: Statistic = np.mean,
) -> Interval:
    """A percentile bootstrap interval for `statistic` (the mean by default) of `values`.

    Resample the cases with replacement, recompute the statistic, and read the interval off
    the spread of the recomputed values. It assumes nothing about the score distribution,
    which is why it suits eval metrics (0/1, 1-5 ratings, F1), but it does assume the cases
    are independent draws. The default seed is fixed, so the interval is reproducible.

    Example: bootstrap_ci([1, 0, 1, 1] * 25) -> 0.750 [0.660, 0.830] (95% CI), roughly
    """
    data = _values(values)
    _z(confidence)
    stats = _resampled(data, statistic, resamples, _rng(rng))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return Interval(float(statistic(data)), float(low), float(high), confidence)


def paired_bootstrap_diff(
    a: ArrayLike,
    b: ArrayLike,
    *,
    confidence: float = 0.95,
    resamples: int = BOOTSTRAP_RESAMPLES,
    rng: np.random.Generator | None = None,
) -> Interval:
    """A bootstrap interval for mean(b) - mean(a) when a[i] and b[i] score the same case i.

    Positive means b (the candidate) beats a (the baseline). The resampling draws *cases*,
    keeping each case's pair together: that is what makes it paired, and why it is tighter
    than comparing two separate intervals. If the interval excludes 0, the gain is unlikely
    to be sampling noise (on this set; a set unlike production proves nothing about it).

    Example: paired_bootstrap_diff(old_scores, new_scores).low > 0 -> the gain is real
    """
    x, y = _values(a, "a"), _values(b, "b")
    if len(x) != len(y):
        raise ValueError(f"paired scores need equal lengths, got {len(x)} and {len(y)}")
    return bootstrap_ci(y - x, confidence=confidence, resamples=resamples, rng=rng)


def mcnemar_p(a: Sequence[bool], b: Sequence[bool]) -> float:
    """Exact two-sided McNemar p-value: do two systems differ on the same pass/fail cases?

    Only the discordant cases count: n_ab (a passes, b fails) and n_ba (b passes, a fails).
    If the systems were equally good, each discordant case would be a fair coin flip, so the
    p-value is a two-sided binomial test of min(n_ab, n_ba) in n_ab + n_ba flips at 1/2.

    Example: mcnemar_p([True] * 10 + [False] * 2, [False] * 10 + [True] * 2) -> about 0.039
    """
    if len(a) != len(b):
        raise ValueError(f"paired results need equal lengths, got {len(a)} and {len(b)}")
    n_ab = sum(bool(x) and not bool(y) for x, y in zip(a, b, strict=True))
    n_ba = sum(bool(y) and not bool(x) for x, y in zip(a, b, strict=True))
    n = n_ab + n_ba
    if n == 0:
        return 1.0  # they never disagree: no evidence of a difference
    tail = sum(math.comb(n, i) for i in range(min(n_ab, n_ba) + 1)) / (1 << n)  # / 2**n
    return min(1.0, 2 * tail)


# -----------------------------------------------------------------------------
# planning and sampling


def sample_size_two_proportions(
    p1: float, p2: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Cases per arm to detect pass rates p1 vs p2 with two *independent* samples.

    The normal-approximation formula for a two-sided two-proportion z-test:

        n = (z[1 - alpha/2] * sqrt(2 p q) + z[power] * sqrt(p1 q1 + p2 q2))^2 / (p1 - p2)^2

    with p = (p1 + p2)/2 (the pooled rate) and q = 1 - p. The lesson is the (p1 - p2)^2 below:
    halve the difference you want to see and you need four times the cases. A paired design
    (same cases, both systems, McNemar) usually needs far fewer.

    Example: sample_size_two_proportions(0.80, 0.85) == 906
    """
    for name, p in (("p1", p1), ("p2", p2)):
        if not 0 < p < 1:
            raise ValueError(f"{name} must be strictly between 0 and 1, got {p}")
    if p1 == p2:
        raise ValueError(f"p1 and p2 are equal ({p1}): no difference to detect")
    if not 0 < power < 1:
        raise ValueError(f"power must be between 0 and 1, got {power}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    z_alpha, z_beta = _z(1 - alpha), NormalDist().inv_cdf(power)
    p_bar = (p1 + p2) / 2
    root = z_alpha * math.sqrt(2 * p_bar * (1 - p_bar))
    root += z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root**2 / (p1 - p2) ** 2)


# -----------------------------------------------------------------------------
# running an eval

DETERMINISTIC = GenerationSettings(temperature=0.0)
"""Evals run at temperature 0 by default: the same case should get the same answer."""

type Metric = Callable[[EvalCase, str], float]
"""Scores one output against its case, usually in [0, 1] (1 = right)."""


def exact_match(case: EvalCase, output: str) -> float:
    """1.0 if the output equals the expected answer, ignoring case and surrounding space."""
    return float(" ".join(output.split()).casefold() == " ".join(case.expected.split()).casefold())


def contains_expected(case: EvalCase, output: str) -> float:
    """1.0 if the expected answer appears in the output (case-insensitive): a lenient check."""
    return float(case.expected.casefold() in output.casefold())


def user_prompt(case: EvalCase) -> list[Message]:
    """The default request for a case: its input as one user message."""
    return [Message.user(case.input)]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """What one case produced and scored; `error` is set when the call itself failed."""

    case: EvalCase
    output: str
    score: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class TagResult:
    """The mean score on the cases carrying one tag (a slice of the golden set)."""

    tag: str
    n: int
    mean: Interval


@dataclass(frozen=True, slots=True)
class EvalReport:
    """Per-case results, the mean with a bootstrap CI, a per-tag breakdown and the failures."""

    results: tuple[CaseResult, ...]
    mean: Interval
    by_tag: tuple[TagResult, ...]
    failures: tuple[CaseResult, ...]
    pass_threshold: float

    @property
    def scores(self) -> list[float]:
        return [r.score for r in self.results]

    @property
    def errors(self) -> int:
        """Cases whose call failed (counted as failures with score 0, not dropped)."""
        return sum(r.error is not None for r in self.results)


def _interval(scores: Sequence[float], confidence: float) -> Interval:
    if len(scores) < 2:  # one case: no spread to resample; the interval is the point
        value = float(scores[0])
        return Interval(value, value, value, confidence)
    return bootstrap_ci(scores, confidence=confidence, resamples=RUN_EVAL_RESAMPLES)


async def run_eval(
    llm: LLM,
    cases: Sequence[EvalCase],
    metric: Metric,
    *,
    concurrency: int = 8,
    prompt: Callable[[EvalCase], Sequence[Message]] = user_prompt,
    settings: GenerationSettings = DETERMINISTIC,
    pass_threshold: float = 1.0,
    confidence: float = 0.95,
) -> EvalReport:
    """Run every case through `llm` (at most `concurrency` at once), score it, summarise.

    Why a semaphore: an eval of 1,000 cases fired at once meets the provider's rate limit;
    one at a time takes an hour. A case whose call fails scores 0 and is listed with its
    error: dropping it would report the score of the cases that happened to work.
    A case fails when its score is below `pass_threshold`.

    Example: report = await run_eval(llm, load_golden_set("g.yml"), exact_match)
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if not cases:
        raise ValueError("need at least one case to evaluate")
    gate = asyncio.Semaphore(concurrency)

    async def one(case: EvalCase) -> CaseResult:
        async with gate:
            try:
                completion = await llm.complete(prompt(case), settings=settings)
            except LLMError as exc:
                return CaseResult(case, "", 0.0, f"{type(exc).__name__}: {exc}")
        return CaseResult(case, completion.text, float(metric(case, completion.text)))

    results = tuple(await asyncio.gather(*(one(c) for c in cases)))
    tags = sorted({t for c in cases for t in c.tags})
    by_tag = tuple(
        TagResult(tag, len(s), _interval(s, confidence))
        for tag in tags
        if (s := [r.score for r in results if tag in r.case.tags])
    )
    return EvalReport(
        results=results,
        mean=_interval([r.score for r in results], confidence),
        by_tag=by_tag,
        failures=tuple(r for r in results if r.score < pass_threshold),
        pass_threshold=pass_threshold,
    )
