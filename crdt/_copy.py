"""Canonical keys and deep copies of Yjs content, for :mod:`crdt.blocks`.

A key is a string that two pieces of content share exactly when a Yjs client sees them as the
same: element names, attribute values, text with its formatting, embeds and nested shared types.
Numbers are compared as JavaScript compares them (pycrdt reads a Yjs integer back as a
``float``), so ``2`` and ``2.0`` give the same key.

A copy rebuilds content in another document as new items: elements with their attributes and
children, text with its formatting deltas, embeds, and nested ``Map``, ``Array`` and ``Text``
values. XML trees are walked with an explicit stack, so a deeply nested hostile document cannot
exhaust the interpreter's recursion limit; nested ``Map``/``Array`` values (which TipTap never
writes) are walked recursively. An embedded sub-document is copied as ``None``: a restore never
moves a sub-document between documents.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

__all__ = [
    "XmlNode",
    "copy_value",
    "delta_units",
    "fill_text",
    "insert_node",
    "node_key",
    "node_text",
    "unit_size",
    "value_key",
]

XmlNode = XmlElement | XmlText | XmlFragment
"""A node of an XML tree, as pycrdt returns the children of a fragment or element."""

Delta = Sequence[tuple[object, Mapping[str, object] | None]]
"""Formatted chunks of a text, as ``Text.diff()`` / ``XmlText.diff()`` return them."""

_SEPARATORS: Final = (",", ":")


def _normal(value: object) -> object:
    """``value`` as plain JSON data that compares as a Yjs client compares it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(key): _normal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(item) for item in value]
    if isinstance(value, bytes):
        return {"#bytes": value.hex()}
    if isinstance(value, Map):
        return {"#map": {key: _normal(item) for key, item in value.items()}}
    if isinstance(value, Array):
        return {"#array": [_normal(item) for item in value]}
    if isinstance(value, Text):
        return {"#text": _delta_normal(value.diff())}
    if isinstance(value, XmlElement | XmlText | XmlFragment):
        return {"#xml": node_key(value)}
    if isinstance(value, Doc):
        return {"#doc": value.guid}
    return value


def _delta_normal(delta: Delta) -> list[object]:
    """The chunks of ``delta`` as JSON data, neighbouring strings of equal formatting merged
    (redundant formatting markers split a text into chunks that read the same)."""
    chunks: list[list[object]] = []
    for value, attrs in delta:
        formatting = _normal(attrs or {})
        if isinstance(value, str) and chunks:
            last, last_formatting = chunks[-1]
            if isinstance(last, str) and last_formatting == formatting:
                chunks[-1][0] = last + value
                continue
        chunks.append([_normal(value), formatting])
    return list(chunks)


def _dumps(data: object) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=_SEPARATORS)


def value_key(value: object) -> str:
    """The canonical key of a ``Map``/``Array`` value or of a root ``Text``/``Array``/``Map``."""
    return _dumps(_normal(value))


def _attributes(node: XmlElement | XmlText) -> dict[str, object]:
    # XmlAttributesView.__iter__ is typed as returning an Iterable, not an Iterator.
    return dict(node.attributes.__iter__())


def _walk(node: XmlNode) -> Iterator[XmlNode | None]:
    """``node`` and its descendants in document order; ``None`` closes an element."""
    stack: list[XmlNode | None] = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not None and not isinstance(current, XmlText):
            stack.append(None)
            stack.extend(reversed(list(current.children)))


def node_key(node: XmlNode) -> str:
    """The canonical key of an XML node: equal keys mean equal trees.

    The tree is written in document order as open, text and close tokens, which is unambiguous
    without nesting the output.
    """
    tokens: list[object] = []
    for current in _walk(node):
        if current is None:
            tokens.append(">")
        elif isinstance(current, XmlText):
            tokens.append(
                ["#", _normal(_attributes(current)), _delta_normal(current.diff())],
            )
        else:
            tag = current.tag if isinstance(current, XmlElement) else None
            attributes = _attributes(current) if isinstance(current, XmlElement) else {}
            tokens.append(["<", tag or "", _normal(attributes)])
    return _dumps(tokens)


