"""Grammar-constrained decoding for real: llguidance masks the tiny LM's next character.

Structured outputs in the APIs work by *masking*: before each token is sampled, a grammar
engine computes which tokens could still lead to a valid document, and every other token's
logit is set to -inf. The model can then only write text the grammar accepts:

    logits = model(context)                       one score per token
    allowed = engine.mask()                       one bit per token, from the grammar state
    token = sample(where(allowed, logits, -inf))
    engine.consume(token)                         advance the grammar state

Here the engine is `llguidance` (from the Guidance project; its README, for version 1.9, says
OpenAI's JSON-Schema structured outputs use it, and llama.cpp, vLLM and SGLang integrate it).
It is a Rust library in a Python wheel with no Python dependencies, so no torch. The model is
the character-level `TinyLM` from the foundations chapter: its vocabulary (one token per
character) is handed to llguidance as an ordinary tokenizer, so the masks are computed over
exactly the tokens the model samples from.

Two details make a character model fit an engine built for BPE vocabularies:

- the engine needs an end-of-sequence token. TinyLM has none, but its slot 0 (PAD) is never
  predicted, so slot 0 becomes EOS and takes the score of a newline: for the tiny LM, "end of
  the line" is "end of the output". Without a mask, a newline ends the output too;
- a grammar can let a string grow forever, and a mask cannot make the model stop. Bound the
  schema (`maxLength`, a `pattern` with `{1,12}`, `maximum`) and the output always finishes.

Leaves out: batching (`llguidance.numpy.fill_next_token_bitmask_par` masks a batch on
several threads), fast-forwarding forced tokens without a forward pass (we sample them, and
count them as `forced`), and speculative decoding with masks.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import llguidance
import numpy as np
import tiktoken
from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask
from llguidance.tiktoken import lltokenizer_from_encoding
from numpy.typing import NDArray

from llmprep.core.tokens import CL100K_OFFLINE
from llmprep.foundations.sampling import sample
from llmprep.foundations.tiny_lm import TinyLM

if TYPE_CHECKING:  # a TypedDict that exists only in llguidance's type stubs
    from llguidance._lib import JsonCompileOptions

EOS_ID = 0  # TinyLM's PAD slot, never predicted, serves as the engine's end-of-sequence
END_OF_OUTPUT = "\n"  # the character whose score EOS takes (and that ends unmasked output)

COMPACT_JSON: JsonCompileOptions = {
    "whitespace_flexible": False,  # no free whitespace: the model cannot stall in spaces
    "key_separator": ": ",
    "item_separator": ", ",
}


class _CharVocabulary:
    """TinyLM's vocabulary in the shape `llguidance.TokenizerWrapper` reads."""

    def __init__(self, chars: str) -> None:
        self.eos_token_id = EOS_ID
        self.bos_token_id = None
        # special tokens are marked by a leading 0xFF byte, which no UTF-8 text contains
        self.tokens = [b"\xff<eos>", *(c.encode("utf-8") for c in chars[1:])]
        self.special_token_ids = [EOS_ID]
        self._index = {c: i for i, c in enumerate(chars) if i != EOS_ID}

    def __call__(self, text: bytes) -> list[int]:
        # subtle: an exception here would panic inside the Rust engine, so characters the
        # model cannot write are skipped (only `tokenize_str` calls this, never a mask)
        chars = text.decode("utf-8", errors="ignore")
        return [self._index[c] for c in chars if c in self._index]


def engine_tokenizer(lm: TinyLM) -> llguidance.LLTokenizer:
    """The tiny LM's characters as an llguidance tokenizer (build once per model)."""
    wrapper = llguidance.TokenizerWrapper(_CharVocabulary(lm.chars))
    return llguidance.LLTokenizer(wrapper)


def json_schema_grammar(schema: Mapping[str, Any]) -> str:
    """An llguidance grammar for compact JSON matching `schema`; raises if it is invalid.

    Example: json_schema_grammar({"type": "integer"}) is a string the engine compiles
    """
    matcher = llguidance.LLMatcher
    grammar = matcher.grammar_from_json_schema(dict(schema), overrides=COMPACT_JSON)
    is_error, messages = matcher.validate_grammar_with_warnings(grammar)
    if is_error:
        raise ValueError(f"llguidance cannot compile this schema: {messages[0]}")
    return grammar


