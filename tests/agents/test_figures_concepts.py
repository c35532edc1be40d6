"""The concepts chapter's experiments: the wire format comes from the real SDKs' request
bodies, compaction bounds the context of a long run, and the figure draws what it is given."""

from __future__ import annotations

import numpy as np
import pytest

from llmprep.agents.figures import concepts as figs
from llmprep.agents.loop import Compaction

from .conftest import run as arun

pytest.importorskip("openai")
pytest.importorskip("anthropic")


@pytest.fixture(scope="module")
def captured() -> dict[str, figs.Captured]:
    return {p: arun(figs.capture_requests(p)) for p in ("openai", "anthropic")}


def test_both_sdks_run_the_same_calls_and_get_the_same_results(
    captured: dict[str, figs.Captured],
) -> None:
    runs = [c.result for c in captured.values()]
    assert all(r.stop_reason == "answer" for r in runs)
    assert runs[0].tool_calls == runs[1].tool_calls == figs.CALLS
    contents = [[(x.content, x.is_error) for x in r.turns[0].results] for r in runs]
    assert contents[0] == contents[1]
    assert [err for _, err in contents[0]] == [False, True]  # the typo fails, the cost works
    assert captured["openai"].paths == ("/v1/chat/completions",) * 2
    assert captured["anthropic"].paths == ("/v1/messages",) * 2


def test_the_excerpts_show_each_api_s_own_shape(captured: dict[str, figs.Captured]) -> None:
    oa = figs.wire_excerpt(captured["openai"])
    an = figs.wire_excerpt(captured["anthropic"])
    assert oa["tool"]["function"]["parameters"] == an["tool"]["input_schema"]
    assert oa["tool"]["function"]["name"] == an["tool"]["name"] == "estimate_cost"
    # OpenAI: arguments are JSON text; Anthropic: input is an object
    assert isinstance(oa["calls"]["tool_calls"][0]["function"]["arguments"], str)
    assert isinstance(an["calls"]["content"][0]["input"], dict)
    # OpenAI: one tool message per result, no error flag; Anthropic: one user turn, is_error
    assert [m["role"] for m in oa["results"]] == ["tool", "tool"]
    assert all("is_error" not in m for m in oa["results"])
    assert an["results"]["role"] == "user"
    assert [b.get("is_error", False) for b in an["results"]["content"]] == [False, True]


def test_compaction_bounds_the_context_and_saves_input_tokens() -> None:
    limit = 3000
    plain = arun(figs.reading_run("plain", None))
    compacted = arun(figs.reading_run("compacted", Compaction(max_tokens=limit, keep_last=2)))
    assert plain.result.answer == compacted.result.answer
    assert len(plain.input_tokens) == len(compacted.input_tokens) == len(figs.READING_LIST) + 1
    assert list(plain.input_tokens) == sorted(plain.input_tokens)  # only ever grows
    assert compacted.compactions
    assert compacted.total_input < plain.total_input
    for c in compacted.compactions:
        assert c.tokens_after < c.tokens_before
        # the call right after a compaction is smaller than the one before it
        n = c.before_turn
        assert compacted.input_tokens[n - 1] < compacted.input_tokens[n - 2]


def test_tokens_per_call_draws_one_line_per_run_and_marks_compactions() -> None:
    plain = arun(figs.reading_run("plain", None, queries=figs.READING_LIST[:6]))
    small = arun(
        figs.reading_run(
            "compacted", Compaction(max_tokens=2000, keep_last=1), queries=figs.READING_LIST[:6]
        )
    )
    fig = figs.tokens_per_call([plain, small], limit=2000)
    left, right = fig.axes
    xs = [np.asarray(ln.get_xdata()) for ln in left.lines]
    assert sum(len(x) > 2 for x in xs) == 2
    assert len(right.lines) == 2
    assert np.asarray(right.lines[0].get_ydata())[-1] == plain.total_input
    vertical = [x for x in xs if len(set(x.tolist())) == 1]
    assert len(vertical) == len(small.compactions)
