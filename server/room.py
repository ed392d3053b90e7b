"""A room: one loaded document, the clients editing it, and the commit loop between them.

The hot path of one edit (DESIGN.md): a writer's update is applied to the room's document
(which is how it is validated: Yrs can fail on updates that decode fine, and such an update
must never reach the log) and queued; the room's commit loop hands everything queued since the
last commit to the store as one merged update, and only once the store has committed it is
the update broadcast to the other clients (encoded once) and acknowledged to its writers with
a Saved message.

The document is therefore ahead of the log by the pending updates, and nothing may read it
while any are pending: a sync answer *holds* the room (new updates wait at the door), lets the
pending ones commit, answers, and releases. Whatever a client is sent survives a crash. When
the document cannot be trusted (a commit failed, or Yrs failed halfway through an update) it
is rebuilt from the store under the same hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from enum import Enum, auto

from crdt import (
    EMPTY_UPDATE,
    AwarenessMessage,
    Document,
    Event,
    Message,
    PoisonedUpdate,
    ProtocolError,
    QueryAwareness,
    Saved,
    StorageError,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode_awareness,
    decode_state_vector,
    encode,
    encode_awareness,
    encode_state_vector,
    merge_updates,
    validate_update,
)
from crdt.awareness import AwarenessEntry, AwarenessRegistry
from crdt.protocol import Auth
from server.channel import CloseCode
from server.connection import Connection, broadcast
from server.metrics import Metrics
from storage import DocumentStore

__all__ = ["Room", "RoomState"]

logger = logging.getLogger("gess.room")

MAX_AWARENESS_IDS = 64
"""Awareness client ids one connection may control (a Yjs client uses one)."""


class RoomState(Enum):
    OPEN = auto()
    """Accepting connections and edits."""
    CLOSING = auto()
    """Committing what is pending; no new connections."""
    CLOSED = auto()


class Room:
    """One document and its connections.

    Args:
        document_id: the document's id.
        document: the document as loaded from the store (committed state only).
        store: where updates are committed.
        metrics: the node's metrics.
        max_pending_bytes: uncommitted bytes beyond which writers wait for a commit.
    """

    def __init__(
        self,
        document_id: str,
        document: Document,
        store: DocumentStore,
        metrics: Metrics,
        *,
        max_pending_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.document_id = document_id
        self.state = RoomState.OPEN
        self.idle_since: float | None = time.monotonic()
        self._document = document
        self._committed_clocks = decode_state_vector(document.state_vector())
        self._store = store
        self._metrics = metrics
        self._max_pending_bytes = max_pending_bytes
        self._connections: set[Connection] = set()
        self._awareness = AwarenessRegistry()
        self._awareness_owner: dict[int, Connection] = {}
        self._pending: list[tuple[Connection, bytes]] = []
        self._pending_bytes = 0
        self._received = 0
        self._settled = 0
        self._wakeup = asyncio.Event()
        self._progress = asyncio.Condition()
        self._closed = asyncio.Event()
        self._door = asyncio.Event()
        """Set while updates may enter the document; cleared while a hold reads it."""
        self._door.set()
        self._holds = asyncio.Lock()
        self._needs_rebuild = False

    @property
    def connections(self) -> frozenset[Connection]:
        return frozenset(self._connections)

    @contextlib.asynccontextmanager
    async def committed(self) -> AsyncIterator[Document]:
        """Hold the room and yield its document once it equals what the store has committed.

        Updates that arrive meanwhile wait; keep the hold short. Never write to the document.
        """
        async with self._holds:
            self._door.clear()
            try:
                await self._wait_settled(self._received)
                if self._needs_rebuild:
                    await self._rebuild()
                yield self._document
            finally:
                self._door.set()

    @property
    def idle(self) -> bool:
        """No connection and nothing waiting to be committed."""
        return not self._connections and self._received == self._settled

    # -- connections ---------------------------------------------------------------------------

    def join(self, connection: Connection) -> None:
        """Admit a connection and start the sync: our state vector, then everyone's presence.

        Raises:
            RuntimeError: the room is no longer open (the caller loads it anew).
        """
        if self.state is not RoomState.OPEN:
            raise RuntimeError(f"room {self.document_id} is {self.state.name.lower()}")
        self._connections.add(connection)
        self.idle_since = None
        connection.send(encode(SyncStep1(self._document.state_vector())))
        states = self._awareness.states()
        if states:
            connection.send(encode(AwarenessMessage(encode_awareness(states))))

    def leave(self, connection: Connection) -> None:
        """Remove a connection; its presence disappears for everyone else."""
        if connection not in self._connections:
            return
        self._connections.discard(connection)
        for client_id in connection.awareness_ids:
            if self._awareness_owner.get(client_id) is connection:
                del self._awareness_owner[client_id]
        removed = self._awareness.remove(connection.awareness_ids)
        if removed:
            self._broadcast(encode(AwarenessMessage(encode_awareness(removed))))
        if not self._connections:
            self.idle_since = time.monotonic()

    # -- messages ------------------------------------------------------------------------------

    async def handle(self, connection: Connection, message: Message) -> None:
        """Act on one message from a connection.

        Raises:
            ProtocolError: the message is invalid or not one a client may send; the caller
                closes this connection, and nothing of the message took effect.
        """
        match message:
            case SyncStep1(state_vector):
                async with self.committed() as document:
                    connection.send(encode(SyncStep2(document.diff(state_vector))))
            case SyncStep2(update) | SyncUpdate(update):
                await self._receive_update(connection, update)
            case AwarenessMessage(payload):
                self._receive_awareness(connection, decode_awareness(payload))
            case QueryAwareness():
                states = self._awareness.states()
                connection.send(encode(AwarenessMessage(encode_awareness(states))))
            case Auth() | Saved() | Event():
                raise ProtocolError(f"clients may not send {type(message).__name__} messages")

    async def _receive_update(self, connection: Connection, update: bytes) -> None:
        if not connection.principal.can_write:
            connection.send(encode(Auth("permission denied: this connection is read-only")))
            return
        if update == EMPTY_UPDATE:
            return
        if self._pending_bytes >= self._max_pending_bytes:
            # The store is behind: stop reading from this writer until it catches up.
            await self._wait_settled(self._received)
        await self._door.wait()
        if self.state is not RoomState.OPEN:
            # A closing room commits what it has; the client resends the rest on reconnect.
            return
        try:
            self._document.apply_update(update)
        except PoisonedUpdate:
            self._taint()
            raise
        self._pending.append((connection, update))
        self._pending_bytes += len(update)
        self._received += 1
        self._metrics.updates_pending.inc()
        self._wakeup.set()

    def _receive_awareness(self, connection: Connection, entries: list[AwarenessEntry]) -> None:
        mine = []
        for entry in entries:
            owner = self._awareness_owner.get(entry.client_id)
            if owner is None:
                if len(connection.awareness_ids) >= MAX_AWARENESS_IDS:
                    raise ProtocolError(
                        f"a connection may announce at most {MAX_AWARENESS_IDS} awareness ids"
                    )
                self._awareness_owner[entry.client_id] = connection
                connection.awareness_ids.add(entry.client_id)
            elif owner is not connection:
                # Another client's presence is not this client's to change.
                continue
            mine.append(entry)
        accepted = self._awareness.apply(mine)
        if accepted:
            self._broadcast(encode(AwarenessMessage(encode_awareness(accepted))), connection)

    # -- commit loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Commit pending updates until the room is closed; owned by the room manager."""
        while True:
            if not self._pending:
                if self._needs_rebuild:
                    async with self.committed():
                        pass
                    continue
                if self.state is not RoomState.OPEN:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch, self._pending, self._pending_bytes = self._pending, [], 0
            try:
                await self._commit(batch)
            finally:
                self._settled += len(batch)
                self._metrics.updates_pending.dec(len(batch))
                async with self._progress:
                    self._progress.notify_all()

    async def _commit(self, batch: list[tuple[Connection, bytes]]) -> None:
        writers = {connection for connection, _ in batch}
        started = time.perf_counter()
        try:
            merged = merge_updates([update for _, update in batch])
            await self._store.append(self.document_id, merged)
        except (StorageError, ProtocolError) as exc:
            logger.error("document %s: %d updates not saved: %s", self.document_id, len(batch), exc)
            # The document holds updates the store does not: rebuild it before anyone reads it.
            self._taint()
            for writer in writers:
                writer.close(
                    CloseCode.INTERNAL,
                    "the server could not save your changes; reconnect to send them again",
                    drain=False,
                )
            return
        self._metrics.commit_seconds.observe(time.perf_counter() - started)
        message = encode(SyncUpdate(merged))
        if len(writers) == 1:
            self._broadcast(message, next(iter(writers)))
        else:
            self._broadcast(message)
        clocks = self._committed_clocks
        for client_id, clock in decode_state_vector(validate_update(merged)).items():
            if clock > clocks.get(client_id, 0):
                clocks[client_id] = clock
        saved = encode(Saved(encode_state_vector(clocks)))
        for writer in writers:
            if writer.wants_saved:
                writer.send(saved)

    async def _wait_settled(self, target: int) -> None:
        if self._settled >= target:
            return
        async with self._progress:
            await self._progress.wait_for(
                lambda: self._settled >= target or self.state is RoomState.CLOSED
            )

    def _taint(self) -> None:
        self._needs_rebuild = True
        self._door.clear()
        self._wakeup.set()

    async def _rebuild(self) -> None:
        """Reload the document from the store; call with the room held and nothing pending."""
        logger.warning("document %s: rebuilding from the store", self.document_id)
        document = Document()
        for update in await self._store.load(self.document_id):
            try:
                document.apply_update(update)
            except ProtocolError:
                logger.error("document %s: skipping a corrupt stored update", self.document_id)
        self._document = document
        self._committed_clocks = decode_state_vector(document.state_vector())
        self._needs_rebuild = False

    def _broadcast(self, data: bytes, exclude: Connection | None = None) -> None:
        targets = self._connections if exclude is None else self._connections - {exclude}
        broadcast(targets, data, self._metrics)

    # -- lifecycle -----------------------------------------------------------------------------

    async def close(self, code: int = CloseCode.GOING_AWAY, reason: str = "") -> None:
        """Stop accepting connections, commit what is pending, then close every connection.

        Args:
            code: close code sent to the connections still open.
            reason: close reason sent with it.
        """
        if self.state is RoomState.OPEN:
            self.state = RoomState.CLOSING
            self._wakeup.set()
            await self._wait_settled(self._received)
            for connection in self._connections:
                connection.close(code, reason)
            self.state = RoomState.CLOSED
            self._closed.set()
            async with self._progress:
                self._progress.notify_all()
        else:
            await self._closed.wait()

    async def wait_closed(self) -> None:
        await self._closed.wait()