class GrammarMask:
    """The grammar's state during one generation: which tokens may come next.

    Example:
        mask = GrammarMask(tokenizer, grammar)
        mask.allowed()[tokenizer_id_of("{")]  # True at the start of a JSON object
    """

    def __init__(self, tokenizer: llguidance.LLTokenizer, grammar: str) -> None:
        self.vocab_size = tokenizer.vocab_size
        self._matcher = llguidance.LLMatcher(tokenizer, grammar, log_level=0)
        self._bits = allocate_token_bitmask(1, self.vocab_size)
        if self._matcher.is_error():
            raise ValueError(self._matcher.get_error())

    def allowed(self) -> NDArray[np.bool_]:
        """One flag per token: may it come next?"""
        fill_next_token_bitmask(self._matcher, self._bits)
        unpacked = np.unpackbits(self._bits[0].view(np.uint8), bitorder="little")
        allowed: NDArray[np.bool_] = unpacked[: self.vocab_size].astype(bool)
        return allowed

    def advance(self, token: int) -> None:
        """Commit a sampled token; a token outside the mask is a bug, so it raises."""
        if not self._matcher.consume_token(token):
            raise ValueError(f"token {token} rejected: {self._matcher.get_error()}")

    @property
    def done(self) -> bool:
        """True once nothing but end-of-sequence may follow."""
        return self._matcher.is_stopped()


@dataclass(frozen=True, slots=True)
class Generation:
    """One sampled output, with what it cost and how much the grammar decided."""

    text: str
    finished: bool  # ended by itself (end of output, or grammar complete) within max_chars
    steps: int  # tokens sampled (including a final end-of-output)
    forced: int  # steps where the mask left exactly one token
    logprob: float  # the *unmasked* model's log-probability of what was written
    lm_seconds: float  # time in the model's forward passes
    mask_seconds: float  # time computing, applying and advancing the mask


def generate(
    lm: TinyLM,
    prompt: str,
    *,
    rng: np.random.Generator,
    grammar: str | None = None,
    tokenizer: llguidance.LLTokenizer | None = None,
    max_chars: int = 64,
    temperature: float = 1.0,
) -> Generation:
    """Sample up to `max_chars` characters after `prompt`, masked by `grammar` if given.

    Pass `tokenizer` (from `engine_tokenizer`) when generating many times: building it is
    the one slow step. The model must know the newline character (it ends the output).
    Example: generate(lm, "\\n", rng=np.random.default_rng(0), grammar=g, tokenizer=t).text
    """
    mask = None
    if grammar is not None:
        mask = GrammarMask(tokenizer or engine_tokenizer(lm), grammar)
    newline = lm.chars.index(END_OF_OUTPUT)
    text, logprob, forced, lm_s, mask_s = "", 0.0, 0, 0.0, 0.0
    for step in range(1, max_chars + 1):
        t0 = time.perf_counter()
        logits = lm.logits(prompt + text)
        # the newline's score moves to EOS (see the module docstring)
        logits[EOS_ID], logits[newline] = logits[newline], -np.inf
        lm_s += time.perf_counter() - t0
        if mask is None:
            token = sample(logits, rng, temperature=temperature)
        else:
            t0 = time.perf_counter()
            allowed = mask.allowed()
            forced += int(allowed.sum() == 1)
            masked = np.where(allowed, logits, -np.inf)
            mask_s += time.perf_counter() - t0
            token = sample(masked, rng, temperature=temperature)
            t0 = time.perf_counter()
            if token != EOS_ID:
                mask.advance(token)
            mask_s += time.perf_counter() - t0
        logprob += float(logits[token] - np.logaddexp.reduce(logits))
        if token == EOS_ID:
            return Generation(text, True, step, forced, logprob, lm_s, mask_s)
        text += lm.chars[token]
        if mask is not None and mask.done:
            return Generation(text, True, step, forced, logprob, lm_s, mask_s)
    return Generation(text, False, max_chars, forced, logprob, lm_s, mask_s)


@dataclass(frozen=True, slots=True)
class MaskCost:
    """Time to compute one mask while replaying a document, over a tokenizer's vocabulary."""

    vocab_size: int
    tokens: int
    mean_ms: float
    max_ms: float


def mask_cost(
    tokenizer: llguidance.LLTokenizer, grammar: str, document: str, repeats: int = 5
) -> MaskCost:
    """Replay `document` token by token through the grammar, timing every mask.

    Why: the tiny LM has ~100 tokens, a production model ~100,000-200,000, and mask cost
    grows with the vocabulary. `cl100k_tokenizer()` gives you a real large one to compare.
    """
    ids = tokenizer.tokenize_str(document)
    times: list[float] = []
    for _ in range(repeats):
        matcher = llguidance.LLMatcher(tokenizer, grammar, log_level=0)
        bits = allocate_token_bitmask(1, tokenizer.vocab_size)
        for token in ids:
            t0 = time.perf_counter()
            fill_next_token_bitmask(matcher, bits)
            times.append(time.perf_counter() - t0)
            if not matcher.consume_token(token):
                error = matcher.get_error()
                raise ValueError(f"the grammar rejects {document!r}: {error}")
    ms = np.array(times) * 1000
    return MaskCost(tokenizer.vocab_size, len(ids), float(ms.mean()), float(ms.max()))


def cl100k_tokenizer() -> llguidance.LLTokenizer:
    """GPT-4's cl100k_base vocabulary for llguidance, offline (takes about a second)."""
    return lltokenizer_from_encoding(tiktoken.get_encoding(CL100K_OFFLINE))
