"""Shared helpers for the prompting tests: running coroutines and two tiny trained models."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from llmprep.foundations.tiny_lm import TinyLM, train
from llmprep.prompting.constrained_experiment import json_records

PROSE = (
    "A prompt is a program written in English. The model reads it and continues it, one "
    "token at a time; nothing in it checks that the answer has the shape you asked for.\n"
) * 20


def run[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine to completion on a fresh event loop (no pytest-asyncio needed)."""
    return asyncio.run(coro)


@pytest.fixture(scope="session")
def json_lm() -> TinyLM:
    """A tiny LM that has seen JSON records: it often writes valid ones on its own."""
    return train(json_records(300, seed=1), context=8, emb_dim=16, hidden=64, steps=1500, seed=0)


@pytest.fixture(scope="session")
def prose_lm() -> TinyLM:
    """A tiny LM trained on prose: it has never seen a JSON record.

    Each character a record needs appears once at the end, so that it is in the vocabulary.
    """
    text = PROSE + '{}"0123456789:, abcdefghijklmnopqrstuvwxyz\n'
    return train(text, context=8, emb_dim=8, hidden=64, steps=300, seed=0)
