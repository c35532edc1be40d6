"""Small helpers over pandoc's JSON AST (``{"t": "Header", "c": [...]}``).

The builder needs only a few operations on whole documents -- find identifiers, rewrite links and
image paths, pull out text for the search index -- so plain recursive functions over dicts and
lists are enough; no third-party AST library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Node = dict[str, Any]

# Where the Attr ([id, classes, key-values]) sits in each element's "c" list.
_ATTR_AT = {
    "Header": 1, "Div": 0, "Span": 0, "CodeBlock": 0, "Code": 0, "Image": 0, "Link": 0,
    "Figure": 0, "Table": 0,
}  # fmt: skip


def nodes(tree: Any) -> Iterator[Node]:
    """Every element (dict with a ``"t"``) in ``tree``, depth first, in document order.

    Only lists and element contents are walked (strings and numbers cannot hold elements), which
    keeps a walk over a whole book fast enough for every no-op build.
    """
    stack = [tree]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is list:
            stack.extend(item[::-1])
        elif kind is dict:
            if "t" in item:
                yield item
                content = item.get("c")
                if type(content) is list or type(content) is dict:
                    stack.append(content)
            else:
                stack.extend(list(item.values())[::-1])


def attr(node: Node) -> list[Any] | None:
    """The ``[id, classes, attributes]`` triple of ``node``, if it has one."""
    index = _ATTR_AT.get(node["t"])
    return node["c"][index] if index is not None else None


def classes(node: Node) -> list[str]:
    a = attr(node)
    return list(a[1]) if a else []


def header_level(node: Node) -> int | None:
    """The level of a Header node, None for anything else."""
    return int(node["c"][0]) if node["t"] == "Header" else None


def header_inlines(node: Node) -> list[Node]:
    content: list[Node] = node["c"][2]
    return content


def first_header(blocks: list[Node], level: int) -> Node | None:
    """The first top-level Header of ``level`` in ``blocks`` (a chapter's title when 1)."""
    return next((b for b in blocks if header_level(b) == level), None)


def div_content(node: Node) -> list[Node]:
    content: list[Node] = node["c"][1]
    return content


def identifier(node: Node) -> str:
    a = attr(node)
    return str(a[0]) if a else ""


def ids(tree: Any) -> list[str]:
    """All non-empty identifiers in ``tree``, in document order."""
    return [i for n in nodes(tree) if (i := identifier(n))]


def stringify(tree: Any) -> str:
    """Plain text of ``tree``: what a reader would read (math and code included, notes not)."""
    out: list[str] = []

    def visit(item: Any) -> None:
        if isinstance(item, list):
            for x in item:
                visit(x)
            return
        if not isinstance(item, dict) or "t" not in item:
            return
        kind: str = item["t"]
        content: Any = item.get("c")
        if kind == "Str":
            out.append(content)
        elif kind in {"Space", "SoftBreak", "LineBreak"}:
            out.append(" ")
        elif kind in {"Code", "Math"}:
            out.append(content[1])
        elif kind == "CodeBlock":
            out.append(" " + content[1] + " ")
        elif kind in {"Note", "RawInline", "RawBlock"}:
            return
        elif kind in {"Para", "Plain", "Header", "BlockQuote", "Div"}:
            visit(content)
            out.append(" ")
        else:
            visit(content)

    visit(tree)
    return " ".join("".join(out).split())


def map_targets(tree: Any, kind: str, rewrite: Callable[[str], str]) -> None:
    """Apply ``rewrite`` to the target of every ``kind`` node ("Link" or "Image"), in place."""
    for node in nodes(tree):
        if node["t"] == kind:
            target = node["c"][2]
            target[0] = rewrite(target[0])


def map_links(tree: Any, rewrite: Callable[[str], str]) -> None:
    """Apply ``rewrite`` to every Link target in place."""
    map_targets(tree, "Link", rewrite)


def map_images(tree: Any, rewrite: Callable[[str], str]) -> None:
    """Apply ``rewrite`` to every Image source in place."""
    map_targets(tree, "Image", rewrite)


def document(blocks: list[Node], meta: dict[str, Any], version: list[int]) -> dict[str, Any]:
    return {"pandoc-api-version": version, "meta": meta, "blocks": blocks}


def meta_string(text: str) -> Node:
    return {"t": "MetaString", "c": text}


def meta_bool(value: bool) -> Node:
    return {"t": "MetaBool", "c": value}
