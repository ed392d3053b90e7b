"""Rooms in-process: durable before visible, merging, permissions, presence, lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pycrdt import Doc, Text

from crdt import (
    Auth,
    AwarenessEntry,
    AwarenessMessage,
    Document,
    Event,
    Message,
    PoisonedUpdate,
    ProtocolError,
    Saved,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    decode_awareness,
    encode_awareness,
    encode_state_vector,
)
from crdt.relay import Envelope, EnvelopeKind
from server.broker import MemoryBroker
from server.channel import CloseCode, MemoryChannel
from server.connection import Connection, Principal
from server.metrics import Metrics
from server.room import RoomServices, RoomState
from server.rooms import RoomManager, ShuttingDown
from storage import MemoryStore
from storage.errors import StorageError

EDITOR = Principal(user_id="u1", name="Editor", can_write=True)
VIEWER = Principal(user_id="u2", name="Viewer", can_write=False)
TIMEOUT = 5.0


class GatedStore(MemoryStore):
    """The in-memory store, with appends held until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.load_gate = asyncio.Event()
        self.load_gate.set()
        self.loading = asyncio.Event()
        """Set when a load starts."""
        self.appending = asyncio.Event()
        """Set when an append starts (it then waits for the gate)."""
        self.fail = False
        self.appends = 0
        self.loads = 0

    async def load(self, document_id: str) -> list[bytes]:
        self.loads += 1
        self.loading.set()
        await asyncio.sleep(0.01)  # let concurrent joins pile up on one load
        await self.load_gate.wait()
        return await super().load(document_id)

    async def append(self, document_id: str, update: bytes, author: str | None = None) -> None:
        self.appending.set()
        await self.gate.wait()
        if self.fail:
            raise StorageError("disk full")
        self.appends += 1
        await super().append(document_id, update)


class Client:
    """A connection driven by the test: feed it messages, read what the room sent."""

    def __init__(self, manager: RoomManager, metrics: Metrics, principal: Principal) -> None:
        self.channel = MemoryChannel()
        self.connection = Connection(self.channel, principal, metrics, wants_saved=True)
        self.manager = manager
        self.doc: Doc[Any] = Doc()
        self.text = self.doc.get("text", type=Text)

    async def recv(self) -> Message:
        return decode(await asyncio.wait_for(self.channel.sent.get(), TIMEOUT))

    async def recv_until(self, kind: type) -> Message:
        while True:
            message = await self.recv()
            if isinstance(message, kind):
                return message

    async def until_presence(self) -> list[Message]:
        """What this client received up to and including the next presence message.

        A presence message is relayed at once, so it serves as a barrier: a message the room
        had sent this client before it is in the list (each connection's queue is FIFO).
        """
        received = [await self.recv()]
        while not isinstance(received[-1], AwarenessMessage):
            received.append(await self.recv())
        return received

    def edit(self, index: int, value: str) -> bytes:
        before = self.doc.get_state()
        self.text.insert(index, value)
        return self.doc.get_update(before)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def store() -> GatedStore:
    return GatedStore()


def presence(client_id: int) -> AwarenessMessage:
    """A first presence of ``client_id``: the room relays it to the others without delay."""
    entry = AwarenessEntry(client_id=client_id, clock=1, state={"cursor": None})
    return AwarenessMessage(encode_awareness([entry]))


def services(store: MemoryStore, metrics: Metrics, broker: MemoryBroker | None = None):
    broker = MemoryBroker() if broker is None else broker
    return RoomServices(store=store, broker=broker, metrics=metrics, origin="node/1")


@pytest.fixture
async def manager(store: GatedStore, metrics: Metrics) -> AsyncIterator[RoomManager]:
    async with RoomManager(services(store, metrics), grace_seconds=0.1) as rooms:
        try:
            yield rooms
        finally:
            # A test that failed with a gate closed would otherwise hang the shutdown.
            store.gate.set()
            store.load_gate.set()


@contextlib.asynccontextmanager
async def joined(manager: RoomManager, metrics: Metrics, principal: Principal = EDITOR):
    client = Client(manager, metrics, principal)
    room = await manager.join("doc", client.connection)
    assert isinstance(await client.recv(), SyncStep1)
    try:
        yield client, room
    finally:
        room.leave(client.connection)
        client.connection.close(CloseCode.NORMAL, "")


