"""Caching LLM answers: exact-match caches are safe, semantic caches trade safety for hits.

The cheapest, fastest LLM call is the one you do not make. Two caches sit in front of a
model:

    CachedLLM       exact match: the key is a hash of everything that shapes the answer
                    (messages, settings, tools, model). A hit is the answer the model would
                    have given, as long as decoding is deterministic (temperature 0).
    SemanticCache   nearest earlier prompt: embed the prompt, and if a cached prompt is
                    within `threshold` cosine similarity, return its answer.

An exact cache is only ever wrong when the world changed (hence a TTL). A semantic cache
is wrong whenever two prompts are close in embedding space but need different answers:
"refund policy for EU orders" and "... US orders" differ by one token, and a sentence
embedding trained for topical similarity puts them close together. `false_hit_rate`
measures this on a labelled set of pairs (chapters/_data/production/cache_pairs.yml):
paraphrases that should hit, near-misses (another entity, number, negation, locale or
time) that must not. Measure on your own traffic before you pick a threshold.

Where it goes in a stack: outside the cost meter (`CachedLLM(MeteredLLM(provider))`), so
a hit records no spend, and keyed per tenant whenever answers may contain tenant data.

Leaves out: provider-side prompt caching (a discount on a repeated prefix; see
`cost.prompt_cache_cost`), caches shared across processes (Redis), an approximate nearest
neighbour index for large semantic caches (this one scans linearly), and invalidation
when the documents behind an answer change.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from llmprep.core.llm import LLM, StreamEnd, StreamEvent, TextDelta, ToolCallEvent, collect
from llmprep.core.messages import (
    DEFAULT_SETTINGS,
    Completion,
    GenerationSettings,
    JSONSchema,
    Message,
    ToolSpec,
)
from llmprep.production.streaming import resume
from llmprep.rag.cache import LRUCache
from llmprep.rag.documents import Vector
from llmprep.rag.embedders import Embedder

DATA = Path(__file__).resolve().parents[3] / "chapters" / "_data" / "production"
CACHE_PAIRS = DATA / "cache_pairs.yml"

# -----------------------------------------------------------------------------
# exact-match cache


def _message_json(message: Message) -> dict[str, Any]:
    return {
        "role": message.role,
        "content": message.content,
        "tool_calls": [[c.id, c.name, c.arguments] for c in message.tool_calls],
        "tool_call_id": message.tool_call_id,
        "is_error": message.is_error,
    }


def _settings_json(settings: GenerationSettings) -> dict[str, Any]:
    fmt = settings.response_format
    return {
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "max_tokens": settings.max_tokens,
        "stop": list(settings.stop),
        "response_format": [fmt.name, fmt.schema] if isinstance(fmt, JSONSchema) else fmt,
    }


def request_key(
    messages: Sequence[Message],
    settings: GenerationSettings = DEFAULT_SETTINGS,
    tools: Sequence[ToolSpec] = (),
    model: str = "",
) -> str:
    """SHA-256 of the request's canonical JSON: equal requests, equal keys.

    Why every field: anything that can change the answer must be in the key. Leave out
    `max_tokens` and a request for 50 tokens gets the cached 500-token answer; leave out
    the tools and a request without tools gets a tool call back. Canonical means sorted
    keys and fixed separators, so dict order never changes the hash.

    Example: request_key([Message.user("hi")]) == request_key((Message.user("hi"),))
    """
    payload = {
        "model": model,
        "messages": [_message_json(m) for m in messages],
        "settings": _settings_json(settings),
        "tools": [[t.name, t.description, t.parameters] for t in tools],
    }
    text = json.dumps(
        payload,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_deterministic(settings: GenerationSettings) -> bool:
    """Cache only greedy decoding (temperature 0): a sampled answer is one draw of many, and
    replaying it forever would remove the variety the caller asked for."""
    return settings.temperature == 0


def replay(completion: Completion) -> list[StreamEvent]:
    """A cached completion as a stream: its text in one delta, its tool calls, the end."""
    events: list[StreamEvent] = [TextDelta(completion.text)] if completion.text else []
    events.extend(ToolCallEvent(call) for call in completion.tool_calls)
    events.append(StreamEnd(completion.finish_reason, completion.usage, completion.model))
    return events


class CachedLLM:
    """An exact-match response cache in front of any `LLM`.

    Requests that `cache_if` rejects (by default, any temperature but 0) pass straight
    through and count as `bypassed`. Hits and misses are counted by the `LRUCache`. A
    stream is stored only once it has ended normally (a cancelled stream is not).

    Example:
        llm = CachedLLM(provider, LRUCache(10_000, ttl=3600), model="gpt-5-mini")
        await llm.complete(messages, settings=GenerationSettings(temperature=0))
    """

    def __init__(
        self,
        llm: LLM,
        cache: LRUCache[str, Completion],
        *,
        model: str = "",
        cache_if: Callable[[GenerationSettings], bool] = is_deterministic,
    ) -> None:
        self.llm = llm
        self.cache = cache
        self.model = model
        self.cache_if = cache_if
        self.bypassed = 0

    def _key(
        self,
        messages: Sequence[Message],
        settings: GenerationSettings,
        tools: Sequence[ToolSpec],
    ) -> str | None:
        if not self.cache_if(settings):
            self.bypassed += 1
            return None
        return request_key(messages, settings, tools, self.model)

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """The cached answer if there is one; otherwise ask the model and remember."""
        key = self._key(messages, settings, tools)
        if key is not None and (cached := self.cache.get(key)) is not None:
            return cached
        completion = await self.llm.complete(messages, settings=settings, tools=tools)
        if key is not None:
            self.cache.put(key, completion)
        return completion

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        settings: GenerationSettings = DEFAULT_SETTINGS,
        tools: Sequence[ToolSpec] = (),
    ) -> AsyncIterator[StreamEvent]:
        """A hit replays the cached answer; a miss relays the model's stream and stores it."""
        key = self._key(messages, settings, tools)
        if key is not None and (cached := self.cache.get(key)) is not None:
            for event in replay(cached):
                yield event
            return
        seen: list[StreamEvent] = []
        events = self.llm.stream(messages, settings=settings, tools=tools)
        async for event in resume(events):
            seen.append(event)
            yield event
        if key is not None:
            self.cache.put(key, await collect(_iterate(seen)))


