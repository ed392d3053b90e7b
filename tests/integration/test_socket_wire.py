"""The document socket's own WebSocket layer under readers that do not keep up.

A server frames each broadcast once and writes the same bytes to every reader; a reader
whose socket is full gets its messages queued (merged) until it drains, without holding up
anyone else. These tests use clients that stop reading at the TCP level, and one that
vanishes without a word (keepalive).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
from pycrdt import Doc, Text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from crdt import SyncStep1, SyncStep2, SyncUpdate, decode
from tests.conftest import StartServer
from tests.integration.raw import RawClient
from tests.integration.server import GessServer
from tests.integration.support import new_document_id
from tests.interop.node import scaled

pytestmark = [pytest.mark.integration]

UNLIMITED = ["--max-messages-per-second", "0", "--max-bytes-per-second", "0"]
CHUNK = "x" * 16_000
CHUNKS = 400
"""6.4 MB in all: more than a reader's socket buffers and the server's write buffer hold,
so a reader that stops reading makes the server queue."""


@contextlib.asynccontextmanager
async def stalled_reader(server: GessServer, document_id: str) -> AsyncIterator[ClientConnection]:
    """A socket that reads nothing until the test says so: a small receive buffer, and a
    client library that stops reading from TCP once one message waits."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", server.port))
    async with connect(
        f"{server.ws_url}/{document_id}", sock=raw, max_queue=1, max_size=None
    ) as ws:
        yield ws


@contextlib.asynccontextmanager
async def writer_and_readers(
    server: GessServer,
) -> AsyncIterator[tuple[RawClient, RawClient, ClientConnection]]:
    """On a new document: a writer, a reader that keeps up and one that reads nothing."""
    document_id = new_document_id()
    async with (
        RawClient.connect(server.ws_url, document_id) as writer,
        RawClient.connect(server.ws_url, document_id) as fast,
        stalled_reader(server, document_id) as slow,
    ):
        yield writer, fast, slow


async def read_until(ws: ClientConnection, doc: Doc[Text], text: str) -> int:
    """Apply what comes until the document reads ``text``; the number of messages read."""
    count = 0
    async with asyncio.timeout(scaled(60)):
        while str(doc.get("text", type=Text)) != text:
            message = decode(await ws.recv(decode=False))
            count += 1
            if isinstance(message, (SyncStep2, SyncUpdate)):
                doc.apply_update(message.update)
    return count


async def write_chunks(writer: RawClient, reader: RawClient, pace: int = CHUNKS) -> None:
    """Send the chunks, waiting for ``reader`` to have them all after every ``pace``."""
    for number in range(1, CHUNKS + 1):
        await writer.insert_text(CHUNK)
        if number % pace == 0 or number == CHUNKS:
            await has_all(reader, writer)


async def has_all(reader: RawClient, writer: RawClient) -> None:
    expected = writer.content()
    await reader.wait(lambda: reader.content() == expected, 60, f"{len(expected)} characters")


async def test_a_slow_reader_holds_up_nobody_and_catches_up_with_merged_updates(
    gess_server: StartServer,
) -> None:
    server = await gess_server(extra_args=UNLIMITED)
    async with writer_and_readers(server) as (writer, fast, slow):
        # The fast reader gets it all while the slow one has not read a byte.
        await write_chunks(writer, fast)
        expected = writer.content()
        doc: Doc[Text] = Doc()
        read = await read_until(slow, doc, expected)
        assert fast.close_code is None
    # Everything arrived, in fewer messages than were sent: what waited went out merged.
    assert str(doc.get("text", type=Text)) == expected
    assert read < CHUNKS


async def test_a_reader_too_far_behind_is_closed_with_4429_and_the_room_goes_on(
    gess_server: StartServer,
) -> None:
    server = await gess_server(extra_args=[*UNLIMITED, "--send-queue-messages", "50"])
    async with writer_and_readers(server) as (writer, fast, slow):
        # Paced so that the reader that keeps up is never 50 messages behind.
        await write_chunks(writer, fast, pace=10)
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(scaled(60)):
                while True:
                    await slow.recv()
        await writer.insert_text("after")
        await has_all(fast, writer)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4429
    assert "too slow" in closed.value.rcvd.reason
    metrics = await server.metrics()
    assert metrics['gess_disconnects_total{reason="too_slow"}'] == 1


async def test_a_reader_that_vanishes_mid_write_leaves_the_room_intact(
    gess_server: StartServer,
) -> None:
    server = await gess_server(extra_args=UNLIMITED)
    document_id = new_document_id()
    async with (
        RawClient.connect(server.ws_url, document_id) as writer,
        RawClient.connect(server.ws_url, document_id) as fast,
    ):
        async with stalled_reader(server, document_id) as slow:
            await write_chunks(writer, fast)
            # Gone with messages still queued for it: a reset, no close handshake.
            transport = slow.transport
            assert transport is not None
            transport.abort()
        await writer.insert_text("after")
        await has_all(fast, writer)
        async with RawClient.connect(server.ws_url, document_id) as late:
            assert late.content() == writer.content()
        await server.wait_metric("gess_connections", 2)
    assert "Traceback" not in server.log_text()


async def test_keepalive_drops_a_client_that_answers_no_ping(gess_server: StartServer) -> None:
    server = await gess_server(extra_args=["--ping-interval", "0.5"])
    document_id = new_document_id()
    async with RawClient.connect(server.ws_url, document_id) as alive:
        # A client that completes the handshake and then sends nothing, not even a pong:
        # its process froze, or its network went away.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            f"GET /ws/{document_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        await server.wait_metric("gess_connections", 1)
        writer.close()
        # The client that answers pings (websockets does) is still there, several
        # intervals later.
        await asyncio.sleep(1.5)
        await alive.insert_text("still here")
        async with RawClient.connect(server.ws_url, document_id) as later:
            await later.wait_content("still here")
        assert alive.close_code is None


async def test_a_handshake_sync_and_close_round_trip(gess_server: StartServer) -> None:
    server = await gess_server()
    async with connect(f"{server.ws_url}/{new_document_id()}") as ws:
        assert isinstance(decode(await ws.recv(decode=False)), SyncStep1)
        await ws.close(1000, "bye")
    assert ws.close_code == 1000
