"""The SDK against a scripted peer: a real WebSocket server in the test, speaking y-websocket
through crdt, that produces what the GESS server rarely does (refusals, garbage, events)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus

import anyio
import pytest
from pycrdt import Text
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from client import (
    AuthError,
    Backoff,
    CollabError,
    DocumentNotFound,
    ProtocolError,
    ServerEvent,
    SessionState,
    connect,
)
from crdt import Document
from crdt.awareness import AwarenessEntry, decode_awareness
from crdt.protocol import (
    Auth,
    AwarenessMessage,
    Event,
    Saved,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    decode,
    encode,
)
from tests.interop.node import scaled

FAST = Backoff(initial=0.01, maximum=0.05)

Handler = Callable[["Peer", ServerConnection], Awaitable[None]]


@dataclass
class Peer:
    """A y-websocket server with one document, and a record of what it saw."""

    document: Document = field(default_factory=Document)
    paths: list[str] = field(default_factory=list)
    received: list[object] = field(default_factory=list)
    close_codes: list[int | None] = field(default_factory=list)
    closed: anyio.Event = field(default_factory=anyio.Event)
    """Set when a connection has closed (its code is in ``close_codes``)."""
    arrived: anyio.Event = field(default_factory=anyio.Event)
    """Set when a message arrives; replaced by :meth:`until` once seen."""

    async def until(self, predicate: Callable[[], object]) -> None:
        """Wait until ``predicate()`` holds, re-checking as messages arrive."""
        while not predicate():
            if self.arrived.is_set():
                self.arrived = anyio.Event()
            await self.arrived.wait()

    async def handshake(self, ws: ServerConnection) -> None:
        """Send step 1, then answer the client's step 1 (as the GESS server does)."""
        await ws.send(encode(SyncStep1(self.document.state_vector())))

    async def serve_messages(self, ws: ServerConnection, after_update=None) -> None:
        async for frame in ws:
            assert isinstance(frame, bytes)
            message = decode(frame)
            self.received.append(message)
            self.arrived.set()
            match message:
                case SyncStep1(state_vector):
                    await ws.send(encode(SyncStep2(self.document.diff(state_vector))))
                case SyncStep2(update) | SyncUpdate(update):
                    self.document.apply_update(update)
                    if after_update is not None:
                        await after_update(ws)

    def awareness_received(self) -> list[AwarenessEntry]:
        return [
            entry
            for message in self.received
            if isinstance(message, AwarenessMessage)
            for entry in decode_awareness(message.payload)
        ]


@asynccontextmanager
async def scripted(
    handler: Handler,
    process_request: Callable[[ServerConnection, Request], Response | None] | None = None,
) -> AsyncIterator[tuple[str, Peer]]:
    peer = Peer()

    async def run(ws: ServerConnection) -> None:
        peer.paths.append(ws.request.path if ws.request else "")
        try:
            await handler(peer, ws)
        except ConnectionClosed:
            pass
        finally:
            await ws.wait_closed()
            peer.close_codes.append(ws.close_code)
            peer.closed.set()

    async with serve(run, "127.0.0.1", 0, process_request=process_request) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws", peer


async def normal(peer: Peer, ws: ServerConnection) -> None:
    await peer.handshake(ws)
    await peer.serve_messages(ws)


async def test_socket_url_carries_saved_and_params() -> None:
    async with scripted(normal) as (url, peer):
        async with connect(url, "plan 2025/v1", params={"token": "t&1"}) as session:
            assert session.is_synced
    assert peer.paths == ["/ws/plan%202025%2Fv1?saved=1&token=t%261"]


async def test_close_sends_our_null_awareness_then_1000() -> None:
    async with scripted(normal) as (url, peer):
        async with connect(url, "doc") as session:
            session.awareness.set_local_state({"name": "Ana"})
            me = session.awareness.client_id
        with anyio.fail_after(scaled(5)):
            await peer.closed.wait()
    entries = peer.awareness_received()
    assert [(e.client_id, e.state) for e in entries][-1] == (me, None)
    assert peer.close_codes == [1000]
    assert session.state is SessionState.CLOSED


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (4400, ProtocolError),
        (4413, ProtocolError),
        (4401, AuthError),
        (4403, AuthError),
        (4404, DocumentNotFound),
    ],
)
async def test_fatal_close_codes_raise_without_retrying(code: int, error: type) -> None:
    async def refuse(peer: Peer, ws: ServerConnection) -> None:
        await ws.close(code, "refused for the test")

    async with scripted(refuse) as (url, peer):
        with anyio.fail_after(scaled(5)), pytest.raises(error, match=f"{code}.*refused"):
            async with connect(url, "doc", backoff=FAST):
                pytest.fail("entered a refused session")
    assert len(peer.paths) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(HTTPStatus.UNAUTHORIZED, AuthError), (HTTPStatus.NOT_FOUND, DocumentNotFound)],
)
async def test_fatal_http_statuses_raise_without_retrying(status: HTTPStatus, error: type) -> None:
    calls = []

    def reject(connection: ServerConnection, request: Request) -> Response:
        calls.append(request.path)
        return connection.respond(status, "no\n")

    async with scripted(normal, process_request=reject) as (url, _):
        with anyio.fail_after(scaled(5)), pytest.raises(error, match=str(int(status))):
            async with connect(url, "doc", backoff=FAST):
                pytest.fail("entered a rejected session")
    assert len(calls) == 1


