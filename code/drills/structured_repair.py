"""Drill: a validate-and-repair loop for structured (JSON) output.

"The model is asked for JSON that matches a schema. Sometimes it wraps the JSON in
prose or a ```json fence, sometimes the JSON is broken, sometimes it is valid JSON of
the wrong shape. Write the loop: extract the JSON, validate it, and when that fails
show the model its reply and the error and ask again, a bounded number of times."

    for each of the max_repairs + 1 attempts:
        completion = await llm.complete(conversation, settings=settings)
        value = validate(<the JSON in completion.text>)      -> return Structured(...)
        on ValueError: conversation += [the reply, a user message with the error]
    raise StructuredOutputError

Rules the grader checks:
- JSON is found when the reply is bare JSON, inside a ```json fence, or an object in
  prose ("Sure! {...} Hope that helps"). A reply with no JSON is a repairable error.
- `validate` returns the value to hand back, or raises `ValueError` saying what is
  wrong (the grader's JSON-Schema validator names each bad field by a path such as
  "$.age"). Both failures, unparsable and invalid, are repaired.
- A repair appends the bad reply (an assistant message, `completion.to_message()`) and
  a user message containing the validator's message.
- The model is called at most `max_repairs + 1` times (`max_repairs=0`: no repair);
  `max_repairs` < 0 is a `ValueError` whose message names `max_repairs`, raised before
  any call.
- `Structured.attempts`: one `Attempt` per call, its text and its error (None for the
  accepted one); `Structured.usage`: the summed usage of every call.
- Out of repairs: raise `StructuredOutputError` with its `attempts` and `usage` set.

Leaves out: provider structured outputs and constrained decoding (right syntax by
construction), streaming validation, retrying transport errors.

Grade it: make drill NAME=structured-repair
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from llmprep.core.llm import LLM
from llmprep.core.messages import DEFAULT_SETTINGS, GenerationSettings, Message, Usage

type Validator[T] = Callable[[Any], T]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One model reply, and what was wrong with it (None if it was accepted)."""

    text: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Structured[T]:
    """The validated value, every attempt it took, and their total usage."""

    value: T
    attempts: tuple[Attempt, ...]
    usage: Usage


class StructuredOutputError(ValueError):
    """The replies stayed unusable after every repair. Raise it with `attempts` (every
    `Attempt`, in order) and `usage` (their total) set on it."""

    attempts: tuple[Attempt, ...]
    usage: Usage


async def with_repair[T](
    llm: LLM,
    messages: Sequence[Message],
    validate: Validator[T],
    *,
    max_repairs: int = 1,
    settings: GenerationSettings = DEFAULT_SETTINGS,
) -> Structured[T]:
    """Ask, validate, and on failure show the model its error and ask again.

    Example: (await with_repair(llm, [Message.user("The person, as JSON")], validate))
    .value == {"name": "Ada", "age": 36}
    """
    raise NotImplementedError("drill structured-repair: implement with_repair")
