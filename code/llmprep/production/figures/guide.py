"""The computations and figures of the "Production guide" chapter.

Each topic has a small model you can compute by hand, then a function that draws it:

- retries: `simulate_herd` sends a burst of clients at a server with a fixed capacity per
  time slot; rejected clients retry after `delay(attempt, rng)` (the chapter passes
  `backoff_delay` from `llmprep.production.retry`), so jitter's effect on the herd is measured,
  not asserted. `herd_figure` draws attempts per slot.
- prompt caching: `cached_input_cost_ratio` is the input bill with a cached prefix relative to
  no caching, from the provider's read and write multipliers; `prompt_cache_savings_figure`.
- routing: `strategy_cost` prices always-small, always-large, a router and a cascade with
  `llmprep.core.pricing`; `cascade_break_even` is where a cascade stops paying.
- tail latency: `p_any_slow` (fan-out) and `hedge` (a backup request after a delay), drawn by
  `tail_latency_figure`.
- self-hosting: `prefill_flops`, `decode_step_seconds`, `gpu_seconds_per_request` and
  `break_even_requests_per_day` live in `llmprep.production.capacity` (re-exported here);
  `self_hosting_figure` draws $/day against traffic.
- streaming: `stream_timeline` splits a streamed answer into network, prefill and decode time;
  `stream_timeline_figure` draws it.

Figures are `matplotlib.figure.Figure`, not `pyplot`, so a function never touches global
state; the house style comes from `llmprep.book.plotting` via the chapter's setup cell.

Leaves out: queueing inside the server (prefill and decode of different requests interfere
under continuous batching), network variance, provider-side caching of anything but the
prefix, and real prices for GPUs: every GPU price here is a parameter the caller names.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from llmprep.book.plotting import INK, PALETTE
from llmprep.core.pricing import ModelPrice
from llmprep.foundations.hardware import Accelerator
from llmprep.foundations.model_shapes import ModelShape

# The self-hosting arithmetic lives in production.capacity; re-exported for the chapter.
from llmprep.production.capacity import Workload as Workload
from llmprep.production.capacity import break_even_requests_per_day as break_even_requests_per_day
from llmprep.production.capacity import decode_step_seconds as decode_step_seconds
from llmprep.production.capacity import gpu_seconds_per_request as gpu_seconds_per_request
from llmprep.production.capacity import prefill_flops as prefill_flops
from llmprep.production.capacity import self_hosted_cost_per_day as self_hosted_cost_per_day

type DelayFn = Callable[[int, random.Random], float]


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    """A figure outside pyplot: displayed once in a notebook, garbage-collected after."""
    return Figure(figsize=(width, height), layout="constrained")


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")


# ------------------------------------------------------------------------------------------
# Retries and the thundering herd


@dataclass(frozen=True, slots=True)
class HerdResult:
    """Every attempt of a burst of clients against a server with a fixed capacity per slot."""

    times: NDArray[np.float64]  # when each attempt arrived, seconds (first tries and retries)
    accepted: NDArray[np.bool_]  # whether the server served that attempt
    clients: int
    slot: float  # seconds per capacity slot
    capacity_per_slot: int

    @property
    def served(self) -> int:
        """Clients that got an answer within their attempts."""
        return int(self.accepted.sum())

    @property
    def success_rate(self) -> float:
        return self.served / self.clients

    @property
    def attempts_per_client(self) -> float:
        """Retry amplification: attempts sent per client (1.0 means no retries)."""
        return len(self.times) / self.clients

    @property
    def finished_at(self) -> float:
        """When the last served client got its answer (0 if none was served)."""
        served = self.times[self.accepted]
        return float(served.max()) if len(served) else 0.0

    def per_slot(self, horizon: float) -> NDArray[np.int64]:
        """Attempts that arrived in each slot of [0, horizon)."""
        n_slots = math.ceil(horizon / self.slot)
        slots = np.floor(self.times / self.slot).astype(np.int64)
        return np.bincount(slots[slots < n_slots], minlength=n_slots)


def simulate_herd(
    clients: int,
    delay: DelayFn,
    *,
    capacity_per_s: float,
    slot: float = 0.1,
    max_attempts: int = 5,
    seed: int = 0,
) -> HerdResult:
    """A burst of `clients` first attempts at t = 0 (the moment an outage ends, or a cron job
    fires), against a server that serves at most `capacity_per_s * slot` attempts per slot and
    rejects the rest with a 429. A rejected client waits `delay(n, rng)` after its n-th failed
    attempt and tries again, up to `max_attempts` attempts in all.

    Example: 1,000 clients, 200/s in 0.1 s slots, no jitter (delay 0.5 * 2**(n-1)): every
    retry wave lands in one slot, each wave serves 20, so 5 attempts serve 100 (10%).
    """
    if clients < 1 or max_attempts < 1:
        raise ValueError(f"clients and max_attempts must be >= 1, got {clients}, {max_attempts}")
    if capacity_per_s <= 0 or slot <= 0:
        raise ValueError(f"capacity_per_s and slot must be > 0, got {capacity_per_s}, {slot}")
    capacity = max(1, round(capacity_per_s * slot))
    rng = random.Random(seed)
    queue: list[tuple[float, int, int]] = [(0.0, client, 1) for client in range(clients)]
    heapq.heapify(queue)
    load: dict[int, int] = {}
    times: list[float] = []
    accepted: list[bool] = []
    while queue:
        t, client, attempt = heapq.heappop(queue)
        k = math.floor(t / slot)
        ok = load.get(k, 0) < capacity
        load[k] = load.get(k, 0) + ok
        times.append(t)
        accepted.append(ok)
        if not ok and attempt < max_attempts:
            wait = delay(attempt, rng)
            if wait < 0:
                raise ValueError(f"delay({attempt}) returned a negative wait: {wait}")
            heapq.heappush(queue, (t + wait, client, attempt + 1))
    return HerdResult(
        times=np.asarray(times, dtype=np.float64),
        accepted=np.asarray(accepted, dtype=np.bool_),
        clients=clients,
        slot=slot,
        capacity_per_slot=capacity,
    )


def herd_figure(
    results: Mapping[str, HerdResult], *, horizon: float, height: float = 4.4
) -> Figure:
    """One panel per policy: attempts per slot (served and rejected) over time, with the
    server's capacity as a dashed line; each panel's title gives its success rate and its
    attempts per client."""
    fig = _new_figure(7.0, height)
    axes = fig.subplots(len(results), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    for ax, (label, r) in zip(axes, results.items(), strict=True):
        n_slots = math.ceil(horizon / r.slot)
        edges = np.arange(n_slots) * r.slot
        slots = np.floor(r.times / r.slot).astype(np.int64)
        keep = slots < n_slots
        ok = np.bincount(slots[keep & r.accepted], minlength=n_slots)
        bad = np.bincount(slots[keep & ~r.accepted], minlength=n_slots)
        ax.bar(edges, ok, width=r.slot, align="edge", color=PALETTE[2], label="served")
        ax.bar(edges, bad, width=r.slot, align="edge", bottom=ok, color=PALETTE[1],
               label="rejected (429)")  # fmt: skip
        ax.axhline(r.capacity_per_slot, color=INK, linestyle="--", linewidth=1.2)
        ax.set_yscale("symlog", linthresh=10)
        ax.set_title(
            f"{label}: {r.success_rate:.0%} served, {r.attempts_per_client:.1f} attempts "
            "per client",
            fontsize=11,
            loc="left",
        )
        ax.set_ylabel(f"attempts per\n{r.slot * 1000:.0f} ms slot")
    axes[-1].set_xlabel("seconds after the burst")
    axes[-1].set_xlim(0, horizon)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    return fig


# ------------------------------------------------------------------------------------------
# Prompt caching


def cached_input_cost_ratio(
    prefix_share: float, hit_rate: float, *, read: float, write: float
) -> float:
    """Input cost with prompt caching relative to none: the uncached part costs 1 per token,
    the cached prefix costs `write` on a miss (the request that writes the cache) and `read`
    on a hit.

        ratio = (1 - s) + s * ((1 - h) * write + h * read)

    Example (Anthropic's 5-minute cache, read 0.1, write 1.25): s = 0.9, h = 0.8 -> 0.397,
    i.e. 60% off the input bill.
    """
    _check_fraction("prefix_share", prefix_share)
    _check_fraction("hit_rate", hit_rate)
    if read < 0 or write < 0:
        raise ValueError(f"read and write multipliers must be >= 0, got {read}, {write}")
    return (1 - prefix_share) + prefix_share * ((1 - hit_rate) * write + hit_rate * read)


def cache_break_even_hit_rate(*, read: float, write: float) -> float:
    """The hit rate at which caching a prefix costs exactly what not caching it does:
    (1 - h) * write + h * read = 1, so h = (write - 1) / (write - read); 0 if writes are free.

    Example: read 0.1, write 1.25 -> 0.217; read 0.1, write 2.0 (1-hour cache) -> 0.526
    """
    if write <= 1:
        return 0.0
    if read >= 1:
        raise ValueError(f"a cache read must cost less than an uncached token, got {read}")
    return (write - 1) / (write - read)


def prompt_cache_savings_figure(
    schemes: Mapping[str, tuple[float, float]],
    hit_rates: Sequence[float],
    *,
    height: float = 3.6,
) -> Figure:
    """One panel per pricing scheme (name -> (read, write) multipliers): the share of the input
    bill saved against the cached-prefix share of the prompt, one line per hit rate. Lines
    below zero are hit rates under the break-even, where caching costs money."""
    fig = _new_figure(7.0, height)
    axes = fig.subplots(1, len(schemes), sharey=True, squeeze=False)[0]
    shares = np.linspace(0.0, 1.0, 101)
    for ax, (name, (read, write)) in zip(axes, schemes.items(), strict=True):
        for j, h in enumerate(hit_rates):
            saved = [1 - cached_input_cost_ratio(s, h, read=read, write=write) for s in shares]
            ax.plot(shares, saved, color=PALETTE[j % len(PALETTE)], label=f"hit rate {h:.0%}")
        ax.axhline(0, color=INK, linewidth=1)
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("cached prefix, share of input tokens")
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    axes[0].set_ylabel("input cost saved")
    axes[0].yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(hit_rates))
    return fig


# ------------------------------------------------------------------------------------------
# Routing and cascades


def strategy_cost(
    strategy: str, small: ModelPrice, large: ModelPrice, work: Workload, share_large: float
) -> Decimal:
    """USD per request for one routing strategy, `share_large` being the share of requests
    that end up on the large model:

    - "always small" / "always large": every request on one model;
    - "router": a classification call on the small model, then one model per request;
    - "cascade": every request tries the small model first; the share that fails its check
      is sent again to the large model (and pays for both calls).

    Example: haiku-4-5 ($1/$5) and opus-4-5 ($5/$25), 2,000 in / 400 out, 30% large:
    cascade = 0.004 + 0.3 * 0.02 = $0.0100 per request.
    """
    _check_fraction("share_large", share_large)
    f = Decimal(str(share_large))
    s = small.cost(work.input_tokens, work.output_tokens)
    big = large.cost(work.input_tokens, work.output_tokens)
    if strategy == "always small":
        return s
    if strategy == "always large":
        return big
    if strategy == "router":
        route = small.cost(work.input_tokens, work.router_output_tokens)
        return route + (1 - f) * s + f * big
    if strategy == "cascade":
        return s + f * big
    raise ValueError(
        f"unknown strategy {strategy!r}; use always small, always large, router, cascade"
    )


STRATEGIES = ("always small", "always large", "router", "cascade")


def cascade_break_even(small: ModelPrice, large: ModelPrice, work: Workload) -> float:
    """The escalation share above which a cascade costs more than sending everything to the
    large model: small + f * large = large, so f = 1 - small / large.

    Example: a small model at a fifth of the large one's price -> 0.8
    """
    s = small.cost(work.input_tokens, work.output_tokens)
    big = large.cost(work.input_tokens, work.output_tokens)
    if big <= 0:
        raise ValueError(f"{large.model} costs nothing for this workload")
    return float(1 - s / big)


def routing_cost_figure(
    small: ModelPrice, large: ModelPrice, work: Workload, *, height: float = 3.8
) -> Figure:
    """Cost per 1,000 requests of each strategy against the share of requests that need the
    large model, with the cascade's break-even against always-large marked."""
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    shares = np.linspace(0.0, 1.0, 51)
    for j, name in enumerate(STRATEGIES):
        costs = [1000 * float(strategy_cost(name, small, large, work, float(f))) for f in shares]
        style = "--" if name.startswith("always") else "-"
        ax.plot(shares, costs, style, color=PALETTE[j], label=name)
    f_star = cascade_break_even(small, large, work)
    y_star = 1000 * float(large.cost(work.input_tokens, work.output_tokens))
    ax.plot([f_star], [y_star], "o", color=INK)
    ax.annotate(f"cascade = always large\nat {f_star:.0%} escalated", (f_star, y_star),
                xytext=(-150, 8), textcoords="offset points", fontsize=9,
                arrowprops={"arrowstyle": "->", "color": INK})  # fmt: skip
    ax.set_xlabel(f"share of requests that need {large.model}")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel("USD per 1,000 requests")
    ax.set_ylim(bottom=0)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=4)
    return fig


