"""Nothing a client was shown or told is saved is lost: restarts, kill -9, SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import pytest
from websockets.exceptions import ConnectionClosed

from tests.integration.raw import RawClient, covers
from tests.integration.server import GessServer
from tests.integration.support import new_document_id, snapshot
from tests.interop.node import NodeClient, wait_for

pytestmark = [pytest.mark.integration]

GOING_AWAY = 1001


@pytest.mark.usefixtures("node")
async def test_restart_serves_identical_content(server: GessServer) -> None:
    document_id = new_document_id()
    async with (
        NodeClient.start(server.ws_url, document_id, reconnect=False) as alice,
        RawClient.connect(server.ws_url, document_id, saved=True) as raw,
    ):
        await alice.insert(0, "Training course: module 1")
        await raw.wait_content("Training course: module 1")
        await raw.insert_text("\nmodule 2")
        await raw.wait_saved_covers(raw.state_vector())
        await alice.wait_text("Training course: module 1\nmodule 2")
        await alice.delete(0, len("Training "))
        await raw.wait_content("course: module 1\nmodule 2")
        before = raw.vector()
        expected = raw.content()

    await server.restart()

    fresh = await snapshot(server, document_id)
    assert fresh.text == expected
    assert fresh.vector == before

    async with NodeClient.start(server.ws_url, document_id) as bob:
        assert await bob.text() == expected


BURST = 2000


async def test_kill_9_loses_nothing_seen_or_saved(server: GessServer) -> None:
    """SIGKILL in the middle of a burst of writes, then restart.

    Every update another client had received, and every update whose "saved" message the
    writer had received, must be there after the restart.
    """
    document_id = new_document_id()
    async with (
        RawClient.connect(server.ws_url, document_id, saved=True) as writer,
        RawClient.connect(server.ws_url, document_id) as reader,
    ):
        writer_id = writer.doc.client_id

        async def burst() -> int:
            sent = 0
            with contextlib.suppress(ConnectionClosed):
                for i in range(BURST):
                    await writer.insert_text(chr(ord("a") + i % 26))
                    sent += 1
                    # Bursts of 20 back to back, then a pause: the server always has updates
                    # in flight, and the whole burst outlasts the kill by far.
                    await asyncio.sleep(0.005 if i % 20 == 19 else 0)
            return sent

        sender = asyncio.create_task(burst())
        try:
            await reader.wait(
                lambda: len(reader.content()) >= BURST // 8 and bool(writer.saved),
                what="an eighth of the burst to reach the reader",
                within=30,
            )
            server.kill()
        finally:
            sent = await sender
        # Mid-burst: the writer was still sending, or the server had not yet shown it all.
        in_flight = sent < BURST or len(reader.content()) < sent
        assert in_flight, "everything was sent and seen before the kill: the test proves nothing"
        await reader.wait_closed()
        await writer.wait_closed()

        seen_vector = reader.vector()
        seen_text = reader.content()
        saved_vector = writer.saved_vector()
        written_text = writer.content()

    assert saved_vector.get(writer_id, 0) > 0
    assert seen_vector.get(writer_id, 0) > 0

    await server.restart()
    fresh = await snapshot(server, document_id)

    assert covers(fresh.vector, seen_vector), (fresh.vector, seen_vector)
    assert covers(fresh.vector, saved_vector), (fresh.vector, saved_vector)
    assert fresh.text.startswith(seen_text)
    assert written_text.startswith(fresh.text)
    assert len(fresh.text) >= saved_vector[writer_id]


@pytest.mark.usefixtures("node")
async def test_sigterm_closes_with_1001_and_keeps_every_update(server: GessServer) -> None:
    document_id = new_document_id()
    async with (
        NodeClient.start(server.ws_url, document_id, reconnect=False) as watcher,
        RawClient.connect(server.ws_url, document_id) as writer,
    ):
        await watcher.insert(0, "start;")
        await writer.wait_content("start;")

        before = (await server.metrics())["gess_messages_received_total"]
        for i in range(50):
            await writer.insert_text(f"{i};")
        expected = writer.content()

        async def server_read_everything() -> bool:
            received = (await server.metrics())["gess_messages_received_total"]
            return received >= before + 50

        # Wait until the server has read the updates (not until they are visible: then the
        # shutdown would have nothing left to flush), then ask it to stop.
        await wait_for(server_read_everything, message="the server to read the 50 updates")
        mark = len(watcher.events)
        status = await server.terminate()

        code, reason = await writer.wait_closed()
        assert code == GOING_AWAY, (code, reason)
        event = await watcher.wait_event("connection-close", since=mark)
        assert event["code"] == GOING_AWAY, event
        # uvicorn re-raises the signal once shut down, so death by SIGTERM counts as clean.
        assert status in (0, -signal.SIGTERM), f"gess serve exited with {status} after SIGTERM"

    await server.start()
    fresh = await snapshot(server, document_id)
    assert fresh.text == expected
