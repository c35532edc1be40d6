"""The chapter's figures: each draws what it is given, labelled, and the same way every time."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D

from llmprep.book.plotting import PALETTE
from llmprep.foundations import figures
from llmprep.foundations.figures import MemoryStack
from llmprep.foundations.kv_cache import (
    compare_attention_variants,
    kv_cache_bytes,
    kv_cache_bytes_for_context,
)
from llmprep.foundations.model_shapes import (
    DEEPSEEK_V3,
    GPT_OSS_120B,
    LLAMA_3_1_8B,
    LLAMA_3_1_70B,
    MODEL_SHAPES,
)
from llmprep.foundations.sampling import softmax
from llmprep.foundations.scaling import BESIROGLU_2024, CHINCHILLA, chinchilla_loss, compute_optimal
from llmprep.foundations.tokenizer_comparison import TokenCount

matplotlib.use("Agg")

LOGITS = [4.0, 2.5, 2.0, 1.2, 0.8, 0.5]
LABELS = ["Paris", "Lyon", "the", "a", "France", "Marseille"]
CONFIDENT = np.array([6.0, 3.5, 3.0, 2.6, 2.2, 2.0, 1.6, 1.2, 1.0, 0.6, 0.3, 0.0])
UNSURE = np.array([2.0, 1.9, 1.8, 1.75, 1.7, 1.6, 1.5, 1.4, 1.2, 1.0, 0.8, 0.5])
TOKEN_ROWS = [
    TokenCount("English", "tiny BPE (512)", 31, 64, 64),
    TokenCount("English", "cl100k_base", 11, 64, 64),
    TokenCount("Emoji", "tiny BPE (512)", 32, 26, 40),
    TokenCount("Emoji", "cl100k_base", 17, 26, 40, n_unknown=0),
    TokenCount("English", "MiniLM WordPiece", 11, 64, 64),
    TokenCount("Emoji", "MiniLM WordPiece", 7, 26, 40, n_unknown=3),
]


def ydata(line: Line2D) -> np.ndarray:
    return np.asarray(line.get_ydata(), dtype=float)


def xdata(line: Line2D) -> np.ndarray:
    return np.asarray(line.get_xdata(), dtype=float)


def svg(fig: Figure) -> bytes:
    """Render to SVG with the fixed hash salt and no date the book's builder uses."""
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "test", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def bar_containers(ax: Axes) -> list[BarContainer]:
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "the figure has no legend"
    return [t.get_text() for t in legend.get_texts()]


def assert_labelled(ax: Axes) -> None:
    assert ax.get_xlabel(), "x axis has no label"
    assert ax.get_ylabel(), "y axis has no label"