# ------------------------------------------------------------------------------------------
# Tail latency: fan-out and hedged requests


def p_any_slow(p: float, n: int) -> float:
    """Probability that a request waiting on n independent calls meets at least one slow one,
    when each is slow with probability p: 1 - (1 - p)^n.

    Example: p_any_slow(0.01, 100) -> 0.634 (the tail of one call is the median of the whole)
    """
    _check_fraction("p", p)
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return 1.0 - (1.0 - p) ** n


def synthetic_latencies(
    n: int,
    *,
    median_s: float = 1.0,
    sigma: float = 0.35,
    slow_share: float = 0.03,
    slow_factor: float = 5.0,
    seed: int = 0,
) -> NDArray[np.float64]:
    """A made-up but typical latency distribution: log-normal around `median_s`, with a share
    of calls `slow_factor` times slower (a busy replica, a long queue). Not a measurement."""
    _check_fraction("slow_share", slow_share)
    rng = np.random.default_rng(seed)
    base = median_s * np.exp(sigma * rng.standard_normal(n))
    slow = rng.random(n) < slow_share
    return np.where(slow, base * slow_factor, base)


@dataclass(frozen=True, slots=True)
class Hedged:
    latencies: NDArray[np.float64]
    extra_calls: float  # share of requests that sent a backup


