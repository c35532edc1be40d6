"""Prompt templates that refuse to send a prompt with a hole in it.

A prompt template is text with named slots, `"Summarize {document} in {n} bullets."`. The bug
it invites is quiet: a missing value renders as an empty string, or a literal `{document}`
reaches the model, and the model answers anyway, about nothing. `PromptTemplate` checks at
both ends:

- at construction, every slot must be a plain name (`{document}`); positional `{}`, attribute
  or index access (`{user.name}`, `{row[0]}`), conversions and format specs are rejected,
  because `str.format` on untrusted text can reach attributes (`{x.__class__}`);
- at render time, every slot must get a value (not None, which would render as "None"), and
  every value must have a slot, so a renamed variable fails loudly instead of being dropped.

Values are inserted exactly once, never re-scanned, so a value that itself contains `{x}`
(user input, a code sample) arrives as typed. `{{` and `}}` are literal braces.

`ChatTemplate` does the same for a system + user pair and returns `Message`s.

Leaves out: loops and conditionals (use Python, or Jinja if you must), escaping for a
particular markup (XML tags around untrusted input are a prompt-design choice, shown in the
chapter), and token budgets (see `llmprep.core.tokens`).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from llmprep.core.messages import Message


class TemplateError(ValueError):
    """A template is malformed, or was rendered with missing or unexpected values."""


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """Text with `{name}` slots, checked when built and when rendered.

    Example: PromptTemplate("Hi {name}!").render(name="Ada") == "Hi Ada!"
    """

    text: str
    # (literal text, slot name or None) pairs: "Hi {name}!" -> (("Hi ", "name"), ("!", None))
    _parts: tuple[tuple[str, str | None], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts: list[tuple[str, str | None]] = []
        try:
            parsed = list(string.Formatter().parse(self.text))
        except ValueError as exc:  # a lone "{" or "}"
            why = f"malformed template ({exc}); write {{{{ for a literal brace"
            raise TemplateError(why) from exc
        for literal, name, spec, conversion in parsed:
            if name is not None:
                _check_slot(name, spec, conversion)
            parts.append((literal, name))
        object.__setattr__(self, "_parts", tuple(parts))

    @property
    def variables(self) -> tuple[str, ...]:
        """The slot names, each once, in order of first appearance."""
        return tuple(dict.fromkeys(n for _, n in self._parts if n is not None))

    def render(self, values: Mapping[str, object] | None = None, /, **kw: object) -> str:
        """Fill every slot; raise `TemplateError` naming any missing or unexpected value.

        Example: PromptTemplate("{a}+{a}={b}").render(a=1, b=2) == "1+1=2"
        """
        given = _check_values(self.variables, {**(values or {}), **kw})
        return "".join(lit + ("" if n is None else str(given[n])) for lit, n in self._parts)

    def partial(self, **values: object) -> PromptTemplate:
        """A template with some slots filled now and the rest left for later.

        Example: PromptTemplate("{a} {b}").partial(a="x").variables == ("b",)
        """
        _check_values(self.variables, values, complete=False)
        out: list[str] = []
        for literal, name in self._parts:
            out.append(_escape(literal))
            if name is not None and name in values:
                out.append(_escape(str(values[name])))
            elif name is not None:
                out.append("{" + name + "}")
        return PromptTemplate("".join(out))


@dataclass(frozen=True, slots=True)
class ChatTemplate:
    """A system template and a user template, rendered together into messages.

    The variables of both are checked as one set: each value must fill a slot in one of them.

    Example:
        ChatTemplate("You are {role}.", "{question}").render(role="terse", question="2+2?")
        == [Message.system("You are terse."), Message.user("2+2?")]
    """

    system: PromptTemplate
    user: PromptTemplate

    def __init__(self, system: str | PromptTemplate, user: str | PromptTemplate) -> None:
        object.__setattr__(self, "system", _as_template(system))
        object.__setattr__(self, "user", _as_template(user))

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.system.variables + self.user.variables))

    def render(
        self,
        values: Mapping[str, object] | None = None,
        /,
        **kw: object,
    ) -> list[Message]:
        given = _check_values(self.variables, {**(values or {}), **kw})
        system = {k: given[k] for k in self.system.variables}
        user = {k: given[k] for k in self.user.variables}
        return [
            Message.system(self.system.render(system)),
            Message.user(self.user.render(user)),
        ]


def _check_slot(name: str, spec: str | None, conversion: str | None) -> None:
    if not name.isidentifier():
        raise TemplateError(
            f"slot {{{name}}} must be a plain name such as {{document}} "
            "(no positional {}, attribute or index access)"
        )
    if spec or conversion:
        why = "format specs and conversions are not allowed"
        raise TemplateError(f"slot {{{name}}}: {why}")


def _check_values(
    variables: tuple[str, ...], given: Mapping[str, object], *, complete: bool = True
) -> Mapping[str, object]:
    """`given`, if it fills every slot (unless `complete` is False) and nothing else."""
    missing = [v for v in variables if v not in given] if complete else []
    unexpected = sorted(set(given) - set(variables))
    if missing or unexpected:
        raise TemplateError(_mismatch(missing, unexpected))
    nones = [k for k, v in given.items() if v is None]
    if nones:  # str(None) == "None" would reach the model as if it were content
        raise TemplateError(f"values for {', '.join(sorted(nones))} are None")
    return given


def _as_template(template: str | PromptTemplate) -> PromptTemplate:
    if isinstance(template, PromptTemplate):
        return template
    return PromptTemplate(template)


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _mismatch(missing: list[str], unexpected: list[str]) -> str:
    problems = []
    if missing:
        problems.append(f"missing values for {', '.join(missing)}")
    if unexpected:
        problems.append(f"no slot for {', '.join(unexpected)}")
    return "; ".join(problems)
