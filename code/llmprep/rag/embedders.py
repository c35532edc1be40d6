"""Embedders: texts in, one unit-length vector per text out, so a dot product is a cosine.

Dense retrieval needs one thing from a model: similar texts get nearby vectors. Two embedders
stand behind one protocol here:

    MiniLMEmbedder    all-MiniLM-L6-v2, the numpy encoder from llmprep.foundations.minilm:
                      a trained model, 384 dimensions, reads at most 256 tokens of a text
    HashingEmbedder   no model at all: word and word-pair counts hashed into `dim` buckets
                      (the "hashing trick", Weinberger et al., 2009); instant and reproducible,
                      so tests and figures can run a whole pipeline without loading weights

The hashing embedder shows what a trained one adds. Two texts are close only if they share
words; "car" and "automobile" are as far apart as "car" and "banana". MiniLM puts paraphrases
together without a shared word.

Leaves out: instruction prefixes ("query: ", "passage: ") that some embedding models need,
Matryoshka truncation, and quantised vectors.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from llmprep.foundations.minilm import MiniLM, MiniLMConfig, model_dir
from llmprep.rag.documents import Vector


class Embedder(Protocol):
    """Anything that maps texts to float32 rows of length 1 (shape (len(texts), dim))."""

    @property
    def name(self) -> str:
        """A short label for tables and figures."""
        ...

    @property
    def dim(self) -> int:
        """The length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> Vector:
        """One unit-length row per text, in the order given."""
        ...


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("pass a list of strings, not a single string")
    return list(texts)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (numpy) behind the `Embedder` protocol, loaded on first use.

    The weights load on the first `embed`, so building a retriever that is never queried
    costs nothing. subtle: MiniLM reads at most `max_tokens` (256) WordPiece
    tokens and silently drops the rest, so a chunk longer than that is embedded by its first
    256 tokens only: one more reason to chunk.

    Example:
        embedder = MiniLMEmbedder()
        a, b = embedder.embed(["reset my password", "I forgot my login"])
        float(a @ b)  # cosine similarity, high for a paraphrase
    """

    def __init__(self, model: MiniLM | None = None, *, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self._model = model
        self._config = model.config if model is not None else None
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        return "all-MiniLM-L6-v2"

    @property
    def config(self) -> MiniLMConfig:
        """The network's shape, read from the config files without loading the weights."""
        if self._config is None:
            self._config = MiniLMConfig.from_dir(model_dir())
        return self._config

    @property
    def dim(self) -> int:
        return self.config.d_model

    @property
    def max_tokens(self) -> int:
        """Tokens MiniLM reads per text, [CLS] and [SEP] included; the rest is cut off."""
        return self.config.max_seq_length

    @property
    def model(self) -> MiniLM:
        """The encoder, loaded the first time it is needed."""
        if self._model is None:
            self._model = MiniLM.load()
        return self._model

    def embed(self, texts: Sequence[str]) -> Vector:
        return self.model.encode(_check_texts(texts), batch_size=self.batch_size)


_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Signed feature hashing of lowercase words (and word pairs), L2-normalised.

    Each feature (a word, or two adjacent words joined by a space) is hashed with BLAKE2b;
    the hash picks a bucket (hash mod dim) and a sign (one more bit of the hash), and the
    bucket gets +1 or -1. The signs make collisions cancel on average instead of piling up,
    so a dot product of two such vectors estimates the dot product of their word counts.

    Why BLAKE2b and not Python's `hash()`: `hash()` of a string is salted per process
    (PYTHONHASHSEED), so vectors stored by one process would not match queries embedded by
    the next. A cryptographic hash gives the same bucket on every machine, forever.

    A text with no words (empty, or only punctuation) embeds to the zero vector: it has no
    features, so it is similar to nothing. The stores refuse zero vectors (cosine is
    undefined for them), so drop such texts before indexing.

    Example: HashingEmbedder(dim=8).embed(["a cat", "a cat"]) gives two identical unit rows.
    """

    def __init__(self, dim: int = 256, *, bigrams: bool = True) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2:
            raise ValueError(f"dim must be an integer >= 2, got {dim!r}")
        self._dim = dim
        self.bigrams = bigrams

    @property
    def name(self) -> str:
        return f"hashing-{self._dim}" + ("+bigrams" if self.bigrams else "")

    @property
    def dim(self) -> int:
        return self._dim

    def features(self, text: str) -> list[str]:
        """The words of a text, lowercased, then (if enabled) each pair of adjacent words.

        Example: features("New York pizza") == ["new", "york", "pizza", "new york", "york pizza"]
        """
        words = _WORD.findall(text.lower())
        pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)]
        return words + pairs if self.bigrams else words

    def bucket(self, feature: str) -> tuple[int, float]:
        """The feature's bucket and sign, from a 64-bit BLAKE2b hash of its UTF-8 bytes."""
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        h = int.from_bytes(digest, "little")
        sign = 1.0 if h >> 63 == 0 else -1.0  # the top bit; the bucket uses the low bits
        return h % self._dim, sign

    def embed(self, texts: Sequence[str]) -> Vector:
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self.features(text):
                index, sign = self.bucket(feature)
                out[row, index] += sign
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        # A row whose features all cancelled (or that had none) stays all zeros.
        unit: Vector = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
        return unit
