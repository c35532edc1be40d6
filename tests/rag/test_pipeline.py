"""The RAG pipeline: access control as a filter, abstention before generation, checked citations."""

from __future__ import annotations

import asyncio

import pytest

from llmprep.core.scripted import ScriptedLLM
from llmprep.rag.documents import Hit, Where, matches
from llmprep.rag.extractive import best_sentence, extractive_reader, parse_prompt
from llmprep.rag.pipeline import (
    ABSTAIN_TEXT,
    ACL_KEY,
    Answer,
    Caller,
    RagPipeline,
    build_messages,
    parse_citations,
)

HITS = [
    Hit("hr#0", 0.82, "Staff get 25 days of annual leave. Leave carries over.", {ACL_KEY: ("hr",)}),
    Hit("eng#4", 0.61, "The deploy freeze starts on Friday at noon.", {ACL_KEY: ("eng",)}),
    Hit("all#1", 0.55, "The office opens at eight. Visitors sign in.", {ACL_KEY: ("hr", "eng")}),
]


class ListRetriever:
    """A retriever over a fixed hit list that honours filters and records what it was asked."""

    name = "list"

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        self.asked: list[Where | None] = []

    def retrieve(self, query: str, k: int, where: Where | None = None) -> list[Hit]:
        self.asked.append(where)
        return [h for h in self.hits if matches(h.metadata, where)][:k]


def run(pipeline: RagPipeline, question: str, caller: Caller) -> Answer:
    return asyncio.run(pipeline.answer(question, caller))


def test_the_callers_groups_become_the_retrieval_filter() -> None:
    retriever = ListRetriever(HITS)
    llm = ScriptedLLM(extractive_reader)
    answer = run(
        RagPipeline(retriever, llm), "When does the deploy freeze start?", Caller("u", ("eng",))
    )
    assert retriever.asked == [{ACL_KEY: ("eng",)}]
    assert [h.id for h in answer.sources] == ["eng#4", "all#1"]  # hr#0 never reaches the prompt
    prompt = llm.calls[0].messages[-1].content
    assert "25 days" not in prompt
    assert answer.citations == ("eng#4",)
    assert "Friday at noon" in answer.text


def test_abstains_below_threshold_without_calling_the_model() -> None:
    llm = ScriptedLLM(["must not be used"])
    pipeline = RagPipeline(ListRetriever(HITS), llm, min_score=0.9)
    answer = run(pipeline, "How many days of leave?", Caller("u", ("hr",)))
    assert answer.abstained
    assert answer.text == ABSTAIN_TEXT
    assert "0.820" in answer.reason
    assert "0.9" in answer.reason
    assert llm.calls == []
    assert answer.sources == ()


def test_abstains_when_the_caller_may_read_nothing_that_matches() -> None:
    llm = ScriptedLLM(["must not be used"])
    answer = run(RagPipeline(ListRetriever(HITS), llm), "leave?", Caller("u", ("legal",)))
    assert answer.abstained
    assert llm.calls == []


def test_invented_citations_are_reported_and_dropped() -> None:
    llm = ScriptedLLM(["Leave is 25 days [hr#0], and 30 for managers [hr#9]. See [hr#0]."])
    answer = run(RagPipeline(ListRetriever(HITS), llm), "Leave?", Caller("u", ("hr",)))
    assert answer.citations == ("hr#0",)
    assert answer.invented == ("hr#9",)
    assert not answer.abstained


def test_the_model_declining_is_an_abstention() -> None:
    llm = ScriptedLLM(["I don't know."])
    answer = run(RagPipeline(ListRetriever(HITS), llm), "Who founded us?", Caller("u", ("hr",)))
    assert answer.abstained
    assert answer.citations == ()
    assert answer.sources  # it did retrieve: the model, not the retriever, found nothing


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="no group"):
        Caller("nobody", ())
    with pytest.raises(ValueError, match="empty"):
        run(RagPipeline(ListRetriever(HITS), ScriptedLLM(["x"])), "  ", Caller("u", ("hr",)))


def test_prompt_round_trips_through_the_extractive_reader() -> None:
    messages = build_messages("When does the office open?", HITS)
    assert messages[0].role == "system"
    assert "[doc#3]" in messages[0].content
    sources, question = parse_prompt(messages[-1].content)
    assert [s[0] for s in sources] == ["hr#0", "eng#4", "all#1"]
    assert sources[0][1] == HITS[0].text
    assert question == "When does the office open?"
    assert best_sentence(sources, question) == ("all#1", "The office opens at eight.")


def test_extractive_reader_says_it_does_not_know_when_nothing_overlaps() -> None:
    messages = build_messages("Quantum chromodynamics?", HITS)
    assert extractive_reader(messages) == "I don't know."
    with pytest.raises(ValueError, match="not a RAG prompt"):
        parse_prompt("just text")


def test_parse_citations_keeps_first_use_order_without_repeats() -> None:
    text = "A [b#2]. B [a#1][b#2]. Not a citation: [note] or [x#y]."
    assert parse_citations(text) == ["b#2", "a#1"]