def hedge(first: NDArray[np.float64], backup: NDArray[np.float64], after: float) -> Hedged:
    """Send a backup copy of each request that has not answered `after` seconds in, and keep
    whichever answer comes first: latency = min(first, after + backup).

    The backup costs a second call (tokens, for an LLM) for the share of requests slower than
    `after`, which is why the hedge is set at a high percentile, not at the median.
    """
    if first.shape != backup.shape:
        raise ValueError(f"first and backup differ in shape: {first.shape} vs {backup.shape}")
    if after < 0:
        raise ValueError(f"after must be >= 0, got {after}")
    return Hedged(
        latencies=np.minimum(first, after + backup), extra_calls=float(np.mean(first > after))
    )


def tail_latency_figure(
    ps: Sequence[float],
    lat: NDArray[np.float64],
    hedges: Mapping[str, Hedged],
    *,
    max_fanout: int = 100,
    height: float = 3.8,
) -> Figure:
    """Left: P(at least one slow call) against fan-out for per-call slow probabilities `ps`.
    Right: p50/p95/p99 latency without hedging and with each hedge, labelled with its extra
    calls."""
    fig = _new_figure(7.2, height)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.15])
    n = np.arange(1, max_fanout + 1)
    for j, p in enumerate(ps):
        left.plot(n, [p_any_slow(p, int(k)) for k in n], color=PALETTE[j],
                  label=f"each call slow with p = {p:.0%}")  # fmt: skip
    left.set_xlabel("calls the request waits for (fan-out)")
    left.set_ylabel("P(request meets a slow call)")
    left.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    left.set_ylim(0, 1.02)
    left.legend(loc="lower right", fontsize=9)
    groups = {"no hedge": Hedged(lat, 0.0), **hedges}
    qs = (50, 95, 99)
    width = 0.8 / len(groups)
    for j, (label, h) in enumerate(groups.items()):
        values = np.percentile(h.latencies, qs)
        xs = np.arange(len(qs)) + (j - (len(groups) - 1) / 2) * width
        name = label if h.extra_calls == 0 else f"{label} (+{h.extra_calls:.0%} calls)"
        bars = right.bar(xs, values, width, color=PALETTE[j], label=name)
        right.bar_label(bars, labels=[f"{v:.1f}" for v in values], fontsize=8, padding=1)
    right.set_xticks(range(len(qs)), [f"p{q}" for q in qs])
    right.set_ylabel("latency (s)")
    right.grid(axis="x", visible=False)
    right.legend(loc="upper left", fontsize=8)
    return fig


