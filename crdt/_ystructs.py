"""The text types of a document, character by character: which is where, in UTF-16 units.

Comment anchors need three things pycrdt does not expose: the type that owns a character (even
a deleted one), the order of every character of a text type (deleted ones included), and
indexes in UTF-16 code units (pycrdt's text indexes are UTF-8 bytes). :func:`read_texts` gets
them from a document's full state without re-implementing Yjs' integration: it rewrites the
content of every text type (deleted content included) into stand-in characters, drops the
delete set, and lets Yrs integrate that copy. Each struct (a run of characters by one client,
contiguous in the text) becomes a unique marker character followed by fillers, one character
per UTF-16 code unit, so the copy's text lists the structs in document order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

from crdt._varint import write_var_uint
from crdt._yupdate import (
    DELETED,
    EMBED,
    FORMAT,
    ID,
    STRING,
    TYPE,
    Struct,
    TypeKey,
    Update,
    parents,
    parse_update,
)
from crdt.errors import ProtocolError

__all__ = [
    "ID",
    "TextUnits",
    "Texts",
    "TypeKey",
    "plain_text",
    "read_texts",
    "text_nodes",
]

_TEXT_TYPE_REFS = (2, 6)  # Y.Text, Y.XmlText
_MAX_UNITS = 1 << 24  # characters of one text type, deleted ones included

# Stand-in characters: BMP code points, no surrogates and no noncharacters, so that each one is
# one UTF-16 code unit (one clock tick), as the character it replaces. The filler is not a
# marker.
_FILLER = " "
_FIRST = 0x21
_GAP_START, _GAP_END = 0xD800, 0xE000
_MODULUS = (_GAP_START - _FIRST) + (0xFFFE - _GAP_END)


def _marker(value: int) -> str:
    code = _FIRST + value % _MODULUS
    return chr(code if code < _GAP_START else code + (_GAP_END - _GAP_START))


def _value_of(char: str) -> int:
    code = ord(char)
    return code - _FIRST if code < _GAP_START else code - _FIRST - (_GAP_END - _GAP_START)


@dataclass(slots=True)
class _Table:
    """The structs of one text type, in the order of the update: struct ``n`` is marked by
    value ``base + n`` in the copy."""

    base: int = 0
    units: int = 0
    segments: list[Struct] = field(default_factory=list)
    live: list[list[bool]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TextUnits:
    """The characters of one text type in document order, deleted ones included: for each,
    its struct (a number for :meth:`Texts.item` and :meth:`Texts.unit`), its offset there,
    and whether it is live."""

    segments: list[int]
    offsets: list[int]
    live: list[bool]


@dataclass(slots=True)
class Texts:
    """Every text type of a document that anchors can point into, by type key.

    Characters are looked up by id and ordered lazily: a lookup costs one text search, and
    only the types an anchor touches are put in document order.
    """

    _update: Update
    _tables: dict[TypeKey, _Table]
    _placed: dict[int, tuple[TypeKey, int]]  # id(struct) -> its type, its number there
    _order: dict[TypeKey, str] = field(default_factory=dict)  # the copy's text of each type
    _ordered: dict[TypeKey, TextUnits] = field(default_factory=dict)
    deleted_types: set[TypeKey] = field(default_factory=set)
    root_names: list[str] = field(default_factory=list)
    nodes: list[TypeKey | None] = field(default_factory=list)
    """The key of each node of :func:`text_nodes` (None: not identified, e.g. empty)."""

    def locate(self, item: ID) -> tuple[TypeKey, int] | None:
        """The type holding character ``item`` and its position there (deleted characters
        included), or None when no text type holds it."""
        struct = self._update.find(item)
        placed = self._placed.get(id(struct)) if struct is not None else None
        if struct is None or placed is None or placed[0] not in self._order:
            return None
        key, number = placed
        position = self._order[key].find(_marker(self._tables[key].base + number))
        return (key, position + item[1] - struct.clock) if position >= 0 else None

    def ordered(self, key: TypeKey) -> TextUnits | None:
        """The characters of type ``key`` in document order, or None if it is not known."""
        if key in self._ordered or key not in self._order:
            return self._ordered.get(key)
        table = self._tables[key]
        result = TextUnits([], [], [])
        number, offset = 0, 0
        for char in self._order[key]:
            if char == _FILLER:
                offset += 1
            else:
                number, offset = (_value_of(char) - table.base) % _MODULUS, 0
            if offset >= len(table.live[number]):
                return None  # the copy does not match the update: never with Yrs' own output
            result.segments.append(number)
            result.offsets.append(offset)
            result.live.append(table.live[number][offset])
        self._ordered[key] = result
        return result

    def item(self, key: TypeKey, number: int, offset: int) -> ID:
        """The id of character ``offset`` of struct ``number`` of type ``key``."""
        struct = self._tables[key].segments[number]
        return struct.client, struct.clock + offset

    def unit(self, key: TypeKey, number: int, offset: int) -> bytes:
        """The UTF-16 code unit of a character (b"" for an embed or deleted content)."""
        struct = self._tables[key].segments[number]
        if struct.kind != STRING:
            return b""
        raw = struct.text.encode("utf-16-le", errors="surrogatepass")
        return raw[2 * offset : 2 * offset + 2]


def _is_text_type(update: Update, key: TypeKey, kinds: dict[TypeKey, set[int]]) -> bool:
    if isinstance(key, str):
        return bool(kinds.get(key, set()) & {STRING, EMBED, FORMAT})
    holder = update.find(key)
    return holder is not None and holder.kind == TYPE and holder.type_ref in _TEXT_TYPE_REFS


def read_texts(full_state: bytes) -> Texts:
    """Read the text types of a document from its full state (a Yjs v1 update).

    Raises:
        ProtocolError: the update cannot be read, or a text type is too large.
    """
    update = parse_update(full_state)
    owners = parents(update)
    kinds: dict[TypeKey, set[int]] = {}
    for structs in update.structs.values():
        for struct in structs:
            key = owners[id(struct)]
            if key is not None:
                kinds.setdefault(key, set()).add(struct.kind)
    tables: dict[TypeKey, _Table] = {}
    placed: dict[int, tuple[TypeKey, int]] = {}
    for structs in update.structs.values():
        for struct in structs:
            key = owners[id(struct)]
            if struct.kind not in (STRING, EMBED, DELETED) or key is None:
                continue
            if struct.length == 0 or not _is_text_type(update, key, kinds):
                continue
            table = tables.setdefault(key, _Table())
            table.units += struct.length
            if len(table.segments) + 1 >= _MODULUS or table.units > _MAX_UNITS:
                raise ProtocolError("a text type is too large for anchors")
            placed[id(struct)] = (key, len(table.segments))
            table.segments.append(struct)
            if struct.kind == DELETED:
                table.live.append([False] * struct.length)
            else:
                deleted = update.deleted_mask(struct.client, struct.clock, struct.length)
                table.live.append([not gone for gone in deleted])
    signatures = _assign_bases(tables)
    texts = Texts(update, tables, placed, deleted_types=set())
    texts.deleted_types = {
        key for key in kinds if not isinstance(key, str) and update.is_deleted(key)
    }
    _read_order(texts, _copy(full_state, update, tables), signatures)
    return texts


def _copy(full_state: bytes, update: Update, tables: dict[TypeKey, _Table]) -> bytes:
    """The update with every struct of every text type replaced by its stand-in string (a
    marker, then fillers) and no deletions, so every character ever typed is in the text."""
    stand_ins: dict[int, str] = {}
    for table in tables.values():
        for number, struct in enumerate(table.segments):
            stand_ins[id(struct)] = _marker(table.base + number) + _FILLER * (struct.length - 1)
    out = bytearray()
    last = 0
    for structs in update.structs.values():
        for struct in structs:
            text = stand_ins.get(id(struct))
            if text is None:
                continue
            encoded = text.encode("utf-8")
            out += full_state[last : struct.info_pos]
            out.append((full_state[struct.info_pos] & 0xE0) | STRING)
            out += full_state[struct.info_pos + 1 : struct.content_start]
            out += write_var_uint(len(encoded)) + encoded
            last = struct.content_end
    out += full_state[last : update.structs_end]
    out += b"\x00"  # an empty delete set
    return bytes(out)


def _assign_bases(tables: dict[TypeKey, _Table]) -> dict[int, dict[int, TypeKey]]:
    """Give each table a run of marker values that its (length, start) identifies."""
    signatures: dict[int, dict[int, TypeKey]] = {}
    base = 0
    for key, table in tables.items():
        size = len(table.segments)
        same_size = signatures.setdefault(size, {})
        while base % _MODULUS in same_size:
            base += 1
        table.base = base % _MODULUS
        same_size[table.base] = key
        base += size
    return signatures


def text_nodes(doc: Doc[Any], root_names: list[str]) -> list[Text | XmlText]:
    """The text types anchors may point into, in a fixed order: the root texts named, then
    the XmlText nodes of the ``default`` fragment, depth first."""
    nodes: list[Text | XmlText] = [doc.get(name, type=Text) for name in root_names]
    if "default" not in doc.keys():
        return nodes
    pending: list[XmlFragment | XmlElement | XmlText] = [doc.get("default", type=XmlFragment)]
    while pending:
        node = pending.pop()
        if isinstance(node, XmlText):
            nodes.append(node)
        else:
            pending.extend(reversed(list(node.children)))
    return nodes


def plain_text(node: Text | XmlText) -> str:
    """The characters of a text type, an embed counted as one U+FFFC."""
    return "".join(chunk if isinstance(chunk, str) else "\ufffc" for chunk, _ in node.diff())


def _identify(text: str, signatures: dict[int, dict[int, TypeKey]]) -> TypeKey | None:
    """Which table the copy's text of a type belongs to, from its markers."""
    markers = text.replace(_FILLER, "")
    if not markers or text[0] == _FILLER:
        return None
    candidates = signatures.get(len(markers), {})
    first = _value_of(markers[0])
    found = [key for base, key in candidates.items() if (first - base) % _MODULUS < len(markers)]
    if len(found) == 1:
        return found[0]
    present = {_value_of(char) for char in markers}
    starts = [value for value in present if (value - 1) % _MODULUS not in present]
    if len(starts) != 1 or len(present) != len(markers):
        return None
    return candidates.get(starts[0])


def _read_order(texts: Texts, copy: bytes, signatures: dict[int, dict[int, TypeKey]]) -> None:
    """Integrate the copy and keep each text type's stand-ins, in document order."""
    doc: Doc[Any] = Doc()
    doc.apply_update(copy)
    texts.root_names = [key for key in texts._tables if isinstance(key, str)]
    for node in text_nodes(doc, texts.root_names):
        text = plain_text(node)
        key = _identify(text, signatures)
        if key is None or key in texts._order or len(text) != texts._tables[key].units:
            texts.nodes.append(None)
            continue
        texts.nodes.append(key)
        texts._order[key] = text
