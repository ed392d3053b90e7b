"""Connections that never finish a request: a request timeout, a cap on connections still
sending theirs, and the node's connection cap.

uvicorn keeps a connection that has not sent a complete request for as long as the client
likes (its ``timeout_keep_alive`` only runs *between* requests), so silent and slowloris
connections pile up until the descriptor table is full. :class:`ConnectionGuard` arms a
timer when a connection opens or starts a request and disarms it once the request is
complete (for a WebSocket: once the handshake is in); a connection still pending at the
deadline is answered 408 and closed. Pending connections are also capped: a new one beyond
the cap closes the oldest (503), so a flood of idle connections cannot keep out the probes
and clients that send their request at once. Only a connection that has had
:data:`PENDING_GRACE` to send its request is closed for a newcomer, though: when thousands
of clients reconnect at once after a restart, the loop accepts them all before it reads
the first request, and the oldest of them are not idle, only not read yet. While the node
is below its connection cap such a burst is let in whole.

The guard plugs into uvicorn's httptools protocol (:func:`guarded_protocol`); the app asks
it whether the node is :meth:`ConnectionGuard.full` to refuse new work with 503 while
``/healthz`` keeps answering.

The same protocol hands the upgrade requests of document sockets to the node's own
WebSocket layer (:class:`Upgrades`, see :mod:`server.websocket`) instead of uvicorn's.
"""

from __future__ import annotations

import asyncio
import json
import resource
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from uvicorn.logging import TRACE_LOG_LEVEL
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import is_ssl

__all__ = [
    "RESERVED_DESCRIPTORS",
    "ConnectionGuard",
    "Upgrades",
    "connection_cap",
    "guarded_protocol",
]

RESERVED_DESCRIPTORS = 256
"""Descriptors kept out of the automatic connection cap: the database pool, Redis, logs,
the listening sockets, and the files a node opens."""


def connection_cap(configured: int, max_pending: int) -> int:
    """The node's connection cap: ``configured``, or with 0 what the open-file limit allows
    once pending connections and :data:`RESERVED_DESCRIPTORS` are set aside (at least 64)."""
    if configured > 0:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 0
    return max(64, soft - max_pending - RESERVED_DESCRIPTORS)


def _response(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete ``Connection: close`` HTTP response with a JSON error in the API's shape."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n"
        "\r\n"
    )
    return head.encode() + body


_TIMED_OUT = _response(
    408,
    "Request Timeout",
    "request_timeout",
    "the request was not complete in time; send it at once",
)
_CROWDED = _response(
    503,
    "Service Unavailable",
    "unavailable",
    "too many connections are opening at once; try again shortly",
)


PENDING_GRACE = 1.0
"""Seconds a pending connection is never closed to make room for a newer one (unless the
node is at its connection cap): time for a client to send its request once accepted."""


class ConnectionGuard:
    """Deadlines and a cap for connections that have not sent a complete request yet.

    Args:
        request_timeout: seconds a connection may stay pending.
        max_pending: pending connections at most; a new one beyond it closes the oldest
            that has been pending for ``grace`` seconds or more (any, once :meth:`full`).
        max_connections: open connections beyond which :meth:`full` says so (0: never).
        grace: see :data:`PENDING_GRACE`.
    """

    def __init__(
        self,
        *,
        request_timeout: float,
        max_pending: int,
        max_connections: int,
        grace: float = PENDING_GRACE,
    ) -> None:
        self.request_timeout = request_timeout
        self.max_pending = max_pending
        self.max_connections = max_connections
        self.grace = grace
        self._pending: dict[_Guarded, asyncio.TimerHandle] = {}
        """Insertion-ordered: the first is the oldest."""
        self._open: set[Any] | None = None

    def track(self, connections: set[Any]) -> None:
        """Count open connections with uvicorn's own set of them (HTTP and WebSocket)."""
        self._open = connections

    @property
    def open(self) -> int:
        return 0 if self._open is None else len(self._open)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def full(self) -> bool:
        """Whether the node holds more connections than its cap."""
        return self.max_connections > 0 and self.open > self.max_connections

    def arm(self, protocol: _Guarded) -> None:
        """Start a connection's deadline, unless it is already pending (the deadline counts
        from the first byte, not the last)."""
        if protocol in self._pending:
            return
        loop = asyncio.get_running_loop()
        # A pending connection's timer is due request_timeout after it was armed.
        armed_before = loop.time() + self.request_timeout - self.grace
        while len(self._pending) >= self.max_pending:
            oldest, timer = next(iter(self._pending.items()))
            if timer.when() > armed_before and not self.full():
                break  # a burst of new connections, not yet read: let it in
            self.disarm(oldest)
            oldest.refuse(_CROWDED)
        self._pending[protocol] = loop.call_later(self.request_timeout, self._expire, protocol)

    def disarm(self, protocol: _Guarded) -> None:
        """The connection's request is complete, or the connection is gone."""
        timer = self._pending.pop(protocol, None)
        if timer is not None:
            timer.cancel()

    def _expire(self, protocol: _Guarded) -> None:
        if self._pending.pop(protocol, None) is not None:
            protocol.refuse(_TIMED_OUT)


