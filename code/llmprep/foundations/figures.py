"""The figures of "How LLMs work", as functions the chapter and the slide deck both call.

Each function takes data (or the few parameters that produce it), draws one figure in the
house style (:mod:`llmprep.book.plotting`) and returns it. Nothing is computed here that the
chapter should teach: token counts, KV-cache sizes and losses come from the other
`llmprep.foundations` modules, and the chapter shows those calls.

Figures are made with `matplotlib.figure.Figure`, not `pyplot`, so a function never touches
global state: in a notebook the returned figure is displayed once, and tests can build
hundreds of them without leaking memory.

Leaves out: interactive plots and any styling beyond the house style.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from llmprep.book.plotting import PALETTE
from llmprep.foundations.kv_cache import (
    AttentionVariant,
    kv_cache_bytes,
    kv_cache_bytes_for_context,
)
from llmprep.foundations.model_shapes import ModelShape
from llmprep.foundations.params import GB, GIB
from llmprep.foundations.sampling import min_p_filter, softmax, top_k_filter, top_p_filter
from llmprep.foundations.scaling import (
    CHINCHILLA,
    ChinchillaFit,
    chinchilla_loss,
    compute_optimal,
)
from llmprep.foundations.tokenizer_comparison import TokenCount

type FloatArray = NDArray[np.float64]

DROPPED = "#c8ccd1"  # light grey for tokens a filter removed


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    """A figure outside pyplot: displayed once in a notebook, garbage-collected after."""
    return Figure(figsize=(width, height), layout="constrained")


def _power_of_ten(x: float) -> str:
    """1e21 -> '10^21' as math text; 5.9e23 -> '5.9 x 10^23'."""
    exponent = math.floor(math.log10(x))
    mantissa = x / 10**exponent
    if math.isclose(mantissa, 1.0, rel_tol=1e-9):
        return f"$10^{{{exponent}}}$"
    if round(mantissa, 1) >= 10:  # 9.96e22: "1.0 x 10^23", not "10.0 x 10^22"
        exponent, mantissa = exponent + 1, mantissa / 10
    return f"${mantissa:.1f} \\times 10^{{{exponent}}}$"


# -----------------------------------------------------------------------------
# decoding


def softmax_temperatures(
    logits: ArrayLike, labels: Sequence[str], temperatures: Sequence[float]
) -> Figure:
    """One group of bars per candidate token, one bar per temperature (T = 0 is greedy).

    Example: softmax_temperatures([3, 2, 1], ["a", "b", "c"], [0.5, 1, 2]) -> 3 bar sets
    """
    z = np.asarray(logits, dtype=np.float64)
    if len(labels) != z.size:
        raise ValueError("one label per logit")
    fig = _new_figure()
    ax = fig.add_subplot()
    width = 0.8 / len(temperatures)
    x = np.arange(z.size)
    for i, t in enumerate(temperatures):
        name = "T = 0 (greedy)" if t == 0 else f"T = {t:g}"
        offset = (i - (len(temperatures) - 1) / 2) * width
        ax.bar(x + offset, softmax(z, t), width, label=name, color=PALETTE[i % len(PALETTE)])
    ax.set_xticks(x, list(labels))
    ax.set_xlabel("Candidate next token")
    ax.set_ylabel("Probability")
    ax.set_ylim(0, 1)
    ax.grid(axis="x", visible=False)
    ax.legend(title="Temperature")
    ax.set_title("The same logits at different temperatures", loc="left")
    return fig


def truncation_panels(
    distributions: Mapping[str, ArrayLike],
    *,
    top_k: int,
    top_p: float,
    min_p: float,
) -> Figure:
    """Rows: distributions (e.g. a confident and an unsure one). Columns: top-k, top-p,
    min-p. Bars are sorted by probability; kept tokens are blue, dropped ones grey."""
    methods: tuple[tuple[str, Callable[[FloatArray], FloatArray]], ...] = (
        (f"top-k, k = {top_k}", lambda z: top_k_filter(z, top_k)),
        (f"top-p, p = {top_p:g}", lambda z: top_p_filter(z, top_p)),
        (f"min-p, min_p = {min_p:g}", lambda z: min_p_filter(z, min_p)),
    )
    fig = _new_figure(7.0, 2.3 * len(distributions) + 0.6)
    axes = fig.subplots(len(distributions), len(methods), sharey="row", squeeze=False)
    for row, (name, logits) in enumerate(distributions.items()):
        z = np.sort(np.asarray(logits, dtype=np.float64))[::-1]
        probs = softmax(z)
        ranks = np.arange(1, z.size + 1)
        for col, (method, keep_filter) in enumerate(methods):
            ax: Axes = axes[row, col]
            kept = np.isfinite(keep_filter(z))
            colors = [PALETTE[0] if k else DROPPED for k in kept]
            ax.bar(ranks, probs, color=colors, width=0.8)
            ax.set_title(f"{method}\nkeeps {int(kept.sum())} of {z.size}", fontsize=10, loc="left")
            ax.grid(axis="x", visible=False)
            if col == 0:
                ax.set_ylabel(f"{name}\nprobability")
            if row == len(distributions) - 1:
                ax.set_xlabel("Token rank")
    return fig


# -----------------------------------------------------------------------------
# tokenization


def token_counts(rows: Sequence[TokenCount]) -> Figure:
    """Horizontal grouped bars: one group per text, one bar per tokenizer.

    Tokens a tokenizer could not represent ([UNK]) are written beside the bar.
    """
    samples = list(dict.fromkeys(r.sample for r in rows))
    tokenizers = list(dict.fromkeys(r.tokenizer for r in rows))
    by_key = {(r.sample, r.tokenizer): r for r in rows}
    fig = _new_figure(7.0, 0.55 * len(samples) + 1.6)
    ax = fig.add_subplot()
    height = 0.8 / len(tokenizers)
    y = np.arange(len(samples))[::-1]  # first sample at the top
    for i, name in enumerate(tokenizers):
        counts = [by_key[(s, name)].n_tokens if (s, name) in by_key else 0 for s in samples]
        offset = (i - (len(tokenizers) - 1) / 2) * height
        ax.barh(y - offset, counts, height, label=name, color=PALETTE[i % len(PALETTE)])
        for s, yy, n in zip(samples, y - offset, counts, strict=True):
            unknown = by_key[(s, name)].n_unknown if (s, name) in by_key else 0
            if unknown:
                ax.text(n + 1, yy, f"{unknown} [UNK]", va="center", fontsize=8, color=PALETTE[6])
    ax.set_yticks(y, samples)
    ax.set_ylabel("Text")
    ax.set_xlabel("Tokens (fewer is cheaper)")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right")
    ax.set_title("The same texts, three tokenizers", loc="left")
    return fig


def compression_curve(
    vocab_sizes: Sequence[int],
    bytes_per_token: Sequence[float],
    references: Mapping[str, float] | None = None,
) -> Figure:
    """Bytes of text per token as a BPE vocabulary grows, with optional reference levels
    (e.g. a production tokenizer on the same text) as dashed horizontal lines."""
    fig = _new_figure(7.0, 3.8)
    ax = fig.add_subplot()
    ax.plot(vocab_sizes, bytes_per_token, marker="o", label="tiny BPE", color=PALETTE[0])
    for i, (name, level) in enumerate((references or {}).items()):
        ax.axhline(level, ls="--", lw=1.5, color=PALETTE[(i + 1) % len(PALETTE)], label=name)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(vocab_sizes), [str(v) for v in vocab_sizes])
    ax.minorticks_off()
    ax.set_xlabel("Vocabulary size (tokens, log scale)")
    ax.set_ylabel("UTF-8 bytes per token")
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower right")
    ax.set_title("More merges, fewer tokens for the same text", loc="left")
    return fig


# -----------------------------------------------------------------------------
# attention and position


def attention_heatmaps(
    maps: Sequence[ArrayLike], tokens: Sequence[str], titles: Sequence[str]
) -> Figure:
    """Side-by-side attention maps: row i shows how token i spreads its attention (rows sum
    to 1). All panels share one color scale from 0 to 1."""
    if len(maps) != len(titles):
        raise ValueError("one title per map")
    n = len(tokens)
    fig = _new_figure(3.6 * len(maps) + 0.6, 4.4)
    axes = fig.subplots(1, len(maps), squeeze=False)[0]
    image = None
    for ax, weights, title in zip(axes, maps, titles, strict=True):
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (n, n):
            raise ValueError(f"a map of shape {w.shape} for {n} tokens")
        image = ax.imshow(w, cmap="Blues", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(n), list(tokens), rotation=90, fontsize=8)
        ax.set_yticks(range(n), list(tokens), fontsize=8)
        ax.set_xlabel("Attended-to token (key)")
        ax.set_title(title, fontsize=10, loc="left")
        ax.grid(False)
    axes[0].set_ylabel("Attending token (query)")
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.8, label="Attention weight")
    return fig


def matrix_heatmap(
    matrix: ArrayLike,
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    colorbar_label: str,
    cmap: str = "RdBu_r",
) -> Figure:
    """A plain heatmap of a 2-D array (rows down the y axis), centered on zero."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError("a heatmap needs a 2-D array")
    limit = float(np.abs(m).max()) or 1.0
    fig = _new_figure(7.0, 3.6)
    ax = fig.add_subplot()
    image = ax.imshow(m, cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left")
    ax.grid(False)
    fig.colorbar(image, ax=ax, label=colorbar_label)
    return fig


# -----------------------------------------------------------------------------
# memory


def kv_cache_vs_context(
    shapes: Sequence[ModelShape],
    context_lengths: Sequence[int],
    *,
    bytes_per_elem: float = 2,
    references: Mapping[str, float] | None = None,
    layout: bool = False,
    title: str | None = None,
) -> Figure:
    """KV-cache size of one sequence (GiB) against context length, one line per model.

    `references` maps a label to a size in bytes drawn as a dashed horizontal line, e.g.
    the weights of one model, so you can see where the cache overtakes them. With
    layout=False every layer keeps every token (`kv_cache_bytes`, the textbook formula);
    layout=True caps sliding-window layers at their window and caches MLA's latent
    (`kv_cache_bytes_for_context`), which is what a server holds for current models.
    """
    size_of = kv_cache_bytes_for_context if layout else kv_cache_bytes
    fig = _new_figure()
    ax = fig.add_subplot()
    markers = ("o", "s", "^", "D", "v", "P", "X")
    for i, shape in enumerate(shapes):
        sizes = [
            size_of(shape, seq_len=n, bytes_per_elem=bytes_per_elem) / GIB for n in context_lengths
        ]
        # Models with the same attention shape overlap exactly: distinct markers and a
        # thinner line for later ones keep both visible.
        ax.plot(
            context_lengths,
            sizes,
            marker=markers[i % len(markers)],
            ms=max(6 - i, 2),
            lw=max(2.4 - 0.4 * i, 0.8),
            label=shape.name,
            color=PALETTE[i % len(PALETTE)],
        )
    for j, (name, size) in enumerate((references or {}).items()):
        ax.axhline(size / GIB, ls="--", lw=1.5, color=PALETTE[(len(shapes) + j) % 7], label=name)
    ticks = list(context_lengths)
    ax.set_xticks(ticks, [f"{n // 1024}k" if n >= 1024 else str(n) for n in ticks])
    ax.set_xlim(0, max(ticks) * 1.03)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Context length (tokens)")
    ax.set_ylabel("KV cache per sequence (GiB)")
    ax.legend()
    bits = f"{bytes_per_elem * 8:g}"
    default = f"KV cache grows linearly with context ({bits}-bit cache)"
    ax.set_title(title or default, loc="left")
    return fig


def attention_variant_bars(variants: Mapping[str, Sequence[AttentionVariant]]) -> Figure:
    """Grouped bars of KV-cache size: one group per model, one bar per variant (MHA, GQA,
    MQA), each bar labeled with its number of KV heads."""
    models = list(variants)
    kinds = list(dict.fromkeys(v.name for vs in variants.values() for v in vs))
    fig = _new_figure(7.0, 3.8)
    ax = fig.add_subplot()
    width = 0.8 / len(kinds)
    x = np.arange(len(models))
    for i, kind in enumerate(kinds):
        rows = [next(v for v in variants[m] if v.name == kind) for m in models]
        offset = (i - (len(kinds) - 1) / 2) * width
        bars = ax.bar(
            x + offset,
            [r.kv_cache_bytes / GIB for r in rows],
            width,
            label=kind,
            color=PALETTE[i % len(PALETTE)],
        )
        ax.bar_label(bars, [f"{r.n_kv_heads} KV heads" for r in rows], fontsize=8, padding=2)
    ax.set_xticks(x, models)
    ax.set_xlabel("Model")
    ax.set_ylabel("KV cache (GiB)")
    ax.grid(axis="x", visible=False)
    ax.legend(title="Attention")
    ax.set_title("Fewer key/value heads, smaller cache", loc="left")
    return fig


@dataclass(frozen=True, slots=True)
class MemoryStack:
    """One bar of a GPU memory budget: what the weights and the KV cache take, in bytes."""

    label: str
    weights_bytes: float
    kv_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.kv_bytes


def memory_budget(
    rows: Sequence[MemoryStack],
    capacity_bytes: float,
    *,
    y_label: str = "Deployment",
    capacity_label: str | None = None,
) -> Figure:
    """Stacked horizontal bars (weights, then KV cache) against a GPU's capacity line.

    A bar that crosses the line does not fit on one device. `capacity_label` names the
    device in the legend (default: "GPU memory (80 GB)" for an 80e9-byte capacity).
    """
    fig = _new_figure(7.0, 0.5 * len(rows) + 2.1)
    ax = fig.add_subplot()
    y = np.arange(len(rows))[::-1]
    weights = [r.weights_bytes / GB for r in rows]
    kv = [r.kv_bytes / GB for r in rows]
    ax.barh(y, weights, 0.6, label="Weights", color=PALETTE[0])
    ax.barh(y, kv, 0.6, left=weights, label="KV cache", color=PALETTE[4])
    ax.axvline(
        capacity_bytes / GB,
        color=PALETTE[1],
        ls="--",
        lw=1.5,
        label=capacity_label or f"GPU memory ({capacity_bytes / GB:.0f} GB)",
    )
    for yy, r in zip(y, rows, strict=True):
        total = r.total_bytes / GB
        # A white box keeps the label readable where it crosses the capacity line.
        box = {"facecolor": "white", "edgecolor": "none", "pad": 1.0}
        ax.text(total + 2, yy, f"{total:.0f} GB", va="center", fontsize=8, bbox=box)
    ax.set_yticks(y, [r.label for r in rows])
    ax.set_ylabel(y_label)
    ax.set_xlabel("Memory (GB)")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)
    ax.set_title(f"What fits in {capacity_bytes / GB:.0f} GB", loc="left")
    return fig


