"""A room: one loaded document, the clients editing it, and the commit loop between them.

The hot path of one edit (DESIGN.md): a writer's update is applied to the room's document
(which is how it is validated: Yrs can fail on updates that decode fine, and such an update
must never reach the log) and queued; the room's commit loop hands everything queued since the
last commit to the store as one merged update, and only once the store has committed it is
the update broadcast to the other clients (encoded once), published to the other nodes, and
acknowledged to its writers with a Saved message.

The document is therefore ahead of the log by the pending updates, and nothing may read it
while any are pending: a sync answer *holds* the room (new updates wait at the door), lets the
pending ones commit, answers, and releases. Whatever a client is sent survives a crash. When
the document cannot be trusted (a commit failed, or Yrs failed halfway through an update) it
is rebuilt from the store under the same hold; when envelopes from other nodes were lost, the
room catches up from the store the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from enum import Enum, auto

from crdt import (
    EMPTY_UPDATE,
    AwarenessEntry,
    AwarenessMessage,
    Document,
    DocumentTooLarge,
    Event,
    Message,
    PoisonedUpdate,
    ProtocolError,
    Saved,
    decode_awareness,
    decode_state_vector,
    encode,
    encode_awareness,
    encode_state_vector,
    merge_updates,
)
from crdt.dependencies import UpdateFacts, deletes_anything_new, inspect_update
from crdt.relay import Envelope, EnvelopeKind
from crdt.server_session import (
    PresenceQueried,
    PresenceReceived,
    ServerSession,
    SyncRequested,
    UpdateReceived,
    UpdateRefused,
)
from server.broker import Broker
from server.channel import CloseCode
from server.connection import Connection, Principal, broadcast, broadcast_update
from server.metrics import Metrics
from server.presence import Presence, PresenceClaims, PresenceLimits
from server.refused import STALE_COPY_REASON, RefusedChanges
from server.roles import GUEST_ROLE, can_comment
from storage import DocumentStore
from storage.errors import StorageError
from storage.refusals import MemoryRefusals, Refusals

__all__ = ["Room", "RoomServices", "RoomState", "access_event"]

logger = logging.getLogger("gess.room")

_INSPECT_IN_THREAD_BYTES = 64 * 1024
"""Updates larger than this are read for their dependencies in a worker thread."""


class RoomState(Enum):
    OPEN = auto()
    """Accepting connections and edits."""
    CLOSING = auto()
    """Committing what is pending; no new connections."""
    CLOSED = auto()


@dataclass(frozen=True, slots=True)
class RoomServices:
    """What every room of a node shares."""

    store: DocumentStore
    broker: Broker
    metrics: Metrics
    origin: str
    """This node's name in envelopes: node id and boot, unique per process."""
    max_pending_bytes: int = 64 * 1024 * 1024
    """Uncommitted bytes beyond which writers wait for a commit."""
    refusals: Refusals = field(default_factory=MemoryRefusals)
    """Where refused changes are remembered (:mod:`server.refused`)."""
    max_document_bytes: int = 64 * 1024 * 1024
    """The most bytes a document may take in the store (snapshot plus log)."""
    presence: PresenceLimits = PresenceLimits()
    """Bounds on each connection's presence."""
    claims: PresenceClaims = field(default_factory=PresenceClaims)
    """Awareness client ids reserved for the account that last held them, across rooms."""


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
        self.state = RoomState.OPEN
        self.idle_since: float | None = time.monotonic()
        self.last_commit: float | None = None
        self.edited = False
        """Set by each commit; the room manager clears it when it saves a checkpoint."""
        self._services = services
        self._metrics = services.metrics
        self._document = document
        self._connections: set[Connection] = set()
        self._presence = Presence(
            document_id,
            services.presence,
            services.claims,
            lambda changed, sender: self._presence_from(sender, changed),
        )
        self._refused = RefusedChanges(refused)
        self._pending: list[_Pending] = []
        self._pending_bytes = 0
        self._inflight_bytes = 0
        """Bytes of the batch being committed."""
        self._received = 0
        self._settled = 0
        self._sequence = 0
        self._seen: dict[str, int] = {}
        """Per other node: the last sequence number received from it for this document."""
        self._heard: dict[str, float] = {}
        """Per other node: when it was last heard of here."""
        self._wakeup = asyncio.Event()
        self._progress = asyncio.Condition()
        self._closed = asyncio.Event()
        self._door = asyncio.Event()
        """Set while updates may enter the document; cleared while a hold reads it."""
        self._door.set()
        self._holds = asyncio.Lock()
        self._needs_rebuild = False
        self._needs_catch_up = False
        self._deferred: list[bytes] | None = None
        """While rebuilding: updates from other nodes, applied to the new document after."""
        self._stored_bytes = stored_bytes
        """At least what the store holds for this document once everything accepted here
        is committed: the size at load, plus every update accepted or received since. It
        only grows (a compaction shrinks the real figure), so it is measured again before
        anything is refused on its account: see :meth:`_check_size`."""

    @property
    def connections(self) -> frozenset[Connection]:
        return frozenset(self._connections)

    @property
    def idle(self) -> bool:
        """No connection and nothing waiting to be committed."""
        return not self._connections and self._received == self._settled

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

    # -- connections ---------------------------------------------------------------------------

    async def join(self, connection: Connection) -> None:
        """Admit a connection and start the sync: our state vector, then everyone's presence.

        The state vector is of committed state only, so a client may take it as proof that
        whatever of its own it covers is saved.

        Raises:
            RuntimeError: the room is no longer open (the caller loads it anew).
        """
        async with self.committed() as document:
            if self.state is not RoomState.OPEN:
                raise RuntimeError(f"room {self.document_id} is {self.state.name.lower()}")
            self._connections.add(connection)
            self.idle_since = None
            connection.send(ServerSession.greeting(document.state_vector()))
        access = connection.sync.event(access_event(self.document_id, connection.principal))
        if access is not None:
            connection.send(access)
        states = self._presence.states()
        if states:
            connection.send(encode(AwarenessMessage(encode_awareness(states))))

    def leave(self, connection: Connection) -> None:
        """Remove a connection; its presence disappears for everyone else."""
        if connection not in self._connections:
            return
        self._connections.discard(connection)
        self._refused.forget(connection)
        self._share_presence(self._presence.leave(connection))
        if not self._connections:
            self.idle_since = time.monotonic()

    # -- messages from clients ------------------------------------------------------------------

    async def handle(self, connection: Connection, message: Message) -> None:
        """Act on one message from a connection.

        Raises:
            ProtocolError: the message is invalid or not one a client may send; the caller
                closes this connection, and nothing of the message took effect.
        """
        match connection.sync.receive_message(message):
            case UpdateReceived(update):
                await self._receive_update(connection, update)
            case SyncRequested(state_vector):
                async with self.committed() as document:
                    connection.send(ServerSession.answer(document, state_vector))
            case UpdateRefused(update):
                await self._refuse(connection, update)
            case PresenceReceived(entries):
                self._presence_from(connection, self._presence.local(connection, entries))
            case PresenceQueried():
                states = self._presence.states()
                connection.send(encode(AwarenessMessage(encode_awareness(states))))

    def change_principal(self, connection: Connection, principal: Principal) -> None:
        """Give a connection new rights (its role changed while it is connected).

        A client that asked for events is told (an ``access`` event). A connection whose
        changes were refused while it could not write, and that now may write, is closed with
        :attr:`CloseCode.REFUSED_CHANGES`: its copy holds those changes and builds on them,
        and the document will never take them.
        """
        before, connection.principal = connection.principal, principal
        if (before.role, before.can_write, before.member) != (
            principal.role,
            principal.can_write,
            principal.member,
        ):
            access = connection.sync.event(access_event(self.document_id, principal))
            if access is not None:
                connection.send(access)
        if principal.can_write and not before.can_write and self._refused.stale(connection):
            connection.close(CloseCode.REFUSED_CHANGES, STALE_COPY_REASON)

    async def _receive_update(self, connection: Connection, update: bytes) -> None:
        early: tuple[dict[int, int], UpdateFacts] | None = None
        if len(update) > _INSPECT_IN_THREAD_BYTES:
            # Reading a large update struct by struct takes a while (a full resync: ~20 µs a
            # struct): off the event loop, against the state of now. Dependencies only grow,
            # so an answer from an earlier state is safe unless the document is rebuilt
            # meanwhile (checked below).
            state = decode_state_vector(self._document.state_vector())
            early = state, await asyncio.to_thread(inspect_update, update, state)
        if self._pending_bytes >= self._services.max_pending_bytes:
            # The store is behind: stop reading from this writer until it catches up.
            await self._wait_settled(self._received)
        await self._check_size(update)
        await self._door.wait()
        if self.state is not RoomState.OPEN:
            # A closing room commits what it has; the client resends the rest on reconnect.
            return
        # Checked against the document as it is now, with no await before applying: what is
        # pending counts, since it commits before this update does.
        now = decode_state_vector(self._document.state_vector())
        if early is not None and all(now.get(c, 0) >= k for c, k in early[0].items()):
            facts = early[1]
        else:
            facts = inspect_update(update, now)
        if self._refused.reaches(facts.ends):
            connection.close(CloseCode.REFUSED_CHANGES, STALE_COPY_REASON)
            return
        if facts.missing is not None:
            # Yrs would keep it pending, invisible to everyone: neither apply, store, show
            # nor acknowledge it. A client sends it again with its next full sync, which
            # also carries what it depends on if the client has that.
            connection.send(
                ServerSession.refusal(
                    f"permission denied: the update depends on {facts.missing}, which "
                    "the server does not have; it was not saved"
                )
            )
            return
        try:
            self._document.apply_update(update)
        except PoisonedUpdate:
            self._request(rebuild=True)
            raise
        self._stored_bytes += len(update)
        self._enqueue(_Pending(update, connection.principal.user_id, connection))

    async def _refuse(self, connection: Connection, update: bytes) -> None:
        """Refuse an update from a connection that may not write, and remember its clocks."""
        connection.send(ServerSession.refusal())
        vector = self._document.state_vector()
        facts = inspect_update(update, decode_state_vector(vector))
        deletes: dict[int, int] | None = None
        if facts.deleted and deletes_anything_new(facts.deleted, self._document.diff(vector)):
            state = decode_state_vector(vector)
            deletes = {c: state.get(c, 0) for c in connection.awareness_ids}
        writers = [c for c in self._connections if c.principal.can_write]
        fresh = self._refused.refuse(connection, facts.adds, writers, deletes=deletes)
        if not fresh:
            return
        try:
            await self._services.refusals.record(self.document_id, fresh)
        except StorageError as exc:
            # This node still refuses them; other nodes learn it from the envelope.
            logger.error("document %s: refusals not stored: %s", self.document_id, exc)
        self._publish(EnvelopeKind.REFUSED, encode_state_vector(fresh))

    async def _check_size(self, update: bytes) -> None:
        """Refuse an update that would take the document past ``max_document_bytes``.

        The running estimate is cheap and never too low, so most updates pass on it alone;
        when it says no, the store is asked for the exact figure (which reflects
        compactions, here and on other nodes) and the estimate restarts from it. Updates
        accepted concurrently by other connections may still add one message each.

        Raises:
            DocumentTooLarge: the update would not fit; nothing of it was applied.
        """
        limit = self._services.max_document_bytes
        if self._stored_bytes + len(update) <= limit:
            return
        measured = await self._services.store.measure(self.document_id)
        # Accepted here and not committed yet: not in the measure, but on its way.
        self._stored_bytes = measured + self._pending_bytes + self._inflight_bytes
        if self._stored_bytes + len(update) > limit:
            raise DocumentTooLarge(
                f"document too large: it holds {self._stored_bytes} bytes and this change "
                f"of {len(update)} bytes would pass the limit of {limit} bytes"
            )

    async def submit(self, update: bytes, author: str | None) -> None:
        """Apply a change made by the server on someone's behalf (restoring a version, say).

        It takes the same path as a client's update: applied, committed with ``author`` as
        its author, then broadcast to every client here and published to the other nodes.
        Returns once it is committed.

        Raises:
            ProtocolError: ``update`` is not a valid update; nothing changed.
            DocumentTooLarge: the document would pass its size limit; nothing changed.
            StorageError: it could not be committed (the room rebuilds from the store), or
                the room is closing.
        """
        await self._check_size(update)
        await self._door.wait()
        if self.state is not RoomState.OPEN:
            raise StorageError(f"room {self.document_id} is closing")
        try:
            self._document.apply_update(update)
        except PoisonedUpdate:
            self._request(rebuild=True)
            raise
        self._stored_bytes += len(update)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._enqueue(_Pending(update, author, None, done))
        await done

    def _enqueue(self, pending: _Pending) -> None:
        self._pending.append(pending)
        self._pending_bytes += len(pending.update)
        self._received += 1
        self._metrics.updates_pending.inc()
        self._wakeup.set()

    def _presence_from(self, connection: Connection | None, changed: list[AwarenessEntry]) -> None:
        """Share a connection's presence that changed, now or once its rate allowed it."""
        if connection is not None:
            if connection.principal.can_write and self._refused.stale(connection):
                # A copy that had changes refused, back as a writer: its sync would send
                # them (deletions included, which name no client) again.
                connection.close(CloseCode.REFUSED_CHANGES, STALE_COPY_REASON)
                return
        self._share_presence(changed, exclude=connection)

    def _share_presence(
        self, changed: list[AwarenessEntry], exclude: Connection | None = None
    ) -> None:
        if not changed:
            return
        payload = encode_awareness(changed)
        self._broadcast(encode(AwarenessMessage(payload)), exclude)
        self._publish(EnvelopeKind.AWARENESS, payload)

    # -- envelopes from other nodes -------------------------------------------------------------

    def deliver(self, envelope: Envelope) -> None:
        """Take an envelope another node published for this document (already committed)."""
        if envelope.origin == self._services.origin:
            return  # Redis hands a node its own envelopes back
        self._heard[envelope.origin] = time.monotonic()
        # A node first heard of counts from 0: if it published before, the room may have
        # missed some (it loaded before they committed, and subscribed after): catch up once.
        last = self._seen.get(envelope.origin, 0)
        heartbeat = envelope.kind is EnvelopeKind.HEARTBEAT
        expected = last if heartbeat else last + 1
        if envelope.sequence != expected and not (heartbeat and envelope.sequence == 0):
            logger.warning(
                "document %s: expected envelope %d from %s, got %d; catching up",
                self.document_id,
                expected,
                envelope.origin,
                envelope.sequence,
            )
            self._metrics.pubsub_gaps.inc()
            self._request(catch_up=True)
        self._seen[envelope.origin] = envelope.sequence
        if envelope.kind is EnvelopeKind.HEARTBEAT:
            return
        if envelope.kind is EnvelopeKind.UPDATE:
            self._apply_remote(envelope.payload)
        elif envelope.kind is EnvelopeKind.AWARENESS:
            try:
                entries = decode_awareness(envelope.payload)
            except ProtocolError as exc:
                logger.error(
                    "document %s: bad presence from %s: %s", self.document_id, envelope.origin, exc
                )
                return
            changed = self._presence.remote(entries, time.monotonic())
            if changed:
                self._broadcast(encode(AwarenessMessage(encode_awareness(changed))))
        elif envelope.kind is EnvelopeKind.REFUSED:
            try:
                self._refused.merge(decode_state_vector(envelope.payload))
            except ProtocolError as exc:
                logger.error(
                    "document %s: bad refusals from %s: %s", self.document_id, envelope.origin, exc
                )
        elif envelope.kind is EnvelopeKind.EVENT:
            try:
                data = json.loads(envelope.payload)
                event, members_only = data["event"], bool(data["members_only"])
            except (ValueError, TypeError, KeyError) as exc:
                logger.error(
                    "document %s: bad event from %s: %s", self.document_id, envelope.origin, exc
                )
                return
            if isinstance(event, dict):
                self._deliver_event(event, members_only)

    def _apply_remote(self, update: bytes) -> None:
        if self._deferred is not None:
            self._deferred.append(update)
            return
        try:
            self._document.apply_update(update)
        except PoisonedUpdate:
            self._request(rebuild=True)
        except ProtocolError as exc:
            logger.error("document %s: bad update from another node: %s", self.document_id, exc)
            return
        self._stored_bytes += len(update)
        self._broadcast_update(update)

    def send_event(self, data: dict[str, object], *, members_only: bool = False) -> None:
        """Send a server event to every client here that asked for events, and to other nodes.

        Args:
            data: the event, a JSON object.
            members_only: only for members of the document's workspace
                (:attr:`Principal.member`), not for people reading a published document.
        """
        self._deliver_event(data, members_only)
        envelope = {"event": data, "members_only": members_only}
        self._publish(EnvelopeKind.EVENT, json.dumps(envelope, separators=(",", ":")).encode())

    def _deliver_event(self, data: dict[str, object], members_only: bool) -> None:
        targets = [c for c in self._connections if c.sync.takes_event(members_only=members_only)]
        if targets:
            broadcast(targets, encode(Event(data)), self._metrics)

    def expire_presence(self, timeout: float) -> None:
        """Drop presence from other nodes that was not renewed within ``timeout`` seconds."""
        removed = self._presence.expire(time.monotonic(), timeout)
        if removed:
            self._broadcast(encode(AwarenessMessage(encode_awareness(removed))))

    def catch_up(self) -> None:
        """Ask the commit loop to merge in whatever the store has that this room lacks."""
        self._request(catch_up=True)

    def heartbeat(self, silence: float) -> None:
        """Tell other nodes how far this node's sequence is; look for nodes gone silent.

        A lost last envelope leaves no gap for a receiver to notice, so every node repeats
        its latest sequence number; and a node that died right after committing sends
        nothing more at all, so a node silent for ``silence`` seconds triggers a catch-up.
        """
        self._services.broker.publish(
            self.document_id,
            Envelope(EnvelopeKind.HEARTBEAT, self._services.origin, self._sequence, b""),
        )
        now = time.monotonic()
        gone = [origin for origin, heard in self._heard.items() if now - heard >= silence]
        for origin in gone:
            logger.info("document %s: %s went silent; catching up", self.document_id, origin)
            del self._heard[origin]
            self._seen.pop(origin, None)
        if gone:
            self._request(catch_up=True)

    # -- commit loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Commit pending updates until the room is closed; owned by the room manager."""
        while True:
            if not self._pending:
                if self._needs_rebuild or self._needs_catch_up:
                    try:
                        async with self.committed() as document:
                            if self._needs_catch_up:
                                await self._catch_up(document)
                    except StorageError as exc:
                        # The database is away: keep serving, try again shortly.
                        logger.warning(
                            "document %s: cannot read the store: %s", self.document_id, exc
                        )
                        self._needs_catch_up = True
                        await asyncio.sleep(1.0)
                    continue
                if self.state is not RoomState.OPEN:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch, self._pending, self._pending_bytes = self._pending, [], 0
            self._inflight_bytes = sum(len(p.update) for p in batch)
            # Everything in the document is now either committed or in this batch: once the
            # batch commits, this is exactly the committed state vector.
            committed = self._document.state_vector()
            try:
                await self._commit(batch, committed)
            finally:
                self._inflight_bytes = 0
                self._settled += len(batch)
                self._metrics.updates_pending.dec(len(batch))
                async with self._progress:
                    self._progress.notify_all()

    async def _commit(self, batch: list[_Pending], committed: bytes) -> None:
        writers = {p.writer for p in batch if p.writer is not None}
        started = time.perf_counter()
        try:
            merged = await self._append(batch)
        except (StorageError, ProtocolError) as exc:
            logger.error("document %s: %d updates not saved: %s", self.document_id, len(batch), exc)
            # The document holds updates the store does not: rebuild it before anyone reads it.
            self._request(rebuild=True)
            for writer in writers:
                writer.close(
                    CloseCode.INTERNAL,
                    "the server could not save your changes; reconnect to send them again",
                    drain=False,
                )
            for pending in batch:
                if pending.done is not None and not pending.done.done():
                    pending.done.set_exception(StorageError(f"not saved: {exc}"))
            return
        self._metrics.commit_seconds.observe(time.perf_counter() - started)
        self.last_commit, self.edited = time.monotonic(), True
        # Every connection, the writers included: a stock client takes its own update coming
        # back as the proof that it is saved (y-websocket's sync status), and it is one
        # message encoded once for all.
        self._broadcast_update(merged)
        self._publish(EnvelopeKind.UPDATE, merged)
        saved = encode(Saved(committed))
        for writer in writers:
            if writer.sync.takes_saved():
                writer.send(saved)
        for pending in batch:
            if pending.done is not None and not pending.done.done():
                pending.done.set_result(None)

    async def _append(self, batch: list[_Pending]) -> bytes:
        """Commit a batch, one log entry per author; return the whole batch as one update."""
        by_author: dict[str | None, list[bytes]] = {}
        for pending in batch:
            by_author.setdefault(pending.author, []).append(pending.update)
        store = self._services.store
        if len(by_author) == 1:
            ((author, updates),) = by_author.items()
            merged = merge_updates(updates)
            await store.append(self.document_id, merged, author=author)
            return merged
        parts = {author: merge_updates(updates) for author, updates in by_author.items()}
        # Concurrent appends share one transaction of the store's group commit.
        results = await asyncio.gather(
            *(store.append(self.document_id, part, author=a) for a, part in parts.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return merge_updates(list(parts.values()))

    async def _wait_settled(self, target: int) -> None:
        if self._settled >= target:
            return
        async with self._progress:
            await self._progress.wait_for(
                lambda: self._settled >= target or self.state is RoomState.CLOSED
            )

    def _request(self, *, rebuild: bool = False, catch_up: bool = False) -> None:
        if rebuild:
            self._needs_rebuild = True
            self._door.clear()  # nothing more goes into a document that cannot be trusted
        if catch_up:
            self._needs_catch_up = True
        self._wakeup.set()

    async def _rebuild(self) -> None:
        """Reload the document from the store; call with the room held and nothing pending."""
        logger.warning("document %s: rebuilding from the store", self.document_id)
        self._deferred = []
        try:
            stored = await self._services.store.load(self.document_id)
            document = Document.from_stored(stored, name=self.document_id)
            self._stored_bytes = sum(map(len, stored))
        finally:
            deferred, self._deferred = self._deferred, None
        before = document.state_vector()
        document.apply_stored(deferred, name=self.document_id)
        self._document = document
        self._needs_rebuild = False
        if deferred:
            # Committed on other nodes and not sent to the clients here yet. Deletions do not
            # move the state vector, so the diff carries the whole delete set.
            self._broadcast_update(document.diff(before))

    async def _catch_up(self, document: Document) -> None:
        self._needs_catch_up = False
        self._metrics.pubsub_catchups.inc()
        # Refusals shared by envelope may have been lost with the updates.
        self._refused.merge(await self._services.refusals.load(self.document_id))
        before = document.state_vector()
        stored = await self._services.store.load(self.document_id)
        document.apply_stored(stored, name=self.document_id)
        self._stored_bytes = sum(map(len, stored))
        # Deletions do not move the state vector, so the diff carries the whole delete set.
        diff = document.diff(before)
        if diff != EMPTY_UPDATE:
            self._broadcast_update(diff)

    def _publish(self, kind: EnvelopeKind, payload: bytes) -> None:
        self._sequence += 1
        envelope = Envelope(kind, self._services.origin, self._sequence, payload)
        self._services.broker.publish(self.document_id, envelope)

    def _broadcast_update(self, update: bytes) -> None:
        broadcast_update(self._connections, update, self._metrics)

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


@dataclass(slots=True)
class _Pending:
    """An update applied to the room's document and waiting for its commit."""

    update: bytes
    author: str | None
    """The account it is attributed to in the log (None: a guest)."""
    writer: Connection | None
    """The connection that sent it; None for a change the server made."""
    done: asyncio.Future[None] | None = None
    """Resolved once it is committed, for a change the server made."""


def access_event(document_id: str, principal: Principal) -> dict[str, object]:
    """The ``access`` event: what a connection may do in its document, sent to clients that
    asked for events when they join and whenever their role changes."""
    return {
        "type": "access",
        "document_id": document_id,
        "role": principal.role or GUEST_ROLE,
        "can_write": principal.can_write,
        "can_comment": can_comment(principal.role),
    }
