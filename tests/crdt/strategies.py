"""Hypothesis strategies shared by the crdt tests: valid messages and hostile bytes."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from crdt.awareness import AwarenessEntry, encode_awareness
from crdt.protocol import (
    Auth,
    AwarenessMessage,
    Event,
    Message,
    QueryAwareness,
    Saved,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    encode,
)
from crdt.state_vector import decode_state_vector

_ASCII = string.ascii_letters + string.digits + " "

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)

awareness_entries = st.builds(
    AwarenessEntry,
    client_id=st.integers(min_value=0, max_value=2**53 - 1),
    clock=st.integers(min_value=0, max_value=2**53 - 1),
    state=st.none() | json_objects,
)


@st.composite
def updates(draw: st.DrawFn, client_id: int | None = None) -> bytes:
    """A real Yjs update: a few edits by one client."""
    if client_id is None:
        client_id = draw(st.integers(min_value=1, max_value=2**32))
    doc: Doc[Any] = Doc(client_id=client_id)
    text = doc.get("text", type=Text)
    # ASCII, so that Python string offsets are pycrdt offsets.
    for chunk in draw(st.lists(st.text(_ASCII, min_size=1, max_size=5), max_size=4)):
        text.insert(draw(st.integers(min_value=0, max_value=len(text))), chunk)
    if len(text) and draw(st.booleans()):
        start = draw(st.integers(min_value=0, max_value=len(text) - 1))
        del text[start : start + 1]
    if draw(st.booleans()):
        text.insert(0, draw(st.text(min_size=1, max_size=3)))
    if draw(st.booleans()):
        doc.get("map", type=Map)["k"] = draw(json_scalars.filter(lambda v: v is not None))
    if draw(st.booleans()):
        doc.get("array", type=Array).append(draw(st.integers(-(2**53), 2**53)))
    return doc.get_update()


@st.composite
def update_batches(draw: st.DrawFn, max_size: int = 5) -> list[bytes]:
    """Updates by distinct clients (a client id never makes two different histories)."""
    ids = draw(st.lists(st.integers(1, 2**32), unique=True, max_size=max_size))
    return [draw(updates(client_id)) for client_id in ids]


@st.composite
def state_vectors(draw: st.DrawFn) -> bytes:
    doc: Doc[Any] = Doc()
    doc.apply_update(draw(updates()))
    return doc.get_state()


messages: st.SearchStrategy[Message] = st.one_of(
    st.builds(SyncStep1, st.binary(max_size=40) | state_vectors()),
    st.builds(SyncStep2, st.binary(max_size=40) | updates()),
    st.builds(SyncUpdate, st.binary(max_size=40) | updates()),
    st.builds(
        AwarenessMessage,
        st.binary(max_size=40) | st.lists(awareness_entries, max_size=3).map(encode_awareness),
    ),
    st.builds(Auth, st.text(max_size=40)),
    st.just(QueryAwareness()),
    st.builds(Saved, st.binary(max_size=40) | state_vectors()),
    st.builds(Event, json_objects),
)


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[bytes]) -> bytes:
    """Valid bytes made hostile: truncated, extended, corrupted, or with a bad length."""
    data = draw(valid)
    kind = draw(
        st.sampled_from(["truncate", "trailing", "flip", "insert", "length", "overlong", "empty"])
    )
    if kind == "empty":
        return b""
    if kind == "truncate":
        return data[: draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))]
    if kind == "trailing":
        return data + draw(st.binary(min_size=1, max_size=8))
    if kind == "flip" and data:
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if kind == "insert":
        at = draw(st.integers(min_value=0, max_value=len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    if kind == "length":
        # A varuint length far larger than what follows, at some offset.
        at = draw(st.integers(min_value=0, max_value=len(data)))
        return data[:at] + b"\xff\xff\xff\x7f" + data[at:]
    # Over-long varuint: continuation bits that never stop, or stop too late.
    at = draw(st.integers(min_value=0, max_value=len(data)))
    run = b"\x80" * draw(st.integers(min_value=1, max_value=12))
    return data[:at] + run + draw(st.sampled_from([b"", b"\x01", b"\x00"])) + data[at:]


hostile_messages = st.binary(max_size=64) | mutated(messages.map(encode))
hostile_updates = st.binary(max_size=64) | mutated(updates())
hostile_state_vectors = st.binary(max_size=32) | mutated(state_vectors())
hostile_awareness = st.binary(max_size=64) | mutated(
    st.lists(awareness_entries, max_size=3).map(encode_awareness)
)


# --- Yjs v1 updates written byte by byte: every struct and content kind, in any order -------

_CLIENT_POOL = (1, 2, 300, 2**31 + 7, 2**53 - 1)


def _var_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | value & 0x7F)
        value >>= 7
    out.append(value)
    return bytes(out)


def _var_bytes(value: bytes) -> bytes:
    return _var_uint(len(value)) + value


def _var_string(value: str) -> bytes:
    return _var_bytes(value.encode("utf-8"))


_any_scalars = st.one_of(
    st.sampled_from([b"\x7f", b"\x7e", b"\x79", b"\x78"]),  # undefined, null, false, true
    st.integers(0, 2**40).map(lambda n: b"\x7d" + _var_uint(n)),  # signed varint, as bytes
    st.binary(min_size=4, max_size=4).map(lambda b: b"\x7c" + b),  # float32
    st.binary(min_size=8, max_size=8).map(lambda b: b"\x7b" + b),  # float64
    st.binary(min_size=8, max_size=8).map(lambda b: b"\x7a" + b),  # bigint
    st.text(max_size=6).map(lambda s: b"\x77" + _var_string(s)),
    st.binary(max_size=6).map(lambda b: b"\x74" + _var_bytes(b)),
)
lib0_any = st.recursive(
    _any_scalars,
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda xs: b"\x75" + _var_uint(len(xs)) + b"".join(xs))
        | st.lists(st.tuples(st.text(max_size=4), inner), max_size=3).map(
            lambda kv: b"\x76" + _var_uint(len(kv)) + b"".join(_var_string(k) + v for k, v in kv)
        )
    ),
    max_leaves=8,
)
"""One lib0 ``Any`` value, encoded."""

# Small clocks mostly, so that clients' groups meet, tie and overlap, and states cover them.
_clocks = st.integers(0, 12) | st.integers(0, 400)
_ids = st.tuples(st.sampled_from(_CLIENT_POOL), _clocks)


@st.composite
def _content(draw: st.DrawFn, kind: int) -> bytes:
    if kind == 1:  # deleted
        return _var_uint(draw(st.integers(0, 4) | st.integers(0, 300)))
    if kind == 2:  # JSON strings
        items = draw(st.lists(st.text(max_size=4), max_size=3))
        return _var_uint(len(items)) + b"".join(_var_string(item) for item in items)
    if kind in (3, 5):  # binary, embed
        return _var_bytes(draw(st.binary(max_size=6)))
    if kind == 4:  # string: ASCII, accents, and characters beyond the BMP
        return _var_string(draw(st.text(st.sampled_from("ab é😀\u20ac"), max_size=6)))
    if kind == 6:  # format
        return _var_string(draw(st.text(max_size=4))) + _var_string(draw(st.text(max_size=4)))
    if kind == 7:  # type, XML elements and hooks with a name
        ref = draw(st.integers(0, 6))
        return _var_uint(ref) + (_var_string(draw(st.text(max_size=4))) if ref in (3, 5) else b"")
    if kind == 8:  # any
        values = draw(st.lists(lib0_any, max_size=3))
        return _var_uint(len(values)) + b"".join(values)
    return _var_string(draw(st.text(max_size=4))) + draw(lib0_any)  # subdocument


@st.composite
def _struct(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from([0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 4, 8]))
    if kind in (0, 10):  # garbage collected, skip
        return bytes([kind]) + _var_uint(draw(st.integers(0, 4) | st.integers(0, 50)))
    origin, right = draw(st.booleans()), draw(st.booleans())
    keyed = draw(st.booleans())
    out = bytearray([kind | 0x80 * origin | 0x40 * right | 0x20 * keyed])
    for present in (origin, right):
        if present:
            client, clock = draw(_ids)
            out += _var_uint(client) + _var_uint(clock)
    if not (origin or right):
        if draw(st.booleans()):
            out += _var_uint(1) + _var_string(draw(st.sampled_from(["text", "map", "é"])))
        else:
            client, clock = draw(_ids)
            out += _var_uint(draw(st.sampled_from([0, 2]))) + _var_uint(client) + _var_uint(clock)
        if keyed:
            out += _var_string(draw(st.text(max_size=4)))
    return bytes(out + draw(_content(kind)))


@st.composite
def written_updates(draw: st.DrawFn) -> bytes:
    """An update with any mix of struct and content kinds, skips, clients named in several
    groups, and unsorted delete ranges: readable, though no Yjs would write most of them."""
    groups = draw(
        st.lists(
            st.tuples(_ids, st.lists(_struct(), max_size=4)),
            max_size=4,
        )
    )
    out = bytearray(_var_uint(len(groups)))
    for (client, clock), structs in groups:
        out += _var_uint(len(structs)) + _var_uint(client) + _var_uint(clock) + b"".join(structs)
    deletions = draw(
        st.lists(
            st.tuples(st.sampled_from(_CLIENT_POOL), st.lists(_ids, max_size=3)),
            max_size=3,
        )
    )
    out += _var_uint(len(deletions))
    for client, ranges in deletions:
        out += _var_uint(client) + _var_uint(len(ranges))
        out += b"".join(_var_uint(start) + _var_uint(length % 30) for start, length in ranges)
    return bytes(out)


written_states = st.dictionaries(st.sampled_from(_CLIENT_POOL), _clocks | st.integers(0, 500))
"""Decoded state vectors over the clients :func:`written_updates` names."""


@st.composite
def collaborations(draw: st.DrawFn) -> tuple[bytes, dict[int, int]]:
    """An update made by pycrdt from a few clients' edits of texts (formatting, embeds, wide
    characters), maps and arrays of nested values and types, XML and subdocuments; and the
    state vector of a document at another point of the same history: behind, ahead, apart."""
    ids = draw(st.lists(st.integers(1, 2**32), min_size=1, max_size=3, unique=True))
    docs: list[Doc[Any]] = [Doc(client_id=client_id) for client_id in ids]
    states = [b"\x00"]
    for _ in range(draw(st.integers(1, 8))):
        doc = draw(st.sampled_from(docs))
        _edit(draw, doc)
        if draw(st.booleans()):
            other = draw(st.sampled_from(docs))
            other.apply_update(doc.get_update(other.get_state()))
        states.append(doc.get_state())
    source = draw(st.sampled_from(docs))
    update = source.get_update(draw(st.sampled_from(states)))
    state = draw(st.sampled_from([*states, *(doc.get_state() for doc in docs)]))
    return update, decode_state_vector(state)


def _edit(draw: st.DrawFn, doc: Doc[Any]) -> None:
    text = doc.get("text", type=Text)  # ASCII: Python offsets are pycrdt's
    wide = doc.get("wide", type=Text)  # appended to only: its offsets are not Python's
    root = doc.get("map", type=Map)
    array = doc.get("array", type=Array)
    xml = doc.get("xml", type=XmlFragment)
    action = draw(st.integers(0, 9))
    if action == 0 or not len(text):
        text.insert(draw(st.integers(0, len(text))), draw(st.text(_ASCII, min_size=1, max_size=4)))
    elif action == 1:
        start = draw(st.integers(0, len(text) - 1))
        del text[start : min(len(text), start + draw(st.integers(1, 3)))]
    elif action == 2:
        start = draw(st.integers(0, len(text) - 1))
        text.format(start, min(len(text), start + 2), {draw(st.sampled_from("bi")): True})
    elif action == 3:
        text.insert_embed(draw(st.integers(0, len(text))), {"image": draw(st.text(max_size=3))})
    elif action == 4:
        wide += draw(st.text(st.sampled_from("é😀€a"), min_size=1, max_size=4))
    elif action == 5:
        root[draw(st.sampled_from("abc"))] = draw(json_values | st.binary(max_size=4))
    elif action == 6:
        nested = draw(st.sampled_from([Map({"k": 1}), Array(["x", 2]), Text("in")]))
        root[draw(st.sampled_from("abc"))] = nested
    elif action == 7:
        if len(array) and draw(st.booleans()):
            del array[draw(st.integers(0, len(array) - 1))]
        else:
            array.append(draw(json_values))
    elif action == 8:
        xml.children.append(
            XmlElement(draw(st.sampled_from(["p", "h1"])), {"class": "c"}, [XmlText("hi")])
        )
    else:
        array.append(Doc())
