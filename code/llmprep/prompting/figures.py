"""The figures of the prompting chapters, as functions the chapters and the slide deck both call.

Each function takes data (the runs, curves or results another `llmprep.prompting` module
computed, or the few numbers that produce them), draws one figure in the house style
(:mod:`llmprep.book.plotting`) and returns it. The chapters show the calls that compute the
data; this module only draws. `replay_mask` is the one computation here, because both the
chapter and the deck replay the same document through the mask before drawing it.

Figures are `matplotlib.figure.Figure`, not `pyplot`, so a function never touches global
state (see `llmprep.foundations.figures`).

Leaves out: tables (chapters and slides format those for their own width) and styling
beyond the house style.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import llguidance
import numpy as np
from matplotlib.figure import Figure

from llmprep.book.plotting import PALETTE
from llmprep.core.pricing import price_of
from llmprep.prompting.classify import CoveragePoint
from llmprep.prompting.constrained import GrammarMask
from llmprep.prompting.constrained_experiment import ConstrainedResult
from llmprep.prompting.techniques import TechniqueRun

SPACE = "␣"  # how a space is drawn in a token label


def _new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    """A figure outside pyplot: displayed once in a notebook, garbage-collected after."""
    return Figure(figsize=(width, height), layout="constrained")


# -----------------------------------------------------------------------------
# techniques


def technique_costs(runs: Sequence[TechniqueRun], model: str, *, height: float = 3.2) -> Figure:
    """Horizontal stacked bars: US dollars per 1,000 questions for each technique at `model`'s
    list prices, split into input and output tokens (first run at the top)."""
    price = price_of(model)
    names = [r.technique for r in runs][::-1]
    usage = {r.technique: r.usage for r in runs}
    inp = [usage[t].input_tokens * float(price.input_per_mtok) / 1000 for t in names]
    out = [usage[t].output_tokens * float(price.output_per_mtok) / 1000 for t in names]
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    ax.barh(names, inp, color=PALETTE[0], label="input tokens")
    ax.barh(names, out, left=inp, color=PALETTE[1], label="output tokens")
    ax.set_xlabel(f"US dollars per 1,000 questions ({model} list prices, read {price.as_of})")
    ax.legend(loc="upper right")
    ax.grid(axis="y", visible=False)
    return fig


class MaskStep(NamedTuple):
    """One token of a replayed document and how many tokens the mask allowed before it."""

    token: str
    allowed: int


@dataclass(frozen=True, slots=True)
class MaskReplay:
    """A document replayed through a grammar mask: one step per token, and whether the
    grammar accepted the whole document."""

    steps: tuple[MaskStep, ...]
    done: bool


def replay_mask(vocab: llguidance.LLTokenizer, grammar: str, document: str) -> MaskReplay:
    """Replay `document` token by token through a fresh grammar mask, counting allowed tokens.

    Example: replay_mask(cl100k_tokenizer(), json_schema_grammar(PERSON_SCHEMA),
    '{"name": "ada", "age": 36}').steps[0].allowed == 1
    """
    mask = GrammarMask(vocab, grammar)
    steps = []
    for token in vocab.tokenize_str(document):
        steps.append(MaskStep(vocab.decode_str([token]), int(mask.allowed().sum())))
        mask.advance(token)
    return MaskReplay(tuple(steps), mask.done)


def grammar_mask(steps: Sequence[MaskStep], vocab_size: int) -> Figure:
    """Bars of allowed tokens per step (log scale) against the whole vocabulary (dashed);
    steps where the grammar leaves exactly one token are orange."""
    fig = _new_figure(7.0, 3.6)
    ax = fig.add_subplot()
    labels = [s.token.replace(" ", SPACE) for s in steps]
    counts = [s.allowed for s in steps]
    colors = [PALETTE[1] if n == 1 else PALETTE[0] for n in counts]
    ax.bar(range(len(steps)), counts, color=colors)
    ax.axhline(vocab_size, color="0.4", linestyle="--", linewidth=1)
    ax.text(
        len(steps) - 0.5,
        vocab_size * 0.55,
        f"whole vocabulary: {vocab_size:,}",
        ha="right",
        fontsize=9,
        color="0.3",
    )
    ax.set_yscale("log")
    ax.set_ylim(0.8, vocab_size * 2.5)
    ax.set_xticks(range(len(steps)), labels, rotation=60, fontfamily="DejaVu Sans Mono")
    ax.set_xlabel(f"token written ({SPACE} is a space)")
    ax.set_ylabel("tokens allowed by the mask")
    ax.grid(axis="x", visible=False)
    return fig


def prompt_cache_cost(
    model: str,
    *,
    prefix_tokens: int,
    write: float,
    read: float,
    max_requests: int = 20,
) -> Figure:
    """Cumulative input cost of one shared prefix over 1..max_requests requests, uncached and
    cached (the first request writes the cache at `write` x the input price, the rest read it
    at `read` x), at `model`'s list price."""
    per_request = prefix_tokens * float(price_of(model).input_per_mtok) / 1e6
    requests = np.arange(1, max_requests + 1)
    uncached = requests * per_request
    cached = per_request * (write + read * (requests - 1))
    fig = _new_figure(7.0, 3.4)
    ax = fig.add_subplot()
    ax.plot(requests, uncached, color=PALETTE[1], marker="o", label="no cache")
    ax.plot(requests, cached, color=PALETTE[0], marker="s", label="cached prefix")
    ax.set_xlabel("requests reusing the same prefix within the cache lifetime")
    ax.set_ylabel(f"cumulative input cost (US$, {model})")
    ax.legend(loc="upper left")
    return fig


