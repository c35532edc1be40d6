"""Map-reduce summarization: lossless chunking, parallel map, reduce until one summary."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    Message,
    ToolSpec,
)
from llmprep.core.scripted import ScriptedLLM
from llmprep.core.tokens import count_message_tokens, count_tokens, default_tokenizer
from llmprep.prompting.summarize import _groups, map_reduce_summarize, split_into_chunks

from .conftest import run

REPORT = "\n\n".join(
    f"Section {i}. The team shipped feature {i} on day {3 * i}. "
    f"It cut latency by {i + 10} percent. Customers in region {i % 4} noticed first."
    for i in range(1, 13)
)
PIECES = ["a", "bc", " ", ". ", "! ", "?", "\n", "\n\n", "\N{GRINNING FACE}", "word " * 9]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


@given(TEXTS, st.integers(1, 40))
def test_chunks_lose_no_text_and_respect_the_budget(text: str, max_tokens: int) -> None:
    chunks = split_into_chunks(text, max_tokens)
    assert "".join(chunks) == text
    # a chunk is over budget only if it is one character that alone is over budget
    assert all(count_tokens(c) <= max_tokens or len(c) == 1 for c in chunks)
    assert all(chunks)


def test_chunks_break_at_paragraphs_before_sentences() -> None:
    chunks = split_into_chunks(REPORT, 60)
    assert all(c.startswith("Section") for c in chunks)  # every chunk starts a paragraph
    assert len(chunks) > 3
    long_paragraph = "One sentence here. " * 40
    pieces = split_into_chunks(long_paragraph, 30)
    assert all(p.endswith(". ") for p in pieces)  # ... and then at sentence ends


def summarizer(messages: Sequence[Message]) -> str:
    """Map: keep the section numbers seen. Reduce: join the section lists."""
    numbers = re.findall(r"Section (\d+)|sections? ([\d, ]+)", messages[-1].content)
    seen = sorted({int(n) for pair in numbers for part in pair for n in re.findall(r"\d+", part)})
    return "Summary of sections " + ", ".join(map(str, seen))


def test_map_reduce_covers_every_chunk_in_a_tree_of_reductions() -> None:
    llm = ScriptedLLM(summarizer)
    result = run(map_reduce_summarize(llm, REPORT, chunk_tokens=60, words=20))
    assert result.summary == "Summary of sections " + ", ".join(map(str, range(1, 13)))
    assert len(result.partials) == len(result.chunks) > 3
    assert result.reduce_rounds == 2  # 12 partial summaries -> 2 groups -> 1
    assert result.calls == len(llm.calls) == len(result.chunks) + _reduce_calls(llm)
    assert result.usage.input_tokens == sum(count_message_tokens(c.messages) for c in llm.calls)
    assert "at most 20 words" in llm.calls[0].messages[0].content


def _reduce_calls(llm: ScriptedLLM) -> int:
    return sum("Combine them" in c.messages[0].content for c in llm.calls)


@given(st.lists(st.integers(0, 12), min_size=1, max_size=12), st.integers(5, 60))
def test_reduce_groups_keep_every_summary_and_exceed_the_budget_only_when_forced(
    lengths: list[int], max_tokens: int
) -> None:
    tok = default_tokenizer()
    summaries = [f"S{i}" + " word" * n for i, n in enumerate(lengths)]
    members = [g.split("\n\n") for g in _groups(summaries, max_tokens, tok)]
    assert [m for g in members for m in g] == summaries  # all of them, in order, once

    def fits(group: list[str]) -> bool:
        return tok.count("\n\n".join(group)) <= max_tokens

    if len(summaries) > 1:
        assert len(members) < len(summaries)  # every round shrinks the list
        assert all(len(g) >= 2 for g in members)
    for i, g in enumerate(members):
        # over budget only as a forced pair, or as the last group taking a lone last summary
        lone_joined = i == len(members) - 1 and (fits(g[:-1]) or len(g) == 3)
        assert fits(g) or len(g) == 2 or lone_joined, g


def test_a_lone_last_summary_joins_the_group_before_it() -> None:
    tok = default_tokenizer()
    summaries = [f"S{i}" + " word" * 10 for i in range(5)]  # any two exceed 15 tokens
    members = [g.split("\n\n") for g in _groups(summaries, 15, tok)]
    assert members == [summaries[:2], summaries[2:]]


def test_a_short_text_is_one_map_call_and_no_reduce() -> None:
    llm = ScriptedLLM(["A short summary."])
    result = run(map_reduce_summarize(llm, "A short text.", chunk_tokens=100))
    assert (result.summary, result.reduce_rounds, result.calls) == ("A short summary.", 0, 1)


def test_map_calls_run_concurrently_up_to_the_limit() -> None:
    active, peak = 0, 0

    class Tracking(ScriptedLLM):
        async def complete(
            self,
            messages: Sequence[Message],
            *,
            settings: GenerationSettings = DEFAULT_SETTINGS,
            tools: Sequence[ToolSpec] = (),
        ) -> Completion:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1
            return await super().complete(messages, settings=settings, tools=tools)

    run(map_reduce_summarize(Tracking(summarizer), REPORT, chunk_tokens=60, max_concurrency=3))
    assert peak == 3


def test_chunk_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        split_into_chunks("text", 0)
