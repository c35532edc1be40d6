"""An LRU cache, and an embedder that remembers what it has embedded.

Embedding is the slow step of a retrieval experiment: the numpy MiniLM reads about a thousand
tokens a second on one core, so embedding this book's corpus once takes about a minute. An
evaluation embeds the same texts again and again (every chunking shares sections, MMR embeds
its candidates, a sweep repeats a size), so a cache keyed by the text pays for itself.

    LRUCache[K, V]    a dict with a capacity: the least recently used entry goes first,
                      and (optionally) a time to live: an entry older than `ttl` is a miss
    CachedEmbedder    any Embedder behind an LRUCache, misses embedded in one batch

`collections.OrderedDict` does the bookkeeping: `move_to_end` marks an entry as used, and
`popitem(last=False)` evicts the oldest, both in constant time.

A time to live matters once the cached thing can change: an embedding of a text never goes
stale, but a cached LLM answer about "today's opening hours" does. With `ttl` set, each
entry remembers when it was stored; reading it after `ttl` seconds counts as a miss (and an
`expired`), and drops it. The clock is a parameter (`now`), so tests move time by hand.

Leaves out: persistence (a cache on disk must be keyed by the model version too), thread
safety, size limits in bytes instead of entries, and sweeping expired entries before they
are read or evicted (they hold memory until then; `len` counts them).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

import numpy as np

from llmprep.rag.documents import Vector
from llmprep.rag.embedders import Embedder


class LRUCache[K: Hashable, V]:
    """At most `capacity` entries; reading or writing an entry makes it the most recent.

    With `ttl` (seconds), an entry stored more than `ttl` ago is expired: `get` counts it
    as a miss and an `expired`, and drops it. `now` is the clock (default `time.monotonic`).

    Example:
        cache = LRUCache[str, int](2)
        cache.put("a", 1); cache.put("b", 2); cache.get("a"); cache.put("c", 3)
        list(cache.keys()) == ["a", "c"]   # "b" was the least recently used
    """

    def __init__(
        self,
        capacity: int,
        *,
        ttl: float | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        if ttl is not None and (isinstance(ttl, bool) or not ttl > 0):
            raise ValueError(f"ttl must be a positive number of seconds or None, got {ttl!r}")
        self.capacity = capacity
        self.ttl = ttl
        self.now = now
        self._data: OrderedDict[K, tuple[V, float]] = OrderedDict()  # value, expiry time
        self.hits = 0
        self.misses = 0
        self.expired = 0

    def _is_live(self, expires_at: float) -> bool:
        return expires_at == math.inf or self.now() < expires_at

    def get(self, key: K) -> V | None:
        """The value, marked as just used; None (and a counted miss) if absent or expired."""
        entry = self._data.get(key)
        if entry is not None and not self._is_live(entry[1]):
            del self._data[key]
            self.expired += 1
            entry = None
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._data.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V) -> None:
        """Store a value (its `ttl` starts now); evict the least recently used if over capacity."""
        expires_at = math.inf if self.ttl is None else self.now() + self.ttl
        self._data[key] = (value, expires_at)
        self._data.move_to_end(key)
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)

    def peek(self, key: K) -> V | None:
        """The value if present and live, without marking it used or counting anything."""
        entry = self._data.get(key)
        return entry[0] if entry is not None and self._is_live(entry[1]) else None

    def __contains__(self, key: object) -> bool:
        entry = self._data.get(key)  # type: ignore[arg-type]
        return entry is not None and self._is_live(entry[1])  # a peek: not a use

    def __len__(self) -> int:
        return len(self._data)

    def keys(self) -> list[K]:
        """Keys of live entries, from least to most recently used."""
        return [key for key, (_, expires_at) in self._data.items() if self._is_live(expires_at)]


class CachedEmbedder:
    """An `Embedder` that embeds each distinct text once (while it stays in the cache).

    `embed` looks every text up, embeds the misses together in one call to the wrapped
    embedder (duplicates within the call embedded once), and returns rows in the order asked.
    `prime` stores vectors computed elsewhere, for instance by a pass over the corpus that also
    kept per-token vectors for a late-interaction reranker.

    Example:
        embedder = CachedEmbedder(MiniLMEmbedder(), capacity=10_000)
        embedder.embed(chunk_texts)   # slow, once
        embedder.embed(chunk_texts)   # instant: all hits
    """

    def __init__(self, inner: Embedder, capacity: int = 100_000) -> None:
        self.inner = inner
        self.cache: LRUCache[str, Vector] = LRUCache(capacity)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def prime(self, texts: Sequence[str], vectors: Vector) -> None:
        """Store precomputed vectors, one row per text."""
        if len(texts) != len(vectors):
            raise ValueError(f"got {len(vectors)} vectors for {len(texts)} texts")
        for text, vector in zip(texts, vectors, strict=True):
            self.cache.put(text, np.asarray(vector, dtype=np.float32))

    def embed(self, texts: Sequence[str]) -> Vector:
        if isinstance(texts, str):
            raise TypeError("pass a list of strings, not a single string")
        found = {t: v for t in dict.fromkeys(texts) if (v := self.cache.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            for text, vector in zip(missing, self.inner.embed(missing), strict=True):
                self.cache.put(text, vector)
                found[text] = vector
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = found[text]
        return out
