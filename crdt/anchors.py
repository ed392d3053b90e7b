"""Comment anchors: a range of text held by two Yjs relative positions.

A browser anchors a comment with ``Y.createRelativePositionFromTypeIndex`` and sends both ends
encoded by ``Y.encodeRelativePosition``; the server keeps those bytes as they are. A relative
position names a character by its id (client, clock), or a whole type ("end of type"), plus an
``assoc``: ``>= 0`` sticks to the character after the position, ``< 0`` to the one before. So
the range follows its text as people type before it or inside it, and when every character of
the range is deleted it becomes *detached* (the quote kept at creation is what remains).

The text types anchors point into are root ``Y.Text`` types and the ``Y.XmlText`` nodes of the
``default`` ``Y.XmlFragment`` (what TipTap / y-prosemirror edit). Indexes and lengths count
UTF-16 code units, as Yjs and the browser do (an emoji outside the BMP counts 2); pycrdt's own
text indexes count UTF-8 bytes and are not used here.

pycrdt's ``StickyIndex`` is not used either: it mixes UTF-8 and UTF-16 offsets, panics on ids
it does not know, and has no ``XmlText`` support. Positions are read and written here, and
resolved on the document's structs (:mod:`crdt._ystructs`). Not supported: a position on a
formatting mark or inside an embedded shared type, and text types elsewhere than the two above
(all resolve as detached); and a deletion undone by undo, which Yjs follows to the restored
copy of the text, stays a deletion here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pycrdt import Assoc, Doc, StickyIndex, Text, XmlText

from crdt._varint import write_var_uint
from crdt._ystructs import ID, Texts, TextUnits, TypeKey, plain_text, read_texts, text_nodes
from crdt.document import Document
from crdt.errors import ProtocolError

__all__ = [
    "MAX_POSITION_BYTES",
    "Anchor",
    "AnchorError",
    "Resolved",
    "anchor_range",
    "quote",
    "resolve",
    "resolve_all",
]

MAX_POSITION_BYTES = 256
"""The largest encoded relative position accepted (a root name is at most ~240 bytes)."""

_ITEM, _TYPE_NAME, _TYPE_ID = 0, 1, 2


class AnchorError(ProtocolError):
    """Bytes that are not a relative position, or a range that does not resolve to live text."""


@dataclass(frozen=True, slots=True)
class _Position:
    item: ID | None
    type_key: TypeKey | None
    assoc: int


class _PositionReader:
    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def byte(self) -> int:
        if self._pos >= len(self._data):
            raise AnchorError("relative position truncated")
        self._pos += 1
        return self._data[self._pos - 1]

    def uint(self) -> int:
        value, shift = 0, 0
        while (byte := self.byte()) >= 0x80:
            value |= (byte & 0x7F) << shift
            shift += 7
            if shift > 49:
                raise AnchorError("number too large in relative position")
        return value | (byte << shift)

    def int(self) -> int:
        """A lib0 signed varint: sign in bit 6 of the first byte."""
        first = self.byte()
        value, shift = first & 0x3F, 6
        byte = first
        while byte >= 0x80:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            shift += 7
            if shift > 55:
                raise AnchorError("number too large in relative position")
        return -value if first & 0x40 else value

    def name(self) -> str:
        length = self.uint()
        if length > len(self._data) - self._pos:
            raise AnchorError("relative position truncated")
        raw = self._data[self._pos : self._pos + length]
        self._pos += length
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AnchorError("type name is not valid UTF-8") from exc

    @property
    def at_end(self) -> bool:
        return self._pos == len(self._data)


def _decode_position(data: bytes) -> _Position:
    """Decode ``Y.encodeRelativePosition`` bytes; ``assoc`` defaults to 0 when absent."""
    if not isinstance(data, bytes):
        raise AnchorError("a relative position must be bytes")
    if not data or len(data) > MAX_POSITION_BYTES:
        raise AnchorError(f"a relative position has 1 to {MAX_POSITION_BYTES} bytes")
    reader = _PositionReader(data)
    kind = reader.uint()
    item: ID | None = None
    key: TypeKey | None = None
    if kind == _ITEM:
        item = (reader.uint(), reader.uint())
    elif kind == _TYPE_NAME:
        key = reader.name()
    elif kind == _TYPE_ID:
        key = (reader.uint(), reader.uint())
    else:
        raise AnchorError(f"unknown relative position kind {kind}")
    assoc = 0 if reader.at_end else reader.int()
    if not reader.at_end:
        raise AnchorError("bytes left after the relative position")
    return _Position(item, key, assoc)


def _encode_item_position(item: ID, assoc: int) -> bytes:
    sign = 0x40 if assoc < 0 else 0
    if abs(assoc) > 0x3F:
        raise ValueError("only small assoc values are written")
    return (
        bytes([_ITEM])
        + write_var_uint(item[0])
        + write_var_uint(item[1])
        + bytes([sign | abs(assoc)])
    )


@dataclass(frozen=True, slots=True)
class Anchor:
    """A range of text: two relative positions in ``Y.encodeRelativePosition`` encoding.

    Raises:
        AnchorError: either end is not a relative position (checked on construction).
    """

    start: bytes
    end: bytes

    def __post_init__(self) -> None:
        _decode_position(self.start)
        _decode_position(self.end)

    @classmethod
    def from_base64(cls, start: str, end: str) -> Anchor:
        """Build an anchor from the base64 of both ends, as a browser sends them.

        Raises:
            AnchorError: not base64, too large, or not relative positions.
        """
        return cls(_from_base64(start), _from_base64(end))

    def to_base64(self) -> tuple[str, str]:
        """Both ends in standard base64 (what ``from_base64`` reads)."""
        return (
            base64.b64encode(self.start).decode("ascii"),
            base64.b64encode(self.end).decode("ascii"),
        )


def _from_base64(text: str) -> bytes:
    if not isinstance(text, str) or len(text) > 4 * ((MAX_POSITION_BYTES + 2) // 3):
        raise AnchorError("an anchor end must be a base64 string of a relative position")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise AnchorError("an anchor end is not valid base64") from exc


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where an anchor is now, in UTF-16 code units of its text type.

    ``index`` and ``length`` are None exactly when ``detached``: the anchored text is gone
    (every character deleted, or its type deleted) or the ends are not in one type in order.
    """

    index: int | None
    length: int | None
    detached: bool