# -----------------------------------------------------------------------------
# training


def chinchilla_isoflops(
    budgets: Sequence[float],
    n_params: ArrayLike,
    fit: ChinchillaFit = CHINCHILLA,
    *,
    title: str = "At fixed compute, loss has a best model size",
) -> Figure:
    """Predicted loss against model size for several fixed compute budgets (C = 6 N D).

    Each curve is one budget: a small model sees many tokens, a large one few. The marker
    is the curve's minimum on the grid, the compute-optimal size for that budget.
    """
    n = np.asarray(n_params, dtype=np.float64)
    fig = _new_figure()
    ax = fig.add_subplot()
    for i, c in enumerate(budgets):
        d = c / (6.0 * n)
        loss = np.array([chinchilla_loss(ni, di, fit) for ni, di in zip(n, d, strict=True)])
        color = PALETTE[i % len(PALETTE)]
        ax.plot(n, loss, color=color, label=f"{_power_of_ten(c)} FLOPs")
        best = int(np.argmin(loss))
        ax.plot(n[best], loss[best], marker="o", color=color, ms=7, ls="none")
    ax.set_xscale("log")
    ax.set_xlabel("Parameters N (log scale)")
    ax.set_ylabel("Predicted loss (nats/token)")
    ax.legend(title="Compute budget", fontsize=9)
    ax.set_title(title, loc="left")
    return fig


