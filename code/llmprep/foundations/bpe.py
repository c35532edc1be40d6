"""Byte-level BPE: the tokenizer family behind GPT-2, GPT-4 and Llama 3, in ~150 lines.

Byte Pair Encoding (Sennrich et al., 2016; byte-level since GPT-2) starts from the 256
possible bytes, so *any* text can be encoded: nothing is ever "unknown". Training repeats one
step: find the most frequent pair of adjacent tokens and merge it into a new token. Encoding
replays the learned merges in the order they were learned. Decoding concatenates the bytes.

Like GPT-4, we first split text into chunks with a regex (words with their leading space,
runs of up to three digits, punctuation, whitespace) and never merge across chunks, so
" dog." and " dog!" share the chunk " dog". The pattern is tiktoken's cl100k_base pattern,
run with the third-party `regex` module (the standard `re` module lacks \\p{L} classes and
possessive quantifiers; `regex` comes with tiktoken).

In the spirit of karpathy/minbpe (its structure, not its code). Unlike minbpe we count each
distinct chunk once, weighted by its frequency, which makes training much faster on real text.

But:
- no special tokens (<|endoftext|> and friends) and no save/load;
- training is plain Python: fine for a few hundred KB and a vocabulary of a few thousand,
  far too slow for a production vocabulary of 100k+ tokens trained on terabytes.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import regex

# tiktoken's cl100k_base split pattern (GPT-3.5/GPT-4), verbatim from tiktoken 0.14.
GPT4_SPLIT_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)

type Pair = tuple[int, int]


# -----------------------------------------------------------------------------
# the two primitives


def get_stats(
    ids: Sequence[int], counts: dict[Pair, int] | None = None, weight: int = 1
) -> dict[Pair, int]:
    """Count adjacent pairs, adding `weight` per occurrence to `counts` (updated in place).

    Example: get_stats([1, 2, 3, 1, 2]) -> {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    """
    counts = {} if counts is None else counts
    for pair in itertools.pairwise(ids):
        counts[pair] = counts.get(pair, 0) + weight
    return counts


def merge(ids: Sequence[int], pair: Pair, idx: int) -> list[int]:
    """Replace every non-overlapping occurrence of `pair`, left to right, with `idx`.

    Example: merge([1, 2, 3, 1, 2], pair=(1, 2), idx=4) -> [4, 3, 4]
    """
    out: list[int] = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(idx)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def split_text(text: str, pattern: str | None = GPT4_SPLIT_PATTERN) -> list[str]:
    """Pre-tokenize: cut text into the chunks that merges may not cross.

    Example: split_text("Hello world!!") -> ["Hello", " world", "!!"]
    """
    if pattern is None:
        return [text] if text else []
    chunks: list[str] = regex.findall(pattern, text)
    return chunks


# -----------------------------------------------------------------------------
# the tokenizer


@dataclass(frozen=True, slots=True)
class BPETokenizer:
    """A trained byte-level BPE tokenizer.

    merges maps a pair of token ids to the id of the merged token; its insertion order is the
    order the merges were learned (ids 256, 257, ...). vocab maps every id to its bytes.
    """

    merges: dict[Pair, int]
    pattern: str | None = GPT4_SPLIT_PATTERN
    vocab: dict[int, bytes] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        vocab = {i: bytes([i]) for i in range(256)}
        for (a, b), idx in self.merges.items():
            vocab[idx] = vocab[a] + vocab[b]
        object.__setattr__(self, "vocab", vocab)  # frozen: set the derived field once

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def _encode_chunk(self, chunk: bytes) -> list[int]:
        ids = list(chunk)
        while len(ids) >= 2:
            # The merge learned earliest among the pairs present must be applied first,
            # exactly as in training; later merges were learned on top of earlier ones.
            stats = get_stats(ids)
            pair = min(stats, key=lambda p: self.merges.get(p, len(self.vocab)))
            if pair not in self.merges:
                break  # nothing left to merge
            ids = merge(ids, pair, self.merges[pair])
        return ids

    def encode(self, text: str) -> list[int]:
        """Text -> token ids. Works for any string of valid Unicode (emoji, CJK, code, ...)."""
        ids: list[int] = []
        for chunk in split_text(text, self.pattern):
            ids.extend(self._encode_chunk(chunk.encode("utf-8")))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Token ids -> text. Any slice of a valid encoding decodes; a slice that cuts a
        multi-byte character in half shows U+FFFD there (errors="replace")."""
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")

    def token_bytes(self, ids: Iterable[int]) -> list[bytes]:
        """The bytes behind each id: handy for showing how a text was cut."""
        return [self.vocab[i] for i in ids]


def train(
    text: str,
    vocab_size: int,
    *,
    pattern: str | None = GPT4_SPLIT_PATTERN,
) -> BPETokenizer:
    """Learn `vocab_size - 256` merges from `text`.

    Each step merges the most frequent adjacent pair (ties: the pair seen first in the text).
    If the text runs out of pairs, training stops early with a smaller vocabulary.

    Example: train("aaabdaaabac", 259, pattern=None).merges
             -> {(97, 97): 256, (256, 97): 257, (257, 98): 258}
    """
    if vocab_size < 256:
        raise ValueError(f"vocab_size must be >= 256 (the bytes), got {vocab_size}")
    # Count each distinct chunk once: "the" may occur 5,000 times but is merged once.
    chunk_counts = Counter(chunk.encode("utf-8") for chunk in split_text(text, pattern))
    words = [(list(chunk), count) for chunk, count in chunk_counts.items()]
    merges: dict[Pair, int] = {}
    for idx in range(256, vocab_size):
        stats: dict[Pair, int] = {}
        for ids, count in words:
            get_stats(ids, stats, weight=count)
        if not stats:
            break
        pair = max(stats, key=lambda p: stats[p])  # first-seen pair wins ties
        merges[pair] = idx
        words = [(merge(ids, pair, idx), count) for ids, count in words]
    return BPETokenizer(merges, pattern)
