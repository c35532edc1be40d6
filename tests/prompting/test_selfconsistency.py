"""Self-consistency: extract answers, vote, and sample concurrently."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.messages import Message
from llmprep.core.scripted import ScriptedLLM
from llmprep.prompting.selfconsistency import (
    Vote,
    extract_answer,
    majority_vote,
    self_consistency,
)

from .conftest import run


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("3 + 4 = 7, so the answer is 7.", "7"),
        ("Answer: 1,234", "1234"),
        ("**Answer:** 42", "42"),
        ("The answer is Paris, France.", "Paris, France"),
        ("First I thought the answer is 3.\nThen: the answer is 5.", "5"),
        ("I am not sure.", None),
    ],
)
def test_extract_answer_takes_the_last_stated_answer(text: str, answer: str | None) -> None:
    assert extract_answer(text) == answer


def test_majority_vote_counts_ties_in_order_and_skips_unextractable_answers() -> None:
    vote = majority_vote(["5", "4", "4", None, "5"])
    assert vote.winner == "5"  # 2-2 tie: the answer seen first wins
    assert vote.tally == (("5", 2), ("4", 2))
    assert (vote.votes, vote.abstained, vote.share) == (4, 1, 0.5)
    empty: Vote[str] = majority_vote([None, None])
    assert (empty.winner, empty.share, empty.abstained) == (None, 0.0, 2)


@given(st.lists(st.sampled_from(["a", "b", "c", None]), max_size=12))
def test_the_winner_has_at_least_as_many_votes_as_any_other(answers: list[str | None]) -> None:
    vote = majority_vote(answers)
    counted = [a for a in answers if a is not None]
    assert vote.votes == len(counted)
    if counted:
        assert vote.winner is not None
        assert all(counted.count(vote.winner) >= counted.count(a) for a in counted)
        assert vote.share == counted.count(vote.winner) / len(counted)


def test_self_consistency_votes_over_sampled_reasoning_paths() -> None:
    paths = [
        "17 - 5 = 12, then 12 + 3 = 15. The answer is 15.",
        "17 - 5 = 11, then 11 + 3 = 14. The answer is 14.",  # an arithmetic slip
        "5 leave, 3 arrive: 17 - 2 = 15. The answer is 15.",
        "Hmm, hard to say.",
        "17 + 3 - 5 = 15. The answer is 15.",
    ]
    llm = ScriptedLLM(paths)
    messages = [Message.user("17 on a bus, 5 get off, 3 get on. How many now?")]
    result = run(self_consistency(llm, messages, n=5, extract=extract_answer))
    assert result.vote.winner == "15"
    assert result.vote.share == 3 / 4
    assert result.vote.abstained == 1
    assert len(llm.calls) == 5
    assert all(c.settings.temperature == 0.7 for c in llm.calls)
    assert result.usage.output_tokens == sum(c.usage.output_tokens for c in result.completions)
