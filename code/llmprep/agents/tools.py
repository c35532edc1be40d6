"""`@tool`: turn a typed, documented Python function into a tool a model can call.

Function calling starts with a JSON Schema: the model reads it to decide which arguments to
write, and the application checks what the model wrote against it before running anything.
Writing that schema by hand duplicates what the function already says, and the two drift.
`@tool` derives it from the signature and the docstring instead:

    @tool
    def search(query: str, k: int = 3) -> str:
        '''Search the book.

        Args:
            query: What to find.
            k: How many passages to return.
        '''

    search.spec.parameters == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to find."},
            "k": {"type": "integer", "default": 3, "description": "How many passages to return."},
        },
        "required": ["query"],
        "additionalProperties": False,
    }

Supported annotations: `str`, `int`, `float`, `bool`, `Literal[...]`, `Enum` subclasses,
`list[X]`, `dict[str, X]`, `X | None` (and other unions), dataclasses and `TypedDict`s
(nested), and `Annotated[X, "description"]`. Anything else raises `ToolDefinitionError` when
the function is decorated, not when the model first calls it. Arguments are validated with
`jsonschema` (Draft 2020-12) before every call; a failure raises the core's
`ToolArgumentsError` listing every problem with its path, which is the message a model needs
to fix its call. Valid JSON is then converted to what the function declared (a dict to a
dataclass, a string to an Enum member, 3.0 to 3 for an `int`).

Sync functions run in a worker thread (`asyncio.to_thread`), so a slow one neither blocks the
event loop nor stops a timeout from firing (the agent moves on; the thread itself cannot be
killed and finishes in the background); async functions are awaited, and cancelled on timeout.

Leaves out: `*args`/`**kwargs`, positional-only parameters, `format` keywords derived from
types (dates, UUIDs), recursive types, and return-value schemas (MCP's `outputSchema`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import inspect
import json
import re
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,
    Required,
    Union,
    cast,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
    overload,
)

import jsonschema

from llmprep.core.errors import ToolArgumentsError
from llmprep.core.messages import JSONObject, ToolSpec

type Converter = Callable[[Any], Any]
"""Turns a JSON value that passed validation into the Python value a parameter declared."""

_PRIMITIVES: dict[type, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Yields|Raises|Examples?|Notes?):\s*$")
_ARG_LINE = re.compile(r"^(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
SUPPORTED = (
    "str, int, float, bool, Literal[...], Enum, list[X], dict[str, X], X | None, "
    "dataclass, TypedDict, Annotated[X, 'description']"
)


class ToolDefinitionError(TypeError):
    """A function cannot become a tool: raised at decoration time, with the reason."""


def _identity(value: Any) -> Any:
    return value


# -----------------------------------------------------------------------------
# type hints -> JSON Schema (and a converter back)


def schema_for(hint: Any, where: str = "value") -> tuple[JSONObject, Converter]:
    """The JSON Schema for one annotation, and how to turn validated JSON into that type.

    Why both at once: every type that has a schema also needs a way back from JSON (a dict
    is not a dataclass, "red" is not `Color.RED`), and deriving them together keeps them
    consistent.

    Example: schema_for(list[int])[0] == {"type": "array", "items": {"type": "integer"}}
    """
    origin, args = get_origin(hint), get_args(hint)
    if origin in (NotRequired, Required):  # TypedDict markers: `required` says it already
        return schema_for(args[0], where)
    if origin is Annotated:
        schema, convert = schema_for(args[0], where)
        notes = [a for a in args[1:] if isinstance(a, str)]
        return ({**schema, "description": " ".join(notes)} if notes else schema), convert
    if hint in _PRIMITIVES:
        return {"type": _PRIMITIVES[hint]}, _int if hint is int else _identity
    if hint is type(None):
        return {"type": "null"}, _identity
    if origin is Literal:
        if not all(isinstance(a, str | int | bool) or a is None for a in args):
            raise ToolDefinitionError(f"{where}: Literal values must be str, int, bool or None")
        return {"enum": list(args)}, _identity
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [m.value for m in hint]
        if not all(isinstance(v, str | int) for v in values):
            raise ToolDefinitionError(f"{where}: Enum {hint.__name__} needs str or int values")
        return {"enum": values, "title": hint.__name__}, hint
    if origin in (Union, types.UnionType):
        return _union(args, where)
    if origin is list:
        if len(args) != 1:
            raise ToolDefinitionError(f"{where}: a list needs its item type, e.g. list[str]")
        item, convert_item = schema_for(args[0], f"{where}[]")
        return {"type": "array", "items": item}, lambda v: [convert_item(x) for x in v]
    if origin is dict:
        if len(args) != 2 or args[0] is not str:
            raise ToolDefinitionError(f"{where}: a dict needs str keys, e.g. dict[str, int]")
        value_schema, convert_value = schema_for(args[1], f"{where}{{}}")
        return (
            {"type": "object", "additionalProperties": value_schema},
            lambda v: {k: convert_value(x) for k, x in v.items()},
        )
    if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or is_typeddict(hint)):
        return _record(hint, where)
    raise ToolDefinitionError(f"{where}: unsupported annotation {hint!r}; supported: {SUPPORTED}")


def _int(value: Any) -> Any:
    # JSON Schema counts 3.0 as an integer; the function was promised an int.
    return int(value) if isinstance(value, float) else value


def _union(args: tuple[Any, ...], where: str) -> tuple[JSONObject, Converter]:
    members = [schema_for(a, where) for a in args]
    validators = [jsonschema.Draft202012Validator(s) for s, _ in members]

    def convert(value: Any) -> Any:
        # The first member the value is valid for decides the conversion (None -> None).
        for validator, (_, convert_member) in zip(validators, members, strict=True):
            if validator.is_valid(value):
                return convert_member(value)
        return value

    return {"anyOf": [s for s, _ in members]}, convert


def _record(cls: type, where: str) -> tuple[JSONObject, Converter]:
    """A dataclass or TypedDict as a closed object schema (unknown keys are an error)."""
    hints = get_type_hints(cls, include_extras=True)
    if dataclasses.is_dataclass(cls):
        fields = [f for f in dataclasses.fields(cls) if f.init]
        names = [f.name for f in fields]
        no_default = dataclasses.MISSING
        required = [
            f.name for f in fields if f.default is no_default and f.default_factory is no_default
        ]
    else:
        names = list(hints)
        # Under `from __future__ import annotations`, Python 3.12 cannot see NotRequired in
        # a string annotation when it builds __required_keys__; the resolved hint can.
        required = [
            n
            for n in names
            if get_origin(hints[n]) is Required
            or (n in cast(Any, cls).__required_keys__ and get_origin(hints[n]) is not NotRequired)
        ]
    parts = {name: schema_for(hints[name], f"{where}.{name}") for name in names}
    schema: JSONObject = {
        "type": "object",
        "title": cls.__name__,
        "properties": {name: s for name, (s, _) in parts.items()},
        "required": required,
        "additionalProperties": False,
    }
    if cls.__doc__ and dataclasses.is_dataclass(cls) and not cls.__doc__.startswith(cls.__name__):
        schema["description"] = inspect.cleandoc(cls.__doc__)

    def convert(value: Any) -> Any:
        converted = {k: parts[k][1](v) for k, v in value.items()}
        return cls(**converted)

    return schema, convert


# -----------------------------------------------------------------------------
# docstrings


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """A Google-style docstring as (description, {argument: description}).

    The description is everything before the first section header (`Args:`, `Returns:`,
    ...); each `Args:` entry is `name: text` or `name (type): text`, with continuation lines
    indented further.

    Example: parse_docstring("Add.\\n\\nArgs:\\n    a: first") == ("Add.", {"a": "first"})
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    description: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    entry_indent: int | None = None  # the indent of the first entry sets the column
    for line in lines:
        indent = len(line) - len(line.lstrip())
        header = _SECTION.match(line.strip()) if indent == 0 else None
        if header:
            section, current, entry_indent = header.group(1), None, None
            continue
        if section is None:
            description.append(line)
        elif section in ("Args", "Arguments", "Parameters") and line.strip():
            entry = _ARG_LINE.match(line.strip())
            if entry and (entry_indent is None or indent <= entry_indent):
                entry_indent = indent
                current = entry.group(1)
                args[current] = entry.group(2).strip()
            elif current is not None:
                args[current] = f"{args[current]} {line.strip()}".strip()
    return "\n".join(description).strip(), args