class Upgrades(Protocol):
    """Who serves the WebSocket upgrades of some paths on a transport of their own."""

    def wants(self, target: bytes) -> bool:
        """Whether an upgrade request for ``target`` (as sent: path and query) is theirs."""
        ...

    def upgrade(
        self,
        transport: asyncio.Transport,
        scope: Mapping[str, Any],
        target: bytes,
        connections: set[Any],
    ) -> None:
        """Take over ``transport``, whose upgrade request uvicorn parsed: ``target`` as sent,
        the rest in the HTTP ``scope`` (its method, headers, client and scheme)."""
        ...


def _tcp(address: object) -> tuple[str, int] | None:
    """``(host, port)`` of a TCP address as a transport gives it (IPv6 adds two more
    fields); None for any other kind (a Unix socket's)."""
    if isinstance(address, tuple) and len(address) >= 2:
        return (str(address[0]), int(address[1]))
    return None


class _Guarded(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the request deadline of a :class:`ConnectionGuard`
    and the document sockets' upgrades handed to their own layer."""

    guard: ClassVar[ConnectionGuard]
    upgrades: ClassVar[Upgrades | None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard.track(self.connections)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # uvicorn's own, but with the addresses read from the transport's "peername" and
        # "sockname": uvicorn reads them through its "socket", which uvloop makes on first
        # use and keeps, with both address tuples, as long as the connection lives (a
        # third of a KiB for each document socket, which outlives this protocol).
        self.connections.add(self)
        self.transport = transport
        self.flow = FlowControl(transport)
        sockname = transport.get_extra_info("sockname")
        self.server = (sockname, None) if isinstance(sockname, str) else _tcp(sockname)
        self.client = _tcp(transport.get_extra_info("peername"))
        self.scheme = "https" if is_ssl(transport) else "http"
        if self.logger.level <= TRACE_LOG_LEVEL:
            prefix = f"{self.client[0]}:{self.client[1]} - " if self.client else ""
            self.logger.log(TRACE_LOG_LEVEL, "%sHTTP connection made", prefix)
        self.guard.arm(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.disarm(self)
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.guard.arm(self)

    def on_message_complete(self) -> None:
        self.guard.disarm(self)
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        # The handshake is complete; the socket's own limits take over from here.
        self.guard.disarm(self)
        upgrades = self.upgrades
        if upgrades is not None and upgrades.wants(self.url):
            self.connections.discard(self)
            upgrades.upgrade(self.transport, self.scope, self.url, self.connections)
            # This protocol is done with the connection. Its parser holds bound methods of it:
            # a cycle that would keep the request (scope, headers) alive until the next full
            # garbage collection, a few KiB for each socket opened meanwhile.
            self.parser = None  # type: ignore[assignment]
            return
        super().handle_websocket_upgrade()

    def refuse(self, response: bytes) -> None:
        """Answer ``response`` and close; only close if the answer could garble another one
        (a response is being written, or the pending request was already answered)."""
        if self.transport.is_closing():
            return
        cycle = self.cycle
        current = cycle is not None and cycle.scope is self.scope
        if cycle is None or (
            cycle.response_complete if not current else not cycle.response_started
        ):
            self.transport.write(response)
        self.transport.close()


def guarded_protocol(
    guard: ConnectionGuard, upgrades: Upgrades | None = None
) -> type[asyncio.Protocol]:
    """The HTTP protocol class to give uvicorn (``Config(http=...)``) for ``guard``, handing
    the upgrades ``upgrades`` wants to it."""
    return type("GuardedHttpToolsProtocol", (_Guarded,), {"guard": guard, "upgrades": upgrades})
