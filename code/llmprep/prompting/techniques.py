"""One question, four techniques, and what each costs in tokens and dollars.

Chain-of-thought is Wei et al., 2022 (arXiv:2201.11903); its zero-shot form, "think step
by step", is Kojima et al., 2022 (arXiv:2205.11916); self-consistency is in `selfconsistency`.

    zero-shot          instructions + question                      1 call, short answer
    few-shot           + k worked examples (input tokens grow)       1 call, short answer
    chain-of-thought   "think step by step" (output tokens grow)     1 call, long answer
    self-consistency   chain-of-thought sampled n times, then vote   n calls

Output tokens cost several times input tokens (see `llmprep.core.pricing`), so a few hundred
tokens of reasoning can cost more than a few hundred tokens of examples, and self-consistency
multiplies the cost of CoT by n.
`run_technique` runs one technique against any `LLM` and returns its answer and usage;
`TechniqueRun.cost` prices it with the dated price table. Against `ScriptedLLM` the token
counts are real (cl100k_base), so a chapter can chart cost per technique on the same task.

Leaves out: accuracy (it depends on the model; the scripted model answers what its script
says) and prompt caching, which makes a long shared few-shot prefix much cheaper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from llmprep.core.llm import LLM
from llmprep.core.messages import Message, Usage
from llmprep.core.pricing import estimate_cost
from llmprep.prompting.fewshot import Example, few_shot_messages
from llmprep.prompting.selfconsistency import extract_answer, self_consistency

type Technique = Literal["zero-shot", "few-shot", "chain-of-thought", "self-consistency"]
TECHNIQUES: tuple[Technique, ...] = get_args(Technique.__value__)

DIRECT = "Answer the question. Reply with 'The answer is <answer>.' and nothing else."
STEP_BY_STEP = (
    "Answer the question. Think step by step, showing your reasoning, "
    "then end with 'The answer is <answer>.'"
)


def technique_messages(
    technique: Technique, question: str, examples: Sequence[Example] = ()
) -> list[Message]:
    """The prompt each technique sends (self-consistency sends the CoT prompt n times).

    Example: technique_messages("zero-shot", "2+2?")[-1] == Message.user("2+2?")
    """
    match technique:
        case "zero-shot":
            return [Message.system(DIRECT), Message.user(question)]
        case "few-shot":
            if not examples:
                raise ValueError("few-shot needs examples")
            return few_shot_messages(DIRECT, examples, question)
        case "chain-of-thought" | "self-consistency":
            return [Message.system(STEP_BY_STEP), Message.user(question)]
    raise ValueError(f"unknown technique {technique!r}; expected one of {TECHNIQUES}")


@dataclass(frozen=True, slots=True)
class TechniqueRun:
    """A technique's answer to one question, how many calls it took, and their usage."""

    technique: Technique
    answer: str | None
    calls: int
    usage: Usage

    def cost(self, model: str) -> Decimal:
        """Exact USD cost of this run at `model`'s list price."""
        return estimate_cost(model, self.usage.input_tokens, self.usage.output_tokens)


async def run_technique(
    llm: LLM,
    technique: Technique,
    question: str,
    *,
    examples: Sequence[Example] = (),
    samples: int = 5,
) -> TechniqueRun:
    """Ask `question` with `technique`; self-consistency takes `samples` calls.

    Example: (await run_technique(llm, "chain-of-thought", q)).usage.output_tokens
    """
    messages = technique_messages(technique, question, examples)
    if technique == "self-consistency":
        run = await self_consistency(llm, messages, n=samples, extract=extract_answer)
        return TechniqueRun(technique, run.vote.winner, samples, run.usage)
    completion = await llm.complete(messages)
    return TechniqueRun(technique, extract_answer(completion.text), 1, completion.usage)


async def compare_techniques(
    llm: LLM, question: str, *, examples: Sequence[Example], samples: int = 5
) -> list[TechniqueRun]:
    """Every technique on the same question, in the order of TECHNIQUES."""
    return [
        await run_technique(llm, t, question, examples=examples, samples=samples)
        for t in TECHNIQUES
    ]
