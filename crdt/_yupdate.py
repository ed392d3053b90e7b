"""Yjs v1 updates read struct by struct: ids, origins, parents and where each content lies.

pycrdt applies and merges updates but does not show their structs; the comment anchors need
them (:mod:`crdt._ystructs`). Reading is total: any bytes give an :class:`Update` or raise
:class:`~crdt.errors.ProtocolError`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from crdt.errors import ProtocolError

__all__ = [
    "ANY",
    "BINARY",
    "DELETED",
    "DOC",
    "EMBED",
    "FORMAT",
    "GC",
    "ID",
    "JSON",
    "SKIP",
    "STRING",
    "TYPE",
    "XML_NAMED_REFS",
    "Struct",
    "TypeKey",
    "Update",
    "parents",
    "parse_update",
    "root_kinds",
    "skip_any",
    "skip_bytes",
    "uint_tail",
]

ID = tuple[int, int]
"""A struct id: (client, clock)."""

TypeKey = str | ID
"""A root type's name, or the id of the item that holds a nested type."""

GC, SKIP = 0, 10
DELETED, JSON, BINARY, STRING, EMBED, FORMAT, TYPE, ANY, DOC = range(1, 10)
XML_NAMED_REFS = (3, 5)  # Y.XmlElement, Y.XmlHook carry a node name
_MAX_DEPTH = 64


_MEMO_SIZE = 1024
_memo: dict[bytes, int] = {}
"""5-byte varuints by their bytes. Yjs client ids are random 32-bit numbers, so nearly every
one is 5 bytes long, and an update names its client at least once and the clients it builds
on once per origin; read a byte at a time in Python one takes longer than the rest of a
keystroke's struct. A room sees few distinct clients, and the memo is bounded: it is emptied
when full. No 5-byte key is a prefix of another varuint, so a hit is exact."""


def uint_tail(data: bytes, pos: int, first: int) -> tuple[int, int]:
    """Finish reading a varuint whose first byte, ``first`` (0x80 or more), is already read.

    Args:
        data: the bytes being read.
        pos: where the varuint's second byte is.
        first: the varuint's first byte.

    Returns:
        The number and the position just past it.

    Raises:
        ProtocolError: the bytes end inside the number, or it runs past 9 bytes.
    """
    try:
        byte = data[pos]
        if byte < 0x80:
            return (first & 0x7F) | byte << 7, pos + 1
        key = data[pos - 1 : pos + 4]
        value = _memo.get(key)
        if value is not None:
            return value, pos + 4
        value, shift = first & 0x7F, 7
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
            if shift > 56:
                raise ProtocolError("number too large")
    except IndexError:  # indexing past the end is the bounds check: the common case pays none
        raise ProtocolError("update truncated") from None
    if shift == 28:
        if len(_memo) >= _MEMO_SIZE:
            _memo.clear()
        _memo[key] = value
    return value, pos


def skip_any(data: bytes, pos: int, depth: int = 0) -> int:
    """Skip one lib0 ``Any`` value.

    Args:
        data: the bytes being read.
        pos: where the value's tag is.
        depth: how many arrays and objects hold this value.

    Returns:
        The position just past the value.

    Raises:
        ProtocolError: the value is truncated, has an unknown tag, a varuint past 9 bytes,
            or more than 64 levels of nesting.
    """
    if depth > _MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    try:
        tag = data[pos]
        pos += 1
        if tag in (127, 126, 121, 120):
            return pos
        if tag == 125:
            while data[pos] >= 0x80:
                pos += 1
            return pos + 1
        if tag == 124:
            size = 4
        elif tag in (123, 122):
            size = 8
        elif tag in (119, 116):
            size = data[pos]
            pos += 1
            if size > 0x7F:
                size, pos = uint_tail(data, pos, size)
        elif tag in (118, 117):
            count = data[pos]
            pos += 1
            if count > 0x7F:
                count, pos = uint_tail(data, pos, count)
            for _ in range(count):
                if tag == 118:
                    pos = skip_bytes(data, pos)  # the key
                pos = skip_any(data, pos, depth + 1)
            return pos
        else:
            raise ProtocolError(f"unknown value tag {tag}")
    except IndexError:
        raise ProtocolError("update truncated") from None
    pos += size
    if pos > len(data):
        raise ProtocolError("update truncated")
    return pos


