"""Few-shot selection: nearest examples by cosine similarity, MMR diversity, rendering."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from llmprep.core.messages import Message
from llmprep.foundations.minilm import MiniLM
from llmprep.prompting.fewshot import (
    Example,
    FewShotSelector,
    few_shot_messages,
    format_examples,
)

EXAMPLES = [
    Example("My kettle arrived broken, I want my money back.", "refund"),
    Example("The toaster I bought is damaged; please refund me.", "refund"),
    Example("Where is my parcel? It has been two weeks.", "shipping"),
    Example("Tracking says delivered but nothing came.", "shipping"),
    Example("I forgot my password and cannot log in.", "account"),
    Example("How do I change the email on my account?", "account"),
]


class BagOfWords:
    """A deterministic toy embedder: one dimension per word of a fixed vocabulary."""

    def __init__(self, texts: Sequence[str]) -> None:
        words = sorted({w for t in texts for w in self._words(t)})
        self.index = {w: i for i, w in enumerate(words)}

    @staticmethod
    def _words(text: str) -> list[str]:
        return re.findall(r"[a-z]+", text.lower())

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), len(self.index)), dtype=np.float32)
        for row, text in enumerate(texts):
            for w in self._words(text):
                if w in self.index:
                    out[row, self.index[w]] += 1.0
        return out


def test_select_returns_the_most_similar_examples_most_similar_last() -> None:
    selector = FewShotSelector(EXAMPLES, BagOfWords([e.input for e in EXAMPLES]))
    chosen = selector.select("my parcel tracking says delivered", k=2)
    assert [e.output for e in chosen] == ["shipping", "shipping"]
    assert chosen[-1] == EXAMPLES[3]  # the closest one sits next to the query
    scores = selector.scores("my parcel tracking says delivered")
    assert scores[3] > scores[2] > max(scores[[0, 1, 4, 5]])


def test_k_larger_than_the_pool_returns_every_example_once() -> None:
    selector = FewShotSelector(EXAMPLES, BagOfWords([e.input for e in EXAMPLES]))
    chosen = selector.select("anything", k=10)
    assert sorted(chosen, key=EXAMPLES.index) == EXAMPLES


def test_diversity_trades_a_near_duplicate_for_a_different_example() -> None:
    pool = [
        Example("refund my broken kettle please", "refund"),
        Example("refund my broken kettle now", "refund"),  # a near-duplicate of the first
        Example("my kettle is broken where is the parcel", "shipping"),
    ]
    selector = FewShotSelector(pool, BagOfWords([e.input for e in pool]))
    query = "refund my broken kettle"
    assert {e.output for e in selector.select(query, k=2)} == {"refund"}
    assert {e.output for e in selector.select(query, k=2, diversity=0.7)} == {"refund", "shipping"}
    with pytest.raises(ValueError, match="diversity"):
        selector.select(query, diversity=1.5)


def test_the_first_pick_is_the_most_similar_even_at_full_diversity() -> None:
    selector = FewShotSelector(EXAMPLES, BagOfWords([e.input for e in EXAMPLES]))
    query = "I forgot my password"
    best = int(np.argmax(selector.scores(query)))
    assert best == 4  # not the pool's first example
    for diversity in (0.0, 0.5, 1.0):
        chosen = selector.select(query, k=1, diversity=diversity)
        assert chosen == [EXAMPLES[best]], diversity
        # with more picks it is still there, last (nearest the query)
        assert selector.select(query, k=3, diversity=diversity)[-1] == EXAMPLES[best]


def test_minilm_picks_examples_by_meaning_not_shared_words() -> None:
    selector = FewShotSelector(EXAMPLES, MiniLM.load())
    chosen = selector.select("The blender came smashed, I'd like a reimbursement.", k=2)
    assert [e.output for e in chosen] == ["refund", "refund"]
    chosen = selector.select("I can't sign in to my profile.", k=2)
    assert [e.output for e in chosen] == ["account", "account"]


def test_examples_render_as_text_and_as_chat_turns() -> None:
    examples = [Example("2+2", "4"), Example("3+5", "8")]
    assert format_examples(examples) == "Input: 2+2\nOutput: 4\n\nInput: 3+5\nOutput: 8"
    assert few_shot_messages("Add.", examples, "1+1") == [
        Message.system("Add."),
        Message.user("2+2"),
        Message.assistant("4"),
        Message.user("3+5"),
        Message.assistant("8"),
        Message.user("1+1"),
    ]


def test_a_selector_needs_examples() -> None:
    with pytest.raises(ValueError, match="at least one example"):
        FewShotSelector([], BagOfWords(["x"]))