async def test_update_is_broadcast_only_after_commit(manager, metrics, store) -> None:
    async with joined(manager, metrics) as (writer, room), joined(manager, metrics) as (reader, _):
        store.gate.clear()
        await room.handle(writer.connection, SyncUpdate(writer.edit(0, "hello")))
        await asyncio.wait_for(store.appending.wait(), TIMEOUT)  # the commit is under way
        await room.handle(writer.connection, presence(99))
        received = await reader.until_presence()
        assert len(received) == 1, f"an uncommitted update was made visible: {received}"

        store.gate.set()
        message = await reader.recv()
        assert isinstance(message, SyncUpdate)
        reader.doc.apply_update(message.update)
        assert str(reader.text) == "hello"
        saved = await writer.recv_until(Saved)
        assert isinstance(saved, Saved) and saved.state_vector == writer.doc.get_state()


async def test_sync_during_pending_commit_gets_committed_state(manager, metrics, store) -> None:
    async with joined(manager, metrics) as (writer, room), joined(manager, metrics) as (late, _):
        store.gate.clear()
        await room.handle(writer.connection, SyncUpdate(writer.edit(0, "abc")))
        await asyncio.wait_for(store.appending.wait(), TIMEOUT)  # the commit is under way
        answer = asyncio.create_task(room.handle(late.connection, SyncStep1(Doc().get_state())))
        # The loop runs ready tasks in the order they were created: the answer's first step
        # (up to where it waits for the commit) runs before this one. An answer that did not
        # wait would be queued for the late joiner before the presence barrier.
        barrier = asyncio.create_task(room.handle(writer.connection, presence(99)))
        received = await late.until_presence()
        await barrier
        assert len(received) == 1, f"sync answered before the pending commit landed: {received}"
        assert not answer.done(), "sync answered before the pending commit landed"
        store.gate.set()
        await answer
        step2 = await late.recv_until(SyncStep2)
        assert isinstance(step2, SyncStep2)
        late.doc.apply_update(step2.update)
        assert str(late.text) == "abc"


async def test_burst_is_merged_into_one_broadcast(manager, metrics, store) -> None:
    async with joined(manager, metrics) as (writer, room), joined(manager, metrics) as (reader, _):
        store.gate.clear()
        await room.handle(writer.connection, SyncUpdate(writer.edit(0, "x")))
        await asyncio.wait_for(store.appending.wait(), TIMEOUT)  # the first update is in flight
        for i in range(50):
            await room.handle(writer.connection, SyncUpdate(writer.edit(i + 1, "y")))
        store.gate.set()
        first = await reader.recv()
        second = await reader.recv()
        assert isinstance(first, SyncUpdate) and isinstance(second, SyncUpdate)
        assert store.appends == 2
        reader.doc.apply_update(first.update)
        reader.doc.apply_update(second.update)
        assert str(reader.text) == "x" + "y" * 50
        # Presence is relayed at once: a third broadcast would have come before it.
        await room.handle(writer.connection, presence(99))
        received = await reader.until_presence()
        assert len(received) == 1, f"more than two broadcasts: {received}"


async def test_failed_commit_closes_writer_and_shows_nothing(manager, metrics, store) -> None:
    async with (
        joined(manager, metrics) as (writer, room),
        joined(manager, metrics) as (reader, _),
        joined(manager, metrics) as (other, _),
    ):
        store.fail = True
        await room.handle(writer.connection, SyncUpdate(writer.edit(0, "lost")))
        await asyncio.wait_for(writer.channel.closed_event.wait(), TIMEOUT)
        assert writer.channel.closed is not None
        assert writer.channel.closed[0] == CloseCode.INTERNAL
        assert "could not save" in writer.channel.closed[1]
        # Presence is relayed at once: a broadcast of the lost edit would have come before it.
        await room.handle(other.connection, presence(99))
        received = await reader.until_presence()
        assert len(received) == 1, f"a change that was not saved was shown: {received}"
        assert await MemoryStore.load(store, "doc") == []
        # The room rebuilt its document from the store: the lost edit is not served.
        store.fail = False
        async with room.committed() as document:
            assert str(document.ydoc.get("text", type=Text)) == ""


