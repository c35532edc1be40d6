"""A scripted extractive reader: the offline stand-in for the LLM in the RAG demos and tests.

It reads the prompt `llmprep.rag.pipeline.build_messages` writes, picks the one sentence of
the sources that shares the most content words with the question, and answers with that
sentence and its source id, or "I don't know." when no sentence shares any. It is not a
language model and does not pretend to be one: it shows the *plumbing* (sources in, cited
answer out, citations checked) deterministically, with no network. Put `OpenAIChat` or
`AnthropicChat` from `llmprep.core.providers` in the same slot for real answers.

Use it as a `ScriptedLLM` rule: `ScriptedLLM(extractive_reader)`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from llmprep.core.messages import Message
from llmprep.rag.bm25 import ENGLISH_STOPWORDS
from llmprep.rag.pipeline import CHUNK_ID

# A source block is "[id]" on its own line, then its text, up to the next block or the question.
# The id pattern is the pipeline's own, so the reader parses exactly the ids it may cite.
_SOURCE = re.compile(
    rf"^\[({CHUNK_ID})\]\n(.*?)(?=\n\n\[{CHUNK_ID}\]\n|\n\nQuestion: |\Z)", re.S | re.M
)
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Question words matter to a reader that matches words: "how", "what", "why" and friends
# carry no content, so they are dropped along with the lexical index's stop words.
STOPWORDS = ENGLISH_STOPWORDS | {"can", "do", "does", "how", "i", "what", "when", "who", "why"}


def content_words(text: str) -> set[str]:
    """Lower-cased words of `text` minus a short stop-word list."""
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


def parse_prompt(prompt: str) -> tuple[list[tuple[str, str]], str]:
    """The (source id, text) pairs and the question of a prompt written by `build_messages`."""
    head, sep, question = prompt.rpartition("\n\nQuestion: ")
    if not sep:
        raise ValueError("not a RAG prompt: no 'Question:' line after the sources")
    sources = [(m.group(1), m.group(2).strip()) for m in _SOURCE.finditer(head + "\n\n")]
    return sources, question.strip()


def best_sentence(sources: Sequence[tuple[str, str]], question: str) -> tuple[str, str] | None:
    """(source id, sentence) with the largest content-word overlap with the question.

    Ties go to the earlier source, which the retriever ranked higher.
    """
    wanted = content_words(question)
    best: tuple[int, str, str] | None = None
    for source_id, text in sources:
        for sentence in _SENTENCE_END.split(text):
            overlap = len(wanted & content_words(sentence))
            if overlap and (best is None or overlap > best[0]):
                best = (overlap, source_id, sentence.strip())
    return None if best is None else (best[1], best[2])


def extractive_reader(conversation: Sequence[Message]) -> str:
    """A `ScriptedLLM` rule: answer the last user message by quoting its best source."""
    prompt = next(m.content for m in reversed(conversation) if m.role == "user")
    sources, question = parse_prompt(prompt)
    found = best_sentence(sources, question)
    if found is None:
        return "I don't know."
    source_id, sentence = found
    return f"{sentence} [{source_id}]"