# Every figure function with small, valid inputs: for the properties all figures share.
BUILDERS: dict[str, Callable[[], Figure]] = {
    "softmax_temperatures": lambda: figures.softmax_temperatures(LOGITS, LABELS, [0, 0.5, 1, 2]),
    "truncation_panels": lambda: figures.truncation_panels(
        {"confident": CONFIDENT, "unsure": UNSURE}, top_k=5, top_p=0.9, min_p=0.1
    ),
    "token_counts": lambda: figures.token_counts(TOKEN_ROWS),
    "compression_curve": lambda: figures.compression_curve(
        [256, 512, 1024], [1.0, 2.1, 3.1], {"cl100k_base": 4.2}
    ),
    "attention_heatmaps": lambda: figures.attention_heatmaps(
        [np.eye(3), np.full((3, 3), 1 / 3)], ["a", "b", "c"], ["one", "two"]
    ),
    "matrix_heatmap": lambda: figures.matrix_heatmap(
        np.arange(12.0).reshape(3, 4) - 6,
        xlabel="Dimension",
        ylabel="Position",
        title="t",
        colorbar_label="Value",
    ),
    "kv_cache_vs_context": lambda: figures.kv_cache_vs_context(
        MODEL_SHAPES, [1024, 8192, 32768], references={"weights": 16e9}
    ),
    "attention_variant_bars": lambda: figures.attention_variant_bars(
        {s.name: compare_attention_variants(s, seq_len=8192) for s in (LLAMA_3_1_8B, LLAMA_3_1_70B)}
    ),
    "memory_budget": lambda: figures.memory_budget(
        [MemoryStack("a", 16e9, 30e9), MemoryStack("b", 140e9, 3e9)], 80e9
    ),
    "chinchilla_isoflops": lambda: figures.chinchilla_isoflops(
        [1e19, 1e21, 1e23], np.logspace(7.5, 11.5, 50)
    ),
    "loss_curves": lambda: figures.loss_curves(
        np.linspace(4.0, 1.0, 300), [0, 100, 200, 299], [4.2, 2.5, 1.8, 1.5], uniform_loss=4.4
    ),
    "compute_optimal_frontier": lambda: figures.compute_optimal_frontier(
        [1e20, 1e22, 1e24], {"published": CHINCHILLA, "refit": BESIROGLU_2024}
    ),
    "attention_hbm_traffic": lambda: figures.attention_hbm_traffic(
        [1024, 4096], {"standard": [4.0, 64.0], "tiled": [0.5, 8.0]}
    ),
    "rope_frequency_scaling": lambda: figures.rope_frequency_scaling(
        {"PI": np.full(8, 4.0), "NTK": np.linspace(1.0, 4.0, 8)}, band_edges=[2, 5]
    ),
    "experts_touched": lambda: figures.experts_touched(
        [1, 8, 64], {"8 experts, top-2": [0.25, 0.9, 1.0], "256, top-8": [0.03, 0.22, 0.87]}
    ),
    "speculative_speedup": lambda: figures.speculative_speedup(
        [1, 2, 4], {"alpha 0.8": [1.6, 2.0, 2.3], "alpha 0.5": [1.3, 1.4, 1.3]}
    ),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_every_figure_is_a_standalone_figure_with_labelled_axes(name: str) -> None:
    fig = BUILDERS[name]()
    assert isinstance(fig, Figure)
    assert fig.canvas.manager is None, "made through pyplot: it would be displayed twice"
    plot_axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert plot_axes
    for ax in plot_axes:
        spec = ax.get_subplotspec()
        assert spec is not None
        if spec.is_last_row():
            assert ax.get_xlabel(), "bottom row without an x label"
        if spec.is_first_col():
            assert ax.get_ylabel(), "left column without a y label"


@pytest.mark.parametrize("name", BUILDERS)
def test_every_figure_renders_identically_twice(name: str) -> None:
    assert svg(BUILDERS[name]()) == svg(BUILDERS[name]())


def test_softmax_temperatures_draws_one_bar_set_per_temperature() -> None:
    temperatures = [0, 0.5, 1, 2]
    fig = figures.softmax_temperatures(LOGITS, LABELS, temperatures)
    ax = fig.axes[0]
    containers = bar_containers(ax)
    assert len(containers) == len(temperatures)
    assert all(len(c) == len(LOGITS) for c in containers)
    assert legend_texts(ax) == ["T = 0 (greedy)", "T = 0.5", "T = 1", "T = 2"]
    assert [t.get_text() for t in ax.get_xticklabels()] == LABELS
    for t, container in zip(temperatures, containers, strict=True):
        heights = [bar.get_height() for bar in container]
        np.testing.assert_allclose(np.asarray(heights), softmax(LOGITS, t))
    assert_labelled(ax)


def test_softmax_temperatures_needs_one_label_per_logit() -> None:
    with pytest.raises(ValueError, match="one label per logit"):
        figures.softmax_temperatures(LOGITS, LABELS[:-1], [1.0])


def test_truncation_panels_grey_out_exactly_the_dropped_tokens() -> None:
    fig = figures.truncation_panels(
        {"confident": CONFIDENT, "unsure": UNSURE}, top_k=5, top_p=0.9, min_p=0.1
    )
    assert len(fig.axes) == 2 * 3
    kept_counts = []
    for ax in fig.axes:
        (container,) = bar_containers(ax)
        assert len(container) == CONFIDENT.size
        blue = matplotlib.colors.to_rgba(PALETTE[0])
        kept_counts.append(sum(bar.get_facecolor() == blue for bar in container))
        assert f"keeps {kept_counts[-1]} of 12" in ax.get_title(loc="left")
    # top-k keeps 5 whatever the shape; top-p and min-p keep more when the model is unsure.
    confident, unsure = kept_counts[:3], kept_counts[3:]
    assert confident[0] == unsure[0] == 5
    assert unsure[1] > confident[1]
    assert unsure[2] > confident[2]


def test_token_counts_draws_one_bar_per_text_and_tokenizer_and_flags_unknowns() -> None:
    fig = figures.token_counts(TOKEN_ROWS)
    ax = fig.axes[0]
    containers = bar_containers(ax)
    assert len(containers) == 3  # tokenizers
    assert all(len(c) == 2 for c in containers)  # texts
    assert legend_texts(ax) == ["tiny BPE (512)", "cl100k_base", "MiniLM WordPiece"]
    widths = {
        name: [bar.get_width() for bar in c]
        for name, c in zip(legend_texts(ax), containers, strict=True)
    }
    assert widths["cl100k_base"] == [11, 17]
    ticks = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert ticks["English"] > ticks["Emoji"]  # the first text is drawn at the top
    assert ax.get_ylabel() == "Text"
    assert [t.get_text() for t in ax.texts] == ["3 [UNK]"]
    assert ax.get_xlabel().startswith("Tokens")


def test_compression_curve_plots_the_curve_and_each_reference() -> None:
    fig = figures.compression_curve([256, 512, 1024], [1.0, 2.1, 3.1], {"cl100k_base": 4.2})
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2
    assert legend_texts(ax) == ["tiny BPE", "cl100k_base"]
    np.testing.assert_allclose(ydata(ax.get_lines()[0]), [1.0, 2.1, 3.1])
    assert_labelled(ax)


def test_attention_heatmaps_one_panel_per_map_with_tokens_on_both_axes() -> None:
    tokens = ["[CLS]", "it", "[SEP]"]
    maps = [np.eye(3), np.full((3, 3), 1 / 3)]
    fig = figures.attention_heatmaps(maps, tokens, ["head A", "head B"])
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2
    for ax, expected, title in zip(panels, maps, ["head A", "head B"], strict=True):
        image = ax.images[0]
        assert isinstance(image, AxesImage)
        np.testing.assert_allclose(np.asarray(image.get_array()), expected)
        assert image.get_clim() == (0.0, 1.0)
        assert [t.get_text() for t in ax.get_xticklabels()] == tokens
        assert [t.get_text() for t in ax.get_yticklabels()] == tokens
        assert ax.get_title(loc="left") == title
    assert panels[0].get_ylabel()
    assert len(fig.axes) == 3  # two panels and one shared colour bar


def test_attention_heatmaps_reject_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="one title per map"):
        figures.attention_heatmaps([np.eye(2)], ["a", "b"], [])
    with pytest.raises(ValueError, match="shape"):
        figures.attention_heatmaps([np.eye(3)], ["a", "b"], ["x"])


