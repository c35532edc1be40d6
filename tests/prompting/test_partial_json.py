"""The streaming JSON parser: every prefix shows something consistent with the final value."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmprep.core.messages import Message
from llmprep.core.scripted import ScriptedLLM
from llmprep.prompting.partial_json import (
    NOTHING,
    PartialJSONError,
    PartialJSONParser,
    parse_partial,
    stream_partial_json,
)

from .conftest import run

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=8)  # any Unicode, so escapes and surrogate pairs appear
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
DUMPS = st.fixed_dictionaries(
    {
        "ensure_ascii": st.booleans(),  # \\uXXXX escapes, or the characters themselves
        "indent": st.none() | st.integers(0, 2),
        "separators": st.sampled_from([None, (",", ":"), (", ", ": ")]),
    }
)


def consistent(partial: Any, final: Any) -> bool:
    """Is `partial` something the stream could show on the way to `final`, without retracting?

    Strings may be prefixes; lists may be shorter; objects may lack keys; every other value
    must be exactly equal (and of the same type: 1 is not True).
    """
    if partial is NOTHING:
        return True
    if isinstance(final, str):
        return isinstance(partial, str) and final.startswith(partial)
    if isinstance(final, list):
        return (
            isinstance(partial, list)
            and len(partial) <= len(final)
            and all(consistent(p, f) for p, f in zip(partial, final, strict=False))
        )
    if isinstance(final, dict):
        return isinstance(partial, dict) and all(
            k in final and consistent(v, final[k]) for k, v in partial.items()
        )
    return type(partial) is type(final) and partial == final


@given(VALUES, DUMPS)
def test_every_prefix_is_consistent_with_the_final_value(value: Any, dumps: dict[str, Any]) -> None:
    document = json.dumps(value, **dumps)
    final = json.loads(document)
    for end in range(len(document) + 1):
        assert consistent(parse_partial(document[:end]), final), document[:end]


@given(VALUES, DUMPS)
def test_snapshots_only_grow_and_close_returns_the_final_value(
    value: Any, dumps: dict[str, Any]
) -> None:
    document = json.dumps(value, **dumps)
    parser = PartialJSONParser()
    shown: Any = NOTHING
    for ch in document:
        snapshot = parser.feed(ch)
        assert consistent(shown, snapshot), (shown, snapshot)  # never takes anything back
        shown = snapshot
    assert parser.close() == json.loads(document)


def top_level_commas(document: str) -> list[int]:
    """Positions of the commas that end a member of the outermost array or object."""
    commas, depth, in_string, escaped = [], 0, False, False
    for i, ch in enumerate(document):
        if in_string:
            in_string = ch != '"' or escaped
            escaped = not escaped and ch == "\\"
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 1:
            commas.append(i)
    return commas


def first_members(final: Any, k: int) -> Any:
    return final[:k] if isinstance(final, list) else dict(list(final.items())[:k])


@given(VALUES, DUMPS)
def test_snapshots_show_each_member_once_it_is_complete(value: Any, dumps: dict[str, Any]) -> None:
    # liveness: the properties above also hold for a parser that never shows anything
    document = json.dumps(value, **dumps)
    final = json.loads(document)
    parser, done = PartialJSONParser(), 0
    for k, comma in enumerate(top_level_commas(document), start=1):
        parser.feed(document[done : comma + 1])
        done = comma + 1
        # after the comma that ends member k, the first k members are shown, whole
        assert parser.value == first_members(final, k), document[:done]
    snapshot = parser.feed(document[done:])
    if isinstance(final, (list, dict, str)):  # complete once its closing character arrives
        assert snapshot == final, document
    else:  # a bare number or literal could still grow until close()
        assert snapshot is NOTHING
    assert parser.close() == final


def test_top_level_commas_skip_nested_and_quoted_commas() -> None:
    document = r'[1, [2, 3], {"a,": "\\", "b": 4}, "x,y"]'  # an escaped backslash, then a quote
    assert len(json.loads(document)) == 4
    assert top_level_commas(document) == [2, 10, 32]
    assert top_level_commas('"a, b"') == []


@given(VALUES, st.lists(st.integers(1, 7), min_size=1))
def test_chunking_does_not_change_the_result(value: Any, sizes: list[int]) -> None:
    document = json.dumps(value)
    parser, start, i = PartialJSONParser(), 0, 0
    while start < len(document):
        size = sizes[i % len(sizes)]
        parser.feed(document[start : start + size])
        start, i = start + size, i + 1
    assert parser.value == parse_partial(document)
    assert parser.close() == json.loads(document)


@pytest.mark.parametrize(
    ("prefix", "shown"),
    [
        ("", NOTHING),
        ("  ", NOTHING),
        ("12", NOTHING),  # may still become 123
        ('"Rout', "Rout"),
        ("{", {}),
        ('{"tit', {}),  # an unfinished key is hidden
        ('{"title": "Rout', {"title": "Rout"}),
        ('{"title": "Route", "n": 12', {"title": "Route"}),  # so is an unfinished number
        ('{"title": "Route", "n": 12,', {"title": "Route", "n": 12}),
        ('{"tags": ["a", "b', {"tags": ["a", "b"]}),
        ('{"tags": ["a", nul', {"tags": ["a"]}),
        ('{"s": "tab\\', {"s": "tab"}),  # half an escape is hidden ...
        ('{"s": "se\\u00', {"s": "se"}),
        ('{"s": "\\ud83d\\ude', {"s": ""}),  # ... and so is half a surrogate pair
        ('{"s": "\\ud83d\\ude00', {"s": "\N{GRINNING FACE}"}),
        ('[{"a": [[]], "b": {"c"', [{"a": [[]], "b": {}}]),
    ],
)
def test_worked_examples(prefix: str, shown: Any) -> None:
    assert parse_partial(prefix) == shown


@pytest.mark.parametrize(
    "text",
    ['{"a" 1}', "[1 2]", '{"a": 1]', "[1,,2]", '"tab\\q"', '"\\u12G4"', "[01]", "[t]", "{} {}"],
)
def test_text_that_cannot_be_a_json_prefix_raises(text: str) -> None:
    with pytest.raises(PartialJSONError):
        PartialJSONParser().feed(text)


def test_close_rejects_an_incomplete_document() -> None:
    parser = PartialJSONParser()
    parser.feed('{"a": [1, 2')
    with pytest.raises(PartialJSONError, match="incomplete"):
        parser.close()
    bare = PartialJSONParser()
    bare.feed("42")
    assert bare.value is NOTHING
    assert bare.close() == 42


def test_stream_partial_json_yields_growing_snapshots_from_a_real_stream() -> None:
    reply = json.dumps({"title": "Route planning", "steps": ["map", "weigh", "search"]})
    llm = ScriptedLLM([reply], chunk_size=6)

    async def snapshots() -> list[Any]:
        return [s async for s in stream_partial_json(llm.stream([Message.user("plan")]))]

    shown = run(snapshots())
    assert shown[:3] == [{}, {"title": "R"}, {"title": "Route p"}]  # chunks of 6 characters
    assert shown[-1] == json.loads(reply)
    assert all(a != b for a, b in itertools.pairwise(shown))  # only changes
