"""Drill: train a byte-level BPE tokenizer, then encode and decode with it.

"Implement byte pair encoding. Start from the 256 byte values; repeatedly merge the most
frequent adjacent pair of tokens into a new token until the vocabulary has the requested
size. Then encode text with the learned merges and decode token ids back to text."

Standard library only. No pre-tokenization: the whole text is one sequence of bytes.
Grade it: make drill NAME=bpe
"""

from __future__ import annotations

from collections.abc import Sequence

type Pair = tuple[int, int]


def get_stats(ids: Sequence[int]) -> dict[Pair, int]:
    """Count each adjacent pair, in order of first appearance.

    Example: get_stats([1, 2, 3, 1, 2]) -> {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    """
    raise NotImplementedError("drill bpe: implement get_stats")


def merge(ids: Sequence[int], pair: Pair, idx: int) -> list[int]:
    """Replace each non-overlapping occurrence of pair, scanning left to right, by idx.

    Example: merge([1, 2, 3, 1, 2], (1, 2), 4) -> [4, 3, 4]; merge([5, 5, 5], (5, 5), 9)
    -> [9, 5]
    """
    raise NotImplementedError("drill bpe: implement merge")


def train(text: str, vocab_size: int) -> dict[Pair, int]:
    """Learn vocab_size - 256 merges from text's UTF-8 bytes: {pair: new id}, in order.

    New ids are 256, 257, ...; each step merges the most frequent pair (ties: the pair
    that appears first). Stop early when no pair is left. vocab_size < 256 is a
    ValueError. Example: train("aaabdaaabac", 259)
    -> {(97, 97): 256, (256, 97): 257, (257, 98): 258}
    """
    raise NotImplementedError("drill bpe: implement train")


def encode(text: str, merges: dict[Pair, int]) -> list[int]:
    """Text -> token ids: the UTF-8 bytes, then the merges in the order they were learned.

    Example: encode("aaabdaaabac", the merges above) -> [258, 100, 258, 97, 99]
    """
    raise NotImplementedError("drill bpe: implement encode")


def decode(ids: Sequence[int], merges: dict[Pair, int]) -> str:
    """Token ids -> text; bytes that are not valid UTF-8 become U+FFFD."""
    raise NotImplementedError("drill bpe: implement decode")
