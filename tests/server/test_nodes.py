"""Several nodes in one process: rooms sharing a store through in-memory brokers."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pycrdt import Doc, Text

from crdt import (
    AwarenessEntry,
    AwarenessMessage,
    Event,
    Saved,
    SyncUpdate,
    decode_awareness,
    encode_awareness,
)
from crdt.relay import Envelope, EnvelopeKind
from server.broker import MemoryBroker
from server.metrics import Metrics
from server.room import RoomServices
from server.rooms import RoomManager
from storage import MemoryStore
from tests.server.test_room import EDITOR, Client, joined, presence


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.appends = 0

    async def append(self, document_id: str, update: bytes, author: str | None = None) -> None:
        self.appends += 1
        await super().append(document_id, update)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
async def nodes(store: CountingStore) -> AsyncIterator[list[tuple[RoomManager, Metrics]]]:
    hub: dict[str, list[Any]] = {}
    managers = []
    for index in range(2):
        metrics = Metrics()
        services = RoomServices(
            store=store, broker=MemoryBroker(hub), metrics=metrics, origin=f"node{index}/x"
        )
        managers.append((RoomManager(services, presence_timeout=0.2), metrics))
    async with managers[0][0], managers[1][0]:
        yield managers


def text_of(updates: list[bytes]) -> str:
    doc: Doc[Any] = Doc()
    for update in updates:
        doc.apply_update(update)
    return str(doc.get("text", type=Text))


async def test_update_committed_on_one_node_reaches_the_other_once(nodes, store) -> None:
    (one, m1), (two, m2) = nodes
    async with joined(one, m1) as (writer, room1), joined(two, m2) as (reader, _):
        await room1.handle(writer.connection, SyncUpdate(writer.edit(0, "across")))
        await writer.recv_until(Saved)
        message = await reader.recv_until(SyncUpdate)
        assert isinstance(message, SyncUpdate)
        reader.doc.apply_update(message.update)
        assert str(reader.text) == "across"
        assert store.appends == 1, "the receiving node stored the update again"


async def test_presence_crosses_nodes_and_expires_when_not_renewed(nodes) -> None:
    (one, m1), (two, m2) = nodes
    async with joined(one, m1) as (alice, room1), joined(two, m2) as (bob, _):
        entry = AwarenessEntry(client_id=41, clock=1, state={"user": {"name": "Alice"}})
        await room1.handle(alice.connection, AwarenessMessage(encode_awareness([entry])))
        seen = await bob.recv_until(AwarenessMessage)
        assert isinstance(seen, AwarenessMessage)
        shown: dict[str, object] = {"user": {"id": "u1", "name": "Editor"}}  # from the account
        assert decode_awareness(seen.payload) == [AwarenessEntry(41, 1, shown)]
        # Alice's node goes silent (as if it died): her presence expires on Bob's node.
        gone = await bob.recv_until(AwarenessMessage)
        assert isinstance(gone, AwarenessMessage)
        assert decode_awareness(gone.payload) == [AwarenessEntry(41, 1, None)]


async def test_a_gap_in_sequence_numbers_triggers_a_catch_up(nodes, store) -> None:
    (one, m1), (two, m2) = nodes
    async with joined(two, m2) as (reader, room2):
        # Another node committed two updates; the envelope of the first was lost.
        lost: Doc[Any] = Doc()
        text = lost.get("text", type=Text)
        text.insert(0, "lost ")
        first = lost.get_update()
        await store.append("doc", first)
        before = lost.get_state()
        text.insert(5, "found")
        second = lost.get_update(before)
        await store.append("doc", second)
        room2.delivery.receive(Envelope(EnvelopeKind.UPDATE, "node9/y", 1, b"\x00\x00"))
        room2.delivery.receive(Envelope(EnvelopeKind.UPDATE, "node9/y", 3, second))
        for _ in range(3):
            message = await reader.recv_until(SyncUpdate)
            assert isinstance(message, SyncUpdate)
            reader.doc.apply_update(message.update)
            if str(reader.text) == "lost found":
                break
        assert str(reader.text) == "lost found"
        assert m2.pubsub_gaps.value == 1


async def test_late_joiner_on_another_node_sees_committed_content(nodes) -> None:
    (one, m1), (two, m2) = nodes
    async with joined(one, m1) as (writer, room1):
        await room1.handle(writer.connection, SyncUpdate(writer.edit(0, "stored")))
        await writer.recv_until(Saved)
    late = Client(two, m2, EDITOR)
    room2 = await two.join("doc", late.connection)
    async with room2.committed() as document:
        assert str(document.ydoc.get("text", type=Text)) == "stored"
    room2.leave(late.connection)
    late.connection.close(1000, "")


async def test_server_events_reach_only_clients_that_asked_on_every_node(nodes) -> None:
    (one, m1), (two, m2) = nodes
    async with joined(one, m1) as (here, room1), joined(two, m2) as (there, _):
        async with joined(two, m2) as (stock, _):
            here.connection.wants_events = True
            there.connection.wants_events = True
            room1.audience.send_event({"type": "thread.added", "id": "t1"})
            for client in (here, there):
                event = await client.recv_until(Event)
                assert isinstance(event, Event)
                assert event.data == {"type": "thread.added", "id": "t1"}
            # Presence travels the same way as the event, after it: a barrier on both nodes.
            await room1.handle(here.connection, presence(99))
            received = await stock.until_presence()
            assert len(received) == 1, f"a stock Yjs client received a GESS event: {received}"


async def test_members_only_events_skip_readers_of_a_published_document(nodes) -> None:
    (one, m1), (two, m2) = nodes
    async with joined(one, m1) as (member, room1), joined(two, m2) as (reader, _):
        member.connection.principal = dataclasses.replace(EDITOR, role="editor", member=True)
        far_member = Client(two, m2, dataclasses.replace(EDITOR, role="viewer", member=True))
        # A reader of a published document gets the viewer role, but is no member.
        reader.connection.principal = dataclasses.replace(EDITOR, role="viewer", member=False)
        member.connection.wants_events = reader.connection.wants_events = True
        room2 = await two.join("doc", far_member.connection)
        far_member.connection.wants_events = True
        room1.audience.send_event({"type": "activity", "verb": "renamed"}, members_only=True)
        for client in (member, far_member):
            event = await client.recv_until(Event)
            assert isinstance(event, Event) and event.data["verb"] == "renamed"
        # Presence travels the same way as the event, after it: a barrier on both nodes.
        await room1.handle(member.connection, presence(99))
        received = await reader.until_presence()
        assert not any(isinstance(m, Event) for m in received), (
            f"a non-member received workspace activity: {received}"
        )
        room2.leave(far_member.connection)
        far_member.connection.close(1000, "")