async def test_updates_from_other_nodes_during_a_rebuild_reach_the_clients(
    manager, metrics, store
) -> None:
    """An envelope that arrives while the room reloads its document is applied to the new
    document after the reload, and sent to the clients: they must not miss it."""
    async with joined(manager, metrics) as (writer, room), joined(manager, metrics) as (reader, _):
        store.fail = True
        store.load_gate.clear()
        store.loading.clear()
        await room.handle(writer.connection, SyncUpdate(writer.edit(0, "lost")))
        await asyncio.wait_for(store.loading.wait(), TIMEOUT)  # the rebuild is loading
        other: Doc[Any] = Doc()
        before = other.get_state()
        other.get("text", type=Text).insert(0, "from node 2")
        room.delivery.receive(Envelope(EnvelopeKind.UPDATE, "node/2", 1, other.get_update(before)))
        store.fail = False
        store.load_gate.set()
        message = await reader.recv()
        assert isinstance(message, SyncUpdate)
        reader.doc.apply_update(message.update)
        assert str(reader.text) == "from node 2"
        async with room.committed() as document:
            assert str(document.ydoc.get("text", type=Text)) == "from node 2"


async def test_update_that_breaks_yrs_closes_sender_and_rebuilds(manager, metrics, store) -> None:
    async with joined(manager, metrics) as (writer, room), joined(manager, metrics) as (reader, _):
        writer.doc = Doc(client_id=1)  # the hostile update below targets client 1's content
        writer.text = writer.doc.get("text", type=Text)
        await room.handle(writer.connection, SyncUpdate(writer.edit(0, "base")))
        await writer.recv_until(Saved)
        # Yrs 0.28 decodes it and then panics when the document has content; the room's
        # dependency check reads it first, finds bytes after the delete set, and refuses it
        # before Yrs sees it. Either way the sender is refused and nothing is kept.
        hostile = bytes.fromhex("018080800001cc9402000401047465787406c39df2a3a09000")
        with pytest.raises((PoisonedUpdate, ProtocolError)):
            await room.handle(reader.connection, SyncUpdate(hostile))
        await room.handle(writer.connection, SyncUpdate(writer.edit(4, "!")))
        await writer.recv_until(Saved)
        async with room.committed() as document:
            assert str(document.ydoc.get("text", type=Text)) == "base!"
        assert b"".join(await MemoryStore.load(store, "doc")).find(hostile) == -1


async def test_read_only_update_is_refused(manager, metrics, store) -> None:
    async with joined(manager, metrics) as (editor, room):
        async with joined(manager, metrics, VIEWER) as (viewer, _):
            await room.handle(viewer.connection, SyncUpdate(viewer.edit(0, "nope")))
            denied = await viewer.recv()
            assert isinstance(denied, Auth) and "read-only" in denied.reason
            # The editor's own edit is committed after anything taken before it: its Saved
            # is the barrier for a broadcast of the viewer's change.
            await room.handle(editor.connection, SyncUpdate(editor.edit(0, "ok")))
            received = [await editor.recv()]
            while not isinstance(received[-1], Saved):
                received.append(await editor.recv())
            shown: Doc[Any] = Doc()
            for message in received:
                if isinstance(message, SyncUpdate):
                    shown.apply_update(message.update)
            assert str(shown.get("text", type=Text)) == "ok", "a read-only change was shown"
            assert store.appends == 1
            async with room.committed() as document:
                assert str(document.ydoc.get("text", type=Text)) == "ok"


async def test_awareness_is_relayed_and_removed_on_leave(manager, metrics) -> None:
    async with joined(manager, metrics) as (alice, room):
        async with joined(manager, metrics) as (bob, _):
            # Alice claims another name: others see her account's.
            claimed = {"user": {"name": "Someone Else"}, "cursor": {"anchor": 3}}
            state = AwarenessEntry(client_id=7, clock=1, state=claimed)
            await room.handle(alice.connection, AwarenessMessage(encode_awareness([state])))
            relayed = await bob.recv()
            assert isinstance(relayed, AwarenessMessage)
            seen = {"user": {"id": "u1", "name": "Editor"}, "cursor": {"anchor": 3}}
            assert decode_awareness(relayed.payload) == [AwarenessEntry(7, 1, seen)]

            # Bob cannot overwrite or remove Alice's presence.
            spoof = AwarenessEntry(client_id=7, clock=2, state=None)
            await room.handle(bob.connection, AwarenessMessage(encode_awareness([spoof])))
            await room.handle(bob.connection, presence(8))
            received = await alice.until_presence()
            assert len(received) == 1, f"Bob changed Alice's presence: {received}"
            assert decode_awareness(received[0].payload)[0].client_id == 8

            room.leave(alice.connection)
            removal = await bob.recv()
            assert isinstance(removal, AwarenessMessage)
            assert decode_awareness(removal.payload) == [AwarenessEntry(7, 1, None)]


