"""The figures of the "System design" chapter, drawn from `llmprep.interview.capacity`.

- `cost_vs_traffic_figure`: USD per day against traffic for one design, one line per API
  model and the self-hosted option provisioned for the peak and autoscaled.
- `gpu_scaling_figure`: GPUs and USD per day against peak QPS for self-hosted model tiers,
  provisioned for the peak against following the daily curve.
- `latency_budget_figure`: every design's critical path as a share of its SLO.

Figures are `matplotlib.figure.Figure`, not `pyplot`, so a function never touches global
state; the house style comes from `llmprep.book.plotting` via the chapter's setup cell.

Leaves out: anything the calculator leaves out (queueing, scale-up lag, discounts); the
figures only draw its numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from llmprep.book.plotting import INK, PALETTE
from llmprep.interview.capacity import (
    Estimate,
    SelfHosting,
    TokenProfile,
    Traffic,
    api_cost_per_day,
    autoscaled_gpu_hours,
    gpu_plan,
)
from llmprep.interview.designs import Design


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def autoscaled_cost_per_day(traffic: Traffic, tokens: TokenProfile, hosting: SelfHosting) -> float:
    """USD per day when the GPUs follow the traffic hour by hour."""
    return sum(autoscaled_gpu_hours(traffic, tokens, hosting)) * hosting.gpu_hour_usd


def cost_vs_traffic_figure(
    design: Design,
    *,
    scales: Sequence[float] | NDArray[np.float64],
    models: Sequence[str] | None = None,
    height: float = 4.2,
) -> Figure:
    """USD per day (log) against requests per day (log) as the design's users are multiplied
    by each of `scales`: a line per API model, the self-hosted option provisioned for the peak
    (a staircase) and autoscaled; the design's own traffic is marked."""
    if len(scales) == 0 or min(scales) <= 0:
        raise ValueError(f"scales must be positive, got {scales!r}")
    names = tuple(models) if models is not None else design.models
    traffics = [design.traffic.scaled(s) for s in scales]
    volumes = np.array([t.requests_per_day for t in traffics])
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    for j, model in enumerate(names):
        cost = [float(api_cost_per_day(t, design.tokens, model)) for t in traffics]
        ax.plot(volumes, cost, color=PALETTE[j % len(PALETTE)], label=f"API: {model}")
    fixed = [gpu_plan(t, design.tokens, design.hosting).cost_per_day for t in traffics]
    auto = [autoscaled_cost_per_day(t, design.tokens, design.hosting) for t in traffics]
    label = f"self-hosted {design.hosting.shape.name}"
    ax.plot(volumes, fixed, "--", drawstyle="steps-post", color=INK,
            label=f"{label}, provisioned for the peak")  # fmt: skip
    ax.plot(volumes, auto, ":", drawstyle="steps-post", color=INK, linewidth=2.4,
            label=f"{label}, autoscaled")  # fmt: skip
    ax.axvline(design.traffic.requests_per_day, color=INK, linewidth=0.8, alpha=0.6)
    ax.annotate("the design's traffic", (design.traffic.requests_per_day, ax.get_ylim()[1]),
                xytext=(4, -14), textcoords="offset points", fontsize=9)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"requests per day ({design.requests})")
    ax.set_ylabel("USD per day")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8.5)
    return fig


def _traffic_at_peak(base: Traffic, peak_qps: float) -> Traffic:
    """`base`'s habits with as many users as give `peak_qps` at the peak."""
    return base.scaled(peak_qps / base.peak_qps)


