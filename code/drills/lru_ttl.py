"""Drill: an LRU cache with a time to live, the exact-match cache in front of an LLM.

"Cache model answers by request key. Memory is bounded: keep at most `capacity` entries
and evict the least recently used. Answers go stale: an entry older than `ttl` seconds
must not be served. Every operation in O(1)."

Rules the grader checks (time is injected: `now()` gives seconds; never call `time`):
- `get` returns the value and marks the entry as just used, or None if the key is
  absent or expired. An expired entry is dropped when `get` finds it.
- `put` stores (or replaces) the value, marks it as just used, and starts its ttl; if
  that makes more than `capacity` entries, evict the least recently used.
- An entry stored at time t is live while `now() < t + ttl`; `ttl=None`: forever.
  Reading an entry does not extend its life.
- Counters: `hits` (live values returned), `misses` (absent or expired), `expired`
  (misses because the entry had expired).
- `key in cache` is a peek: whether a live entry exists, without marking it used or
  counting anything. `keys()`: live keys, least recently used first.
- `ValueError` whose message names the argument and its bad value: a capacity that is
  not an int >= 1, a ttl that is not positive.

Leaves out: thread safety, sizes in bytes, sweeping expired entries in the background.

Grade it: make drill NAME=lru-ttl
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable


class LRUCache[K: Hashable, V]:
    """At most `capacity` entries; reading or writing an entry makes it the most recent.

    Example:
        cache = LRUCache[str, int](2)
        cache.put("a", 1); cache.put("b", 2); cache.get("a"); cache.put("c", 3)
        cache.keys() == ["a", "c"]   # "b" was the least recently used
    """

    hits: int
    misses: int
    expired: int

    def __init__(
        self,
        capacity: int,
        *,
        ttl: float | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        """An empty cache; counters start at 0."""
        raise NotImplementedError("drill lru-ttl: implement LRUCache.__init__")

    def get(self, key: K) -> V | None:
        """The live value for `key`, marked as just used; None (a miss) otherwise."""
        raise NotImplementedError("drill lru-ttl: implement LRUCache.get")

    def put(self, key: K, value: V) -> None:
        """Store `value` (its ttl starts now); evict the least recently used if over."""
        raise NotImplementedError("drill lru-ttl: implement LRUCache.put")

    def __contains__(self, key: object) -> bool:
        """Whether a live entry exists (a peek: not a use, not counted)."""
        raise NotImplementedError("drill lru-ttl: implement LRUCache.__contains__")

    def __len__(self) -> int:
        """The number of entries held (at most `capacity`)."""
        raise NotImplementedError("drill lru-ttl: implement LRUCache.__len__")

    def keys(self) -> list[K]:
        """Keys of live entries, from least to most recently used."""
        raise NotImplementedError("drill lru-ttl: implement LRUCache.keys")
