"""One client connected to one room: who it is, what it asked for, and its send queue."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from crdt import SyncUpdate, encode, merge_updates
from crdt.server_session import ServerSession
from server.channel import Channel, CloseCode, Outgoing, outgoing
from server.metrics import Metrics

__all__ = ["Connection", "Principal", "broadcast", "broadcast_update"]

logger = logging.getLogger("gess.connection")


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

    Sending never blocks the room. A message to a client that is keeping up is written at
    once, in the caller's turn of the event loop: the channel's send runs inline and nearly
    always finishes without suspending (see :func:`_start`). Otherwise (a send is under
    way, or the socket's buffer is full) it joins a bounded queue that a writer task drains
    in order, merging consecutive document updates into one message. A client whose queue
    overflows is too slow for the room; it is disconnected with :attr:`CloseCode.TOO_SLOW`
    and resyncs when it reconnects, instead of making everyone else wait.

    Args:
        channel: the client's channel.
        principal: who the client is.
        metrics: the node's metrics (messages and bytes sent, disconnects).
        wants_saved: the client asked for Saved acknowledgements.
        wants_events: the client asked for server events.
        queue_limit: the most messages queued before the client counts as too slow.
        spawn: starts a task, for instance ``TaskGroup.create_task``: then a writer task
            runs only while something is queued or a close is due, and an idle connection
            has none. Without it, the caller runs :meth:`run_writer` for the connection's
            whole life.
    """

    __slots__ = (
        "_busy",
        "_channel",
        "_close_request",
        "_metrics",
        "_outbox",
        "_principal",
        "_queue_limit",
        "_ready",
        "_resume",
        "_spawn",
        "_writing",
        "awareness_ids",
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
        spawn: Callable[[Coroutine[Any, Any, None]], object] | None = None,
    ) -> None:
        self._principal = principal
        self.sync = ServerSession(
            can_write=principal.can_write,
            member=principal.member,
            wants_saved=wants_saved,
            wants_events=wants_events,
        )
        """The protocol rules for this client (:mod:`crdt.server_session`)."""
        self.awareness_ids: set[int] = set()
        """Awareness client ids this connection has announced; removed when it leaves."""
        self._channel = channel
        self._metrics = metrics
        self._queue_limit = queue_limit
        self._outbox: deque[_Queued] = deque()
        self._spawn = spawn
        self._writing = False
        """A writer task started by ``spawn`` is running."""
        self._ready: asyncio.Event | None = None if spawn is not None else asyncio.Event()
        self._close_request: tuple[int, str] | None = None
        self._busy = False
        """A send is under way (suspended, or the writer's): new messages queue behind it."""
        self._resume: Awaitable[None] | None = None
        """The rest of a send that suspended, for the writer to finish first."""

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
        """Messages waiting in the queue (not counting a send under way)."""
        return len(self._outbox)

    def send(self, data: bytes) -> None:
        """Send one encoded message to this client (dropped once the connection is closing)."""
        if self._enqueue(_Queued(outgoing(data), None)):
            self._metrics.messages_sent.inc()
            self._metrics.bytes_sent.inc(len(data))

    def send_update(self, update: bytes) -> None:
        """Send a document update; while the client is behind, queued ones merge into one."""
        data = encode(SyncUpdate(update))
        if self._enqueue(_Queued(outgoing(data), update)):
            self._metrics.messages_sent.inc()
            self._metrics.bytes_sent.inc(len(data))

    def _enqueue(self, message: _Queued) -> bool:
        if self._close_request is not None:
            return False
        if not self._busy and not self._outbox:
            return self._send_now(message)
        if len(self._outbox) >= self._queue_limit:
            self.close(
                CloseCode.TOO_SLOW,
                f"too slow: more than {self._queue_limit} messages waiting; reconnect to resync",
                drain=False,
            )
            return False
        self._outbox.append(message)
        self._wake()
        return True

    def _send_now(self, queued: _Queued) -> bool:
        try:
            rest = _start(self._channel.send(queued.message))
        except ConnectionError:
            self._lost()
            return False
        if rest is not None:
            self._busy = True
            self._resume = rest
            self._wake()
        return True

    def _lost(self) -> None:
        logger.debug("client went away with %d messages unsent", len(self._outbox))
        self._outbox.clear()
        if self._close_request is None:
            self._close_request = (CloseCode.NORMAL, "")
        self._wake()

    def close(self, code: int, reason: str, *, drain: bool = True) -> None:
        """Ask the writer to close the channel.

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
            self._outbox.clear()
        self._wake()

    def _wake(self) -> None:
        if self._ready is not None:
            self._ready.set()
        elif not self._writing and self._spawn is not None:
            self._writing = True
            self._spawn(self.run_writer())

    async def run_writer(self) -> None:
        """Send queued messages until a close is requested or the channel fails.

        With ``spawn``, it returns as soon as the queue is empty (it is started again
        when needed) instead of waiting for more.
        """
        try:
            while True:
                if self._resume is not None:
                    resume, self._resume = self._resume, None
                    await resume
                while self._outbox:
                    self._busy = True
                    await self._channel.send(self._take())
                self._busy = False
                if self._close_request is not None:
                    await self._channel.close(*self._close_request)
                    return
                if self._ready is None:
                    self._writing = False
                    return
                self._ready.clear()
                await self._ready.wait()
        except ConnectionError:
            self._lost()

    def _take(self) -> Outgoing:
        """The next message of the queue: a run of document updates becomes one update."""
        first = self._outbox.popleft()
        if first.update is None or not self._outbox or self._outbox[0].update is None:
            return first.message
        updates = [first.update]
        while self._outbox and (update := self._outbox[0].update) is not None:
            self._outbox.popleft()
            updates.append(update)
        return outgoing(encode(SyncUpdate(merge_updates(updates))))


class _Queued(NamedTuple):
    """One message for a client, as queued: wrapped for the channel, and typed."""

    message: Outgoing
    update: bytes | None
    """The document update the message carries (a run of them merges into one), or None
    for any other message."""


def broadcast(connections: Iterable[Connection], data: bytes, metrics: Metrics) -> None:
    """Send the same message to many clients: encoded and wrapped once, counted once."""
    _fan_out(connections, _Queued(outgoing(data), None), len(data), metrics)


def broadcast_update(connections: Iterable[Connection], update: bytes, metrics: Metrics) -> None:
    """Send a document update to many clients, encoded once (see :meth:`Connection.send_update`)."""
    data = encode(SyncUpdate(update))
    _fan_out(connections, _Queued(outgoing(data), update), len(data), metrics)


def _fan_out(
    connections: Iterable[Connection], queued: _Queued, size: int, metrics: Metrics
) -> None:
    sent = 0
    for connection in connections:
        sent += connection._enqueue(queued)
    if sent:
        metrics.messages_sent.inc(sent)
        metrics.bytes_sent.inc(sent * size)


def _start(coroutine: Coroutine[Any, Any, None]) -> Awaitable[None] | None:
    """Run a coroutine inline up to its first suspension.

    Returns:
        None if it finished without suspending (the usual case of a send); otherwise an
        awaitable that finishes it, for a task to await (and its exception to surface
        there).

    Raises:
        Whatever the coroutine raised before suspending.
    """
    try:
        waiting_on = coroutine.send(None)
    except StopIteration:
        return None
    return _Suspended(coroutine, waiting_on)


class _Suspended:
    """The rest of a coroutine that :func:`_start` ran up to a suspension.

    Awaiting it passes the future the coroutine waits on to the awaiting task, and the
    task's resumptions (values, exceptions, cancellation) back to the coroutine, as
    ``await coroutine`` would have done from the start.
    """

    __slots__ = ("_coroutine", "_waiting_on")

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._coroutine = coroutine
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        coroutine, waiting_on = self._coroutine, self._waiting_on
        while True:
            try:
                resumed_with = yield waiting_on
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as exc:
                try:
                    waiting_on = coroutine.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = coroutine.send(resumed_with)
                except StopIteration:
                    return
