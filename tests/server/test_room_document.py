"""A room's document: its trust lifecycle, rebuilds and catch-ups against an in-memory store."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text

from crdt import Document, decode_state_vector
from crdt.dependencies import inspect_update
from server.room_document import RoomDocument
from server.room_state import DocumentState, RoomState, StateError, advance
from storage import MemoryStore
from storage.errors import StorageError

TIMEOUT = 5.0


class SlowStore(MemoryStore):
    """Loads wait for the test to open the gate; a load can be made to fail."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.loading = asyncio.Event()
        self.fail = False

    async def load(self, document_id: str) -> list[bytes]:
        self.loading.set()
        await self.gate.wait()
        if self.fail:
            raise StorageError("the database is away")
        return await super().load(document_id)


def typed(text: str, client_id: int) -> bytes:
    doc: Doc[Any] = Doc(client_id=client_id)
    doc.get("text", type=Text).insert(0, text)
    return doc.get_update()


def state(document: RoomDocument) -> DocumentState:
    return document.state  # read afresh: each call may have moved it


def text_of(document: Document) -> str:
    return str(document.ydoc.get("text", type=Text))


def test_lifecycles_refuse_transitions_they_do_not_have() -> None:
    assert advance(RoomState.OPEN, RoomState.CLOSING) is RoomState.CLOSING
    with pytest.raises(StateError, match="CLOSED to OPEN"):
        advance(RoomState.CLOSED, RoomState.OPEN)
    with pytest.raises(StateError, match="CURRENT to REBUILDING"):
        advance(DocumentState.CURRENT, DocumentState.REBUILDING)


async def test_updates_from_other_nodes_during_a_rebuild_reach_the_new_document() -> None:
    store = SlowStore()
    await MemoryStore.load(store, "d")  # creates it
    await store.append("d", typed("stored ", 1))
    document = RoomDocument("d", Document(), store, max_bytes=1 << 20)
    document.broke()
    rebuild = asyncio.create_task(document.rebuild())
    await asyncio.wait_for(store.loading.wait(), TIMEOUT)
    assert state(document) is DocumentState.REBUILDING
    # An envelope arrives, then a gap shows that one was lost: reload once more after this.
    assert document.apply_remote(typed("remote", 2)) is False
    assert document.fell_behind() is True
    assert document.apply_remote(typed("later", 3)) is False  # still for the new document
    store.gate.set()
    diff = await asyncio.wait_for(rebuild, TIMEOUT)
    assert diff is not None
    shown: Doc[Any] = Doc()
    shown.apply_update(diff)
    assert "remote" in str(shown.get("text", type=Text))
    assert "later" in text_of(document.current)
    assert "stored" in text_of(document.current)
    assert state(document) is DocumentState.BROKEN  # rebuilt again by the next hold


async def test_a_rebuild_that_cannot_read_the_store_stays_broken() -> None:
    store = SlowStore()
    document = RoomDocument("d", Document(), store, max_bytes=1 << 20)
    document.broke()
    store.fail = True
    rebuild = asyncio.create_task(document.rebuild())
    await asyncio.wait_for(store.loading.wait(), TIMEOUT)
    document.fell_behind()  # during the failing load
    store.gate.set()
    with pytest.raises(StorageError):
        await asyncio.wait_for(rebuild, TIMEOUT)
    assert state(document) is DocumentState.BROKEN
    store.fail = False
    assert await document.rebuild() is None
    assert state(document) is DocumentState.CURRENT


async def test_a_catch_up_merges_what_the_store_has_and_returns_the_difference() -> None:
    store = SlowStore()
    store.gate.set()
    document = RoomDocument("d", Document([typed("here ", 1)]), store, max_bytes=1 << 20)
    await store.load("d")  # creates it
    await store.append("d", typed("here ", 1))
    await store.append("d", typed("missed", 2))
    assert document.fell_behind() is True
    assert document.fell_behind() is False  # already due
    diff = await document.catch_up()
    assert diff is not None and state(document) is DocumentState.CURRENT
    assert "missed" in text_of(document.current)
    with pytest.raises(StateError):  # nothing is due: a bug in the caller
        await document.catch_up()


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2),  # which client types
            st.text(alphabet="abc", min_size=1, max_size=3),
            st.booleans(),  # delivered now, or held back for later
            st.booleans(),  # also deletes the first character
        ),
        min_size=1,
        max_size=25,
    )
)
def test_what_inspect_sees_is_the_document_state_after_every_accepted_update(
    steps: list[tuple[int, str, bool, bool]],
) -> None:
    # Updates go through inspect and apply as the room does them, some held back so that
    # others arrive with dependencies missing (and are not applied); every inspection must
    # agree with one made against the state vector read from the document itself.
    document = RoomDocument("doc", Document(), MemoryStore(), max_bytes=1 << 30)
    typists: list[Doc[Any]] = [Doc(client_id=n + 1) for n in range(3)]
    held: list[bytes] = []
    for who, text, now, delete in steps:
        typist = typists[who]
        before = typist.get_state()
        field = typist.get("text", type=Text)
        field.insert(len(field), text)
        if delete and len(field) > 1:
            del field[0]
        update = typist.get_update(before)
        for other in typists:
            if other is not typist:
                other.apply_update(update)
        if not now:
            held.append(update)
            continue
        for candidate in [update, *held]:  # the new one, then whatever it unblocked
            facts = document.inspect(candidate, None)
            fresh = inspect_update(candidate, decode_state_vector(document.current.state_vector()))
            assert facts == fresh
            if facts.missing is None:
                document.apply(candidate, facts)
                if candidate in held:
                    held.remove(candidate)
