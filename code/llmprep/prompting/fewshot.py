"""Few-shot prompting with examples chosen for the question at hand, by embedding similarity.

A fixed set of examples teaches the format; examples *like the query* also teach the content
(Liu et al., 2022, "What Makes Good In-Context Examples for GPT-3?", arXiv:2101.06804). So
embed every example's
input once, embed the query, and take the k most similar by cosine similarity:

    examples --embed once--> E (n x d, unit rows)
    query    --embed-------> q (d,)          scores = E @ q  ->  top k

`FewShotSelector` does that with any `Embedder` (the numpy all-MiniLM-L6-v2 in
`llmprep.foundations.minilm` is one). Two refinements, both optional:

- `diversity` > 0 uses maximal marginal relevance (Carbonell and Goldstein, 1998): each pick
  trades similarity to the query against similarity to the examples already picked, so five
  near-duplicates do not crowd out everything else;
- the chosen examples are placed most similar *last*, nearest the query: few-shot prompts
  show a recency bias towards the last examples (Zhao et al., 2021, "Calibrate Before Use",
  arXiv:2102.09690), so the last place should go to the best example.

`few_shot_messages` renders examples as alternating user/assistant turns, the form chat models
are trained on.

Leaves out: an approximate-nearest-neighbour index (a few thousand examples need none; see
the RAG chapter), label balancing, and learned example retrievers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from llmprep.core.messages import Message
from llmprep.prompting.templates import PromptTemplate


class Embedder(Protocol):
    """Anything that turns texts into one vector each, e.g. `MiniLM`."""

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


@dataclass(frozen=True, slots=True)
class Example:
    """One demonstration: an input and the output we want for it."""

    input: str
    output: str


def _unit_rows(x: NDArray[np.floating]) -> NDArray[np.float64]:
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit: NDArray[np.float64] = x / np.maximum(norms, 1e-12)
    return unit


class FewShotSelector:
    """Pick the k examples most similar to a query (embeddings computed once, up front).

    Example:
        selector = FewShotSelector(examples, MiniLM.load())
        selector.select("Refund for a broken kettle?", k=3)  # 3 Examples, most similar last
    """

    def __init__(self, examples: Sequence[Example], embedder: Embedder) -> None:
        if not examples:
            raise ValueError("a selector needs at least one example")
        self.examples = tuple(examples)
        self.embedder = embedder
        self.vectors = _unit_rows(embedder.encode([e.input for e in self.examples]))

    def scores(self, query: str) -> NDArray[np.float64]:
        """Cosine similarity of the query to every example's input, in example order."""
        q = _unit_rows(self.embedder.encode([query]))[0]
        scores: NDArray[np.float64] = self.vectors @ q
        return scores

    def select(self, query: str, k: int = 3, *, diversity: float = 0.0) -> list[Example]:
        """The k best examples for `query`, the most similar last (nearest the query).

        `diversity` in [0, 1] is MMR's trade-off: 0 is pure similarity, 1 pure novelty. The
        first pick is always the most similar example (MMR's first step, with nothing picked
        yet to be novel against), so even at 1 the query decides where the selection starts.
        """
        if not 0.0 <= diversity <= 1.0:
            raise ValueError(f"diversity must be in [0, 1], got {diversity}")
        picked = self._mmr(self.scores(query), min(k, len(self.examples)), diversity)
        return [self.examples[i] for i in reversed(picked)]

    def _mmr(self, relevance: NDArray[np.float64], k: int, diversity: float) -> list[int]:
        """Greedy maximal marginal relevance; with diversity 0 it is plain top-k."""
        picked: list[int] = []
        redundancy = np.full(len(relevance), -np.inf)  # max similarity to anything picked
        for _ in range(k):
            if not picked:  # nothing to be novel against yet: start from the most relevant
                score = relevance.copy()
            else:
                score = (1 - diversity) * relevance - diversity * redundancy
            score[picked] = -np.inf
            best = int(np.argmax(score))
            picked.append(best)
            redundancy = np.maximum(redundancy, self.vectors @ self.vectors[best])
        return picked


EXAMPLE_TEMPLATE = PromptTemplate("Input: {input}\nOutput: {output}")


def format_examples(
    examples: Sequence[Example], template: PromptTemplate = EXAMPLE_TEMPLATE
) -> str:
    """Examples as one block of text, for a single-message prompt.

    Example: format_examples([Example("2+2", "4")]) == "Input: 2+2\\nOutput: 4"
    """
    blocks = (template.render(input=e.input, output=e.output) for e in examples)
    return "\n\n".join(blocks)


def few_shot_messages(
    instructions: str,
    examples: Sequence[Example],
    query: str,
) -> list[Message]:
    """A chat prompt: instructions, each example as a user/assistant turn, then the query.

    Example: few_shot_messages("Add.", [Example("2+2", "4")], "3+3")[-1] == Message.user("3+3")
    """
    turns = []
    for e in examples:
        turns += [Message.user(e.input), Message.assistant(e.output)]
    return [Message.system(instructions), *turns, Message.user(query)]
