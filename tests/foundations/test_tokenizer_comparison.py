"""Three tokenizers on the same texts."""

from __future__ import annotations

import inspect

import pytest

from llmprep.foundations import bpe, sampling
from llmprep.foundations.tokenizer_comparison import (
    SAMPLE_TEXTS,
    TokenCount,
    compare_tokenizers,
    load_cl100k,
    load_wordpiece,
)

CORPUS = inspect.getsource(sampling) + inspect.getsource(bpe)


@pytest.fixture(scope="module")
def rows() -> list[TokenCount]:
    return compare_tokenizers(CORPUS, vocab_size=400)


def by(rows: list[TokenCount], sample: str, tokenizer_prefix: str) -> TokenCount:
    (row,) = [r for r in rows if r.sample == sample and r.tokenizer.startswith(tokenizer_prefix)]
    return row


def test_one_row_per_text_and_tokenizer(rows: list[TokenCount]) -> None:
    assert len(rows) == 3 * len(SAMPLE_TEXTS)
    assert {r.tokenizer for r in rows} == {"tiny BPE (400)", "cl100k_base", "MiniLM WordPiece"}
    for r in rows:
        text = SAMPLE_TEXTS[r.sample]
        assert (r.n_chars, r.n_bytes) == (len(text), len(text.encode("utf-8")))
        assert r.n_tokens > 0
        assert r.chars_per_token == pytest.approx(r.n_chars / r.n_tokens)


def test_counts_agree_with_the_tokenizers_themselves(rows: list[TokenCount]) -> None:
    cl100k, wordpiece = load_cl100k(), load_wordpiece()
    text = SAMPLE_TEXTS["English"]
    assert by(rows, "English", "cl100k").n_tokens == len(cl100k.encode(text))
    # no [CLS]/[SEP] and no padding to 128
    assert by(rows, "English", "MiniLM").n_tokens == len(
        wordpiece.encode(text, add_special_tokens=False).ids
    )
    assert by(rows, "English", "MiniLM").n_tokens < 20


def test_byte_level_bpe_never_loses_information_but_wordpiece_does(
    rows: list[TokenCount],
) -> None:
    assert all(r.n_unknown == 0 for r in rows if not r.tokenizer.startswith("MiniLM"))
    assert by(rows, "Emoji", "MiniLM").n_unknown > 0
    assert by(rows, "Chinese", "MiniLM").n_unknown > 0


def test_the_same_sentence_costs_more_tokens_outside_english(rows: list[TokenCount]) -> None:
    english = by(rows, "English", "cl100k").n_tokens
    for language in ("Hindi", "Arabic", "Chinese"):
        assert by(rows, language, "cl100k").n_tokens > english


def test_a_tokenizer_trained_on_code_and_english_is_worst_on_other_scripts(
    rows: list[TokenCount],
) -> None:
    tiny = {r.sample: r.chars_per_token for r in rows if r.tokenizer.startswith("tiny")}
    assert tiny["English"] > tiny["Hindi"]
    assert tiny["Python"] > tiny["Chinese"]
    # with no merges for an unseen script, every byte is a token
    assert not any("\u0900" <= c <= "\u097f" for c in CORPUS)  # no Devanagari in the corpus
    assert by(rows, "Hindi", "tiny").n_tokens == by(rows, "Hindi", "tiny").n_bytes
