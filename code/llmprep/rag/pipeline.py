"""A RAG pipeline that cites its sources, respects access rights and knows when to abstain.

    question + caller
      -> retrieve k chunks, filtered to the groups the caller belongs to   (access control)
      -> best score below the threshold? abstain, without calling the model  (abstention)
      -> prompt: numbered sources, each tagged with its chunk id             (grounding)
      -> model answer -> keep only citations to chunks it was shown          (citations)

Three rules do most of the work, and each one is a line of code you can point to in an
interview:

1. Access control is a *retrieval filter*, never a prompt instruction. A chunk the caller may
   not read is never retrieved, so no prompt injection can make the model reveal it.
2. Abstention happens *before* generation: if nothing relevant was found, the cheapest and
   safest answer is "I don't know", and it costs no model call.
3. Citations are checked, not trusted: a model can cite a source id it was never given (or
   invent one); `Answer.invented` lists those, and they are dropped from `citations`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from llmprep.core.llm import LLM
from llmprep.core.messages import GenerationSettings, Message
from llmprep.rag.documents import Hit
from llmprep.rag.retrievers import Retriever

ACL_KEY = "acl"
"""The chunk metadata field holding the groups allowed to read it (a tuple of strings)."""

ABSTAIN_TEXT = "I don't know: the documents I can search do not answer this."

SYSTEM_PROMPT = """\
Answer the question using only the sources below. After each sentence, cite the sources it \
rests on by their ids in square brackets, for example [doc#3]. If the sources do not contain \
the answer, reply exactly: I don't know."""

# A citation is a chunk id in square brackets: "[how-llms-work#12]", or "[faq#3.1]" for the
# child chunks of llmprep.rag.chunking.parent_child.
CHUNK_ID = r"[A-Za-z0-9_.:/-]+#\d+(?:\.\d+)?"
_CITATION = re.compile(rf"\[({CHUNK_ID})\]")
DEFAULT_SETTINGS = GenerationSettings(temperature=0.0, max_tokens=400)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: an id for logs and the groups whose documents they may read."""

    id: str
    groups: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.groups:
            raise ValueError(f"caller {self.id!r} belongs to no group, so may read nothing")


@dataclass(frozen=True, slots=True)
class Answer:
    """The pipeline's result, with everything needed to audit it."""

    text: str
    citations: tuple[str, ...]
    """Chunk ids the answer cites that were among the sources shown, in order of first use."""
    sources: tuple[Hit, ...]
    """The chunks the model was shown (empty when the pipeline abstained)."""
    abstained: bool
    reason: str = ""
    invented: tuple[str, ...] = ()
    """Ids the answer cited that were *not* among the sources: a grounding failure."""


def format_sources(hits: Sequence[Hit]) -> str:
    """The sources block of the prompt: each chunk under its id, so the model can cite it."""
    return "\n\n".join(f"[{h.id}]\n{h.text.strip()}" for h in hits)


def build_messages(question: str, hits: Sequence[Hit]) -> list[Message]:
    """The conversation sent to the model: instructions, then sources, then the question.

    The question comes last, after the long sources block, because models attend most
    reliably to the start and the end of a long context.
    """
    user = f"Sources:\n\n{format_sources(hits)}\n\nQuestion: {question}"
    return [Message.system(SYSTEM_PROMPT), Message.user(user)]


def parse_citations(text: str) -> list[str]:
    """Chunk ids cited in `text`, in order of first appearance, without repeats."""
    seen: dict[str, None] = {}
    for match in _CITATION.finditer(text):
        seen.setdefault(match.group(1), None)
    return list(seen)


@dataclass(slots=True)
class RagPipeline:
    """Retrieve, abstain or generate, and check the citations.

    `min_score` is in the units of the retriever's scores (cosine similarity for a dense
    retriever): calibrate it on labelled questions, including ones the corpus cannot answer,
    as the "RAG in code" chapter does.
    """

    retriever: Retriever
    llm: LLM
    k: int = 4
    min_score: float = 0.3
    settings: GenerationSettings = DEFAULT_SETTINGS

    async def answer(self, question: str, caller: Caller) -> Answer:
        if not question.strip():
            raise ValueError("the question is empty")
        hits = self.retriever.retrieve(question, self.k, where={ACL_KEY: caller.groups})
        if not hits:
            reason = "no document this caller may read matched"
            return Answer(ABSTAIN_TEXT, (), (), True, reason)
        if hits[0].score < self.min_score:
            best, threshold = hits[0].score, self.min_score
            reason = f"best score {best:.3f} is below the threshold {threshold}"
            return Answer(ABSTAIN_TEXT, (), (), True, reason)
        messages = build_messages(question, hits)
        completion = await self.llm.complete(messages, settings=self.settings)
        shown = {h.id for h in hits}
        cited = parse_citations(completion.text)
        kept = tuple(c for c in cited if c in shown)
        invented = tuple(c for c in cited if c not in shown)
        declined = completion.text.strip().startswith("I don't know")
        return Answer(
            completion.text,
            kept,
            tuple(hits),
            declined,
            "the model found no answer in the sources" if declined else "",
            invented,
        )