async def test_concurrent_joins_load_once(manager, metrics, store) -> None:
    clients = [Client(manager, metrics, EDITOR) for _ in range(30)]
    rooms = await asyncio.gather(*(manager.join("doc", c.connection) for c in clients))
    assert len({id(room) for room in rooms}) == 1
    assert store.loads == 1


async def test_idle_room_unloads_and_reloads_with_content(manager, metrics, store) -> None:
    async with joined(manager, metrics) as (writer, room):
        await room.handle(writer.connection, SyncUpdate(writer.edit(0, "kept")))
        await writer.recv_until(Saved)
    await asyncio.wait_for(room.wait_closed(), TIMEOUT)
    assert "doc" not in manager.rooms
    async with joined(manager, metrics) as (again, room2):
        assert room2 is not room
        assert store.loads == 2
        text = Document(await MemoryStore.load(store, "doc")).ydoc.get("text", type=Text)
        assert str(text) == "kept"


async def test_shutdown_commits_pending_and_closes_with_1001(store, metrics) -> None:
    async with RoomManager(services(store, metrics)) as manager:
        client = Client(manager, metrics, EDITOR)
        room = await manager.join("doc", client.connection)
        store.gate.clear()
        await room.handle(client.connection, SyncUpdate(client.edit(0, "late")))
        await asyncio.wait_for(store.appending.wait(), TIMEOUT)  # the commit is under way
        closing = asyncio.create_task(manager.shutdown())
        # Yield until the shutdown has begun closing the room (it then waits for the
        # commit): nothing to await but the loop's turns, and no wall-clock wait.
        async with asyncio.timeout(TIMEOUT):
            while room.state is RoomState.OPEN:  # noqa: ASYNC110
                await asyncio.sleep(0)
        store.gate.set()
        await closing
    assert client.channel.closed == (CloseCode.GOING_AWAY, "server shutting down")
    text = Document(await MemoryStore.load(store, "doc")).ydoc.get("text", type=Text)
    assert str(text) == "late"


async def _closed(client: Client) -> tuple[int, str]:
    await asyncio.wait_for(client.channel.closed_event.wait(), TIMEOUT)
    assert client.channel.closed is not None
    return client.channel.closed


async def test_changes_refused_from_a_viewer_are_refused_from_any_connection(
    manager, metrics, store
) -> None:
    async with joined(manager, metrics, VIEWER) as (viewer, room):
        refused = viewer.edit(0, "secret")
        await room.handle(viewer.connection, SyncUpdate(refused))
        assert isinstance(await viewer.recv(), Auth)
        # The same client's copy, through a connection that may write (another tab, a
        # reconnect after a promotion): its whole state, refused text included.
        async with joined(manager, metrics) as (tab, _):
            tab.doc = viewer.doc
            await room.handle(tab.connection, SyncStep2(viewer.doc.get_update()))
            code, reason = await _closed(tab)
            assert code == CloseCode.REFUSED_CHANGES and "reload" in reason
        assert store.appends == 0
        async with room.committed() as document:
            assert str(document.ydoc.get("text", type=Text)) == ""


async def test_a_promoted_connection_that_had_changes_refused_must_start_again(
    manager, metrics, store
) -> None:
    async with (
        joined(manager, metrics, VIEWER) as (typed, room),
        joined(manager, metrics, VIEWER) as (quiet, _),
    ):
        await room.handle(typed.connection, SyncUpdate(typed.edit(0, "secret")))
        room.change_principal(typed.connection, EDITOR)
        room.change_principal(quiet.connection, EDITOR)
        code, _ = await _closed(typed)
        assert code == CloseCode.REFUSED_CHANGES
        # The one that never typed just writes.
        await room.handle(quiet.connection, SyncUpdate(quiet.edit(0, "fine")))
        await quiet.recv_until(Saved)
        assert quiet.channel.closed is None