def node_text(node: XmlNode) -> str:
    """The plain text under ``node``: its texts joined by a space; embeds are skipped."""
    parts = (
        "".join(value for value, _ in current.diff() if isinstance(value, str))
        for current in _walk(node)
        if isinstance(current, XmlText)
    )
    return " ".join(part for part in parts if part)


def delta_units(delta: Delta) -> list[tuple[str, object, Mapping[str, object]]]:
    """A text delta cut into units: ``(key, value, attributes)`` per code point or embed.

    Two units with equal keys are the same character (or embed) with the same formatting.
    """
    units: list[tuple[str, object, Mapping[str, object]]] = []
    for value, attrs in delta:
        attributes = attrs or {}
        formatting = _dumps(_normal(attributes))
        if isinstance(value, str):
            units.extend((f"s{char}\x00{formatting}", char, attributes) for char in value)
        else:
            units.append((f"e{_dumps(_normal(value))}\x00{formatting}", value, attributes))
    return units


def unit_size(value: object) -> int:
    """How many pycrdt text indexes ``value`` takes: its UTF-8 bytes if a string, else 1."""
    return len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else 1


def fill_text(text: Text | XmlText, index: int, delta: Delta) -> None:
    """Insert the chunks of ``delta`` into ``text`` at the pycrdt ``index``, with formatting.

    Every chunk is inserted with explicit attributes (``{}`` for none), so that it does not
    take on the formatting of the text before it.
    """
    for value, attrs in delta:
        attributes = dict(attrs or {})
        if isinstance(value, str):
            if value:
                text.insert(index, value, attributes)
                index += unit_size(value)
        else:

            def put(
                prelim: object, at: int = index, formatting: dict[str, object] = attributes
            ) -> object:
                text.insert_embed(at, prelim, formatting)
                return prelim

            copy_value(value, put)
            index += 1


def copy_value(value: object, put: Callable[[object], object]) -> None:
    """Write a copy of ``value`` through ``put``, which integrates what it is given.

    Shared types are first put empty, then filled once integrated, so nested ones keep their
    kind and a text keeps its formatting.
    """
    if isinstance(value, Map):
        target_map = put(Map())
        assert isinstance(target_map, Map)
        for key, item in value.items():
            copy_value(item, functools.partial(_map_put, target_map, key))
    elif isinstance(value, Array):
        target_array = put(Array())
        assert isinstance(target_array, Array)
        for item in value:
            copy_value(item, functools.partial(_array_put, target_array))
    elif isinstance(value, Text):
        target_text = put(Text())
        assert isinstance(target_text, Text)
        fill_text(target_text, 0, value.diff())
    elif isinstance(value, XmlFragment | XmlElement | XmlText):
        fragment = put(XmlFragment())
        assert isinstance(fragment, XmlFragment)
        children = [value] if isinstance(value, XmlText | XmlElement) else list(value.children)
        for position, child in enumerate(children):
            insert_node(fragment, position, child)
    elif isinstance(value, Doc):
        put(None)
    else:
        put(value)


def _map_put(target: Map[object], key: str, prelim: object) -> object:
    target[key] = prelim
    return prelim


def _array_put(target: Array[object], prelim: object) -> object:
    target.append(prelim)
    return prelim


def insert_node(parent: XmlFragment | XmlElement, index: int, source: XmlNode) -> None:
    """Insert a deep copy of ``source`` (from another document) at ``index`` in ``parent``."""
    stack: list[tuple[XmlNode, XmlFragment | XmlElement, int | None]] = [(source, parent, index)]
    while stack:
        node, into, at = stack.pop()
        position = len(into.children) if at is None else at
        if isinstance(node, XmlText):
            text = into.children.insert(position, XmlText())
            for key, value in _attributes(node).items():
                text.attributes[key] = value
            fill_text(text, 0, node.diff())
            continue
        tag = node.tag if isinstance(node, XmlElement) else None
        element = into.children.insert(position, XmlElement(tag or "fragment"))
        if isinstance(node, XmlElement):
            for key, value in _attributes(node).items():
                element.attributes[key] = value
        # Children are appended in order: each is inserted before the next is popped.
        stack.extend((child, element, None) for child in reversed(list(node.children)))