def test_matrix_heatmap_is_centred_on_zero() -> None:
    m = np.array([[-1.0, 0.5], [2.0, 0.0]])
    fig = figures.matrix_heatmap(m, xlabel="x", ylabel="y", title="t", colorbar_label="c")
    image = fig.axes[0].images[0]
    assert image.get_clim() == (-2.0, 2.0)
    assert fig.axes[0].get_title(loc="left") == "t"
    with pytest.raises(ValueError, match="2-D"):
        figures.matrix_heatmap(np.zeros(3), xlabel="x", ylabel="y", title="t", colorbar_label="c")


def test_kv_cache_vs_context_one_line_per_model_matching_the_arithmetic() -> None:
    contexts = [1024, 8192, 32768]
    fig = figures.kv_cache_vs_context(MODEL_SHAPES, contexts, references={"weights": 16e9})
    ax = fig.axes[0]
    model_lines = [line for line in ax.get_lines() if line.get_label() != "weights"]
    assert len(model_lines) == len(MODEL_SHAPES)
    assert legend_texts(ax) == [s.name for s in MODEL_SHAPES] + ["weights"]
    for shape, line in zip(MODEL_SHAPES, model_lines, strict=True):
        expected = [kv_cache_bytes(shape, seq_len=n) / 1024**3 for n in contexts]
        np.testing.assert_allclose(ydata(line), expected)
    assert "16-bit" in ax.get_title(loc="left")
    assert_labelled(ax)


