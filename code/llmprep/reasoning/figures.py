"""The figures of the "Reasoning models" chapter, drawn from `experiments` and `grpo` results.

Each function takes numbers already computed (so the chapter prints the same numbers it
plots) and returns a `matplotlib.figure.Figure` outside pyplot; the house style comes from
`llmprep.book.plotting` through the chapter's setup cell.

- `compute_figure`: accuracy against tokens per problem for every test-time strategy;
- `pass_vs_vote_figure`: pass@k (an oracle picks) against majority@k and best-of-k;
- `budget_figure`: sequential revision under a thinking budget, easy against hard problems;
- `grpo_figure`: pass@1, pass@64 and entropy during GRPO, and pass@k before and after;
- `exploit_figure`: the reward a loophole verifier pays against the true accuracy.

Leaves out: error bars (see the evaluation section of the chapter for the spread).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from llmprep.book.plotting import INK, PALETTE
from llmprep.reasoning.experiments import Point
from llmprep.reasoning.grpo import History, pass_at_k_exact


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _accuracy_chart(
    curves: Mapping[str, Sequence[Point]],
    *,
    x: Callable[[Point], float],
    xlabel: str,
    dashed: Callable[[str], bool],
) -> Figure:
    """Accuracy against a log2 x axis, one marked line per curve; `dashed` picks the ceilings."""
    fig = _new_figure()
    ax = fig.add_subplot()
    for i, (name, points) in enumerate(curves.items()):
        ax.plot(
            [x(p) for p in points],
            [p.accuracy for p in points],
            "--" if dashed(name) else "-",
            marker=_MARKERS[i % len(_MARKERS)],
            color=PALETTE[i % len(PALETTE)],
            label=name,
            markersize=5,
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (share of problems solved)")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize=9)
    return fig


def compute_figure(curves: Mapping[str, Sequence[Point]], *, oracle: str = "pass@k") -> Figure:
    """Accuracy against tokens per problem (log scale), one line per strategy.

    The curve named `oracle` is drawn dashed: it needs a perfect verifier, so it is a ceiling,
    not a strategy you can run.
    """
    return _accuracy_chart(
        curves,
        x=lambda p: p.tokens,
        xlabel="tokens per problem (generated + verifier-read, log scale)",
        dashed=lambda name: name == oracle,
    )


def pass_vs_vote_figure(curves: Mapping[str, Sequence[Point]]) -> Figure:
    """pass@k, majority@k and best-of-k against k (log scale); pass@k, the ceiling, is dashed."""
    return _accuracy_chart(
        curves,
        x=lambda p: p.setting,
        xlabel="k, samples per problem (log scale)",
        dashed=lambda name: name.startswith("pass"),
    )


def budget_figure(panels: Mapping[str, Mapping[str, Sequence[Point]]]) -> Figure:
    """One panel per problem group: accuracy against tokens used, one line per revision mode.

    Each marker is one thinking budget; its x position is the tokens actually used, which
    stops growing when the model stops on its own.
    """
    fig = _new_figure(7.0, 3.8)
    axes = fig.subplots(1, len(panels), sharey=True)
    for ax, (title, curves) in zip(np.atleast_1d(axes), panels.items(), strict=True):
        for i, (name, points) in enumerate(curves.items()):
            ax.plot(
                [p.generated_tokens for p in points],
                [p.accuracy for p in points],
                marker=_MARKERS[i],
                color=PALETTE[i],
                label=name,
                markersize=5,
            )
        ax.set_title(title)
        ax.set_xlabel("thinking tokens used per problem")
        ax.set_ylim(0, 1.02)
    np.atleast_1d(axes)[0].set_ylabel("accuracy")
    np.atleast_1d(axes)[0].legend(loc="lower right", fontsize=9)
    return fig


def grpo_figure(history: History, success: NDArray[np.float64], *, k_large: int = 64) -> Figure:
    """Left: pass@1, pass@k_large and entropy over training. Right: pass@k before and after."""
    fig = _new_figure(7.5, 3.8)
    left, right = fig.subplots(1, 2)
    steps = np.arange(len(history.policies))
    left.plot(steps, history.pass_at(success, 1), color=PALETTE[0], label="pass@1")
    left.plot(steps, history.pass_at(success, k_large), color=PALETTE[1], label=f"pass@{k_large}")
    ent = history.entropy()
    left.plot(steps, ent / np.log(success.shape[1]), "--", color=INK, label="entropy / maximum")
    left.set_xlabel("GRPO step")
    left.set_ylabel("share")
    left.set_ylim(0, 1.02)
    left.legend(loc="center right", fontsize=9)
    ks = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256])
    for row, label, color in ((0, "base policy", PALETTE[2]), (-1, "after GRPO", PALETTE[0])):
        pi = history.policies[row]
        right.plot(
            ks,
            [pass_at_k_exact(pi, success, int(k)) for k in ks],
            marker="o",
            color=color,
            label=label,
            markersize=4,
        )
    right.set_xscale("log", base=2)
    right.set_xlabel("k (log scale)")
    right.set_ylabel("pass@k")
    right.set_ylim(0, 1.02)
    right.legend(loc="lower right", fontsize=9)
    return fig


def exploit_figure(history: History, success: NDArray[np.float64], *, window: int = 5) -> Figure:
    """The reward the (loophole) verifier paid per step against the true pass@1."""
    fig = _new_figure(7.0, 3.6)
    ax = fig.add_subplot()
    paid = np.convolve(history.mean_reward, np.ones(window) / window, mode="valid")
    ax.plot(
        np.arange(len(paid)) + window,
        paid,
        color=PALETTE[1],
        label=f"reward paid by the verifier ({window}-step mean)",
    )
    ax.plot(
        np.arange(len(history.policies)),
        history.pass_at(success, 1),
        color=PALETTE[0],
        label="true pass@1",
    )
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("share of samples")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="center right", fontsize=9)
    return fig
