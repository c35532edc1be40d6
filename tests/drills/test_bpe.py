"""Grader for the bpe drill: pair counts, merging, training, encoding and decoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.drills.target import load

m = load("bpe")
CORPUS = (
    "the cat sat on the mat. the dog sat on the log. "
    "a tokenizer that has seen 'the' many times learns it as one token. " * 3
)
EXAMPLE = {(97, 97): 256, (256, 97): 257, (257, 98): 258}


def test_get_stats_counts_adjacent_pairs_in_order() -> None:
    stats = m.get_stats([1, 2, 3, 1, 2])
    assert stats == {(1, 2): 2, (2, 3): 1, (3, 1): 1}
    assert list(stats) == [(1, 2), (2, 3), (3, 1)]
    assert m.get_stats([7]) == {}
    assert m.get_stats([5, 5, 5]) == {(5, 5): 2}


def test_merge_is_left_to_right_and_non_overlapping() -> None:
    assert m.merge([1, 2, 3, 1, 2], (1, 2), 4) == [4, 3, 4]
    assert m.merge([5, 5, 5], (5, 5), 9) == [9, 5]
    assert m.merge([5, 5, 5, 5], (5, 5), 9) == [9, 9]
    assert m.merge([1, 3], (1, 2), 4) == [1, 3]
    assert m.merge([], (1, 2), 4) == []


def test_train_learns_the_classic_example() -> None:
    assert m.train("aaabdaaabac", 259) == EXAMPLE
    assert list(m.train("aaabdaaabac", 259).values()) == [256, 257, 258]


def test_train_breaks_ties_by_first_appearance_and_stops_early() -> None:
    assert m.train("abcd", 257) == {(97, 98): 256}  # ab, bc, cd all occur once
    assert m.train("ab", 300) == {(97, 98): 256}  # nothing left to merge after one
    assert m.train("abab", 258) == {(97, 98): 256, (256, 256): 257}
    assert m.train("", 300) == {}
    assert m.train("hello", 256) == {}
    with pytest.raises(ValueError):  # noqa: PT011 - the starter fixes no message
        m.train("hello", 255)


def test_training_merges_the_most_frequent_pair_first() -> None:
    merges = m.train(CORPUS, 300)
    assert len(merges) == 44
    first = next(iter(merges))
    ids = list(CORPUS.encode())
    stats = m.get_stats(ids)
    assert stats[first] == max(stats.values())
    # every merge refers only to ids that existed before it
    for pair, idx in merges.items():
        assert max(pair) < idx


def test_encode_applies_merges_in_learned_order() -> None:
    assert m.encode("aaabdaaabac", EXAMPLE) == [258, 100, 258, 97, 99]
    assert m.encode("aaaa", EXAMPLE) == [256, 256]
    assert m.encode("ba", EXAMPLE) == [98, 97]
    assert m.encode("", EXAMPLE) == []
    assert m.encode("hi", {}) == [104, 105]


def test_encoding_compresses_the_training_text() -> None:
    merges = m.train(CORPUS, 300)
    ids = m.encode(CORPUS, merges)
    assert len(ids) < len(CORPUS.encode()) / 2
    assert m.decode(ids, merges) == CORPUS


def test_decode_handles_multibyte_characters() -> None:
    text = "héllo wörld 👋 日本"
    merges = m.train(text * 4, 280)
    assert m.decode(m.encode(text, merges), merges) == text
    assert m.decode([0xE6], {}) == "\ufffd"  # half of a character


@given(st.text(max_size=60))
def test_round_trip_on_any_text(text: str) -> None:
    merges = m.train(CORPUS, 290)
    ids = m.encode(text, merges)
    assert m.decode(ids, merges) == text
    assert len(ids) <= len(text.encode("utf-8"))
    assert all(0 <= i < 290 for i in ids)
