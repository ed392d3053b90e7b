"""Sans-I/O sync of one client document with one server, across reconnections.

:class:`ClientSession` holds no socket and no event loop. An I/O adapter drives it:

1. ``connection_made()`` when a connection opens;
2. ``receive(frame)`` for every frame from the server;
3. after each call, and after local edits or awareness changes, ``data_to_send()`` and
   send the frames it returns, in order; then ``events()`` and dispatch them;
4. ``connection_lost()`` when the connection closes, then back to 1 to reconnect;
5. ``close()`` once the session is over (it stops observing the document).

Local edits are made with ordinary pycrdt calls on :attr:`ClientSession.doc`. Nothing is kept
for the wire while offline: on every connection the server's step 1 is answered with a step 2
holding everything it lacks, edits made offline included. Edits made after that step 2 go out
as updates, merged per :meth:`ClientSession.data_to_send` call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, TransactionEvent

from crdt._varint import Reader
from crdt.awareness import AwarenessEntry, AwarenessRegistry, decode_awareness, encode_awareness
from crdt.document import EMPTY_UPDATE, integrate, merge_updates
from crdt.errors import ProtocolError
from crdt.protocol import (
    Auth,
    AwarenessMessage,
    Event,
    Message,
    MessageType,
    QueryAwareness,
    Saved,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
)
from crdt.session_events import (
    AwarenessChanged,
    JsonObject,
    PermissionDenied,
    SavedUpTo,
    ServerEvent,
    SessionEvent,
    Synced,
    SyncState,
)
from crdt.state_vector import decode_state_vector

__all__ = [
    "AwarenessChanged",
    "ClientSession",
    "PermissionDenied",
    "SavedUpTo",
    "ServerEvent",
    "SessionEvent",
    "SyncState",
    "Synced",
]

_KNOWN_TYPES = frozenset(MessageType)


@dataclass(slots=True)
class _Connection:
    """What belongs to one connection and is forgotten when it ends."""

    outgoing: list[bytes] = field(default_factory=list)
    pending: list[bytes] = field(default_factory=list)
    replied: bool = False
    """Our step 2 is queued: from here on, local edits travel as updates."""
    received_step2: bool = False


class ClientSession:
    """The client side of the y-websocket protocol for one document.

    Args:
        doc: the document to keep in sync; a new empty one if None. The session observes it
            until :meth:`close`.
        max_pending: local updates kept unmerged between two :meth:`data_to_send` calls.
    """

    def __init__(self, doc: Doc[Any] | None = None, *, max_pending: int = 64) -> None:
        self.doc: Doc[Any] = Doc() if doc is None else doc
        self._max_pending = max(1, max_pending)
        self._client_id = self.doc.client_id
        self._local_ids = set(decode_state_vector(self.doc.get_state())) | {self._client_id}
        self._connection: _Connection | None = None
        self._applying_remote = False
        self._events: list[SessionEvent] = []
        self._saved: dict[int, int] = {}
        self.permission_denied: str | None = None
        """The reason of the last Auth message, if the server refused something."""
        self._awareness = AwarenessRegistry()
        self._local_state: JsonObject | None = None
        self._clock = 0
        self._awareness_dirty = False
        self._subscription = self.doc.observe(self._on_transaction)
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def state(self) -> SyncState:
        connection = self._connection
        if connection is None:
            return SyncState.OFFLINE
        if connection.replied and connection.received_step2:
            return SyncState.SYNCED
        return SyncState.SYNCING

    @property
    def origin(self) -> object:
        """The origin of the transactions that apply the server's updates."""
        return self

    def connection_made(self) -> None:
        """A connection opened: queue our step 1 and our awareness state.

        Raises:
            RuntimeError: the session is closed or already connected.
        """
        if self._closed:
            raise RuntimeError("the session is closed")
        if self._connection is not None:
            raise RuntimeError("already connected; call connection_lost() first")
        self._connection = _Connection()
        self._connection.outgoing.append(encode(SyncStep1(self.doc.get_state())))
        self._awareness_dirty = self._local_state is not None

    def connection_lost(self) -> None:
        """The connection closed: drop what was queued for it and forget remote presence.

        Nothing local is lost: the next connection's step 2 carries every unsent edit.
        """
        self._connection = None
        self._awareness_dirty = False
        removed = self._awareness.remove([entry.client_id for entry in self._awareness.states()])
        if removed:
            self._events.append(AwarenessChanged(removed=tuple(e.client_id for e in removed)))

    def close(self) -> None:
        """Stop observing the document; the session cannot connect again."""
        if not self._closed:
            self._closed = True
            self.doc.unobserve(self._subscription)

    # -- input ----------------------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Handle one frame from the server.

        Message types this client does not know are ignored, as y-websocket does.

        Raises:
            RuntimeError: not connected.
            ProtocolError: a malformed message, update or state vector; the document is
                unchanged by that message and the connection should be closed.
        """
        connection = self._connection
        if connection is None:
            raise RuntimeError("receive() called while not connected")
        if data and Reader(data).read_var_uint() not in _KNOWN_TYPES:
            return
        message: Message = decode(data)
        match message:
            case SyncStep1(state_vector):
                committed = decode_state_vector(state_vector)
                try:
                    diff = self.doc.get_update(state_vector)
                except ValueError as exc:
                    raise ProtocolError("invalid state vector in sync step 1") from exc
                connection.outgoing.append(encode(SyncStep2(diff)))
                connection.pending.clear()
                # A GESS server shows only committed state (durable before visible), so its
                # step 1 acknowledges like a Saved: an edit whose Saved was lost with the
                # connection is known saved after the reconnection, where no Saved will come.
                self._acknowledge(committed)
                self._became_synced(connection, replied=True)
            case SyncStep2(update):
                self._apply_remote(update)
                self._became_synced(connection, received_step2=True)
            case SyncUpdate(update):
                self._apply_remote(update)
            case AwarenessMessage(payload):
                self._apply_awareness(decode_awareness(payload))
            case QueryAwareness():
                self._awareness_dirty = self._local_state is not None
            case Auth(reason):
                self.permission_denied = reason
                self._events.append(PermissionDenied(reason))
            case Saved(state_vector):
                self._acknowledge(decode_state_vector(state_vector))
            case Event(data=event):
                self._events.append(ServerEvent(event))

    def _acknowledge(self, clocks: dict[int, int]) -> None:
        for client_id, clock in clocks.items():
            if clock > self._saved.get(client_id, 0):
                self._saved[client_id] = clock
        self._events.append(SavedUpTo(dict(self._saved)))

    def _became_synced(
        self, connection: _Connection, *, replied: bool = False, received_step2: bool = False
    ) -> None:
        was_synced = connection.replied and connection.received_step2
        connection.replied |= replied
        connection.received_step2 |= received_step2
        if not was_synced and connection.replied and connection.received_step2:
            self._events.append(Synced())

    def _apply_remote(self, update: bytes) -> None:
        if update == EMPTY_UPDATE:
            return
        before = decode_state_vector(self.doc.get_state())
        self._apply(update)
        # The server only ever sends committed state: what an update from it adds to a
        # client id whose earlier changes were already saved is saved too (another client
        # writing under an id this document started with, say). Acknowledging only on top of
        # saved clocks never covers a local change that has not reached the server.
        after = decode_state_vector(self.doc.get_state())
        advanced = {
            client_id: clock
            for client_id, clock in after.items()
            if clock > before.get(client_id, 0)
            and self._saved.get(client_id, 0) >= before.get(client_id, 0)
        }
        if advanced:
            self._acknowledge(advanced)

    def _apply(self, update: bytes) -> None:
        self._applying_remote = True
        try:
            try:
                transaction = self.doc.transaction(origin=self)
            except RuntimeError:
                # A local transaction is open: the update joins it and goes back to the
                # server with the local edits, which is redundant but harmless.
                transaction = self.doc.transaction()
            with transaction:
                integrate(self.doc, update)
        finally:
            self._applying_remote = False

    def _on_transaction(self, event: TransactionEvent) -> None:
        # Runs inside pycrdt's commit, where raising would surface in the editor's code.
        connection = self._connection
        if self._applying_remote or connection is None or not connection.replied:
            return
        connection.pending.append(event.update)
        if len(connection.pending) > self._max_pending:
            connection.pending[:] = [merge_updates(connection.pending)]

    # -- output ---------------------------------------------------------------------------

    def data_to_send(self) -> list[bytes]:
        """Frames to send now, in order; each call drains them.

        Returns:
            Encoded messages (one WebSocket frame each); empty when offline.
        """
        connection = self._connection
        if connection is None:
            return []
        frames, connection.outgoing = connection.outgoing, []
        if connection.pending:
            frames.append(encode(SyncUpdate(merge_updates(connection.pending))))
            connection.pending.clear()
        if self._awareness_dirty:
            self._awareness_dirty = False
            entry = AwarenessEntry(self._client_id, self._clock, self._local_state)
            frames.append(encode(AwarenessMessage(encode_awareness([entry]))))
        return frames

    def events(self) -> list[SessionEvent]:
        """Events since the last call, oldest first; each call drains them."""
        events, self._events = self._events, []
        return events

    # -- saved ----------------------------------------------------------------------------

    def local_clocks(self) -> dict[int, int]:
        """How far the document has seen each local client id (ours and those it started
        with): what the server must have committed for every local change to be saved."""
        clocks = decode_state_vector(self.doc.get_state())
        return {cid: clock for cid, clock in clocks.items() if cid in self._local_ids}

    def is_saved(self, clocks: Mapping[int, int]) -> bool:
        """Whether the server's Saved acks cover ``clocks`` (from :meth:`local_clocks`)."""
        return all(self._saved.get(cid, 0) >= clock for cid, clock in clocks.items())

    # -- awareness ------------------------------------------------------------------------

    @property
    def client_id(self) -> int:
        """Our client id, in the document and in awareness."""
        return self._client_id

    @property
    def local_state(self) -> JsonObject | None:
        """Our awareness state (a copy), or None when we are not present."""
        return None if self._local_state is None else _json_copy(self._local_state)

    def set_local_state(self, state: Mapping[str, object] | None) -> None:
        """Replace our awareness state; None announces that we left.

        Raises:
            TypeError, ValueError: the state cannot be encoded as JSON.
        """
        new = None if state is None else _json_copy(state)
        old = self._local_state
        if old is None and new is None:
            return
        self._local_state = new
        self._clock += 1
        self._awareness_dirty = self._connection is not None
        if old != new:
            cid = (self._client_id,)
            if old is None:
                self._events.append(AwarenessChanged(added=cid))
            elif new is None:
                self._events.append(AwarenessChanged(removed=cid))
            else:
                self._events.append(AwarenessChanged(updated=cid))

    def renew_awareness(self) -> None:
        """Re-announce our state with a new clock, so peers do not time it out (Yjs drops
        states not renewed for 30 s); call it every 15 s."""
        if self._local_state is not None:
            self._clock += 1
            self._awareness_dirty = self._connection is not None

    def awareness_states(self) -> dict[int, JsonObject]:
        """Every present client's state, ours included."""
        states = {entry.client_id: entry.state for entry in self._awareness.states()}
        result = {cid: _json_copy(state) for cid, state in states.items() if state is not None}
        if self._local_state is not None:
            result[self._client_id] = _json_copy(self._local_state)
        return result

    def _apply_awareness(self, entries: list[AwarenessEntry]) -> None:
        before = {entry.client_id: entry.state for entry in self._awareness.states()}
        remote = []
        for entry in entries:
            if entry.client_id != self._client_id:
                remote.append(entry)
            elif entry.clock > self._clock or (entry.clock == self._clock and entry.state is None):
                # Someone else speaks for us (a server timing us out): outbid it, as Yjs does.
                self._clock = entry.clock + 1
                self._awareness_dirty = self._local_state is not None
        added, updated, removed = [], [], []
        for entry in self._awareness.apply(remote):
            if entry.state is None:
                if entry.client_id in before:
                    removed.append(entry.client_id)
            elif entry.client_id not in before:
                added.append(entry.client_id)
            elif before[entry.client_id] != entry.state:
                updated.append(entry.client_id)
        if added or updated or removed:
            self._events.append(AwarenessChanged(tuple(added), tuple(updated), tuple(removed)))


def _json_copy(value: Mapping[str, object]) -> JsonObject:
    copy = json.loads(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    assert isinstance(copy, dict)
    return copy
