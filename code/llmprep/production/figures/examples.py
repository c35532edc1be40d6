"""The figures of the "Production in code" chapter, drawn from real runs of the package.

- `retry_schedule()`: the waits a `RetryPolicy` draws after each failed attempt, per jitter
  mode, and how many retries fit before its deadline; `schedule_figure()` draws them.
- `bucket_trace()`: a `TokenBucket` on a manual clock fed a burst, then steady traffic: its
  level and which requests it admitted; `bucket_figure()` draws it.
- `stack_table()`: the headline numbers of `load.LoadReport`s as a Markdown table.
- `success_figure()`, `latency_figure()`, `cost_figure()`, `amplification_figure()` and
  `timeline_figure()`: the simulated load, stack by stack and second by second.

Leaves out: styling beyond the house style (`llmprep.book.plotting`), and any number of its
own: everything plotted comes from the objects passed in.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from llmprep.book.plotting import GRID, INK, PALETTE
from llmprep.production.clock import ManualClock
from llmprep.production.limiter import TokenBucket
from llmprep.production.load import LoadReport, Window, timeline
from llmprep.production.retry import Jitter, RetryPolicy, backoff_cap, backoff_delay

# -----------------------------------------------------------------------------
# a retry schedule


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """Sampled waits of a retry policy, for clients whose every attempt fails.

    `waits[jitter][k]` holds the sampled waits after failed attempt k + 1, one per client;
    `caps[k]` is the un-jittered backoff after attempt k + 1.
    """

    policy: RetryPolicy
    caps: tuple[float, ...]
    waits: dict[str, tuple[tuple[float, ...], ...]]

    def elapsed(self, jitter: str) -> list[list[float]]:
        """Per retry k + 1, each client's time from the first attempt to that retry."""
        per_client = zip(*self.waits[jitter], strict=True)
        sums = [list(itertools.accumulate(client)) for client in per_client]
        return [list(column) for column in zip(*sums, strict=True)]

    def within_deadline(self, jitter: str) -> list[float]:
        """Per retry, the share of clients that may still send it before the deadline."""
        deadline = self.policy.deadline
        if deadline is None:
            return [1.0] * len(self.caps)
        return [sum(t <= deadline for t in ts) / len(ts) for ts in self.elapsed(jitter)]


_MODES: tuple[Jitter, ...] = ("full", "equal", "none")


def retry_schedule(policy: RetryPolicy, *, clients: int = 300, seed: int = 0) -> RetrySchedule:
    """Draw `backoff_delay` for every failed attempt of `clients` clients, per jitter mode."""
    retries = range(1, policy.max_attempts)
    waits: dict[str, tuple[tuple[float, ...], ...]] = {}
    for jitter in _MODES:
        p = dataclasses.replace(policy, jitter=jitter)
        rng = random.Random(seed)
        per_client = [[backoff_delay(p, n, rng) for n in retries] for _ in range(clients)]
        waits[jitter] = tuple(zip(*per_client, strict=True))
    caps = tuple(backoff_cap(policy, n) for n in retries)
    return RetrySchedule(policy, caps, waits)


def schedule_figure(schedule: RetrySchedule) -> Figure:
    """Left: the wait after each failed attempt (cap, and sampled full and equal jitter).
    Right: time from the first attempt to each retry, against the policy's deadline."""
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    n = range(1, len(schedule.caps) + 1)
    rng = random.Random(1)  # horizontal spread of the dots only
    for jitter, color, shift in (("full", PALETTE[0], -0.15), ("equal", PALETTE[2], 0.15)):
        for k, waits in zip(n, schedule.waits[jitter], strict=True):
            xs = [k + shift + rng.uniform(-0.08, 0.08) for _ in waits]
            left.plot(xs, waits, linestyle="none", marker=".", markersize=2, alpha=0.4,
                      color=color)  # fmt: skip
        left.plot([], [], linestyle="none", marker="o", color=color, label=f"{jitter} jitter")
    left.plot(list(n), schedule.caps, color=INK, marker="_", markersize=14, linestyle="--",
              linewidth=1, label="cap (no jitter)")  # fmt: skip
    left.set_xlabel("after failed attempt")
    left.set_ylabel("wait (s)")
    left.legend(loc="upper left", fontsize=8)
    for jitter, color in (("full", PALETTE[0]), ("equal", PALETTE[2]), ("none", INK)):
        elapsed = schedule.elapsed(jitter)
        right.plot([k + 1 for k in n], [sum(ts) / len(ts) for ts in elapsed], color=color,
                   marker="o", label=f"{jitter} (mean)")  # fmt: skip
    if schedule.policy.deadline is not None:
        right.axhline(schedule.policy.deadline, color=PALETTE[1], linestyle="--",
                      linewidth=1, label="deadline")  # fmt: skip
    right.set_xlabel("attempt")
    right.set_ylabel("seconds since the first attempt")
    right.legend(loc="upper left", fontsize=8)
    for ax in (left, right):
        ax.set_xticks([k + 1 for k in n] if ax is right else list(n))
    return fig


