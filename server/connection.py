"""One client connected to one room: who it is, what it asked for, and its send queue."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from crdt import SyncUpdate, encode, merge_updates
from crdt.server_session import ServerSession
from server.channel import Channel, CloseCode, Outgoing
from server.metrics import Metrics

__all__ = ["Connection", "Principal", "broadcast", "broadcast_update"]

logger = logging.getLogger("gess.connection")

_NONE: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is behind a connection, as the authenticate step established it."""

    user_id: str | None
    """None for a guest."""
    name: str
    can_write: bool
    color: str | None = None
    """The colour others see for this person's cursor (``#rrggbb``)."""
    role: str | None = None
    """The person's role in the document's workspace, when accounts are on."""
    member: bool = False
    """A member of the document's workspace, not someone reading a published document from
    outside (who also gets the viewer role): only members get comments, versions and
    activity as server events."""
    token_id: str | None = None
    """The token the connection was opened with: when it ends (signed out, revoked,
    expired, its account removed), the connection closes with 4401."""


class Connection:
    """A client's place in a room.

    Sending never waits and never blocks the room. A message to a client that is keeping up
    is written at once, in the caller's turn of the event loop. While the client's socket
    cannot take more (its buffer is full), messages wait in a bounded queue, and go out in
    order, consecutive document updates merged into one, as soon as the socket drains
    (:meth:`writable`). A client whose queue overflows is too slow for the room; it is
    disconnected with :attr:`CloseCode.TOO_SLOW` and resyncs when it reconnects, instead of
    making everyone else wait.

    There is no task per connection: an idle one is a few objects.

    Args:
        channel: the client's channel.
        principal: who the client is.
        metrics: the node's metrics (messages and bytes sent, disconnects).
        wants_saved: the client asked for Saved acknowledgements.
        wants_events: the client asked for server events.
        queue_limit: the most messages queued before the client counts as too slow.
    """

    __slots__ = (
        "_channel",
        "_close_request",
        "_metrics",
        "_outbox",
        "_principal",
        "_awareness_ids",
        "_queue_limit",
        "sync",
    )

    def __init__(
        self,
        channel: Channel,
        principal: Principal,
        metrics: Metrics,
        *,
        wants_saved: bool = False,
        wants_events: bool = False,
        queue_limit: int = 4096,
    ) -> None:
        self._principal = principal
        self.sync = ServerSession(
            can_write=principal.can_write,
            member=principal.member,
            wants_saved=wants_saved,
            wants_events=wants_events,
        )
        """The protocol rules for this client (:mod:`crdt.server_session`)."""
        self._awareness_ids: set[int] | None = None
        self._channel = channel
        self._metrics = metrics
        self._queue_limit = queue_limit
        self._outbox: deque[Outgoing] | None = None
        """Messages waiting for the socket to drain; None while there are none."""
        self._close_request: tuple[int, str] | None = None

    @property
    def awareness_ids(self) -> AbstractSet[int]:
        """Awareness client ids this connection has announced; removed when it leaves."""
        return _NONE if self._awareness_ids is None else self._awareness_ids

    def add_awareness_id(self, client_id: int) -> None:
        if self._awareness_ids is None:
            self._awareness_ids = set()
        self._awareness_ids.add(client_id)

    @property
    def principal(self) -> Principal:
        """Who this is; replaced when their role changes, checked on every update."""
        return self._principal

    @principal.setter
    def principal(self, principal: Principal) -> None:
        self._principal = principal
        self.sync.can_write = principal.can_write
        self.sync.member = principal.member

    @property
    def wants_saved(self) -> bool:
        return self.sync.wants_saved

    @wants_saved.setter
    def wants_saved(self, value: bool) -> None:
        self.sync.wants_saved = value

    @property
    def wants_events(self) -> bool:
        return self.sync.wants_events

    @wants_events.setter
    def wants_events(self, value: bool) -> None:
        self.sync.wants_events = value

    @property
    def closing(self) -> bool:
        return self._close_request is not None

    @property
    def queued(self) -> int:
        """Messages waiting for the socket to drain."""
        return 0 if self._outbox is None else len(self._outbox)

    def send(self, data: bytes) -> None:
        """Send one encoded message to this client (dropped once the connection is closing)."""
        if self._enqueue(Outgoing(data)):
            self._metrics.messages_sent.inc()
            self._metrics.bytes_sent.inc(len(data))

    def send_update(self, update: bytes) -> None:
        """Send a document update; while the client is behind, queued ones merge into one."""
        data = encode(SyncUpdate(update))
        if self._enqueue(Outgoing(data, update)):
            self._metrics.messages_sent.inc()
            self._metrics.bytes_sent.inc(len(data))

    def _enqueue(self, message: Outgoing) -> bool:
        if self._close_request is not None:
            return False
        outbox = self._outbox
        if outbox is None:
            try:
                if self._channel.write(message):
                    return True
            except ConnectionError:
                self._lost()
                return False
            outbox = self._outbox = deque()
        elif len(outbox) >= self._queue_limit:
            self.close(
                CloseCode.TOO_SLOW,
                f"too slow: more than {self._queue_limit} messages waiting; reconnect to resync",
                drain=False,
            )
            return False
        outbox.append(message)
        return True

    def writable(self) -> None:
        """The channel can take more: send what waited, then close if a close is due."""
        outbox = self._outbox
        try:
            while outbox:
                message = self._take(outbox)
                if not self._channel.write(message):
                    outbox.appendleft(message)
                    return
        except ConnectionError:
            self._lost()
            return
        self._outbox = None
        if self._close_request is not None:
            self._channel.close(*self._close_request)

    def _lost(self) -> None:
        logger.debug("client went away with %d messages unsent", self.queued)
        self._outbox = None
        if self._close_request is None:
            self._close_request = (CloseCode.NORMAL, "")

    def close(self, code: int, reason: str, *, drain: bool = True) -> None:
        """Close the channel, once what is queued has gone out.

        Args:
            code: the WebSocket close code, from :class:`CloseCode`.
            reason: what a person should read.
            drain: send what is already queued first (False drops it).
        """
        if self._close_request is not None:
            return
        self._close_request = (code, reason)
        if code != CloseCode.NORMAL:
            self._metrics.disconnects.labels(CloseCode(code).name.lower()).inc()
        if not drain:
            self._outbox = None
        if self._outbox is None:
            self._channel.close(code, reason)

    @staticmethod
    def _take(outbox: deque[Outgoing]) -> Outgoing:
        """The next message of the queue: a run of document updates becomes one update."""
        first = outbox.popleft()
        if first.update is None or not outbox or outbox[0].update is None:
            return first
        updates = [first.update]
        while outbox and (update := outbox[0].update) is not None:
            outbox.popleft()
            updates.append(update)
        merged = merge_updates(updates)
        return Outgoing(encode(SyncUpdate(merged)), merged)


def broadcast(connections: Iterable[Connection], data: bytes, metrics: Metrics) -> None:
    """Send the same message to many clients: encoded, framed and counted once."""
    _fan_out(connections, Outgoing(data), metrics)


def broadcast_update(connections: Iterable[Connection], update: bytes, metrics: Metrics) -> None:
    """Send a document update to many clients, encoded and framed once (see
    :meth:`Connection.send_update`)."""
    _fan_out(connections, Outgoing(encode(SyncUpdate(update)), update), metrics)


def _fan_out(connections: Iterable[Connection], message: Outgoing, metrics: Metrics) -> None:
    sent = 0
    for connection in connections:
        sent += connection._enqueue(message)
    if sent:
        metrics.messages_sent.inc(sent)
        metrics.bytes_sent.inc(sent * len(message.data))
