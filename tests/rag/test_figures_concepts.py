"""The concepts chapter's figures draw what they are given: one labelled cell per pair, one
bar per metric and group, one point per dimension, one band per chunk."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from llmprep.rag.documents import Chunk
from llmprep.rag.figures import concepts as figs


def test_heatmap_labels_every_cell_with_its_value() -> None:
    sims = np.array([[0.62, -0.07], [0.1, 0.5]])
    fig = figs.similarity_heatmap(sims, ["q1", "q2"], ["p1", "p2"])
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["0.62", "-0.07", "0.10", "0.50"]


def test_heatmap_rejects_a_shape_that_does_not_match_the_labels() -> None:
    with pytest.raises(ValueError, match="shape"):
        figs.similarity_heatmap(np.zeros((2, 3)), ["q1", "q2"], ["p1", "p2"])


def test_metric_agreement_draws_and_labels_one_bar_per_metric_and_group() -> None:
    data = {"unit": {"dot": 1.0, "l2": 1.0}, "raw": {"dot": 0.66, "l2": 0.65}}
    fig = figs.metric_agreement(data, k=10)
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["100%", "100%", "65%", "66%"]


def test_truncation_overlap_plots_dimensions_in_order() -> None:
    fig = figs.truncation_overlap({384: 1.0, 8: 0.2, 64: 0.6}, k=10)
    line = fig.axes[0].lines[0]
    assert np.asarray(line.get_xdata()).tolist() == [8, 64, 384]
    assert np.asarray(line.get_ydata()).tolist() == [0.2, 0.6, 1.0]


def test_chunk_bands_draws_one_band_per_chunk_and_marks_paragraph_breaks() -> None:
    text = "aaaa\n\nbbbb\n\ncc"

    def chunk(i: int, a: int, b: int) -> Chunk:
        return Chunk(f"d#{i}", "d", text[a:b], a, b)

    fig = figs.chunk_bands(
        text, {"fixed": [chunk(0, 0, 7), chunk(1, 7, 14)], "whole": [chunk(0, 0, 14)]}
    )
    ax = fig.axes[0]
    bands = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bands) == 3
    assert [np.asarray(line.get_xdata())[0] for line in ax.lines] == [5, 11]
