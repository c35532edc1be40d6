"""The prompting figures and shared data: each figure draws the numbers its data implies."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from llmprep.book.plotting import PALETTE
from llmprep.core.messages import Message, Usage
from llmprep.core.pricing import price_of
from llmprep.core.scripted import ScriptedLLM
from llmprep.prompting import demo_data, figures
from llmprep.prompting.classify import CoveragePoint
from llmprep.prompting.constrained import cl100k_tokenizer, json_schema_grammar
from llmprep.prompting.constrained_experiment import (
    PERSON_SCHEMA,
    ConstrainedResult,
    ModeResult,
)
from llmprep.prompting.judge import judge_pair, position_bias
from llmprep.prompting.selfconsistency import extract_answer, majority_vote
from llmprep.prompting.structured import json_schema_validator, with_repair
from llmprep.prompting.techniques import TechniqueRun, compare_techniques

from .conftest import run

matplotlib.use("Agg")

MODEL = "claude-sonnet-5-5"


def xs(line: Line2D) -> list[float]:
    return [float(v) for v in np.asarray(line.get_xdata(), dtype=float)]


def ys(line: Line2D) -> list[float]:
    return [float(v) for v in np.asarray(line.get_ydata(), dtype=float)]


def bars(ax: Axes) -> list[BarContainer]:
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def widths(container: BarContainer) -> list[float]:
    return [float(p.get_width()) for p in container.patches if isinstance(p, Rectangle)]


def heights(container: BarContainer) -> list[float]:
    return [float(p.get_height()) for p in container.patches if isinstance(p, Rectangle)]


# -----------------------------------------------------------------------------
# technique costs


def test_technique_costs_stacks_input_and_output_dollars_per_thousand_questions() -> None:
    runs = [
        TechniqueRun("zero-shot", "18", 1, Usage(100, 10)),
        TechniqueRun("chain-of-thought", "18", 1, Usage(120, 200)),
    ]
    price = price_of(MODEL)
    fig = figures.technique_costs(runs, MODEL)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    inp, out = bars(ax)
    # first run at the top: bars are drawn bottom-up, so the order is reversed
    assert [t.get_text() for t in ax.get_yticklabels()] == ["chain-of-thought", "zero-shot"]
    in_price, out_price = float(price.input_per_mtok), float(price.output_per_mtok)
    assert widths(inp) == pytest.approx([120 * in_price / 1000, 100 * in_price / 1000])
    assert widths(out) == pytest.approx([200 * out_price / 1000, 10 * out_price / 1000])
    # the output part starts where the input part ends
    assert [p.get_x() for p in out.patches] == pytest.approx(widths(inp))
    assert MODEL in ax.get_xlabel()
    assert str(price.as_of) in ax.get_xlabel()
    assert fig.get_size_inches()[1] == pytest.approx(3.2)
    assert figures.technique_costs(runs, MODEL, height=3.4).get_size_inches()[1] == 3.4


def test_the_muffin_script_makes_self_consistency_the_dearest_technique() -> None:
    runs = run(
        compare_techniques(
            ScriptedLLM(demo_data.MUFFIN_REPLIES),
            demo_data.MUFFIN_QUESTION,
            examples=demo_data.MUFFIN_EXAMPLES,
            samples=5,
        )
    )
    assert [r.answer for r in runs] == ["18"] * 4  # the slip is outvoted
    ax = figures.technique_costs(runs, MODEL).axes[0]
    inp, out = bars(ax)
    total = dict(
        zip(
            [t.get_text() for t in ax.get_yticklabels()],
            np.add(widths(inp), widths(out)),
            strict=True,
        )
    )
    assert total["zero-shot"] < total["few-shot"] < total["chain-of-thought"]
    assert total["self-consistency"] > 4 * total["chain-of-thought"]
    for r in runs:
        assert total[r.technique] == pytest.approx(float(r.cost(MODEL)) * 1000)


def test_one_muffin_sample_slips_and_four_agree() -> None:
    vote = majority_vote(extract_answer(s) for s in demo_data.MUFFIN_SAMPLES)
    assert (vote.winner, vote.share) == ("18", 0.8)
    assert demo_data.MUFFIN_REPLIES[2] == demo_data.MUFFIN_SAMPLES[0]


# -----------------------------------------------------------------------------
# grammar mask


def test_replay_mask_forces_the_schemas_punctuation_and_opens_up_for_the_name() -> None:
    vocab = cl100k_tokenizer()
    grammar = json_schema_grammar(PERSON_SCHEMA)
    replay = figures.replay_mask(vocab, grammar, '{"name": "ada", "age": 36}')
    assert replay.done
    assert "".join(t for t, _ in replay.steps) == '{"name": "ada", "age": 36}'
    allowed = dict(replay.steps)
    assert replay.steps[0].allowed == 1  # the opening brace and quote are forced
    assert allowed["ada"] > 10_000  # every all-lowercase token may start the name
    assert 1 < allowed["36"] < 1_000  # the number tokens that can start 0..120


def test_grammar_mask_draws_one_bar_per_step_forced_ones_orange() -> None:
    steps = [figures.MaskStep('{"', 1), figures.MaskStep("ada", 5_000), figures.MaskStep(" ", 1)]
    fig = figures.grammar_mask(steps, vocab_size=100_000)
    ax = fig.axes[0]
    (container,) = bars(ax)
    assert heights(container) == [1, 5_000, 1]
    colors = [matplotlib.colors.to_hex(p.get_facecolor()) for p in container.patches]
    assert colors == [PALETTE[1].lower(), PALETTE[0].lower(), PALETTE[1].lower()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ['{"', "ada", "␣"]
    assert ax.get_yscale() == "log"
    (vocab_line,) = ax.get_lines()
    assert ys(vocab_line) == [100_000, 100_000]
    assert "100,000" in ax.texts[0].get_text()


# -----------------------------------------------------------------------------
# prompt cache


def test_prompt_cache_cost_pays_the_write_once_then_reads() -> None:
    fig = figures.prompt_cache_cost(MODEL, prefix_tokens=10_000, write=1.25, read=0.1)
    ax = fig.axes[0]
    uncached, cached = ax.get_lines()
    per_request = 10_000 * float(price_of(MODEL).input_per_mtok) / 1e6
    assert xs(uncached) == list(range(1, 21))
    assert np.asarray(uncached.get_ydata()) == pytest.approx(per_request * np.arange(1, 21))
    y = np.asarray(cached.get_ydata(), dtype=float)
    assert y[0] == pytest.approx(1.25 * per_request)  # the write costs more than a miss
    assert np.diff(y) == pytest.approx(np.full(19, 0.1 * per_request))
    assert y[1] < 2 * per_request  # cheaper from the second request on


# -----------------------------------------------------------------------------
# risk-coverage


def test_risk_coverage_curves_plot_errors_among_answered_against_coverage() -> None:
    curves = {
        "stated": [CoveragePoint(0.0, 1.0, 0.75), CoveragePoint(0.9, 0.5, 0.5)],
        "votes": [
            CoveragePoint(0.0, 1.0, 0.75),
            CoveragePoint(0.8, 0.5, 1.0),
            CoveragePoint(1.0, 0.0, None),  # nothing answered: not drawn
        ],
    }
    ax = figures.risk_coverage_curves(curves).axes[0]
    stated, votes, baseline = ax.get_lines()
    assert xs(stated) == [100, 50]
    assert ys(stated) == pytest.approx([25, 50])
    assert xs(votes) == [100, 50]
    assert ys(votes) == pytest.approx([25, 0])
    assert ys(baseline) == pytest.approx([25, 25])
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["stated", "votes", "No abstention"]


def test_the_simulated_tickets_make_the_vote_share_the_better_signal() -> None:
    result = run(demo_data.run_ticket_classifiers())
    assert len(result.verbal) == len(result.voted) == len(demo_data.SUPPORT_TICKETS) == 32
    # both signals give the same labels (the verbal reply is the vote's majority)
    assert [d.label for d in result.verbal] == [d.label for d in result.voted]
    full = [curve[0] for curve in result.curves.values()]
    assert {p.coverage for p in full} == {1.0}
    assert full[0].accuracy == full[1].accuracy

    def coverage_at(points: list[CoveragePoint], target: float = 0.95) -> float:
        ok = [p.coverage for p in points if p.accuracy is not None and p.accuracy >= target]
        return max(ok, default=0.0)

    votes = coverage_at(result.curves[demo_data.VOTE_CURVE])
    stated = coverage_at(result.curves[demo_data.VERBAL_CURVE])
    assert votes > stated
    ax = figures.risk_coverage_curves(result.curves).axes[0]
    assert ax.get_lines()[1].get_label() == demo_data.VOTE_CURVE


def test_ambiguous_tickets_name_a_different_label() -> None:
    for t in demo_data.SUPPORT_TICKETS:
        assert t.label in demo_data.TICKET_LABELS
        assert t.confusion is None or (
            t.confusion in demo_data.TICKET_LABELS and t.confusion != t.label
        )


# -----------------------------------------------------------------------------
# constrained decoding


def mode(masked: bool, parsed: int, valid: int, samples: int = 300) -> ModeResult:
    return ModeResult(masked, samples, parsed, valid, samples, 0.0, -1.0, 0.1, 0.01, ("{}",))


def test_constrained_validity_shows_parse_and_valid_rates_per_model_and_mode() -> None:
    experiments = {
        "prose model": ConstrainedResult(
            PERSON_SCHEMA, "", 1.0, mode(False, 0, 0), mode(True, 300, 300)
        ),
        "JSON model": ConstrainedResult(
            PERSON_SCHEMA, "", 1.0, mode(False, 270, 255), mode(True, 300, 300)
        ),
    }
    fig = figures.constrained_validity(experiments)
    prose, jsonm = fig.axes
    assert [prose.get_title(loc="left"), jsonm.get_title(loc="left")] == list(experiments)
    without, masked = bars(jsonm)
    assert heights(without) == pytest.approx([0.9, 0.85])
    assert heights(masked) == pytest.approx([1.0, 1.0])
    assert [t.get_text() for t in jsonm.texts] == ["90%", "85%", "100%", "100%"]
    assert heights(bars(prose)[0]) == [0.0, 0.0]
    assert prose.get_ylabel() == "Share of 300 samples"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["without", "with the mask"]


# -----------------------------------------------------------------------------
# the other shared data


def test_the_biased_judge_ties_every_close_pair_once_both_orders_are_asked() -> None:
    judge = ScriptedLLM(demo_data.biased_judge)
    judged = [run(judge_pair(judge, p.question, p.better, p.worse)) for p in demo_data.JUDGE_PAIRS]
    gaps = [p.gap for p in demo_data.JUDGE_PAIRS]
    assert [j.winner for j in judged] == ["a" if g == "wrong" else "tie" for g in gaps]
    assert [j.original for j in judged] == ["a"] * 12  # better shown first: always "right"
    assert position_bias(judged).consistent_share == pytest.approx(0.5)


def test_the_invoice_replies_fail_then_repair_in_two_calls() -> None:
    llm = ScriptedLLM([demo_data.INVOICE_FIRST_REPLY, demo_data.INVOICE_SECOND_REPLY])
    prompt = [Message.user("<document>…</document>")]
    result = run(with_repair(llm, prompt, json_schema_validator(demo_data.INVOICE_SCHEMA)))
    assert len(result.attempts) == 2
    assert result.value == json.loads(demo_data.INVOICE_SECOND_REPLY)


def test_delimiter_wrappers_all_hold_the_instruction_and_the_message() -> None:
    wrappers = demo_data.delimiter_wrappers("Do it.", "Text.")
    assert wrappers["none (blank line)"] == "Do it.\n\nText."
    assert all("Do it." in w and "Text." in w for w in wrappers.values())


def test_first_words_rule_summarizes_a_part_by_its_first_words() -> None:
    rule = demo_data.first_words_rule(3)
    part = Message.user("Summarize.\n<part>\none two three four\n</part>")
    assert rule([part]) == "one two three"
    assert rule([Message.user("Combine.\n\nfive six seven eight")]) == "five six seven"


def test_compaction_sends_fewer_tokens_even_counting_the_summarizing_calls() -> None:
    full = demo_data.conversation(compact=False)
    compacted = demo_data.conversation(compact=True)
    sent = [sum(demo_data.prompt_tokens(p) for p, _ in calls) for calls in (full, compacted)]
    turns = demo_data.TURNS
    # without compaction turn t re-sends t turns of history
    expected_full = turns * (demo_data.FIXED + demo_data.NEW_MESSAGE) + demo_data.PER_TURN * (
        turns * (turns - 1) // 2
    )
    assert sent[0] == expected_full
    summaries = [out for _, out in compacted if out]
    assert len(compacted) == turns + len(summaries)
    assert set(summaries) == {demo_data.SUMMARY}
    assert sent[1] < sent[0]
    # with a cache, each call re-reads its shared prefix at the read price
    plain = demo_data.conversation_cost(full, MODEL)
    cached = demo_data.conversation_cost(full, MODEL, demo_data.CACHE_READ, 1.25)
    assert cached < plain
    assert demo_data.shared_prefix([("a", 3), ("b", 4)], [("a", 3), ("c", 4)]) == 3