def skip_bytes(data: bytes, pos: int) -> int:
    """Skip a length-prefixed byte string; the position just past it. Call it where an
    IndexError (no length byte) is taken as "update truncated", as for the varuints."""
    length = data[pos]
    pos += 1
    if length > 0x7F:
        length, pos = uint_tail(data, pos, length)
    pos += length
    if pos > len(data):
        raise ProtocolError("update truncated")
    return pos


class Cursor:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ProtocolError("update truncated")
        self.pos += 1
        return self.data[self.pos - 1]

    def uint(self) -> int:
        byte = self.byte()
        if byte < 0x80:
            return byte
        value, self.pos = uint_tail(self.data, self.pos, byte)
        return value

    def skip(self, length: int) -> None:
        if length > len(self.data) - self.pos:
            raise ProtocolError("update truncated")
        self.pos += length

    def string(self) -> str:
        length = self.uint()
        start = self.pos
        self.skip(length)
        try:
            return self.data[start : self.pos].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("string is not valid UTF-8") from exc

    def skip_any(self) -> None:
        """Skip one lib0 ``Any`` value."""
        self.pos = skip_any(self.data, self.pos)


@dataclass(slots=True)
class Struct:
    client: int
    clock: int
    length: int = 0
    kind: int = GC
    info_pos: int = 0
    content_start: int = 0
    content_end: int = 0
    origin: ID | None = None
    right: ID | None = None
    """The right origin as encoded (``origin`` falls back to it when there is no left one)."""
    parent: TypeKey | None = None
    in_map: bool = False
    type_ref: int | None = None
    text: str = ""


def read_content(cursor: Cursor, struct: Struct) -> None:
    kind = struct.kind
    if kind == DELETED:
        struct.length = cursor.uint()
    elif kind == JSON:
        struct.length = cursor.uint()
        for _ in range(struct.length):
            cursor.skip(cursor.uint())
    elif kind == STRING:
        struct.text = cursor.string()
        struct.length = len(struct.text.encode("utf-16-le", errors="surrogatepass")) // 2
    elif kind in (BINARY, EMBED):
        cursor.skip(cursor.uint())
        struct.length = 1
    elif kind == FORMAT:
        cursor.skip(cursor.uint())
        cursor.skip(cursor.uint())
        struct.length = 1
    elif kind == TYPE:
        struct.type_ref = cursor.uint()
        if struct.type_ref in XML_NAMED_REFS:
            cursor.skip(cursor.uint())
        struct.length = 1
    elif kind == ANY:
        struct.length = cursor.uint()
        for _ in range(struct.length):
            cursor.skip_any()
    elif kind == DOC:
        cursor.skip(cursor.uint())
        cursor.skip_any()
        struct.length = 1
    else:
        raise ProtocolError(f"unsupported content kind {kind}")


def read_struct(cursor: Cursor, client: int, clock: int) -> Struct:
    struct = Struct(client, clock, info_pos=cursor.pos)
    info = cursor.byte()
    struct.kind = info & 0x1F
    if struct.kind in (GC, SKIP):
        struct.length = cursor.uint()
        return struct
    right: ID | None = None
    if info & 0x80:
        struct.origin = (cursor.uint(), cursor.uint())
    if info & 0x40:
        right = (cursor.uint(), cursor.uint())
        struct.right = right
    if not info & 0xC0:
        struct.parent = cursor.string() if cursor.uint() == 1 else (cursor.uint(), cursor.uint())
        if info & 0x20:
            cursor.string()
            struct.in_map = True
    elif struct.origin is None:
        struct.origin = right
    struct.content_start = cursor.pos
    read_content(cursor, struct)
    struct.content_end = cursor.pos
    return struct


