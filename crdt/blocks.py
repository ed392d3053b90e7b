"""Top-level blocks of a document, their diff, and the update that restores an older state.

TipTap (y-prosemirror) stores a document in the ``XmlFragment`` named ``default``; its
children are the blocks a reader sees: headings, paragraphs, lists, tables. A version is
compared with another block by block, and restored block by block, so that the blocks both
share stay the same Yjs items: comment anchors (sticky indexes) in them keep resolving, and
people editing them at the time of the restore do not lose their cursor.

Blocks are aligned by a longest common subsequence of their keys (after the common prefix and
suffix are set aside, so that a long document with a few changes costs little).

Root types: Yjs updates do not record whether a root is a ``Text``, a ``Map``, an ``Array`` or
an ``XmlFragment``, and pycrdt knows a root's kind only once someone asked for it by type
(``doc.get(name, type=...)``). :func:`restore_update` takes a root's kind from either document
when it knows it, and otherwise from the items stored under the root (keyed entries: a map;
characters: a text; XML nodes: a fragment; other values: an array). ``default`` is a
fragment unless known otherwise.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from crdt._copy import (
    XmlNode,
    copy_value,
    delta_units,
    fill_text,
    insert_node,
    node_key,
    node_text,
    unit_size,
    value_key,
)
from crdt._yupdate import parse_update, root_kinds
from crdt.document import Document, merge_updates
from crdt.errors import ProtocolError
from crdt.state_vector import decode_state_vector

__all__ = ["Block", "BlockChange", "blocks", "diff_blocks", "restore_update"]

_FRAGMENT: Final = "default"
"""The root ``XmlFragment`` TipTap's Collaboration extension edits."""

_EXACT_ALIGNMENT: Final = 1_000_000
"""Above this many (old, new) pairs of differing blocks, the alignment stops treating blocks
repeated all over the document as match seeds (see :func:`_align`)."""

_RootKind = type[Text] | type[Map[Any]] | type[Array[Any]] | type[XmlFragment]
_Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True, slots=True)
class Block:
    """One top-level block of the ``default`` fragment.

    Attributes:
        kind: the node name (``paragraph``, ``heading``, ``table``, ...), or ``"text"`` for a
            text directly in the fragment.
        text: the plain text of the block, its texts joined by a space, for display.
        key: a canonical serialisation of the block (name, attributes, children, text with its
            formatting): two blocks are equal exactly when their keys are.
    """

    kind: str
    text: str
    key: str


@dataclass(frozen=True, slots=True)
class BlockChange:
    """How one block differs between two versions.

    A ``changed`` block is one block replaced by one block at the same place in the alignment;
    ``old_index`` and ``new_index`` are positions in the old and in the new list of blocks.
    """

    change: Literal["added", "removed", "changed"]
    old_index: int | None
    new_index: int | None
    old: Block | None
    new: Block | None


def _block(node: XmlNode) -> Block:
    if isinstance(node, XmlText):
        kind = "text"
    else:
        kind = (node.tag if isinstance(node, XmlElement) else None) or "fragment"
    return Block(kind=kind, text=node_text(node), key=node_key(node))


def blocks(document: Document) -> list[Block]:
    """The top-level blocks of the ``default`` fragment of ``document``, in order."""
    doc = document.ydoc
    if _FRAGMENT not in doc.keys():
        return []
    fragment = doc.get(_FRAGMENT, type=XmlFragment)
    with doc.transaction():
        return [_block(node) for node in fragment.children]