async def _iterate(events: Iterable[StreamEvent]) -> AsyncIterator[StreamEvent]:
    for event in events:
        yield event


# -----------------------------------------------------------------------------
# semantic cache


class SemanticCache:
    """Answers for prompts close to an earlier one: cosine similarity >= `threshold`.

    Embeddings are unit length (the `Embedder` contract), so cosine is a dot product.
    `lookup` scans the live entries; `hits` and `misses` count lookups.

    Example:
        cache = SemanticCache(MiniLMEmbedder(), threshold=0.95)
        cache.store("How do I reset my password?", answer)
        cache.lookup("how do i reset my password")   # (answer, 0.99...)
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        threshold: float = 0.9,
        capacity: int = 1000,
        ttl: float | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise ValueError(f"threshold must be a number in [-1, 1], got {threshold!r}")
        if not -1.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be a cosine similarity in [-1, 1], got {threshold}")
        self.embedder = embedder
        self.threshold = float(threshold)
        self.entries: LRUCache[str, tuple[Vector, str]] = LRUCache(capacity, ttl=ttl, now=now)
        self.hits = 0
        self.misses = 0

    def _embed(self, prompt: str) -> Vector:
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, got {type(prompt).__name__}")
        vector: Vector = self.embedder.embed([prompt])[0]
        return vector

    def nearest(self, prompt: str) -> tuple[str, str, float] | None:
        """(cached prompt, its answer, similarity) of the closest live entry, or None."""
        keys = self.entries.keys()
        if not keys:
            return None
        peeked = ((key, self.entries.peek(key)) for key in keys)
        rows = [(key, entry) for key, entry in peeked if entry is not None]
        matrix = np.stack([vector for _, (vector, _) in rows])
        similarities = matrix @ self._embed(prompt)
        best = int(np.argmax(similarities))
        key, (_, answer) = rows[best]
        return key, answer, float(similarities[best])

    def lookup(self, prompt: str) -> tuple[str, float] | None:
        """(cached answer, similarity) if the nearest cached prompt clears the threshold."""
        found = self.nearest(prompt)
        if found is None or found[2] < self.threshold:
            self.misses += 1
            return None
        key, answer, similarity = found
        self.entries.get(key)  # mark it as just used
        self.hits += 1
        return answer, similarity

    def store(self, prompt: str, answer: str) -> None:
        """Remember `answer` for `prompt` (its TTL, if any, starts now)."""
        self.entries.put(prompt, (self._embed(prompt), answer))


# -----------------------------------------------------------------------------
# measuring false hits


@dataclass(frozen=True, slots=True)
class CachePair:
    """Two prompts and whether the answer to `a` is also right for `b`."""

    a: str
    b: str
    same: bool
    kind: str = ""
    why: str = ""


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    """What a semantic cache at `threshold` does on a labelled set of pairs.

    hit_rate: share of `same` pairs served from cache (wanted hits, recall);
    false_hit_rate: share of different pairs served from cache (wrong answers);
    precision: share of all hits that were right (None if there were no hits).
    """

    threshold: float
    hit_rate: float
    false_hit_rate: float
    precision: float | None
    n_same: int
    n_different: int


def load_cache_pairs(path: Path = CACHE_PAIRS) -> list[CachePair]:
    """The labelled pairs from YAML (a list, or a mapping with a `pairs` list)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = raw["pairs"] if isinstance(raw, dict) else raw
    pairs: list[CachePair] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not {"a", "b", "same"} <= item.keys():
            raise ValueError(f"{path.name} pair {i} needs a, b and same; got {item!r}")
        if not isinstance(item["same"], bool):
            raise ValueError(
                f"{path.name} pair {i}: same must be true or false, got {item['same']!r}"
            )
        pairs.append(
            CachePair(
                str(item["a"]),
                str(item["b"]),
                item["same"],
                item.get("kind", ""),
                item.get("why", ""),
            )
        )
    return pairs