def test_kv_cache_vs_context_keeps_every_line_visible_for_many_models() -> None:
    # Later lines are drawn thinner so overlapping ones stay visible; never down to nothing.
    shapes = [replace(LLAMA_3_1_8B, name=f"m{i}") for i in range(9)]
    fig = figures.kv_cache_vs_context(shapes, [1024, 8192])
    lines = fig.axes[0].get_lines()
    assert len(lines) == 9
    assert all(line.get_linewidth() > 0 and line.get_markersize() > 0 for line in lines)


def test_attention_variant_bars_group_by_model_with_head_counts() -> None:
    variants = {s.name: compare_attention_variants(s, seq_len=8192) for s in MODEL_SHAPES[:2]}
    fig = figures.attention_variant_bars(variants)
    ax = fig.axes[0]
    containers = bar_containers(ax)
    assert len(containers) == 3
    assert legend_texts(ax) == ["MHA", "GQA", "MQA"]
    mha, gqa, mqa = ([bar.get_height() for bar in c] for c in containers)
    assert all(m > g > q for m, g, q in zip(mha, gqa, mqa, strict=True))
    assert "32 KV heads" in [t.get_text() for t in ax.texts]
    assert ax.get_ylabel()


def test_memory_budget_stacks_weights_and_cache_against_the_capacity() -> None:
    rows = [MemoryStack("fits", 16e9, 30e9), MemoryStack("too big", 140e9, 3e9)]
    fig = figures.memory_budget(rows, 80e9)
    ax = fig.axes[0]
    weights, kv = bar_containers(ax)
    assert [bar.get_width() for bar in weights] == [16, 140]
    assert [bar.get_x() for bar in kv] == [16, 140]  # the cache starts where weights end
    assert legend_texts(ax) == ["GPU memory (80 GB)", "Weights", "KV cache"]
    assert rows[0].total_bytes == 46e9
    assert "80 GB" in ax.get_title(loc="left")
    assert ax.get_xlabel() == "Memory (GB)"


def test_chinchilla_isoflops_marks_each_budgets_minimum() -> None:
    budgets = [1e19, 1e21, 1e23]
    grid = np.logspace(7.5, 11.5, 50)
    fig = figures.chinchilla_isoflops(budgets, grid)
    ax = fig.axes[0]
    curves = [line for line in ax.get_lines() if xdata(line).size > 1]
    markers = [line for line in ax.get_lines() if xdata(line).size == 1]
    assert len(curves) == len(markers) == len(budgets)
    best = [float(xdata(m)[0]) for m in markers]
    assert best == sorted(best), "a bigger budget wants a bigger model"
    c = budgets[1]
    expected = [chinchilla_loss(n, c / (6 * n)) for n in grid]
    np.testing.assert_allclose(ydata(curves[1]), expected)
    assert len(legend_texts(ax)) == len(budgets)
    assert_labelled(ax)


def test_chinchilla_isoflops_labels_budgets_in_powers_of_ten() -> None:
    fig = figures.chinchilla_isoflops([1e21, 5.88e23, 9.96e22], np.logspace(8, 11, 20))
    assert legend_texts(fig.axes[0]) == [
        "$10^{21}$ FLOPs",
        "$5.9 \\times 10^{23}$ FLOPs",
        "$1.0 \\times 10^{23}$ FLOPs",  # rounds up into the next power, not "10.0 x 10^22"
    ]


def test_loss_curves_show_training_held_out_and_baseline() -> None:
    fig = figures.loss_curves(
        np.linspace(4.0, 1.0, 300), [0, 100, 200, 299], [4.2, 2.5, 1.8, 1.5], uniform_loss=4.4
    )
    ax = fig.axes[0]
    assert legend_texts(ax) == ["training (moving average)", "held out", "uniform guess"]
    assert len(ax.get_lines()) == 4  # raw, moving average, held out, baseline
    np.testing.assert_allclose(ydata(ax.get_lines()[2]), [4.2, 2.5, 1.8, 1.5])
    assert ax.get_ylabel() == "Cross-entropy (nats/char)"