# ------------------------------------------------------------------------------------------
# Self-hosting: throughput from the hardware, and the break-even against an API


def self_hosting_figure(
    api: Mapping[str, float],
    gpu_prices: Sequence[float],
    *,
    requests_per_gpu_day: float,
    volumes: NDArray[np.float64],
    min_gpus: int = 2,
    height: float = 4.0,
) -> Figure:
    """USD per day against requests per day (log-log): one line per API model (name -> USD per
    request) and one step curve per GPU-hour price."""
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    for j, (name, per_request) in enumerate(api.items()):
        ax.plot(volumes, volumes * per_request, color=PALETTE[j], label=f"API: {name}")
    for j, price in enumerate(gpu_prices):
        cost = [
            self_hosted_cost_per_day(v, requests_per_gpu_day=requests_per_gpu_day,
                                     gpu_hour_usd=price, min_gpus=min_gpus)
            for v in volumes
        ]  # fmt: skip
        ax.plot(volumes, cost, "--", drawstyle="steps-post", color=PALETTE[len(api) + j],
                label=f"self-hosted at ${price:.2f} per GPU-hour")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("requests per day")
    ax.set_ylabel("USD per day")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=9)
    return fig


# ------------------------------------------------------------------------------------------
# Streaming: where the time of an answer goes


