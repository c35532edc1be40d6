"""Structured output: parse the model's JSON, validate it, and repair it once if it fails.

Asking for JSON gets you JSON most of the time. The rest of the time the reply has prose
around it, a trailing comma, a missing field or a string where a number belongs. The robust
pattern is a loop with three steps:

    reply text --extract_json--> a JSON value --validate--> a typed value
         ^                              | error (what is wrong, and where)
         +---- "your reply failed: ..." +   at most `max_repairs` times

`with_repair` feeds the *validation error itself* back to the model, which then knows what
to fix. The default is one repair: it catches the common slips (a wrong type, a missing
field), and every further round costs a whole call with a longer prompt.
Validators are plain callables: `json_schema_validator` (the `jsonschema` package, Draft
2020-12) returns the JSON value, `pydantic_validator` returns a model instance.

Provider-side structured outputs and grammar-constrained decoding (see `constrained`) make
the syntax right by construction; validation is still needed for what a grammar cannot say
(a date in the past, a total that equals the sum of its lines).

Leaves out: streaming validation (see `partial_json`), retries for transport errors (a
separate concern, in the production chapter), and JSON5 or other lenient dialects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema
import pydantic

from llmprep.core.errors import LLMError
from llmprep.core.llm import LLM
from llmprep.core.messages import DEFAULT_SETTINGS, Completion, GenerationSettings, Message, Usage
from llmprep.prompting.templates import PromptTemplate

type Validator[T] = Callable[[Any], T]
"""Turns a parsed JSON value into a T, or raises `OutputError("validation", ...)`."""

_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)```", re.S)
_BRACKET = re.compile(r"[{\[]")


class OutputError(ValueError):
    """A reply we cannot use: not JSON (`kind="parse"`) or the wrong shape (`"validation"`).

    `feedback` is written for the model: it is what the repair prompt shows it.
    """

    def __init__(self, kind: Literal["parse", "validation"], feedback: str) -> None:
        super().__init__(f"{kind} error: {feedback}")
        self.kind = kind
        self.feedback = feedback


def extract_json(
    text: str,
    *,
    expect: Literal["object", "array", "any"] = "object",
) -> Any:
    """The JSON value in a reply: a ```json fence, the whole text, or a {...} / [...] in prose.

    Models wrap JSON in fences and prose ("Sure! Here it is: ..."); accepting those is cheap
    and loses nothing. If the fence (or the whole text) is one JSON value, that value is
    returned, whatever its kind. Otherwise the text is scanned for brackets, in order, and the
    first one that decodes to a value of the `expect`ed kind wins ("object" by default;
    "any" takes the first container of either kind). So prose that contains brackets of its
    own does not hide the JSON after it:

        'Note [1]: {"a": 1}'          -> {"a": 1}   ([1] decodes, but is not an object)
        'Options {x} then {"a": 1}'   -> {"a": 1}   ({x} does not decode)

    A value that decodes is taken or skipped as a whole (an object inside an array is not
    picked out of it), and after a bracket that fails to decode the scan resumes where the
    decoder gave up, so a fragment inside broken JSON is not mistaken for the answer. If no
    span has the expected kind, the first container that decoded is returned (the validator
    then says what is wrong with it); if none decoded, it is a parse error with the decoder's
    message for the first bracket.

    Example: extract_json('Sure: {"a": 1} Hope that helps!') == {"a": 1}
    """
    if expect not in ("object", "array", "any"):
        raise ValueError(f"expect must be 'object', 'array' or 'any', got {expect!r}")
    fenced = _FENCE.search(text)
    candidate = (fenced.group(1) if fenced else text).strip()
    try:
        return json.loads(candidate)
    except json.JSONDecodeError as exc:
        error = exc
    kinds: dict[str, type] = {"object": dict, "array": list}
    wanted: type | tuple[type, ...] = kinds.get(expect, (dict, list))
    decoder, fallback, first_error = json.JSONDecoder(), None, None
    start = _BRACKET.search(candidate)
    while start is not None:
        try:
            value, end = decoder.raw_decode(candidate, start.start())
        except json.JSONDecodeError as exc:
            first_error = first_error or exc
            end = max(start.start() + 1, exc.pos)  # resume where the decoder gave up
        else:
            if isinstance(value, wanted):
                return value
            fallback = fallback or (value,)
        start = _BRACKET.search(candidate, end)
    if fallback is not None:
        return fallback[0]
    error = first_error or error
    raise OutputError("parse", f"not valid JSON: {error.msg} (char {error.pos})")


def json_schema_validator(schema: Mapping[str, Any]) -> Validator[Any]:
    """A validator that checks a value against a JSON Schema and returns it unchanged.

    Every violation is reported, each with the path to the offending field, because the
    model fixes all of them in one repair only if it is told about all of them.

    `format` is enforced (Draft 2020-12 makes it a mere annotation unless a format checker is
    given): with jsonschema's `FORMAT_CHECKER`, `{"type": "string", "format": "email"}`
    rejects "not an email" and `"format": "date"` rejects "2024-13-45". Only formats with a
    checker are checked: `date`, `email`, `ipv4`, `ipv6`, `uuid`, `regex` and a few more
    always; `date-time`, `uri` and others only if jsonschema's optional packages for them are
    installed (`jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers` lists them). An
    unknown or unchecked format passes.

    Example: json_schema_validator({"type": "integer"})(3) == 3
    """
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )

    def validate(value: Any) -> Any:
        errors = sorted(checker.iter_errors(value), key=lambda e: str(e.json_path))
        if errors:
            lines = [f"{e.json_path}: {e.message}" for e in errors]
            raise OutputError("validation", "\n".join(lines))
        return value

    return validate


def pydantic_validator[M: pydantic.BaseModel](model: type[M]) -> Validator[M]:
    """A validator that builds a pydantic model from the value (types coerced the pydantic way).

    Example: pydantic_validator(Person)({"name": "Ada", "age": 36}) == Person(name="Ada", age=36)
    """

    def validate(value: Any) -> M:
        try:
            return model.model_validate(value)
        except pydantic.ValidationError as exc:
            lines = [
                f"$.{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})"
                if e["loc"]
                else f"$: {e['msg']}"
                for e in exc.errors()
            ]
            raise OutputError("validation", "\n".join(lines)) from None

    return validate


def parse_output[T](text: str, validate: Validator[T]) -> T:
    """Extract the JSON in `text` and validate it: the one step `with_repair` repeats."""
    return validate(extract_json(text))


# -----------------------------------------------------------------------------
# the repair loop

REPAIR_PROMPT = PromptTemplate(
    "Your reply could not be used:\n{error}\n\n"
    "Reply again with only the corrected JSON, and nothing else."
)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One model reply and what was wrong with it (`error` is None if it was accepted)."""

    text: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Structured[T]:
    """A validated value, with every attempt it took and what they cost together."""

    value: T
    attempts: tuple[Attempt, ...]
    usage: Usage

    @property
    def repaired(self) -> bool:
        return len(self.attempts) > 1


class StructuredOutputError(LLMError, ValueError):
    """The model's replies stayed unusable after every repair; `attempts` says why."""

    def __init__(self, attempts: Sequence[Attempt], usage: Usage) -> None:
        last = attempts[-1].error if attempts else "no attempts"
        n = len(attempts)
        super().__init__(f"no valid output after {n} attempts; last error: {last}")
        self.attempts = tuple(attempts)
        self.usage = usage


async def with_repair[T](
    llm: LLM,
    messages: Sequence[Message],
    validate: Validator[T],
    *,
    max_repairs: int = 1,
    settings: GenerationSettings = DEFAULT_SETTINGS,
) -> Structured[T]:
    """Ask, validate, and on failure show the model its error and ask again.

    The model is called at most `max_repairs + 1` times. Each repair round appends the bad
    reply and the error to the conversation, so the model sees exactly what it wrote.

    Example: (await with_repair(llm, msgs, json_schema_validator(schema))).value
    """
    if max_repairs < 0:
        raise ValueError(f"max_repairs must be >= 0, got {max_repairs}")
    conversation = list(messages)
    attempts: list[Attempt] = []
    usage = Usage()
    for _ in range(max_repairs + 1):
        completion = await llm.complete(conversation, settings=settings)
        usage += completion.usage
        try:
            value = parse_output(completion.text, validate)
        except OutputError as err:
            feedback = _feedback(err, completion)
            attempts.append(Attempt(completion.text, feedback))
            repair = Message.user(REPAIR_PROMPT.render(error=feedback))
            conversation += [completion.to_message(), repair]
            continue
        attempts.append(Attempt(completion.text))
        return Structured(value, tuple(attempts), usage)
    raise StructuredOutputError(attempts, usage)


def _feedback(err: OutputError, completion: Completion) -> str:
    if completion.finish_reason == "length":  # the JSON was cut off, not malformed
        return f"{err.feedback}\n(your reply hit the token limit: make it shorter)"
    return err.feedback
