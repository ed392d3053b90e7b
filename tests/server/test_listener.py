"""The connection cap a node derives from its open-file limit, and the listener's protocol."""

from __future__ import annotations

import asyncio
import contextlib
import resource
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from server.listener import (
    RESERVED_DESCRIPTORS,
    ConnectionGuard,
    connection_cap,
    guarded_protocol,
)


def test_a_configured_cap_is_kept():
    assert connection_cap(500, max_pending=1000) == 500


def test_the_automatic_cap_leaves_room_for_pending_connections_and_the_node():
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = connection_cap(0, max_pending=100)
    if soft == resource.RLIM_INFINITY:
        assert cap == 0
    else:
        assert cap == max(64, soft - 100 - RESERVED_DESCRIPTORS)


class _Transport(asyncio.Transport):
    """A TCP connection over IPv6 that refuses to make its "socket" object."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        addresses = {"peername": ("::1", 50000, 0, 0), "sockname": ("::1", 8000, 0, 0)}
        if name == "socket":
            raise AssertionError("the transport's socket object was asked for")
        return addresses.get(name, default)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


async def _app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - not called
    raise AssertionError("no request is made")


async def test_the_protocol_reads_the_addresses_without_the_transports_socket_object():
    # uvloop keeps that object, with the addresses it read, as long as the connection lives.
    guard = ConnectionGuard(request_timeout=5, max_pending=10, max_connections=0)
    protocol_class = guarded_protocol(guard)
    config = uvicorn.Config(_app, lifespan="off")
    protocol: Any = protocol_class(config=config, server_state=ServerState(), app_state={})  # type: ignore[call-arg]
    transport = _Transport()
    protocol.connection_made(transport)
    assert (protocol.client, protocol.server, protocol.scheme) == (
        ("::1", 50000),
        ("::1", 8000),
        "http",
    )
    assert guard.pending == 1
    protocol.connection_lost(None)
    assert guard.pending == 0


class _Pending:
    """A connection that has not sent its request: it only records how it was answered."""

    def __init__(self) -> None:
        self.answers: list[bytes] = []

    def refuse(self, response: bytes) -> None:
        self.answers.append(response)


@contextlib.contextmanager
def _burst(
    count: int, *, max_connections: int, grace: float
) -> Iterator[tuple[ConnectionGuard, list[bool]]]:
    """``count`` connections opened one after the other on a guard whose pending cap is 3:
    the guard, and for each connection whether it was closed (503) to make room."""
    guard = ConnectionGuard(
        request_timeout=30, max_pending=3, max_connections=max_connections, grace=grace
    )
    open_connections: set[Any] = set()
    guard.track(open_connections)
    connections = [_Pending() for _ in range(count)]
    for connection in connections:
        open_connections.add(connection)
        guard.arm(connection)  # type: ignore[arg-type]
    try:
        yield (
            guard,
            [any(answer.startswith(b"HTTP/1.1 503") for answer in c.answers) for c in connections],
        )
    finally:
        for connection in connections:
            guard.disarm(connection)  # type: ignore[arg-type]


async def test_a_burst_beyond_the_pending_cap_is_let_in_while_the_node_has_room():
    """Thousands reconnecting after a restart are accepted before any request is read."""
    with _burst(8, max_connections=100, grace=60) as (guard, refused):
        assert refused == [False] * 8
        assert guard.pending == 8


async def test_connections_pending_past_the_grace_make_room_for_new_ones():
    with _burst(5, max_connections=100, grace=0) as (guard, refused):
        assert refused == [True, True, False, False, False]
        assert guard.pending == 3


async def test_at_the_connection_cap_even_young_pending_connections_make_room():
    with _burst(6, max_connections=4, grace=60) as (guard, refused):
        # Within the cap (4 open) the burst is let in; past it, the oldest go, down to the
        # pending cap (those refused count as open until their connections are gone).
        assert refused == [True, True, True, False, False, False]
        assert guard.pending == 3
