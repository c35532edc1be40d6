"""The system-design figures draw what the calculator computes: one line per API model and
two self-hosted lines, both panels of the scaling figure, one bar group per design."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from llmprep.foundations.hardware import H100_SXM
from llmprep.foundations.model_shapes import QWEN3_8B
from llmprep.interview import figures as f
from llmprep.interview.capacity import SelfHosting, gpu_plan
from llmprep.interview.designs import DESIGNS


def test_autoscaled_cost_is_at_most_the_peak_provisioned_bill() -> None:
    d = DESIGNS["support"]
    auto = f.autoscaled_cost_per_day(d.traffic, d.tokens, d.hosting)
    assert 0 < auto <= gpu_plan(d.traffic, d.tokens, d.hosting).cost_per_day


def test_cost_vs_traffic_draws_every_model_and_both_self_hosted_lines() -> None:
    d = DESIGNS["support"]
    fig = f.cost_vs_traffic_figure(d, scales=np.logspace(-1, 1, 9), models=["gpt-5-mini"])
    ax = fig.axes[0]
    assert len(ax.lines) == 1 + 2 + 1  # API, peak, autoscaled, the design's traffic
    api = ax.lines[0].get_ydata()
    assert np.all(np.diff(np.asarray(api)) > 0)  # cost grows with traffic
    with pytest.raises(ValueError, match="scales"):
        f.cost_vs_traffic_figure(d, scales=[0.0, 1.0])


def test_gpu_scaling_has_both_panels_and_monotone_gpus() -> None:
    d = DESIGNS["gateway"]
    tiers = {"8B": SelfHosting(QWEN3_8B, H100_SXM, batch=64), "70B": d.hosting}
    fig = f.gpu_scaling_figure(d, tiers, peak_qps=[1, 10, 100, 1000], api_models=["gpt-5-mini"])
    left, right = fig.axes
    assert len(left.lines) == 4
    assert len(right.lines) == 5
    gpus = np.asarray(left.lines[0].get_ydata())
    assert np.all(np.diff(gpus) >= 0)
    with pytest.raises(ValueError, match="peak_qps"):
        f.gpu_scaling_figure(d, tiers, peak_qps=[])


def test_latency_budget_has_a_bar_per_design() -> None:
    estimates = {d.title: d.estimate() for d in DESIGNS.values()}
    fig = f.latency_budget_figure(estimates)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(estimates)
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    widths = sum(p.get_width() for p in bars if p.get_y() > 6.5)  # the top bar
    support = estimates[DESIGNS["support"].title].latency
    assert widths == pytest.approx(support.ttft / support.slo_s)