@pytest.mark.parametrize("code", [1001, 1011, 4429, 4500])
async def test_transient_close_codes_reconnect(code: int) -> None:
    async def flaky(peer: Peer, ws: ServerConnection) -> None:
        if len(peer.paths) == 1:
            await ws.close(code, "try again")
            return
        await normal(peer, ws)

    async with scripted(flaky) as (url, peer):
        with anyio.fail_after(scaled(5)):
            async with connect(url, "doc", backoff=FAST) as session:
                assert session.is_synced
    assert len(peer.paths) == 2


async def test_garbage_from_the_server_fails_the_session_with_1002() -> None:
    async def garbage(peer: Peer, ws: ServerConnection) -> None:
        await peer.handshake(ws)

        async def then_garbage(ws: ServerConnection) -> None:
            await ws.send(b"\x00\x02\x05\x01")

        await peer.serve_messages(ws, after_update=then_garbage)

    async with scripted(garbage) as (url, peer):
        with pytest.raises(ProtocolError):
            async with connect(url, "doc", backoff=FAST) as session:
                session.doc.get("text", type=Text).insert(0, "x")
                with anyio.fail_after(scaled(5)):
                    await session.saved()
        with anyio.fail_after(scaled(5)):
            await peer.closed.wait()
    assert peer.close_codes == [1002]
    assert len(peer.paths) == 1
    assert session.state is SessionState.FAILED


async def test_permission_denied_is_recorded_and_fails_saved() -> None:
    async def read_only(peer: Peer, ws: ServerConnection) -> None:
        await peer.handshake(ws)
        async for frame in ws:
            assert isinstance(frame, bytes)
            if isinstance(decode(frame), SyncUpdate):
                await ws.send(encode(Auth("read-only")))
            elif isinstance(decode(frame), SyncStep1):
                await ws.send(encode(SyncStep2(peer.document.full_state())))

    async with scripted(read_only) as (url, _):
        async with connect(url, "doc") as session:
            session.doc.get("text", type=Text).insert(0, "x")
            with anyio.fail_after(scaled(5)), pytest.raises(AuthError, match="read-only"):
                await session.saved()
            assert session.permission_denied == "read-only"
            assert session.state is SessionState.OPEN


async def test_saved_waits_for_an_ack_covering_our_clock() -> None:
    acks: list[bytes] = []

    async def acking(peer: Peer, ws: ServerConnection) -> None:
        async def ack(ws: ServerConnection) -> None:
            acks.append(peer.document.state_vector())
            await ws.send(encode(Saved(peer.document.state_vector())))

        await peer.handshake(ws)
        await peer.serve_messages(ws, after_update=ack)

    async with scripted(acking) as (url, peer):
        async with connect(url, "doc") as session:
            text = session.doc.get("text", type=Text)
            text.insert(0, "hello")
            with anyio.fail_after(scaled(5)):
                await session.saved()
            assert acks
            assert str(peer.document.ydoc.get("text", type=Text)) == "hello"


async def test_events_are_delivered_in_order_and_bounded() -> None:
    async def eventful(peer: Peer, ws: ServerConnection) -> None:
        await peer.handshake(ws)
        for number in range(5):
            await ws.send(encode(Event({"type": "comment.added", "n": number})))
        await peer.serve_messages(ws)

    async with scripted(eventful) as (url, _):
        async with connect(url, "doc", event_queue_size=3) as session:
            # Events were sent before the sync completed, so all five are in by now.
            received = []
            with anyio.fail_after(scaled(5)):
                async for event in session.events():
                    received.append(event)
                    if len(received) == 3:
                        break
    assert received == [ServerEvent({"type": "comment.added", "n": n}) for n in (2, 3, 4)]
    assert session.events_dropped == 2


async def test_events_end_when_the_session_closes() -> None:
    async with scripted(normal) as (url, _):
        async with connect(url, "doc") as session:
            pass
        assert [event async for event in session.events()] == []


async def test_waiting_on_a_closed_session_raises() -> None:
    async with scripted(normal) as (url, _):
        async with connect(url, "doc") as session:
            pass
    with pytest.raises(CollabError, match="closed"):
        await session.synced()


async def test_awareness_is_renewed_periodically(monkeypatch: pytest.MonkeyPatch) -> None:
    import client._session

    monkeypatch.setattr(client._session, "AWARENESS_RENEW_INTERVAL", 0.02)
    async with scripted(normal) as (url, peer):
        async with connect(url, "doc") as session:
            session.awareness.set_local_state({"name": "Ana"})
            me = session.awareness.client_id

            def renewals() -> list[int]:
                return [e.clock for e in peer.awareness_received() if e.client_id == me]

            with anyio.fail_after(scaled(5)):
                await peer.until(lambda: len(renewals()) >= 4)
    clocks = renewals()
    assert clocks == sorted(clocks) and len(set(clocks)) == len(clocks)
