"""The figures of the "RAG architecture" chapter, as functions the chapter and the deck call.

Each function takes rows another `llmprep.rag` module computed (`ann` sweeps, `index_math`
footprints, `filtering` sweeps, a latency budget) and draws one figure in the house style
(:mod:`llmprep.book.plotting`). Figures are `matplotlib.figure.Figure`, not pyplot, so no
function touches global state.

Leaves out: tables (the chapter formats those) and any computation beyond arranging rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from llmprep.book.plotting import PALETTE
from llmprep.rag.ann import SweepRow
from llmprep.rag.filtering import FilterRow
from llmprep.rag.index_math import GB, Footprint

MARKERS = ("o", "s", "^", "D", "v", "P")


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def ann_tradeoff(rows: Sequence[SweepRow], flat: SweepRow, *, height: float = 4.4) -> Figure:
    """Recall@k against mean query time (log scale), one line per index family with each point
    labeled by its parameter value; exact search is a single black star at recall 1."""
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    families = list(dict.fromkeys(r.index for r in rows))
    for family, color, marker in zip(families, PALETTE, MARKERS, strict=False):
        mine = [r for r in rows if r.index == family]
        xs = [r.query_ms for r in mine]
        ys = [r.recall for r in mine]
        label = f"{family} ({mine[0].param})"
        ax.plot(xs, ys, color=color, marker=marker, label=label)
        for r in mine:
            ax.annotate(
                str(r.value),
                (r.query_ms, r.recall),
                textcoords="offset points",
                xytext=(4, -11),
                fontsize=8,
                color=color,
            )
    ax.plot(
        [flat.query_ms],
        [flat.recall],
        marker="*",
        markersize=14,
        color="black",
        linestyle="none",
        label="exact (flat)",
    )
    ax.set_xscale("log")
    ax.set_xlabel("mean query time, one thread (ms, log scale)")
    ax.set_ylabel("recall@10 against exact search")
    ax.set_ylim(min(0.0, *(r.recall for r in rows)) - 0.02, 1.04)
    ax.legend(loc="lower right", fontsize=9)
    return fig


def memory_footprints(
    groups: Sequence[tuple[str, Sequence[Footprint]]], *, node_gb: float, height: float = 4.6
) -> Figure:
    """Horizontal stacked bars of GB (log scale) per index configuration, one panel per group
    (for example 100 M and 1 B vectors): vector codes and HNSW graph (fixed costs such as
    codebooks and centroids are too small to draw); a dashed line marks one node's RAM."""
    fig = _new_figure(7.0, height)
    axes = fig.subplots(1, len(groups), sharey=True)
    axes_list = list(axes) if len(groups) > 1 else [axes]
    for ax, (title, footprints) in zip(axes_list, groups, strict=True):
        labels = [f.label for f in footprints][::-1]
        vec = [f.vectors / GB for f in footprints][::-1]
        graph = [f.graph / GB for f in footprints][::-1]
        ax.barh(labels, vec, color=PALETTE[0], label="vector codes")
        ax.barh(labels, graph, left=vec, color=PALETTE[1], label="HNSW graph")
        ax.axvline(
            node_gb, color="0.3", linestyle="--", linewidth=1, label=f"one {node_gb:g} GB node"
        )
        ax.set_xscale("log")
        ax.set_xlim(min(vec) / 2, max(v + g for v, g in zip(vec, graph, strict=True)) * 2)
        ax.set_title(title)
        ax.set_xlabel("GB (log scale)")
        ax.grid(axis="y", visible=False)
    handles, names = axes_list[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncols=3, fontsize=9)
    return fig


def filter_recall(rows: Sequence[FilterRow], *, k: int, height: float = 4.0) -> Figure:
    """Recall@k against filter selectivity (share of rows that pass, log scale) for each
    strategy, with the post-filter cliff at selectivity k / candidates marked."""
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    names = {
        "pre": "pre-filter (exact)",
        "post": "post-filter",
        "iterative": "iterative scan",
    }
    strategies = list(dict.fromkeys(r.strategy for r in rows))
    for strategy, color, marker in zip(strategies, PALETTE, MARKERS, strict=False):
        mine = sorted((r for r in rows if r.strategy == strategy), key=lambda r: r.selectivity)
        ax.plot(
            [r.selectivity for r in mine],
            [r.recall for r in mine],
            color=color,
            marker=marker,
            label=names.get(strategy, strategy),
        )
    candidates = next(r.candidates for r in rows if r.strategy == "post")
    ax.axvline(k / candidates, color="0.4", linestyle=":", linewidth=1)
    ax.text(
        k / candidates * 0.9,
        0.06,
        f"k / candidates\n= {k}/{candidates}",
        fontsize=8,
        color="0.3",
        ha="right",
    )
    ax.set_xscale("log")
    ax.set_xlabel("filter selectivity: share of rows that pass (log scale)")
    ax.set_ylabel(f"recall@{k} against exact filtered search")
    ax.set_ylim(-0.03, 1.05)
    ax.legend(loc="center left", fontsize=9)
    return fig


def latency_budget(stages: Sequence[tuple[str, float]], *, height: float = 3.2) -> Figure:
    """A timeline of one request: each stage a bar starting where the previous one ended, so
    the total is the right edge and the longest bar is the stage to optimize first."""
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    start = 0.0
    labels = [name for name, _ in stages][::-1]
    lefts, widths = [], []
    for _, ms in stages:
        lefts.append(start)
        widths.append(ms)
        start += ms
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(stages))]
    ax.barh(labels, widths[::-1], left=lefts[::-1], color=colors[::-1])
    for row, (left, width) in enumerate(zip(lefts[::-1], widths[::-1], strict=True)):
        ax.text(left + width + start * 0.01, row, f"{width:,.0f} ms", va="center", fontsize=8)
    ax.set_xlim(0, start * 1.15)
    ax.set_xlabel("time since the request arrived (ms)")
    ax.grid(axis="y", visible=False)
    return fig