def _common_ends(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """The lengths of the common prefix and of the common suffix (not overlapping it)."""
    end = min(len(old), len(new))
    start = 0
    while start < end and old[start] == new[start]:
        start += 1
    tail = 0
    while tail < end - start and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return start, tail


def _align(old: Sequence[str], new: Sequence[str]) -> list[_Opcode]:
    """The non-equal opcodes (``replace``, ``delete``, ``insert``) turning ``old`` into ``new``.

    The common prefix and suffix are matched first, in linear time; only what lies between
    them goes through :class:`difflib.SequenceMatcher`. That is quadratic in the number of
    repeated blocks (empty paragraphs, rules), so past :data:`_EXACT_ALIGNMENT` pairs the
    blocks repeated in more than 1% of the places no longer start a match: the result is
    still a correct diff, which may replace a few equal repeated blocks.
    """
    start, tail = _common_ends(old, new)
    old_middle = old[start : len(old) - tail]
    new_middle = new[start : len(new) - tail]
    matcher = difflib.SequenceMatcher(
        None,
        old_middle,
        new_middle,
        autojunk=len(old_middle) * len(new_middle) > _EXACT_ALIGNMENT,
    )
    return [
        (tag, i1 + start, i2 + start, j1 + start, j2 + start)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def diff_blocks(old: Sequence[Block], new: Sequence[Block]) -> list[BlockChange]:
    """The blocks added, removed and changed from ``old`` to ``new``, in document order.

    Where the alignment replaces ``m`` old blocks by ``n`` new ones, the first ``min(m, n)``
    are ``changed`` pairwise, and the rest are ``removed`` (or ``added``).
    """
    changes: list[BlockChange] = []
    for _, i1, i2, j1, j2 in _align([b.key for b in old], [b.key for b in new]):
        paired = min(i2 - i1, j2 - j1)
        changes.extend(
            BlockChange("changed", i1 + k, j1 + k, old[i1 + k], new[j1 + k]) for k in range(paired)
        )
        changes.extend(
            BlockChange("removed", i, None, old[i], None) for i in range(i1 + paired, i2)
        )
        changes.extend(BlockChange("added", None, j, None, new[j]) for j in range(j1 + paired, j2))
    return changes


# -- restore ---------------------------------------------------------------------------------------


def restore_update(current: Document, target: Document) -> bytes:
    """An update that makes ``current``'s content equal to ``target``'s, as a new change.

    The change is made on a private copy of ``current`` by a fresh client id, in one
    transaction, and returned as the difference from ``current``'s state vector: applied to
    ``current`` or to any replica of it, it deletes and inserts items and rewrites no history.
    Top-level blocks of ``default`` that are equal in both are left alone; the others are
    deleted and copies of ``target``'s blocks inserted. Other roots whose kind is known (see
    the module docstring) are made equal too: a ``Text`` outside its common prefix and
    suffix, an ``Array`` outside its common prefix and suffix of equal items, a ``Map`` key by
    key.

    Neither argument is changed.

    Returns:
        A Yjs v1 update; :data:`crdt.EMPTY_UPDATE` when the contents are already equal.
    """
    kinds = _root_kinds(target.ydoc, current.ydoc)
    copy = _private_copy(current)
    source: Doc[Any] = Doc()
    source.apply_update(target.full_state())
    changes: list[bytes] = []
    subscription = copy.observe(lambda event: changes.append(event.update))
    try:
        with copy.transaction(), source.transaction():
            for name, kind in sorted(kinds.items()):
                _restore_root(copy.get(name, type=kind), source.get(name, type=kind))
    finally:
        copy.unobserve(subscription)
    # The transaction's own update: its new items and only the deletions it made, which is
    # what copy.get_update(current's state vector) holds, without the deletions ``current``
    # already has.
    return merge_updates(changes)


def _root_kinds(*docs: Doc[Any]) -> dict[str, _RootKind]:
    """The kind of every root of the documents: as a document knows it (the first document's
    first), else as the items of its state tell (:func:`crdt._yupdate.root_kinds`); ``default``
    is a fragment unless known otherwise."""
    kinds: dict[str, _RootKind] = {}
    for doc in docs:
        for name, root in doc.items():
            if isinstance(root, Text | Map | Array | XmlFragment):
                kinds.setdefault(name, type(root))
    for doc in docs:
        try:
            inferred = root_kinds(parse_update(doc.get_update()))
        except ProtocolError:
            continue  # a state Yrs wrote but this reader cannot follow: known kinds only
        for name, kind in inferred.items():
            kinds.setdefault(name, _KINDS[kind])
    kinds.setdefault(_FRAGMENT, XmlFragment)
    return kinds


_KINDS: Final[Mapping[str, _RootKind]] = {
    "map": Map,
    "text": Text,
    "xml": XmlFragment,
    "array": Array,
}


def _private_copy(document: Document) -> Doc[Any]:
    """A new document holding ``document``'s state, whose client id ``document`` never used."""
    used = decode_state_vector(document.state_vector())
    copy: Doc[Any] = Doc()
    while copy.client_id in used:
        copy = Doc()
    copy.apply_update(document.full_state())
    return copy


def _restore_root(into: object, source: object) -> None:
    if isinstance(into, XmlFragment) and isinstance(source, XmlFragment):
        _restore_fragment(into, source)
    elif isinstance(into, Text) and isinstance(source, Text):
        _restore_text(into, source)
    elif isinstance(into, Array) and isinstance(source, Array):
        _restore_array(into, source)
    elif isinstance(into, Map) and isinstance(source, Map):
        _restore_map(into, source)


def _restore_fragment(into: XmlFragment, source: XmlFragment) -> None:
    old = list(into.children)
    new = list(source.children)
    opcodes = _align([node_key(node) for node in old], [node_key(node) for node in new])
    # From the end backwards, so that the indexes of the opcodes not yet applied hold.
    for _, i1, i2, j1, j2 in reversed(opcodes):
        if i2 > i1:
            del into.children[i1:i2]
        for offset, node in enumerate(new[j1:j2]):
            insert_node(into, i1 + offset, node)


def _restore_text(into: Text, source: Text) -> None:
    old = delta_units(into.diff())
    new = delta_units(source.diff())
    start, tail = _common_ends([unit[0] for unit in old], [unit[0] for unit in new])
    index = sum(unit_size(unit[1]) for unit in old[:start])
    removed = sum(unit_size(unit[1]) for unit in old[start : len(old) - tail])
    if removed:
        del into[index : index + removed]
    delta: list[tuple[object, Mapping[str, object] | None]] = []
    for _, value, attributes in new[start : len(new) - tail]:
        if (
            isinstance(value, str)
            and delta
            and isinstance(delta[-1][0], str)
            and delta[-1][1] == attributes
        ):
            delta[-1] = (f"{delta[-1][0]}{value}", attributes)
        else:
            delta.append((value, attributes))
    fill_text(into, index, delta)


def _restore_array(into: Array[Any], source: Array[Any]) -> None:
    old = list(into)
    new = list(source)
    start, tail = _common_ends([value_key(v) for v in old], [value_key(v) for v in new])
    if len(old) - tail > start:
        del into[start : len(old) - tail]
    for offset, value in enumerate(new[start : len(new) - tail]):
        copy_value(value, functools.partial(_array_insert, into, start + offset))


def _array_insert(array: Array[Any], index: int, prelim: object) -> object:
    array.insert(index, prelim)
    return prelim


def _restore_map(into: Map[Any], source: Map[Any]) -> None:
    wanted = dict(source.items())
    for key in [key for key in into.keys() if key not in wanted]:
        del into[key]
    for key, value in wanted.items():
        if key in into and value_key(into[key]) == value_key(value):
            continue
        copy_value(value, functools.partial(_map_set, into, key))


def _map_set(map_: Map[Any], key: str, prelim: object) -> object:
    map_[key] = prelim
    return prelim
