"""A Yjs v1 update read once for what :func:`crdt.dependencies.inspect_update` needs.

Every update a client sends is inspected before it is applied, so this read is on the path
of every keystroke. :func:`crdt._yupdate.parse_update` gives every struct as an object, as
the comment anchors need; inspection needs only where each client's clocks start and end,
the ids the structs point to, and the delete set. This reader walks the bytes once with the
position in a local variable and varuints read inline, and builds nothing per struct but the
referenced ids. It accepts and refuses exactly the bytes ``parse_update`` does, with the same
messages: the same reads happen in the same order.
"""

from __future__ import annotations

from crdt._yupdate import (
    ANY,
    BINARY,
    DELETED,
    DOC,
    EMBED,
    FORMAT,
    GC,
    JSON,
    SKIP,
    STRING,
    TYPE,
    XML_NAMED_REFS,
    skip_any,
    skip_bytes,
    uint_tail,
)
from crdt.errors import ProtocolError

__all__ = ["Outline", "Run", "outline_update"]

Run = tuple[int, int, int, int, int]
"""Structs of one client, contiguous in the update and in clocks:
``(client, first clock, clock past the last, clock of the last, end of its references)``.

The clock of the last is -1 when the run holds no struct: a client's group of structs that
is empty, or holds only skips, still gives one run, so that the runs list the clients in the
order the update first names them. A run's references are the triples of the outline's
``refs`` from the previous run's end up to its own."""

Outline = tuple[list[Run], list[int], dict[int, list[tuple[int, int]]]]
"""What :func:`outline_update` reads: the runs, in the order of the update; the references,
flat, three numbers each: ``(clock of the struct that refers, client, clock)``, in the order
of the update, each struct's left origin first, then its right origin, then its parent; the
delete set, per client sorted ``(clock, length)`` ranges."""


def outline_update(data: bytes) -> Outline:
    """Read an update's runs of structs, the ids they refer to, and its delete set.

    A struct refers to its left and right origins and, with neither, to the nested type it
    is in; an origin given twice (Yjs takes the right one as the left when there is none) is
    listed once. Garbage-collected structs refer to nothing.

    Raises:
        ProtocolError: the bytes are not an update that :func:`crdt._yupdate.parse_update`
            reads; the message is the one it gives.
    """
    size = len(data)
    runs: list[Run] = []
    refs: list[int] = []
    deleted: dict[int, list[tuple[int, int]]] = {}
    pos = 0
    try:
        groups = data[pos]
        pos += 1
        if groups > 0x7F:
            groups, pos = uint_tail(data, pos, groups)
        for _ in range(groups):
            count = data[pos]
            pos += 1
            if count > 0x7F:
                count, pos = uint_tail(data, pos, count)
            client = data[pos]
            pos += 1
            if client > 0x7F:
                client, pos = uint_tail(data, pos, client)
            clock = data[pos]
            pos += 1
            if clock > 0x7F:
                clock, pos = uint_tail(data, pos, clock)
            start, last, split = clock, -1, False
            for _ in range(count):
                info = data[pos]
                pos += 1
                kind = info & 0x1F
                if kind == GC or kind == SKIP:
                    length = data[pos]
                    pos += 1
                    if length > 0x7F:
                        length, pos = uint_tail(data, pos, length)
                    if kind == SKIP:
                        if last >= 0:
                            runs.append((client, start, clock, last, len(refs)))
                            split = True
                        start, last = clock + length, -1
                        clock += length
                        continue
                    last = clock
                    clock += length
                    continue
                if info & 0x80:
                    a = data[pos]
                    pos += 1
                    if a > 0x7F:
                        a, pos = uint_tail(data, pos, a)
                    b = data[pos]
                    pos += 1
                    if b > 0x7F:
                        b, pos = uint_tail(data, pos, b)
                    refs += (clock, a, b)
                if info & 0x40:
                    a = data[pos]
                    pos += 1
                    if a > 0x7F:
                        a, pos = uint_tail(data, pos, a)
                    b = data[pos]
                    pos += 1
                    if b > 0x7F:
                        b, pos = uint_tail(data, pos, b)
                    refs += (clock, a, b)
                if not info & 0xC0:
                    pos = _parent(data, pos, info & 0x20, clock, refs)
                if kind == STRING:
                    length = data[pos]
                    pos += 1
                    if length > 0x7F:
                        length, pos = uint_tail(data, pos, length)
                    end = pos + length
                    if end > size:
                        raise ProtocolError("update truncated")
                    text = data[pos:end]
                    pos = end
                    if not text.isascii():
                        length = _utf16_length(text)
                else:
                    length, pos = _other_content(data, pos, kind)
                last = clock
                clock += length
            if last >= 0 or not split:
                runs.append((client, start, clock, last, len(refs)))
        count = data[pos]
        pos += 1
        if count > 0x7F:
            count, pos = uint_tail(data, pos, count)
        for _ in range(count):
            client = data[pos]
            pos += 1
            if client > 0x7F:
                client, pos = uint_tail(data, pos, client)
            ranges = deleted.setdefault(client, [])
            found = data[pos]
            pos += 1
            if found > 0x7F:
                found, pos = uint_tail(data, pos, found)
            for _ in range(found):
                a = data[pos]
                pos += 1
                if a > 0x7F:
                    a, pos = uint_tail(data, pos, a)
                b = data[pos]
                pos += 1
                if b > 0x7F:
                    b, pos = uint_tail(data, pos, b)
                ranges.append((a, b))
            if len(ranges) > 1:
                ranges.sort()
    except IndexError:  # indexing past the end is the bounds check: the common case pays none
        raise ProtocolError("update truncated") from None
    if pos != size:
        raise ProtocolError("bytes left after the delete set")
    return runs, refs, deleted


