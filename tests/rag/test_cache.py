"""The LRU cache never holds more than its capacity and evicts the least recently used entry;
the cached embedder returns exactly what the embedder it wraps returns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.rag.cache import CachedEmbedder, LRUCache
from llmprep.rag.documents import Vector
from llmprep.rag.embedders import HashingEmbedder


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = LRUCache[str, int](2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.get("b") is None
    assert (cache.hits, cache.misses) == (1, 1)


@given(
    capacity=st.integers(1, 8),
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 12)), max_size=60),
)
def test_the_cache_never_exceeds_capacity_and_agrees_with_a_model(
    capacity: int, ops: list[tuple[bool, int]]
) -> None:
    cache = LRUCache[int, int](capacity)
    model: list[int] = []  # keys, least recent first
    for is_put, key in ops:
        if is_put:
            cache.put(key, key * 10)
            if key in model:
                model.remove(key)
            model.append(key)
            model = model[-capacity:]
        else:
            value = cache.get(key)
            assert value == (key * 10 if key in model else None)
            if key in model:
                model.remove(key)
                model.append(key)
        assert len(cache) <= capacity
        assert cache.keys() == model


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        LRUCache[str, int](0)


class CountingEmbedder:
    """A hashing embedder that records every batch it is asked to embed."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder(dim=32)
        self.batches: list[list[str]] = []
        self.name, self.dim = self.inner.name, self.inner.dim

    def embed(self, texts: Sequence[str]) -> Vector:
        self.batches.append(list(texts))
        return self.inner.embed(texts)


def test_cached_embedder_embeds_each_text_once_in_one_batch() -> None:
    counting = CountingEmbedder()
    cached = CachedEmbedder(counting, capacity=10)
    texts = ["a cat", "a dog", "a cat"]
    first = cached.embed(texts)
    np.testing.assert_array_equal(first, counting.inner.embed(texts))
    assert counting.batches == [["a cat", "a dog"]]  # the repeat is embedded once
    np.testing.assert_array_equal(cached.embed(["a dog", "a cat"]), first[[1, 0]])
    assert len(counting.batches) == 1  # all hits
    assert (cached.name, cached.dim) == (counting.name, 32)


def test_primed_vectors_are_served_without_embedding() -> None:
    counting = CountingEmbedder()
    cached = CachedEmbedder(counting)
    cached.prime(["x"], np.ones((1, 32), np.float32))
    np.testing.assert_array_equal(cached.embed(["x"]), np.ones((1, 32)))
    assert counting.batches == []
    with pytest.raises(ValueError, match="vectors"):
        cached.prime(["x", "y"], np.ones((1, 32), np.float32))
    with pytest.raises(TypeError):
        cached.embed("x")


class FakeClock:
    """Seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_an_entry_older_than_its_ttl_is_a_miss_and_is_dropped() -> None:
    clock = FakeClock()
    cache = LRUCache[str, int](4, ttl=10.0, now=clock)
    cache.put("a", 1)
    clock.t = 9.99
    assert cache.get("a") == 1
    assert "a" in cache
    clock.t = 10.0
    assert "a" not in cache  # a peek sees it expired without counting anything
    assert cache.keys() == []
    assert cache.get("a") is None
    assert (cache.hits, cache.misses, cache.expired, len(cache)) == (1, 1, 1, 0)


def test_storing_again_restarts_the_ttl_and_no_ttl_means_forever() -> None:
    clock = FakeClock()
    cache = LRUCache[str, int](4, ttl=5.0, now=clock)
    cache.put("a", 1)
    clock.t = 4.0
    cache.put("a", 2)
    clock.t = 8.0
    assert cache.get("a") == 2
    forever = LRUCache[str, int](4, now=clock)
    forever.put("a", 1)
    clock.t = 1e12
    assert forever.get("a") == 1
    assert forever.expired == 0


@given(
    ttl=st.floats(0.5, 20),
    ops=st.lists(st.tuples(st.booleans(), st.integers(0, 5), st.floats(0, 5)), max_size=50),
)
def test_ttl_cache_agrees_with_a_model_of_store_times(
    ttl: float, ops: list[tuple[bool, int, float]]
) -> None:
    clock = FakeClock()
    cache = LRUCache[int, int](3, ttl=ttl, now=clock)
    stored: dict[int, float] = {}  # key -> time stored, least recent first
    for is_put, key, dt in ops:
        clock.t += dt
        if is_put:
            cache.put(key, key)
            stored.pop(key, None)
            stored[key] = clock.t
            while len(stored) > 3:
                del stored[next(iter(stored))]
        else:
            live = key in stored and clock.t < stored[key] + ttl
            assert cache.get(key) == (key if live else None)
            if key in stored:
                at = stored.pop(key)
                if live:
                    stored[key] = at  # a hit makes it the most recent
        assert len(cache) <= 3


@pytest.mark.parametrize("ttl", [0, -1.0, True])
def test_ttl_must_be_positive(ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl"):
        LRUCache[str, int](2, ttl=ttl)