def test_kv_cache_vs_context_with_layout_caps_windows_and_caches_the_mla_latent() -> None:
    contexts = [1024, 32768, 131072]
    shapes = [GPT_OSS_120B, DEEPSEEK_V3]
    fig = figures.kv_cache_vs_context(shapes, contexts, layout=True, title="layouts")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "layouts"
    for shape, line in zip(shapes, ax.get_lines(), strict=True):
        expected = [kv_cache_bytes_for_context(shape, seq_len=n) / 1024**3 for n in contexts]
        np.testing.assert_allclose(ydata(line), expected)
    # gpt-oss's banded layers stop growing: its layout cache is below the full-attention one
    full = figures.kv_cache_vs_context([GPT_OSS_120B], contexts).axes[0].get_lines()[0]
    assert ydata(ax.get_lines()[0])[-1] < ydata(full)[-1]


def test_kv_cache_title_names_fractional_bit_widths() -> None:
    fig = figures.kv_cache_vs_context([LLAMA_3_1_8B], [1024, 2048], bytes_per_elem=0.5625)
    assert "4.5-bit" in fig.axes[0].get_title(loc="left")


def test_memory_budget_names_the_device_when_asked() -> None:
    fig = figures.memory_budget([MemoryStack("a", 1e9, 1e9)], 141e9, capacity_label="H200 (141 GB)")
    assert "H200 (141 GB)" in legend_texts(fig.axes[0])


def test_compute_optimal_frontier_plots_each_fit_and_the_rule() -> None:
    budgets = [1e20, 1e22, 1e24]
    fits = {"published": CHINCHILLA, "refit": BESIROGLU_2024}
    fig = figures.compute_optimal_frontier(budgets, fits)
    ax = fig.axes[0]
    assert legend_texts(ax) == ["published", "refit", "20 tokens/param"]
    lines = ax.get_lines()
    for fit, line in zip(fits.values(), lines, strict=False):
        np.testing.assert_allclose(ydata(line), [compute_optimal(c, fit).n_params for c in budgets])
    np.testing.assert_allclose(ydata(lines[2]), np.sqrt(np.array(budgets) / 120))
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert_labelled(ax)


def test_attention_hbm_traffic_draws_what_it_is_given_on_log_axes() -> None:
    fig = figures.attention_hbm_traffic([1024, 4096], {"standard": [4.0, 64.0], "tiled": [1, 8]})
    ax = fig.axes[0]
    assert legend_texts(ax) == ["standard", "tiled"]
    np.testing.assert_allclose(ydata(ax.get_lines()[0]), [4.0, 64.0])
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1k", "4k"]
    assert "GB" in ax.get_ylabel()


def test_rope_frequency_scaling_one_line_per_scheme_and_band_edges() -> None:
    fig = figures.rope_frequency_scaling(
        {"PI": np.full(8, 4.0), "NTK": np.linspace(1.0, 4.0, 8)}, band_edges=[2, 5]
    )
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert legend_texts(ax) == ["PI", "NTK"]
    np.testing.assert_allclose(ydata(lines[1]), np.linspace(1.0, 4.0, 8))
    np.testing.assert_allclose(xdata(lines[0]), np.arange(8))
    assert len(lines) == 2 + 2  # two schemes, two band edges
    assert_labelled(ax)


def test_experts_touched_is_in_percent() -> None:
    fig = figures.experts_touched([1, 8], {"a": [0.25, 0.9]})
    ax = fig.axes[0]
    np.testing.assert_allclose(ydata(ax.get_lines()[0]), [25.0, 90.0])
    assert ax.get_ylabel() == "Experts touched (%)"
    assert ax.get_ylim()[1] > 100


def test_speculative_speedup_marks_break_even() -> None:
    fig = figures.speculative_speedup([1, 2, 4], {"a": [1.6, 2.0, 2.3]})
    ax = fig.axes[0]
    assert legend_texts(ax) == ["a", "no speed-up"]
    np.testing.assert_allclose(ydata(ax.get_lines()[1]), [1.0, 1.0])
    assert_labelled(ax)