def loss_curves(
    train_losses: ArrayLike,
    val_steps: ArrayLike,
    val_losses: ArrayLike,
    *,
    uniform_loss: float | None = None,
    smooth: int = 50,
) -> Figure:
    """Training loss (raw, faint, and a moving average) and held-out loss against step.

    `uniform_loss` (ln of the vocabulary size) marks what guessing uniformly would score.
    """
    raw = np.asarray(train_losses, dtype=np.float64)
    fig = _new_figure(7.0, 3.8)
    ax = fig.add_subplot()
    steps = np.arange(raw.size)
    ax.plot(steps, raw, color=PALETTE[0], alpha=0.25, lw=0.8)
    window = max(1, min(smooth, raw.size))
    average = np.convolve(raw, np.ones(window) / window, mode="valid")
    ax.plot(steps[window - 1 :], average, color=PALETTE[0], label="training (moving average)")
    ax.plot(val_steps, val_losses, color=PALETTE[1], marker="o", ms=4, label="held out")
    if uniform_loss is not None:
        ax.axhline(uniform_loss, color=PALETTE[6], ls="--", lw=1.0, label="uniform guess")
    ax.set_xlabel("Training step")
    ax.set_ylabel("Cross-entropy (nats/char)")
    ax.set_ylim(bottom=0)
    ax.legend()
    ax.set_title("A character-level model learning this book", loc="left")
    return fig


