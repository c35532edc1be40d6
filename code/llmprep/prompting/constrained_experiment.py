"""The constrained-decoding experiment: how often is the output valid, with and without a mask?

Sample N outputs from the tiny LM twice, with the same seeds: once freely, once masked by a
grammar compiled from a small JSON Schema, `{"name": <1-12 lowercase letters>, "age": <0-120>}`.
Count the outputs that parse as JSON and the ones that also validate against the schema, and
time the mask per token against the model's own forward pass.

Two models make the point from both sides (`json_records` writes training text for the second):

- the tiny LM trained on the book's prose has never seen a JSON record: unmasked, it almost
  never writes one; masked, every output is valid, but its names are whatever letters it likes;
- a tiny LM trained on JSON records writes valid records most of the time on its own; the
  mask turns "most" into "all", which is what a program that parses the output needs.

The mask guarantees syntax, not sense: `mean_logprob` shows how far from its own preferences
the mask pushed the model.

Leaves out: prompting the model with the schema (an 8-character context cannot read one), and
comparing engines (llguidance only; see `constrained` for why).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmprep.foundations.tiny_lm import TinyLM
from llmprep.prompting.constrained import (
    Generation,
    engine_tokenizer,
    generate,
    json_schema_grammar,
)
from llmprep.prompting.structured import OutputError, json_schema_validator

PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z]{1,12}$"},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}

_SYLLABLES = ("ba", "ka", "li", "mo", "ne", "ra", "sa", "ti", "vo", "ze", "an", "el", "or")


def json_records(n: int, seed: int = 0) -> str:
    """n JSON records matching PERSON_SCHEMA, one per line: training text for a tiny LM.

    Example: json_records(1, seed=0) == '{"name": "...", "age": ...}\\n'
    """
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(n):
        name = "".join(rng.choice(_SYLLABLES, size=int(rng.integers(1, 5))))
        lines.append(json.dumps({"name": name, "age": int(rng.integers(0, 100))}))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class ModeResult:
    """N samples in one mode (masked or not): how many were usable, and what they cost."""

    masked: bool
    samples: int
    parsed: int  # outputs that are JSON on their own
    valid: int  # ... and match the schema
    finished: int  # outputs that ended by themselves within max_chars
    forced_share: float  # share of steps where the mask left one choice
    mean_logprob: float  # the unmasked model's log-probability per token sampled (nats)
    lm_ms_per_token: float
    mask_ms_per_token: float
    examples: tuple[str, ...]  # the first few outputs, to show

    @property
    def parse_rate(self) -> float:
        return self.parsed / self.samples

    @property
    def valid_rate(self) -> float:
        return self.valid / self.samples


@dataclass(frozen=True, slots=True)
class ConstrainedResult:
    """The experiment's outcome: the same N seeds, unmasked and masked."""

    schema: dict[str, Any]
    prompt: str
    temperature: float
    unmasked: ModeResult
    masked: ModeResult

    @property
    def mask_overhead(self) -> float:
        """Masking time per token as a share of the forward pass (0.5 = 50% slower)."""
        return self.masked.mask_ms_per_token / self.masked.lm_ms_per_token


def run_experiment(
    lm: TinyLM,
    schema: Mapping[str, Any] = PERSON_SCHEMA,
    *,
    n: int = 300,
    seed: int = 0,
    prompt: str = "\n",
    temperature: float = 1.0,
    max_chars: int = 64,
) -> ConstrainedResult:
    """Sample n outputs without and with the schema's mask (sample i uses seed (seed, i)).

    Example: run_experiment(lm, n=300).masked.valid_rate == 1.0
    """
    grammar, tokenizer = json_schema_grammar(schema), engine_tokenizer(lm)
    runs: list[list[Generation]] = [[], []]
    for i in range(n):
        for masked in (False, True):
            runs[masked].append(
                generate(
                    lm,
                    prompt,
                    rng=np.random.default_rng([seed, i]),
                    grammar=grammar if masked else None,
                    tokenizer=tokenizer,
                    max_chars=max_chars,
                    temperature=temperature,
                )
            )
    return ConstrainedResult(
        dict(schema),
        prompt,
        temperature,
        unmasked=_summarize(runs[False], schema, masked=False),
        masked=_summarize(runs[True], schema, masked=True),
    )


def _summarize(
    generations: Sequence[Generation], schema: Mapping[str, Any], *, masked: bool
) -> ModeResult:
    validate = json_schema_validator(schema)
    parsed = valid = 0
    for g in generations:
        try:
            value = json.loads(g.text)
        except json.JSONDecodeError:
            continue
        parsed += 1
        try:
            validate(value)
            valid += 1
        except OutputError:
            pass
    steps = sum(g.steps for g in generations)
    return ModeResult(
        masked=masked,
        samples=len(generations),
        parsed=parsed,
        valid=valid,
        finished=sum(g.finished for g in generations),
        forced_share=sum(g.forced for g in generations) / steps,
        mean_logprob=sum(g.logprob for g in generations) / steps,
        lm_ms_per_token=1000 * sum(g.lm_seconds for g in generations) / steps,
        mask_ms_per_token=1000 * sum(g.mask_seconds for g in generations) / steps,
        examples=tuple(g.text for g in generations[:5]),
    )
