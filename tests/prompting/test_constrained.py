"""Constrained decoding with llguidance over the tiny LM's characters."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llmprep.foundations.tiny_lm import TinyLM
from llmprep.prompting.constrained import (
    END_OF_OUTPUT,
    EOS_ID,
    GrammarMask,
    cl100k_tokenizer,
    engine_tokenizer,
    generate,
    json_schema_grammar,
    mask_cost,
)
from llmprep.prompting.constrained_experiment import (
    PERSON_SCHEMA,
    ConstrainedResult,
    ModeResult,
    json_records,
    run_experiment,
)
from llmprep.prompting.structured import json_schema_validator


def test_the_engine_sees_the_tiny_lms_vocabulary_one_character_per_token(json_lm: TinyLM) -> None:
    tokenizer = engine_tokenizer(json_lm)
    assert tokenizer.vocab_size == json_lm.vocab_size
    assert tokenizer.eos_token == EOS_ID
    text = '{"name": "bali", "age": 36}'
    assert tokenizer.tokenize_str(text) == json_lm.encode(text).tolist()
    assert tokenizer.decode_str(json_lm.encode(text).tolist()) == text


def test_the_mask_allows_exactly_what_the_grammar_can_continue_with(json_lm: TinyLM) -> None:
    tokenizer = engine_tokenizer(json_lm)
    mask = GrammarMask(tokenizer, json_schema_grammar(PERSON_SCHEMA))

    def allowed() -> set[str]:
        return {json_lm.chars[i] for i in np.flatnonzero(mask.allowed())}

    assert allowed() == {"{"}
    for ch in '{"name": "':
        mask.advance(int(json_lm.encode(ch)[0]))
    letters = set("abcdefghijklmnopqrstuvwxyz") & set(json_lm.chars)
    assert allowed() == letters  # at least one letter before the closing quote
    mask.advance(int(json_lm.encode("a")[0]))
    assert allowed() == letters | {'"'}
    for ch in '", "age": 12':
        mask.advance(int(json_lm.encode(ch)[0]))
    assert allowed() == {"0", "}"}  # 120 is the maximum; 121-129 are not allowed
    with pytest.raises(ValueError, match="rejected"):
        mask.advance(int(json_lm.encode("5")[0]))


def test_masked_sampling_always_yields_valid_json_even_from_a_prose_model(
    prose_lm: TinyLM,
) -> None:
    result = run_experiment(prose_lm, n=30, seed=0)
    assert result.masked.valid == result.masked.parsed == result.masked.finished == 30
    assert result.unmasked.valid == 0  # it never saw a record, so it never writes one
    assert 0 < result.masked.forced_share < 1  # the grammar decided the punctuation
    validate = json_schema_validator(PERSON_SCHEMA)
    for text in result.masked.examples:
        assert validate(json.loads(text))


def test_a_json_trained_model_is_often_valid_unmasked_and_always_valid_masked(
    json_lm: TinyLM,
) -> None:
    result = run_experiment(json_lm, n=40, seed=0)
    assert result.masked.valid_rate == 1.0
    assert 0.3 < result.unmasked.valid_rate < 1.0
    assert result.unmasked.valid <= result.unmasked.parsed <= result.unmasked.samples
    assert result.masked.mask_ms_per_token > 0
    assert result.unmasked.mask_ms_per_token == 0


def test_generation_is_reproducible_from_its_seed(json_lm: TinyLM) -> None:
    grammar, tokenizer = json_schema_grammar(PERSON_SCHEMA), engine_tokenizer(json_lm)
    runs = [
        generate(json_lm, "\n", rng=np.random.default_rng(7), grammar=grammar, tokenizer=tokenizer)
        for _ in range(2)
    ]
    assert runs[0].text == runs[1].text
    assert runs[0].logprob == runs[1].logprob
    assert runs[0].finished
    assert runs[0].steps == len(runs[0].text)


def test_an_unmasked_run_stops_at_a_newline_or_the_budget(prose_lm: TinyLM) -> None:
    out = generate(prose_lm, "A prompt is ", rng=np.random.default_rng(0), max_chars=500)
    assert out.finished  # it ended by itself, well inside the budget ...
    assert out.steps == len(out.text) + 1 < 500  # ... with one end-of-output step, the newline
    assert out.text  # and wrote something first
    capped = generate(prose_lm, "A prompt is ", rng=np.random.default_rng(0), max_chars=3)
    assert not capped.finished  # cut off by the budget
    assert (len(capped.text), capped.steps) == (3, 3)
    assert out.text.startswith(capped.text)  # same seed, same first characters


def _unmasked_logprob(lm: TinyLM, prompt: str, text: str, *, ended: bool) -> float:
    """The log-probability of `text` (and of ending, if `ended`) under the model alone."""
    newline, total = lm.chars.index(END_OF_OUTPUT), 0.0
    tokens = [int(lm.encode(ch)[0]) for ch in text] + ([EOS_ID] if ended else [])
    for i, token in enumerate(tokens):
        logits = lm.logits(prompt + text[:i])
        logits[EOS_ID], logits[newline] = logits[newline], -np.inf  # as `generate` scores EOS
        total += float(logits[token] - np.logaddexp.reduce(logits))
    return total


def test_logprob_is_the_unmasked_models_even_under_a_mask(json_lm: TinyLM) -> None:
    grammar, tokenizer = json_schema_grammar(PERSON_SCHEMA), engine_tokenizer(json_lm)
    for seed in range(3):
        out = generate(
            json_lm, "\n", rng=np.random.default_rng(seed), grammar=grammar, tokenizer=tokenizer
        )
        assert out.finished
        assert out.forced > 0  # the mask did decide some characters
        ended = out.steps == len(out.text) + 1  # an EOS step, not the grammar completing
        expected = _unmasked_logprob(json_lm, "\n", out.text, ended=ended)
        assert out.logprob == pytest.approx(expected, abs=1e-9)


def test_json_schema_grammar_rejects_what_llguidance_cannot_compile() -> None:
    with pytest.raises(ValueError, match="cannot compile"):
        json_schema_grammar({"type": "string", "pattern": "(unclosed"})


def test_mask_cost_replays_a_document_over_a_100k_vocabulary() -> None:
    tokenizer = cl100k_tokenizer()
    grammar = json_schema_grammar(PERSON_SCHEMA)
    cost = mask_cost(tokenizer, grammar, '{"name": "ada", "age": 36}', repeats=1)
    assert cost.vocab_size > 100_000
    assert cost.tokens > 5
    assert cost.max_ms >= cost.mean_ms > 0
    with pytest.raises(ValueError, match="rejects"):
        mask_cost(tokenizer, grammar, '{"name": "Ada", "age": 36}', repeats=1)


def test_json_records_match_the_schema() -> None:
    validate = json_schema_validator(PERSON_SCHEMA)
    lines = json_records(50, seed=3).splitlines()
    assert len(lines) == 50
    assert all(validate(json.loads(line)) for line in lines)
    assert json_records(5, seed=3) == json_records(5, seed=3)


def _mode(masked: bool, lm_ms: float, mask_ms: float) -> ModeResult:
    return ModeResult(masked, 1, 1, 1, 1, 0.0, 0.0, lm_ms, mask_ms, ())


def test_mask_overhead_is_mask_time_as_a_share_of_the_forward_pass() -> None:
    result = ConstrainedResult(
        dict(PERSON_SCHEMA), "\n", 1.0, _mode(False, 3.0, 0.0), _mode(True, 2.0, 1.0)
    )
    assert result.mask_overhead == 0.5  # the masked run's own times: 50% slower per token