# -----------------------------------------------------------------------------
# patterns


def risk_coverage_curves(
    curves: Mapping[str, Sequence[CoveragePoint]], *, height: float = 4.2
) -> Figure:
    """Selective risk (errors among answered, %) against coverage (%), one step line per
    confidence signal, and the error rate with no abstention (threshold 0) dashed.

    Each curve's first point must be its lowest threshold (full coverage)."""
    fig = _new_figure(7.0, height)
    ax = fig.add_subplot()
    for (name, points), color, marker in zip(curves.items(), PALETTE, ["s", "o"], strict=False):
        shown = [(p.coverage, p.accuracy) for p in points if p.accuracy is not None]
        ax.plot(
            [100 * c for c, _ in shown],
            [100 * (1 - a) for _, a in shown],
            marker=marker,
            color=color,
            label=name,
            drawstyle="steps-post",
        )
    full = list(curves.values())[-1][0].accuracy
    full_risk = 100 * (1 - (full if full is not None else 0.0))
    ax.axhline(full_risk, ls="--", lw=1.5, color=PALETTE[6], label="No abstention")
    ax.set_xlabel("Coverage: tickets answered (%)")
    ax.set_ylabel("Selective risk: errors among answered (%)")
    ax.set_xlim(0, 103)
    ax.set_ylim(-1, full_risk + 8)
    ax.legend(loc="upper left")
    return fig


# -----------------------------------------------------------------------------
# examples


def constrained_validity(experiments: Mapping[str, ConstrainedResult]) -> Figure:
    """One panel per model: the share of samples that parse as JSON and that match the schema,
    without and with the grammar mask, each bar labelled with its percentage."""
    fig = _new_figure(7.0, 3.4)
    panels = fig.subplots(1, len(experiments), sharey=True, squeeze=False)[0]
    width = 0.38
    n = 0
    for ax, (name, result) in zip(panels, experiments.items(), strict=True):
        for j, mode in enumerate((result.unmasked, result.masked)):
            rates = [mode.parse_rate, mode.valid_rate]
            xs = np.arange(2) + (j - 0.5) * width
            label = "with the mask" if mode.masked else "without"
            bars = ax.bar(xs, rates, width, color=PALETTE[j], label=label)
            ax.bar_label(bars, labels=[f"{r:.0%}" for r in rates], fontsize=9, padding=2)
            n = mode.samples
        ax.set_xticks(np.arange(2), ["parses as JSON", "matches\nthe schema"])
        ax.set_title(name, loc="left")
        ax.set_ylim(0, 1.15)
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    panels[0].set_ylabel(f"Share of {n} samples")
    fig.legend(*panels[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return fig
