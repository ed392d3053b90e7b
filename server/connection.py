"""One client connected to one room: who it is, what it asked for, and its send queue."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from server.channel import Channel, CloseCode
from server.metrics import Metrics

__all__ = ["Connection", "Principal", "broadcast"]

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


class Connection:
    """A client's place in a room.

    Sending never blocks the room: messages go to a bounded queue that a writer task
    (:meth:`run_writer`, run by the endpoint next to its reader) drains. A client whose queue
    overflows is too slow for the room; it is disconnected with :attr:`CloseCode.TOO_SLOW` and
    resyncs when it reconnects, instead of making everyone else wait.
    """

    __slots__ = (
        "_channel",
        "_close_request",
        "_metrics",
        "_outbox",
        "_queue_limit",
        "_ready",
        "awareness_ids",
        "principal",
        "wants_events",
        "wants_saved",
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
        self.principal = principal
        """Who this is; replaced when their role changes, checked on every update."""
        self.wants_saved = wants_saved
        self.wants_events = wants_events
        self.awareness_ids: set[int] = set()
        """Awareness client ids this connection has announced; removed when it leaves."""
        self._channel = channel
        self._metrics = metrics
        self._queue_limit = queue_limit
        self._outbox: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._close_request: tuple[int, str] | None = None

    @property
    def closing(self) -> bool:
        return self._close_request is not None

    def send(self, data: bytes) -> None:
        """Queue one message for this client (dropped once the connection is closing)."""
        if self._enqueue(data):
            self._metrics.messages_sent.inc()
            self._metrics.bytes_sent.inc(len(data))

    def _enqueue(self, data: bytes) -> bool:
        if self._close_request is not None:
            return False
        if len(self._outbox) >= self._queue_limit:
            self.close(
                CloseCode.TOO_SLOW,
                f"too slow: more than {self._queue_limit} messages waiting; reconnect to resync",
                drain=False,
            )
            return False
        self._outbox.append(data)
        self._ready.set()
        return True

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
        self._ready.set()

    async def run_writer(self) -> None:
        """Send queued messages until a close is requested or the channel fails."""
        try:
            while True:
                while self._outbox:
                    await self._channel.send(self._outbox.popleft())
                if self._close_request is not None:
                    await self._channel.close(*self._close_request)
                    return
                self._ready.clear()
                await self._ready.wait()
        except ConnectionError:
            logger.debug("client went away with %d messages unsent", len(self._outbox))
            self._outbox.clear()


def broadcast(connections: Iterable[Connection], data: bytes, metrics: Metrics) -> None:
    """Queue the same bytes for many clients, encoded once, counted once."""
    sent = 0
    for connection in connections:
        sent += connection._enqueue(data)
    if sent:
        metrics.messages_sent.inc(sent)
        metrics.bytes_sent.inc(sent * len(data))
