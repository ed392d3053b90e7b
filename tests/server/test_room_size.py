"""The room's size limit in-process: refused whole, and never refused on a stale estimate."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from pycrdt import Text

from crdt import DocumentTooLarge, Saved, SyncUpdate
from server.broker import MemoryBroker
from server.metrics import Metrics
from server.room import Room, RoomServices
from server.rooms import RoomManager
from storage import MemoryStore
from tests.server.test_room import Client, joined

LIMIT = 3_000


@contextlib.asynccontextmanager
async def writer_in_room(store: MemoryStore) -> AsyncIterator[tuple[Client, Room]]:
    metrics = Metrics()
    services = RoomServices(
        store=store,
        broker=MemoryBroker(),
        metrics=metrics,
        origin="node/1",
        max_document_bytes=LIMIT,
    )
    async with (
        RoomManager(services, grace_seconds=0.1) as manager,
        joined(manager, metrics) as (client, room),
    ):
        yield client, room


async def commit(client: Client, room: Room, update: bytes) -> None:
    await room.handle(client.connection, SyncUpdate(update))
    await client.recv_until(Saved)


def delete_all(client: Client) -> bytes:
    before = client.doc.get_state()
    del client.text[0 : len(client.text)]
    return client.doc.get_update(before)


async def test_a_change_past_the_limit_is_refused_and_not_applied() -> None:
    store = MemoryStore()
    async with writer_in_room(store) as (writer, room):
        await commit(writer, room, writer.edit(0, "a" * 2_000))
        with pytest.raises(DocumentTooLarge, match="limit of 3000 bytes"):
            await room.handle(writer.connection, SyncUpdate(writer.edit(0, "b" * 1_500)))
        async with room.committed() as document:
            assert str(document.ydoc.get("text", type=Text)) == "a" * 2_000
    assert await store.measure("doc") < LIMIT


async def test_what_a_compaction_freed_can_be_written_again() -> None:
    """Text written and deleted counts until it is compacted away; after that the room
    measures again instead of refusing on what it had counted."""
    store = MemoryStore()
    async with writer_in_room(store) as (writer, room):
        await commit(writer, room, writer.edit(0, "a" * 1_200))
        await commit(writer, room, delete_all(writer))
        await commit(writer, room, writer.edit(0, "b" * 1_200))
        await commit(writer, room, delete_all(writer))
        assert await store.compact("doc")
        assert await store.measure("doc") < 200
        await commit(writer, room, writer.edit(0, "c" * 1_200))
        async with room.committed() as document:
            assert str(document.ydoc.get("text", type=Text)) == "c" * 1_200
