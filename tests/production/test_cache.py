"""Caches: exact keys cover every field that shapes an answer; CachedLLM serves hits
without calling the model; SemanticCache serves near prompts; false_hit_rate measures the
price of that on the labelled pairs, with the real MiniLM embedder."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from llmprep.core.llm import collect
from llmprep.core.messages import GenerationSettings, Message, ToolSpec
from llmprep.core.scripted import ScriptedLLM
from llmprep.production.cache import (
    CachedLLM,
    CachePair,
    SemanticCache,
    false_hit_rate,
    load_cache_pairs,
    pair_similarities,
    rates_by_kind,
    request_key,
    threshold_results,
)
from llmprep.rag.cache import CachedEmbedder, LRUCache
from llmprep.rag.embedders import HashingEmbedder, MiniLMEmbedder

HI = [Message.user("hi")]
GREEDY = GenerationSettings(temperature=0.0)


def test_request_keys_change_with_everything_that_shapes_the_answer() -> None:
    base = request_key(HI, GREEDY, (), "m")
    tool = ToolSpec("search", "Search.", {"type": "object", "properties": {"q": {}}})
    variants = [
        request_key([Message.user("hi!")], GREEDY, (), "m"),
        request_key([Message.system("be brief"), *HI], GREEDY, (), "m"),
        request_key(HI, GenerationSettings(temperature=0.0, max_tokens=50), (), "m"),
        request_key(HI, GenerationSettings(temperature=0.0, stop=("\n",)), (), "m"),
        request_key(HI, GenerationSettings(temperature=0.5), (), "m"),
        request_key(HI, GREEDY, (tool,), "m"),
        request_key(HI, GREEDY, (), "other-model"),
    ]
    assert len({base, *variants}) == len(variants) + 1
    assert request_key(tuple(HI), GREEDY, [], "m") == base
    assert len(base) == 64


def test_request_keys_do_not_depend_on_dict_order() -> None:
    one = ToolSpec("t", "d", {"type": "object", "properties": {"a": {}, "b": {}}})
    two = ToolSpec("t", "d", {"properties": {"b": {}, "a": {}}, "type": "object"})
    assert request_key(HI, GREEDY, (one,)) == request_key(HI, GREEDY, (two,))


def test_cached_llm_serves_repeats_without_calling_the_model() -> None:
    llm = ScriptedLLM(lambda m: f"answer to {m[-1].content}")
    cached = CachedLLM(llm, LRUCache(100), model="scripted")

    async def main() -> list[str]:
        texts = [(await cached.complete(HI, settings=GREEDY)).text for _ in range(3)]
        texts.append((await cached.complete([Message.user("other")], settings=GREEDY)).text)
        return texts

    assert asyncio.run(main()) == ["answer to hi"] * 3 + ["answer to other"]
    assert len(llm.calls) == 2
    assert (cached.cache.hits, cached.cache.misses) == (2, 2)


def test_sampled_requests_bypass_the_cache() -> None:
    llm = ScriptedLLM(lambda m: "sampled")
    cached = CachedLLM(llm, LRUCache(100))
    for settings in (GenerationSettings(temperature=0.8), GenerationSettings()):
        asyncio.run(cached.complete(HI, settings=settings))
        asyncio.run(cached.complete(HI, settings=settings))
    assert len(llm.calls) == 4
    assert cached.bypassed == 4
    assert len(cached.cache) == 0


def test_an_expired_answer_is_fetched_again() -> None:
    now = [0.0]
    llm = ScriptedLLM(["v1", "v2"])
    cached = CachedLLM(llm, LRUCache(10, ttl=60, now=lambda: now[0]))
    assert asyncio.run(cached.complete(HI, settings=GREEDY)).text == "v1"
    now[0] = 59.0
    assert asyncio.run(cached.complete(HI, settings=GREEDY)).text == "v1"
    now[0] = 61.0
    assert asyncio.run(cached.complete(HI, settings=GREEDY)).text == "v2"
    assert cached.cache.expired == 1


def test_streams_are_stored_when_complete_and_replayed_on_a_hit() -> None:
    llm = ScriptedLLM(["a streamed answer", "unused"], chunk_size=4)
    cached = CachedLLM(llm, LRUCache(10))

    async def main() -> tuple[str, str, str]:
        first = await collect(cached.stream(HI, settings=GREEDY))
        again = await collect(cached.stream(HI, settings=GREEDY))
        completed = await cached.complete(HI, settings=GREEDY)
        assert again == first == completed
        return first.text, again.text, completed.text

    assert asyncio.run(main()) == ("a streamed answer",) * 3
    assert len(llm.calls) == 1


def test_an_abandoned_stream_is_not_cached() -> None:
    llm = ScriptedLLM(["first answer", "second answer"], chunk_size=3)
    cached = CachedLLM(llm, LRUCache(10))

    async def main() -> str:
        stream = cached.stream(HI, settings=GREEDY)
        await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]
        return (await cached.complete(HI, settings=GREEDY)).text

    assert asyncio.run(main()) == "second answer"
    assert len(llm.calls) == 2


def test_semantic_cache_serves_near_prompts_above_its_threshold() -> None:
    cache = SemanticCache(HashingEmbedder(dim=512), threshold=0.6)
    assert cache.lookup("anything") is None  # empty cache
    cache.store("how do I reset my password", "Use the reset link.")
    hit = cache.lookup("how do I reset my password please")
    assert hit is not None
    assert hit[0] == "Use the reset link."
    assert 0.6 <= hit[1] < 1.0
    assert cache.lookup("what is the capital of France") is None
    assert (cache.hits, cache.misses) == (1, 2)


class TableEmbedder:
    """Fixed unit vectors per prompt, so similarities are exact (0.5 is exactly 0.5)."""

    name = "table"
    dim = 2
    rows: ClassVar[dict[str, tuple[float, float]]] = {
        "cached": (1.0, 0.0),
        "at threshold": (0.5, 0.75**0.5),
        "below": (0.4999, (1 - 0.4999**2) ** 0.5),
    }

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([self.rows[t] for t in texts], dtype=np.float32)


def test_a_similarity_exactly_at_the_threshold_is_a_hit() -> None:
    cache = SemanticCache(TableEmbedder(), threshold=0.5)
    cache.store("cached", "answer")
    assert cache.lookup("at threshold") == ("answer", 0.5)  # "at least", not "above"
    assert cache.lookup("below") is None


def test_semantic_cache_entries_expire_and_are_evicted() -> None:
    now = [0.0]
    cache = SemanticCache(HashingEmbedder(), threshold=0.99, capacity=2, ttl=10, now=lambda: now[0])
    cache.store("alpha", "A")
    cache.store("beta", "B")
    cache.store("gamma", "C")  # evicts "alpha", the least recently used
    assert cache.lookup("alpha") is None
    hit = cache.lookup("gamma")
    assert hit is not None
    assert hit[0] == "C"
    assert hit[1] == pytest.approx(1.0)
    now[0] = 11.0
    assert cache.lookup("gamma") is None


@pytest.mark.parametrize("threshold", [1.5, -2, "0.9"])
def test_threshold_must_be_a_cosine(threshold: object) -> None:
    with pytest.raises(ValueError, match="threshold"):
        SemanticCache(HashingEmbedder(), threshold=threshold)  # type: ignore[arg-type]


# -- the labelled pairs ------------------------------------------------------------------

PAIRS = load_cache_pairs()
KINDS = {"paraphrase", "entity", "number", "negation", "locale", "time", "intent"}


def test_the_labelled_pairs_are_well_formed() -> None:
    assert len(PAIRS) >= 150
    assert len({(p.a, p.b) for p in PAIRS}) == len(PAIRS)
    assert all(p.a != p.b and p.why for p in PAIRS)
    kinds = Counter(p.kind for p in PAIRS)
    assert set(kinds) == KINDS
    assert all(p.same == (p.kind == "paraphrase") for p in PAIRS)
    assert min(kinds.values()) >= 10


def test_bad_pair_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "pairs.yml"
    path.write_text("pairs:\n  - {a: x, b: y, same: maybe}\n")
    with pytest.raises(ValueError, match="maybe"):
        load_cache_pairs(path)
    path.write_text("- {a: x}\n")
    with pytest.raises(ValueError, match="pair 0"):
        load_cache_pairs(path)


@pytest.fixture(scope="module")
def minilm() -> CachedEmbedder:
    """MiniLM behind a cache, so each prompt of the labelled set is embedded once per module."""
    return CachedEmbedder(MiniLMEmbedder(), capacity=10_000)


@pytest.fixture(scope="module")
def similarities(minilm: CachedEmbedder) -> list[float]:
    return pair_similarities(PAIRS, minilm)


def test_rates_fall_as_the_threshold_rises(similarities: list[float]) -> None:
    thresholds = [-1.0, 0.5, 0.8, 0.85, 0.9, 0.95, 1.01]
    results = threshold_results(PAIRS, similarities, thresholds)
    assert (results[0].hit_rate, results[0].false_hit_rate) == (1.0, 1.0)
    assert (results[-1].hit_rate, results[-1].false_hit_rate) == (0.0, 0.0)
    assert results[-1].precision is None
    for lower, higher in itertools.pairwise(results):
        assert higher.hit_rate <= lower.hit_rate
        assert higher.false_hit_rate <= lower.false_hit_rate
    assert {r.n_same + r.n_different for r in results} == {len(PAIRS)}


def test_minilm_serves_wrong_answers_at_every_usual_threshold(similarities: list[float]) -> None:
    # The measured lesson: near-misses (EU vs US, enable vs disable) sit as close to each
    # other in MiniLM space as paraphrases do, so no threshold in 0.80-0.95 is safe.
    for result in threshold_results(PAIRS, similarities, [0.8, 0.85, 0.9, 0.95]):
        assert result.false_hit_rate > 0
    index = {(p.a, p.b): s for p, s in zip(PAIRS, similarities, strict=True)}
    assert index[("how do i reset my password", "How do I reset my password?")] > 0.95


def test_false_hit_rate_and_a_semantic_cache_agree(minilm: CachedEmbedder) -> None:
    pairs = [p for p in PAIRS if p.kind == "paraphrase"][:6]
    pairs += [p for p in PAIRS if p.kind == "locale"][:6]
    expected = threshold_results(pairs, pair_similarities(pairs, minilm), [0.85])[0]
    assert false_hit_rate(pairs, minilm, [0.85]) == [expected]
    hits = {True: 0, False: 0}
    for pair in pairs:
        cache = SemanticCache(minilm, threshold=0.85)
        cache.store(pair.a, "cached")
        hits[pair.same] += cache.lookup(pair.b) is not None
    n_same = sum(p.same for p in pairs)
    assert hits[True] / n_same == expected.hit_rate
    assert hits[False] / (len(pairs) - n_same) == expected.false_hit_rate


def test_threshold_results_need_both_labels() -> None:
    with pytest.raises(ValueError, match="both"):
        threshold_results([CachePair("a", "b", True)], [0.9], [0.5])
    with pytest.raises(ValueError, match="2 pairs"):
        threshold_results([CachePair("a", "b", True), CachePair("a", "c", False)], [0.9], [0.5])


def test_rates_by_kind_split_the_same_decisions(similarities: list[float]) -> None:
    by_kind = rates_by_kind(PAIRS, similarities, 0.9)
    assert set(by_kind) == KINDS
    overall = threshold_results(PAIRS, similarities, [0.9])[0]
    assert by_kind["paraphrase"] == overall.hit_rate
    counts = Counter(p.kind for p in PAIRS)
    wrong = sum(by_kind[k] * counts[k] for k in KINDS - {"paraphrase"})
    assert wrong / overall.n_different == pytest.approx(overall.false_hit_rate)
    with pytest.raises(ValueError, match="similarities"):
        rates_by_kind(PAIRS, similarities[:-1], 0.9)