async def test_refusals_made_on_another_node_hold_here(manager, metrics, store) -> None:
    async with joined(manager, metrics) as (writer, room):
        writer.doc = Doc(client_id=77)
        writer.text = writer.doc.get("text", type=Text)
        room.delivery.receive(
            Envelope(EnvelopeKind.REFUSED, "node/2", 1, encode_state_vector({77: 0}))
        )
        await room.handle(writer.connection, SyncUpdate(writer.edit(0, "refused elsewhere")))
        code, _ = await _closed(writer)
        assert code == CloseCode.REFUSED_CHANGES
        assert store.appends == 0


async def test_clients_that_ask_for_events_are_told_their_access(manager, metrics) -> None:
    client = Client(manager, metrics, VIEWER)
    client.connection.wants_events = True
    room = await manager.join("doc", client.connection)
    assert isinstance(await client.recv(), SyncStep1)
    first = await client.recv()
    assert first == Event(
        {
            "type": "access",
            "document_id": "doc",
            "role": "guest",
            "can_write": False,
            "can_comment": False,
        }
    )
    room.change_principal(client.connection, Principal("u2", "Viewer", True, role="editor"))
    changed = await client.recv()
    assert isinstance(changed, Event) and changed.data["role"] == "editor"
    assert changed.data["can_write"] is True and changed.data["can_comment"] is True
    room.leave(client.connection)
    client.connection.close(CloseCode.NORMAL, "")


async def test_large_updates_are_checked_the_same_way(manager, metrics, store) -> None:
    # Past 64 KiB an update is read for its dependencies in a worker thread.
    async with joined(manager, metrics) as (writer, room):
        await room.handle(writer.connection, SyncUpdate(writer.edit(0, "a" * 70_000)))
        await writer.recv_until(Saved)
        hidden: Doc[Any] = Doc(client_id=4242)
        text = hidden.get("text", type=Text)
        text += "never sent"
        before = hidden.get_state()
        text += "b" * 70_000
        await room.handle(writer.connection, SyncUpdate(hidden.get_update(before)))
        refused = await writer.recv_until(Auth)
        assert isinstance(refused, Auth) and "depends on" in refused.reason
        assert store.appends == 1


async def test_a_refused_deletion_never_enters_the_document(manager, metrics, store) -> None:
    async with joined(manager, metrics) as (editor, room):
        await room.handle(editor.connection, SyncUpdate(editor.edit(0, "keep this")))
        await editor.recv_until(Saved)
        async with joined(manager, metrics, VIEWER) as (viewer, _):
            viewer.doc = Doc(client_id=31)
            viewer.text = viewer.doc.get("text", type=Text)
            viewer.doc.apply_update(editor.doc.get_update())
            presence = AwarenessEntry(client_id=31, clock=1, state={})
            await room.handle(viewer.connection, AwarenessMessage(encode_awareness([presence])))
            before = viewer.doc.get_state()
            del viewer.text[0:5]
            await room.handle(viewer.connection, SyncUpdate(viewer.doc.get_update(before)))
            assert isinstance(await viewer.recv_until(Auth), Auth)
            room.change_principal(viewer.connection, EDITOR)
            assert (await _closed(viewer))[0] == CloseCode.REFUSED_CHANGES
        # The same copy comes back as a writer: its presence names it before its sync.
        async with joined(manager, metrics) as (again, _):
            await room.handle(again.connection, AwarenessMessage(encode_awareness([presence])))
            assert (await _closed(again))[0] == CloseCode.REFUSED_CHANGES
        async with room.committed() as document:
            assert str(document.ydoc.get("text", type=Text)) == "keep this"


async def test_a_document_still_loading_at_shutdown_is_closed_too(
    store: GatedStore, metrics: Metrics
) -> None:
    """A node told to stop while a document loads: the room that opens is closed with the
    rest, and the manager's exit does not wait forever for its commit loop."""
    store.load_gate.clear()
    async with asyncio.timeout(TIMEOUT):
        async with RoomManager(services(store, metrics), grace_seconds=60) as manager:
            client = Client(manager, metrics, EDITOR)
            joining = asyncio.create_task(manager.join("doc", client.connection))
            await store.loading.wait()
            stopping = asyncio.create_task(manager.shutdown())
            await asyncio.sleep(0.05)
            assert not stopping.done(), "shutdown did not wait for the document being loaded"
            store.load_gate.set()
            await stopping
            assert not manager.rooms, "a room loaded during the shutdown was left open"
            with contextlib.suppress(ShuttingDown):
                await joining
                # It joined just before the rooms closed: closed with the rest, then.
                assert client.connection.closing