def gpu_scaling_figure(
    design: Design,
    hostings: Mapping[str, SelfHosting],
    *,
    peak_qps: Sequence[float] | NDArray[np.float64],
    api_models: Sequence[str] = (),
    height: float = 4.0,
) -> Figure:
    """Left: GPUs against peak QPS for each self-hosted tier, provisioned for the peak (solid)
    and the day's average GPU count when autoscaled (dashed). Right: USD per day of the same,
    with the API models' bills for reference."""
    qps = np.asarray(peak_qps, dtype=float)
    if qps.size == 0 or qps.min() <= 0:
        raise ValueError(f"peak_qps must be positive, got {peak_qps!r}")
    traffics = [_traffic_at_peak(design.traffic, float(q)) for q in qps]
    fig = _new_figure(7.2, height)
    left, right = fig.subplots(1, 2)
    for j, (name, hosting) in enumerate(hostings.items()):
        color = PALETTE[j % len(PALETTE)]
        fixed = [gpu_plan(t, design.tokens, hosting).gpus for t in traffics]
        hours = [autoscaled_gpu_hours(t, design.tokens, hosting) for t in traffics]
        mean = [sum(h) / len(h) for h in hours]
        left.plot(qps, fixed, color=color, drawstyle="steps-post", label=f"{name}, peak")
        left.plot(qps, mean, "--", color=color, label=f"{name}, autoscaled (mean)")
        right.plot(qps, [g * 24 * hosting.gpu_hour_usd for g in fixed], color=color)
        right.plot(qps, [sum(h) * hosting.gpu_hour_usd for h in hours], "--", color=color)
    for j, model in enumerate(api_models, start=len(hostings)):
        cost = [float(api_cost_per_day(t, design.tokens, model)) for t in traffics]
        right.plot(qps, cost, ":", color=PALETTE[j % len(PALETTE)], label=f"API: {model}")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("peak requests per second")
    left.set_ylabel("GPUs")
    right.set_ylabel("USD per day")
    handles, labels = left.get_legend_handles_labels()
    more, more_labels = right.get_legend_handles_labels()
    fig.legend(handles + more, labels + more_labels, loc="outside lower center", ncols=2,
               fontsize=8.5)  # fmt: skip
    return fig


_CATEGORY_COLORS = {
    "assumed": PALETTE[5],
    "calls": PALETTE[3],
    "prefill": PALETTE[1],
    "decode": PALETTE[0],
}
_CATEGORY_LABELS = {
    "assumed": "other steps (assumed)",
    "calls": "LLM calls before the answer",
    "prefill": "prefill of the answer",
    "decode": "decode of the answer",
}


def _category(name: str, source: str) -> str:
    if source == "assumed":
        return "assumed"
    if name.endswith("before the answer"):
        return "calls"
    return "prefill" if name.startswith("prefill") else "decode"


def latency_budget_figure(estimates: Mapping[str, Estimate], *, height: float = 4.4) -> Figure:
    """One bar per design: the stages its SLO counts (up to the first token for a TTFT SLO,
    everything for an end-to-end one) as a share of the SLO, with 100% marked."""
    fig = _new_figure(7.2, height)
    ax = fig.add_subplot()
    names = list(estimates)
    ys = np.arange(len(names))[::-1]
    seen: set[str] = set()
    for y, name in zip(ys, names, strict=True):
        budget = estimates[name].latency
        stages = budget.stages if budget.slo_metric == "total" else budget.stages[:-1]
        left = 0.0
        for stage in stages:
            cat = _category(stage.name, stage.source)
            width = stage.seconds / budget.slo_s
            ax.barh(y, width, left=left, height=0.6, color=_CATEGORY_COLORS[cat],
                    label=_CATEGORY_LABELS[cat] if cat not in seen else None)  # fmt: skip
            seen.add(cat)
            left += width
        what = "TTFT" if budget.slo_metric == "ttft" else "total"
        ax.text(left, y, f"  {what} {budget.measured:.2f} s of {budget.slo_s:g} s",
                va="center", fontsize=8.5,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})  # fmt: skip
    ax.axvline(1.0, color=INK, linestyle="--", linewidth=1.2)
    ax.set_yticks(ys, names, fontsize=9)
    ax.set_xlabel("share of the latency SLO")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.grid(axis="y", visible=False)
    ax.set_xlim(0, max(2.6, ax.get_xlim()[1] * 1.3))
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=9)
    return fig
