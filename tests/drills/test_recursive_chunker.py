"""Grader for drill recursive-chunker: examples, plus the invariants every chunker must keep
(no text lost or duplicated, every chunk fits), checked by hypothesis on generated texts."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.drills.target import load

m = load("recursive-chunker")

# Texts made of the characters the separators care about, so every level of the recursion
# is exercised: paragraphs, lines, sentences, words and long runs without any separator.
texts = st.text(alphabet=st.sampled_from(list("ab. \n")), max_size=300)
sizes = st.integers(1, 40)


def words(text: str) -> int:
    """A token-like length: the number of whitespace-separated words."""
    return len(text.split())


def test_the_docstring_examples() -> None:
    assert m.recursive_chunks("One. Two.\n\nThree.", 10) == ["One. ", "Two.\n\n", "Three."]
    assert m.recursive_chunks("abcdefg", 3) == ["abc", "def", "g"]


def test_a_text_that_fits_is_one_chunk_and_empty_text_none() -> None:
    assert m.recursive_chunks("short text", 100) == ["short text"]
    assert m.recursive_chunks("", 10) == []


def test_paragraph_breaks_come_first_and_pieces_are_packed() -> None:
    text = "aaaa\n\nbbbb\n\ncccc"
    assert m.recursive_chunks(text, 12) == ["aaaa\n\nbbbb\n\n", "cccc"]
    assert m.recursive_chunks(text, 6) == ["aaaa\n\n", "bbbb\n\n", "cccc"]


def test_falls_back_to_lines_sentences_words_then_characters() -> None:
    assert m.recursive_chunks("line one\nline two", 9) == ["line one\n", "line two"]
    assert m.recursive_chunks("Cats purr. Dogs bark.", 12) == ["Cats purr. ", "Dogs bark."]
    assert m.recursive_chunks("alpha beta gamma", 11) == ["alpha beta ", "gamma"]
    assert m.recursive_chunks("abcdefghij klm", 4) == ["abcd", "efgh", "ij ", "klm"]


def test_a_run_of_one_separator_stays_together() -> None:
    assert m.recursive_chunks("ab\n\n\n\ncd", 6) == ["ab\n\n\n\n", "cd"]


def test_only_finer_separators_are_used_below_a_level() -> None:
    # The long paragraph is split at words; the short one after it stays whole.
    text = "aaa bbb ccc\n\nshort"
    assert m.recursive_chunks(text, 8) == ["aaa bbb ", "ccc\n\n", "short"]


def test_custom_separators_without_the_empty_one_keep_unsplittable_pieces() -> None:
    assert m.recursive_chunks("aaaaaaaa bb", 4, separators=(" ",)) == ["aaaaaaaa ", "bb"]
    assert m.recursive_chunks("x|yy|zzz", 5, separators=("|", "")) == ["x|yy|", "zzz"]


def test_a_length_function_measures_in_other_units() -> None:
    text = "one two three four five six seven"
    chunks = m.recursive_chunks(text, 3, length=words)
    assert chunks == ["one two three ", "four five six ", "seven"]


@pytest.mark.parametrize(
    ("size", "separators", "named"),
    [(0, ("\n", ""), "size|0"), (-3, ("\n",), "size|-3"), (5, (), "separators")],
)
def test_bad_input_is_a_value_error(size: int, separators: tuple[str, ...], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        m.recursive_chunks("some text", size, separators)


@given(text=texts, size=sizes)
def test_property_no_text_lost_or_duplicated(text: str, size: int) -> None:
    chunks = m.recursive_chunks(text, size)
    assert "".join(chunks) == text
    assert all(chunks), "no empty chunks"


@given(text=texts, size=sizes)
def test_property_every_chunk_fits(text: str, size: int) -> None:
    assert all(len(c) <= size for c in m.recursive_chunks(text, size))


@given(text=texts, size=st.integers(1, 8))
def test_property_every_chunk_fits_a_custom_length(text: str, size: int) -> None:
    chunks = m.recursive_chunks(text, size, length=words)
    assert "".join(chunks) == text
    assert all(words(c) <= size for c in chunks)


def greedy_pack(pieces: list[str], size: int) -> list[str]:
    """Pack pieces that each fit into chunks, left to right, while the chunk fits."""
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1] + piece) <= size:
            chunks[-1] += piece
        else:
            chunks.append(piece)
    return chunks


@given(
    paragraphs=st.lists(st.text(alphabet="ab. ", min_size=1, max_size=15), min_size=1, max_size=12),
    size=st.integers(15, 60),
)
def test_property_paragraphs_that_fit_are_packed_greedily(paragraphs: list[str], size: int) -> None:
    """When every paragraph fits, the chunks are exactly the greedy packing of paragraphs:
    no cut inside a paragraph, and no two neighbours left apart that would fit together."""
    pieces = [p + "\n\n" for p in paragraphs[:-1]] + paragraphs[-1:]
    assume(all(len(p) <= size for p in pieces))
    assert m.recursive_chunks("".join(pieces), size) == greedy_pack(pieces, size)