_DETACHED = Resolved(None, None, True)


def _read(full_state: bytes) -> Texts:
    try:
        return read_texts(full_state)
    except (ProtocolError, ValueError, TypeError, RuntimeError) as exc:
        raise AnchorError(f"cannot read the document's text: {exc}") from exc
    except BaseException as exc:
        # pycrdt surfaces Rust panics as pyo3's PanicException, a BaseException that cannot
        # be imported by name.
        if type(exc).__name__ != "PanicException":
            raise
        raise AnchorError("cannot read the document's text") from exc


def _locate(texts: Texts, position: _Position) -> tuple[TypeKey, int] | None:
    """The type and UTF-16 index a position resolves to, as
    ``Y.createAbsolutePositionFromRelativePosition``; None when it does not."""
    if position.item is not None:
        found = texts.locate(position.item)
        if found is None:
            return None
        key, at = found
    else:
        assert position.type_key is not None
        key, at = position.type_key, -1
    table = texts.ordered(key)
    if table is None or key in texts.deleted_types:
        return None
    if at < 0:
        return key, (sum(table.live) if position.assoc >= 0 else 0)
    index = sum(table.live[:at])
    if table.live[at] and position.assoc < 0:
        index += 1
    return key, index


def _span(texts: Texts, anchor: Anchor) -> tuple[TypeKey, TextUnits, int, int] | None:
    start = _locate(texts, _decode_position(anchor.start))
    end = _locate(texts, _decode_position(anchor.end))
    if start is None or end is None or start[0] != end[0] or end[1] <= start[1]:
        return None
    table = texts.ordered(start[0])
    assert table is not None
    return start[0], table, start[1], end[1]


def resolve(document: Document, anchor: Anchor) -> Resolved:
    """Where ``anchor`` is in ``document`` now.

    Args:
        document: the document the anchor was made in (or any replica of it).
        anchor: the two ends; either may carry any ``assoc`` a browser sends.

    Returns:
        The range in UTF-16 code units, or a detached result when its text is gone, its ends
        are unknown to the document, or they are not in one text type in order.

    Raises:
        AnchorError: the document's structure cannot be read.
    """
    span = _span(_read(document.full_state()), anchor)
    if span is None:
        return _DETACHED
    _, _, start, end = span
    return Resolved(start, end - start, False)