@dataclass(frozen=True, slots=True)
class Timeline:
    """Seconds spent in each phase of one streamed answer."""

    network: float
    prefill: float
    decode: float  # all output tokens after the first

    @property
    def ttft(self) -> float:
        """Time to first token: the network round trip and the prefill (the first token comes
        out of the prefill's last forward pass)."""
        return self.network + self.prefill

    @property
    def total(self) -> float:
        return self.network + self.prefill + self.decode


def stream_timeline(
    shape: ModelShape,
    accel: Accelerator,
    *,
    prompt_tokens: int,
    cached_tokens: int = 0,
    output_tokens: int,
    batch: int = 1,
    network_s: float = 0.1,
    mfu: float = 0.5,
    bandwidth_efficiency: float = 0.7,
) -> Timeline:
    """The phases of one answer on a self-hosted model: a network round trip, the prefill of
    the uncached part of the prompt (attention still reads the cached part), and one decode
    step per output token after the first, at batch `batch`."""
    if not 0 <= cached_tokens <= prompt_tokens:
        raise ValueError(f"cached_tokens must be in [0, {prompt_tokens}], got {cached_tokens}")
    if output_tokens < 1:
        raise ValueError(f"output_tokens must be >= 1, got {output_tokens}")
    # Prefill FLOPs of the new tokens: weights for each, attention over the whole prompt.
    # prefill_flops(P) - prefill_flops(C) = 2 A (P - C) + 2 L d (P^2 - C^2): exactly that.
    flops = prefill_flops(shape, prompt_tokens) - prefill_flops(shape, cached_tokens)
    prefill = flops / (accel.flops_per_s("bf16") * mfu)
    context = prompt_tokens + output_tokens // 2
    step = decode_step_seconds(
        shape, accel, batch=batch, context=context, bandwidth_efficiency=bandwidth_efficiency
    )
    return Timeline(network=network_s, prefill=prefill, decode=(output_tokens - 1) * step)


def stream_timeline_figure(timelines: Mapping[str, Timeline], *, height: float = 3.4) -> Figure:
    """Horizontal stacked bars, one per scenario: network, prefill and decode time, with the
    time to first token marked and printed."""
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    names = list(timelines)
    ys = np.arange(len(names))[::-1]
    parts = (("network", PALETTE[5]), ("prefill", PALETTE[1]), ("decode", PALETTE[0]))
    for y, name in zip(ys, names, strict=True):
        t = timelines[name]
        left = 0.0
        for part, color in parts:
            width = getattr(t, part)
            ax.barh(y, width, left=left, color=color, height=0.6,
                    label=part if y == ys[0] else None)  # fmt: skip
            left += width
        ax.plot([t.ttft, t.ttft], [y - 0.38, y + 0.38], color=INK, linewidth=2)
        ax.text(t.total, y, f"  TTFT {t.ttft:.2f} s, total {t.total:.1f} s", va="center",
                fontsize=9)  # fmt: skip
    ax.set_yticks(ys, names, fontsize=9)
    ax.set_xlabel("seconds from sending the request")
    ax.grid(axis="y", visible=False)
    right = max(t.total for t in timelines.values())
    ax.set_xlim(0, right * 1.55)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3)
    return fig
