"""Hypothesis strategies shared by the crdt tests: valid messages and hostile bytes."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

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
