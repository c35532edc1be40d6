"""How fast the prompting code runs: the costs the chapters quote for masking and parsing.

The mask benchmarks time one llguidance mask over two vocabularies, the tiny LM's ~100
characters and GPT-4's cl100k_base (~100,000 tokens), at the same grammar state, next to one
forward pass of the tiny LM: "does masking slow decoding down?" depends on both numbers.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from llmprep.foundations.tiny_lm import TinyLM, train
from llmprep.prompting.constrained import (
    GrammarMask,
    cl100k_tokenizer,
    engine_tokenizer,
    generate,
    json_schema_grammar,
)
from llmprep.prompting.constrained_experiment import PERSON_SCHEMA, json_records
from llmprep.prompting.partial_json import parse_partial

PREFIX = '{"name": "ba'  # a state where the mask has real work to do (letters or a quote)


@pytest.fixture(scope="module")
def lm() -> TinyLM:
    return train(json_records(300, seed=1), context=8, emb_dim=16, hidden=64, steps=1500, seed=0)


def _mask_at_prefix(tokenizer: Any, ids: list[int]) -> GrammarMask:
    mask = GrammarMask(tokenizer, json_schema_grammar(PERSON_SCHEMA))
    for token in ids:
        mask.advance(token)
    return mask


def test_mask_over_the_tiny_lm_vocabulary(benchmark: Any, lm: TinyLM) -> None:
    tokenizer = engine_tokenizer(lm)
    mask = _mask_at_prefix(tokenizer, tokenizer.tokenize_str(PREFIX))
    allowed = benchmark(mask.allowed)
    assert allowed.sum() > 1


def test_mask_over_cl100k(benchmark: Any) -> None:
    tokenizer = cl100k_tokenizer()
    mask = _mask_at_prefix(tokenizer, tokenizer.tokenize_str(PREFIX))
    allowed = benchmark(mask.allowed)
    assert allowed.sum() > 1


def test_tiny_lm_forward_pass(benchmark: Any, lm: TinyLM) -> None:
    logits = benchmark(lm.logits, "\n" + PREFIX)
    assert logits.shape == (lm.vocab_size,)


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_generate_one_record(benchmark: Any, lm: TinyLM, masked: bool) -> None:
    grammar = json_schema_grammar(PERSON_SCHEMA) if masked else None
    tokenizer = engine_tokenizer(lm)

    def once() -> str:
        rng = np.random.default_rng(0)
        return generate(lm, "\n", rng=rng, grammar=grammar, tokenizer=tokenizer).text

    assert benchmark(once)


def test_parse_every_prefix_of_a_2kb_document(benchmark: Any) -> None:
    document = json.dumps({"steps": [{"n": i, "text": "step " * 8} for i in range(30)]})

    def every_prefix() -> Any:
        return [parse_partial(document[:end]) for end in range(0, len(document), 16)]

    assert benchmark(every_prefix)[-1]["steps"]
