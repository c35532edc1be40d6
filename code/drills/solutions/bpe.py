"""Solution to the bpe drill: the book's tokenizer (`llmprep.foundations.bpe`).

The drill has no pre-tokenization, so the tokenizer runs with `pattern=None` (the whole
text is one chunk) and the merges dictionary stands for the tokenizer.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmprep.foundations.bpe import BPETokenizer, Pair
from llmprep.foundations.bpe import get_stats as get_stats
from llmprep.foundations.bpe import merge as merge
from llmprep.foundations.bpe import train as _train


def train(text: str, vocab_size: int) -> dict[Pair, int]:
    """The merges of `bpe.train` without a split pattern."""
    return _train(text, vocab_size, pattern=None).merges


def encode(text: str, merges: dict[Pair, int]) -> list[int]:
    """`BPETokenizer.encode` for these merges."""
    return BPETokenizer(merges, pattern=None).encode(text)


def decode(ids: Sequence[int], merges: dict[Pair, int]) -> str:
    """`BPETokenizer.decode` for these merges."""
    return BPETokenizer(merges, pattern=None).decode(ids)