def _parent(data: bytes, pos: int, keyed: int, clock: int, refs: list[int]) -> int:
    """Read a struct's parent (a root type's name or a nested type's id) and map key."""
    kind = data[pos]
    pos += 1
    if kind > 0x7F:
        kind, pos = uint_tail(data, pos, kind)
    if kind == 1:
        pos = _skip_string(data, pos)
    else:
        a = data[pos]
        pos += 1
        if a > 0x7F:
            a, pos = uint_tail(data, pos, a)
        b = data[pos]
        pos += 1
        if b > 0x7F:
            b, pos = uint_tail(data, pos, b)
        refs += (clock, a, b)
    if keyed:
        pos = _skip_string(data, pos)
    return pos


def _skip_string(data: bytes, pos: int) -> int:
    """Skip a length-prefixed UTF-8 string, checking that it is UTF-8."""
    length = data[pos]
    pos += 1
    if length > 0x7F:
        length, pos = uint_tail(data, pos, length)
    end = pos + length
    if end > len(data):
        raise ProtocolError("update truncated")
    text = data[pos:end]
    if not text.isascii():
        _utf16_length(text)
    return end


def _utf16_length(text: bytes) -> int:
    """The length in UTF-16 code units (Yjs' clock ticks) of UTF-8 bytes."""
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("string is not valid UTF-8") from exc
    return len(decoded.encode("utf-16-le", errors="surrogatepass")) // 2


def _other_content(data: bytes, pos: int, kind: int) -> tuple[int, int]:
    """Skip the content of a struct of any kind but a string.

    Returns:
        The struct's length in clock ticks and the position just past its content.
    """
    length = 1
    if kind == ANY or kind == DELETED or kind == JSON:
        length = data[pos]
        pos += 1
        if length > 0x7F:
            length, pos = uint_tail(data, pos, length)
        if kind == ANY:
            for _ in range(length):
                pos = skip_any(data, pos)
        elif kind == JSON:
            for _ in range(length):
                pos = skip_bytes(data, pos)
    elif kind == TYPE:
        ref = data[pos]
        pos += 1
        if ref > 0x7F:
            ref, pos = uint_tail(data, pos, ref)
        if ref in XML_NAMED_REFS:
            pos = skip_bytes(data, pos)
    elif kind == BINARY or kind == EMBED:
        pos = skip_bytes(data, pos)
    elif kind == FORMAT:
        pos = skip_bytes(data, skip_bytes(data, pos))
    elif kind == DOC:
        pos = skip_any(data, skip_bytes(data, pos))
    else:
        raise ProtocolError(f"unsupported content kind {kind}")
    return length, pos