def resolve_all(document: Document, anchors: Sequence[Anchor]) -> list[Resolved]:
    """:func:`resolve` for many anchors of one document (a thread list), reading it once.

    Raises:
        AnchorError: the document's structure cannot be read.
    """
    if not anchors:
        return []
    texts = _read(document.full_state())
    results = []
    for anchor in anchors:
        span = _span(texts, anchor)
        results.append(_DETACHED if span is None else Resolved(span[2], span[3] - span[2], False))
    return results


def quote(document: Document, anchor: Anchor) -> str:
    """The plain text now in the anchored range (embeds left out).

    Raises:
        AnchorError: the anchor does not resolve to a non-empty live range of one text type.
    """
    texts = _read(document.full_state())
    span = _span(texts, anchor)
    if span is None:
        raise AnchorError("the anchor does not cover live text of one text type")
    key, table, start, end = span
    positions = [at for at, live in enumerate(table.live) if live][start:end]
    units = [texts.unit(key, table.segments[at], table.offsets[at]) for at in positions]
    return b"".join(units).decode("utf-16-le", errors="replace")


def anchor_range(text: Text | XmlText, index: int, length: int) -> Anchor:
    """An anchor over ``[index, index + length)`` of ``text``, in UTF-16 code units.

    The start sticks to the first character of the range (assoc 0), the end to its last
    character (assoc -1), as ``Y.createRelativePositionFromTypeIndex`` makes them.

    Args:
        text: a root ``Text`` or an ``XmlText`` of the ``default`` fragment, in a document.
        index: where the range starts.
        length: how many code units it covers, at least 1.

    Raises:
        AnchorError: the range is empty or past the end, or ``text`` is not such a type.
    """
    if not isinstance(text, (Text, XmlText)):
        raise AnchorError("anchors point into a Text or an XmlText")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise AnchorError("index must be a non-negative integer")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise AnchorError("length must be a positive integer")
    try:
        doc = text.doc
    except BaseException as exc:
        if isinstance(exc, Exception) or type(exc).__name__ == "PanicException":
            raise AnchorError("the text is not part of a document") from exc
        raise
    size = len(plain_text(text).encode("utf-16-le", errors="surrogatepass")) // 2
    if index + length > size:
        raise AnchorError(f"range {index}+{length} is past the end of the text ({size})")
    texts = _read(doc.get_update())
    key = _key_of(texts, doc, text)
    table = texts.ordered(key) if key is not None else None
    live = [at for at, alive in enumerate(table.live) if alive] if table else []
    if key is None or table is None or index + length > len(live):
        raise AnchorError(f"range {index}+{length} is past the end of the text ({len(live)})")
    first, last = live[index], live[index + length - 1]
    return Anchor(
        _encode_item_position(texts.item(key, table.segments[first], table.offsets[first]), 0),
        _encode_item_position(texts.item(key, table.segments[last], table.offsets[last]), -1),
    )


def _root_name(text: Text) -> str | None:
    """The name of a root Text (pycrdt's Text has no equality, but a position at its start
    before everything is scoped by the type: its root name, or its id when nested)."""
    try:
        scope = StickyIndex.new(text, 0, Assoc.BEFORE).to_json()
    except BaseException as exc:
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        raise AnchorError("the Text is not part of a document") from exc
    name = scope.get("tname")
    return name if isinstance(name, str) else None


def _key_of(texts: Texts, doc: Doc[Any], text: Text | XmlText) -> TypeKey | None:
    if isinstance(text, Text):
        name = _root_name(text)
        if name is not None and name in texts.root_names:
            return name
        raise AnchorError("the Text is not a root text type of its document")
    for node, key in zip(text_nodes(doc, texts.root_names), texts.nodes, strict=True):
        if isinstance(node, XmlText) and node == text:
            table = texts.ordered(key) if key is not None else None
            if (
                table is not None
                and sum(table.live) != len(plain_text(text).encode("utf-16-le")) // 2
            ):
                raise AnchorError("the text's structure could not be read")
            return key
    raise AnchorError("the XmlText is not in the document's default fragment")
