"""The figures of the "RAG in code" chapter, drawn from rows `llmprep.rag.experiments` computed.

Each function takes measured rows and returns a `matplotlib.figure.Figure` in the house style
(:mod:`llmprep.book.plotting`); none computes anything beyond arranging its rows, and none
touches pyplot's global state.

Leaves out: tables (the chapter formats those).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from llmprep.book.plotting import PALETTE
from llmprep.rag.experiments import AbstentionPoint, EvalRow, QueryResult, ScalingRow, SizePoint

MARKERS = ("o", "s", "^", "D", "v", "P")


def recall_by_kind(
    rows: Mapping[str, Mapping[str, EvalRow]], kinds: Sequence[str], k: int = 5
) -> Figure:
    """Grouped bars: recall@k of each retriever (one colour each) for each query kind."""
    fig = Figure(figsize=(7.0, 3.9), layout="constrained")
    ax = fig.add_subplot()
    names = list(rows)
    width = 0.8 / len(names)
    x = np.arange(len(kinds))
    for i, (name, color) in enumerate(zip(names, PALETTE, strict=False)):
        values = [rows[name][kind].recall_at(k) for kind in kinds]
        ax.bar(x + (i - (len(names) - 1) / 2) * width, values, width, color=color, label=name)
    counts = [rows[names[0]][kind].queries for kind in kinds]
    ax.set_xticks(x, [f"{kind}\n({n} queries)" for kind, n in zip(kinds, counts, strict=True)])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(f"recall@{k}")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.grid(axis="x", visible=False)
    fig.legend(loc="outside lower center", ncols=3, fontsize=9)
    return fig


def recall_by_chunk_size(
    points: Sequence[SizePoint], k: int = 5, token_limit_chars: float = 0
) -> Figure:
    """recall@k against chunk size (log scale), one line per retriever; a dotted line marks
    where chunks start to exceed the embedder's token limit, if given (in characters)."""
    fig = Figure(figsize=(7.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    names = list(dict.fromkeys(p.row.retriever for p in points))
    for name, color, marker in zip(names, PALETTE, MARKERS, strict=False):
        mine = [p for p in points if p.row.retriever == name]
        ax.plot(
            [p.size for p in mine],
            [p.row.recall_at(k) for p in mine],
            color=color,
            marker=marker,
            label=name,
        )
    if token_limit_chars:
        ax.axvline(token_limit_chars, color=PALETTE[6], ls=":", lw=1.2)
        ax.annotate(
            "MiniLM's 256-token limit",
            (token_limit_chars, 0.04),
            xytext=(5, 0),
            textcoords="offset points",
            fontsize=9,
        )
    sizes = sorted({p.size for p in points})
    ax.set_xscale("log")
    ax.set_xticks(sizes, [f"{s:,}" for s in sizes])
    ax.minorticks_off()
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("chunk size limit (characters, log scale)")
    ax.set_ylabel(f"recall@{k}")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.legend(loc="lower left", fontsize=9)
    return fig


def ann_scaling(rows: Sequence[ScalingRow], real: int) -> Figure:
    """Two panels against collection size (log scale): recall@10 of each approximate index
    against exact search, and mean query time of every index (log scale). A dotted line marks
    where the real chunk vectors end and the synthetic padding begins."""
    fig = Figure(figsize=(7.0, 3.7), layout="constrained")
    left, right = fig.subplots(1, 2)
    names = list(dict.fromkeys(r.index for r in rows))
    for name, color, marker in zip(names, PALETTE, MARKERS, strict=False):
        mine = [r for r in rows if r.index == name]
        ns = [r.n for r in mine]
        if not name.startswith("exact"):
            left.plot(ns, [r.recall for r in mine], color=color, marker=marker, label=name)
        right.plot(ns, [r.query_ms for r in mine], color=color, marker=marker, label=name)
    for ax in (left, right):
        ax.set_xscale("log")
        ax.axvline(real, color=PALETTE[6], ls=":", lw=1)
        ax.set_xlabel("vectors in the index (log scale)")
    left.set_ylabel("recall@10 against exact search")
    left.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    right.set_yscale("log")
    right.set_ylabel("mean query time (ms, log scale)")
    handles, labels = right.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=9)
    return fig


def abstention(
    results: Sequence[QueryResult], curve: Sequence[AbstentionPoint], threshold: float
) -> Figure:
    """Left: top-1 scores of answerable and unanswerable questions (strip plot). Right: the
    share of answerable questions answered and of unanswerable ones answered anyway, against
    the threshold; a dashed line marks the chosen threshold in both panels."""
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.3])
    rng = np.random.default_rng(0)
    groups = [
        ("answerable", [r.top_score for r in results if r.query.answerable], PALETTE[0]),
        ("unanswerable", [r.top_score for r in results if not r.query.answerable], PALETTE[1]),
    ]
    for y, (_label, scores, color) in enumerate(groups):
        values = [s for s in scores if s is not None]
        jitter = rng.uniform(-0.18, 0.18, len(values))
        left.scatter(values, y + jitter, s=12, color=color, alpha=0.7, lw=0)
    left.set_yticks([0, 1], [f"{g[0]}\n({len(g[1])})" for g in groups])
    left.set_ylim(-0.5, 1.5)
    left.set_xlabel("top-1 cosine similarity")
    left.axvline(threshold, color=PALETTE[6], ls="--", lw=1)
    left.grid(axis="y", visible=False)
    ts = [p.threshold for p in curve]
    right.plot(ts, [p.coverage for p in curve], color=PALETTE[0], label="answerable: answered")
    right.plot(
        ts, [p.false_answers for p in curve], color=PALETTE[1], label="unanswerable: answered"
    )
    right.axvline(threshold, color=PALETTE[6], ls="--", lw=1)
    right.set_xlabel("abstention threshold")
    right.set_ylabel("share of questions")
    right.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    right.set_ylim(0, 1.05)
    right.legend(loc="lower left", fontsize=9)
    return fig