def pair_similarities(pairs: Sequence[CachePair], embedder: Embedder) -> list[float]:
    """Cosine similarity of each pair, embedding every distinct prompt once."""
    texts = list(dict.fromkeys(t for pair in pairs for t in (pair.a, pair.b)))
    if not texts:
        return []
    vectors = embedder.embed(texts)
    row = {text: i for i, text in enumerate(texts)}
    return [float(vectors[row[p.a]] @ vectors[row[p.b]]) for p in pairs]


def threshold_results(
    pairs: Sequence[CachePair],
    similarities: Sequence[float],
    thresholds: Iterable[float],
) -> list[ThresholdResult]:
    """Hit rate, false-hit rate and precision at each threshold, from precomputed similarities."""
    if len(pairs) != len(similarities):
        raise ValueError(f"got {len(similarities)} similarities for {len(pairs)} pairs")
    same = [s for p, s in zip(pairs, similarities, strict=True) if p.same]
    different = [s for p, s in zip(pairs, similarities, strict=True) if not p.same]
    if not same or not different:
        raise ValueError("the pairs need both same and different examples")
    results = []
    for t in thresholds:
        good = sum(s >= t for s in same)
        bad = sum(s >= t for s in different)
        precision = good / (good + bad) if good + bad else None
        results.append(
            ThresholdResult(
                float(t),
                good / len(same),
                bad / len(different),
                precision,
                len(same),
                len(different),
            )
        )
    return results


def rates_by_kind(
    pairs: Sequence[CachePair], similarities: Sequence[float], threshold: float
) -> dict[str, float]:
    """Share of each kind's pairs a cache at `threshold` would serve from cache.

    For "paraphrase" that is the hit rate (higher is better); for every near-miss kind
    (entity, number, negation, locale, time, intent) it is that kind's false-hit rate,
    which shows *which* differences an embedding fails to see.
    """
    if len(pairs) != len(similarities):
        raise ValueError(f"got {len(similarities)} similarities for {len(pairs)} pairs")
    served: dict[str, list[bool]] = {}
    for pair, similarity in zip(pairs, similarities, strict=True):
        served.setdefault(pair.kind, []).append(similarity >= threshold)
    return {kind: sum(hits) / len(hits) for kind, hits in sorted(served.items())}


def false_hit_rate(
    cache_pairs: Sequence[CachePair], embedder: Embedder, thresholds: Iterable[float]
) -> list[ThresholdResult]:
    """Embed the pairs and measure a semantic cache at each threshold.

    A pair counts as a hit when its similarity is at least the threshold, which is what
    `SemanticCache.lookup` would do with `a` cached and `b` asked. Raising the threshold
    lowers both rates; the question is whether any threshold keeps wanted hits while
    false hits are near zero.

    Example: false_hit_rate(load_cache_pairs(), MiniLMEmbedder(), [0.85, 0.9, 0.95])
    """
    pairs = list(cache_pairs)
    return threshold_results(pairs, pair_similarities(pairs, embedder), thresholds)
