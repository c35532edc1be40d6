"""Grader for drill lru-ttl: examples, then hypothesis. Without a ttl the cache must behave
exactly like a reference LRU; with one, the checks hold for any sound eviction policy:
nothing stale is ever served, and a recent, fresh entry is never lost."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.drills.target import load

m = load("lru-ttl")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = m.LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.get("b") is None
    assert len(cache) == 2


def test_put_replaces_and_refreshes_without_evicting() -> None:
    cache = m.LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    assert cache.keys() == ["b", "a"]
    assert len(cache) == 2
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.get("a") == 10


def test_counters() -> None:
    clock = Clock()
    cache = m.LRUCache(4, ttl=10, now=clock)
    cache.put("a", 1)
    cache.get("a")
    cache.get("zzz")
    clock.t = 10.0
    cache.get("a")  # expired now
    assert (cache.hits, cache.misses, cache.expired) == (1, 2, 1)


def test_an_entry_lives_ttl_seconds_from_its_put_and_reads_do_not_extend_it() -> None:
    clock = Clock()
    cache = m.LRUCache(4, ttl=10, now=clock)
    cache.put("a", 1)
    clock.t = 9.0
    assert cache.get("a") == 1
    clock.t = 9.999
    assert "a" in cache
    clock.t = 10.0
    assert "a" not in cache
    assert cache.get("a") is None
    assert cache.keys() == []
    cache.put("a", 2)  # a new put starts a new life
    clock.t = 19.5
    assert cache.get("a") == 2


def test_an_expired_entry_is_dropped_when_read() -> None:
    clock = Clock()
    cache = m.LRUCache(3, ttl=5, now=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    clock.t = 6.0
    cache.put("c", 3)
    assert cache.get("a") is None
    assert len(cache) <= 2, "the expired entry read by get is gone"
    assert cache.keys() == ["c"]


def test_without_ttl_entries_never_expire() -> None:
    clock = Clock()
    cache = m.LRUCache(2, now=clock)
    cache.put("a", 1)
    clock.t = 1e12
    assert cache.get("a") == 1


def test_contains_is_a_peek() -> None:
    cache = m.LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert "a" in cache
    assert "zzz" not in cache
    assert (cache.hits, cache.misses) == (0, 0)
    cache.put("c", 3)  # "a" was only peeked at, so it is still the least recent
    assert cache.keys() == ["b", "c"]


@pytest.mark.parametrize("capacity", [0, -1, 1.5, True], ids=repr)
def test_bad_capacity_is_a_value_error(capacity: object) -> None:
    with pytest.raises(ValueError, match="capacity"):
        m.LRUCache(capacity)


@pytest.mark.parametrize("ttl", [0, -5.0], ids=repr)
def test_bad_ttl_is_a_value_error(ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl"):
        m.LRUCache(3, ttl=ttl)


keys = st.sampled_from("abcdefg")
ops = st.lists(
    st.one_of(
        st.tuples(st.just("put"), keys, st.integers(0, 99)),
        st.tuples(st.just("get"), keys, st.just(0)),
        st.tuples(st.just("wait"), st.just(""), st.integers(0, 6)),
    ),
    max_size=80,
)


@given(capacity=st.integers(1, 5), script=ops)
def test_property_without_ttl_it_is_exactly_an_lru(
    capacity: int, script: list[tuple[str, str, int]]
) -> None:
    cache = m.LRUCache(capacity)
    reference: OrderedDict[str, int] = OrderedDict()
    for op, key, value in script:
        if op == "put":
            cache.put(key, value)
            reference[key] = value
            reference.move_to_end(key)
            if len(reference) > capacity:
                reference.popitem(last=False)
        elif op == "get":
            expected = reference.get(key)
            if expected is not None:
                reference.move_to_end(key)
            assert cache.get(key) == expected
        assert len(cache) == len(reference) <= capacity
        assert cache.keys() == list(reference)


@given(capacity=st.integers(1, 5), ttl=st.integers(1, 10), script=ops)
def test_property_with_ttl_nothing_stale_and_nothing_fresh_lost(
    capacity: int, ttl: int, script: list[tuple[str, str, int]]
) -> None:
    clock = Clock()
    cache = m.LRUCache(capacity, ttl=ttl, now=clock)
    stored: dict[str, tuple[int, float]] = {}  # key -> (latest value, time of its put)
    used: list[str] = []  # keys by last use (put or hit), most recent last
    for op, key, value in script:
        if op == "wait":
            clock.t += value
        elif op == "put":
            cache.put(key, value)
            stored[key] = (value, clock.t)
            used = [k for k in used if k != key] + [key]
        else:
            got = cache.get(key)
            recent = key in used and len(used) - used.index(key) <= capacity
            if key in stored:
                latest, at = stored[key]
                fresh = clock.t < at + ttl
                if not fresh:
                    assert got is None, "a stale entry was served"
                elif recent:
                    assert got == latest, "a fresh entry among the last `capacity` used was lost"
                assert got in (None, latest)
            else:
                assert got is None
            if got is not None:
                used = [k for k in used if k != key] + [key]
        assert len(cache) <= capacity
        assert set(cache.keys()) <= {k for k, (_, at) in stored.items() if clock.t < at + ttl}
