"""A room: one loaded document, the clients editing it, and the commit loop between them.

The hot path of one edit (DESIGN.md): a writer's update is applied to the room's document
(which validates it: Yrs can fail on updates that decode fine, and those must never reach the
log) and queued; the commit loop hands everything queued since the last commit to the store
as one merged update, and only once it is committed is it broadcast (encoded once),
published to the other nodes and acknowledged to its writers with a Saved message.

So the document is ahead of the log by the pending updates, and nothing may read it while any
are pending: a sync answer *holds* the room (new updates wait at the door), lets them commit,
answers and releases. Whatever a client is sent survives a crash. A document that cannot be
trusted is rebuilt from the store under the same hold, and one that missed envelopes from
other nodes catches up the same way (:mod:`server.room_document`). What a client's message
asks for is decided by its :class:`~crdt.server_session.ServerSession` (sans I/O).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Coroutine, Mapping
from typing import Any

from crdt import AwarenessEntry, Document, Message, ProtocolError
from crdt.dependencies import UpdateFacts
from crdt.relay import EnvelopeKind
from crdt.server_session import (
    PresenceQueried,
    PresenceReceived,
    ServerSession,
    SyncRequested,
    UpdateReceived,
    UpdateRefused,
)
from server.audience import Audience
from server.channel import CloseCode
from server.commit import CommitQueue, Pending, abandon, acknowledge, append_batch
from server.connection import Connection, Principal
from server.delivery import Delivery
from server.refused import STALE_COPY_REASON, RefusedChanges
from server.room_document import INSPECT_IN_THREAD_BYTES, Early, RoomDocument
from server.room_services import RoomServices
from server.room_state import DocumentState, RoomClosing, RoomState, Usage, advance
from storage.errors import StorageError

__all__ = ["Room", "RoomClosing", "RoomServices", "RoomState"]

logger = logging.getLogger("gess.room")


class Room:
    """One document and its connections.

    Args:
        document_id: the document's id.
        document: the document as loaded from the store.
        services: the node's store, broker and metrics.
        refused: the refused clocks the store remembers for the document.
        stored_bytes: what the store held for it when loaded (the sum of the updates).
    """

    def __init__(
        self,
        document_id: str,
        document: Document,
        services: RoomServices,
        refused: Mapping[int, int] | None = None,
        *,
        stored_bytes: int = 0,
    ) -> None:
        self.document_id = document_id
        self._state = RoomState.OPEN
        self.usage = Usage(idle_since=time.monotonic())
        """For the room manager: when the room was last idle, and edits not checkpointed."""
        self._services = services
        self._metrics = services.metrics
        self._doc = RoomDocument(
            document_id,
            document,
            services.store,
            max_bytes=services.max_document_bytes,
            stored_bytes=stored_bytes,
        )
        self._refused = RefusedChanges(refused)
        self.delivery = Delivery(
            document_id, services.broker, services.origin, services.metrics, self
        )
        """Envelopes to and from other nodes: the broker hands them to ``receive``."""
        self.audience = Audience(
            document_id,
            services.metrics,
            self.delivery,
            self._refused,
            services.presence,
            services.claims,
        )
        """The connections, and what they are sent besides the sync."""
        self._queue = CommitQueue(services.metrics)
        self._closed = asyncio.Event()
        self._door = asyncio.Event()
        """Set while updates may enter the document; cleared while a hold reads it."""
        self._door.set()
        self._holds = asyncio.Lock()

    # -- state ---------------------------------------------------------------------------------

    @property
    def state(self) -> RoomState:
        return self._state

    @property
    def document_state(self) -> DocumentState:
        return self._doc.state

    @property
    def connections(self) -> frozenset[Connection]:
        return frozenset(self.audience.connections)

    @property
    def idle(self) -> bool:
        """No connection and nothing waiting to be committed."""
        return not self.audience.connections and self._queue.settled

    @contextlib.asynccontextmanager
    async def committed(self) -> AsyncIterator[Document]:
        """Hold the room and yield its document once it equals what the store has committed.

        Updates that arrive meanwhile wait; keep the hold short. Never write to the document.

        Raises:
            StorageError: the document had to be rebuilt, and the store could not be read.
        """
        async with self._holds:
            self._door.clear()
            try:
                await self._queue.wait_settled(self._closed.is_set)
                if self._doc.state is DocumentState.BROKEN:
                    # It may stand in for a catch-up, which also reads the refusals that
                    # other nodes shared (their envelopes may have been lost too).
                    self._refused.merge(await self._services.refusals.load(self.document_id))
                    deferred = await self._doc.rebuild()
                    if deferred is not None:
                        self.audience.broadcast_update(deferred)
                yield self._doc.current
            finally:
                self._door.set()

    # -- connections ---------------------------------------------------------------------------

    async def join(self, connection: Connection) -> None:
        """Admit a connection and start the sync: our state vector (of committed state only,
        so a client may take it as proof that what of its own it covers is saved), then
        everyone's presence.

        Raises:
            RoomClosing: the room is no longer open (the caller loads it anew).
            StorageError: the document had to be rebuilt, and the store could not be read.
        """
        async with self.committed() as document:
            if self._state is not RoomState.OPEN:
                raise RoomClosing(f"room {self.document_id} is {self._state.name.lower()}")
            self.audience.connections.add(connection)
            self.usage.idle_since = None
            connection.send(ServerSession.greeting(document.state_vector()))
        self.audience.welcome(connection, self.document_id)

    def leave(self, connection: Connection) -> None:
        """Remove a connection; its presence disappears for everyone else."""
        if connection not in self.audience.connections:
            return
        self.audience.remove(connection)
        if not self.audience.connections:
            self.usage.idle_since = time.monotonic()

    def change_principal(self, connection: Connection, principal: Principal) -> None:
        """Give a connection new rights (its role changed while it is connected): see
        :meth:`Audience.change_principal`."""
        self.audience.change_principal(connection, principal, self.document_id)

    # -- messages from clients ------------------------------------------------------------------

    async def handle(self, connection: Connection, message: Message) -> None:
        """Act on one message from a connection and wait for what that leaves (:meth:`act`)."""
        rest = self.act(connection, message)
        if rest is not None:
            await rest

    def act(self, connection: Connection, message: Message) -> Coroutine[Any, Any, None] | None:
        """Act on one message from a connection, at once if that needs no wait (None): nearly
        every message is a small update, presence or an empty step 2, and takes no task and
        no turn of the event loop. One that waits (for a hold, the store, a thread) comes
        back as a coroutine that finishes it, to await before the connection's next message.

        Raises:
            ProtocolError: the message is invalid or not one a client may send; the caller
                closes this connection, and nothing of the message took effect.
            DocumentTooLarge: the change would pass the document's size limit; nothing of
                it took effect. Both also from the coroutine.
        """
        match connection.sync.receive_message(message):
            case UpdateReceived(update):
                if (
                    len(update) > INSPECT_IN_THREAD_BYTES
                    or self._queue.pending_bytes >= self._services.max_pending_bytes
                    or not self._doc.fits(update)
                    or not self._door.is_set()
                ):
                    return self._receive_update(connection, update)
                self._accept_update(connection, update, None)
            case SyncRequested(state_vector):
                return self._answer(connection, state_vector)
            case UpdateRefused(update):
                connection.send(ServerSession.refusal())
                adds, deletes = self._doc.refused_clocks(update, connection.awareness_ids)
                refusals = self._services.refusals
                return self.audience.refuse(connection, adds, deletes, refusals, self.document_id)
            case PresenceReceived(entries):
                self.audience.local_presence(connection, entries)
            case PresenceQueried():
                self.audience.send_presence(connection)
        return None

    async def _answer(self, connection: Connection, state_vector: bytes) -> None:
        async with self.committed() as document:
            connection.send(ServerSession.answer(document, state_vector))

    async def _receive_update(self, connection: Connection, update: bytes) -> None:
        """:meth:`act` on an update that must wait to enter; a large one is inspected meanwhile."""
        early = None
        if len(update) > INSPECT_IN_THREAD_BYTES:
            early = await self._doc.inspect_early(update)
        await self._enter(update)
        self._accept_update(connection, update, early)

    async def _enter(self, update: bytes) -> None:
        """Wait until an update may enter the document: the store is not too far behind
        (this also stops reading from its writer), it fits, and no hold is reading."""
        if self._queue.pending_bytes >= self._services.max_pending_bytes:
            await self._queue.wait_settled(self._closed.is_set)
        await self._doc.check_size(update, self._queue.uncommitted)
        await self._door.wait()

    def _accept_update(self, connection: Connection, update: bytes, early: Early | None) -> None:
        """Inspect, apply and queue an update once nothing is left to wait for."""
        if self._state is not RoomState.OPEN:
            # A closing room commits what it has; the client resends the rest on reconnect.
            return
        facts = self._doc.inspect(update, early)
        if self._refused.reaches(facts.ends):
            connection.close(CloseCode.REFUSED_CHANGES, STALE_COPY_REASON)
            return
        if facts.missing is not None:
            # Yrs would keep it pending, invisible to everyone: neither apply, store, show
            # nor acknowledge it. A client sends it again with its next full sync, which
            # also carries what it depends on if the client has that.
            connection.send(ServerSession.unsaved(facts.missing))
            return
        self._apply(update, facts)
        self._queue.put(Pending(update, connection.principal.user_id, connection))

    async def submit(self, update: bytes, author: str | None) -> None:
        """Apply a change made by the server on someone's behalf (restoring a version, say).

        It takes the path of a client's update: applied, committed with ``author`` as its
        author, then sent to every client here and to the other nodes. Returns once committed.

        Raises:
            ProtocolError: ``update`` is not a valid update; nothing changed.
            DocumentTooLarge: the document would pass its size limit; nothing changed.
            StorageError: it could not be committed (the room rebuilds from the store), or
                the room is closing.
        """
        await self._enter(update)
        if self._state is not RoomState.OPEN:
            raise StorageError(f"room {self.document_id} is closing")
        self._apply(update)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put(Pending(update, author, None, done))
        await done

    def _apply(self, update: bytes, facts: UpdateFacts | None = None) -> None:
        try:
            self._doc.apply(update, facts)
        except ProtocolError:
            if self._doc.state is DocumentState.BROKEN:
                self._broken()
            raise

    def _broken(self) -> None:
        self._door.clear()  # nothing more goes into a document that cannot be trusted
        self._queue.wake()  # the commit loop rebuilds it

    # -- other nodes (server.delivery.Recipient) ------------------------------------------------

    def catch_up(self) -> None:
        """Ask the commit loop to merge in whatever the store has that this room lacks."""
        if self._doc.fell_behind():
            self._queue.wake()

    def apply_remote(self, update: bytes) -> None:
        was = self._doc.state
        if self._doc.apply_remote(update):
            self.audience.broadcast_update(update)
        if self._doc.state is DocumentState.BROKEN and was is not DocumentState.BROKEN:
            self._broken()

    def remote_presence(self, entries: list[AwarenessEntry]) -> None:
        self.audience.remote_presence(entries)

    def remote_refusals(self, clocks: dict[int, int]) -> None:
        self._refused.merge(clocks)

    def remote_event(self, event: dict[str, object], members_only: bool) -> None:
        self.audience.event(event, members_only)

    # -- commit loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Commit pending updates until the room is closed; owned by the room manager."""
        while True:
            if self._queue.empty:
                if self._doc.state is not DocumentState.CURRENT:
                    await self._repair()
                    continue
                if self._state is not RoomState.OPEN:
                    return
                await self._queue.wait_for_work()
                continue
            batch = self._queue.take()
            # Everything in the document is now either committed or in this batch: once the
            # batch commits, this is exactly the committed state vector.
            committed = self._doc.current.state_vector()
            try:
                await self._commit(batch, committed)
            finally:
                await self._queue.done(batch)

    async def _repair(self) -> None:
        """Rebuild or catch up the document under a hold (nothing is pending)."""
        try:
            async with self.committed():  # rebuilds a broken document
                if self._doc.state is DocumentState.BEHIND:
                    self._metrics.pubsub_catchups.inc()
                    # Refusals shared by envelope may have been lost with the updates.
                    self._refused.merge(await self._services.refusals.load(self.document_id))
                    diff = await self._doc.catch_up()
                    if diff is not None:
                        self.audience.broadcast_update(diff)
        except StorageError as exc:
            # The database is away: keep serving, try again shortly.
            logger.warning("document %s: cannot read the store: %s", self.document_id, exc)
            await asyncio.sleep(1.0)

    async def _commit(self, batch: list[Pending], committed: bytes) -> None:
        started = time.perf_counter()
        try:
            merged = await append_batch(self._services.store, self.document_id, batch)
        except (StorageError, ProtocolError) as exc:
            logger.error("document %s: %d updates not saved: %s", self.document_id, len(batch), exc)
            # The document holds updates the store does not: rebuild it before anyone reads it.
            self._doc.broke()
            self._broken()
            abandon(batch, exc)
            return
        self._metrics.commit_seconds.observe(time.perf_counter() - started)
        self.usage.committed(time.monotonic())
        # Every connection, the writers included: a stock client takes its own update coming
        # back as the proof that it is saved (y-websocket's sync status), and it is one
        # message encoded once for all.
        self.audience.broadcast_update(merged)
        self.delivery.publish(EnvelopeKind.UPDATE, merged)
        acknowledge(batch, committed)

    # -- lifecycle -----------------------------------------------------------------------------

    async def close(self, code: int = CloseCode.GOING_AWAY, reason: str = "") -> None:
        """Stop accepting connections, commit what is pending, then close every connection.

        Args:
            code: close code sent to the connections still open.
            reason: close reason sent with it.
        """
        if self._state is RoomState.OPEN:
            self._state = advance(self._state, RoomState.CLOSING)
            self._queue.wake()
            await self._queue.wait_settled(self._closed.is_set)
            for connection in self.audience.connections:
                connection.close(code, reason)
            self._state = advance(self._state, RoomState.CLOSED)
            self._closed.set()
            await self._queue.notify()
        else:
            await self._closed.wait()

    async def wait_closed(self) -> None:
        await self._closed.wait()