@dataclass(slots=True)
class Update:
    structs: dict[int, list[Struct]] = field(default_factory=dict)
    clocks: dict[int, list[int]] = field(default_factory=dict)  # first clock of each struct
    deleted: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    structs_end: int = 0

    def find(self, item: ID) -> Struct | None:
        structs = self.structs.get(item[0])
        if not structs:
            return None
        at = bisect.bisect_right(self.clocks[item[0]], item[1]) - 1
        if at < 0 or item[1] >= structs[at].clock + structs[at].length:
            return None
        return structs[at]

    def is_deleted(self, item: ID) -> bool:
        return self.deleted_mask(item[0], item[1], 1)[0]

    def deleted_mask(self, client: int, clock: int, length: int) -> list[bool]:
        """For each clock of ``[clock, clock + length)``: is it in the delete set?"""
        mask = [False] * length
        ranges = self.deleted.get(client, [])
        at = max(bisect.bisect_right(ranges, clock, key=lambda r: r[0]) - 1, 0)
        for start, size in ranges[at:]:
            if start >= clock + length:
                break
            low, high = max(start, clock), min(start + size, clock + length)
            if low < high:
                mask[low - clock : high - clock] = [True] * (high - low)
        return mask


def parse_update(data: bytes) -> Update:
    cursor = Cursor(data)
    update = Update()
    for _ in range(cursor.uint()):
        count, client, clock = cursor.uint(), cursor.uint(), cursor.uint()
        structs = update.structs.setdefault(client, [])
        for _ in range(count):
            struct = read_struct(cursor, client, clock)
            clock += struct.length
            if struct.kind != SKIP:
                structs.append(struct)
        structs.sort(key=lambda s: s.clock)
        update.clocks[client] = [struct.clock for struct in structs]
    update.structs_end = cursor.pos
    for _ in range(cursor.uint()):
        client = cursor.uint()
        ranges = update.deleted.setdefault(client, [])
        ranges.extend((cursor.uint(), cursor.uint()) for _ in range(cursor.uint()))
        ranges.sort()
    if cursor.pos != len(data):
        raise ProtocolError("bytes left after the delete set")
    return update


def parents(update: Update) -> dict[int, TypeKey | None]:
    """The type each struct belongs to (by ``id(struct)``), following origins like Yjs."""
    known: dict[int, TypeKey | None] = {}
    for structs in update.structs.values():
        for start in structs:
            chain: list[Struct] = []
            seen: set[int] = set()
            struct: Struct | None = start
            result: TypeKey | None = None
            while struct is not None:
                if id(struct) in known:
                    result = known[id(struct)]
                    break
                chain.append(struct)
                seen.add(id(struct))
                if struct.kind == GC or struct.origin is None:
                    result = None if struct.kind == GC or struct.in_map else struct.parent
                    break
                following = update.find(struct.origin)
                struct = None if following is None or id(following) in seen else following
            for member in chain:
                known[id(member)] = None if member.in_map else result
    return known


_XML_CHILD_REFS = (3, 5, 6)  # Y.XmlElement, Y.XmlHook, Y.XmlText


def root_kinds(update: Update) -> dict[str, str]:
    """What kind each root type of an update must be, judged by its content.

    Yjs does not record a root's kind; its items tell it: keyed entries make a ``"map"``,
    characters and formatting a ``"text"``, XML nodes an ``"xml"`` fragment, anything else
    an ``"array"``. Roots whose items are all deleted (or garbage collected) are left out.
    """
    kinds: dict[str, str] = {}
    owners = parents(update)
    for structs in update.structs.values():
        for struct in structs:
            if struct.kind in (GC, DELETED):
                continue
            if struct.in_map:
                if isinstance(struct.parent, str):
                    kinds[struct.parent] = "map"
                continue
            owner = owners.get(id(struct))
            if not isinstance(owner, str) or kinds.get(owner) in ("map", "text"):
                continue
            if struct.kind in (STRING, FORMAT, EMBED):
                kinds[owner] = "text"
            elif struct.kind == TYPE and struct.type_ref in _XML_CHILD_REFS:
                kinds[owner] = "xml"
            else:
                kinds.setdefault(owner, "array")
    return kinds