# -----------------------------------------------------------------------------
# a token bucket, step by step


@dataclass(frozen=True, slots=True)
class BucketStep:
    """One request at time `at`: the bucket's level just before and just after it."""

    at: float
    before: float
    after: float

    @property
    def admitted(self) -> bool:
        return self.after < self.before


def bucket_trace(rate: float, capacity: float, arrivals: Sequence[float]) -> list[BucketStep]:
    """Feed a `TokenBucket` requests at the given times (sorted), with `try_acquire`."""
    clock = ManualClock()
    bucket = TokenBucket(rate, capacity, clock=clock)
    steps = []
    for at in arrivals:
        clock.advance(max(0.0, at - clock.now()))
        before = bucket.tokens
        bucket.try_acquire(1)
        steps.append(BucketStep(at, before, bucket.tokens))
    return steps


def bucket_figure(steps: Sequence[BucketStep], rate: float, capacity: float) -> Figure:
    """The bucket's level over time (it refills at `rate` up to `capacity`), with each
    request marked at the level it found: admitted, or rejected with a 429."""
    fig = Figure(figsize=(7.0, 3.4), layout="constrained")
    ax = fig.add_subplot()
    xs: list[float] = [0.0]
    ys: list[float] = [capacity]
    for step in steps:
        full_at = xs[-1] + (capacity - ys[-1]) / rate  # when the refill reaches the cap
        if full_at < step.at:
            xs.append(full_at)
            ys.append(capacity)
        xs += [step.at, step.at]
        ys += [step.before, step.after]
    ax.plot(xs, ys, color=PALETTE[0], linewidth=1.5, label="tokens in the bucket")
    for admitted, color, marker, label in (
        (True, PALETTE[2], "o", "admitted"),
        (False, PALETTE[1], "x", "rejected (429)"),
    ):
        mine = [s for s in steps if s.admitted is admitted]
        ax.plot([s.at for s in mine], [s.before for s in mine], linestyle="none",
                marker=marker, color=color, label=label)  # fmt: skip
    ax.axhline(capacity, color=GRID, linestyle="--", linewidth=1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("tokens in the bucket")
    ax.set_ylim(-0.2, capacity + 1.2)
    ax.legend(loc="upper right", ncols=3)
    return fig


# -----------------------------------------------------------------------------
# the simulated load


def _fmt_usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def stack_table(reports: Sequence[LoadReport]) -> str:
    """The headline numbers per stack, as a Markdown table (for an `output: asis` cell)."""
    rows = [
        "| Stack | Success | p50 (s) | p95 (s) | p99 (s) | 429s | Calls per request "
        "| Cache hits | Cost | Cost per success |",
        "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in reports:
        per_success = r.cost / r.successes if r.successes else Decimal(0)
        rows.append(
            f"| `{r.stack}` | {r.success_rate:.1%} | {r.latency(0.5):.2f} "
            f"| {r.latency(0.95):.2f} | {r.latency(0.99):.2f} "
            f"| {r.calls(kind='rate_limited'):,} | {r.amplification:.2f} "
            f"| {r.cache_hit_rate:.0%} | {_fmt_usd(r.cost)} | ${per_success * 1000:.2f}/1k |"
        )
    return "\n".join(rows)


def _names(reports: Sequence[LoadReport]) -> list[str]:
    return [r.stack for r in reports]


def success_figure(reports: Sequence[LoadReport]) -> Figure:
    """Share of requests answered, per stack, with the count of failures on each bar."""
    fig = Figure(figsize=(7.0, 3.4), layout="constrained")
    ax = fig.add_subplot()
    names = _names(reports)
    rates = [r.success_rate for r in reports]
    bars = ax.barh(names, rates, color=PALETTE[0])
    for bar, r in zip(bars, reports, strict=True):
        failed = r.requests - r.successes
        ax.text(bar.get_width() + 0.005, bar.get_y() + bar.get_height() / 2,
                f"{r.success_rate:.1%} ({failed:,} failed)", va="center")  # fmt: skip
    ax.invert_yaxis()
    ax.set_xlim(min(rates) - 0.1, 1.12)
    ax.set_xlabel("share of requests answered")
    ax.grid(axis="y", visible=False)
    return fig


def latency_figure(reports: Sequence[LoadReport]) -> Figure:
    """p50, p95 and p99 latency of the answered requests, per stack."""
    fig = Figure(figsize=(7.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    height = 0.26
    for i, (q, color) in enumerate(zip((0.5, 0.95, 0.99), PALETTE, strict=False)):
        ys = [j + (i - 1) * height for j in range(len(reports))]
        values = [r.latency(q) for r in reports]
        ax.barh(ys, values, height, color=color, label=f"p{round(q * 100)}")
        for y, v in zip(ys, values, strict=True):
            ax.text(v + 0.3, y, f"{v:.1f}", va="center", fontsize=8)
    ax.set_yticks(range(len(reports)), _names(reports))
    ax.invert_yaxis()
    ax.set_xlabel("latency of answered requests (s)")
    ax.legend(loc="lower right")
    ax.grid(axis="y", visible=False)
    return fig


def cost_figure(reports: Sequence[LoadReport], providers: Sequence[str]) -> Figure:
    """Left: calls each provider received, per stack. Right: cost per provider (USD)."""
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True)
    names = _names(reports)
    calls_base = [0.0] * len(reports)
    cost_base = [0.0] * len(reports)
    for name, color in zip(providers, PALETTE, strict=False):
        calls = [float(r.calls(name)) for r in reports]
        costs = [float(dict(r.cost_by_provider).get(name, Decimal(0))) for r in reports]
        left.barh(names, calls, left=calls_base, color=color, label=name)
        right.barh(names, costs, left=cost_base, color=color, label=name)
        calls_base = [a + b for a, b in zip(calls_base, calls, strict=True)]
        cost_base = [a + b for a, b in zip(cost_base, costs, strict=True)]
    left.invert_yaxis()
    left.set_xlabel("calls received")
    right.set_xlabel("cost (USD)")
    left.legend(loc="lower right")
    for ax in (left, right):
        ax.grid(axis="y", visible=False)
    return fig


def amplification_figure(reports: Sequence[LoadReport]) -> Figure:
    """Provider calls per request, split into first attempts, repeats and cache hits."""
    fig = Figure(figsize=(7.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    names = _names(reports)
    sent = [sum(o.attempts > 0 for o in r.outcomes) / r.requests for r in reports]
    repeats = [r.amplification - s for r, s in zip(reports, sent, strict=True)]
    hits = [r.cache_hit_rate for r in reports]
    ax.barh(names, sent, color=PALETTE[0], label="first call")
    ax.barh(names, repeats, left=sent, color=PALETTE[1], label="retries and fallbacks")
    ax.barh(names, hits, left=[s + p for s, p in zip(sent, repeats, strict=True)],
            color=PALETTE[2], label="cache hit (no call)", hatch="//", alpha=0.6)  # fmt: skip
    ax.invert_yaxis()
    ax.axvline(1.0, color=INK, linestyle="--", linewidth=1)
    ax.set_xlim(0, 1.08 * max(r.amplification + r.cache_hit_rate for r in reports))
    ax.set_xlabel("per request")
    fig.legend(loc="outside lower center", ncols=3)
    ax.grid(axis="y", visible=False)
    return fig


_STATE_COLOR = {"open": PALETTE[1], "half_open": PALETTE[4]}


def timeline_figure(
    before: LoadReport,
    after: LoadReport,
    *,
    outage: Window,
    width: float = 5.0,
    window: tuple[float, float] | None = None,
) -> Figure:
    """Second by second: calls each provider received under `after` (top, with its breaker's
    open spells shaded) and the success rate of arriving requests under both stacks."""
    fig = Figure(figsize=(7.0, 5.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    for ax in (top, bottom):
        ax.axvspan(outage.start, outage.end, color=GRID, alpha=0.5, linewidth=0)
    bins = timeline(after, width)
    mids = [b.start + width / 2 for b in bins]
    for i, (name, _) in enumerate(bins[0].calls):
        color = PALETTE[i]
        top.plot(mids, [dict(b.calls)[name] / width for b in bins], color=color,
                 label=f"calls to {name}")  # fmt: skip
        top.plot(mids, [dict(b.failed_calls)[name] / width for b in bins], color=color,
                 linestyle=":", label=f"failed calls to {name}")  # fmt: skip
    # the breaker's state as a band along the top of the upper panel
    states = [*after.breaker, (after.duration, "closed")]
    ymax = top.get_ylim()[1] * 1.7
    for (t, state), (t_next, _) in itertools.pairwise(states):
        if state in _STATE_COLOR:
            top.fill_between([t, t_next], ymax * 0.95, ymax, color=_STATE_COLOR[state],
                             linewidth=0)  # fmt: skip
    top.set_ylim(0, ymax)
    handles, labels = top.get_legend_handles_labels()
    handles += [Patch(color=c) for c in _STATE_COLOR.values()]
    labels += ["breaker open", "breaker half-open"]
    top.legend(handles, labels, loc="upper left", bbox_to_anchor=(0, 0.93), fontsize=8,
               ncols=3)  # fmt: skip
    top.set_ylabel("calls per second")
    for report, color in ((before, PALETTE[3]), (after, PALETTE[0])):
        rb = timeline(report, width)
        bottom.plot([b.start + width / 2 for b in rb], [b.success_rate for b in rb],
                    color=color, label=f"{report.stack}")  # fmt: skip
    bottom.set_ylim(-0.05, 1.05)
    bottom.set_ylabel("answered")
    bottom.set_xlabel("arrival time (s)")
    bottom.legend(loc="lower left", fontsize=8)
    if window is not None:
        bottom.set_xlim(*window)
    return fig