def compute_optimal_frontier(
    budgets: ArrayLike,
    fits: Mapping[str, ChinchillaFit],
    *,
    tokens_per_param: float | None = 20.0,
) -> Figure:
    """Compute-optimal model size against training compute, one line per parametric fit, with
    an optional dashed line for a fixed tokens-per-parameter rule (N = sqrt(C / (6 r))).

    Different fits of the same data can disagree by a factor of two in N: this figure shows by
    how much, budget by budget.
    """
    c = np.asarray(budgets, dtype=np.float64)
    fig = _new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    for i, (name, fit) in enumerate(fits.items()):
        n_opt = [compute_optimal(float(ci), fit).n_params for ci in c]
        ax.plot(c, n_opt, marker="o", ms=4, label=name, color=PALETTE[i % len(PALETTE)])
    if tokens_per_param is not None:
        rule = np.sqrt(c / (6.0 * tokens_per_param))
        ax.plot(
            c, rule, ls="--", lw=1.5, color=PALETTE[6], label=f"{tokens_per_param:g} tokens/param"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Training compute C (FLOPs, log scale)")
    ax.set_ylabel("Compute-optimal parameters N (log scale)")
    ax.legend(fontsize=9)
    ax.set_title("Two fits of the same Chinchilla data", loc="left")
    return fig


def attention_hbm_traffic(
    lengths: Sequence[int],
    series: Mapping[str, Sequence[float]],
    *,
    unit: str = "GB",
) -> Figure:
    """Main-memory (HBM) traffic of attention against sequence length, log-log, one line per
    implementation. The values are computed by the caller (`flash_attention`'s IO counts)."""
    fig = _new_figure(7.0, 3.9)
    ax = fig.add_subplot()
    markers = ("o", "s", "^", "D")
    for i, (name, values) in enumerate(series.items()):
        ax.plot(
            lengths,
            values,
            marker=markers[i % len(markers)],
            label=name,
            color=PALETTE[i % len(PALETTE)],
        )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(list(lengths), [f"{n // 1024}k" if n >= 1024 else str(n) for n in lengths])
    ax.minorticks_off()
    ax.set_xlabel("Sequence length n (tokens, log scale)")
    ax.set_ylabel(f"HBM reads + writes ({unit}, log scale)")
    ax.legend(fontsize=9)
    ax.set_title("Tiling cuts attention's memory traffic", loc="left")
    return fig


def rope_frequency_scaling(
    factors: Mapping[str, ArrayLike],
    *,
    band_edges: Sequence[float] = (),
) -> Figure:
    """How much each context-extension scheme slows each RoPE dimension pair: original
    frequency / new frequency, per pair index (1 = untouched, s = fully interpolated).

    `band_edges` are pair indices drawn as dotted vertical lines (e.g. where a scheme's bands
    start and end).
    """
    fig = _new_figure(7.0, 4.0)
    ax = fig.add_subplot()
    styles = ("-", "--", "-.", ":")
    for i, (name, values) in enumerate(factors.items()):
        y = np.asarray(values, dtype=np.float64)
        ax.plot(
            np.arange(y.size),
            y,
            ls=styles[i % len(styles)],
            lw=2.2,
            label=name,
            color=PALETTE[i % len(PALETTE)],
        )
    for edge in band_edges:
        ax.axvline(edge, ls=":", lw=1.0, color=PALETTE[6])
    ax.set_yscale("log", base=2)
    ax.set_xlabel("Dimension pair i (fast-rotating on the left, slow on the right)")
    ax.set_ylabel("Frequency divided by (log scale)")
    ax.legend(fontsize=9)
    ax.set_title("Which RoPE frequencies each scheme slows down", loc="left")
    return fig


def experts_touched(tokens: Sequence[int], fractions: Mapping[str, Sequence[float]]) -> Figure:
    """Share of a layer's experts that at least one token in a batch is routed to, against the
    number of tokens in the step, one line per MoE design (values from the caller)."""
    fig = _new_figure(7.0, 3.9)
    ax = fig.add_subplot()
    markers = ("o", "s", "^", "D", "v")
    for i, (name, values) in enumerate(fractions.items()):
        ax.plot(
            tokens,
            [100 * f for f in values],
            marker=markers[i % len(markers)],
            label=name,
            color=PALETTE[i % len(PALETTE)],
        )
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(tokens), [str(t) for t in tokens])
    ax.minorticks_off()
    ax.set_ylim(0, 105)
    ax.set_xlabel("Tokens in the decoding step (log scale)")
    ax.set_ylabel("Experts touched (%)")
    ax.legend(fontsize=9)
    ax.set_title("Fine-grained MoEs touch few experts at small batch", loc="left")
    return fig


def speculative_speedup(gammas: Sequence[int], curves: Mapping[str, Sequence[float]]) -> Figure:
    """Expected wall-clock speed-up of speculative decoding against draft length, one line per
    (acceptance rate, draft cost) setting, with the break-even line at 1 (values from the
    caller, e.g. Leviathan et al.'s formula)."""
    fig = _new_figure(7.0, 3.9)
    ax = fig.add_subplot()
    markers = ("o", "s", "^", "D", "v", "P")
    for i, (name, values) in enumerate(curves.items()):
        ax.plot(
            gammas,
            values,
            marker=markers[i % len(markers)],
            label=name,
            color=PALETTE[i % len(PALETTE)],
        )
    ax.axhline(1.0, ls="--", lw=1.2, color=PALETTE[6], label="no speed-up")
    ax.set_xticks(list(gammas))
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Draft length (tokens proposed per target pass)")
    ax.set_ylabel("Expected speed-up (x)")
    ax.legend(fontsize=9)
    ax.set_title("Longer drafts pay only when acceptance is high", loc="left")
    return fig