# -----------------------------------------------------------------------------
# the tool


@dataclass(frozen=True, slots=True)
class Tool[**P, R]:
    """A function the model may call: its `ToolSpec`, and how to validate and run a call.

    Calling the tool like the function (`add(1, 2)`) still works; `invoke` is the path a
    model's call takes: validate the JSON arguments, convert them, run, await.

    `side_effect` marks tools that change the world (send, write, pay, delete): guardrails
    ask for approval before running them. `timeout` (seconds) overrides the registry's.
    """

    spec: ToolSpec
    fn: Callable[P, R]
    side_effect: bool = False
    timeout: float | None = None
    converters: Mapping[str, Converter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_schema(json.dumps(self.spec.parameters, sort_keys=True))
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"tool {self.spec.name!r}: timeout must be positive")

    @property
    def name(self) -> str:
        return self.spec.name

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Check arguments against the schema; return them converted to the declared types.

        Every violation is reported with its JSON path, sorted, so the model can fix them
        all in one retry: `tool 'add' got unusable arguments ($.b: 'x' is not of type ...)`.
        """
        validator = _validator(json.dumps(self.spec.parameters, sort_keys=True))
        errors = sorted(validator.iter_errors(dict(arguments)), key=lambda e: str(e.json_path))
        if errors:
            reason = "; ".join(f"{e.json_path}: {e.message}" for e in errors)
            raise ToolArgumentsError(self.name, json.dumps(arguments, default=str), reason)
        return {k: self.converters.get(k, _identity)(v) for k, v in arguments.items()}

    async def invoke(self, arguments: Mapping[str, Any]) -> Any:
        """Validate, convert and run one call (sync functions in a worker thread)."""
        kwargs = self.validate(arguments)
        fn = cast(Callable[..., Any], self.fn)
        if inspect.iscoroutinefunction(fn):
            return await fn(**kwargs)
        result = await asyncio.to_thread(fn, **kwargs)
        if inspect.isawaitable(result):  # a sync wrapper that returned a coroutine
            return await result
        return result


@functools.lru_cache(maxsize=256)
def _check_schema(schema_json: str) -> None:
    """Check a schema against the 2020-12 meta-schema, once per distinct schema.

    The check costs milliseconds, and wrappers such as `demo.flaky` build a new `Tool` around
    the same schema many times; a failing check raises, so it is never cached.
    """
    jsonschema.Draft202012Validator.check_schema(json.loads(schema_json))


@functools.lru_cache(maxsize=256)
def _validator(schema_json: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        json.loads(schema_json), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


type AnyTool = Tool[..., Any]


def make_tool[**P, R](
    fn: Callable[P, R],
    *,
    name: str | None = None,
    description: str | None = None,
    side_effect: bool = False,
    timeout: float | None = None,
) -> Tool[P, R]:
    """Build a `Tool` from a function's signature and docstring (what `@tool` does).

    Raises `ToolDefinitionError` for a parameter without an annotation, an unsupported
    annotation, `*args`/`**kwargs`, a missing description, or an `Args:` entry that names
    no parameter (a docstring that drifted from the code).
    """
    tool_name = name or str(getattr(fn, "__name__", ""))
    summary, arg_docs = parse_docstring(inspect.getdoc(fn))
    text = description or summary
    if not text:
        raise ToolDefinitionError(
            f"tool {tool_name!r} needs a description: the model reads it to decide when to "
            "call the tool (write a docstring or pass description=...)"
        )
    try:
        hints = get_type_hints(fn, include_extras=True)
    except NameError as exc:
        raise ToolDefinitionError(
            f"tool {tool_name!r}: cannot resolve an annotation: {exc}"
        ) from exc
    properties: JSONObject = {}
    required: list[str] = []
    converters: dict[str, Converter] = {}
    for param in inspect.signature(fn).parameters.values():
        where = f"tool {tool_name!r}, parameter {param.name!r}"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ToolDefinitionError(f"{where}: only named parameters can come from JSON")
        if param.name not in hints:
            raise ToolDefinitionError(f"{where}: needs a type annotation")
        schema, converters[param.name] = schema_for(hints[param.name], where)
        if param.name in arg_docs and "description" not in schema:
            schema = {**schema, "description": arg_docs[param.name]}
        if param.default is param.empty:
            required.append(param.name)
        elif (default := _json_default(param.default)) is not None or param.default is None:
            schema = {**schema, "default": default}
        properties[param.name] = schema
    if unknown := sorted(set(arg_docs) - set(properties)):
        drifted = f"the docstring documents {unknown}, which are not parameters"
        raise ToolDefinitionError(f"tool {tool_name!r}: {drifted}")
    parameters: JSONObject = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    parameters["additionalProperties"] = False
    spec = ToolSpec(tool_name, text, parameters)
    return Tool(spec, fn, side_effect=side_effect, timeout=timeout, converters=converters)


def _json_default(value: Any) -> Any:
    """A parameter default as JSON (an Enum member as its value), or None if it has none."""
    if isinstance(value, enum.Enum):
        value = value.value
    try:
        json.dumps(value)
    except TypeError:
        return None
    return value


@overload
def tool[**P, R](fn: Callable[P, R], /) -> Tool[P, R]: ...


@overload
def tool[**P, R](
    *,
    name: str | None = None,
    description: str | None = None,
    side_effect: bool = False,
    timeout: float | None = None,
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...


def tool[**P, R](
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    side_effect: bool = False,
    timeout: float | None = None,
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Decorate a function to make it a tool: `@tool` or `@tool(side_effect=True, timeout=5)`.

    Example:
        @tool
        def add(a: int, b: int) -> int:
            '''Add two integers.'''
            return a + b

        add.spec.parameters["required"] == ["a", "b"];  await add.invoke({"a": 1, "b": 2}) == 3
    """

    def decorate(f: Callable[P, R]) -> Tool[P, R]:
        return make_tool(
            f, name=name, description=description, side_effect=side_effect, timeout=timeout
        )

    return decorate(fn) if fn is not None else decorate
