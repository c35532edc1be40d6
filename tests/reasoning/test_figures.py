"""Each figure draws the data it is given: the right number of lines and axes."""

from __future__ import annotations

import numpy as np

from llmprep.reasoning import figures, grpo
from llmprep.reasoning.experiments import Point


def pts(name: str) -> list[Point]:
    return [Point(name, k, 0.1 * i + 0.2, 100.0 * k) for i, k in enumerate((1, 2, 4))]


def test_compute_and_vote_figures() -> None:
    fig = figures.compute_figure({"majority": pts("m"), "pass@k": pts("p")})
    (ax,) = fig.axes
    assert len(ax.lines) == 2
    assert ax.lines[1].get_linestyle() == "--"
    fig = figures.pass_vs_vote_figure({"pass@k": pts("p"), "majority@k": pts("m")})
    assert len(fig.axes[0].lines) == 2


def test_budget_figure_has_one_panel_per_group() -> None:
    fig = figures.budget_figure({"easy": {"a": pts("a")}, "hard": {"a": pts("a"), "b": pts("b")}})
    assert [len(ax.lines) for ax in fig.axes] == [1, 2]


def test_grpo_and_exploit_figures() -> None:
    task = grpo.make_task(problems=10)
    h = grpo.train(task, steps=8)
    fig = figures.grpo_figure(h, task.success)
    assert [len(ax.lines) for ax in fig.axes] == [3, 2]
    fig = figures.exploit_figure(h, task.success, window=2)
    assert len(fig.axes[0].lines) == 2
    assert np.isfinite(fig.axes[0].lines[0].get_ydata()).all()
