"""The figures of the "RAG concepts" chapter, as functions the chapter and the deck both call.

Each function takes data that `llmprep.rag.similarity`, the MiniLM encoder or a chunker
computed, draws one figure in the house style (:mod:`llmprep.book.plotting`) and returns it.
Nothing here embeds, ranks or chunks: the chapter shows those calls, and this module only draws.

Figures are `matplotlib.figure.Figure`, not `pyplot`, so a function never touches global
state (see `llmprep.foundations.figures`).

Leaves out: tables (the chapter formats those) and styling beyond the house style.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import NDArray

from llmprep.book.plotting import INK, PALETTE
from llmprep.rag.documents import Chunk


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    """A figure outside pyplot: displayed once in a notebook, garbage-collected after."""
    return Figure(figsize=(width, height), layout="constrained")


def similarity_heatmap(
    sims: NDArray[np.floating],
    queries: Sequence[str],
    passages: Sequence[str],
    *,
    height: float = 3.6,
) -> Figure:
    """Cosine similarity of each query (rows) to each passage (columns), each cell labelled
    with its value; a diverging scale centered on 0, so unrelated pairs look neutral."""
    if sims.shape != (len(queries), len(passages)):
        raise ValueError(
            f"sims has shape {sims.shape} but there are {len(queries)} queries "
            f"and {len(passages)} passages"
        )
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    image = ax.imshow(sims, cmap="RdBu_r", vmin=-1.0, vmax=1.0, aspect="auto")
    for (i, j), value in np.ndenumerate(sims):
        color = "white" if abs(value) > 0.55 else INK
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=10, color=color)
    ax.set_xticks(range(len(passages)), passages, rotation=30, ha="right", fontsize=9)
    ax.set_yticks(range(len(queries)), queries, fontsize=9)
    ax.grid(visible=False)
    ax.tick_params(length=0)
    fig.colorbar(image, ax=ax, label="cosine similarity", shrink=0.9)
    return fig


def metric_agreement(
    agreement: Mapping[str, Mapping[str, float]], k: int, *, height: float = 3.2
) -> Figure:
    """Grouped bars: for each set of vectors (e.g. unit-length and unnormalized), the share of
    every query's cosine top-k that the dot product and the Euclidean (L2) distance also rank
    in their top-k, each bar labelled with its percentage."""
    groups = list(agreement)
    metrics = [("dot", "dot product"), ("l2", "Euclidean (L2) distance")]
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    width = 0.36
    for j, (key, label) in enumerate(metrics):
        values = [agreement[g][key] for g in groups]
        xs = np.arange(len(groups)) + (j - 0.5) * width
        bars = ax.bar(xs, values, width, color=PALETTE[j], label=label)
        ax.bar_label(bars, labels=[f"{v:.0%}" for v in values], fontsize=9, padding=2)
    ax.set_xticks(np.arange(len(groups)), groups)
    ax.set_ylim(0, 1.15)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel(f"cosine top-{k} also in the\nmetric's top-{k} (mean)")
    ax.grid(axis="x", visible=False)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return fig


def truncation_overlap(overlap: Mapping[int, float], k: int, *, height: float = 3.4) -> Figure:
    """Neighbor overlap against the number of leading dimensions kept (logarithmic x axis):
    the share of each vector's top-k neighbors at full size that survive truncation."""
    dims = sorted(overlap)
    values = [overlap[d] for d in dims]
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    ax.plot(dims, values, marker="o", color=PALETTE[0])
    for d, v in zip(dims, values, strict=True):
        ax.annotate(f"{v:.0%}", (d, v), textcoords="offset points", xytext=(0, 7),
                    ha="center", fontsize=9)  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.minorticks_off()
    ax.set_ylim(0, 1.1)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("leading dimensions kept (then renormalized)")
    ax.set_ylabel(f"top-{k} neighbors kept")
    return fig


def chunk_bands(
    text: str,
    chunkings: Mapping[str, Sequence[Chunk]],
    *,
    height: float = 3.4,
) -> Figure:
    """One row per chunker: each chunk drawn as a band over the characters it covers
    (alternating colors; overlaps show as darker stripes), with the passage's paragraph breaks
    as dotted vertical lines, so you can see which chunkers cut mid-paragraph."""
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    names = list(chunkings)
    for row, name in enumerate(names):
        y = len(names) - 1 - row
        for i, chunk in enumerate(chunkings[name]):
            ax.add_patch(
                Rectangle(
                    (chunk.start, y - 0.35),
                    chunk.end - chunk.start,
                    0.7,
                    facecolor=PALETTE[i % 2],
                    alpha=0.55,
                    edgecolor="white",
                    linewidth=1.0,
                )
            )
        ax.text(len(text) * 1.01, y, f"{len(chunkings[name])} chunks", va="center", fontsize=9)
    start = 0
    while (pos := text.find("\n\n", start)) != -1:
        ax.axvline(pos + 1, color=INK, linestyle=":", linewidth=1.0)
        start = pos + 2
    ax.set_xlim(0, len(text))
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.set_yticks(range(len(names)), names[::-1])
    ax.set_xlabel("character offset in the passage (dotted lines: paragraph breaks)")
    ax.grid(axis="y", visible=False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return fig
